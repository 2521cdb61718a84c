"""Code tables of HJ 212-2017, read from the CSV files beside this module (each names its clause)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


@dataclass(frozen=True, slots=True)
class Command:
    """One row of Table 9 (clause 6.6.5.2)."""

    cn: str
    direction: str  # "p2s" platform→site (上位机→现场机) or "s2p" site→platform
    kind: str  # request, upload, notice, interaction
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class FactorCode:
    """One row of Table B.2 (air monitoring factor codes), the subset in factor_codes.csv."""

    code: str
    name_zh: str
    name_en: str
    unit_conc: str
    unit_amount: str
    data_type: str


@cache
def commands() -> dict[tuple[str, str], Command]:
    """Command codes keyed by ``(cn, direction)`` (Table 9)."""
    return {(r["cn"], r["direction"]): Command(**r) for r in _rows("cn_codes.csv")}


@cache
def data_flags() -> dict[str, str]:
    """Data flags of Table 8 (clause 6.6.4): flag → English meaning."""
    return {r["flag"]: r["name_en"] for r in _rows("data_flags.csv")}


@cache
def data_flags_zh() -> dict[str, str]:
    """Data flags of Table 8 (clause 6.6.4): flag → Chinese meaning."""
    return {r["flag"]: r["name_zh"] for r in _rows("data_flags.csv")}


@cache
def data_flags_short() -> dict[str, str]:
    """Data flags of Table 8: flag → short Chinese label (for tables)."""
    return {r["flag"]: r["short_zh"] for r in _rows("data_flags.csv")}


@cache
def system_codes() -> dict[str, str]:
    """System codes ST of Table 5 (clause 6.6.1.2): code → English name."""
    return {r["st"]: r["name_en"] for r in _rows("system_codes.csv")}


@cache
def return_codes() -> dict[tuple[str, int], str]:
    """ExeRtn (Table 6) and QnRtn (Table 7) codes: ``(field, code)`` → English meaning."""
    return {(r["field"], int(r["code"])): r["name_en"] for r in _rows("return_codes.csv")}


@cache
def factor_codes() -> dict[str, FactorCode]:
    """Air factor codes of Table B.2 (subset): code → :class:`FactorCode`."""
    return {
        r["code"]: FactorCode(
            code=r["code"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            unit_conc=r["unit_conc"],
            unit_amount=r["unit_amount"],
            data_type=r["data_type"],
        )
        for r in _rows("factor_codes.csv")
    }


@cache
def field_suffixes() -> dict[str, str]:
    """Suffixes of ``code-Suffix`` CP fields (Table 4): suffix → kind (number, flag, text, time)."""
    return {r["suffix"]: r["kind"] for r in _rows("field_suffixes.csv")}


@cache
def field_commands() -> dict[str, frozenset[str]]:
    """Data commands whose uploads carry each measured-value suffix (field_suffixes.csv, column commands)."""
    return {r["suffix"]: frozenset(r["commands"].split()) for r in _rows("field_suffixes.csv")}


@cache
def default_fields() -> dict[tuple[str, str], str]:
    """Which field of a code becomes a point's reading: ``(cn, reading_kind)`` → suffix (default_fields.csv)."""
    return {(r["cn"], r["reading_kind"]): r["suffix"] for r in _rows("default_fields.csv") if r["suffix"]}


@cache
def default_commands() -> dict[str, str]:
    """The one command a point takes values from when its ``hj212_code`` names none: reading_kind → CN.

    Rows of default_fields.csv with ``default_command=yes``; exactly one per reading kind.

    Raises
    ------
    ValueError
        The table marks two commands as the default of one reading kind.
    """
    out: dict[str, str] = {}
    for line, r in enumerate(_rows("default_fields.csv"), start=2):
        if r["default_command"].strip().lower() != "yes":
            continue
        kind = r["reading_kind"]
        if kind in out:
            raise ValueError(
                f"default_fields.csv: data row {line - 1}: second default command {r['cn']} for reading_kind {kind!r}"
                f" (already {out[kind]})"
            )
        out[kind] = r["cn"]
    return out
