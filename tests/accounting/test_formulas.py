"""Hand-calculated checks of every formula, the arithmetic written out (核算公式手算校验)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonmet.accounting import formulas as f
from carbonmet.quantities import CO2_PER_C

R44_12 = 44.0095 / 12.011  # CO2/C from molar masses


def test_co2_per_c_is_molar_mass_ratio() -> None:
    assert CO2_PER_C == pytest.approx(R44_12, rel=1e-12)


def test_combustion_per_heat_bituminous_by_hand() -> None:
    # 1 000 t × 19.570 GJ/t = 19 570 GJ; × 0.0261 tC/GJ = 510.777 tC; × 0.93 = 475.02261 tC; × 44/12
    expected = 475.02261 * R44_12
    assert f.combustion_per_heat(1000.0, 19.570, 0.0261, 0.93) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(1740.54, abs=0.01)  # 1.74054 tCO2/t, the §1.3 EF 1.7417 at OF 0.93


def test_per_heat_and_per_mass_give_the_same_tonne_on_the_same_data() -> None:
    # a lot of 500 000 t at NCV 20.9 GJ/t whose carbon is 55.176 %: per GJ that is 0.55176/20.9 tC/GJ
    ad, ncv, c = 500_000.0, 20.9, 0.55176
    per_mass = f.combustion_per_mass(ad, c, 0.98)
    per_heat = f.combustion_per_heat(ad, ncv, c / ncv, 0.98)
    assert per_mass == pytest.approx(per_heat, rel=1e-14)
    assert per_mass == pytest.approx(500_000 * 0.55176 * 0.98 * R44_12, rel=1e-14)  # 270 362.4 tC × 44/12


@given(ad=st.floats(0, 1e7), ncv=st.floats(1, 60), c=st.floats(0.01, 0.95), of=st.floats(0.8, 1.0))
def test_forms_agree_for_any_data(ad: float, ncv: float, c: float, of: float) -> None:
    assert f.combustion_per_mass(ad, c, of) == pytest.approx(f.combustion_per_heat(ad, ncv, c / ncv, of), rel=1e-12,
                                                              abs=1e-9)


def test_gas_carbon_from_composition_by_hand() -> None:
    # CH4 95 %, C2H6 3 %, CO2 1 %, N2 1 %: carbon atoms per molecule 0.95 + 0.06 + 0.01 = 1.02 mol C per mol gas
    # 1 Nm³ = 1000/22.413969 mol = 44.6150 mol → 45.5073 mol C × 12.011 g = 546.59 g C = 5.4659e-4 tC
    c = f.gas_carbon_per_nm3({"CH4": 0.95, "C2H6": 0.03, "CO2": 0.01, "N2": 0.01},
                             {"CH4": 1, "C2H6": 2, "CO2": 1, "N2": 0})
    assert c == pytest.approx(1.02 * 1000 / 22.413969 * 12.011 * 1e-6, rel=1e-12)
    assert c == pytest.approx(5.4659e-4, rel=1e-4)
    with pytest.raises(ValueError, match="C3H8"):
        f.gas_carbon_per_nm3({"C3H8": 0.1}, {"CH4": 1})


def test_carbon_balance_of_a_coal_to_methanol_gasifier_by_hand() -> None:
    # carbon in: 1 500 000 t coal × 60.0 % = 900 000 tC
    # carbon out: methanol 1 000 000 t × 37.49 % = 374 900 tC; slag 90 000 t × 20 % = 18 000 tC
    # process CO2 = (900 000 − 374 900 − 18 000) × 44/12 = 507 100 × 3.664191 = 1 858 064.9 t
    e = f.carbon_balance(1_500_000 * 0.600, 1_000_000 * 0.3749 + 90_000 * 0.20)
    assert e == pytest.approx(507_100 * R44_12, rel=1e-12)
    assert e == pytest.approx(1_858_064.9, abs=0.5)
    # a stock build-up of 1 000 tC inside the boundary is not emitted
    assert f.carbon_balance(900_000.0, 392_900.0, 1000.0) == pytest.approx(506_100 * R44_12, rel=1e-12)


def test_oxidation_from_residue_by_hand() -> None:
    # 270 000 tC in the coal, 5 400 tC left in ash and slag → OF = 1 − 5400/270000 = 0.98
    assert f.oxidation_from_residue(270_000.0, 5_400.0) == pytest.approx(0.98, rel=1e-12)


def test_recovered_co2_by_hand() -> None:
    # 10 000 × 10⁴ Nm³ at 99 % CO2: 1e8 × 0.99 × 1.977 kg/Nm³ = 195 723 000 kg = 195 723 t
    assert f.recovered_co2(1e8, 0.99) == pytest.approx(195_723.0, rel=1e-12)


def test_steam_heat_and_indirect_by_hand() -> None:
    # 100 000 t steam at 2 990 kJ/kg: (2990 − 83.74) kJ/kg × 1e8 kg = 290 626 GJ; × 0.11 tCO2/GJ = 31 968.86 t
    gj = f.steam_heat_gj(100_000.0, 2990.0)
    assert gj == pytest.approx(290_626.0, rel=1e-12)
    assert f.indirect(gj, 0.11) == pytest.approx(31_968.86, rel=1e-12)
    # 150 000 MWh × 0.5703 tCO2/MWh = 85 545 t; exported electricity enters negative
    assert f.indirect(150_000.0, 0.5703) == pytest.approx(85_545.0, rel=1e-12)
    assert f.indirect(-1000.0, 0.5703) == pytest.approx(-570.3, rel=1e-12)
    assert math.isfinite(f.FEEDWATER_KJ_PER_KG)
