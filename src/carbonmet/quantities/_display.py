"""Units as people read them: derived SI units by their names (Ω, Pa, W …) instead of base-unit products.

The table ``derived_units.csv`` (the 22 SI derived units with special names, BIPM SI Brochure 9th ed. Table 4,
less rad, sr and °C) says which may stand for a unit written in base units: a resistance stated as
``kg·m²/(A²·s³)`` is shown as ``Ω``, ``g·m²/(A²·s³)`` as ``mΩ``. Units written with names are shown as written
(``N·m`` stays ``N·m``, not ``J``); a dimension several named units share is named only where the table says.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pint

from ._errors import UnitError
from ._units import parse_unit, ureg

#: SI prefixes a named unit may take in display (powers of 1000).
_PREFIXES = {-12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T"}
#: The seven SI base units as pint names them.
_BASE = {"kilogram", "meter", "second", "ampere", "kelvin", "mole", "candela", "gram"}


@dataclass(frozen=True)
class _Named:
    symbol: str
    unit: pint.Unit
    from_base_units: bool


@lru_cache(maxsize=1)
def _named() -> tuple[_Named, ...]:
    text = resources.files(__package__).joinpath("derived_units.csv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(text.splitlines()):
        out.append(_Named(row["symbol"], parse_unit(row["symbol"]), row["from_base_units"] == "yes"))
    return tuple(out)


def _pretty(u: pint.Unit) -> str:
    return "1" if u == ureg.dimensionless else f"{u:~P}"


def _factors(u: pint.Unit) -> list[tuple[str, float]]:
    """The unit's factors as (pint unit name, exponent)."""
    return [(name, float(exp)) for name, exp in ureg.Quantity(1.0, u).unit_items()]  # type: ignore[arg-type]


def _only_base(u: pint.Unit) -> bool:
    """True if every factor of ``u`` is an SI base unit, possibly prefixed (``g``, ``mm``, ``kA``)."""
    for name, _ in _factors(u):
        try:
            _, root, _ = ureg.parse_unit_name(name)[0]
        except (IndexError, ValueError):
            return False
        if root not in _BASE:
            return False
    return True


def display_unit(text: str) -> str:
    """The unit as a reader expects it: derived SI units by their names, otherwise pint's compact symbols.

    Parameters
    ----------
    text : str
        A unit in any form :func:`parse_unit` reads (``"kg * m ** 2 / A ** 2 / s ** 3"``, ``"m ** 3 / h"``).

    Returns
    -------
    str
        ``"Ω"`` for a resistance written in base units, ``"kΩ"`` when the factor is 1000, ``"m³/h"`` for a unit
        with no special name; a unit written with named units keeps them (``"N·m"``).

    Raises
    ------
    UnitError
        ``text`` is not a unit.

    References
    ----------
    BIPM, The International System of Units (SI Brochure), 9th ed., 2019, §2.3.4 and Table 4 (derived units with
    special names); GB 3100-1993 国际单位制及其应用, 表 2.
    """
    u = parse_unit(text)
    factors = _factors(u)
    if u == ureg.dimensionless or len(factors) == 1 and factors[0][1] == 1:
        return _pretty(u)  # one unit to the first power: already as short as it gets
    if not _only_base(u):
        return _pretty(u)
    try:
        factor = float(ureg.Quantity(1.0, u).to_base_units().magnitude)
    except (pint.errors.DimensionalityError, pint.errors.OffsetUnitCalculusError):
        return _pretty(u)
    for named in _named():
        if not named.from_base_units or named.unit.dimensionality != u.dimensionality:
            continue
        ratio = factor / float(ureg.Quantity(1.0, named.unit).to_base_units().magnitude)
        exp = math.log10(ratio) if ratio > 0 else math.nan
        power = round(exp) if math.isfinite(exp) else None
        if power is not None and math.isclose(exp, power, abs_tol=1e-9) and power in _PREFIXES:
            return _PREFIXES[power] + named.symbol
    return _pretty(u)


__all__ = ["UnitError", "display_unit"]
