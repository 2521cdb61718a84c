"""The scope decisions themselves, and a caller without any scope reading nothing."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from carbonmet import services
from carbonmet.services import AccessDenied, NotInScope, Scope, Workspace


def test_a_scope_cannot_write_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="E02"):
        Scope(frozenset({"E01"}), frozenset({"E02"}))
    assert Scope.of(read=["E01"], write=["E02"]).can_read("E02")  # of() makes written ones readable


def test_denied_write_names_the_organisation_in_chinese_then_english() -> None:
    with pytest.raises(AccessDenied) as exc:
        Scope.enterprise("E01").check_write("E02", "registry import")
    msg = str(exc.value)
    assert exc.value.org == "E02" and msg.index("无权写入单位 E02") < msg.index("no write access to organisation E02")


def test_a_record_of_no_known_organisation_is_for_the_centre_only() -> None:
    assert not Scope.enterprise("E01").can_read(None) and Scope.centre().can_read(None)


def test_a_caller_without_scope_reads_nothing(region: Workspace) -> None:
    nobody = Scope.nobody()
    tz = ZoneInfo("Asia/Shanghai")
    for listing in (services.list_organisations, services.list_sites, services.list_points,
                    services.list_instruments, services.list_certificates, services.list_quarantine):
        assert listing(region, nobody) == []
    assert services.due_items(region, nobody, date(2025, 1, 10), 3650, include_ok=True) == []
    assert len(services.point_catalog(region, nobody)) == 0
    tr = services.trace_standard(region, nobody, "WRK-MASS", date(2023, 1, 1), date(2025, 1, 1))
    assert (tr.certificates, tr.standards, tr.instruments, tr.data_periods) == ([], [], [], [])
    with pytest.raises(NotInScope):
        services.point_activity(region, nobody, "E01.COAL", datetime(2025, 1, 1, tzinfo=tz),
                                datetime(2025, 2, 1, tzinfo=tz))
    with pytest.raises(NotInScope):
        services.get_certificate(region, nobody, "C01-E01-2024")
    with pytest.raises(AccessDenied):
        services.verify_audit_log(region, nobody)


def test_a_workspace_from_settings_takes_what_is_not_given(tmp_path: Path) -> None:
    from carbonmet.db import Settings

    cfg = Settings(home=tmp_path / "home", store_root=tmp_path / "st", time_zone="UTC")
    ws = Workspace.from_settings(cfg)
    assert (ws.store_root, ws.time_zone) == (tmp_path / "st", "UTC")
    assert ws.engine.url.database == str(tmp_path / "home" / "registry.db")
    ws.close()
    given = Workspace.from_settings(cfg, database_url=f"sqlite:///{tmp_path / 'other.db'}", time_zone="Asia/Shanghai")
    assert given.time_zone == "Asia/Shanghai" and given.engine.url.database == str(tmp_path / "other.db")
    given.close()


def test_the_regulator_reads_every_organisation_and_writes_none() -> None:
    reg = Scope.regulator("mee")
    assert reg.can_read("E01") and reg.can_read("E02") and reg.reads_every_organisation
    assert not reg.can_write("E01") and not reg.all_access
    with pytest.raises(AccessDenied, match="E01"):
        reg.check_write("E01", "registry import")


def test_the_regulator_is_not_the_centre() -> None:
    reg = Scope.regulator()
    with pytest.raises(AccessDenied, match="only the centre"):
        reg.check_centre("verify the audit log")
    assert not reg.can_read(None)  # a record of no known organisation stays the centre's


def test_a_read_all_scope_that_writes_is_refused() -> None:
    with pytest.raises(ValueError, match="regulator"):
        Scope(frozenset(), frozenset({"E01"}), False, "x", True)
    with pytest.raises(ValueError, match="regulator"):
        Scope(frozenset(), frozenset(), True, "x", True)


def test_the_regulator_filter_keeps_every_organisation_but_no_row_without_one() -> None:
    from sqlalchemy import column, select, table

    t = table("t", column("org_code"))
    assert "IS NOT NULL" in str(Scope.regulator().where(select(t), t.c.org_code))
    assert "WHERE" not in str(Scope.centre().where(select(t), t.c.org_code))


def test_the_regulator_sees_every_enterprise_and_changes_nothing(region: Workspace, tmp_path: Path) -> None:
    reg = Scope.regulator()
    assert {o["org_code"] for o in services.list_organisations(region, reg)} == {"C01", "E01", "E02"}
    assert {i.org for i in services.due_items(region, reg, date(2025, 1, 10), 30)} == {"E01", "E02"}
    assert services.get_certificate(region, reg, "C01-E02-2024")["subject"] == "BS-E02"
    quarantined = {r["point_id"] for r in services.list_quarantine(region, reg)}
    assert quarantined == {"E01.COAL", "E02.COAL"}
    with pytest.raises(AccessDenied):
        services.verify_audit_log(region, reg)
    bad = tmp_path / "r.csv"
    bad.write_text("point_id,ts,value\nE01.COAL,2025-03-01T00:00:00+08:00,1\n", encoding="utf-8")
    total, _ = services.ingest_files(region, reg, [bad])
    assert total.stored == 0 and total.quarantined == 1  # refused as out of scope, nothing stored
