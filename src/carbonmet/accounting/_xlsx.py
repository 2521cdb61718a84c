"""The account as a workbook laid out like the guideline's reporting tables, with uncertainty columns added
(核算报告表): 汇总 summary, 活动数据 activity data, 排放因子 factors, 不确定度 budget, 改进 improve, 标记 flags,
监测计划执行 control plan. Same account → same bytes (fixed document dates and zip timestamps)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from carbonmet.quantities.rules import spreadsheet_text
from carbonmet.tabular import save_workbook

from ._account import Account


def _cell(v: Any) -> Any:
    if isinstance(v, str):
        return spreadsheet_text(v)
    if isinstance(v, list | dict):
        return spreadsheet_text(json.dumps(v, ensure_ascii=False, sort_keys=True))
    return v


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(header)
    for r in rows:
        ws.append([_cell(v) for v in r])


def write_xlsx(acc: Account, path: str | Path, *, stamp: Mapping[str, str] | None = None) -> Path:
    """Write ``acc`` as an XLSX workbook to ``path`` (text cells spreadsheet-safe) and return the path.

    ``stamp`` (what produced a report: data, profile and code versions, date; ``carbonmet.reports``) is written
    as a last sheet 报告标识 stamp when given.
    """
    d = acc.to_dict()
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    t = d["total"]
    _sheet(wb, "汇总 summary", ["项目 item", "排放量 tCO2", "u tCO2", "U tCO2", "k", "区间下限 low", "区间上限 high"], [
        ["排放总量 total", t["value"], t["u"], t["U"], t["k"], t["interval"][0], t["interval"][1]],
        ["直接排放 direct", d["direct"]["value"], d["direct"]["u"], None, None, None, None],
        ["间接排放 indirect", d["indirect"]["value"], d["indirect"]["u"], None, None, None, None],
        *[[f"{s['name']} ({s['kind']})", s["emissions"]["value"], s["emissions"]["u"], s["emissions"]["U"], None,
           None, None] for s in d["streams"]],
    ])
    act_rows = []
    for s in d["streams"]:
        a = s["activity"]
        if "items" in a:
            for name, it in a["items"].items():
                act_rows.append([s["name"], name, it.get("role"), it.get("amount"), it.get("unit"), it.get("U_rel_pct"),
                                 (s["tier"].get("items", {}).get(name) or {}).get("tier"), it.get("point")])
        else:
            act_rows.append([s["name"], s["name"], s["kind"], a.get("value"), a.get("unit"), a.get("U_rel_pct"),
                             s["tier"].get("tier"), a.get("point")])
    _sheet(wb, "活动数据 activity", ["源流 stream", "项 item", "类别 role", "数量 amount", "单位 unit", "U_rel %",
                                     "层级 tier", "计量点 point"], act_rows)
    _sheet(wb, "排放因子 factors", ["源流 stream", "参数 parameter", "值 value"],
           [[s["name"], k, v] for s in d["streams"] for k, v in sorted(s["factor"].items())])
    _sheet(wb, "数据来源 sources", ["源流 stream", "参数 parameter", "来源 source", "优先级 priority", "引用 ref", "理由 reason"],
           [[s["name"], p, x.get("source"), x.get("priority"), x.get("ref") or x.get("point") or x.get("instrument"),
             x.get("reason")] for s in d["streams"] for p, x in sorted(s["data_source"].items())])
    _sheet(wb, "不确定度 budget", ["分量 term", "类别 kind", "说明 label", "u_rel", "分布 distribution", "灵敏度 tCO2",
                                   "u 贡献 tCO2", "方差占比 share", "器具 instruments", "证书 certificates", "证据 evidence"],
           [[b["term"], b["kind"], b["label"], b["u_rel"], b["distribution"], b["sensitivity_t"],
             b["u_contribution_t"], b["variance_share"], ";".join(b["instruments"]), ";".join(b["certificates"]),
             b["evidence"]] for b in d["budget"]])
    _sheet(wb, "改进 improve", ["分量 term", "措施 action", "当前 U tCO2", "改进后 U tCO2", "降低 %"],
           [[i["term"], i["action"], i["U_now_t"], i["U_after_t"], i["reduction_pct"]] for i in d["improve"]])
    _sheet(wb, "标记 flags", ["源流 stream", "类别 kind", "器具 instrument", "说明 message"],
           [[f.get("stream"), f.get("kind"), f.get("instrument"), f.get("message")] for f in d["flags"]])
    _sheet(wb, "监测计划执行 control plan", ["源流 stream", "参数 parameter", "计划 planned", "引用 ref", "频次 frequency",
                                            "实际 achieved", "明细 detail"],
           [[c.get("source_stream"), c.get("parameter"), c.get("planned"), c.get("ref"), c.get("frequency"),
             c.get("achieved"), {k: v for k, v in c.items() if k not in ("source_stream", "parameter", "planned", "ref",
                                                                            "frequency", "achieved")}]
            for c in d["control_plan"]])
    _sheet(wb, "溯源 provenance", ["键 key", "值 value"], [[k, v] for k, v in sorted(d["provenance"].items())])
    if stamp is not None:
        _sheet(wb, "报告标识 stamp", ["键 key", "值 value"], [[k, v] for k, v in stamp.items()])
    return save_workbook(wb, path, datetime(acc.year, 12, 31))
