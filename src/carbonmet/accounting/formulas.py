r"""The accounting formulas of the chemical-sector guideline, as pure functions (核算公式).

Each takes and returns plain numbers (or NumPy arrays, element-wise) in the units stated. Clause
references: ``ACC`` = the project's domain note accounting_methods.md, which records the formulas of the
2013 NDRC chemical guideline and GB/T 32151.10 with their evidence marks (the formula texts themselves are
[C]/[M] there; accounting_2025.md §1.2). The carbon-to-CO2 factor is 44.0095/12.011 (molar masses), the
value :data:`carbonmet.quantities.CO2_PER_C` carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carbonmet.quantities import CO2_PER_C, MOLAR_MASS_C

#: Molar volume of an ideal gas at 0 °C, 101.325 kPa [L/mol] (CODATA), for carbon in gas from its composition.
MOLAR_VOLUME_L = 22.413969
#: Enthalpy of feed water at 20 °C taken by the guideline's steam formula [kJ/kg] (ACC §1.7, [M]).
FEEDWATER_KJ_PER_KG = 83.74


def combustion_per_heat(ad: Any, ncv: Any, cc_per_heat: Any, oxidation: Any) -> Any:
    r"""CO2 from burning a fuel, per-heat form (化石燃料燃烧, 按热值含碳量).

    .. math:: E = AD \cdot NCV \cdot CC \cdot OF \cdot 44/12

    Parameters
    ----------
    ad : float or ndarray
        Fuel burned [t or Nm³].
    ncv : float or ndarray
        Net calorific value [GJ per unit of ``ad``].
    cc_per_heat : float or ndarray
        Carbon content per unit heat [tC/GJ].
    oxidation : float or ndarray
        Carbon oxidation rate [-] (0.98, not 98).

    Returns
    -------
    float or ndarray
        Emissions [tCO2].

    References
    ----------
    ACC §1.3 (2013 chemical guideline; GB/T 32151.10-2015/2023 §"化石燃料燃烧"), [C].
    """
    return ad * ncv * cc_per_heat * oxidation * CO2_PER_C


def combustion_per_mass(ad: Any, carbon_fraction: Any, oxidation: Any) -> Any:
    r"""CO2 from burning a fuel, per-mass form with the fuel's element carbon content (按元素碳含量).

    .. math:: E = AD \cdot C_{ar} \cdot OF \cdot 44/12

    Parameters
    ----------
    ad : float or ndarray
        Fuel burned [t or Nm³].
    carbon_fraction : float or ndarray
        Element carbon per unit of ``ad`` [tC/t as a mass fraction, or tC/Nm³], on the basis ``ad`` is
        weighed on (as received).
    oxidation : float or ndarray
        Carbon oxidation rate [-].

    Returns
    -------
    float or ndarray
        Emissions [tCO2]. Equals :func:`combustion_per_heat` when ``cc_per_heat = carbon_fraction / ncv``
        (the same carbon expressed per GJ).

    References
    ----------
    ACC §1.3 and §2.1 (measured element carbon, GB/T 476 / GB/T 30733), [C].
    """
    return ad * carbon_fraction * oxidation * CO2_PER_C


def gas_carbon_per_nm3(composition: Mapping[str, float], carbon_atoms: Mapping[str, int]) -> float:
    r"""Carbon in a fuel gas from its composition [tC/Nm³] (气体燃料含碳量, 按组分).

    .. math:: C_g = \sum_n y_n \cdot CN_n \cdot \frac{12.011}{22.414} \cdot 10^{-3}

    Parameters
    ----------
    composition : mapping
        Component → volume fraction [-] (0.95 for 95 %vol); fractions need not sum to 1 (inerts omitted).
    carbon_atoms : mapping
        Component → carbon atoms per molecule (CH4 1, C2H6 2, CO 1, CO2 1, H2 0 …).

    Returns
    -------
    float
        tC per Nm³ of gas (0 °C, 101.325 kPa, ideal gas).

    Raises
    ------
    ValueError
        A component without a carbon count, or a fraction outside [0, 1].

    References
    ----------
    ACC §1.3 (gas carbon content from composition, GB/T 32151.10 / GB/T 13610 analysis), [C].
    """
    total = 0.0
    for comp, y in composition.items():
        if comp not in carbon_atoms:
            raise ValueError(f"component {comp!r}: carbon atoms per molecule unknown")
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"component {comp!r}: volume fraction {y} outside [0, 1]")
        total += y * carbon_atoms[comp]
    return total * MOLAR_MASS_C / MOLAR_VOLUME_L * 1e-3


def oxidation_from_residue(fuel_carbon_t: Any, residue_carbon_t: Any) -> Any:
    r"""Carbon oxidation rate of a solid fuel from the carbon left in its ash and slag (实测碳氧化率).

    .. math:: OF = 1 - \frac{G_{ash} C_{ash}}{AD \cdot C_{ar}}

    Parameters
    ----------
    fuel_carbon_t : float or ndarray
        Carbon fed with the fuel [tC].
    residue_carbon_t : float or ndarray
        Carbon in the ash and slag removed [tC].

    Returns
    -------
    float or ndarray
        Oxidation rate [-].

    References
    ----------
    ACC §1.3 (power-sector form of the measured oxidation rate, used by analogy), [M].
    """
    return 1.0 - residue_carbon_t / fuel_carbon_t


def carbon_balance(carbon_in_t: Any, carbon_out_t: Any, stock_change_t: Any = 0.0) -> Any:
    r"""Process CO2 by carbon mass balance (碳质量平衡法).

    .. math:: E = \left(\sum_r AD_r CC_r - \sum_p AD_p CC_p - \sum_w AD_w CC_w - \Delta S\right) \cdot 44/12

    Parameters
    ----------
    carbon_in_t : float or ndarray
        Carbon in the raw materials entering the process [tC].
    carbon_out_t : float or ndarray
        Carbon leaving in products, by-products and wastes [tC].
    stock_change_t : float or ndarray
        Increase of carbon held in stock inside the boundary [tC] (0 without stock data).

    Returns
    -------
    float or ndarray
        Emissions [tCO2].

    References
    ----------
    ACC §1.5 (structure [C], exact guideline form [M]); IPCC 2006 Vol. 3 mass balance.
    """
    return (carbon_in_t - carbon_out_t - stock_change_t) * CO2_PER_C


def recovered_co2(volume_nm3: Any, purity: Any, density_kg_per_nm3: Any = 1.977) -> Any:
    r"""CO2 recovered and supplied outside the boundary (回收且外供的CO2量).

    .. math:: R = Q \cdot PUR \cdot \rho_{CO2}, \quad \rho_{CO2} = 19.77\ \mathrm{t}/10^4\mathrm{Nm^3}

    Parameters
    ----------
    volume_nm3 : float or ndarray
        Gas supplied [Nm³].
    purity : float or ndarray
        CO2 volume fraction of the gas [-] (0.99, not 99).
    density_kg_per_nm3 : float
        CO2 density at standard conditions [kg/Nm³] (1.977, the real-gas value; ACC §1.6 [C]).

    Returns
    -------
    float or ndarray
        CO2 recovered [t], subtracted from the direct emissions.

    References
    ----------
    ACC §1.6 (formula [M], density [C]).
    """
    return volume_nm3 * purity * density_kg_per_nm3 * 1e-3


def steam_heat_gj(mass_t: Any, enthalpy_kj_per_kg: Any, feedwater_kj_per_kg: float = FEEDWATER_KJ_PER_KG) -> Any:
    r"""Heat carried by steam [GJ] (蒸汽热量).

    .. math:: AD_{st} = Ma_{st} \cdot (En_{st} - 83.74) \cdot 10^{-3}

    Parameters
    ----------
    mass_t : float or ndarray
        Steam mass [t].
    enthalpy_kj_per_kg : float or ndarray
        Specific enthalpy of the steam at its measured pressure and temperature [kJ/kg].
    feedwater_kj_per_kg : float
        Reference enthalpy [kJ/kg] (water at 20 °C, 83.74; ACC §1.7 [M]).

    Returns
    -------
    float or ndarray
        Heat [GJ].

    References
    ----------
    ACC §1.7 ([M]).
    """
    return mass_t * (enthalpy_kj_per_kg - feedwater_kj_per_kg) * 1e-3


def indirect(amount: Any, factor: Any) -> Any:
    r"""Emissions of purchased (or, negative, exported) electricity or heat (净购入电力/热力).

    .. math:: E = AD \cdot EF

    Parameters
    ----------
    amount : float or ndarray
        Electricity [MWh] or heat [GJ]; exported amounts are passed negative.
    factor : float or ndarray
        Emission factor [tCO2/MWh or tCO2/GJ].

    Returns
    -------
    float or ndarray
        Emissions [tCO2].

    References
    ----------
    ACC §1.7 (grid factor by year and scope; heat 0.11 tCO2/GJ [C]).
    """
    return amount * factor
