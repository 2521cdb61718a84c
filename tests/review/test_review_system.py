"""The review's rule types over points rather than single instruments, on a hand-built registry: the whole
measuring system (sensor + secondary instrument), GB 17167 fit-out rates and main-unit thresholds at their exact
boundaries, data completeness over the readings store, and the coal-chemical carbon profile (plan streams metered,
lab analyses at the plan's frequency, CEMS QA current). Every expected figure is worked out in the comments."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from carbonmet.review import FitOutRate, ReviewResult, RuleFileError, load_rules, review_instruments
from carbonmet.review.system import combine_mpe, fitout_rate, is_main
from carbonmet.services import (
    Scope,
    Workspace,
    import_lab,
    import_plan,
    import_registry,
    ingest_files,
    review_enterprise,
)
from carbonmet.sites import MonitoringPlan, PlanHeader, PlanParameterRow, plan_to_toml

HEADER = ("rule_id,check,applies_to,parameter,value,unit,standard,clause,evidence,severity,message_zh,message_en,"
          "recommendation_zh,recommendation_en\n")

# 20 main-equipment electricity points (L3, Table 3: 95 %); meters at M01…M18, and at M19 from 2025-06-01
_L3 = "".join(f"E02.M{k:02d},E02-S1,电机{k},electric_energy,electricity,MWh,total,L3,power,,\n" for k in range(1, 21))
_L3_METERS = "".join(f"SM{k},I-M{k:02d},E02,electricity_meter,MWh,1.0,1.0,mandatory,E02.M{k:02d},2020-01-01,in_service\n"
                     for k in range(1, 19)) + \
    "SM19,I-M19,E02,electricity_meter,MWh,1.0,1.0,mandatory,E02.M19,2025-06-01,in_service\n"

REGISTRY = {
    "organisations": "org_code,name,kind,region,industry\n"
                     "C01,示例市计量检测中心,metrology_institute,示例市,\n"
                     "E02,乙煤化有限公司,enterprise,示例市,coal_chemical\n",
    "sites": "site_code,org_code,name\nE02-S1,E02,乙厂区\n",
    "points": "point_id,site_code,name,quantity,carrier,unit,reading_kind,level,source_stream,energy_use,"
              "energy_use_unit\n"
              # natural gas entering the unit: ultrasonic meter + flow computer (a measuring system)
              "E02.NG,E02-S1,天然气进厂,normal_volume,natural_gas,Nm3,total,L1,natural_gas,,\n"
              # purchased steam: vortex sensor + transmitter
              "E02.STEAM,E02-S1,外购蒸汽,mass,steam,t,total,L1,purchased_steam,,\n"
              # boiler-house coal (L2, Table 1 threshold 100 t/a): exactly 100 t/a, 99.9 t/a, nothing declared,
              # 0.5 t/h (= 0.5 × 8766 = 4383 t/a)
              "E02.C1,E02-S1,锅炉房甲,mass,fuel_coal,t,total,L2,boiler_coal,100,t/a\n"
              "E02.C2,E02-S1,锅炉房乙,mass,fuel_coal,t,total,L2,boiler_coal,99.9,t/a\n"
              "E02.C3,E02-S1,锅炉房丙,mass,fuel_coal,t,total,L2,boiler_coal,,\n"
              "E02.C4,E02-S1,锅炉房丁,mass,fuel_coal,t,total,L2,boiler_coal,0.5,t/h\n"
              # a lab sample point of the same coal: not a meter, never counted in a fit-out rate
              "E02.C1.LAB,E02-S1,燃料煤采样,carbon_content,fuel_coal,%,sample,L2,boiler_coal,,\n"
              "E02.STACK.CO2,E02-S1,烟囱CO2,concentration,flue_gas,%,rate,L3,boiler_stack,,\n" + _L3,
    "instruments": "serial,instrument_id,org_code,type,unit,accuracy_class,mpe_rel,legal_category,point_id,"
                   "installed_from,status\n"
                   "SN1,I-NG-SENSOR,E02,gas_flow_meter,Nm3/h,1.0,1.0,mandatory,E02.NG,2020-01-01,in_service\n"
                   "SN2,I-NG-FC,E02,flow_computer,Nm3,2.5,2.5,mandatory,E02.NG,2020-01-01,in_service\n"
                   "SS1,I-ST-SENSOR,E02,steam_flow_meter,t/h,1.5,1.5,mandatory,E02.STEAM,2020-01-01,in_service\n"
                   "SS2,I-ST-TX,E02,transmitter,mA,1.5,1.5,mandatory,E02.STEAM,2020-01-01,in_service\n"
                   "SC1,I-C1,E02,belt_scale,t/h,0.5,0.5,mandatory,,,spare\n"
                   "SC2,I-C2,E02,belt_scale,t/h,0.5,0.5,mandatory,E02.C2,2020-01-01,in_service\n"
                   "SC3,I-C3,E02,belt_scale,t/h,0.5,0.5,mandatory,E02.C3,2020-01-01,in_service\n"
                   "SC4,I-C4,E02,belt_scale,t/h,0.5,0.5,mandatory,E02.C4,2020-01-01,in_service\n"
                   "SCO2,I-CO2,E02,cems_gas_analyser,%,2,2.0,non_mandatory,E02.STACK.CO2,2020-01-01,in_service\n"
                   "SLAB,I-LAB,E02,carbon_analyser,%,0.5,0.5,non_mandatory,,,in_service\n" + _L3_METERS,
    "certificates": "cert_no,kind,subject,subject_kind,issuer_org,calibration_date,valid_until,conclusion,"
                    "as_found_error,as_left_error,U,k,error_unit,standards_used\n"
                    "X-CO2,calibration,I-CO2,instrument,C01,2025-01-10,2026-01-09,,0.5,0.5,0.3,2,%,\n",
}


def _readings(path: Path, point: str, hours: int) -> Path:
    """Hourly totaliser readings of ``point`` from 2025-01-01T00:00+08:00, ``hours + 1`` of them (``hours`` h)."""
    t0 = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=8)))
    path.write_text("point_id,ts,value,unit,flag\n" + "".join(
        f"{point},{(t0 + timedelta(hours=h)).isoformat()},{10.0 * h:.1f},{'Nm3' if point == 'E02.NG' else 't'},N\n"
        for h in range(hours + 1)), encoding="utf-8")
    return path


def _plan() -> MonitoringPlan:
    def row(stream: str, parameter: str, source: str, ref: str, freq: str, unit: str,
            instruments: tuple[str, ...] = ()) -> PlanParameterRow:
        return PlanParameterRow(site_code="E02-S1", emission_source="boiler", source_stream=stream, parameter=parameter,
                                unit=unit, source=source, ref=ref, frequency=freq, responsible="能源科",  # type: ignore[arg-type]
                                instruments=instruments)
    return MonitoringPlan(PlanHeader(enterprise="E02", version=1, valid_from=date(2025, 1, 1)), (
        row("natural_gas", "activity_data", "point", "E02.NG", "continuous", "Nm3", ("I-NG-SENSOR", "I-NG-FC")),
        row("boiler_coal", "activity_data", "point", "E02.C1", "continuous", "t", ("I-C1",)),  # a spare, not there
        row("boiler_coal", "carbon_content", "lab", "E02.C1.LAB", "monthly", "%"),     # Jan, Mar analysed
        row("flare", "activity_data", "default", "FLARE-EST", "yearly", "Nm3"),        # not metered at all
    ))


def _lab_file(path: Path) -> Path:
    """Carbon content of the boiler coal in January and March 2025 — none in February."""
    rows = [(f"CC-{m}", f"2025-{m:02d}-05T00:00:00+08:00", f"2025-{m:02d}-06T00:00:00+08:00") for m in (1, 3)]
    path.write_text("sample_id,point_id,sampled_from,sampled_to,analyte,value,unit,U,k,lab_org,instrument_id,method,"
                    "report_no\n" + "".join(f"{s},E02.C1.LAB,{a},{b},carbon_content,60.0,%,0.6,2,C01,I-LAB,"
                                            f"GB/T 30733-2014,R-{s}\n" for s, a, b in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sys_ws(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("system")
    with Workspace(module_db_url, store_root=root / "store") as ws:
        centre = Scope.centre()
        d = root / "registry"
        d.mkdir()
        files = []
        for table, body in REGISTRY.items():
            (d / f"{table}.csv").write_text(body, encoding="utf-8")
            files.append(d / f"{table}.csv")
        import_registry(ws, centre, files)
        # 10 days = 240 h: 216 h of the steam totaliser (90 % exactly), 215 h of the gas one (89.58 %)
        ingest_files(ws, centre, [_readings(root / "steam.csv", "E02.STEAM", 216),
                                  _readings(root / "ng.csv", "E02.NG", 215)])
        (root / "plan.toml").write_text(plan_to_toml(_plan()), encoding="utf-8")
        import_plan(ws, centre, root / "plan.toml")
        import_lab(ws, centre, [_lab_file(root / "lab.csv")])
        yield ws


def _review(ws: Workspace, on: date, profile: str = "gb17167_ccm", local: Path | None = None,
            period: tuple[date, date] | None = None) -> ReviewResult:
    with ws.session() as s:
        return review_instruments(s, "E02", on, rules=load_rules(profile, local), store=ws.store(), period=period)


def _fit(res: ReviewResult, level: str, carrier: str) -> FitOutRate:
    (fr,) = [r for r in res.fitout if r.level == level and r.carrier == carrier]
    return fr


# --- pure functions ------------------------------------------------------------------------------------------
def test_system_mpe_combines_root_sum_square_or_linearly() -> None:
    assert combine_mpe([1.0, 2.5]) == pytest.approx(math.sqrt(1.0 + 6.25))  # 2.6926 %
    assert combine_mpe([1.5, 1.5], "linear") == 3.0
    assert combine_mpe([0.5]) == 0.5
    for bad in ([], [-1.0], [math.nan]):
        with pytest.raises(ValueError):
            combine_mpe(bad)
    with pytest.raises(ValueError, match="unknown combination"):
        combine_mpe([1.0], "max")


def test_fitout_rate_at_the_required_rate_passes_and_one_point_fewer_fails() -> None:
    assert fitout_rate(20, 19, 95.0) == (95.0, "pass")  # 19/20 = 95 % exactly
    assert fitout_rate(20, 18, 95.0) == (90.0, "fail")
    assert fitout_rate(10, 9, 90.0) == (pytest.approx(90.0), "pass")
    assert fitout_rate(3, 2, 100.0)[1] == "fail"
    with pytest.raises(ValueError):
        fitout_rate(0, 0, 100.0)


def test_main_threshold_counts_use_exactly_at_the_limit_as_main() -> None:
    assert is_main(100.0, "t/a", 100.0, "t/a") is True
    assert is_main(99.9, "t/a", 100.0, "t/a") is False
    assert is_main(1.0, "t/h", 1.0, "t/h") is True
    assert is_main(0.0114, "t/h", 100.0, "t/a") is False  # 0.0114 × 8766 = 99.93 t/a
    assert is_main(8.13, "MW", 29.26, "GJ/h") is True  # 8.13 MW = 29.268 GJ/h
    assert is_main(None, None, 100.0, "t/a") is None
    assert is_main(50.0, "kW", 100.0, "t/a") is None  # a power cannot be compared with an annual mass


# --- the whole measuring system --------------------------------------------------------------------------
def test_a_system_whose_sensor_is_compliant_but_whose_secondary_instrument_is_not_fails_naming_it(
        sys_ws: Workspace) -> None:
    res = _review(sys_ws, date(2025, 12, 31))
    # natural gas L1, Table 4 grade 2.0: sensor 1.0 (alone compliant) + flow computer 2.5 → √(1 + 6.25) = 2.69 %
    acc = [f for f in res.findings if f.check == "accuracy_class"]
    assert [(f.rule_id, f.instrument, f.point) for f in acc] == [("CCM-ACC-03", "I-NG-FC", "E02.NG")]
    assert "I-NG-SENSOR" in acc[0].message and "2.69" in acc[0].message and "flow_computer" in acc[0].message
    # steam L1, grade 2.5: sensor 1.5 + transmitter 1.5 → √4.5 = 2.12 % passes
    assert not [f for f in acc if f.point == "E02.STEAM"]


def test_a_local_linear_combination_fails_a_system_no_component_of_which_fails_alone(sys_ws: Workspace,
                                                                                       tmp_path: Path) -> None:
    (tmp_path / "linear.csv").write_text(
        HEADER + "CCM-SYS-01,system_combination,,method,linear,,本地规程,1,A,info,线性合成,linear,,\n", encoding="utf-8")
    res = _review(sys_ws, date(2025, 12, 31), local=tmp_path / "linear.csv")
    # 1.5 + 1.5 = 3.0 % > 2.5: no component over the limit alone, so the largest contributor (the first) is named
    steam = [f for f in res.findings if f.check == "accuracy_class" and f.point == "E02.STEAM"]
    assert [f.instrument for f in steam] == ["I-ST-SENSOR"]
    assert "3" in steam[0].message and "I-ST-TX" in steam[0].message


# --- GB 17167 fit-out rates -------------------------------------------------------------------------------
def test_main_equipment_electricity_at_95_percent_passes_and_one_point_fewer_fails(sys_ws: Workspace) -> None:
    before = _fit(_review(sys_ws, date(2025, 5, 31)), "L3", "electricity")  # M19's meter not yet installed
    after = _fit(_review(sys_ws, date(2025, 6, 1)), "L3", "electricity")
    assert (after.required_points, after.equipped_points, after.rate, after.required_rate, after.verdict) == \
        (20, 19, 95.0, 95.0, "pass")
    assert (before.equipped_points, before.rate, before.verdict) == (18, 90.0, "fail")
    assert before.unequipped == ("E02.M19", "E02.M20") and after.unequipped == ("E02.M20",)


def test_a_failing_rate_is_a_finding_naming_level_carrier_and_the_points_without_a_meter(sys_ws: Workspace) -> None:
    res = _review(sys_ws, date(2025, 5, 31))
    (f,) = [f for f in res.findings if f.rule_id == "CCM-FIT-L3-ELEC"]
    assert f.check == "fitout_rate" and f.severity == "major" and "4.3.5" in f.clause
    assert "90.0" in f.message and "E02.M19" in f.message and "95" in f.message
    assert res.to_dict()["fitout"][0].keys() >= {"level", "carrier", "required_points", "equipped_points", "rate",
                                                "required_rate", "verdict"}


def test_consumption_exactly_at_the_threshold_makes_a_main_unit_that_must_be_metered(sys_ws: Workspace) -> None:
    coal = _fit(_review(sys_ws, date(2025, 12, 31)), "L2", "coal|fuel_coal|raw_coal")
    # C1 (100 t/a, exactly the limit) is main and required, C2 (99.9 t/a) is not, C3 (nothing declared) and C4
    # (4383 t/a) are: 2 of 3 metered = 66.7 % < 100 %; the sample point C1.LAB is never counted
    assert (coal.required_points, coal.equipped_points, coal.verdict, coal.unequipped) == (3, 2, "fail", ("E02.C1",))
    assert coal.rate == pytest.approx(200 / 3)


def test_a_local_threshold_just_above_the_declared_use_frees_the_unit(sys_ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        HEADER + "CCM-MAIN-L2-COAL,main_threshold,level=L2; carrier=raw_coal|fuel_coal|coal|coke,threshold,100.1,t/a,"
                 "本地规程,1,A,info,门槛,threshold,,\n", encoding="utf-8")
    res = _review(sys_ws, date(2025, 12, 31), local=tmp_path / "t.csv")
    coal = _fit(res, "L2", "coal|fuel_coal|raw_coal")
    assert (coal.required_points, coal.equipped_points, coal.verdict) == (2, 2, "pass")
    assert not [f for f in res.findings if f.rule_id == "CCM-FIT-L2-COAL"]


def test_gateway_rates_count_each_metered_point_once(sys_ws: Workspace) -> None:
    res = _review(sys_ws, date(2025, 12, 31))
    ng = _fit(res, "L1", "natural_gas")  # one point, two instruments (a system): 1 of 1
    assert (ng.required_points, ng.equipped_points, ng.rate, ng.verdict) == (1, 1, 100.0, "pass")
    assert _fit(res, "L1", "hot_water|steam").verdict == "pass"


@pytest.mark.parametrize(("row", "field", "match"), [
    ("X,fitout_rate,carrier=coal,required_rate,100,%,S,1,V,major,m,m", "applies_to", "needs level"),
    ("X,fitout_rate,level=L1|L2,required_rate,100,%,S,1,V,major,m,m", "applies_to", "exactly one level"),
    ("X,fitout_rate,level=L1; type=belt_scale,required_rate,100,%,S,1,V,major,m,m", "applies_to", "selects points"),
    ("X,fitout_rate,level=L1,required_rate,101,%,S,1,V,major,m,m", "value", "percentage"),
    ("X,main_threshold,level=L1,threshold,10,kW,S,1,V,info,m,m", "applies_to", "L2 or L3"),
    ("X,main_threshold,level=L2,threshold,10,bananas,S,1,V,info,m,m", "unit", "not a unit"),
    ("X,system_combination,,method,max,,S,1,A,info,m,m", "value", "combination"),
    ("X,completeness,,min_share,90,d,S,1,A,minor,m,m", "unit", "in %"),
])
def test_bad_new_rules_name_file_row_and_field(tmp_path: Path, row: str, field: str, match: str) -> None:
    (tmp_path / "bad.csv").write_text(HEADER + row + ",,\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match=match) as ei:
        load_rules(local=tmp_path / "bad.csv")
    assert (ei.value.row, ei.value.field) == (2, field) and "bad.csv" in str(ei.value)


# --- data completeness -----------------------------------------------------------------------------------
def test_completeness_exactly_at_the_threshold_passes_and_below_it_fails(sys_ws: Workspace) -> None:
    res = _review(sys_ws, date(2025, 1, 10), period=(date(2025, 1, 1), date(2025, 1, 11)))
    comp = [f for f in res.findings if f.check == "completeness"]
    # steam 216 of 240 h = 90.0 % passes; gas 215 of 240 h = 89.6 % fails; points without readings in a store
    # that holds the enterprise's data are 0 %
    assert ("E02.NG", "I-NG-FC") in {(f.point, f.instrument) for f in comp} or \
        ("E02.NG", "I-NG-SENSOR") in {(f.point, f.instrument) for f in comp}
    ng = next(f for f in comp if f.point == "E02.NG")
    assert "89.6" in ng.message and "2025-01-01…2025-01-10" in ng.message
    assert "E02.STEAM" not in {f.point for f in comp}
    assert "E02.C3" in {f.point for f in comp}


def test_the_service_passes_the_store_and_reviews_the_year_to_date(sys_ws: Workspace) -> None:
    res = review_enterprise(sys_ws, Scope.centre(), "E02", date(2025, 1, 10))
    # 1-10 January = 240 h: the same figures as the explicit period
    assert {f.point for f in res.findings if f.check == "completeness"} >= {"E02.NG"}
    assert "E02.STEAM" not in {f.point for f in res.findings if f.check == "completeness"}


# --- the coal-chemical carbon profile ---------------------------------------------------------------------
def test_carbon_profile_finds_unmetered_streams_missing_analyses_and_stale_cems_qa(sys_ws: Workspace) -> None:
    res = _review(sys_ws, date(2025, 3, 31), "gb17167_ccm+ccm_carbon")
    assert res.profile == "gb17167_ccm+ccm_carbon" and res.rule_files == ("gb17167_ccm.csv", "ccm_carbon.csv")
    streams = sorted((f.point, f.message.split("：")[0]) for f in res.findings if f.check == "stream_metered")
    assert [p for p, _ in streams] == ["", "E02.C1"]  # the flare's default and the coal point without a meter
    assert any("boiler_coal" in m for _, m in streams) and any("flare" in m for _, m in streams)
    (lab,) = [f for f in res.findings if f.check == "analysis_frequency"]
    # monthly plan, results in January and March: February is missing; April onwards is not due on 31 March
    assert lab.point == "E02.C1.LAB" and "2025-02" in lab.message and "2025-04" not in lab.message
    # CEMS calibrated 2025-01-10: 80 days on 31 March (≤ 183), 355 days on 31 December
    assert not [f for f in res.findings if f.check == "cems_qa"]
    late = _review(sys_ws, date(2025, 12, 31), "ccm_carbon")
    (qa,) = [f for f in late.findings if f.check == "cems_qa"]
    assert (qa.instrument, qa.certificate, qa.evidence) == ("I-CO2", "X-CO2", "M") and "2025-01-10" in qa.message


def test_the_default_profile_has_no_carbon_profile_rules(sys_ws: Workspace) -> None:
    checks = {r.check for r in load_rules().rules}
    assert not checks & {"stream_metered", "analysis_frequency", "cems_qa"}
    assert {"fitout_rate", "main_threshold", "completeness", "system_combination"} <= checks
