"""The metrology review report (计量审查报告) of one enterprise on a date: findings of
:func:`carbonmet.review.review_instruments` by instrument, each with its evidence (certificate, standard, clause,
evidence mark, the rule file's row) — as HTML (and PDF) and as a workbook."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from carbonmet.quantities.rules import spreadsheet_text
from carbonmet.review import ReviewResult
from carbonmet.tabular import save_workbook

from ._html import _env
from ._pdf import Stamp, code_version, data_digest

REVIEW_TITLE_ZH = "计量审查报告"
REVIEW_TITLE_EN = "Metrology review report"
#: severities in the order a reader wants them
SEVERITY_ORDER = ("critical", "major", "minor", "info")


def review_stamp(result: ReviewResult, *, name: str = "", code: str | None = None) -> Stamp:
    """The stamp of a review report: data version = digest of ``result.to_dict()``, profile = the review profile
    and its version (a digest of its rule files), code = :func:`code_version` unless given, date = the review
    date."""
    return Stamp(title=f"{REVIEW_TITLE_ZH} {REVIEW_TITLE_EN}",
                 subject=" ".join(x for x in (result.enterprise, name, result.on.isoformat()) if x),
                 data_version=data_digest(result.to_dict()),
                 profile_version=f"{result.profile}@{result.profile_version}",
                 code_version=code or code_version(), generated_for=result.on)


def _rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def findings_by_instrument(result: ReviewResult) -> list[dict[str, Any]]:
    """The findings grouped by instrument: ``instrument``, ``point``, ``worst`` severity and ``findings`` (dicts,
    most severe first); instruments with the most severe findings first, then by id."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in result.findings:
        groups.setdefault(f.instrument, []).append(f.to_dict())
    out = []
    for inst, fs in groups.items():
        fs.sort(key=lambda f: (_rank(f["severity"]), f["rule_id"], f["certificate"]))
        out.append({"instrument": inst, "point": next((f["point"] for f in fs if f["point"]), ""),
                    "worst": fs[0]["severity"], "findings": fs})
    out.sort(key=lambda g: (_rank(g["worst"]), g["instrument"]))
    return out


def render_review_html(result: ReviewResult, *, stamp: Stamp, name: str = "") -> str:
    """The review report as one self-contained HTML page (zh-CN first): profile and rule files, counts by
    severity, then per instrument its findings with the evidence and the recommendation, then the stamp."""
    counts = sorted(result.counts().items(), key=lambda kv: _rank(kv[0]))
    return str(_env().get_template("review.html.j2").render(
        title_zh=REVIEW_TITLE_ZH, title_en=REVIEW_TITLE_EN, stamp=stamp, name=name, r=result, counts=counts,
        instruments=findings_by_instrument(result)))


REVIEW_HEADER = ["器具 instrument", "计量点 point", "级别 severity", "规则 rule", "检查 check", "证书 certificate",
                 "标准 standard", "条款 clause", "证据 evidence", "发现 finding", "建议 recommendation", "规则来源 rule source"]


def write_review_xlsx(result: ReviewResult, path: str | Path, *, stamp: Stamp) -> Path:
    """The review as a workbook: 发现 Findings (one row per finding, by instrument as in the page), 汇总 Summary
    (counts by severity and the review's profile) and 报告标识 stamp; the same review and stamp give the same
    bytes (dated the review date)."""
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    rows = [[g["instrument"], f["point"], f["severity"], f["rule_id"], f["check"], f["certificate"], f["standard"],
             f["clause"], f["evidence"], f["message"], f["recommendation"], f["rule_source"]]
            for g in findings_by_instrument(result) for f in g["findings"]]
    _sheet(wb, "发现 Findings", REVIEW_HEADER, rows)
    summary: list[list[Any]] = [["企业 enterprise", result.enterprise], ["审查日期 date", result.on.isoformat()],
                                ["审查规则 profile", result.profile], ["规则版本 profile version", result.profile_version],
                                ["规则文件 rule files", ", ".join(result.rule_files)],
                                ["审查器具数 instruments reviewed", result.instruments_reviewed]]
    summary += [[f"{sev} 发现数 findings", n] for sev, n in sorted(result.counts().items(), key=lambda kv: _rank(kv[0]))]
    _sheet(wb, "汇总 Summary", ["项目 item", "值 value"], summary)
    _sheet(wb, "报告标识 stamp", ["键 key", "值 value"], [[k, v] for k, v in stamp.to_dict().items()])
    on = result.on
    return save_workbook(wb, path, datetime(on.year, on.month, on.day))


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(header)
    for r in rows:
        ws.append([spreadsheet_text(v) if isinstance(v, str) else v for v in r])
    ws.freeze_panes = "A2"

