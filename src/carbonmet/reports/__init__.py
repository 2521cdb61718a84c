"""Reports of results (报告): HTML, PDF, XLSX and charts rendered from plain data the caller gives.

Every report carries a :class:`Stamp` (data, profile and code versions and the date it is made for) in its
pages and workbook, and the same inputs give the same bytes (docs/reports.md). Reports: the accounting report
of one enterprise-year (碳排放核算报告), the metrology review report (计量审查报告) and the comparison pilot
report (碳监测与碳核算比对验证试点报告): for ≥ 3 enterprises of one year, the method, the
data, the results (CEMS against accounting with E_n, the reconciled carbon balance), a monthly chart with 95 %
error bars and the carbon-flow diagram per enterprise, and findings generated from the numbers — as a workbook
(same input → same bytes) and as one self-contained HTML page (zh-CN first, English second).

Public API
----------
Data
    :class:`PilotData` of :class:`PilotEnterprise` (dicts from ``Comparison.to_dict()``,
    ``BalanceResult.to_dict()``, the CEMS account's ``to_dict()`` and ``stream_hours``); :data:`MIN_ENTERPRISES`.
Findings
    :func:`pilot_findings` → :class:`Finding`; thresholds and published figures :func:`finding_rules`.
Rendering
    :func:`pilot_chart_png`, :func:`write_pilot_xlsx`, :func:`render_pilot_html`, :func:`pilot_stamp`;
    :func:`render_account_html`, :func:`write_account_xlsx`, :func:`account_stamp`, :func:`budget_chart_png`;
    :func:`render_review_html`, :func:`write_review_xlsx`, :func:`review_stamp`, :func:`findings_by_instrument`;
    the capability status report across enterprises (计量能力现状和问题建议报告): the public submodule
    :mod:`carbonmet.reports.capability` (``CapabilityData``, ``render_capability_html``, ``write_capability_xlsx``,
    ``capability_stamp``, the sections of the review checks ``check_labels``).
PDF
    :func:`render_pdf` (WeasyPrint, A4, stamp in header and footer, pinned dates), :func:`base_css`, :class:`Stamp`,
    :func:`data_digest`, :func:`code_version`, :data:`FONT_FAMILIES`.
Errors
    :class:`ReportError`.
"""

from ._account import (
    account_stamp,
    budget_chart_png,
    render_account_html,
    write_account_xlsx,
)
from ._chart import pilot_chart_png
from ._data import MIN_ENTERPRISES, PilotData, PilotEnterprise
from ._errors import ReportError
from ._findings import Finding, pilot_findings
from ._html import pilot_stamp, render_pilot_html
from ._pdf import FONT_FAMILIES, Stamp, base_css, code_version, data_digest, render_pdf
from ._review import (
    findings_by_instrument,
    render_review_html,
    review_stamp,
    write_review_xlsx,
)
from ._tables import FindingRule, finding_rules
from ._xlsx import write_pilot_xlsx

__all__ = [
    "FONT_FAMILIES",
    "MIN_ENTERPRISES",
    "Finding",
    "FindingRule",
    "PilotData",
    "PilotEnterprise",
    "ReportError",
    "Stamp",
    "account_stamp",
    "base_css",
    "budget_chart_png",
    "code_version",
    "data_digest",
    "finding_rules",
    "findings_by_instrument",
    "pilot_chart_png",
    "pilot_findings",
    "pilot_stamp",
    "render_account_html",
    "render_pdf",
    "render_pilot_html",
    "render_review_html",
    "review_stamp",
    "write_account_xlsx",
    "write_pilot_xlsx",
    "write_review_xlsx",
]
