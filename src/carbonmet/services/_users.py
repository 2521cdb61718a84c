"""Users, roles and API keys (用户与角色): creating them (centre), and turning a credential into a :class:`Scope`.

:func:`authenticate` is the one place a credential (password, API key, or a verified token's subject) becomes the
caller's :class:`Scope`; the web layer calls it once per request and hands the scope to the use case.

===========  =============================  ==========================================
role          scope                           reads / writes
===========  =============================  ==========================================
regulator     ``Scope.regulator(user)``       every organisation / nothing
centre        ``Scope.centre(user)``          everything, and the centre-only use cases
verifier      ``Scope.of(read=assigned)``     the enterprises assigned to it / nothing
enterprise    ``Scope.enterprise(org)``       its own enterprise / its own enterprise
===========  =============================  ==========================================
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ._cache import LRUCache, registry_version
from ._deps import (
    Grant,
    Organisation,
    UserError,
    active_grant,
    add_api_key,
    add_user,
    assign,
    find_api_key,
    set_active,
    user_rows,
    verify_api_key,
    verify_password,
)
from ._deps import revoke_api_key as revoke_key
from ._errors import AccessDenied, NotInScope, ServiceError
from ._guard import guarded_write
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: who it is, its role and the :class:`Scope` every use case gets."""

    username: str
    role: str
    org_code: str | None
    scope: Scope

    def to_dict(self) -> dict[str, Any]:
        s = self.scope
        return {"username": self.username, "role": self.role, "org_code": self.org_code,
                "reads_every_organisation": s.reads_every_organisation, "all_access": s.all_access,
                "read": sorted(s.read), "write": sorted(s.write)}


def scope_of(grant: Grant) -> Scope:
    """The :class:`Scope` a role's grant gives (the table in the module docstring)."""
    if grant.all_access:
        return Scope.centre(grant.username)
    if grant.read_all:
        return Scope.regulator(grant.username)
    return Scope.of(grant.read, grant.write, actor=grant.username)


def _org_exists(s: Session, org: str) -> None:
    if s.scalar(select(Organisation.id).where(Organisation.code == org)) is None:
        raise ServiceError(f"org: 无此单位 no organisation {org!r} in the registry")


def _user_error(exc: UserError) -> ServiceError:
    return ServiceError(str(exc))


#: Callers of tokens' subjects and API keys by registry version (users, roles, assignments and keys are audited).
_callers: LRUCache[Caller] = LRUCache(1024)


@use_case("none")
def authenticate(ws: Workspace, scope: Scope, *, username: str | None = None, password: str | None = None,
                 api_key: str | None = None) -> Caller:
    """The caller behind a credential, with its :class:`Scope` (身份认证).

    Give ``username`` and ``password``; or ``api_key``; or ``username`` alone for the subject of a token the
    caller has already verified (signature and expiry): the user must still exist and be active, and its role
    and assignments are read now, so a change takes effect on the next request. ``scope`` is not used (the
    caller is not known yet).

    An API key or a token's subject is resolved once per registry version (the audit log's head, read on every
    call: a change of a user, its role, assignments or keys is an audited write, so it takes effect at the next
    request all the same; see ``_cache``). A password is checked every time (Argon2id), never cached.

    Raises
    ------
    carbonmet.users.AuthenticationFailed
        Wrong password, unknown or revoked key, unknown or inactive user (one message for all).
    """
    if password is None and (api_key is not None or username is not None):
        ident = (("key", hashlib.sha256(api_key.encode()).hexdigest()) if api_key is not None
                 else ("user", username))
        return _callers.get_or_compute((registry_version(ws), ident),
                                       lambda: _authenticate(ws, username, password, api_key))
    return _authenticate(ws, username, password, api_key)


def _authenticate(ws: Workspace, username: str | None, password: str | None, api_key: str | None) -> Caller:
    with ws.session() as s:
        if api_key is not None:
            grant = verify_api_key(s, api_key)
        elif username is not None and password is not None:
            grant = verify_password(s, username, password)
        elif username is not None:
            grant = active_grant(s, username)
        else:
            raise ServiceError("authenticate: give username and password, an API key, or a verified subject")
    return Caller(grant.username, grant.role, grant.org_code, scope_of(grant))


@use_case("centre")
def create_user(ws: Workspace, scope: Scope, username: str, password: str, role: str, *, org: str | None = None,
                display_name: str | None = None) -> dict[str, Any]:
    """Create a user (新建用户) with its role; an enterprise user names its enterprise — centre only.

    Returns
    -------
    dict
        ``username``, ``role``, ``org_code``, ``display_name`` (never the password or its hash).
    """
    scope.check_centre("create a user 新建用户")
    with guarded_write(ws, scope, "create a user 新建用户") as s:
        if org is not None:
            _org_exists(s, org)
        try:
            u = add_user(s, username, password, role, org_code=org, display_name=display_name, actor=scope.actor)
        except UserError as exc:
            raise _user_error(exc) from None
        return {"username": u.username, "role": u.role, "org_code": u.org_code, "display_name": u.display_name}


@use_case("centre")
def assign_verifier(ws: Workspace, scope: Scope, verifier: str, org: str) -> dict[str, Any]:
    """Let verifier user ``verifier`` read enterprise ``org`` (分配核查企业) — centre only.

    Returns
    -------
    dict
        ``verifier``, ``org_code`` and ``created`` (False when it was assigned already).
    """
    scope.check_centre("assign a verifier 分配核查企业")
    with guarded_write(ws, scope, "assign a verifier 分配核查企业") as s:
        _org_exists(s, org)
        try:
            created = assign(s, verifier, org, actor=scope.actor)
        except UserError as exc:
            raise _user_error(exc) from None
    return {"verifier": verifier, "org_code": org, "created": created}


@use_case("write")
def create_api_key(ws: Workspace, scope: Scope, username: str, label: str) -> dict[str, Any]:
    """A new API key (接口密钥) acting as ``username``: the caller's own user, or any user for the centre.

    The key is in the result once and never again: only its key id and the SHA-256 of its secret are stored.

    Returns
    -------
    dict
        ``key`` (``cmk_<key id>_<secret>``), ``key_id``, ``username``, ``label``.

    Raises
    ------
    AccessDenied
        ``username`` is not the caller and the caller is not the centre.
    """
    if not scope.all_access and username != scope.actor:
        raise AccessDenied(None, "create an API key for another user 为他人创建密钥")
    with guarded_write(ws, scope, "create an API key 创建接口密钥") as s:
        try:
            key, row = add_api_key(s, username, label, actor=scope.actor)
        except UserError as exc:
            raise _user_error(exc) from None
        return {"key": key, "key_id": row.key_id, "username": username, "label": row.label}


@use_case("write")
def revoke_api_key(ws: Workspace, scope: Scope, key_id: str) -> dict[str, Any]:
    """Revoke an API key for good (吊销接口密钥): the caller's own key, or any for the centre.

    Returns
    -------
    dict
        ``key_id``, ``username`` and ``revoked`` (False when it was revoked already).

    Raises
    ------
    NotInScope
        No such key, or the key of another user and the caller is not the centre (the same answer).
    """
    with guarded_write(ws, scope, "revoke an API key 吊销接口密钥") as s:
        row = find_api_key(s, key_id)
        if row is None or not (scope.all_access or row.username == scope.actor):
            raise NotInScope("API key 接口密钥", key_id)
        changed = revoke_key(s, key_id, actor=scope.actor)
        return {"key_id": key_id, "username": row.username, "revoked": changed}


@use_case("centre")
def set_user_active(ws: Workspace, scope: Scope, username: str, active: bool) -> dict[str, Any]:
    """Deactivate (or reactivate) a user (停用用户) — centre only. An inactive user cannot sign in, and its tokens
    and API keys are refused from the next request on.

    Returns
    -------
    dict
        ``username``, ``active`` and ``changed``.
    """
    scope.check_centre("activate or deactivate a user 停用/启用用户")
    with guarded_write(ws, scope, "activate or deactivate a user 停用/启用用户") as s:
        try:
            changed = set_active(s, username, active, actor=scope.actor)
        except UserError as exc:
            raise _user_error(exc) from None
    return {"username": username, "active": active, "changed": changed}


@use_case("centre")
def list_users(ws: Workspace, scope: Scope) -> list[dict[str, Any]]:
    """Every user with role, enterprise, assigned enterprises and key ids (用户列表) — centre only; no hashes."""
    scope.check_centre("list users 用户列表")
    with ws.session() as s:
        return user_rows(s)
