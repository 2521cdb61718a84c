"""Stored stream rows (monitoring_plan_stream): saved and loaded back, audited as a fourth entry only when the
plan has any, reconciled, and the table's Alembic revision upgrades and downgrades — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select, text

import carbonmet.registry  # noqa: F401  (its reconcilers: measurement_point gains columns after this revision)
from carbonmet.db import AuditEntry, alembic_config, make_engine, migrate, reconcile, session_scope, verify
from carbonmet.sites import PlanChangeRow, diff, load_plan, plan_hash, plan_versions, save_plan

from .test_plan import PLAN
from .test_plan_streams import STREAMED

STREAMS = "monitoring_plan_stream"


def _entities(engine: Engine) -> list[str]:
    with session_scope(engine) as s:
        return list(s.scalars(select(AuditEntry.entity).order_by(AuditEntry.seq)))


def test_a_plan_with_streams_loads_back_equal_and_is_logged_as_four_entries(engine: Engine) -> None:
    with session_scope(engine) as s:
        v = save_plan(s, STREAMED, "tester")
    with session_scope(engine) as s:
        back = load_plan(s, "E01")
        assert back == STREAMED and back is not None and plan_hash(back) == v.content_hash
        assert verify(s).entries == 4
        again = save_plan(s, replace(STREAMED, streams=tuple(reversed(STREAMED.streams))), "tester")
        assert (again.version, again.created) == (1, False)  # stream order is not content
    assert _entities(engine) == ["monitoring_plan", "monitoring_plan_parameter", "monitoring_plan_change", STREAMS]


def test_a_plan_without_streams_is_stored_and_logged_as_before(engine: Engine) -> None:
    with session_scope(engine) as s:
        v = save_plan(s, PLAN, "tester")
    assert v.content_hash == "1c64fbba9642f3c0bfb6d06e37f83a8df21070b7bd858b83cee374f6b4a83f4e"  # main's hash
    assert _entities(engine) == ["monitoring_plan", "monitoring_plan_parameter", "monitoring_plan_change"]
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(text(STREAMS))) == 0
        back = load_plan(s, "E01")
        assert back == PLAN and back is not None and back.streams == ()
        rep = reconcile(s)
    assert rep.ok and rep.rows[STREAMS] == 0


def test_adding_a_streams_table_makes_the_next_version(engine: Engine) -> None:
    v2 = replace(STREAMED, header=PLAN.header.model_copy(update={"version": 2}),
                 changes=(*PLAN.changes, PlanChangeRow(version=2, changed_on=date(2025, 3, 1), by="管理员",
                                                       reason="源流类别入计划 stream kinds added")))
    with session_scope(engine) as s:
        save_plan(s, replace(STREAMED, streams=()), "tester")
        assert save_plan(s, v2, "tester").version == 2
    with session_scope(engine) as s:
        old, new = load_plan(s, "E01", 1), load_plan(s, "E01", 2)
        assert [v.version for v in plan_versions(s, "E01")] == [1, 2]
    assert old is not None and new is not None and old.streams == () and new.streams == STREAMED.streams
    d = diff(old, new)
    assert not d.parameters and {c.change for c in d.streams} == {"added"}


def test_stored_streams_reconcile_and_a_raw_edit_is_found(engine: Engine) -> None:
    with session_scope(engine) as s:
        save_plan(s, STREAMED, "tester")
        save_plan(s, replace(PLAN, header=PLAN.header.model_copy(update={"enterprise": "E02"})), "tester")
    with session_scope(engine) as s:
        rep = reconcile(s)
    assert rep.ok, rep.discrepancies
    assert rep.rows[STREAMS] == len(STREAMED.streams)
    steam = [r.source_stream for r in STREAMED.streams].index("purchased_steam")
    vent = [r.source_stream for r in STREAMED.streams].index("rectisol_vent")
    with engine.begin() as c:  # behind the services' back
        c.execute(text(f"UPDATE {STREAMS} SET enthalpy_kj_per_kg = 2700.0 WHERE source_stream = 'purchased_steam'"))
        c.execute(text(f"UPDATE {STREAMS} SET kind = 'other' WHERE source_stream = 'boiler_ash'"))
        c.execute(text(f"DELETE FROM {STREAMS} WHERE source_stream = 'rectisol_vent'"))
        e02 = c.execute(text("SELECT id FROM monitoring_plan WHERE enterprise = 'E02'")).scalar()
        c.execute(text(f"INSERT INTO {STREAMS} (plan_id, position, source_stream, kind) "
                       f"VALUES ({e02}, 0, 'boiler_coal', 'fuel_combustion')"))
    with session_scope(engine) as s:
        found = {(d.kind, d.table, d.key, d.field) for d in reconcile(s).discrepancies}
    ash = [r.source_stream for r in STREAMED.streams].index("boiler_ash")
    assert found == {
        ("changed", STREAMS, f"E01@1#{steam}", "enthalpy_kj_per_kg"),
        ("changed", STREAMS, f"E01@1#{ash}", "kind"),
        ("missing", STREAMS, f"E01@1#{vent}", None),
        ("unlogged", STREAMS, "E02@1#0", None),  # a plan stored without streams gained one behind the log's back
    }


def _streams_revision() -> tuple[str, str]:
    """(revision, down_revision) of the migration that adds the streams table (its number may change at merge)."""
    script = ScriptDirectory.from_config(alembic_config())
    rev = next(r for r in script.walk_revisions() if Path(r.path).name.endswith("_plan_streams.py"))
    assert isinstance(rev.down_revision, str)
    return rev.revision, rev.down_revision


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_the_streams_revision_upgrades_and_downgrades(db_url: str) -> None:
    """A plan stored before the streams table existed is unchanged by the upgrade (rows, hash, audit chain);
    downgrading drops only the streams table."""
    rev, down = _streams_revision()
    engine = make_engine(db_url)
    try:
        migrate(engine, down)
        assert STREAMS not in inspect(engine).get_table_names()
        with session_scope(engine) as s:  # a plan without streams touches no streams table
            before = save_plan(s, PLAN, "tester")
        migrate(engine, rev)
        assert STREAMS in inspect(engine).get_table_names()
        with session_scope(engine) as s:
            assert load_plan(s, "E01") == PLAN
            assert verify(s).ok and reconcile(s).ok
            again = save_plan(s, PLAN, "tester")
            assert (again.version, again.created, again.content_hash) == (1, False, before.content_hash)
            save_plan(s, replace(STREAMED, header=STREAMED.header.model_copy(update={"enterprise": "E02"})), "t")
        with session_scope(engine) as s:
            back = load_plan(s, "E02")
            assert back is not None and back.streams == STREAMED.streams
        _downgrade(engine, down)
        names = set(inspect(engine).get_table_names())
        assert STREAMS not in names and {"monitoring_plan", "monitoring_plan_parameter"} <= names
        with engine.connect() as c:
            assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == down
            assert c.execute(text("SELECT count(*) FROM monitoring_plan")).scalar() == 2
        migrate(engine)
        assert STREAMS in inspect(engine).get_table_names()
    finally:
        engine.dispose()
