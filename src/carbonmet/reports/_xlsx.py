"""The pilot report as a workbook (试点报告 XLSX): 说明 Method, 汇总 Summary, 月度 Monthly, 碳平衡 Balance, QA (if
given), 发现 Findings. Same input → same bytes (fixed document dates and zip timestamps)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from carbonmet.cems import rules
from carbonmet.quantities.rules import spreadsheet_text
from carbonmet.tabular import save_workbook

from ._data import PilotData, PilotEnterprise
from ._findings import pilot_findings, qa_rows
from ._tables import method_sections


def _cell(v: Any) -> Any:
    if isinstance(v, str):
        return spreadsheet_text(v)
    if isinstance(v, list | dict | tuple):
        return spreadsheet_text(json.dumps(v, ensure_ascii=False, sort_keys=True))
    return v


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]], widths: dict[str, float] | None = None
           ) -> Worksheet:
    ws: Worksheet = wb.create_sheet(title)
    ws.append(header)
    for r in rows:
        ws.append([_cell(v) for v in r])
    ws.freeze_panes = "A2"
    for col, w in (widths or {}).items():
        ws.column_dimensions[col].width = w
    return ws


def _yes(b: Any) -> str:
    return "是 yes" if b else "否 no"


def bias_summary(e: PilotEnterprise) -> str:
    """One line on the systematic-bias test of ``e``'s balance (also used by the HTML page)."""
    t = (e.balance or {}).get("systematic_bias_test")
    if not t:
        return "无碳平衡 / no balance"
    if not t.get("detected"):
        return f"未发现超出证书的计量偏差 / no meter beyond its certificate (p = {t['p']:.3g})"
    if t.get("named"):
        return f"计量偏差 / meter bias: {t['named']} (p = {t['p']:.3g})"
    return f"无法区分的候选 / candidates not separable: {', '.join(t.get('candidates') or [])} (p = {t['p']:.3g})"


def summary_rows(data: PilotData) -> list[list[Any]]:
    """One row per enterprise (the 汇总 Summary sheet; the HTML results table shows the same columns)."""
    k = data.k
    out = []
    for e in data.enterprises:
        c, y = e.comparison, e.year_row
        an = (e.balance or {}).get("annual") or {}
        st = c.get("stability") or {}
        out.append([e.enterprise, y["cems"], k * y["u_cems"], y["accounting"], k * y["u_accounting"], y["difference"],
                    y["relative_deviation_pct"], k * y["u_difference"], y["En"], y["En_naive"], c["verdict"],
                    _yes(c["flagged"]), "; ".join(c.get("suspects") or []), c.get("measured_parameter_share"),
                    st.get("p"), st.get("change_over_year_pct"), an.get("p"),
                    None if not an else _yes(an.get("passed")), bias_summary(e)])
    return out


SUMMARY_HEADER = ["企业 enterprise", "CEMS tCO2", "U CEMS tCO2", "核算 accounting tCO2", "U 核算 tCO2", "差值 D tCO2",
                  "相对偏差 D/E核算 %", "U(D) tCO2", "E_n", "E_n 朴素 naive", "结论 verdict", "标记 flagged",
                  "指向器具 suspects", "实测率 measured-parameter share", "稳定性 p stability", "年内变化 change %",
                  "碳平衡 p balance", "平衡通过 balance passed", "系统偏差 systematic bias"]


def write_pilot_xlsx(data: PilotData, path: str | Path, *, stamp: Mapping[str, str] | None = None) -> Path:
    """Write the pilot report workbook to ``path`` and return the path.

    Sheets: 说明 Method (method text with references, then the substitution rule set's bands), 汇总 Summary (one
    row per enterprise: CEMS, accounting, U = k·u, D, D/E_acc [%], E_n, verdict, flagged, suspects,
    measured-parameter share, stability, balance p, systematic-bias finding), 月度 Monthly (per enterprise and
    month, with the reconciled figure when there is a balance), 碳平衡 Balance (flows raw and reconciled [tC]),
    核查比对 Verified (only when an enterprise has a verified account), QA (only when ``data.qa``), 发现
    Findings. Text cells are spreadsheet-safe; emissions are written as the comparison gives them [tCO2],
    unrounded. ``stamp`` (``Stamp.to_dict()`` of :func:`pilot_stamp`) adds a last
    sheet 报告标识 stamp. The same ``data`` and stamp give the same bytes.
    """
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    k = data.k
    method = [[m.title_zh, m.title_en, m.zh, m.en, m.reference] for m in method_sections(data.rule_set, k)]
    method.append([])
    method.append(["替代规则集", f"Substitution rule set {data.rule_set}", "有效率区间 availability · 缺失时长 gap (h) · 方法 method",
                   "bands", "条款 clause · 来源 source [证据 evidence]"])
    for band in rules(data.rule_set):
        method.append(["", "", f"[{band.availability_min:g}, {band.availability_max:g}) · ({band.gap_min_h:g}, {band.gap_max_h:g}] h",
                       f"{band.method}" + (f" p{band.percentile:g}" if band.percentile is not None else "")
                       + (f", look-back {band.lookback_h} h" if band.lookback_h else ""),
                       f"{band.clause} · {band.source} [{band.evidence}]"])
    _sheet(wb, "说明 Method", ["节 section", "section", "说明 (中文)", "text (English)", "依据 reference"], method,
           {"A": 16, "B": 22, "C": 70, "D": 70, "E": 40})
    _sheet(wb, "汇总 Summary", SUMMARY_HEADER, summary_rows(data), {"A": 10, "K": 30, "S": 50})
    monthly = []
    for e in data.enterprises:
        tw = {r["period"]: r for r in (e.three_way or {}).get("periods", [])}
        for r in e.months:
            w = tw.get(r["period"], {})
            monthly.append([e.enterprise, r["period"], r["cems"], r["u_cems"], r["accounting"], r["u_accounting"],
                            r["difference"], r["relative_deviation_pct"], r["u_difference"], r["En"], r["En_naive"],
                            _yes(r["consistent"]), w.get("reconciled"), w.get("u_reconciled"), w.get("balance_p"),
                            None if not w else _yes(w.get("balance_passed"))])
    _sheet(wb, "月度 Monthly", ["企业 enterprise", "期间 period", "CEMS tCO2", "u CEMS", "核算 accounting tCO2",
                                "u 核算", "差值 D tCO2", "相对偏差 %", "u(D)", "E_n", "E_n 朴素 naive", "一致 consistent",
                                "协调值 reconciled tCO2", "u 协调", "平衡 p", "平衡通过 passed"], monthly)
    flows = [[e.enterprise, f["flow"], f.get("from"), f.get("to"), _yes(f.get("measured")), f.get("raw_tC"),
              f.get("raw_u_tC"), f.get("reconciled_tC"), f.get("reconciled_u_tC"), "; ".join(f.get("instruments", []))]
             for e in data.enterprises for f in (e.balance or {}).get("flows", [])]
    _sheet(wb, "碳平衡 Balance", ["企业 enterprise", "流 flow", "从 from", "到 to", "实测 measured", "实测值 raw tC",
                                  "u 实测 tC", "协调值 reconciled tC", "u 协调 tC", "器具 instruments"], flows)
    verified = [(e.enterprise, e.verified) for e in data.enterprises if e.verified]
    if verified:
        _sheet(wb, "核查比对 Verified", ["企业 enterprise", "核查记录 run", "核查人 verified by", "核查时间 at",
                                      "排放源 streams", "报告 reported tCO2", "核查后 verified tCO2", "U 核查 tCO2",
                                      "CEMS tCO2", "U CEMS tCO2", "差值 D tCO2", "U(D) tCO2", "D/E核查 %", "E_n",
                                      "结论 verdict", "取平台核算值 from the platform", "无数据 missing"],
               [[e, v["run_key"], v["verified_by"], v["verified_at"], "; ".join(v["streams"]), v["reported"],
                 v["verified"], v["U_verified"], v["cems"], v["U_cems"], v["difference"], v["U_difference"],
                 v["relative_deviation_pct"], v["En"], v["verdict"], "; ".join(v["from_platform"]),
                 "; ".join(v["missing"])] for e, v in verified])
    if data.qa:
        _sheet(wb, "QA", ["企业 enterprise", "来源 source", "计量点 point", "器具 instrument", "测试 test",
                          "参数 parameter", "值 value", "单位 unit", "通过 passed", "规则集 rule set", "条款 clause",
                          "证据 evidence"],
               [[r["enterprise"], r["source"], r["point"], r["instrument"], r["test"], r["parameter"], r["value"],
                 r["unit"], _yes(r["passed"]), r["rule_set"], r["clause"], r["evidence"]] for r in qa_rows(data.qa)])
    _sheet(wb, "发现 Findings", ["企业 enterprise", "级别 severity", "类别 kind", "位置 where", "发现", "finding",
                                 "下一步", "next step", "数值 numbers"],
           [[f.enterprise, f.severity, f.kind, f.where, f.what_zh, f.what_en, f.action_zh, f.action_en, f.numbers]
            for f in pilot_findings(data)], {"D": 30, "E": 60, "F": 60, "G": 40, "H": 40})
    if stamp is not None:
        _sheet(wb, "报告标识 stamp", ["键 key", "值 value"], [[k, v] for k, v in stamp.items()], {"A": 24, "B": 80})
    return save_workbook(wb, path, datetime(data.year, 12, 31))
