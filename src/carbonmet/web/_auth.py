"""Credentials → :class:`carbonmet.services.Caller`: the one dependency every API route goes through.

A request carries a bearer token (``Authorization: Bearer <JWT>``, HS256, issued by ``POST
/api/v1/auth/token``, valid :attr:`WebConfig.token_minutes`), an API key (``X-API-Key: cmk_…``), or — from the
pages' sign-in form — the same token in the HttpOnly, SameSite=Strict cookie :data:`TOKEN_COOKIE`; a request
that changes something on the strength of the cookie alone must also send the session's CSRF token
(:func:`csrf_token`) in the ``X-CSRF-Token`` header. The token is
checked here (signature, expiry, issuer); who its subject is and what the subject may see is decided by
:func:`carbonmet.services.authenticate` on every request, so a deactivated user or a changed assignment takes
effect at once. Failed sign-ins are counted per user name and client (:class:`LoginLimiter`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as ASGIScope

from carbonmet.services import AuthenticationFailed, Caller, Scope, Workspace, authenticate

ISSUER = "carbonmet"
ALGORITHM = "HS256"

TOKEN_COOKIE = "carbonmet_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def issue_token(secret: str, username: str, minutes: float, *, now: datetime | None = None) -> tuple[str, int]:
    """A signed access token for ``username``: ``(token, seconds valid)``."""
    t = now or datetime.now(UTC)
    exp = t + timedelta(minutes=minutes)
    claims = {"sub": username, "iss": ISSUER, "iat": int(t.timestamp()), "exp": int(exp.timestamp()),
              "jti": uuid.uuid4().hex}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), int(minutes * 60)


class TokenExpired(AuthenticationFailed):
    """An access token that was valid and has expired (PACT answers it ``TokenExpired``; elsewhere a 401 like any
    other failed authentication)."""


_verified: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()
_verified_lock = threading.Lock()
_VERIFIED_SIZE = 4096


def token_subject(secret: str, token: str, *, now: float | None = None) -> str:
    """The subject of a valid token.

    A token whose signature, issuer and claims were checked once is remembered with its subject and expiry
    (at most 4096, least recently used out): later requests with it check the expiry alone — the signature of
    the same bytes under the same key cannot change. ``now`` (seconds since the epoch) is for tests.

    Raises
    ------
    AuthenticationFailed
        Bad signature, expired, wrong issuer or algorithm, no subject.
    """
    t = time.time() if now is None else now
    key = (secret, token)
    with _verified_lock:
        hit = _verified.get(key)
        if hit is not None:
            _verified.move_to_end(key)
    if hit is not None:
        if t >= hit[1]:
            raise TokenExpired()
        return hit[0]
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "iss"]})
    except jwt.ExpiredSignatureError:
        raise TokenExpired() from None
    except jwt.PyJWTError:
        raise AuthenticationFailed() from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise AuthenticationFailed()
    exp = float(claims["exp"])
    if t >= exp:  # PyJWT allows no leeway by default; the clock may be a test's
        raise TokenExpired()
    with _verified_lock:
        _verified[key] = (sub, exp)
        while len(_verified) > _VERIFIED_SIZE:
            _verified.popitem(last=False)
    return sub


def csrf_token(secret: str, session_token: str) -> str:
    """The CSRF token of a page session: an HMAC of the session's access token (stateless, one per sign-in)."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()[:40]


class LoginLimiter:
    """At most ``limit`` failed sign-ins per (user name, client) in ``window`` seconds; then 429 until the oldest
    failure leaves the window. A successful sign-in clears the count. ``clock`` is injectable for tests."""

    def __init__(self, limit: int = 5, window: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._fails: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and now - q[0] >= self.window:
            q.popleft()
        return q

    def retry_after(self, username: str, client: str) -> int | None:
        """Seconds to wait before the next attempt, or None when one is allowed now."""
        with self._lock:
            now = self.clock()
            q = self._recent((username, client), now)
            if len(q) < self.limit:
                return None
            return max(1, math.ceil(self.window - (now - q[0])))

    def failed(self, username: str, client: str) -> None:
        with self._lock:
            now = self.clock()
            self._recent((username, client), now).append(now)

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._fails.pop((username, client), None)


#: Key in the ASGI scope of the list of workspaces opened for a request (closed by :class:`WorkspaceCleanup`).
WORKSPACES = "carbonmet.workspaces"


class WorkspaceCleanup:
    """ASGI middleware closing the workspaces a request opened (:func:`request_workspace`) once the app answered.

    A plain function dependency with this clean-up costs less per request than a ``yield`` dependency (which
    FastAPI wraps in a new context manager every time)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        opened: list[Workspace] = []
        scope[WORKSPACES] = opened
        try:
            await self.app(scope, receive, send)
        finally:
            for ws in opened:
                ws.close()


async def request_workspace(request: Request) -> Workspace:
    """One workspace per request (the app's database, its own store handle), closed after the response.

    Forking is a few attribute copies once the database is open: done on the event loop, no trip through the
    thread pool. The first request opens (and migrates) the database in the thread pool."""
    app_ws: Workspace = request.app.state.workspace
    if getattr(request.app.state, "workspace_open", False):
        ws = app_ws.fork()
    else:
        ws = await run_in_threadpool(app_ws.fork)
        request.app.state.workspace_open = True
    request.scope.setdefault(WORKSPACES, []).append(ws)
    return ws


WorkspaceDep = Annotated[Workspace, Depends(request_workspace)]


def caller_of(request: Request, ws: Workspace, token: str | None, key: str | None) -> Caller:
    """The authenticated caller of a request (blocking: reads the database when the registry changed)."""
    secret = request.app.state.config.secret
    if key:
        return authenticate(ws, Scope.nobody(), api_key=key)
    if token:
        return authenticate(ws, Scope.nobody(), username=token_subject(secret, token))
    cookie = request.cookies.get(TOKEN_COOKIE)
    if cookie:
        caller = authenticate(ws, Scope.nobody(), username=token_subject(secret, cookie))
        if request.method not in SAFE_METHODS and not hmac.compare_digest(
                request.headers.get(CSRF_HEADER, ""), csrf_token(secret, cookie)):
            raise HTTPException(403, "CSRF 令牌无效 missing or wrong CSRF token (X-CSRF-Token)")
        return caller
    raise HTTPException(401, "需要认证 authentication required: a bearer token or an X-API-Key",
                        headers={"WWW-Authenticate": 'Bearer realm="carbonmet"'})


async def current_caller(
    request: Request,
    ws: WorkspaceDep,
    token: Annotated[str | None, Depends(bearer)],
    key: Annotated[str | None, Depends(api_key_header)],
) -> Caller:
    """The authenticated caller of this request (bearer token, API key or the pages' session cookie); 401 otherwise.

    With the cookie alone, a request other than GET/HEAD/OPTIONS must carry the session's CSRF token in the
    ``X-CSRF-Token`` header (403 otherwise).

    The check (:func:`caller_of`) runs on the event loop, not in the thread pool: while the registry is
    unchanged it is the token's signature, one indexed query (the audit log's head) and a dictionary look-up
    (:func:`carbonmet.services.authenticate` keeps callers per registry version), cheaper than the trip to a
    worker thread and back; after a change, one more query reads the user. Password sign-in (Argon2id) stays
    in the thread pool (``POST /api/v1/auth/token`` is a plain function route).
    """
    return caller_of(request, ws, token, key)


CallerDep = Annotated[Caller, Depends(current_caller)]


async def current_scope(caller: CallerDep) -> Scope:
    """The caller's :class:`Scope`: the only thing handlers pass on to the services."""
    return caller.scope


ScopeDep = Annotated[Scope, Depends(current_scope)]
