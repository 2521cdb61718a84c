"""``/api/v1/auth``: sign in for a token, who am I, my API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from carbonmet.services import AuthenticationFailed, Scope, authenticate, create_api_key, revoke_api_key

from .._auth import CallerDep, ScopeDep, WorkspaceDep, current_caller, issue_token

router = APIRouter(prefix="/api/v1/auth", tags=["auth 认证"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class KeyRequest(BaseModel):
    label: str = Field(min_length=1, max_length=128, description="what the key is for (device, script)")


@router.post("/token", response_model=Token)
def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], ws: WorkspaceDep) -> Any:
    """登录 Sign in with user name and password (form fields ``username``, ``password``) for a bearer token.

    Five failed attempts for one user name from one client within five minutes → 429 with ``Retry-After``.
    """
    limiter = request.app.state.limiter
    client = request.client.host if request.client else "?"
    wait = limiter.retry_after(form.username, client)
    if wait is not None:
        raise HTTPException(429, f"登录失败次数过多，请 {wait} 秒后再试 / too many failed sign-ins, retry in {wait} s",
                            headers={"Retry-After": str(wait)})
    try:
        caller = authenticate(ws, Scope.nobody(), username=form.username, password=form.password)
    except AuthenticationFailed:
        limiter.failed(form.username, client)
        raise
    limiter.succeeded(form.username, client)
    cfg = request.app.state.config
    token, seconds = issue_token(cfg.secret, caller.username, cfg.token_minutes)
    return {"access_token": token, "token_type": "bearer", "expires_in": seconds}


secured = APIRouter(dependencies=[Depends(current_caller)])


@secured.get("/me")
def me(caller: CallerDep) -> dict[str, Any]:
    """当前用户 The caller: user name, role, enterprise and what it may read and write."""
    return caller.to_dict()


@secured.post("/keys", status_code=201)
def new_key(body: KeyRequest, ws: WorkspaceDep, scope: ScopeDep) -> dict[str, Any]:
    """创建接口密钥 A new API key acting as the caller (shown once; send it as ``X-API-Key``)."""
    return create_api_key(ws, scope, scope.actor, body.label)


@secured.delete("/keys/{key_id}")
def revoke_key(key_id: Annotated[str, Path(max_length=32)], ws: WorkspaceDep, scope: ScopeDep) -> dict[str, Any]:
    """吊销接口密钥 Revoke an API key for good: the caller's own, or any for the centre (404 otherwise)."""
    return revoke_api_key(ws, scope, key_id)


router.include_router(secured)
