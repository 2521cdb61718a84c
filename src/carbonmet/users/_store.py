"""Users, verifier assignments and API keys in the registry database; every change audited (用户存储).

Functions take the caller's session and write in its transaction; the audit entry of each change is appended
with :func:`carbonmet.db.record` in the same transaction (entity = table name, key = the row's key).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import record
from ._errors import AuthenticationFailed, UserError
from ._models import API_KEY, ASSIGNMENT, ROLES, USER, ApiKey, User, VerifierAssignment
from ._secrets import (
    DUMMY_HASH,
    MIN_PASSWORD,
    check_password,
    hash_password,
    new_api_key,
    same_digest,
    split_api_key,
)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,63}\Z")


@dataclass(frozen=True, slots=True)
class Grant:
    """What a user's role gives (角色权限): organisations read and written, or every one.

    ``all_access``: the centre (everything); ``read_all``: the regulator (reads every organisation, writes none);
    otherwise ``read`` and ``write`` list organisation codes (a verifier: its assigned enterprises, read only;
    an enterprise user: its own enterprise, read and write).
    """

    username: str
    role: str
    org_code: str | None
    read: frozenset[str]
    write: frozenset[str]
    all_access: bool = False
    read_all: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role, "org_code": self.org_code,
                "read": sorted(self.read), "write": sorted(self.write), "all_access": self.all_access,
                "read_all": self.read_all}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _user_data(u: User) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
            "org_code": u.org_code, "password_hash": u.password_hash, "active": u.active,
            "created_at": u.created_at}


def find_user(session: Session, username: str) -> User | None:
    """The user named ``username``, or None."""
    return session.scalar(select(User).where(User.username == username))


def add_user(session: Session, username: str, password: str, role: str, *, org_code: str | None = None,
             display_name: str | None = None, actor: str = "system") -> User:
    """Create a user with an Argon2id password hash; audited in the caller's transaction.

    Raises
    ------
    UserError
        Malformed or taken user name, unknown role, short password, an enterprise user without an
        organisation or another role with one (the error names the field).
    """
    if not _NAME.match(username):
        raise UserError("username", f"用户名须为 2–64 个字母、数字或 ._@- / user name {username!r} must be 2 to 64 "
                                    "letters, digits or ._@-")
    if role not in ROLES:
        raise UserError("role", f"未知角色 unknown role {role!r} (one of {', '.join(ROLES)})")
    if len(password) < MIN_PASSWORD:
        raise UserError("password", f"口令至少 {MIN_PASSWORD} 个字符 / password must have at least "
                                    f"{MIN_PASSWORD} characters")
    if (role == "enterprise") != (org_code is not None):
        raise UserError("org", "企业用户须且仅须指定单位 / an enterprise user needs --org, other roles take none")
    if find_user(session, username) is not None:
        raise UserError("username", f"用户已存在 user {username!r} exists")
    u = User(username=username, display_name=display_name or username, role=role, org_code=org_code,
             password_hash=hash_password(password), active=True, created_at=_now())
    session.add(u)
    session.flush()
    record(session, actor=actor, action="create", entity=USER, key=username, data=_user_data(u))
    return u


def assign(session: Session, verifier: str, org_code: str, *, actor: str = "system") -> bool:
    """Assign enterprise ``org_code`` to ``verifier`` (idempotent: False when it was assigned already).

    Raises
    ------
    UserError
        No such user, or the user is not a verifier.
    """
    u = find_user(session, verifier)
    if u is None or u.role != "verifier":
        raise UserError("verifier", f"不是核查机构用户 {verifier!r} is not a verifier user")
    key = f"{verifier}/{org_code}"
    if session.scalar(select(VerifierAssignment.id).where(VerifierAssignment.assignment_key == key)) is not None:
        return False
    a = VerifierAssignment(assignment_key=key, username=verifier, org_code=org_code)
    session.add(a)
    session.flush()
    record(session, actor=actor, action="create", entity=ASSIGNMENT, key=key,
           data={"id": a.id, "assignment_key": key, "username": verifier, "org_code": org_code})
    return True


def add_api_key(session: Session, username: str, label: str, *, actor: str = "system") -> tuple[str, ApiKey]:
    """A new API key for ``username``: ``(key, row)``; the key is not stored and cannot be shown again.

    Raises
    ------
    UserError
        No such active user, or an empty or over-long label.
    """
    u = find_user(session, username)
    if u is None or not u.active:
        raise UserError("username", f"无此用户 no such active user {username!r}")
    if not label.strip() or len(label) > 128:
        raise UserError("label", "标签须为 1–128 个字符 / label must have 1 to 128 characters")
    key, key_id, digest = new_api_key()
    row = ApiKey(key_id=key_id, username=username, label=label.strip(), secret_sha256=digest, created_at=_now(),
                 revoked=False)
    session.add(row)
    session.flush()
    record(session, actor=actor, action="create", entity=API_KEY, key=key_id, data=_key_data(row))
    return key, row


def _key_data(k: ApiKey) -> dict[str, Any]:
    return {"id": k.id, "key_id": k.key_id, "username": k.username, "label": k.label,
            "secret_sha256": k.secret_sha256, "created_at": k.created_at, "revoked": k.revoked}


def find_api_key(session: Session, key_id: str) -> ApiKey | None:
    """The key row with ``key_id``, or None."""
    return session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))


def revoke_api_key(session: Session, key_id: str, *, actor: str = "system") -> bool:
    """Revoke a key for good (False when it was revoked already); audited.

    Raises
    ------
    UserError
        No key has this id.
    """
    row = find_api_key(session, key_id)
    if row is None:
        raise UserError("key_id", f"无此密钥 no API key {key_id!r}")
    if row.revoked:
        return False
    row.revoked = True
    session.flush()
    record(session, actor=actor, action="update", entity=API_KEY, key=key_id, data=_key_data(row))
    return True


def set_active(session: Session, username: str, active: bool, *, actor: str = "system") -> bool:
    """Activate or deactivate a user (False when nothing changed); an inactive user cannot sign in, and its
    tokens and keys are refused from the next request on. Audited.

    Raises
    ------
    UserError
        No such user.
    """
    u = find_user(session, username)
    if u is None:
        raise UserError("username", f"无此用户 no user {username!r}")
    if u.active == active:
        return False
    u.active = active
    session.flush()
    record(session, actor=actor, action="update", entity=USER, key=username, data=_user_data(u))
    return True


def grant_of(session: Session, user: User) -> Grant:
    """The organisations ``user``'s role gives it (:class:`Grant`)."""
    if user.role == "centre":
        return Grant(user.username, user.role, None, frozenset(), frozenset(), all_access=True)
    if user.role == "regulator":
        return Grant(user.username, user.role, None, frozenset(), frozenset(), read_all=True)
    if user.role == "verifier":
        orgs = frozenset(session.scalars(select(VerifierAssignment.org_code)
                                         .where(VerifierAssignment.username == user.username)))
        return Grant(user.username, user.role, None, orgs, frozenset())
    own = frozenset({user.org_code}) if user.org_code else frozenset()
    return Grant(user.username, user.role, user.org_code, own, own)


def verify_password(session: Session, username: str, password: str) -> Grant:
    """The grant of ``username`` if ``password`` is its password and the user is active.

    Raises
    ------
    AuthenticationFailed
        Otherwise (an unknown user costs one Argon2 check too, so timing does not tell names apart).
    """
    u = find_user(session, username)
    if u is None:
        check_password(DUMMY_HASH, password)
        raise AuthenticationFailed()
    if not check_password(u.password_hash, password) or not u.active:
        raise AuthenticationFailed()
    return grant_of(session, u)


def verify_api_key(session: Session, key: str) -> Grant:
    """The grant of the user an API key acts for.

    Raises
    ------
    AuthenticationFailed
        Malformed, unknown or revoked key, or its user inactive.
    """
    parts = split_api_key(key)
    if parts is None:
        raise AuthenticationFailed()
    row = session.scalar(select(ApiKey).where(ApiKey.key_id == parts[0]))
    if row is None or row.revoked or not same_digest(row.secret_sha256, parts[1]):
        raise AuthenticationFailed()
    return active_grant(session, row.username)


def active_grant(session: Session, username: str) -> Grant:
    """The grant of an active user already authenticated elsewhere (a verified token's subject).

    Raises
    ------
    AuthenticationFailed
        No such user, or the user is no longer active.
    """
    u = find_user(session, username)
    if u is None or not u.active:
        raise AuthenticationFailed()
    return grant_of(session, u)


def user_rows(session: Session) -> list[dict[str, Any]]:
    """Every user without its hash: ``username``, ``display_name``, ``role``, ``org_code``, ``active``,
    ``assigned`` (a verifier's enterprises) and ``api_keys`` (key id, label, revoked)."""
    assigned: dict[str, list[str]] = {}
    for a in session.scalars(select(VerifierAssignment).order_by(VerifierAssignment.org_code)):
        assigned.setdefault(a.username, []).append(a.org_code)
    keys: dict[str, list[dict[str, Any]]] = {}
    for k in session.scalars(select(ApiKey).order_by(ApiKey.id)):
        keys.setdefault(k.username, []).append({"key_id": k.key_id, "label": k.label, "revoked": k.revoked,
                                                "created_at": k.created_at})
    return [{"username": u.username, "display_name": u.display_name, "role": u.role, "org_code": u.org_code,
             "active": u.active, "created_at": u.created_at, "assigned": assigned.get(u.username, []),
             "api_keys": keys.get(u.username, [])}
            for u in session.scalars(select(User).order_by(User.username))]
