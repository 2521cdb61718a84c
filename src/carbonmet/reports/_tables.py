"""The report's data tables: finding rules (``data/finding_rules.csv``) and method text
(``data/pilot_method.toml``), read by small generic code."""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

EVIDENCE = ("V", "C", "M", "?", "A")


@dataclass(frozen=True, slots=True)
class FindingRule:
    """One threshold or published figure behind the findings (a row of ``data/finding_rules.csv``)."""

    key: str
    value: float
    unit: str
    source: str
    evidence: str
    note: str


@dataclass(frozen=True, slots=True)
class MethodSection:
    """One section of the method text (``data/pilot_method.toml``); ``{rule_set}`` and ``{k}`` filled in."""

    key: str
    title_zh: str
    title_en: str
    zh: str
    en: str
    reference: str


def _text(name: str) -> str:
    return resources.files("carbonmet.reports").joinpath("data", name).read_text(encoding="utf-8")


@cache
def finding_rules() -> dict[str, FindingRule]:
    """The finding rules by key.

    Raises
    ------
    ValueError
        A malformed packaged row (a packaging error, caught by the tests), naming file and line.
    """
    lines = _text("finding_rules.csv").splitlines()
    keep = [(n, ln) for n, ln in enumerate(lines, start=1) if ln.strip() and not ln.startswith("#")]
    out: dict[str, FindingRule] = {}
    for i, r in enumerate(csv.DictReader(io.StringIO("\n".join(ln for _, ln in keep)))):
        n = keep[i + 1][0]
        try:
            rule = FindingRule(r["key"].strip(), float(r["value"]), r["unit"].strip(), r["source"].strip(),
                               r["evidence"].strip(), (r.get("note") or "").strip())
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"finding_rules.csv:{n}: malformed row {r}") from None
        if not rule.key or not rule.source or rule.evidence not in EVIDENCE or rule.key in out:
            raise ValueError(f"finding_rules.csv:{n}: malformed or repeated row {r}")
        out[rule.key] = rule
    return out


def rule_value(key: str) -> float:
    """The value of finding rule ``key`` [its unit]."""
    return finding_rules()[key].value


@cache
def _sections() -> tuple[dict[str, str], ...]:
    raw = tomllib.loads(_text("pilot_method.toml"))
    out = []
    for i, s in enumerate(raw.get("section", []), start=1):
        need = ("key", "title_zh", "title_en", "zh", "en", "reference")
        if not all(isinstance(s.get(k), str) and s[k] for k in need):
            raise ValueError(f"pilot_method.toml: section {i} lacks one of {', '.join(need)}")
        out.append({k: s[k] for k in need})
    return tuple(out)


def method_sections(rule_set: str, k: float) -> list[MethodSection]:
    """The method text with the run's rule set and coverage factor filled in."""
    kk = f"{k:g}"
    return [MethodSection(s["key"], s["title_zh"], s["title_en"], s["zh"].format(rule_set=rule_set, k=kk),
                          s["en"].format(rule_set=rule_set, k=kk), s["reference"]) for s in _sections()]
