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
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

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


def token_subject(secret: str, token: str) -> str:
    """The subject of a valid token.

    Raises
    ------
    AuthenticationFailed
        Bad signature, expired, wrong issuer or algorithm, no subject.
    """
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "iss"]})
    except jwt.PyJWTError:
        raise AuthenticationFailed() from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise AuthenticationFailed()
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


def request_workspace(request: Request) -> Iterator[Workspace]:
    """One workspace per request (the app's database, its own store handle), closed after the response."""
    ws: Workspace = request.app.state.workspace.fork()
    try:
        yield ws
    finally:
        ws.close()


WorkspaceDep = Annotated[Workspace, Depends(request_workspace)]


def current_caller(
    request: Request,
    ws: WorkspaceDep,
    token: Annotated[str | None, Depends(bearer)],
    key: Annotated[str | None, Depends(api_key_header)],
) -> Caller:
    """The authenticated caller of this request (bearer token, API key or the pages' session cookie); 401 otherwise.

    With the cookie alone, a request other than GET/HEAD/OPTIONS must carry the session's CSRF token in the
    ``X-CSRF-Token`` header (403 otherwise).
    """
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


CallerDep = Annotated[Caller, Depends(current_caller)]


def current_scope(caller: CallerDep) -> Scope:
    """The caller's :class:`Scope`: the only thing handlers pass on to the services."""
    return caller.scope


ScopeDep = Annotated[Scope, Depends(current_scope)]
