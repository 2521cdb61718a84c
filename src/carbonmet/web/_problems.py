"""Errors as RFC 9457 problem details (``application/problem+json``: type, title, status, detail, instance).

One mapping for every route: ``NotInScope`` (and any look-up of a missing record) → 404, ``AccessDenied`` → 403,
``ImportRejected`` and request validation → 422, authentication → 401 with ``WWW-Authenticate``, too many
failed sign-ins → 429 with ``Retry-After``, any other ``ServiceError``/``CarbonmetError`` → 400.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from carbonmet.services import AccessDenied, AuthenticationFailed, CarbonmetError, ImportRejected

PROBLEM = "application/problem+json"
TYPE_BASE = "https://carbonmet.example/problems/"
_TITLES = {400: "Bad request 请求无效", 401: "Unauthorized 未认证", 403: "Forbidden 无权访问",
           404: "Not found 不存在或不在范围内", 405: "Method not allowed 方法不允许",
           413: "Content too large 内容过大", 422: "Unprocessable content 内容无法处理",
           429: "Too many requests 请求过多", 500: "Internal server error 服务器内部错误"}
_TYPES = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
          413: "too-large", 422: "unprocessable", 429: "too-many-requests", 500: "internal"}
log = logging.getLogger("carbonmet.web")


def _clean(v: Any) -> Any:
    """JSON-safe: non-finite floats become null (RFC 8259 has no NaN), containers recursively."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


class JSONOut(JSONResponse):
    """JSON with NaN and ±inf written as null and other values (dates, paths) as text."""

    def render(self, content: Any) -> bytes:
        return json.dumps(_clean(content), ensure_ascii=False, allow_nan=False, default=str,
                          separators=(",", ":")).encode("utf-8")


def problem(status: int, detail: str, request: Request, *, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONOut:
    """A problem-details response."""
    body = {"type": TYPE_BASE + _TYPES.get(status, str(status)), "title": _TITLES.get(status, str(status)),
            "status": status, "detail": detail, "instance": request.url.path, **extra}
    return JSONOut(body, status_code=status, headers=headers, media_type=PROBLEM)


def status_of(exc: CarbonmetError) -> int:
    """The HTTP status of a domain or service error."""
    if isinstance(exc, AuthenticationFailed):
        return 401
    if isinstance(exc, LookupError):  # NotInScope, a registry look-up of a missing record
        return 404
    if isinstance(exc, AccessDenied | PermissionError):
        return 403
    if isinstance(exc, ImportRejected):
        return 422
    return 400


def install(app: FastAPI) -> None:
    """Register the problem-details handlers on ``app``."""

    async def carbonmet_error(request: Request, exc: Exception) -> JSONOut:
        assert isinstance(exc, CarbonmetError)
        status = status_of(exc)
        headers = {"WWW-Authenticate": 'Bearer realm="carbonmet"'} if status == 401 else None
        return problem(status, str(exc), request, headers=headers)

    async def http_error(request: Request, exc: Exception) -> JSONOut:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, ensure_ascii=False)
        return problem(exc.status_code, detail, request, headers=getattr(exc, "headers", None))

    async def validation_error(request: Request, exc: Exception) -> JSONOut:
        assert isinstance(exc, RequestValidationError)
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": e.get("type")}
                  for e in exc.errors()]
        where = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)
        return problem(422, f"请求参数无效 invalid request: {where}", request, errors=errors)

    async def unexpected(request: Request, exc: Exception) -> JSONOut:
        log.exception("unhandled error on %s", request.url.path)
        return problem(500, "服务器内部错误 internal error (logged)", request)

    app.add_exception_handler(CarbonmetError, carbonmet_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
