"""Reports of results (报告): HTML, XLSX and charts rendered from plain data the caller gives.

The comparison pilot report (碳监测与碳核算比对验证试点报告): for ≥ 3 enterprises of one year, the method, the
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
    :func:`pilot_chart_png`, :func:`write_pilot_xlsx`, :func:`render_pilot_html`.
Errors
    :class:`ReportError`.
"""

from ._chart import pilot_chart_png
from ._data import MIN_ENTERPRISES, PilotData, PilotEnterprise
from ._errors import ReportError
from ._findings import Finding, pilot_findings
from ._html import render_pilot_html
from ._tables import FindingRule, finding_rules
from ._xlsx import write_pilot_xlsx

__all__ = [
    "MIN_ENTERPRISES",
    "Finding",
    "FindingRule",
    "PilotData",
    "PilotEnterprise",
    "ReportError",
    "finding_rules",
    "pilot_chart_png",
    "pilot_findings",
    "render_pilot_html",
    "write_pilot_xlsx",
]
