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
    """Command codes keyed by ``(cn, direction)``: Table 9 of HJ 212-2017, and the HJ 212-2025 commands whose kind
    is known (profile_2025.csv, evidence [C]: the 9015 heartbeat, answered 9013, and the new data uploads)."""
    out = {(r["cn"], r["direction"]): Command(**r) for r in _rows("cn_codes.csv")}
    for r in _rows("profile_2025.csv"):
        if r["what"] == "cn" and r["direction"] and (r["value"], r["direction"]) not in out:
            out[(r["value"], r["direction"])] = Command(r["value"], r["direction"], r["cn_kind"],
                                                        r["name_zh"] + "（HJ 212-2025）", r["name_en"] + " (HJ 212-2025)")
    return out


@dataclass(frozen=True, slots=True)
class DeviationKind:
    """One row of deviations.csv: a departure from HJ 212-2017 the acceptance policy knows by name."""

    code: str
    strict_refuses: bool
    clause: str
    evidence: str
    name_zh: str
    name_en: str


@cache
def deviation_kinds() -> dict[str, DeviationKind]:
    """Deviations the acceptance policy detects (deviations.csv), by code."""
    return {
        r["code"]: DeviationKind(r["code"], r["strict_refuses"] == "yes", r["clause"], r["evidence"], r["name_zh"],
                                 r["name_en"])
        for r in _rows("deviations.csv")
    }


@cache
def profile_2025() -> list[dict[str, str]]:
    """The known differences of HJ 212-2025 (profile_2025.csv), each with its status and evidence mark."""
    return _rows("profile_2025.csv")


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


@dataclass(frozen=True, slots=True)
class RequestFlow:
    """How a data logger answers one platform request (request_flows.csv; clause 6.1, Appendix C).

    Attributes
    ----------
    cn : str
        The request command (Table 9, 上位机→现场机).
    flow : str
        ``execute`` (9011 then 9012), ``reply`` (9011, answer packets of ``data_cn``, 9012) or ``data``
        (9011, history data packets of ``data_cn``, 9012).
    data_cn : str
        The command of the packets the logger sends back ("" for ``execute``).
    precision : str
        ``minute``, ``hour`` or ``day``: the precision of BeginTime/EndTime of a history request ("" otherwise).
    example : str
        The Appendix C table showing the flow.
    """

    cn: str
    flow: str
    data_cn: str
    precision: str
    example: str


@cache
def request_flows() -> dict[str, RequestFlow]:
    """Request commands and the flow of their answers, keyed by CN (request_flows.csv).

    Raises
    ------
    ValueError
        A row with an unknown flow, a ``reply``/``data`` row without ``data_cn``, or a CN that Table 9
        (cn_codes.csv) does not list as a platform request.
    """
    out: dict[str, RequestFlow] = {}
    known = commands()
    for line, r in enumerate(_rows("request_flows.csv"), start=1):
        f = RequestFlow(**{k: (v or "").strip() for k, v in r.items()})
        where = f"request_flows.csv: data row {line} (cn {f.cn})"
        if f.flow not in ("execute", "reply", "data") or (f.flow != "execute") != bool(f.data_cn):
            raise ValueError(f"{where}: flow {f.flow!r} with data_cn {f.data_cn!r}")
        if (f.cn, "p2s") not in known or known[(f.cn, "p2s")].kind != "request":
            raise ValueError(f"{where}: not a platform request command of Table 9")
        out[f.cn] = f
    return out


@cache
def default_timeouts() -> dict[str, tuple[float, int]]:
    """Table 1 (clause 6.2): link type → ``(timeout [s], retries)`` (timeouts.csv)."""
    return {r["link"]: (float(r["timeout_s"]), int(r["retries"])) for r in _rows("timeouts.csv")}


@cache
def return_code_text(field: str, code: int) -> str:
    """Meaning of an ExeRtn (Table 6) or QnRtn (Table 7) code, Chinese then English, e.g. ``请求被拒绝 rejected``.

    A code outside the table (both tables are 可扩充, extensible) gives ``未定义 undefined (Table 6/7)``.
    """
    for r in _rows("return_codes.csv"):
        if r["field"] == field and int(r["code"]) == code:
            return f"{r['name_zh']} {r['name_en']}"
    return f"未定义 undefined ({'Table 6' if field == 'ExeRtn' else 'Table 7'})"
