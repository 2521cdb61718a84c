"""A small monitoring plan and deposit files for the deposit tests (no registry needed: the deposits package
checks against the plan only)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from carbonmet.sites import MonitoringPlan, PlanChangeRow, PlanHeader, PlanParameterRow


def row(**kw: object) -> PlanParameterRow:
    base: dict[str, object] = {"site_code": "S1", "emission_source": "boiler", "source_stream": "boiler_coal",
                               "parameter": "activity_data", "unit": "t", "source": "point", "ref": "E01.BOILER_COAL",
                               "method": "belt scale", "frequency": "continuous", "instruments": ("BS-1",),
                               "responsible": "计量室"}
    base.update(kw)
    return PlanParameterRow.model_validate(base)


PLAN = MonitoringPlan(
    PlanHeader(enterprise="E01", version=1, valid_from=date(2025, 1, 1)),
    (
        row(),
        row(parameter="carbon_content", unit="%", source="lab", ref="E01.BOILER_COAL.LAB", frequency="per_batch",
            instruments=("CA-1",), responsible="化验室"),
        row(parameter="ncv", unit="MJ/kg", source="lab", ref="E01.BOILER_COAL.LAB", frequency="per_batch",
            instruments=("CAL-1",), responsible="化验室"),
        row(parameter="oxidation_rate", unit="%", source="default", ref="GB/T 32151.10-2023/oxidation_rate/coal",
            method=None, frequency="yearly", instruments=(), responsible="管理员"),
        row(source_stream="natural_gas", unit="Nm3", ref="E01.NG", instruments=("FM-1",)),
        row(source_stream="natural_gas", parameter="carbon_content", unit="kg/Nm3", source="lab", ref="E01.NG.LAB",
            frequency="monthly", instruments=("GC-1",), responsible="C01"),
        row(source_stream="boiler_stack_1", parameter="concentration", unit="%", ref="E01.STACK1.CO2",
            instruments=("CEMS-1",)),
        # a stream that starts in July: not depositable before
        row(source_stream="purchased_steam", unit="t", ref="E01.STEAM", instruments=("SM-1",),
            valid_from=date(2025, 7, 1)),
    ),
    (PlanChangeRow(version=1, changed_on=date(2024, 12, 15), by="管理员", reason="first issue"),),
)

COLUMNS = ("source_stream", "parameter", "value", "unit", "evidence", "evidence_kind", "note", "reason")


def write_deposit(d: Path, rows: list[dict[str, object]], name: str = "E01-2025-03.csv",
                  evidence: dict[str, bytes] | None = None, columns: tuple[str, ...] = COLUMNS) -> Path:
    """A deposit CSV in ``d`` with ``rows`` and the evidence files named in ``evidence`` (relative paths)."""
    d.mkdir(parents=True, exist_ok=True)
    for rel, data in (evidence or {}).items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    path = d / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r[c] for c in columns])
    return path


EVIDENCE = {"ledger/coal-2025-03.txt": b"belt scale ledger March 2025: 52956.690 t\n",
            "lab/coal-2025-03.txt": b"monthly lab summary: C 60.66 %, NCV 23.10 MJ/kg\n",
            "lab/ng-2025-03.txt": b"natural gas composite: C 0.5916 kg/Nm3\n"}


def good_rows(coal_t: float = 52956.69) -> list[dict[str, object]]:
    return [
        {"source_stream": "boiler_coal", "parameter": "activity_data", "value": coal_t, "unit": "t",
         "evidence": "ledger/coal-2025-03.txt", "evidence_kind": "ledger"},
        {"source_stream": "boiler_coal", "parameter": "carbon_content", "value": 60.66, "unit": "%",
         "evidence": "lab/coal-2025-03.txt", "evidence_kind": "lab_report"},
        {"source_stream": "boiler_coal", "parameter": "ncv", "value": 23.10, "unit": "MJ/kg",
         "evidence": "lab/coal-2025-03.txt", "evidence_kind": "lab_report", "note": "月度加权 monthly weighted"},
        {"source_stream": "natural_gas", "parameter": "carbon_content", "value": 0.5916, "unit": "kg/Nm3",
         "evidence": "lab/ng-2025-03.txt;ledger/coal-2025-03.txt", "evidence_kind": "lab_report;other"},
    ]
