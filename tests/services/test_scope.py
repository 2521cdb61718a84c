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
