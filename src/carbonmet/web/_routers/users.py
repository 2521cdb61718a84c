"""``/api/v1/users``: users, roles and verifier assignments (the centre's)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from carbonmet.services import assign_verifier, create_api_key, create_user, list_users, set_user_active

from .._auth import ScopeDep, WorkspaceDep, current_caller

router = APIRouter(prefix="/api/v1/users", tags=["users 用户"], dependencies=[Depends(current_caller)])


class NewUser(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=8, max_length=1024)
    role: Literal["regulator", "centre", "verifier", "enterprise"]
    org: str | None = Field(default=None, max_length=64)
    display_name: str | None = Field(default=None, max_length=128)


class Assignment(BaseModel):
    org: str = Field(min_length=1, max_length=64)


class UserChange(BaseModel):
    active: bool


class KeyRequest(BaseModel):
    label: str = Field(min_length=1, max_length=128)


@router.get("")
def users(ws: WorkspaceDep, scope: ScopeDep) -> list[dict[str, Any]]:
    """用户列表 Every user with role, enterprise, assignments and key ids (centre only)."""
    return list_users(ws, scope)


@router.post("", status_code=201)
def add(body: NewUser, ws: WorkspaceDep, scope: ScopeDep) -> dict[str, Any]:
    """新建用户 Create a user (centre only)."""
    return create_user(ws, scope, body.username, body.password, body.role, org=body.org,
                       display_name=body.display_name)


@router.post("/{username}/assignments", status_code=201)
def assign(username: str, body: Assignment, ws: WorkspaceDep, scope: ScopeDep) -> dict[str, Any]:
    """分配核查企业 Let a verifier read an enterprise (centre only)."""
    return assign_verifier(ws, scope, username, body.org)


@router.post("/{username}/keys", status_code=201)
def key_for(username: str, body: KeyRequest, ws: WorkspaceDep, scope: ScopeDep) -> dict[str, Any]:
    """创建接口密钥 A new API key for a user (the user itself or the centre; shown once)."""
    return create_api_key(ws, scope, username, body.label)


@router.patch("/{username}")
def change(username: str, body: UserChange, ws: WorkspaceDep, scope: ScopeDep) -> dict[str, Any]:
    """停用/启用用户 Deactivate or reactivate a user (centre only); its tokens and keys stop at the next request."""
    return set_user_active(ws, scope, username, body.active)
