"""The analyte table (化验项目表): canonical unit and plausible range of each analyte, read from ``analytes.csv``.

One row per (analyte, basis): a mass-basis row (solid and liquid fuels: MJ/kg, %) and, where it applies, a
volume-basis row (gaseous fuels: MJ/Nm3, kg/Nm3). A result's unit decides which row it belongs to: it must be
convertible to that row's canonical unit (normal volume is its own dimension in :mod:`carbonmet.quantities`,
so MJ/kg and MJ/Nm3 can never be mixed up). Each row carries the source of its range and an evidence mark.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..quantities import UnitError, conversion_factor, is_convertible, parse_unit

#: Evidence marks a data row may carry (see the domain notes).
EVIDENCE = ("V", "C", "C-single", "M", "?", "V-calc", "A", "D")


@dataclass(frozen=True, slots=True)
class Analyte:
    """One row of ``analytes.csv``: an analyte on one basis with its canonical unit and plausible range.

    Attributes
    ----------
    analyte : str
        Name used in lab files and monitoring plans (``ncv``, ``carbon_content``, ``co2`` …).
    basis : str
        ``mass`` (per kg of sample, or a mass fraction) or ``volume`` (per Nm3 of gas, or a volume fraction).
    unit : str
        Canonical unit; stored values are in it.
    minimum, maximum : float
        Plausible range [unit], inclusive.
    name : str
        Chinese and English name.
    aliases : tuple of str
        Other names accepted in the ``analyte`` column.
    source, evidence : str
        Where the range comes from, and its evidence mark (``V``, ``C``, ``M``, ``A``, ``V-calc`` …).
    """

    analyte: str
    basis: str
    unit: str
    minimum: float
    maximum: float
    name: str
    aliases: tuple[str, ...]
    source: str
    evidence: str


@lru_cache(maxsize=1)
def analytes() -> Mapping[str, tuple[Analyte, ...]]:
    """The analyte table: analyte name → its rows (one per basis), in file order.

    Raises
    ------
    ValueError
        A row of the packaged file is malformed (a unit pint does not know, min > max, an unknown
        evidence mark) — a packaging error, caught by the tests.
    """
    path = resources.files(__package__).joinpath("analytes.csv")
    out: dict[str, list[Analyte]] = {}
    with path.open("r", encoding="utf-8") as fh:
        for n, r in enumerate(csv.DictReader(fh), start=2):
            a = Analyte(r["analyte"].strip(), r["basis"].strip(), r["unit"].strip(), float(r["min"]),
                        float(r["max"]), r["name"].strip(),
                        tuple(x.strip() for x in r["aliases"].split(";") if x.strip()), r["source"].strip(),
                        r["evidence"].strip())
            parse_unit(a.unit)
            if a.basis not in ("mass", "volume") or not a.minimum <= a.maximum or a.evidence not in EVIDENCE \
                    or not a.source:
                raise ValueError(f"analytes.csv:{n}: malformed row {r}")
            out.setdefault(a.analyte, []).append(a)
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=1)
def _names() -> Mapping[str, str]:
    """Every accepted spelling (name and aliases, case-folded) → analyte name."""
    out: dict[str, str] = {}
    for name, rows in analytes().items():
        for r in rows:
            for alias in (name, *r.aliases):
                out.setdefault(alias.casefold(), name)
    return out


def analyte_name(text: str) -> str | None:
    """The analyte a name or alias stands for (``低位发热量`` → ``ncv``), or None if unknown."""
    return _names().get(text.strip().casefold())


def analyte_row(analyte: str, unit: str) -> tuple[Analyte | None, str | None]:
    """The row of ``analyte`` whose canonical unit ``unit`` converts to, or (None, why not).

    Raises nothing: an unknown unit or a unit of another dimension is returned as the reason (zh-CN, English).
    """
    rows = analytes().get(analyte, ())
    try:
        parse_unit(unit)
    except UnitError as exc:
        return None, f"未知单位 / unknown unit {unit!r}: {exc}"
    for r in rows:
        if is_convertible(unit, r.unit):
            return r, None
    wanted = " | ".join(r.unit for r in rows)
    return None, (f"单位 {unit!r} 不能换算为 {analyte} 的单位 {wanted} / unit {unit!r} cannot be converted to the "
                  f"unit of {analyte} ({wanted})")


def to_canonical(value: float, unit: str, row: Analyte) -> float:
    """``value`` [unit] in the row's canonical unit (a multiplicative conversion)."""
    return float(value) * conversion_factor(unit, row.unit)
