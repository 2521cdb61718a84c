"""Review items (审查记录表条目) as data: JJF 1356-2012 Appendix C's 52 items, which of them the review's
automated checks give evidence for, and the overall conclusion rule of 9.7.2.

An items file (``data/items/<name>.csv``, or any file given by path) has the columns ``item`` (number),
``clause``, ``topic_zh``, ``topic_en``, ``checks`` (``|``-joined review checks whose non-conformity findings
make the item non-conforming; empty: assessed on site), ``standard`` and ``evidence``; its conclusion rule
(``<name>_conclusion.csv``) the columns ``max_nonconforming``, ``conclusion_zh``, ``conclusion_en``,
``standard``, ``clause``, ``evidence`` — ascending, the first row whose maximum is not exceeded applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ..tabular import TabularError, read_table
from ._engine import ReviewResult
from ._errors import ReviewError, RuleFileError
from ._rules import CHECKS, EVIDENCE

ItemVerdict = Literal["conforms", "does_not_conform", "not_applicable", "to_assess"]
_ITEM_COLUMNS = ("item", "clause", "topic_zh", "topic_en", "checks", "standard", "evidence")
_CONCLUSION_COLUMNS = ("max_nonconforming", "conclusion_zh", "conclusion_en", "standard", "clause", "evidence")


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One item of a review record (e.g. JJF 1356-2012 Table C.1 item 32, clause 6.4.1)."""

    item: int
    clause: str
    topic_zh: str
    topic_en: str
    checks: tuple[str, ...]
    standard: str
    evidence: str


@dataclass(frozen=True, slots=True)
class ItemResult:
    """An item's verdict: from the findings of its checks (``findings`` rule ids) or given on site."""

    item: ReviewItem
    verdict: ItemVerdict
    findings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemsAssessment:
    """The items of a review and the overall conclusion (9.7.2), ``None`` while an item is still to be assessed
    and the count of non-conforming items does not yet decide it."""

    name: str
    items: tuple[ItemResult, ...]
    nonconforming: int
    to_assess: int
    conclusion_zh: str | None
    conclusion_en: str | None
    basis: str = field(default="")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "nonconforming": self.nonconforming, "to_assess": self.to_assess,
                "conclusion_zh": self.conclusion_zh, "conclusion_en": self.conclusion_en, "basis": self.basis,
                "items": [{"item": r.item.item, "clause": r.item.clause, "topic_zh": r.item.topic_zh,
                           "topic_en": r.item.topic_en, "verdict": r.verdict, "findings": list(r.findings)}
                          for r in self.items]}


def _rows(path: Path, label: str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        sheet = read_table(path)[0]
    except TabularError as exc:
        raise RuleFileError(exc.file, exc.row, exc.field, exc.reason) from None
    missing = [c for c in columns if c not in sheet.header]
    if missing:
        raise RuleFileError(label, 1, missing[0], f"missing column(s): {', '.join(missing)}")
    idx = {c: sheet.header.index(c) for c in columns}
    return [(n, {c: "" if cells[i] is None else str(cells[i]).strip() for c, i in idx.items()})
            for n, cells in sheet.rows]


def _int(cell: str, label: str, row: int, column: str) -> int:
    try:
        v = float(cell)
    except ValueError:
        raise RuleFileError(label, row, column, f"{cell!r} is not a whole number") from None
    if v != int(v) or v < 0:
        raise RuleFileError(label, row, column, f"{cell!r} is not a whole number ≥ 0")
    return int(v)


def _path(name: str | Path, suffix: str = "") -> tuple[Path, str]:
    p = Path(name)
    if p.suffix.lower() in (".csv", ".xlsx"):
        if suffix:
            p = p.with_name(p.stem + suffix + p.suffix)
        if not p.is_file():
            raise ReviewError(f"审查条目文件不存在 items file not found: {p}")
        return p, str(p)
    res = resources.files(__package__).joinpath(f"data/items/{name}{suffix}.csv")
    if not res.is_file():
        raise ReviewError(f"未知审查条目 unknown review items {name!r}")
    with resources.as_file(res) as q:
        return Path(q), f"{name}{suffix}.csv"


def load_items(name: str | Path = "jjf1356_2012") -> tuple[list[ReviewItem], list[tuple[int, str, str, str]]]:
    """The items and the conclusion rule of a shipped items set (``jjf1356_2012``) or of a file given by path
    (its conclusion rule beside it as ``<stem>_conclusion.csv``).

    Returns
    -------
    (list of ReviewItem, list of (max_nonconforming, conclusion_zh, conclusion_en, source))

    Raises
    ------
    ReviewError
        Unknown name or missing file.
    RuleFileError
        A bad row (file, row and field named): a number that is not whole, an unknown check, an unknown evidence
        mark, an item number twice, conclusion rows not ascending.
    """
    path, label = _path(name)
    items: list[ReviewItem] = []
    seen: set[int] = set()
    for n, c in _rows(path, label, _ITEM_COLUMNS):
        k = _int(c["item"], label, n, "item")
        if k in seen:
            raise RuleFileError(label, n, "item", f"item {k} appears twice")
        seen.add(k)
        checks = tuple(x.strip() for x in c["checks"].split("|") if x.strip())
        for x in checks:
            if x not in CHECKS:
                raise RuleFileError(label, n, "checks", f"unknown check {x!r}; expected one of {', '.join(CHECKS)}")
        if c["evidence"] not in EVIDENCE:
            raise RuleFileError(label, n, "evidence", f"{c['evidence']!r} is not one of {', '.join(EVIDENCE)}")
        for col in ("clause", "topic_zh", "standard"):
            if not c[col]:
                raise RuleFileError(label, n, col, "empty")
        items.append(ReviewItem(k, c["clause"], c["topic_zh"], c["topic_en"], checks, c["standard"], c["evidence"]))
    cpath, clabel = _path(name, "_conclusion")
    rule: list[tuple[int, str, str, str]] = []
    for n, c in _rows(cpath, clabel, _CONCLUSION_COLUMNS):
        m = _int(c["max_nonconforming"], clabel, n, "max_nonconforming")
        if rule and m <= rule[-1][0]:
            raise RuleFileError(clabel, n, "max_nonconforming", "rows must ascend")
        if not c["conclusion_zh"]:
            raise RuleFileError(clabel, n, "conclusion_zh", "empty")
        rule.append((m, c["conclusion_zh"], c["conclusion_en"], f"{c['standard']} {c['clause']} [{c['evidence']}]"))
    if not rule:
        raise RuleFileError(clabel, 1, "max_nonconforming", "no conclusion rows")
    return items, rule


def assess_items(result: ReviewResult, name: str | Path = "jjf1356_2012", *,
                 on_site: Mapping[int, ItemVerdict] | None = None) -> ItemsAssessment:
    """The review items of ``result`` and the overall conclusion.

    An item with checks is non-conforming when the review found a non-conformity (not an ``info`` observation)
    of one of its checks, else conforming; an item without checks takes its on-site verdict from ``on_site``
    (item number → verdict), else stays ``to_assess``. The conclusion is the first rule row whose maximum the
    count of non-conforming items does not exceed — decided only when every item is assessed, or when the
    items still to assess could not change it (e.g. 6 non-conformities already make "不符合规范要求").

    References
    ----------
    JJF 1356-2012 9.7.1 (52 items, 符合 / 不符合 / 不适用) and 9.7.2 (all conform → 符合规范要求; ≤ 5
    non-conforming → 基本符合规范要求，需要整改; ≥ 6 → 不符合规范要求).
    """
    items, rule = load_items(name)
    on_site = on_site or {}
    by_check: dict[str, list[str]] = {}
    for f in result.findings:
        if f.severity != "info":
            by_check.setdefault(f.check, []).append(f.rule_id)
    out: list[ItemResult] = []
    for it in items:
        if it.checks:
            hits = sorted({r for c in it.checks for r in by_check.get(c, [])})
            verdict: ItemVerdict = "does_not_conform" if hits else on_site.get(it.item, "conforms")
            out.append(ItemResult(it, verdict, tuple(hits)))
        else:
            out.append(ItemResult(it, on_site.get(it.item, "to_assess")))
    bad = sum(r.verdict == "does_not_conform" for r in out)
    open_ = sum(r.verdict == "to_assess" for r in out)

    def pick(n: int) -> tuple[int, str, str, str]:
        return next((row for row in rule if n <= row[0]), rule[-1])

    lo, hi = pick(bad), pick(bad + open_)
    decided = lo if lo == hi else None
    return ItemsAssessment(str(name), tuple(out), bad, open_, decided[1] if decided else None,
                           decided[2] if decided else None, lo[3])
