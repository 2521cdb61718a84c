"""Settings come from CARBONMET_* once, are immutable, and are passed explicitly to what needs them."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from carbonmet.db import Settings, default_url, make_engine

ENV = ("CARBONMET_DATABASE_URL", "CARBONMET_HOME", "CARBONMET_STORE_ROOT", "CARBONMET_TIME_ZONE")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_are_a_local_home_and_china_standard_time(clean_env: pytest.MonkeyPatch) -> None:
    s = Settings()
    assert s.database_url is None
    assert s.home == Path(".carbonmet")
    assert s.readings_root == Path(".carbonmet") / "store"
    assert s.time_zone == "Asia/Shanghai" and s.zone == ZoneInfo("Asia/Shanghai")


def test_environment_is_read_when_settings_are_built(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("CARBONMET_HOME", str(tmp_path / "home"))
    clean_env.setenv("CARBONMET_STORE_ROOT", str(tmp_path / "readings"))
    clean_env.setenv("CARBONMET_TIME_ZONE", "Asia/Urumqi")
    s = Settings()
    clean_env.setenv("CARBONMET_HOME", str(tmp_path / "other"))  # read once: a later change does not leak in
    assert s.home == tmp_path / "home"
    assert s.readings_root == tmp_path / "readings"
    assert s.zone == ZoneInfo("Asia/Urumqi")
    assert s.url == f"sqlite:///{tmp_path / 'home' / 'registry.db'}"
    assert (tmp_path / "home").is_dir()


def test_database_url_from_environment_wins_over_home(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("CARBONMET_DATABASE_URL", "postgresql://u@db.example:5432/carbon")
    clean_env.setenv("CARBONMET_HOME", str(tmp_path / "never"))
    assert default_url() == "postgresql://u@db.example:5432/carbon"
    assert not (tmp_path / "never").exists()


def test_blank_database_url_means_the_embedded_file(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("CARBONMET_DATABASE_URL", "  ")
    assert Settings(home=tmp_path).url == f"sqlite:///{tmp_path / 'registry.db'}"


def test_explicit_settings_need_no_environment(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    assert default_url(s) == f"sqlite:///{tmp_path / 'registry.db'}"
    engine = make_engine(settings=s)
    with engine.connect() as c:
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1  # SQLite enforces foreign keys
    engine.dispose()
    assert (tmp_path / "registry.db").is_file()


def test_settings_are_immutable(tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    with pytest.raises(ValidationError):
        s.home = Path("/elsewhere")  # type: ignore[misc]


def test_unknown_time_zone_is_refused_naming_the_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CARBONMET_TIME_ZONE", "Asia/Beijing")
    with pytest.raises(ValidationError, match=r"CARBONMET_TIME_ZONE") as info:
        Settings()
    assert "Asia/Beijing" in str(info.value)
