"""Monitoring plan (数据质量控制计划): one row model for TOML, CSV and XLSX; errors name file, row and field;
diff between versions; the enterprise model the plan describes."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from carbonmet.sites import (
    MonitoringPlan,
    PlanChangeRow,
    PlanError,
    PlanHeader,
    PlanParameterRow,
    diff,
    plan_tables,
    plan_to_toml,
    read_plan,
)


def _row(**kw: object) -> PlanParameterRow:
    base: dict[str, object] = {"site_code": "S1", "emission_source": "boiler", "source_stream": "boiler_coal",
                                   "parameter": "activity_data", "unit": "t", "source": "point", "ref": "E01.BOILER_COAL",
                                   "method": "belt scale", "frequency": "continuous", "instruments": ("BS-1",),
                                   "responsible": "计量室"}
    base.update(kw)
    return PlanParameterRow.model_validate(base)


PLAN = MonitoringPlan(
    PlanHeader(enterprise="E01", version=1, valid_from=date(2025, 1, 1), title="plan \"2025\""),
    (
        _row(),
        _row(parameter="carbon_content", unit="%", source="lab", ref="E01.BOILER_COAL.LAB", method="GB/T 30733-2014",
             frequency="per_batch", instruments=("CA-1", "CA-2"), responsible="化验室"),
        _row(parameter="oxidation_rate", unit="%", source="default", ref="GB/T 32151.10-2023/oxidation_rate/coal",
             method=None, frequency="yearly", instruments=(), responsible="管理员"),
        _row(source_stream="natural_gas", unit="Nm3", ref="E01.NG", instruments=("FM-1",), valid_to=date(2025, 7, 1)),
        _row(source_stream="natural_gas", unit="Nm3", ref="E01.NG2", instruments=("FM-2",),
             valid_from=date(2025, 7, 1)),
    ),
    (PlanChangeRow(version=1, changed_on=date(2024, 12, 15), by="管理员", reason="first issue"),),
)


def _write_csv(d: Path, plan: MonitoringPlan, edit: dict[tuple[str, int, str], str] | None = None) -> Path:
    for t, (cols, rows) in plan_tables(plan).items():
        with (d / f"E01-{t}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            for i, r in enumerate(rows):
                cells = ["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in r]
                for (tt, row, col), v in (edit or {}).items():
                    if tt == t and row == i + 2:
                        cells[cols.index(col)] = v
                w.writerow(cells)
    return d / "E01-parameters.csv"


def test_toml_csv_and_xlsx_read_the_same_plan(tmp_path: Path) -> None:
    toml = tmp_path / "E01.toml"
    toml.write_text(plan_to_toml(PLAN), encoding="utf-8")
    assert read_plan(toml) == PLAN
    assert read_plan(_write_csv(tmp_path, PLAN)) == PLAN
    assert read_plan(tmp_path / "E01-plan.csv") == PLAN  # any of the three files names the plan
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for t, (cols, rows) in plan_tables(PLAN).items():
        ws = wb.create_sheet(t)
        ws.append(cols)
        for r in rows:
            ws.append(r)
    wb.save(tmp_path / "E01.xlsx")
    assert read_plan(tmp_path / "E01.xlsx") == PLAN


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        ({("parameters", 3, "unit"): "bogus_unit"}, r"E01-parameters\.csv:3:unit"),
        ({("parameters", 2, "parameter"): "ncvv"}, r"E01-parameters\.csv:2:parameter"),
        ({("parameters", 4, "instruments"): "X-1"}, r"E01-parameters\.csv:4:row: Value error, a default value"),
        ({("parameters", 2, "frequency"): ""}, r"E01-parameters\.csv:2:frequency: Field required"),
        ({("parameters", 6, "valid_from"): "2025-06-01"}, r"E01-parameters\.csv:6:parameter: .*overlapping .*row 5"),
        ({("plan", 2, "valid_from"): "2025-13-01"}, r"E01-plan\.csv:2:valid_from"),
        ({("plan", 2, "version"): "2"}, r"changes:version: version 2 has no change-log entry"),
        ({("changes", 2, "by"): ""}, r"E01-changes\.csv:2:by: Field required"),
    ],
)
def test_bad_csv_plan_names_file_row_and_field(tmp_path: Path, edit: dict[tuple[str, int, str], str],
                                               match: str) -> None:
    with pytest.raises(PlanError, match=match):
        read_plan(_write_csv(tmp_path, PLAN, edit))


def test_bad_toml_plan_names_the_table_and_field(tmp_path: Path) -> None:
    p = tmp_path / "E01.toml"
    p.write_text(plan_to_toml(PLAN).replace('frequency = "per_batch"', 'frequency = "hourly"'), encoding="utf-8")
    with pytest.raises(PlanError, match=r"E01\.toml:parameters\[2\]:frequency: Input should be"):
        read_plan(p)
    p.write_text(plan_to_toml(PLAN).replace("[plan]", "[header]"), encoding="utf-8")
    with pytest.raises(PlanError, match=r"E01\.toml:-:plan: the plan has no plan table"):
        read_plan(p)
    p.write_text("[plan\n", encoding="utf-8")
    with pytest.raises(PlanError, match=r"E01\.toml:-:toml"):
        read_plan(p)
    with pytest.raises(PlanError, match=r"unsupported file type '\.json'"):
        read_plan(tmp_path / "E01.json")


def test_diff_lists_added_removed_and_changed_fields() -> None:
    rows = list(PLAN.parameters)
    rows[1] = rows[1].model_copy(update={"instruments": ("CA-3",), "method": "GB/T 476"})
    del rows[2]
    rows.append(_row(source_stream="flare", unit="Nm3", ref="E01.FLARE", instruments=("FM-9",)))
    new = MonitoringPlan(PLAN.header.model_copy(update={"version": 2, "valid_from": date(2025, 7, 1)}), tuple(rows),
                         PLAN.changes + (PlanChangeRow(version=2, changed_on=date(2025, 6, 20), by="管理员",
                                                       reason="carbon analyser replaced"),))
    d = diff(PLAN, new)
    assert (d.old_version, d.new_version) == (1, 2)
    assert {(f.field, f.old, f.new) for f in d.header} == {("version", 1, 2),
                                                           ("valid_from", date(2025, 1, 1), date(2025, 7, 1))}
    summary = {(c.source_stream, c.parameter): c.change for c in d.parameters}
    assert summary == {("boiler_coal", "carbon_content"): "changed", ("boiler_coal", "oxidation_rate"): "removed",
                       ("flare", "activity_data"): "added"}
    changed = next(c for c in d.parameters if c.change == "changed")
    assert {(f.field, f.old, f.new) for f in changed.fields} == {
        ("instruments", ("CA-1", "CA-2"), ("CA-3",)), ("method", "GB/T 30733-2014", "GB/T 476")}
    flat = d.rows()
    assert {"change": "changed", "source_stream": "boiler_coal", "parameter": "carbon_content",
            "field": "instruments", "old": "CA-1;CA-2", "new": "CA-3"} in flat
    assert all(set(r) == {"change", "source_stream", "parameter", "field", "old", "new"} for r in flat)
    assert not diff(PLAN, PLAN) and d
    assert diff(PLAN, replace(PLAN, parameters=PLAN.parameters[:4])).parameters[0].source_stream == "natural_gas"


def test_plan_describes_the_enterprise_model() -> None:
    ent = PLAN.model()
    assert ent.code == "E01" and [s.code for s in ent.sites] == ["S1"]
    streams = ent.streams()
    assert set(streams) == {"boiler_coal", "natural_gas"}
    kinds = {p.kind: p.source for p in streams["boiler_coal"].parameters}
    assert kinds["carbon_content"].kind == "lab" and kinds["carbon_content"].ref == "E01.BOILER_COAL.LAB"
    assert kinds["oxidation_rate"].kind == "default"
    ng = streams["natural_gas"].parameters
    assert [p.source.ref for p in ng if p.valid_on(date(2025, 3, 1))] == ["E01.NG"]
    assert [p.source.ref for p in ng if p.valid_on(date(2025, 7, 1))] == ["E01.NG2"]
    assert PLAN.point_refs() == {"E01.BOILER_COAL", "E01.NG", "E01.NG2"}
    assert PLAN.instrument_refs() == {"BS-1", "CA-1", "CA-2", "FM-1", "FM-2"}


def test_point_parameter_needs_its_instrument() -> None:
    with pytest.raises(ValueError, match="names the instrument"):
        _row(instruments=())


@pytest.mark.parametrize("name", ["e01-plan.csv", "plan.toml"])
def test_a_plan_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path, name: str) -> None:
    import tracemalloc

    from carbonmet.tabular import DEFAULT_LIMITS

    big = tmp_path / name
    with big.open("wb") as fh:  # a sparse file: over the limit, no disk space
        fh.truncate(DEFAULT_LIMITS.max_bytes + 1)
    tracemalloc.start()
    try:
        with pytest.raises(PlanError) as exc:
            read_plan(big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [p] = exc.value.problems
    assert p.field == "limit" and str(big) in str(exc.value) and f"limit of {DEFAULT_LIMITS.max_bytes}" in p.reason
    assert peak < 8 * 2**20
