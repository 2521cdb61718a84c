"""Review rules as data (审查规则): one CSV file per rule set, read and checked by small generic code.

A profile is a rule file shipped in ``carbonmet/review/data/<profile>.csv``; a local rule set (a province's
JJF, an enterprise standard) is a directory of further rule CSVs given by path: a local rule with a new
``rule_id`` adds a rule, one with an existing ``rule_id`` replaces it (a tighter limit, another severity).

Columns (header row, any order; file, row and field are named in every error):

``rule_id``, ``check`` (one of :data:`CHECKS`), ``applies_to`` (selector, below), ``parameter``, ``value``,
``unit``, ``standard``, ``clause``, ``evidence`` (mark, :data:`EVIDENCE`), ``severity`` (:data:`SEVERITIES`),
``message_zh``, ``message_en``, ``recommendation_zh``, ``recommendation_en``.

The selector ``applies_to`` is empty (every instrument) or ``field=a|b; field2=c`` over the instrument and its
measurement point at the review date (:data:`SELECTOR_FIELDS`). Messages may name ``{placeholders}`` from
:data:`PLACEHOLDERS`.

Checks over points rather than single instruments: ``accuracy_class`` judges a point's whole measuring system
(its instruments combined as the ``system_combination`` rule says, ``rss`` or ``linear``); ``fitout_rate``
(value: the required rate in %) and ``main_threshold`` (value and unit: the Table 1/2 limit) select points of
exactly one ``level`` by point fields only (:data:`POINT_FIELDS`); ``completeness`` (value: the least share in %);
``stream_metered``, ``analysis_frequency`` and ``cems_qa`` (value: the oldest QA age in days) read the monitoring
plan, the lab results and the CEMS instruments' certificates (profile ``ccm_carbon``).
"""

from __future__ import annotations

import hashlib
import math
import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..quantities import UnitError, parse_unit
from ..tabular import TabularError, read_table
from ._decision import RULES as DECISION_RULES
from ._errors import ReviewError, RuleFileError
from ._system import COMBINATIONS

COLUMNS = ("rule_id", "check", "applies_to", "parameter", "value", "unit", "standard", "clause", "evidence",
           "severity", "message_zh", "message_en", "recommendation_zh", "recommendation_en")
SEVERITIES = ("critical", "major", "minor", "info")
EVIDENCE = ("V-std", "V", "C", "R", "A", "M", "D", "?")
SELECTOR_FIELDS = ("type", "legal_category", "carrier", "quantity", "level", "reading_kind", "source_stream")
PLACEHOLDERS = ("instrument", "type", "point", "certificate", "valid_until", "accuracy_class", "mpe_rel", "limit",
                "standard", "window", "on", "decision", "system", "system_mpe", "level", "carrier", "rate",
                "required", "equipped", "unequipped", "completeness", "period", "stream", "parameter", "missing",
                "last_qa", "unit")
#: checks whose selector may name only point fields and must name exactly one ``level`` (a table per level)
POINT_FIELDS = ("carrier", "quantity", "level", "reading_kind", "source_stream")
# check -> (parameter name expected, kind of value): "" = no parameter
CHECKS: dict[str, tuple[str, str]] = {
    "overdue": ("grace_days", "int"),
    "calibrated_not_verified": ("", ""),
    "does_not_conform": ("", ""),
    "never_certified": ("", ""),
    # the whole measuring system's MPE (its components' combined by ``system_combination``) against the limit
    "accuracy_class": ("mpe_rel", "float"),
    "system_combination": ("method", "combination"),
    "traceability_oot": ("lookback_days", "int"),
    "certificate_error": ("decision_rule", "rule"),
    # GB 17167 Table 3 rate of a level and energy type; Tables 1-2 thresholds making a unit/equipment main
    "fitout_rate": ("required_rate", "pct"),
    "main_threshold": ("threshold", "float"),
    # share of expected readings present in the readings store over the review period
    "completeness": ("min_share", "pct"),
    # coal-chemical carbon profile: plan streams' activity data metered, lab analyses at the plan's frequency,
    # CEMS QA (newest certificate or comparison) not older than the limit
    "stream_metered": ("", ""),
    "analysis_frequency": ("", ""),
    "cems_qa": ("max_age_days", "int"),
}


@dataclass(frozen=True, slots=True)
class ReviewRule:
    """One review rule (one row of a rule file)."""

    rule_id: str
    check: str
    applies_to: tuple[tuple[str, frozenset[str]], ...]
    parameter: str
    value: Any
    unit: str
    standard: str
    clause: str
    evidence: str
    severity: str
    message_zh: str
    message_en: str
    recommendation_zh: str
    recommendation_en: str
    source: str  # file:row

    def applies(self, attrs: dict[str, str | None]) -> bool:
        """Whether the selector matches an instrument's attributes (``SELECTOR_FIELDS``)."""
        return all((attrs.get(k) or "") in vals for k, vals in self.applies_to)

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "check": self.check,
                "applies_to": "; ".join(f"{k}={'|'.join(sorted(v))}" for k, v in self.applies_to),
                "parameter": self.parameter, "value": self.value, "unit": self.unit, "standard": self.standard,
                "clause": self.clause, "evidence": self.evidence, "severity": self.severity, "source": self.source}


@dataclass(frozen=True)
class RuleSet:
    """The rules of a review: a profile and any local rule sets, with a version (digest of the files)."""

    profile: str
    version: str
    rules: tuple[ReviewRule, ...]
    files: tuple[str, ...] = field(default=())

    def of_check(self, check: str) -> list[ReviewRule]:
        return [r for r in self.rules if r.check == check]


def _selector(text: str, file: str, row: int) -> tuple[tuple[str, frozenset[str]], ...]:
    out: list[tuple[str, frozenset[str]]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        key, eq, vals = part.partition("=")
        key = key.strip()
        if not eq or not key:
            raise RuleFileError(file, row, "applies_to", f"{part!r} is not field=value|value")
        if key not in SELECTOR_FIELDS:
            raise RuleFileError(file, row, "applies_to",
                                f"unknown field {key!r}; expected one of {', '.join(SELECTOR_FIELDS)}")
        values = frozenset(v.strip() for v in vals.split("|") if v.strip())
        if not values:
            raise RuleFileError(file, row, "applies_to", f"{key!r} has no value")
        out.append((key, values))
    return tuple(out)


def _per_level(check: str, selector: tuple[tuple[str, frozenset[str]], ...], file: str, row: int) -> None:
    """A fit-out or threshold rule is about points (no instrument fields) of exactly one level."""
    for key, vals in selector:
        if key not in POINT_FIELDS:
            raise RuleFileError(file, row, "applies_to",
                                f"check {check!r} selects points: {key!r} is not one of {', '.join(POINT_FIELDS)}")
        if key == "level" and len(vals) != 1:
            raise RuleFileError(file, row, "applies_to", f"check {check!r} names exactly one level, got {sorted(vals)}")
    levels = [next(iter(v)) for k, v in selector if k == "level"]
    if not levels:
        raise RuleFileError(file, row, "applies_to", f"check {check!r} needs level=L1, L2 or L3")
    if check == "main_threshold" and levels[0] not in ("L2", "L3"):
        raise RuleFileError(file, row, "applies_to",
                            f"a main-unit/equipment threshold is for level L2 or L3, got {levels[0]!r}")


def _template(text: str, file: str, row: int, column: str,
              placeholders: tuple[str, ...] = PLACEHOLDERS) -> str:
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise RuleFileError(file, row, column, f"bad template: {exc}") from None
    for n in names:
        if n not in placeholders:
            raise RuleFileError(file, row, column,
                                f"unknown placeholder {{{n}}}; expected one of {', '.join(placeholders)}")
    return text


def _value(check: str, parameter: str, raw: str, file: str, row: int,
           checks: dict[str, tuple[str, str]] = CHECKS) -> Any:
    want, kind = checks[check]
    if parameter != want:
        raise RuleFileError(file, row, "parameter",
                            f"check {check!r} takes parameter {want!r}" if want else
                            f"check {check!r} takes no parameter, got {parameter!r}")
    if not kind:
        if raw:
            raise RuleFileError(file, row, "value", f"check {check!r} takes no value, got {raw!r}")
        return None
    if kind == "combination":
        if raw not in COMBINATIONS:
            raise RuleFileError(file, row, "value", f"{raw!r} is not a combination ({', '.join(COMBINATIONS)})")
        return raw
    if kind == "rule":
        if raw not in DECISION_RULES:
            raise RuleFileError(file, row, "value", f"{raw!r} is not a decision rule ({', '.join(DECISION_RULES)})")
        return raw
    try:
        v: float = float(raw)
    except ValueError:
        raise RuleFileError(file, row, "value", f"{raw!r} is not a number") from None
    if not math.isfinite(v) or v < 0 or (kind == "float" and v == 0):
        raise RuleFileError(file, row, "value", f"{raw!r} must be {'> 0' if kind == 'float' else '≥ 0'}")
    if kind == "pct":
        if not 0 < v <= 100:
            raise RuleFileError(file, row, "value", f"{raw!r} must be a percentage in (0, 100]")
        return v
    if kind == "int":
        if v != int(v):
            raise RuleFileError(file, row, "value", f"{raw!r} is not a whole number of days")
        return int(v)
    return v


def read_rule_file(path: str | Path, *, name: str | None = None, checks: dict[str, tuple[str, str]] | None = None,
                   placeholders: tuple[str, ...] | None = None) -> list[ReviewRule]:
    """Rules of one CSV/XLSX rule file; every problem raises :class:`RuleFileError` with file, row and field.

    ``checks`` and ``placeholders`` default to the metrology review's (:data:`CHECKS`, :data:`PLACEHOLDERS`); the
    verification rules pass their own (:data:`carbonmet.review.VERIFY_CHECKS`)."""
    checks = CHECKS if checks is None else checks
    placeholders = PLACEHOLDERS if placeholders is None else placeholders
    label = name or str(path)
    try:
        sheet = read_table(path)[0]
    except TabularError as exc:
        raise RuleFileError(exc.file, exc.row, exc.field, exc.reason) from None
    missing = [c for c in COLUMNS if c not in sheet.header]
    if missing:
        raise RuleFileError(label, 1, missing[0], f"missing column(s): {', '.join(missing)}")
    if sheet.issues:
        i = sheet.issues[0]
        raise RuleFileError(label, i.row, i.field, f"{i.code}: {i.detail}")
    idx = {c: sheet.header.index(c) for c in COLUMNS}
    out: list[ReviewRule] = []
    seen: set[str] = set()
    for rowno, cells in sheet.rows:
        cell = {c: ("" if cells[i] is None else str(cells[i]).strip()) for c, i in idx.items()}
        rid = cell["rule_id"]
        if not rid:
            raise RuleFileError(label, rowno, "rule_id", "empty")
        if rid in seen:
            raise RuleFileError(label, rowno, "rule_id", f"{rid!r} appears twice in the file")
        seen.add(rid)
        if cell["check"] not in checks:
            raise RuleFileError(label, rowno, "check",
                                f"unknown check {cell['check']!r}; expected one of {', '.join(checks)}")
        if cell["severity"] not in SEVERITIES:
            raise RuleFileError(label, rowno, "severity",
                                f"{cell['severity']!r} is not one of {', '.join(SEVERITIES)}")
        if cell["evidence"] not in EVIDENCE:
            raise RuleFileError(label, rowno, "evidence", f"{cell['evidence']!r} is not one of {', '.join(EVIDENCE)}")
        for c in ("standard", "clause", "message_zh", "message_en"):
            if not cell[c]:
                raise RuleFileError(label, rowno, c, "empty")
        value = _value(cell["check"], cell["parameter"], cell["value"], label, rowno, checks)
        if cell["check"] == "accuracy_class" and cell["unit"] != "%":
            raise RuleFileError(label, rowno, "unit", f"an accuracy-class limit is an MPE in %, got {cell['unit']!r}")
        if cell["check"] in ("fitout_rate", "completeness") and cell["unit"] != "%":
            raise RuleFileError(label, rowno, "unit", f"check {cell['check']!r} takes a value in %, got {cell['unit']!r}")
        if cell["check"] == "main_threshold":
            try:
                parse_unit(cell["unit"])
            except UnitError as exc:
                raise RuleFileError(label, rowno, "unit", f"not a unit: {exc}") from None
        selector = _selector(cell["applies_to"], label, rowno)
        if cell["check"] in ("fitout_rate", "main_threshold"):
            _per_level(cell["check"], selector, label, rowno)
        texts = {c: _template(cell[c], label, rowno, c, placeholders)
                 for c in ("message_zh", "message_en", "recommendation_zh", "recommendation_en")}
        out.append(ReviewRule(
            rid, cell["check"], selector, cell["parameter"], value, cell["unit"],
            cell["standard"], cell["clause"], cell["evidence"], cell["severity"], texts["message_zh"],
            texts["message_en"], texts["recommendation_zh"], texts["recommendation_en"], f"{label}:{rowno}"))
    return out


def profile_names() -> list[str]:
    """Names of the profiles shipped with carbonmet (``data/*.csv``)."""
    return sorted(p.name.removesuffix(".csv") for p in resources.files(__package__).joinpath("data").iterdir()
                  if p.name.endswith(".csv"))


def load_rules(profile: str = "gb17167_ccm", local: str | Path | None = None) -> RuleSet:
    """The rules of ``profile`` plus the local rule set in directory (or file) ``local``.

    ``profile`` may join shipped profiles with ``+`` (``gb17167_ccm+ccm_carbon``): their rules in that order, a
    later file's rule replacing an earlier one of the same ``rule_id``, as a local rule set does.

    Raises
    ------
    ReviewError
        Unknown profile, or ``local`` is neither a directory nor a file.
    RuleFileError
        A rule file is malformed (file, row, field named).
    """
    names = [n.strip() for n in profile.split("+")]
    for name in names:
        if name not in profile_names():
            raise ReviewError(f"未知审查方案 unknown review profile {name!r}; available: {', '.join(profile_names())}")
    digest = hashlib.sha256()
    rules: dict[str, ReviewRule] = {}
    files: list[str] = []
    for name in names:
        res = resources.files(__package__).joinpath(f"data/{name}.csv")
        with resources.as_file(res) as p:
            digest.update(p.read_bytes())
            rules.update({r.rule_id: r for r in read_rule_file(p, name=f"{name}.csv")})
        files.append(f"{name}.csv")
    if local is not None:
        lp = Path(local)
        if lp.is_dir():
            paths = sorted(x for x in lp.iterdir() if x.suffix.lower() in (".csv", ".xlsx"))
        elif lp.is_file():
            paths = [lp]
        else:
            raise ReviewError(f"本地规则集不存在 local rule set not found: {lp}")
        for f in paths:
            digest.update(f.read_bytes())
            for r in read_rule_file(f):
                rules[r.rule_id] = r
            files.append(str(f))
    return RuleSet(profile, digest.hexdigest()[:12], tuple(rules.values()), tuple(files))
