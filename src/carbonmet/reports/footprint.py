"""The product carbon footprint report (产品碳足迹报告) after ISO 14067:2018 §7 / GB/T 24067-2024: functional unit,
boundary, allocation and its sensitivity, data and their quality, results by stage, captured CO2 apart, uncertainty
— as HTML (and PDF through :func:`carbonmet.reports.render_pdf`) and as a workbook, each with the report's stamp.

Rendered from the plain dict of a footprint (``FootprintOutcome.to_dict()`` of :mod:`carbonmet.services`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from carbonmet.quantities.rules import spreadsheet_text
from carbonmet.tabular import save_workbook

from ._html import _env
from ._pdf import Stamp, code_version, data_digest

__all__ = ["FOOTPRINT_TITLE_EN", "FOOTPRINT_TITLE_ZH", "footprint_stamp", "render_footprint_html",
           "write_footprint_xlsx"]

FOOTPRINT_TITLE_ZH = "产品碳足迹报告"
FOOTPRINT_TITLE_EN = "Product carbon footprint report"


def footprint_stamp(fp: Mapping[str, Any], *, name: str = "", code: str | None = None) -> Stamp:
    """Stamp: data = digest of the footprint dict, profile = the product rule (PCR) and allocation, date = 31 Dec."""
    return Stamp(title=f"{FOOTPRINT_TITLE_ZH} {FOOTPRINT_TITLE_EN}",
                 subject=" ".join(x for x in (fp["enterprise"], name, fp["name"], str(fp["year"])) if x),
                 data_version=data_digest(fp), profile_version=f"{fp['product']} rule · {fp['allocation']}",
                 code_version=code or code_version(), generated_for=date(int(fp["year"]), 12, 31))


def render_footprint_html(fp: Mapping[str, Any], *, stamp: Stamp, name: str = "") -> str:
    """The report as one self-contained HTML page (zh-CN first, English second)."""
    stages = sorted(fp["by_stage"].items(), key=lambda kv: -kv[1])
    return str(_env().get_template("footprint.html.j2").render(
        title_zh=FOOTPRINT_TITLE_ZH, title_en=FOOTPRINT_TITLE_EN, stamp=stamp, name=name, f=fp, stages=stages,
        pact=fp.get("pact", {}).get("pcf", {})))


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(header)
    for r in rows:
        ws.append([spreadsheet_text(x) if isinstance(x, str) else x for x in r])


def write_footprint_xlsx(fp: Mapping[str, Any], path: str | Path, *, stamp: Stamp) -> Path:
    """The footprint's workbook: result, stages, inputs, budget, allocation, factors, PACT fields, stamp; the same
    footprint and stamp give the same bytes."""
    wb = Workbook()
    wb.remove(wb.active)
    lo, hi = fp["interval"]
    _sheet(wb, "结果 result", ["量 quantity", "值 value", "单位 unit"], [
        ["碳足迹 footprint", fp["value"], fp["unit"]], ["u", fp["u"], fp["unit"]],
        ["U (k=2)", fp["U"], fp["unit"]], ["区间下限 interval low", lo, fp["unit"]],
        ["区间上限 interval high", hi, fp["unit"]], ["u 仅计量 measurement only", fp["u_measurement"], fp["unit"]],
        ["捕集/回收 CO2 captured", fp["captured_co2_kg_per_kg"], "kgCO2/kg"],
        ["一次数据占比 primary data share", fp["primary_data_share"], "1"],
        ["DQI 技术/地理/时间 tech/geo/time", ";".join(str(x) for x in fp["dqi"]), "1–3"],
        ["边界 boundary", fp["boundary"], ""], ["分配 allocation", fp["allocation"], ""],
        ["产品规则 PCR", fp["pcr"], ""], ["标记 flags", ", ".join(fp["flags"]), ""]])
    _sheet(wb, "阶段 stages", ["阶段 stage", "kgCO2e/kg"], [[k, v] for k, v in sorted(fp["by_stage"].items())])
    _sheet(wb, "投入 inputs", ["投入 input", "每吨产品 per t product"],
           [[k, v] for k, v in sorted(fp["inputs_per_tonne"].items())])
    _sheet(wb, "预算 budget", ["分量 term", "说明 label", "u kgCO2e/kg", "方差占比 share"],
           [[b["term"], b["label"], b["u_contribution"], b["share"]] for b in fp["budget"]])
    _sheet(wb, "分配 allocation", ["方法 method", "kgCO2e/kg", "相对 relative", "选用 chosen", "说明 note"],
           [[r["method"], r["value"] if r["value"] == r["value"] else None,
             r["relative_to_chosen"] if r["relative_to_chosen"] == r["relative_to_chosen"] else None,
             r["chosen"], r["note"]] for r in fp["allocation_sensitivity"]])
    _sheet(wb, "因子 factors", ["投入 item", "值 value", "单位 unit", "u_rel", "来源 source", "证据 evidence"],
           [[x["item"], x["value"], x["unit"], x["u_rel"], x["source"], x["evidence"]] for x in fp["factors"]])
    pcf = fp.get("pact", {}).get("pcf", {})
    _sheet(wb, "PACT", ["字段 field", "值 value"],
           [[k, v if isinstance(v, str | bool) else str(v)] for k, v in pcf.items()])
    _sheet(wb, "报告标识 stamp", ["项 item", "值 value"], [[k, str(v)] for k, v in stamp.to_dict().items()])
    g = stamp.generated_for
    return save_workbook(wb, path, datetime(g.year, g.month, g.day))
