"""The capability status report across enterprises (全国煤化工行业碳排放计量能力现状和问题建议报告).

Built from a review campaign (:class:`carbonmet.review.CampaignSummary` with each enterprise's review) and,
optionally, the uncertainty tier each account stream achieves: fit-out rates (GB 17167-2006 配备率, when the
reviews carry them), accuracy compliance, overdue calibrations, traceability gaps, achieved tiers, the problems
found most often with the rules' recommendations and a gap list per enterprise — as one HTML page (charts
embedded, zh-CN first), as PDF from that page (:func:`render_pdf`) and as a workbook with native charts.
Same inputs → same bytes.

The checks are grouped into the report's sections by ``data/capability_checks.csv``; a check not listed there
is reported under "other" with its own name. Shares of instruments are of the in-service instruments reviewed.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.worksheet.worksheet import Worksheet

from carbonmet.cems.balance import cjk_font
from carbonmet.quantities.rules import spreadsheet_text
from carbonmet.review.campaign import CampaignSummary
from carbonmet.tabular import save_workbook

from ._html import _b64, _env
from ._pdf import Stamp, code_version, data_digest

__all__ = ["CapabilityData", "capability_stamp", "check_labels", "render_capability_html", "write_capability_xlsx"]

CAPABILITY_TITLE_ZH = "全国煤化工行业碳排放计量能力现状和问题建议报告"
CAPABILITY_TITLE_EN = "Carbon-emission metrology capability of the coal-chemical industry: status, problems and " \
                      "recommendations"
#: report sections, in order, with their titles
CATEGORIES: dict[str, tuple[str, str]] = {
    "fitout": ("计量器具配备", "fit-out"),
    "accuracy": ("准确度", "accuracy"),
    "calibration": ("检定/校准", "verification and calibration"),
    "traceability": ("量值溯源", "traceability"),
    "data": ("数据", "data"),
    "other": ("其他", "other"),
}
SEVERITIES = ("critical", "major", "minor", "info")
FITOUT_FIELDS = ("level", "carrier", "required_points", "equipped_points", "rate", "required_rate", "verdict")
#: enterprises drawn in the per-enterprise chart at most (those with the most findings)
CHART_ENTERPRISES = 30


@dataclass(frozen=True, slots=True)
class CheckLabel:
    """A row of ``data/capability_checks.csv``: the report section (category) and labels of a review check."""

    check: str
    category: str
    label_zh: str
    label_en: str
    source: str
    evidence: str


@cache
def check_labels() -> dict[str, CheckLabel]:
    """The labels and sections of the review checks by check.

    Raises
    ------
    ValueError
        A malformed packaged row (file and line named; a packaging error, caught by the tests).
    """
    text = resources.files("carbonmet.reports").joinpath("data", "capability_checks.csv").read_text(encoding="utf-8")
    lines = [(n, ln) for n, ln in enumerate(text.splitlines(), start=1) if ln.strip() and not ln.startswith("#")]
    out: dict[str, CheckLabel] = {}
    for i, r in enumerate(csv.DictReader(io.StringIO("\n".join(ln for _, ln in lines)))):
        n = lines[i + 1][0]
        try:
            row = CheckLabel(*(r[k].strip() for k in ("check", "category", "label_zh", "label_en", "source",
                                                        "evidence")))
        except (KeyError, AttributeError):
            raise ValueError(f"capability_checks.csv:{n}: malformed row {r}") from None
        if not row.check or row.category not in CATEGORIES or row.evidence not in ("V", "C", "M", "?", "A") \
                or row.check in out:
            raise ValueError(f"capability_checks.csv:{n}: malformed or repeated row {r}")
        out[row.check] = row
    return out


def label_of(check: str) -> CheckLabel:
    """The label of ``check`` (an unlisted check: category ``other``, its own name as label)."""
    return check_labels().get(check) or CheckLabel(check, "other", check, check, "", "?")


def _sev_rank(s: str) -> int:
    return SEVERITIES.index(s) if s in SEVERITIES else len(SEVERITIES)


def _pct_value(x: Any) -> float | None:
    """A rate [%] as a float (``FitOutRate`` gives its rates in %)."""
    return None if x is None else float(x)


def fitout_rows(result: Any) -> list[dict[str, Any]]:
    """The fit-out rates (配备率) a review carries (``result.fitout``, a list of ``FitOutRate``; none when the
    review does not compute them) as dicts of :data:`FITOUT_FIELDS`, ``rate`` and ``required_rate`` in %, with
    the ``rule_id`` and the ``unequipped`` point codes when the rate gives them."""
    out = []
    for f in getattr(result, "fitout", None) or []:
        d = asdict(f) if is_dataclass(f) and not isinstance(f, type) else (
            dict(f) if isinstance(f, Mapping) else {k: getattr(f, k, None) for k in FITOUT_FIELDS})
        row = {k: d.get(k) for k in FITOUT_FIELDS}
        row["rate"], row["required_rate"] = _pct_value(row["rate"]), _pct_value(row["required_rate"])
        row["rule_id"] = str(d.get("rule_id") or "")
        row["unequipped"] = [str(p) for p in d.get("unequipped") or ()]
        out.append(row)
    return sorted(out, key=lambda r: (str(r["level"]), str(r["carrier"])))


@dataclass
class CapabilityData:
    """What the capability report is made of.

    Attributes
    ----------
    campaign : CampaignSummary
        The review campaign, with each reviewed enterprise's review in ``results``.
    names : dict of str to str
        Enterprise → name (from the registry).
    tiers : dict of str to list of dict, optional
        Enterprise → the account's streams with the tier their activity data achieve (``stream``, ``tier``,
        ``U_rel_pct``, ``threshold_pct``); None when tiers were not asked for.
    tier_errors : dict of str to str
        Enterprise → why its account could not be computed (its tiers left out).
    year : int, optional
        The accounting year of the tiers.
    """

    campaign: CampaignSummary
    names: dict[str, str] = field(default_factory=dict)
    tiers: dict[str, list[dict[str, Any]]] | None = None
    tier_errors: dict[str, str] = field(default_factory=dict)
    year: int | None = None

    def payload(self) -> dict[str, Any]:
        """Everything the report shows, as plain data (the stamp's data version is its digest)."""
        return {"campaign": self.campaign.to_dict(), "names": dict(sorted(self.names.items())),
                "reviews": {e: r.to_dict() | {"fitout": fitout_rows(r)} for e, r in self.campaign.results.items()},
                "tiers": self.tiers, "tier_errors": dict(sorted(self.tier_errors.items())), "year": self.year}


def capability_stamp(data: CapabilityData, *, code: str | None = None) -> Stamp:
    """The stamp of a capability report: data version = digest of :meth:`CapabilityData.payload` (every review,
    its findings and fit-out rates, the tiers), profile = the review profile and its version (and the accounting
    year when tiers are shown), code = :func:`code_version` unless given, date = the campaign's review date."""
    c = data.campaign
    profile = f"{c.profile}@{c.profile_version}"
    if data.tiers is not None:
        profile += f" · 核算 accounts {data.year}"
    return Stamp(title=f"{CAPABILITY_TITLE_ZH} {CAPABILITY_TITLE_EN}",
                 subject=f"{len(c.enterprises)} 家企业 enterprises · {c.on.isoformat()}",
                 data_version=data_digest(data.payload()), profile_version=profile,
                 code_version=code or code_version(), generated_for=c.on)


# --- the figures -----------------------------------------------------------------------------------------------
def _share(n: int, d: int) -> float | None:
    return None if d == 0 else 100.0 * n / d


def enterprise_rows(data: CapabilityData) -> list[dict[str, Any]]:
    """One row per enterprise of the campaign: instruments reviewed, non-conformities by severity, instruments
    with a finding per section and the shares of compliant instruments (accuracy, calibration), traceability
    gaps, fit-out items below the required rate, the error when it was not reviewed."""
    out = []
    for e in data.campaign.enterprises:
        res = data.campaign.results.get(e.enterprise)
        row: dict[str, Any] = {"enterprise": e.enterprise, "name": data.names.get(e.enterprise, ""),
                               "reviewed": e.reviewed, "error": e.error, "instruments": e.instruments_reviewed,
                               "findings": sum(n for s, n in e.by_severity.items() if s != "info"),
                               "observations": e.by_severity.get("info", 0),
                               **{s: e.by_severity.get(s, 0) for s in SEVERITIES}}
        by_cat: dict[str, set[str]] = defaultdict(set)
        checks: Counter[str] = Counter()
        for f in res.findings if res is not None else []:
            if f.severity == "info":
                continue
            if f.instrument:
                by_cat[label_of(f.check).category].add(f.instrument)
            checks[f.check] += 1
        for cat in CATEGORIES:
            row[f"{cat}_instruments"] = len(by_cat[cat])
        n = e.instruments_reviewed
        row["accuracy_compliance_pct"] = _share(n - len(by_cat["accuracy"]), n) if res is not None else None
        row["calibration_compliance_pct"] = _share(n - len(by_cat["calibration"]), n) if res is not None else None
        for chk in ("overdue", "never_certified", "calibrated_not_verified", "does_not_conform", "traceability_oot"):
            row[chk] = checks.get(chk, 0)
        fo = fitout_rows(res) if res is not None else []
        row["fitout_items"] = len(fo)
        row["fitout_below"] = sum(1 for r in fo if str(r["verdict"]) not in ("pass", "n/a", "na", ""))
        out.append(row)
    return out


def fitout_summary(data: CapabilityData) -> list[dict[str, Any]]:
    """Fit-out rates by level and energy carrier over the enterprises that have the item: enterprises, those
    meeting the required rate, points required and equipped, the pooled rate [%] and the required rate [%]
    (a range when enterprises differ)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for res in data.campaign.results.values():
        for r in fitout_rows(res):
            groups[(str(r["level"]), str(r["carrier"]))].append(r)
    out = []
    for (level, carrier), rows in sorted(groups.items()):
        req = sum(int(r["required_points"] or 0) for r in rows)
        eq = sum(int(r["equipped_points"] or 0) for r in rows)
        rr = sorted({float(r["required_rate"]) for r in rows if r["required_rate"] is not None})
        verdicts = Counter(str(r["verdict"]) for r in rows)
        out.append({"level": level, "carrier": carrier, "enterprises": len(rows), "passed": verdicts.get("pass", 0),
                    "verdicts": dict(sorted(verdicts.items())), "required_points": req, "equipped_points": eq,
                    "rate_pct": _share(eq, req), "required_rate_pct": rr[0] if len(rr) == 1 else None,
                    "required_rate_range": (f"{rr[0]:g}–{rr[-1]:g}" if len(rr) > 1 else f"{rr[0]:g}" if rr else "—")})
    return out


def tier_summary(data: CapabilityData) -> list[dict[str, Any]]:
    """Streams per achieved tier (0 = below tier 1, ``None`` = uncertainty not evaluated) over all accounts."""
    if data.tiers is None:
        return []
    n: Counter[str] = Counter()
    ents: dict[str, set[str]] = defaultdict(set)
    for e, streams in data.tiers.items():
        for s in streams:
            key = "—" if s.get("tier") is None else str(s["tier"])
            n[key] += 1
            ents[key].add(e)
    return [{"tier": k, "streams": n[k], "enterprises": len(ents[k])}
            for k in sorted(n, key=lambda k: (k == "—", k))]


def gap_list(data: CapabilityData) -> list[dict[str, Any]]:
    """Per reviewed enterprise its gaps: one item per failing rule (check, severity, clause, findings,
    instruments, the rule's recommendation) and one per fit-out item below the required rate; most severe
    first."""
    rec = data.campaign.recommendations
    out = []
    for code, res in data.campaign.results.items():
        items: dict[str, dict[str, Any]] = {}
        fitout = fitout_rows(res)
        for f in res.findings:
            # observations are no gaps; fit-out findings are listed from the review's rates below
            if f.severity == "info" or (fitout and f.check == "fitout_rate"):
                continue
            it = items.setdefault(f.rule_id, {
                "enterprise": code, "kind": "rule", "rule_id": f.rule_id, "check": f.check,
                "label": label_of(f.check), "severity": f.severity, "clause": f.clause, "evidence": f.evidence,
                "findings": 0, "instruments": [], "recommendation": rec.get(f.rule_id, f.recommendation)})
            it["findings"] += 1
            if f.instrument and f.instrument not in it["instruments"]:
                it["instruments"].append(f.instrument)
            if _sev_rank(f.severity) < _sev_rank(it["severity"]):
                it["severity"] = f.severity
        rows = sorted(items.values(), key=lambda i: (_sev_rank(i["severity"]), -i["findings"], i["rule_id"]))
        for r in fitout:
            if str(r["verdict"]) in ("pass", "n/a", "na", ""):
                continue
            rate = "—" if r["rate"] is None else f"{r['rate']:.1f} %"
            need = "—" if r["required_rate"] is None else f"{r['required_rate']:g} %"
            item = f"{r['level']}/{r['carrier']}"
            rows.append({"enterprise": code, "kind": "fitout",
                         "rule_id": f"{r['rule_id']} {item}" if r["rule_id"] else item,
                         "check": "fitout_rate", "label": label_of("fitout_rate"), "severity": str(r["verdict"]),
                         "clause": "GB 17167-2006 4.3 表3", "evidence": "",
                         "findings": int(r["required_points"] or 0) - int(r["equipped_points"] or 0),
                         "instruments": list(r["unequipped"]),
                         "recommendation": f"配备率 {rate} (要求 {need}, {r['equipped_points']}/{r['required_points']} 个计量点"
                                           f"已配备): 补齐缺配计量器具 / fit-out rate {rate} (required {need}, "
                                           f"{r['equipped_points']} of {r['required_points']} points equipped): fit "
                                           f"the missing instruments"})
        for r in rows:
            r["instruments_text"] = ", ".join(r["instruments"][:12]) + (
                f" … (+{len(r['instruments']) - 12})" if len(r["instruments"]) > 12 else "")
        out.append({"enterprise": code, "name": data.names.get(code, ""), "items": rows})
    return out


def indicators(data: CapabilityData, rows: Sequence[Mapping[str, Any]] | None = None) -> list[tuple[str, str, Any]]:
    """The headline figures (zh, en, value): enterprises, reviewed, instruments, non-conformities, shares of
    instruments compliant for accuracy and calibration, traceability gaps, fit-out items below the rate."""
    rows = list(rows if rows is not None else enterprise_rows(data))
    t = data.campaign.totals()
    ok = [r for r in rows if r["reviewed"]]
    n = sum(r["instruments"] for r in ok)
    acc = sum(r["accuracy_instruments"] for r in ok)
    cal = sum(r["calibration_instruments"] for r in ok)
    fo_items = sum(r["fitout_items"] for r in ok)
    fo_bad = sum(r["fitout_below"] for r in ok)

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x:.1f} %"
    return [
        ("企业数", "enterprises", t["enterprises"]),
        ("已审查企业", "enterprises reviewed", t["reviewed"]),
        ("审查失败企业", "enterprises not reviewed (error)", t["failed"]),
        ("审查在用器具", "in-service instruments reviewed", n),
        ("不符合项", "non-conformities", sum(r["findings"] for r in ok)),
        ("观察项 (不确定度过大无法判定)", "observations (inconclusive)", sum(r["observations"] for r in ok)),
        ("准确度符合的器具占比", "instruments meeting their accuracy requirement", pct(_share(n - acc, n))),
        ("检定/校准状态合格的器具占比", "instruments with a valid verification or calibration", pct(_share(n - cal, n))),
        ("检定/校准超期器具", "instruments overdue", sum(r["overdue"] for r in ok)),
        ("溯源缺口 (器具)", "traceability gaps (instruments)", sum(r["traceability_instruments"] for r in ok)),
        ("配备率未达标项 / 评估项", "fit-out items below the required rate / assessed",
         f"{fo_bad} / {fo_items}" if fo_items else "— (审查未计算配备率 / not computed by the review)"),
    ]


# --- charts ----------------------------------------------------------------------------------------------------
def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _figure(w: float, h: float, dpi: int) -> tuple[Any, Any, dict[str, Any], bool]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = cjk_font()
    fig = Figure(figsize=(w, h), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(), ({"fontfamily": font} if font else {}), bool(font)


def fitout_chart_png(summary: Sequence[Mapping[str, Any]], *, dpi: int = 110) -> bytes | None:
    """Bars of the pooled fit-out rate [%] per level and carrier with the required rate marked; None when no
    review computed fit-out rates."""
    rows = [r for r in summary if r["rate_pct"] is not None]
    if not rows:
        return None
    fig, ax, kw, zh = _figure(8.0, 0.34 * len(rows) + 1.4, dpi)
    y = list(range(len(rows)))[::-1]
    ax.barh(y, [r["rate_pct"] for r in rows], color=["#2171b5" if r["passed"] == r["enterprises"] else "#d94801"
                                                      for r in rows])
    need = [(yy, r["required_rate_pct"]) for yy, r in zip(y, rows, strict=True) if r["required_rate_pct"] is not None]
    if need:
        ax.plot([v for _, v in need], [yy for yy, _ in need], "k|", markersize=18, markeredgewidth=2.5)
    ax.set_title("条: 合计配备率 (蓝 = 全部企业达标); 竖线: 要求配备率 / bar: pooled rate (blue = every enterprise "
                 "meets it); tick: required rate" if zh else "bar: pooled rate (blue = every enterprise meets it); "
                 "tick: required rate", fontsize=8, **kw)
    ax.set_yticks(y, [f"{r['level']} · {r['carrier']}" for r in rows], fontsize=7)
    ax.set_xlim(0, 105)
    ax.set_xlabel("配备率 / fit-out rate [%]" if zh else "fit-out rate [%]", **kw)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def _int_locator() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def problems_chart_png(problems: Sequence[Mapping[str, Any]], *, dpi: int = 110) -> bytes | None:
    """Horizontal bars of the findings per problem (rule), most frequent on top; None without problems."""
    if not problems:
        return None
    fig, ax, kw, zh = _figure(8.0, 0.32 * len(problems) + 1.2, dpi)
    y = list(range(len(problems)))[::-1]
    colours = {"critical": "#b30000", "major": "#d94801", "minor": "#fd8d3c"}
    ax.barh(y, [p["findings"] for p in problems], color=[colours.get(p["severity"], "#969696") for p in problems])
    ax.set_yticks(y, [f"{p['rule_id']} {label_of(p['check']).label_zh if zh else label_of(p['check']).label_en}"
                      for p in problems], fontsize=7, **kw)
    ax.xaxis.set_major_locator(_int_locator())
    ax.set_xlabel("发现数 / findings" if zh else "findings", **kw)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def enterprise_chart_png(rows: Sequence[Mapping[str, Any]], *, dpi: int = 110) -> bytes | None:
    """Stacked bars of the instruments with a finding per section, per enterprise (the
    :data:`CHART_ENTERPRISES` with the most findings); None when nothing was found."""
    ok = sorted((r for r in rows if r["reviewed"] and r["findings"]), key=lambda r: (-r["findings"], r["enterprise"]))
    ok = ok[:CHART_ENTERPRISES]
    if not ok:
        return None
    fig, ax, kw, zh = _figure(8.0, 0.28 * len(ok) + 1.6, dpi)
    y = list(range(len(ok)))[::-1]
    left = [0.0] * len(ok)
    palette = ["#6a51a3", "#2171b5", "#d94801", "#b30000", "#238b45", "#969696"]
    for colour, (cat, (t_zh, t_en)) in zip(palette, CATEGORIES.items(), strict=True):
        vals = [float(r[f"{cat}_instruments"]) for r in ok]
        if any(vals):
            ax.barh(y, vals, left=left, color=colour, label=t_zh if zh else t_en)
            left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_yticks(y, [r["enterprise"] for r in ok], fontsize=7)
    ax.xaxis.set_major_locator(_int_locator())
    ax.set_xlabel("有发现的器具数 / instruments with a finding" if zh else "instruments with a finding", **kw)
    ax.legend(fontsize=7, loc="lower right", prop={"family": kw["fontfamily"]} if kw else None)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def tier_chart_png(tiers: Sequence[Mapping[str, Any]], *, dpi: int = 110) -> bytes | None:
    """Bars of the account streams per achieved tier; None when tiers were not computed."""
    if not tiers:
        return None
    fig, ax, kw, zh = _figure(6.0, 3.0, dpi)
    ax.bar([str(t["tier"]) for t in tiers], [t["streams"] for t in tiers], color="#2171b5")
    ax.set_xlabel("达到的层级 (0 = 低于层级 1) / tier achieved (0 = below tier 1)" if zh else
                  "tier achieved (0 = below tier 1)", **kw)
    ax.set_ylabel("排放源流数 / streams" if zh else "streams", **kw)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


# --- HTML and workbook -----------------------------------------------------------------------------------------
def _context(data: CapabilityData) -> dict[str, Any]:
    rows = enterprise_rows(data)
    problems = [p.to_dict() | {"label": label_of(p.check)} for p in data.campaign.problems]
    fo = fitout_summary(data)
    tiers = tier_summary(data)
    return {"rows": rows, "problems": problems, "fitout": fo, "tiers": tiers, "gaps": gap_list(data),
            "indicators": indicators(data, rows), "totals": data.campaign.totals()}


def render_capability_html(data: CapabilityData, *, stamp: Stamp) -> str:
    """The capability report as one self-contained HTML page (zh-CN first): summary figures, fit-out rates with a
    chart, accuracy, calibration and traceability per enterprise with a chart, achieved tiers (when computed),
    the top problems with counts, a chart and the rules' recommendations, the gap list per enterprise, the
    enterprises not reviewed, then the stamp."""
    ctx = _context(data)
    c = data.campaign
    return str(_env().get_template("capability.html.j2").render(
        title_zh=CAPABILITY_TITLE_ZH, title_en=CAPABILITY_TITLE_EN, stamp=stamp, c=c, data=data,
        categories=CATEGORIES, labels=check_labels(),
        fitout_chart=_b64(fitout_chart_png(ctx["fitout"])), problems_chart=_b64(problems_chart_png(ctx["problems"])),
        enterprise_chart=_b64(enterprise_chart_png(ctx["rows"])), tier_chart=_b64(tier_chart_png(ctx["tiers"])),
        chart_enterprises=CHART_ENTERPRISES, **ctx))


def _cell(v: Any) -> Any:
    if isinstance(v, str):
        return spreadsheet_text(v)
    if isinstance(v, list | tuple | dict):
        return spreadsheet_text(", ".join(map(str, v)) if not isinstance(v, dict) else
                                "; ".join(f"{k} {x}" for k, x in v.items()))
    return v


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]],
           widths: Mapping[str, float] | None = None) -> Worksheet:
    ws: Worksheet = wb.create_sheet(title)
    ws.append(header)
    for r in rows:
        ws.append([_cell(v) for v in r])
    ws.freeze_panes = "A2"
    for col, w in (widths or {}).items():
        ws.column_dimensions[col].width = w
    return ws


def _bar(ws: Worksheet, title: str, cats_col: int, val_cols: Sequence[int], n: int, anchor: str,
         y_title: str) -> None:
    if n == 0:
        return
    ch = BarChart()
    ch.type = "bar"
    ch.title = title
    ch.y_axis.title = y_title
    ch.height = max(6.0, 0.5 * n + 3)
    ch.width = 18
    for c in val_cols:
        ch.add_data(Reference(ws, min_col=c, min_row=1, max_row=n + 1), titles_from_data=True)
    ch.set_categories(Reference(ws, min_col=cats_col, min_row=2, max_row=n + 1))
    ws.add_chart(ch, anchor)


ENTERPRISE_HEADER = ["企业 enterprise", "名称 name", "已审查 reviewed", "在用器具 instruments", "不符合项 non-conformities",
                     "critical", "major", "minor", "观察项 observations (info)", "准确度问题器具 accuracy instruments",
                     "准确度符合率 accuracy compliance %", "检定校准问题器具 calibration instruments",
                     "检定校准合格率 calibration compliance %", "超期 overdue", "无证书 never certified",
                     "仅校准 calibrated not verified", "检定不合格 does not conform", "溯源缺口 traceability gaps",
                     "配备率评估项 fit-out items", "配备率未达标 fit-out below rate", "错误 error"]


def write_capability_xlsx(data: CapabilityData, path: str | Path, *, stamp: Stamp) -> Path:
    """The capability report as a workbook: 汇总 Overview (headline figures), 配备率 Fit-out (pooled, with a bar
    chart) and 配备率明细 by enterprise, 企业 Enterprises (one row each), 主要问题 Problems (with a bar chart and the
    recommendations), 差距清单 Gaps (one row per enterprise and gap), 层级 Tiers (when computed), 发现 Findings
    (every finding with its evidence), 说明 About (sections of the checks, rule files) and 报告标识 stamp. The same
    data and stamp give the same bytes (dated the review date)."""
    ctx = _context(data)
    c = data.campaign
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    _sheet(wb, "汇总 Overview", ["指标", "indicator", "值 value"],
           [[zh, en, v] for zh, en, v in ctx["indicators"]] + [[], ["审查日期", "review date", c.on.isoformat()],
                                                              ["审查方案", "profile", f"{c.profile}@{c.profile_version}"]],
           {"A": 30, "B": 46, "C": 24})
    fo = ctx["fitout"]
    ws = _sheet(wb, "配备率 Fit-out", ["级别·能源 level·carrier", "企业数 enterprises", "达标企业 passed",
                                      "应配点 required points", "已配点 equipped points", "配备率 rate %",
                                      "要求 required rate %", "结论分布 verdicts"],
                [[f"{r['level']} · {r['carrier']}", r["enterprises"], r["passed"], r["required_points"],
                  r["equipped_points"], r["rate_pct"], r["required_rate_pct"], r["verdicts"]] for r in fo],
                {"A": 28})
    _bar(ws, "配备率 fit-out rate %", 1, [6, 7], len(fo), "J2", "%")
    _sheet(wb, "配备率明细 Fit-out by enterprise", ["企业 enterprise", *FITOUT_FIELDS],
           [[e, *(r[k] for k in FITOUT_FIELDS)] for e, res in c.results.items() for r in fitout_rows(res)])
    rows = ctx["rows"]
    _sheet(wb, "企业 Enterprises", ENTERPRISE_HEADER,
           [[r["enterprise"], r["name"], "是 yes" if r["reviewed"] else "否 no", r["instruments"], r["findings"],
             r["critical"], r["major"], r["minor"], r["observations"], r["accuracy_instruments"],
             r["accuracy_compliance_pct"], r["calibration_instruments"], r["calibration_compliance_pct"],
             r["overdue"], r["never_certified"], r["calibrated_not_verified"], r["does_not_conform"],
             r["traceability_oot"], r["fitout_items"], r["fitout_below"], r["error"]] for r in rows])
    pr = ctx["problems"]
    ws = _sheet(wb, "主要问题 Problems", ["规则 rule", "发现数 findings", "器具数 instruments", "企业数 enterprises",
                                       "问题 problem", "problem", "级别 severity", "条款 clause", "证据 evidence",
                                       "建议 recommendation"],
                [[p["rule_id"], p["findings"], p["instruments"], p["enterprises"], p["label"].label_zh,
                  p["label"].label_en, p["severity"], p["clause"], p["evidence"], p["recommendation"]] for p in pr],
                {"E": 24, "F": 30, "H": 36, "J": 60})
    _bar(ws, "主要问题 top problems", 1, [2], len(pr), "L2", "发现数 findings")
    _sheet(wb, "差距清单 Gaps", ["企业 enterprise", "名称 name", "类型 kind", "规则/项目 rule or item", "问题 problem",
                                 "级别 severity", "条款 clause", "数量 count", "器具 instruments", "建议 recommendation"],
           [[g["enterprise"], g["name"], i["kind"], i["rule_id"], f"{i['label'].label_zh} / {i['label'].label_en}",
             i["severity"], i["clause"], i["findings"], i["instruments_text"], i["recommendation"]]
            for g in ctx["gaps"] for i in g["items"]], {"E": 30, "I": 40, "J": 60})
    if data.tiers is not None:
        _sheet(wb, "层级 Tiers", ["企业 enterprise", "源流 stream", "层级 tier", "U_rel %", "层级阈值 threshold %",
                                  "说明 note"],
               [[e, s.get("stream"), s.get("tier"), s.get("U_rel_pct"), s.get("threshold_pct"), ""]
                for e, ss in sorted(data.tiers.items()) for s in ss]
               + [[e, "", None, None, None, err] for e, err in sorted(data.tier_errors.items())])
    _sheet(wb, "发现 Findings", ["企业 enterprise", "器具 instrument", "计量点 point", "级别 severity", "规则 rule",
                                 "检查 check", "证书 certificate", "标准 standard", "条款 clause", "证据 evidence",
                                 "发现 finding", "建议 recommendation"],
           [[e, f.instrument, f.point, f.severity, f.rule_id, f.check, f.certificate, f.standard, f.clause, f.evidence,
             f.message, f.recommendation] for e, res in c.results.items() for f in res.findings])
    _sheet(wb, "说明 About", ["检查 check", "部分 section", "问题", "problem", "依据 source", "证据 evidence"],
           [[lb.check, lb.category, lb.label_zh, lb.label_en, lb.source, lb.evidence] for lb in check_labels().values()]
           + [[], ["规则文件 rule files", ", ".join(c.rule_files)],
              ["份额口径 shares", "占审查在用器具 of the in-service instruments reviewed"]])
    _sheet(wb, "报告标识 stamp", ["键 key", "值 value"], [[k, v] for k, v in stamp.to_dict().items()],
           {"A": 24, "B": 80})
    on = c.on
    return save_workbook(wb, path, datetime(on.year, on.month, on.day))
