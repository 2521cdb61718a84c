"""The carbonmet unit registry: pint's defaults plus the units of Chinese energy and carbon statistics."""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import pint

from ._errors import UnitError

#: Molar masses [g/mol] of C and CO2 (IUPAC 2021 standard atomic weights: C 12.011, O 15.999).
MOLAR_MASS_C = 12.011
MOLAR_MASS_CO2 = 44.0095
#: Ratio CO2/C, the "44/12" of every accounting guideline, computed from molar masses [-].
CO2_PER_C = MOLAR_MASS_CO2 / MOLAR_MASS_C

#: Normal (standard) reference conditions of Chinese gas metering: 273.15 K, 101.325 kPa.
NORMAL_TEMPERATURE_K = 273.15
NORMAL_PRESSURE_KPA = 101.325


def _build_registry() -> pint.UnitRegistry:
    ureg: pint.UnitRegistry = pint.UnitRegistry(
        autoconvert_offset_to_baseunit=True, on_redefinition="raise", cache_folder=":auto:"
    )
    text = resources.files(__package__).joinpath("units.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ureg.define(line)
    return ureg


#: The one registry every carbonmet package uses (a single registry: quantities from two
#: registries cannot be combined in pint).
ureg: pint.UnitRegistry = _build_registry()
Q_ = ureg.Quantity


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    path = resources.files(__package__).joinpath("aliases.csv")
    with path.open(encoding="utf-8") as fh:
        return {row["alias"]: row["canonical"] for row in csv.DictReader(fh)}


_BARE_POWER = re.compile(r"\b([kcdm]?m)([23])\b")


@lru_cache(maxsize=4096)
def parse_unit(text: str) -> pint.Unit:
    """Parse a unit string as users write it (``"万Nm³"``, ``"tCO2"``, ``"GJ/t"``, ``"%"``).

    Parameters
    ----------
    text : str
        Unit expression. Whole-string aliases from ``aliases.csv`` (Chinese names, superscripts)
        are applied first, then pint's parser.

    Returns
    -------
    pint.Unit

    Raises
    ------
    UnitError
        If the string is not a known unit.
    """
    s = text.strip()
    if s in ("", "1", "-", "dimensionless"):
        return ureg.dimensionless
    s = _aliases().get(s, s)
    # "m3", "kg/m3", "mm2": a metre-based unit followed by a bare power, as written on instruments
    s = _BARE_POWER.sub(r"\1**\2", s)
    # per-token aliases inside compound units such as "tCO₂/万Nm³" or "GJ/万Nm3", longest first,
    # repeated until nothing changes ("万吨标准煤" → "万tce" → "wan_tce")
    for _ in range(4):
        before = s
        for alias, canonical in sorted(_aliases().items(), key=lambda kv: -len(kv[0])):
            if not alias.isascii() and alias in s:
                s = s.replace(alias, canonical)
        if s == before:
            break
    try:
        unit = ureg.parse_units(s)
    except Exception as exc:  # pint raises several types (UndefinedUnitError, DefinitionSyntaxError, ...)
        raise UnitError(f"unknown unit {text!r}") from exc
    return unit


def is_convertible(from_unit: str, to_unit: str) -> bool:
    """True if a quantity in ``from_unit`` can be expressed in ``to_unit``."""
    try:
        return bool(parse_unit(from_unit).dimensionality == parse_unit(to_unit).dimensionality)
    except UnitError:
        return False


@lru_cache(maxsize=4096)
def _multiplicative(unit: str) -> bool:
    """False for units with an offset (°C, °F), which convert by more than a factor."""
    return bool(ureg.Quantity(1, parse_unit(unit))._is_multiplicative)


@lru_cache(maxsize=4096)
def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Multiplicative factor taking a value in ``from_unit`` to ``to_unit``.

    Raises
    ------
    UnitError
        If either unit is unknown, the dimensions differ, or the conversion is not
        multiplicative (°C → K has an offset; use :func:`convert`).
    """
    a, b = parse_unit(from_unit), parse_unit(to_unit)
    if a.dimensionality != b.dimensionality:
        raise UnitError(
            f"cannot convert {from_unit!r} {dict(a.dimensionality)} to {to_unit!r} {dict(b.dimensionality)}"
        )
    if not (_multiplicative(from_unit) and _multiplicative(to_unit)):
        raise UnitError(f"conversion {from_unit!r} → {to_unit!r} has an offset; use convert()")
    return float(ureg.Quantity(1.0, a).to(b).magnitude)


def convert(value: Any, from_unit: str, to_unit: str) -> Any:
    """Convert a scalar or NumPy array between units (offset units such as °C handled).

    Parameters
    ----------
    value : float or array_like
        Value(s) in ``from_unit``.
    from_unit, to_unit : str
        Unit strings accepted by :func:`parse_unit`.

    Returns
    -------
    float or numpy.ndarray
        Value(s) in ``to_unit``.
    """
    if _multiplicative(from_unit) and _multiplicative(to_unit):
        f = conversion_factor(from_unit, to_unit)  # cached; checks the dimensions
        return np.asarray(value) * f if isinstance(value, list | tuple) else value * f
    a, b = parse_unit(from_unit), parse_unit(to_unit)
    if a.dimensionality != b.dimensionality:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}")
    return ureg.Quantity(np.asarray(value, dtype=float), a).to(b).magnitude


def format_unit(unit: str) -> str:
    """Canonical short text of a unit (``"t/h"``, ``"GJ"``), for storage and display."""
    u = parse_unit(unit)
    if u == ureg.dimensionless:
        return "1"
    return f"{u:~}"


def carbon_to_co2(carbon_mass_t: npt.ArrayLike) -> Any:
    """Mass of CO2 formed by full oxidation of a carbon mass.

    .. math:: m_{CO_2} = m_C \\cdot M_{CO_2} / M_C

    Parameters
    ----------
    carbon_mass_t : float or array_like
        Carbon mass [t C].

    Returns
    -------
    float or numpy.ndarray
        CO2 mass [t CO2].

    References
    ----------
    The "44/12" factor of GB/T 32150-2015 and GB/T 32151.10 (碳质量平衡法), here from IUPAC molar masses.
    """
    return np.multiply(carbon_mass_t, CO2_PER_C)


def to_normal_volume(volume_m3: Any, temperature_c: Any, pressure_kpa: Any) -> Any:
    """Refer an actual gas volume to normal conditions (ideal gas; 工况 → 标况).

    .. math:: V_N = V \\cdot \\frac{p}{p_N} \\cdot \\frac{T_N}{T}

    Parameters
    ----------
    volume_m3 : float or array_like
        Volume at actual conditions [m³].
    temperature_c : float or array_like
        Gas temperature [°C].
    pressure_kpa : float or array_like
        Absolute gas pressure [kPa].

    Returns
    -------
    float or numpy.ndarray
        Volume at 273.15 K, 101.325 kPa [Nm³].

    References
    ----------
    HJ 75-2017 / HJ 76-2017 (dry-gas flow referred to standard conditions, before moisture correction).
    """
    t_k = np.asarray(temperature_c, dtype=float) + 273.15
    if np.any(t_k <= 0):
        raise UnitError("temperature below absolute zero")
    out = np.asarray(volume_m3, dtype=float) * (np.asarray(pressure_kpa, dtype=float) / NORMAL_PRESSURE_KPA) * (
        NORMAL_TEMPERATURE_K / t_k
    )
    return float(out) if out.ndim == 0 else out

