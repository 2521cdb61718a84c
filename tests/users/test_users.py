"""The identity store: Argon2id hashes, API keys kept as digests, grants per role, every change audited and
reconciled (a role changed behind the log's back is found) — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, update

from carbonmet.db import reconcile, session_scope, verify
from carbonmet.users import (
    ApiKey,
    AuthenticationFailed,
    User,
    UserError,
    active_grant,
    add_api_key,
    add_user,
    assign,
    verify_api_key,
    verify_password,
)

PW = "correct horse battery"


def test_passwords_are_argon2id_and_checked(engine: Engine) -> None:
    with session_scope(engine) as s:
        u = add_user(s, "alice", PW, "enterprise", org_code="E01", actor="centre")
        assert u.password_hash.startswith("$argon2id$") and PW not in u.password_hash
    with session_scope(engine) as s:
        g = verify_password(s, "alice", PW)
        assert (g.role, g.read, g.write, g.all_access, g.read_all) == ("enterprise", {"E01"}, {"E01"}, False, False)
        for name, pw in (("alice", PW + "!"), ("nobody", PW)):
            with pytest.raises(AuthenticationFailed):
                verify_password(s, name, pw)


@pytest.mark.parametrize(("args", "field"), [
    (("a", PW, "centre"), "username"),
    (("bob", "short", "centre"), "password"),
    (("bob", PW, "king"), "role"),
    (("bob", PW, "enterprise"), "org"),
    (("bob", PW, "centre", "E01"), "org"),
])
def test_a_bad_user_is_refused_naming_the_field(engine: Engine, args: tuple[str, ...], field: str) -> None:
    name, pw, role, *org = args
    with session_scope(engine) as s, pytest.raises(UserError) as exc:
        add_user(s, name, pw, role, org_code=org[0] if org else None)
    assert exc.value.field == field


def test_each_role_grants_its_organisations(engine: Engine) -> None:
    with session_scope(engine) as s:
        add_user(s, "reg", PW, "regulator")
        add_user(s, "cen", PW, "centre")
        add_user(s, "ver", PW, "verifier")
        assert assign(s, "ver", "E02") is True and assign(s, "ver", "E02") is False
        with pytest.raises(UserError):
            assign(s, "reg", "E01")  # only a verifier is assigned enterprises
    with session_scope(engine) as s:
        reg, cen, ver = (active_grant(s, n) for n in ("reg", "cen", "ver"))
    assert reg.read_all and not reg.all_access and not reg.write
    assert cen.all_access and not cen.read_all
    assert (ver.read, ver.write) == ({"E02"}, frozenset())


def test_an_api_key_is_stored_as_a_digest_and_acts_as_its_user(engine: Engine) -> None:
    with session_scope(engine) as s:
        add_user(s, "dev", PW, "enterprise", org_code="E01")
        key, row = add_api_key(s, "dev", "logger")
        assert key.startswith(f"cmk_{row.key_id}_") and key.split("_", 2)[2] not in row.secret_sha256
    with session_scope(engine) as s:
        assert verify_api_key(s, key).username == "dev"
        for bad in (key + "x", key.replace(row.key_id, "0" * 16), "cmk_short", ""):
            with pytest.raises(AuthenticationFailed):
                verify_api_key(s, bad)
        s.execute(update(ApiKey).values(revoked=True))
        with pytest.raises(AuthenticationFailed):
            verify_api_key(s, key)


def test_a_role_changed_behind_the_logs_back_is_found_by_reconciliation(engine: Engine) -> None:
    with session_scope(engine) as s:
        add_user(s, "eve", PW, "enterprise", org_code="E01", actor="centre")
        add_api_key(s, "eve", "k")
    with session_scope(engine) as s:
        assert verify(s).ok and reconcile(s).ok
        s.execute(update(User).where(User.username == "eve").values(role="centre", org_code=None))
    with session_scope(engine) as s:
        found = {(d.table, d.key, d.field) for d in reconcile(s).discrepancies}
    assert found == {("app_user", "eve", "role"), ("app_user", "eve", "org_code")}
