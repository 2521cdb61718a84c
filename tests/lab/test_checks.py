"""Flags and the frequency check as pure functions, on hand-made results with the arithmetic written here."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carbonmet.lab import LabResult, c_ncv_bands, find_flags, frequency_findings
from carbonmet.sites import MonitoringPlan, PlanHeader, PlanParameterRow

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 1, tzinfo=TZ)
COAL = {"E01.COAL.LAB": "raw_coal", "E01.OIL.LAB": "fuel_oil"}


def _r(sample_id: str, analyte: str, value: float, *, start: datetime = T0, hours: int = 24,
       point: str = "E01.COAL.LAB", unit: str | None = None, batch: str | None = None) -> LabResult:
    unit = unit or {"ncv": "MJ/kg", "carbon_content": "%"}.get(analyte, "%")
    return LabResult(sample_id, point, "E01", start, start + timedelta(hours=hours), analyte, value, unit, 0.1, 2.0,
                     "E01", "CAL-1", "GB/T 213-2008", f"R-{sample_id}", batch=batch)


def test_the_band_holds_the_rank_defaults_of_the_national_table() -> None:
    band = c_ncv_bands()["raw_coal"]
    lo, hi = band.center * (1 - band.rel_band), band.center * (1 + band.rel_band)
    # GB/T 32151 Table C.1 per-heat carbon contents [tC/GJ]: anthracite, bituminous, lignite (accounting_2025 §1.3)
    for cc in (0.0274, 0.0261, 0.0280):
        assert lo <= cc <= hi
    assert band.evidence == "A" and "CCF §8" in band.source


def test_a_consistent_coal_sample_is_not_flagged_and_a_falsified_one_is() -> None:
    # NCV_ar 22.7 MJ/kg, C_ar 60.0 %: 0.600 / 22.7 = 0.026432 tC/GJ, 0.1 % above the centre 0.0264
    honest = [_r("N1", "ncv", 22.7), _r("C1", "carbon_content", 60.0)]
    assert find_flags(honest, carriers=COAL) == []
    # the carbon content lowered by 10 % (54.0 %), the NCV left: 0.540 / 22.7 = 0.023789, −9.9 % (band ±8 %)
    forged = [_r("N1", "ncv", 22.7), _r("C1", "carbon_content", 54.0)]
    (flag,) = find_flags(forged, carriers=COAL)
    assert (flag.kind, flag.sample_id, flag.analyte, flag.related) == ("c_ncv_inconsistent", "C1", "carbon_content",
                                                                        ("N1",))
    assert flag.value == pytest.approx(0.54 / 22.7)
    assert "0.02379 tC/GJ" in flag.detail and "c_per_ncv.csv" in flag.detail


def test_the_c_ncv_check_applies_to_coal_points_on_the_as_received_basis_only() -> None:
    oil = [_r("N1", "ncv", 41.8, point="E01.OIL.LAB"), _r("C1", "carbon_content", 85.0, point="E01.OIL.LAB")]
    assert find_flags(oil, carriers=COAL) == []  # no band for fuel oil
    dry = [_r("N1", "ncv", 22.7), replace(_r("C1", "carbon_content", 54.0), moisture_basis="d")]
    assert find_flags(dry, carriers=COAL) == []
    other_sample = [_r("N1", "ncv", 22.7), _r("C1", "carbon_content", 54.0, start=T0 + timedelta(days=1))]
    assert find_flags(other_sample, carriers=COAL) == []  # not the same sample key


def test_a_sample_id_used_for_two_samples_flags_both() -> None:
    a = _r("S7", "ncv", 22.7)
    b = _r("S7", "carbon_content", 60.0, start=T0 + timedelta(days=3))  # another sampling window, same number
    c = _r("S8", "ncv", 22.9, start=T0 + timedelta(days=3))
    flags = find_flags([a, b, c], carriers=COAL)
    assert [(f.kind, f.sample_id, f.analyte) for f in flags] == [("reused_sample_id", "S7", "ncv"),
                                                                  ("reused_sample_id", "S7", "carbon_content")]
    assert "2 samples" in flags[0].detail
    assert find_flags([a, b, c], carriers=COAL, subjects=[b]) == [flags[1]]
    # one sample numbered once for its NCV and its carbon content is fine
    assert find_flags([a, replace(b, sampled_from=a.sampled_from, sampled_to=a.sampled_to)], carriers=COAL) == []


def _plan(*rows: tuple[str, str, str]) -> MonitoringPlan:
    header = PlanHeader(enterprise="E01", version=1, valid_from=date(2025, 1, 1))
    params = tuple(PlanParameterRow(site_code="E01-S1", emission_source="boiler", source_stream="coal", parameter=p,
                                    unit="%" if p != "ncv" else "MJ/kg", source="lab", ref=ref, frequency=freq,
                                    responsible="化验室")
                   for ref, p, freq in rows)
    return MonitoringPlan(header, params)


def _monthly(analyte: str, months: range, **kw: object) -> list[LabResult]:
    return [_r(f"{analyte}-{m}", analyte, 22.7 if analyte == "ncv" else 60.0,
               start=datetime(2025, m, 10, tzinfo=TZ), **kw) for m in months]  # type: ignore[arg-type]


def test_months_without_a_result_are_reported_per_parameter() -> None:
    plan = _plan(("E01.COAL.LAB", "ncv", "monthly"), ("E01.COAL.LAB", "carbon_content", "per_batch"))
    results = _monthly("ncv", range(1, 13)) + _monthly("carbon_content", range(1, 13))
    assert frequency_findings(plan, results, 2025) == []
    gone = [r for r in results if not (r.analyte == "ncv" and r.sampled_from.month == 3)]
    (f,) = frequency_findings(plan, gone, 2025)
    assert (f.point_id, f.parameter, f.kind, f.period, f.frequency) == ("E01.COAL.LAB", "ncv", "missing_month",
                                                                        "2025-03", "monthly")
    # a stop: the stream had no activity in March, so nothing was there to sample
    assert frequency_findings(plan, gone, 2025, active=lambda s, a, b: a.month != 3) == []


def test_a_sampling_window_counts_for_every_month_it_overlaps() -> None:
    plan = _plan(("E01.COAL.LAB", "ncv", "monthly"))
    # one lot sampled 30 Jan 20:00 … 2 Feb 08:00 (local): January and February both covered
    lot = _r("L1", "ncv", 22.7, start=datetime(2025, 1, 30, 20, tzinfo=TZ), hours=60)
    # a composite of March ending exactly at 1 April 00:00 does not cover April
    march = _r("M3", "ncv", 22.7, start=datetime(2025, 3, 1, tzinfo=TZ), hours=31 * 24)
    periods = [f.period for f in frequency_findings(plan, [lot, march], 2025)]
    assert periods == [f"2025-{m:02d}" for m in range(4, 13)]


def test_quarterly_and_yearly_parameters_are_checked_by_their_period() -> None:
    plan = _plan(("E01.COAL.LAB", "moisture", "quarterly"), ("E01.COAL.LAB", "carbon_content", "yearly"))
    results = _monthly("moisture", range(1, 4)) + _monthly("moisture", range(7, 10))
    found = {(f.parameter, f.kind, f.period) for f in frequency_findings(plan, results, 2025)}
    assert found == {("moisture", "missing_quarter", "2025-Q2"), ("moisture", "missing_quarter", "2025-Q4"),
                     ("carbon_content", "missing_year", "2025")}


def test_a_batch_with_other_analyses_but_none_of_the_parameter_is_reported() -> None:
    plan = _plan(("E01.COAL.LAB", "carbon_content", "per_batch"))
    results = [r for m in range(1, 13) for r in (
        _r(f"N{m}", "ncv", 22.7, start=datetime(2025, m, 5, tzinfo=TZ), batch=f"B{m:02d}"),
        _r(f"C{m}", "carbon_content", 60.0, start=datetime(2025, m, 5, tzinfo=TZ), batch=f"B{m:02d}"),
        _r(f"N{m}b", "ncv", 22.9, start=datetime(2025, m, 20, tzinfo=TZ), batch=f"B{m:02d}b"))]
    found = frequency_findings(plan, results, 2025)
    assert {f.kind for f in found} == {"batch_without_analysis"}
    assert [f.period for f in found] == [f"B{m:02d}b" for m in range(1, 13)]


def test_rows_outside_their_validity_or_not_lab_analytes_are_not_checked() -> None:
    plan = _plan(("E01.COAL.LAB", "ncv", "monthly"))
    row = plan.parameters[0].model_copy(update={"valid_from": date(2025, 7, 1)})  # from July only
    other = plan.parameters[0].model_copy(update={"parameter": "oxidation_rate"})  # not an analyte
    periods = [f.period for f in frequency_findings(MonitoringPlan(plan.header, (row, other)), [], 2025)]
    assert periods == [f"2025-{m:02d}" for m in range(7, 13)]
