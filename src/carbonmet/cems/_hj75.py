"""The HJ 75-2017 conversion chain for flue gas (烟气参数换算): flow, concentration bases, hourly mass.

Pure functions, one per formula, vectorised over NumPy arrays (scalars give 0-d arrays; ``float(x)`` reads
them). Equation numbers follow HJ 75-2017 as transcribed in the domain notes (accounting_methods.md §3.1,
[C] from two independent code sources for eq. 18–20 per standards_verification.md §2.2; eq. 29–33 [C] from a
single source). The official text has not been seen: the numbers are cited with that caveat, and every
function also names its formula in words.

Conventions
-----------
- ``t_s`` flue-gas temperature [°C]; ``b_a`` barometric pressure [Pa]; ``p_s`` stack static pressure
  (gauge) [Pa]; ``x_sw`` flue-gas moisture as a volume **fraction** (0 ≤ x_sw < 1; 12 % → 0.12).
- Standard conditions: 273 K and 101 325 Pa (HJ 75; the "0 °C" state, not 20 °C).
- A concentration or flow is on one :class:`Basis`: wet or dry, actual (工况) or standard (标况).
  :func:`hourly_mass` refuses a concentration and a flow on different bases: mixing them is the classic
  5–15 % error (accounting_methods.md §3.1).
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt

from ..quantities import CarbonmetError

FloatArray = npt.NDArray[np.float64]

#: Standard temperature of HJ 75 [K] (273, as the standard writes it, not 273.15).
T_STANDARD_K = 273.0
#: Standard pressure [Pa].
P_STANDARD_PA = 101325.0
#: Molar mass of CO2 [g/mol] (IUPAC 2013 standard atomic weights: 12.011 + 2 × 15.9995 ≈ 44.0095).
CO2_MOLAR_MASS = 44.0095
#: Molar volume of an ideal gas at 273.15 K and 101 325 Pa [L/mol] (CODATA: 22.413 97; HJ 75 writes 22.4).
MOLAR_VOLUME = 22.414


class HJ75Error(CarbonmetError, ValueError):
    """An input of the HJ 75 chain is missing or out of its physical range (烟气参数错误).

    ``field`` names the parameter (``x_sw``, ``t_s``, ``b_a + p_s``, ``basis`` …) and ``reason`` says why.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class Basis(StrEnum):
    """Basis of a flue-gas concentration or flow (基准): wet or dry (湿基/干基) × actual or standard (工况/标况)."""

    WET_ACTUAL = "wet-actual"
    WET_STANDARD = "wet-standard"
    DRY_ACTUAL = "dry-actual"
    DRY_STANDARD = "dry-standard"

    @property
    def dry(self) -> bool:
        """True on a dry basis (moisture removed)."""
        return self.value.startswith("dry")

    @property
    def standard(self) -> bool:
        """True at standard conditions (273 K, 101 325 Pa)."""
        return self.value.endswith("standard")

    @classmethod
    def of(cls, dry: bool, standard: bool) -> Basis:
        """The basis with these two properties."""
        return cls(f"{'dry' if dry else 'wet'}-{'standard' if standard else 'actual'}")


def _arr(x: npt.ArrayLike | None, field: str) -> FloatArray:
    if x is None:
        raise HJ75Error(field, f"缺少 {field} / {field} is required for this step")
    a = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise HJ75Error(field, f"须为有限数值 / {field} must be finite")
    return a


def _moisture(x_sw: npt.ArrayLike | None) -> FloatArray:
    if x_sw is None:
        raise HJ75Error("x_sw", "湿基与干基换算需要烟气湿度 / the wet↔dry step needs the flue-gas moisture x_sw "
                                "(volume fraction, 0 ≤ x_sw < 1)")
    x = _arr(x_sw, "x_sw")
    if np.any((x < 0) | (x >= 1)):
        raise HJ75Error("x_sw", "烟气湿度须在 [0, 1) / x_sw is a volume fraction in [0, 1) (12 % → 0.12)")
    return x


def _temperature(t_s: npt.ArrayLike | None) -> FloatArray:
    t = _arr(t_s, "t_s")
    if np.any(t <= -T_STANDARD_K):
        raise HJ75Error("t_s", "烟气温度须高于 −273 °C / t_s [°C] must be above −273 °C")
    return t


def _absolute_pressure(b_a: npt.ArrayLike | None, p_s: npt.ArrayLike | None) -> FloatArray:
    p = _arr(b_a, "b_a") + _arr(p_s, "p_s")
    if np.any(p <= 0):
        raise HJ75Error("b_a + p_s", "烟道绝对压力须为正 / the absolute stack pressure b_a + p_s [Pa] must be positive")
    return p


def stack_velocity(point_velocity: npt.ArrayLike, k_v: npt.ArrayLike = 1.0) -> FloatArray:
    """Mean stack velocity from the monitored point velocity (烟气平均流速), HJ 75-2017 eq. (29).

    .. math:: V_s = K_v \\cdot V_p

    Parameters
    ----------
    point_velocity : array_like
        Velocity measured at the monitoring point, V_p [m/s].
    k_v : array_like
        Velocity-field coefficient K_v [-] (from the reference-method comparison), default 1.

    Returns
    -------
    ndarray
        Mean stack velocity V_s [m/s].

    References
    ----------
    HJ 75-2017 eq. (29) [C]; accounting_methods.md §3.1.
    """
    return _arr(k_v, "k_v") * _arr(point_velocity, "point_velocity")


def actual_flow(velocity: npt.ArrayLike, area: npt.ArrayLike) -> FloatArray:
    """Actual wet flue-gas flow (工况湿烟气流量) from velocity and cross-section, HJ 75-2017 eq. (30).

    .. math:: Q_s = F \\cdot V_s

    Parameters
    ----------
    velocity : array_like
        Mean stack velocity V_s [m/s].
    area : array_like
        Stack cross-section at the monitoring point F [m²], > 0.

    Returns
    -------
    ndarray
        Actual wet flow Q_s [m³/s] on :attr:`Basis.WET_ACTUAL` (× 3600 for m³/h).

    References
    ----------
    HJ 75-2017 eq. (30) [C]; accounting_methods.md §3.1.
    """
    f = _arr(area, "area")
    if np.any(f <= 0):
        raise HJ75Error("area", "烟道截面积须为正 / the stack cross-section [m²] must be positive")
    return f * _arr(velocity, "velocity")


def standard_dry_flow(q_s: npt.ArrayLike, t_s: npt.ArrayLike, b_a: npt.ArrayLike, p_s: npt.ArrayLike,
                      x_sw: npt.ArrayLike | None) -> FloatArray:
    """Standard-condition dry flue-gas flow (标态干烟气流量), HJ 75-2017 eq. (31).

    .. math:: Q_{sn} = Q_s \\cdot \\frac{273}{273 + t_s} \\cdot \\frac{B_a + P_s}{101325} \\cdot (1 - X_{sw})

    Parameters
    ----------
    q_s : array_like
        Actual wet flow Q_s [m³/s or m³/h; the result has the same time unit].
    t_s : array_like
        Flue-gas temperature [°C].
    b_a : array_like
        Barometric pressure B_a [Pa].
    p_s : array_like
        Stack static pressure P_s (gauge) [Pa].
    x_sw : array_like
        Flue-gas moisture X_sw, volume fraction [-] in [0, 1). Required (error naming ``x_sw`` if None).

    Returns
    -------
    ndarray
        Q_sn on :attr:`Basis.DRY_STANDARD` [m³/s or m³/h].

    References
    ----------
    HJ 75-2017 eq. (31) [C]; accounting_methods.md §3.1 (worked example: 100 m³/s, 120 °C, 86 000 Pa,
    −500 Pa, 12 % → 51.58 m³/s).
    """
    return convert_flow(q_s, Basis.WET_ACTUAL, Basis.DRY_STANDARD, t_s=t_s, b_a=b_a, p_s=p_s, x_sw=x_sw)


def convert_flow(q: npt.ArrayLike, from_basis: Basis, to_basis: Basis, *, t_s: npt.ArrayLike | None = None,
                 b_a: npt.ArrayLike | None = None, p_s: npt.ArrayLike | None = None,
                 x_sw: npt.ArrayLike | None = None) -> FloatArray:
    """A flue-gas flow from one :class:`Basis` to another (the factors of HJ 75-2017 eq. (31)).

    .. math::

        Q_{std} = Q_{act} \\cdot \\frac{273}{273 + t_s} \\cdot \\frac{B_a + P_s}{101325}, \\qquad
        Q_{dry} = Q_{wet} \\cdot (1 - X_{sw})

    Parameters
    ----------
    q : array_like
        Flow [m³/s or m³/h] on ``from_basis``.
    from_basis, to_basis : Basis
        Bases of the input and the result.
    t_s, b_a, p_s : array_like, optional
        Temperature [°C], barometric [Pa] and static pressure [Pa]; needed only for an actual↔standard step.
    x_sw : array_like, optional
        Moisture, volume fraction [-]; needed only for a wet↔dry step.

    Returns
    -------
    ndarray
        Flow on ``to_basis``, same unit.

    Raises
    ------
    HJ75Error
        A parameter a step needs is missing or outside its range, naming it.

    References
    ----------
    HJ 75-2017 eq. (31) [C].
    """
    out = _arr(q, "flow")
    if from_basis.standard != to_basis.standard:
        f = T_STANDARD_K / (T_STANDARD_K + _temperature(t_s)) * _absolute_pressure(b_a, p_s) / P_STANDARD_PA
        out = out * f if to_basis.standard else out / f
    if from_basis.dry != to_basis.dry:
        w = 1.0 - _moisture(x_sw)
        out = out * w if to_basis.dry else out / w
    return out


def concentration_to_standard(c_s: npt.ArrayLike, t_s: npt.ArrayLike, b_a: npt.ArrayLike,
                              p_s: npt.ArrayLike) -> FloatArray:
    """Mass concentration at actual conditions → standard conditions (工况→标态浓度), HJ 75-2017 eq. (18).

    .. math:: C_{sn} = C_s \\cdot \\frac{101325}{B_a + P_s} \\cdot \\frac{273 + t_s}{273}

    Parameters
    ----------
    c_s : array_like
        Mass concentration at actual conditions [mg/m³].
    t_s : array_like
        Flue-gas temperature [°C].
    b_a, p_s : array_like
        Barometric and stack static pressure [Pa].

    Returns
    -------
    ndarray
        Concentration at 273 K, 101 325 Pa [mg/m³], same wet/dry state as the input.

    Notes
    -----
    A volume fraction (%, µmol/mol) does not change with temperature and pressure; this applies to mass
    concentrations only.

    References
    ----------
    HJ 75-2017 eq. (18) [C] (same form in HJ 1045-2019 App. A, standards_verification.md §2.2).
    """
    return _arr(c_s, "concentration") * P_STANDARD_PA / _absolute_pressure(b_a, p_s) * (
        T_STANDARD_K + _temperature(t_s)) / T_STANDARD_K


def wet_to_dry(c_wet: npt.ArrayLike, x_sw: npt.ArrayLike | None) -> FloatArray:
    """Concentration on a wet basis → dry basis (湿基→干基), HJ 75-2017 eq. (19).

    .. math:: C_{dry} = \\frac{C_{wet}}{1 - X_{sw}}

    Parameters
    ----------
    c_wet : array_like
        Concentration on a wet basis [mg/m³, %, µmol/mol: any].
    x_sw : array_like
        Moisture, volume fraction [-] in [0, 1); error naming ``x_sw`` if None.

    Returns
    -------
    ndarray
        Concentration on a dry basis, same unit.

    References
    ----------
    HJ 75-2017 eq. (19) [C].
    """
    return _arr(c_wet, "concentration") / (1.0 - _moisture(x_sw))


def dry_to_wet(c_dry: npt.ArrayLike, x_sw: npt.ArrayLike | None) -> FloatArray:
    """Concentration on a dry basis → wet basis (干基→湿基), the inverse of HJ 75-2017 eq. (19).

    .. math:: C_{wet} = C_{dry} \\cdot (1 - X_{sw})

    Parameters
    ----------
    c_dry : array_like
        Concentration on a dry basis [any unit].
    x_sw : array_like
        Moisture, volume fraction [-] in [0, 1).

    Returns
    -------
    ndarray
        Concentration on a wet basis, same unit.

    References
    ----------
    HJ 75-2017 eq. (19) [C].
    """
    return _arr(c_dry, "concentration") * (1.0 - _moisture(x_sw))


def convert_concentration(c: npt.ArrayLike, from_basis: Basis, to_basis: Basis, *, t_s: npt.ArrayLike | None = None,
                          b_a: npt.ArrayLike | None = None, p_s: npt.ArrayLike | None = None,
                          x_sw: npt.ArrayLike | None = None) -> FloatArray:
    """A **mass** concentration [mg/m³] from one :class:`Basis` to another (eq. (18) and (19) combined).

    Parameters
    ----------
    c : array_like
        Mass concentration [mg/m³] on ``from_basis``.
    from_basis, to_basis : Basis
        Bases of the input and the result.
    t_s, b_a, p_s : array_like, optional
        Temperature [°C] and pressures [Pa]; needed only for an actual↔standard step.
    x_sw : array_like, optional
        Moisture, volume fraction [-]; needed only for a wet↔dry step.

    Returns
    -------
    ndarray
        Concentration [mg/m³] on ``to_basis``. ``convert_concentration(c, a, b) * convert_flow(q, a, b)``
        equals ``c * q``: the mass is the same on every basis.

    Raises
    ------
    HJ75Error
        A parameter a step needs is missing or out of range, naming it.

    References
    ----------
    HJ 75-2017 eq. (18), (19) [C].
    """
    out = _arr(c, "concentration")
    if from_basis.standard != to_basis.standard:
        f = T_STANDARD_K / (T_STANDARD_K + _temperature(t_s)) * _absolute_pressure(b_a, p_s) / P_STANDARD_PA
        out = out / f if to_basis.standard else out * f
    if from_basis.dry != to_basis.dry:
        w = 1.0 - _moisture(x_sw)
        out = out / w if to_basis.dry else out * w
    return out


def _check_molar(molar_mass: float, molar_volume: float) -> None:
    """Refuse a molar mass or molar volume that is not positive (naming which)."""
    if not (molar_mass > 0 and molar_volume > 0):
        raise HJ75Error("molar_mass" if not molar_mass > 0 else "molar_volume", "须为正 / must be positive")


def umol_per_mol_to_mg_m3(c_v: npt.ArrayLike, molar_mass: float = CO2_MOLAR_MASS,
                          molar_volume: float = MOLAR_VOLUME) -> FloatArray:
    """Volume fraction [µmol/mol] → mass concentration [mg/m³] at standard conditions, HJ 75-2017 eq. (20).

    .. math:: C_{mg/m^3} = \\frac{M}{V_m} \\cdot C_{\\mu mol/mol}

    Parameters
    ----------
    c_v : array_like
        Volume (mole) fraction [µmol/mol] (1 % vol = 10 000 µmol/mol).
    molar_mass : float
        Molar mass M [g/mol]; default CO2, 44.0095 g/mol.
    molar_volume : float
        Molar volume V_m [L/mol] at the standard state; default 22.414 L/mol (0 °C, 101 325 Pa; HJ 75
        writes 22.4, 0.06 % less).

    Returns
    -------
    ndarray
        Mass concentration [mg/m³] at 273 K and 101 325 Pa, same wet/dry state as the input.

    References
    ----------
    HJ 75-2017 eq. (20) [C]. For CO2: 1 % vol = 10⁴ × 44.0095/22.414 = 19 635 mg/m³.
    """
    _check_molar(molar_mass, molar_volume)
    return _arr(c_v, "concentration") * (molar_mass / molar_volume)


def mg_m3_to_umol_per_mol(c_m: npt.ArrayLike, molar_mass: float = CO2_MOLAR_MASS,
                          molar_volume: float = MOLAR_VOLUME) -> FloatArray:
    """Mass concentration [mg/m³, standard conditions] → volume fraction [µmol/mol], inverse of eq. (20).

    Parameters
    ----------
    c_m : array_like
        Mass concentration [mg/m³] at 273 K, 101 325 Pa.
    molar_mass : float
        Molar mass [g/mol]; default CO2, 44.0095.
    molar_volume : float
        Molar volume [L/mol]; default 22.414.

    Returns
    -------
    ndarray
        Volume fraction [µmol/mol].

    References
    ----------
    HJ 75-2017 eq. (20) [C].
    """
    _check_molar(molar_mass, molar_volume)
    return _arr(c_m, "concentration") * (molar_volume / molar_mass)


def percent_to_mg_m3(c_pct: npt.ArrayLike, molar_mass: float = CO2_MOLAR_MASS,
                     molar_volume: float = MOLAR_VOLUME) -> FloatArray:
    """Volume fraction [% vol] → mass concentration [mg/m³] at standard conditions (eq. (20), 1 % = 10⁴ µmol/mol).

    Parameters
    ----------
    c_pct : array_like
        Volume fraction [%].
    molar_mass : float
        [g/mol]; default CO2, 44.0095.
    molar_volume : float
        [L/mol]; default 22.414.

    Returns
    -------
    ndarray
        [mg/m³]; for CO2 19 635 mg/m³ per % vol.

    References
    ----------
    HJ 75-2017 eq. (20) [C]; accounting_methods.md §3.1 (19 647 × %vol with M = 44.01, V_m = 22.4).
    """
    return umol_per_mol_to_mg_m3(_arr(c_pct, "concentration") * 1e4, molar_mass, molar_volume)


def mg_m3_to_percent(c_m: npt.ArrayLike, molar_mass: float = CO2_MOLAR_MASS,
                     molar_volume: float = MOLAR_VOLUME) -> FloatArray:
    """Mass concentration [mg/m³, standard] → volume fraction [% vol], inverse of :func:`percent_to_mg_m3`.

    Parameters
    ----------
    c_m : array_like
        [mg/m³] at 273 K, 101 325 Pa.
    molar_mass : float
        [g/mol]; default CO2, 44.0095.
    molar_volume : float
        [L/mol]; default 22.414.

    Returns
    -------
    ndarray
        Volume fraction [%].

    References
    ----------
    HJ 75-2017 eq. (20) [C].
    """
    return mg_m3_to_umol_per_mol(c_m, molar_mass, molar_volume) / 1e4


def hourly_mass(conc: npt.ArrayLike, conc_basis: Basis, flow: npt.ArrayLike, flow_basis: Basis) -> FloatArray:
    """Hourly mass emission (小时排放量), HJ 75-2017 eq. (33).

    .. math:: G_h = C_h \\cdot Q_h \\cdot 10^{-6}

    Parameters
    ----------
    conc : array_like
        Mass concentration C_h [mg/m³] on ``conc_basis`` (HJ 75 reports dry standard).
    conc_basis : Basis
        Basis of ``conc``.
    flow : array_like
        Flow Q_h [m³/h] on ``flow_basis``.
    flow_basis : Basis
        Basis of ``flow``; must equal ``conc_basis``.

    Returns
    -------
    ndarray
        G_h [kg/h].

    Raises
    ------
    HJ75Error
        Field ``basis``: the concentration and the flow are on different bases. Convert one with
        :func:`convert_concentration` or :func:`convert_flow` first (never a silent 5–15 % error).

    References
    ----------
    HJ 75-2017 eq. (33) [C]; accounting_methods.md §3.1 ("keep concentration and flow on the same basis").
    """
    cb, fb = Basis(conc_basis), Basis(flow_basis)
    if cb != fb:
        raise HJ75Error("basis", f"浓度与流量基准不一致: 浓度 {cb.value}, 流量 {fb.value}; 请先换算到同一基准 / "
                                 f"concentration is {cb.value} but flow is {fb.value}: convert one to the other's "
                                 "basis first (convert_concentration / convert_flow)")
    return _arr(conc, "concentration") * _arr(flow, "flow") * 1e-6
