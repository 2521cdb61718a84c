"""``carbonmet users add|assign|key|list`` and ``carbonmet serve`` from the command line."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.services import Workspace
from carbonmet.web import secret_for

runner = CliRunner()
ORGS = "org_code,name,kind,region,industry\nE01,甲煤化有限公司,enterprise,示例市,coal_chemical\n"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    (tmp_path / "organisations.csv").write_text(ORGS, encoding="utf-8")
    r = runner.invoke(app, ["registry", "import", str(tmp_path / "organisations.csv"), "--db", url])
    assert r.exit_code == 0, r.output
    return url


def test_users_are_added_assigned_keyed_and_listed(db: str) -> None:
    env = {"CARBONMET_NEW_PASSWORD": "correct horse battery"}
    for args in (["alice", "--role", "enterprise", "--org", "E01"], ["ver", "--role", "verifier"]):
        r = runner.invoke(app, ["users", "add", *args, "--db", db], env=env)
        assert r.exit_code == 0, r.output
    assert runner.invoke(app, ["users", "assign", "ver", "E01", "--db", db]).exit_code == 0
    key = runner.invoke(app, ["users", "key", "alice", "--label", "script", "--json", "--db", db])
    assert key.exit_code == 0 and json.loads(key.output)["key"].startswith("cmk_")
    rows = json.loads(runner.invoke(app, ["users", "list", "--json", "--db", db]).output)
    by = {r["username"]: r for r in rows}
    assert by["ver"]["assigned"] == ["E01"] and by["alice"]["org_code"] == "E01" and len(by["alice"]["api_keys"]) == 1
    assert json.loads(key.output)["key"] not in json.dumps(rows)


def test_a_user_is_disabled_and_enabled_and_a_key_revoked(db: str) -> None:
    env = {"CARBONMET_NEW_PASSWORD": "correct horse battery"}
    assert runner.invoke(app, ["users", "add", "carl", "--role", "regulator", "--db", db], env=env).exit_code == 0
    key = json.loads(runner.invoke(app, ["users", "key", "carl", "--label", "k", "--json", "--db", db]).output)
    assert runner.invoke(app, ["users", "disable", "carl", "--db", db]).exit_code == 0
    assert runner.invoke(app, ["users", "revoke", key["key_id"], "--db", db]).exit_code == 0
    rows = {r["username"]: r for r in json.loads(runner.invoke(app, ["users", "list", "--json", "--db", db]).output)}
    assert rows["carl"]["active"] is False and rows["carl"]["api_keys"][0]["revoked"] is True
    assert runner.invoke(app, ["users", "enable", "carl", "--db", db]).exit_code == 0
    r = runner.invoke(app, ["users", "revoke", "0" * 16, "--db", db])
    assert r.exit_code == 2


def test_a_bad_user_is_refused_naming_the_field(db: str) -> None:
    env = {"CARBONMET_NEW_PASSWORD": "short"}
    r = runner.invoke(app, ["users", "add", "bob", "--role", "enterprise", "--org", "E01", "--db", db], env=env)
    assert r.exit_code == 2 and "password" in r.output
    env = {"CARBONMET_NEW_PASSWORD": "long enough pw"}
    r = runner.invoke(app, ["users", "add", "bob", "--role", "king", "--db", db], env=env)
    assert r.exit_code == 2 and "role" in r.output


def test_serve_has_help() -> None:
    r = runner.invoke(app, ["serve", "--help"])
    assert r.exit_code == 0 and "--port" in r.output


def test_the_token_key_is_generated_once_into_the_home_readable_by_the_owner_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CARBONMET_WEB_SECRET", raising=False)
    ws = Workspace(f"sqlite:///{tmp_path / 'r.db'}", home=tmp_path / "home")
    first = secret_for(ws)
    assert secret_for(ws) == first and len(first) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / "home" / "web-secret").st_mode)
    assert mode == 0o600
    monkeypatch.setenv("CARBONMET_WEB_SECRET", "from-the-environment-" + "z" * 20)
    assert secret_for(ws).startswith("from-the-environment-")
