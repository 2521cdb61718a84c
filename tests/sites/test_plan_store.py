"""Stored monitoring plans: a new version only when the content changes, earlier versions kept, every
version audited and reconciled — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import Engine, inspect, text

from carbonmet.db import make_engine, migrate, reconcile, record, session_scope, verify
from carbonmet.sites import (
    MonitoringPlan,
    PlanChangeRow,
    PlanError,
    PlanHeader,
    PlanParameterRow,
    diff,
    load_plan,
    plan_hash,
    plan_versions,
    save_plan,
)

from .test_plan import PLAN, _row

PLAN_TABLES = ("monitoring_plan", "monitoring_plan_parameter", "monitoring_plan_change")


def _v2(plan: MonitoringPlan) -> MonitoringPlan:
    """Version 2: the lab stream analysed per delivery instead of per batch, and an NCV added."""
    params = tuple(r.model_copy(update={"frequency": "per_delivery"}) if r.parameter == "carbon_content" else r
                   for r in plan.parameters)
    ncv = _row(parameter="ncv", unit="MJ/kg", source="lab", ref="E01.BOILER_COAL.LAB", method="GB/T 213-2008",
               frequency="per_batch", instruments=("CAL-1",), responsible="化验室")
    return MonitoringPlan(plan.header.model_copy(update={"version": 2}), (*params, ncv),
                          (*plan.changes, PlanChangeRow(version=2, changed_on=date(2025, 3, 1), by="管理员",
                                                        reason="低位发热量改为实测 NCV measured")))


def test_a_saved_plan_loads_back_equal(engine: Engine) -> None:
    with session_scope(engine) as s:
        v = save_plan(s, PLAN, "tester")
    assert (v.enterprise, v.version, v.created, v.parameters) == ("E01", 1, True, len(PLAN.parameters))
    with session_scope(engine) as s:
        back = load_plan(s, "E01")
    assert back == PLAN
    assert back is not None and plan_hash(back) == v.content_hash


def test_the_same_content_again_is_not_a_new_version(engine: Engine) -> None:
    with session_scope(engine) as s:
        save_plan(s, PLAN, "tester")
    reordered = replace(PLAN, parameters=tuple(reversed(PLAN.parameters)))
    with session_scope(engine) as s:
        again = save_plan(s, reordered, "tester")
        assert (again.version, again.created) == (1, False)
        assert [p.version for p in plan_versions(s, "E01")] == [1]
        assert verify(s).entries == 3  # header, parameters, changes of version 1 only


def test_changed_content_makes_the_next_version_and_keeps_the_first(engine: Engine) -> None:
    new = _v2(PLAN)
    with session_scope(engine) as s:
        save_plan(s, PLAN, "tester")
    with session_scope(engine) as s:
        v = save_plan(s, new, "editor")
    assert (v.version, v.created) == (2, True)
    with session_scope(engine) as s:
        versions = plan_versions(s, "E01")
        assert [(p.version, p.imported_by) for p in versions] == [(1, "tester"), (2, "editor")]
        assert versions[0].content_hash != versions[1].content_hash
        old, cur = load_plan(s, "E01", 1), load_plan(s, "E01")
    assert old == PLAN and cur == new
    assert old is not None and cur is not None
    d = diff(old, cur)
    assert [(c.source_stream, c.parameter, c.change) for c in d.parameters] == [
        ("boiler_coal", "carbon_content", "changed"), ("boiler_coal", "ncv", "added")]
    assert [(f.field, f.old, f.new) for f in d.parameters[0].fields] == [("frequency", "per_batch", "per_delivery")]


def test_a_new_version_must_carry_the_next_number(engine: Engine) -> None:
    with session_scope(engine) as s:
        save_plan(s, PLAN, "tester")
    edited_without_bump = replace(_v2(PLAN), header=PLAN.header)  # content changed, still "version 1"
    with session_scope(engine) as s, pytest.raises(PlanError) as exc:
        save_plan(s, edited_without_bump, "tester", source="E01.toml")
    p = exc.value.problems[0]
    assert (p.file, p.row, p.field) == ("E01.toml", "plan", "version")
    assert "must be version 2" in p.reason
    with session_scope(engine) as s:
        assert [v.version for v in plan_versions(s)] == [1]


def test_each_enterprise_has_its_own_versions(engine: Engine) -> None:
    other = MonitoringPlan(PlanHeader(enterprise="E02", version=1, valid_from=date(2025, 1, 1)),
                           (PlanParameterRow.model_validate({**PLAN.parameters[0].model_dump(), "site_code": "S2"}),))
    with session_scope(engine) as s:
        save_plan(s, PLAN, "tester")
        save_plan(s, other, "tester")
        save_plan(s, _v2(PLAN), "tester")
    with session_scope(engine) as s:
        assert [(v.enterprise, v.version) for v in plan_versions(s)] == [("E01", 1), ("E01", 2), ("E02", 1)]
        assert load_plan(s, "E02") == other
        assert load_plan(s, "E03") is None and load_plan(s, "E01", 7) is None


def test_stored_plans_reconcile_and_a_raw_edit_is_found(engine: Engine) -> None:
    with session_scope(engine) as s:
        save_plan(s, PLAN, "tester")
        save_plan(s, _v2(PLAN), "tester")
    with session_scope(engine) as s:
        rep = reconcile(s)
    assert rep.ok, rep.discrepancies
    assert rep.rows["monitoring_plan"] == 2
    assert rep.rows["monitoring_plan_parameter"] == len(PLAN.parameters) * 2 + 1
    assert rep.rows["monitoring_plan_change"] == 3
    with engine.begin() as c:  # behind the services' back
        c.execute(text("UPDATE monitoring_plan_parameter SET frequency = 'yearly' WHERE parameter = 'ncv'"))
        c.execute(text("UPDATE monitoring_plan SET approved_by = 'nobody' WHERE version = 1"))
        c.execute(text("DELETE FROM monitoring_plan_change WHERE version = 2"))
    with session_scope(engine) as s:
        found = {(d.kind, d.table, d.key, d.field) for d in reconcile(s).discrepancies}
    ncv_pos = len(PLAN.parameters)
    assert found == {
        ("changed", "monitoring_plan_parameter", f"E01@2#{ncv_pos}", "frequency"),
        ("changed", "monitoring_plan", "E01@1", "approved_by"),
        ("missing", "monitoring_plan_change", "E01@2#1", None),
    }


def test_a_registry_database_at_0001_upgrades_to_the_plan_tables(db_url: str) -> None:
    """Databases created by the registry (revision 0001) keep their rows and gain the plan tables."""
    engine = make_engine(db_url)
    try:
        migrate(engine, "0001")
        with session_scope(engine) as s:
            record(s, actor="t", action="create", entity="note", key="k", data={"x": 1})
        assert not set(PLAN_TABLES) & set(inspect(engine).get_table_names())
        migrate(engine)
        assert set(PLAN_TABLES) <= set(inspect(engine).get_table_names())
        with session_scope(engine) as s:
            save_plan(s, PLAN, "tester")
            rep = verify(s)
        assert rep.ok and rep.entries == 4
    finally:
        engine.dispose()
