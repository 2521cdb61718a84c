"""Verification (碳核查) on small hand-built inputs: one enterprise, two streams, a year of monthly figures.

Boiler coal: 10 000 t a month measured by a belt scale (U 0.5 %), carbon content by the lab, one lot sample per
month; electricity: 1 000 MWh a month (U 1 %), the grid factor. The clean report says exactly that; every test
changes one thing and expects one finding (or one error naming file, row and field).
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from carbonmet.accounting import Account, StreamCalc
from carbonmet.lab import LabResult
from carbonmet.review import (
    REPORT_COLUMNS,
    ReportFileError,
    ReportRow,
    ReviewError,
    RuleFileError,
    VerificationResult,
    load_verify_rules,
    read_report,
    verify_account,
)
from carbonmet.sites import MonitoringPlan, PlanHeader, PlanParameterRow

TZ = ZoneInfo("Asia/Shanghai")
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
COAL_T, ELEC_MWH, C_PCT = 10_000.0, 1_000.0, 60.0


def _account(coal: list[float] | None = None) -> Account:
    coal = coal or [COAL_T] * 12
    streams = [
        StreamCalc("boiler_coal", "fuel_combustion", activity={
            "value": sum(coal), "unit": "t", "U_rel_pct": 0.5,
            "periods": [{"period": p, "value": v} for p, v in zip(MONTHS, coal, strict=True)]}),
        StreamCalc("purchased_electricity", "purchased_electricity", scope="indirect", activity={
            "value": 12 * ELEC_MWH, "unit": "MWh", "U_rel_pct": 1.0,
            "periods": [{"period": p, "value": ELEC_MWH} for p in MONTHS]}),
    ]
    return Account("E01", 2025, "test", MONTHS, streams, {})


def _plan() -> MonitoringPlan:
    common = {"site_code": "E01-S1", "emission_source": "boiler", "responsible": "能源管理员"}
    rows = [
        PlanParameterRow(source_stream="boiler_coal", parameter="activity_data", unit="t", source="point",
                         ref="E01.BOILER_COAL", frequency="continuous", instruments=("E01-I0004",),
                         **common),
        PlanParameterRow(source_stream="boiler_coal", parameter="carbon_content", unit="%", source="lab",
                         ref="E01.BOILER_COAL.LAB", frequency="per_batch", **common),
    ]
    return MonitoringPlan(PlanHeader(enterprise="E01", version=1, valid_from=date(2025, 1, 1)), tuple(rows))


def _lab() -> list[LabResult]:
    out = []
    for m in range(1, 13):
        start = datetime(2025, m, 1, tzinfo=TZ)
        end = datetime(2025 + (m == 12), m % 12 + 1, 1, tzinfo=TZ)
        out.append(LabResult(f"S{m:02d}", "E01.BOILER_COAL.LAB", "E01", start, end, "carbon_content", C_PCT, "%",
                             0.5, 2.0, "E01", "E01-I0059", "GB/T 30733-2014", f"R{m:02d}"))
    return out


def _rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for m, p in enumerate(MONTHS, start=1):
        rows.append({"enterprise": "E01", "period": p, "stream": "boiler_coal", "amount": COAL_T, "unit": "t",
                     "carbon_content": C_PCT, "carbon_content_unit": "%", "carbon_content_source": "lab",
                     "carbon_samples": f"S{m:02d}", "oxidation_rate": 98.0, "oxidation_rate_source": "default"})
        rows.append({"enterprise": "E01", "period": p, "stream": "purchased_electricity", "amount": ELEC_MWH,
                     "unit": "MWh", "emission_factor": 0.5703, "emission_factor_unit": "tCO2/MWh",
                     "emission_factor_source": "default"})
    return rows


def _write(path: Path, rows: list[dict[str, Any]], *, fix_emissions: bool = True,
           columns: tuple[str, ...] = REPORT_COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            if fix_emissions:
                r = {**r, "emissions_tco2": 0.0}
                r["emissions_tco2"] = round(ReportRow.model_validate(r).computed_emissions(), 3)
            cells = ReportRow.model_validate(r).cells() if fix_emissions else [r.get(c, "") for c in columns]
            w.writerow([c for c, name in zip(cells, REPORT_COLUMNS, strict=True) if name in columns]
                       if fix_emissions else cells)
    return path


def _verify(tmp_path: Path, rows: list[dict[str, Any]], **kw: Any) -> VerificationResult:
    report = read_report(_write(tmp_path / "E01.csv", rows))
    return verify_account(report, kw.pop("account", _account()), _plan(), kw.pop("lab", _lab()), **kw)


def _checks(res: VerificationResult) -> set[tuple[str, str, str]]:
    return {(f.check, f.stream, f.period) for f in res.findings if f.severity != "info"}


def test_a_clean_report_gives_no_finding_and_a_verified_account_equal_to_it(tmp_path: Path) -> None:
    res = _verify(tmp_path, _rows())
    assert res.findings == []
    coal = next(s for s in res.streams if s.stream == "boiler_coal")
    expected = 12 * COAL_T * C_PCT / 100 * 44.0095 / 12.011 * 0.98
    np.testing.assert_allclose([coal.reported_tco2, coal.verified_tco2], [expected, expected], rtol=1e-6)
    assert coal.verdict == "pass" and res.total is not None and res.total.verdict == "pass"
    assert res.materiality["total_pct"] == 5.0 and res.materiality["stream_pct"] == 2.0


def test_a_month_of_fuel_under_reported_is_found_in_that_month(tmp_path: Path) -> None:
    rows = _rows()
    rows[2 * 4]["amount"] = COAL_T * 0.9  # May, −10 %
    res = _verify(tmp_path, rows)
    assert _checks(res) == {("activity_month", "boiler_coal", "2025-05")}
    f = res.findings[0]
    assert f.rule_id == "VER-ACT-01" and f.report_row == 10 and "fail" in f.evidence and "-10.00 %" in f.message
    coal = next(s for s in res.streams if s.stream == "boiler_coal")
    assert coal.verified_amount == pytest.approx(12 * COAL_T) and coal.difference_pct == pytest.approx(-10 / 12)


def test_a_difference_within_the_uncertainty_or_below_the_threshold_is_no_finding(tmp_path: Path) -> None:
    rows = _rows()
    rows[0]["amount"] = COAL_T * 0.97  # −3 %: beyond U (0.5 %) but below the 5 % monthly threshold
    assert _checks(_verify(tmp_path, rows)) == set()


def test_a_default_used_where_the_plan_says_lab_is_found(tmp_path: Path) -> None:
    rows = _rows()
    rows[2 * 5].update(carbon_content=58.0, carbon_content_source="default", carbon_samples="")
    assert _checks(_verify(tmp_path, rows)) == {("default_where_measured", "boiler_coal", "2025-06")}


def test_a_sample_id_cited_for_another_month_is_found_only_where_it_does_not_belong(tmp_path: Path) -> None:
    rows = _rows()
    rows[2 * 7]["carbon_samples"] = "S08;S02"  # August cites February's sample too
    res = _verify(tmp_path, rows)
    assert _checks(res) == {("reused_sample", "boiler_coal", "2025-08")}
    assert "S02" in res.findings[0].message


def test_without_lab_records_the_second_citation_of_a_sample_is_the_finding(tmp_path: Path) -> None:
    rows = _rows()
    rows[2 * 7]["carbon_samples"] = "S08;S02"
    assert _checks(_verify(tmp_path, rows, lab=[])) == {("reused_sample", "boiler_coal", "2025-08")}


def test_a_cited_sample_missing_from_the_lab_records_is_found(tmp_path: Path) -> None:
    rows = _rows()
    rows[2 * 2]["carbon_samples"] = "S03;S99"
    assert _checks(_verify(tmp_path, rows)) == {("unknown_sample", "boiler_coal", "2025-03")}


def test_a_measured_parameter_without_samples_is_an_unanalysed_lot(tmp_path: Path) -> None:
    rows = _rows()
    rows[2 * 3]["carbon_samples"] = ""
    assert _checks(_verify(tmp_path, rows)) == {("unanalysed", "boiler_coal", "2025-04")}


def test_a_missing_month_is_found(tmp_path: Path) -> None:
    rows = [r for r in _rows() if not (r["stream"] == "boiler_coal" and r["period"] == "2025-09")]
    assert _checks(_verify(tmp_path, rows)) == {("missing_month", "boiler_coal", "2025-09")}


def test_emissions_that_do_not_follow_from_the_reported_figures_are_a_calculation_finding(tmp_path: Path) -> None:
    rows = [{**r, "emissions_tco2": round(ReportRow.model_validate({**r, "emissions_tco2": 0}).computed_emissions(), 3)}
            for r in _rows()]
    rows[1]["emissions_tco2"] *= 1.01
    path = tmp_path / "E01.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(REPORT_COLUMNS)
        for r in rows:
            w.writerow(ReportRow.model_validate(r).cells())
    res = verify_account(read_report(path), _account(), _plan(), _lab())
    assert _checks(res) == {("calculation", "purchased_electricity", "2025-01")}


def test_a_material_stream_misstatement_fails_the_verified_account(tmp_path: Path) -> None:
    rows = _rows()
    for r in rows:
        if r["stream"] == "boiler_coal":
            r["amount"] = COAL_T * 0.9  # every month −10 %
    res = _verify(tmp_path, rows)
    coal = next(s for s in res.streams if s.stream == "boiler_coal")
    assert coal.verdict == "fail" and coal.difference_pct == pytest.approx(-10.0)
    assert ("stream_misstatement", "boiler_coal", "") in _checks(res)
    assert ("stream_misstatement", "total", "") in _checks(res)
    assert {m for c, s, m in _checks(res) if c == "activity_month"} == set(MONTHS)


def test_small_streams_are_checked_in_their_months_of_largest_activity_only(tmp_path: Path) -> None:
    res = _verify(tmp_path, _rows())
    plan = {s["stream"]: s for s in res.sampling}
    assert plan["boiler_coal"]["months"] == MONTHS  # 97 % of the emissions: every month
    assert "VER-SMP-02" in plan["purchased_electricity"]["reason"]  # 2.6 %
    assert plan["purchased_electricity"]["months"] == MONTHS[:3]  # equal months: the first three by date


def test_a_local_rule_file_changes_the_materiality_without_code(tmp_path: Path) -> None:
    rows = _rows()
    rows[0]["amount"] = COAL_T * 0.97  # −3 %
    assert _checks(_verify(tmp_path, rows)) == set()
    base = (Path(__file__).parents[2] / "src/carbonmet/review/data/verify/cn_ets.csv").read_text(encoding="utf-8")
    header, act = base.splitlines()[0], next(x for x in base.splitlines() if x.startswith("VER-ACT-01"))
    local = tmp_path / "local"
    local.mkdir()
    (local / "province.csv").write_text(f"{header}\n{act.replace(',materiality_pct,5,', ',materiality_pct,2,')}\n",
                                        encoding="utf-8")
    rules = load_verify_rules(local=local)
    assert next(r for r in rules.rules if r.rule_id == "VER-ACT-01").value == 2.0
    res = _verify(tmp_path, rows, rules=rules)
    assert _checks(res) == {("activity_month", "boiler_coal", "2025-01")}
    assert str(local / "province.csv") in res.rule_files


def test_a_bad_local_rule_file_names_file_row_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("rule_id,check,applies_to,parameter,value,unit,standard,clause,evidence,severity,message_zh,"
                   "message_en,recommendation_zh,recommendation_en\n"
                   "X-1,materiality_total,,pct,five,%,std,1,A,info,阈值,threshold,,\n", encoding="utf-8")
    with pytest.raises(RuleFileError) as ei:
        load_verify_rules(local=bad)
    assert (ei.value.row, ei.value.field) == (2, "value") and str(bad) in str(ei.value)
    bad.write_text(bad.read_text(encoding="utf-8").replace("pct,five", "pct,5").replace("{", "")
                   .replace("阈值", "阈值 {instrument}"), encoding="utf-8")
    with pytest.raises(RuleFileError, match="unknown placeholder"):
        load_verify_rules(local=bad)
    with pytest.raises(ReviewError, match="unknown verification profile"):
        load_verify_rules("nope")


@pytest.mark.parametrize(("change", "row", "field", "match"), [
    ({"amount": "ten"}, 3, "amount", "valid number"),
    ({"unit": "kg"}, 3, "unit", "'kg'"),
    ({"period": "2025-13"}, 3, "period", "YYYY-MM"),
    ({"carbon_content_source": "guess"}, 3, "carbon_content_source", "guess"),
])
def test_a_bad_report_cell_names_file_row_and_field(tmp_path: Path, change: dict[str, Any], row: int, field: str,
                                                    match: str) -> None:
    rows = _rows()
    path = tmp_path / "E01.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(REPORT_COLUMNS)
        for i, r in enumerate(rows):
            cells = ReportRow.model_validate({**r, "emissions_tco2": 1.0}).cells()
            if i == 1:
                cells = [change.get(c, v) for c, v in zip(REPORT_COLUMNS, cells, strict=True)]
            w.writerow(cells)
    with pytest.raises(ReportFileError) as ei:
        read_report(path)
    assert (ei.value.file, ei.value.row, ei.value.field) == (str(path), row, field)
    assert match in ei.value.reason


def test_a_report_without_a_required_column_is_refused_naming_the_column(tmp_path: Path) -> None:
    path = tmp_path / "E01.csv"
    path.write_text("enterprise,period,stream,amount,emissions_tco2\nE01,2025-01,boiler_coal,1,1\n", encoding="utf-8")
    with pytest.raises(ReportFileError) as ei:
        read_report(path)
    assert (ei.value.row, ei.value.field) == (1, "unit") and "missing column" in ei.value.reason


def test_a_stream_the_platform_does_not_have_or_in_another_unit_is_refused_naming_the_row(tmp_path: Path) -> None:
    rows = _rows()
    rows[3]["stream"] = "purchased_steam"
    rows[3].update(unit="GJ", emission_factor_unit="tCO2/GJ")
    with pytest.raises(ReportFileError) as ei:
        _verify(tmp_path, rows)
    assert (ei.value.row, ei.value.field) == (5, "stream") and "purchased_steam" in ei.value.reason
    rows = _rows()
    rows[0]["unit"] = "GJ"
    with pytest.raises(ReportFileError) as ei:
        _verify(tmp_path, rows)
    assert (ei.value.row, ei.value.field) == (2, "unit") and "'t'" in ei.value.reason


def test_the_result_serialises_to_json_with_the_verified_account(tmp_path: Path) -> None:
    import json

    d = _verify(tmp_path, _rows()).to_dict()
    json.dumps(d, allow_nan=False)
    assert [r["stream"] for r in d["verified_account"]] == ["boiler_coal", "purchased_electricity"]
    assert d["total"]["reported_amount"] is None and d["sampling"][-1]["stream"] == "*"


def test_a_carbon_content_that_does_not_fit_the_ncv_is_found(tmp_path: Path) -> None:
    rows = _rows()
    for r in rows[::2]:
        r.update(ncv=23.0, ncv_unit="MJ/kg", ncv_source="lab", ncv_samples=r["carbon_samples"])  # 0.0261 tC/GJ
    assert _checks(_verify(tmp_path, rows)) == set()
    rows[2 * 10]["carbon_content"] = 50.0  # 0.0217 tC/GJ: the carbon lowered, the NCV left
    res = _verify(tmp_path, rows)
    assert _checks(res) == {("c_ncv", "boiler_coal", "2025-11")}
    assert "0.02174" in res.findings[0].message


def test_an_xlsx_report_reads_as_the_csv_one(tmp_path: Path) -> None:
    from openpyxl import Workbook

    csv_path = _write(tmp_path / "E01.csv", _rows())
    wb = Workbook()
    ws = wb.active
    with csv_path.open(encoding="utf-8", newline="") as fh:
        for i, line in enumerate(csv.reader(fh)):
            ws.append([float(c) if i and c and c.replace(".", "", 1).isdigit() else (c or None) for c in line])
    wb.save(tmp_path / "E01.xlsx")
    a, b = read_report(csv_path), read_report(tmp_path / "E01.xlsx")
    assert a.rows == b.rows and a.row_numbers == b.row_numbers


def test_the_verified_account_replaces_a_defaulted_carbon_content_by_the_lab_mean_of_the_month(tmp_path: Path) -> None:
    rows = _rows()
    rows[2 * 5].update(carbon_content=30.0, carbon_content_source="default", carbon_samples="")  # half the lab's 60 %
    res = _verify(tmp_path, rows)
    f = next(x for x in res.findings if x.check == "default_where_measured")
    assert "lab mean of the month 60 (1 samples)" in f.evidence
    coal = next(s for s in res.streams if s.stream == "boiler_coal")
    month = COAL_T * C_PCT / 100 * 44.0095 / 12.011 * 0.98
    assert coal.verified_tco2 == pytest.approx(12 * month, rel=1e-6)
    assert coal.difference_tco2 == pytest.approx(-month / 2, rel=1e-4)
