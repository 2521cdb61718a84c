"""The pilot report as one self-contained HTML page (试点报告 HTML): charts embedded as base64 PNG, every value
escaped by Jinja2's autoescape, zh-CN first and English second."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from carbonmet.cems import rules

from ._chart import pilot_chart_png
from ._data import PilotData
from ._findings import pilot_findings, qa_rows
from ._pdf import Stamp, code_version, data_digest
from ._tables import finding_rules, method_sections
from ._xlsx import summary_rows

TITLE_ZH = "碳监测与碳核算比对验证试点报告"
TITLE_EN = "Pilot report: carbon monitoring (CEMS) against carbon accounting"


def _env() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("carbonmet.reports", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    return env


def _num(x: Any, nd: int = 0) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    return f"{x:,.{nd}f}"


def _pct(x: Any, nd: int = 2) -> str:
    if x is None or not isinstance(x, int | float) or not math.isfinite(x):
        return "—"
    return f"{x:+.{nd}f} %"


def _b64(png: bytes | None) -> str | None:
    return None if png is None else base64.b64encode(png).decode("ascii")


def pilot_stamp(data: PilotData, *, code: str | None = None) -> Stamp:
    """The stamp of a pilot report: data version = digest of every enterprise's comparison, CEMS leg, hours,
    balance and sources and the QA items (the diagrams left out: they are drawn from the same numbers); profile =
    the substitution rule set and the accounting profiles named in the enterprises' sources; code =
    :func:`code_version` unless given; date = 31 December of the year."""
    payload = {"year": data.year, "rule_set": data.rule_set, "qa": data.qa,
               "enterprises": [{"enterprise": e.enterprise, "comparison": e.comparison, "cems": e.cems,
                                "hours": e.hours, "balance": e.balance, "sources": e.sources}
                               for e in data.enterprises]}
    profiles = sorted({str(v) for e in data.enterprises for k, v in e.sources.items() if "profile" in k})
    return Stamp(title=f"{TITLE_ZH} {TITLE_EN}",
                 subject=f"{data.year} · {', '.join(e.enterprise for e in data.enterprises)}",
                 data_version=data_digest(payload),
                 profile_version=" · ".join([f"rule set {data.rule_set}", *profiles]),
                 code_version=code or code_version(), generated_for=date(data.year, 12, 31))


def render_pilot_html(data: PilotData, *, charts: Mapping[str, bytes] | None = None,
                      stamp: Stamp | None = None) -> str:
    """The pilot report as an HTML page.

    Sections: title; method (the same text as the workbook's 说明 sheet); data (year, enterprises with their
    sources, the substitution rule set's bands, QA given); results (the summary table); per enterprise the
    monthly chart (:func:`pilot_chart_png`), the carbon-flow diagram when given, the monthly table and its
    findings; QA; the list of findings.

    Parameters
    ----------
    data : PilotData
    charts : mapping, optional
        Enterprise code → monthly chart PNG already drawn (drawn here for those missing).
    stamp : Stamp, optional
        What produced the report (:func:`pilot_stamp`), shown in a last section when given.

    Returns
    -------
    str
        The page (UTF-8 text; no external resources).
    """
    k = data.k
    findings = pilot_findings(data)
    ents = []
    for e in data.enterprises:
        png = (charts or {}).get(e.enterprise) or pilot_chart_png(e.comparison, e.three_way)
        tw = {r["period"]: r for r in (e.three_way or {}).get("periods", [])}
        ents.append({
            "code": e.enterprise, "cmp": e.comparison, "year_row": e.year_row, "sources": e.sources, "verified": e.verified,
            "hours": e.hours, "chart": _b64(png), "flow": _b64(e.flow_png),
            "months": [r | {"reconciled": tw.get(r["period"], {}).get("reconciled"),
                            "u_reconciled": tw.get(r["period"], {}).get("u_reconciled")} for r in e.months],
            "balance": e.balance, "findings": [f for f in findings if f.enterprise == e.enterprise],
            "steps": [s for s in e.comparison.get("steps") or []],
        })
    codes = {e.enterprise for e in data.enterprises}
    ctx = {
        "title_zh": TITLE_ZH, "title_en": TITLE_EN, "year": data.year, "k": k, "rule_set": data.rule_set,
        "method": method_sections(data.rule_set, k), "rule_bands": rules(data.rule_set),
        "finding_rules": list(finding_rules().values()),
        "results": list(zip(ents, summary_rows(data), strict=True)), "enterprises": ents,
        "qa": qa_rows(data.qa), "other_findings": [f for f in findings if f.enterprise not in codes],
        "all_findings": findings, "stamp": stamp,
        "n_flagged": sum(1 for e in data.enterprises if e.comparison.get("flagged")),
    }
    return str(_env().get_template("pilot.html.j2").render(**ctx))
