"""Errors as RFC 9457 problem details (``application/problem+json``: type, title, status, detail, instance).

One mapping for every route: ``NotInScope`` (and any look-up of a missing record) → 404, ``AccessDenied`` → 403,
``ImportRejected`` and request validation → 422, authentication → 401 with ``WWW-Authenticate``, too many
failed sign-ins → 429 with ``Retry-After``, any other ``ServiceError``/``CarbonmetError`` → 400.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic_core import to_json
from starlette.exceptions import HTTPException as StarletteHTTPException

from carbonmet.services import AccessDenied, AuthenticationFailed, CarbonmetError, ImportRejected
from carbonmet.services.cache import CacheMiss, cache_only_active

from ._auth import TokenExpired

PROBLEM = "application/problem+json"
TYPE_BASE = "https://carbonmet.example/problems/"
_TITLES = {400: "Bad request 请求无效", 401: "Unauthorized 未认证", 403: "Forbidden 无权访问",
           404: "Not found 不存在或不在范围内", 405: "Method not allowed 方法不允许",
           413: "Content too large 内容过大", 422: "Unprocessable content 内容无法处理",
           429: "Too many requests 请求过多", 500: "Internal server error 服务器内部错误"}
_TYPES = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
          413: "too-large", 422: "unprocessable", 429: "too-many-requests", 500: "internal"}
log = logging.getLogger("carbonmet.web")


class JSONOut(JSONResponse):
    """JSON with NaN and ±inf written as null (RFC 8259 has no NaN), dates and times in ISO 8601, other values
    (paths, numpy integers) as text; serialised by pydantic-core (compiled), UTF-8, no spaces."""

    def render(self, content: Any) -> bytes:
        return to_json(content, inf_nan_mode="null", fallback=str)


_RENDERED_SIZE = 256
_rendered: OrderedDict[tuple[int, str], tuple[Callable[[], object], bytes]] = OrderedDict()
_rendered_lock = threading.Lock()


def json_of(obj: object, plain: Callable[[Any], Any] = lambda x: x, *, variant: str = "") -> Response:
    """The JSON response of ``obj`` (``plain(obj)`` rendered), the rendered bytes kept with ``obj`` itself.

    For results the services cache and hand out again while the data are unchanged (a cached account, the due
    list of a registry version): the same object asked for again is answered with the same bytes, without
    converting and encoding it anew. An entry refers to its object weakly when it can (an account: it lives as long
    as the services' cache keeps it), else strongly (a list, a dict: the small registry listings); either way an
    entry answers only for the very object it was made from (least recently used out after 256). ``variant``
    tells apart renderings of one object. Within :func:`carbonmet.services.cache.cache_only` (the event loop's
    try, ``served``), an object not yet rendered raises :class:`~carbonmet.services.cache.CacheMiss`.
    """
    key = (id(obj), variant)
    with _rendered_lock:
        hit = _rendered.get(key)
        if hit is not None and hit[0]() is obj:
            _rendered.move_to_end(key)
            return Response(hit[1], media_type="application/json")
    if cache_only_active():
        raise CacheMiss(key)
    body = to_json(plain(obj), inf_nan_mode="null", fallback=str)
    try:
        ref: Callable[[], object] = weakref.ref(obj)
    except TypeError:  # lists and dicts cannot be referred to weakly

        def ref() -> object:
            return obj

    with _rendered_lock:
        _rendered[key] = (ref, body)
        _rendered.move_to_end(key)
        while len(_rendered) > _RENDERED_SIZE:
            _rendered.popitem(last=False)
    return Response(body, media_type="application/json")


#: Where the PACT v3 routes live: their errors are PACT ``Error`` objects, not problem details.
PACT_TOKEN_PATH = "/auth/token"
PACT_PREFIX = "/3/"
_PACT_CODES = {400: "BadRequest", 401: "AccessDenied", 403: "AccessDenied", 404: "NotFound", 500: "InternalError",
               501: "NotImplemented"}
_OAUTH_ERRORS = {401: "invalid_client", 429: "invalid_client"}


def is_pact(path: str) -> bool:
    """Whether ``path`` is one of the PACT v3 routes (``/auth/token``, ``/3/…``)."""
    return path == PACT_TOKEN_PATH or path.startswith(PACT_PREFIX)


def pact_error(status: int, message: str, path: str, *, code: str | None = None,
               headers: dict[str, str] | None = None, oauth_error: str | None = None) -> JSONOut:
    """A PACT v3 ``Error`` (``{"code", "message"}``, PACT Technical Specifications v3.0.3 components/schemas/Error).

    A request the API could not validate answers 400 ``BadRequest`` (PACT has no 422). On ``/auth/token`` the body
    carries the OAuth 2.0 error too (RFC 6749 §5.2: ``error``, ``error_description``), which is what a client of
    the client-credentials grant reads."""
    status = 400 if status in (405, 413, 422) else status
    body: dict[str, Any] = {"code": code or _PACT_CODES.get(status, "BadRequest"), "message": message}
    if path == PACT_TOKEN_PATH:
        body = {"error": oauth_error or _OAUTH_ERRORS.get(status, "invalid_request"), "error_description": message,
                **body}
    return JSONOut(body, status_code=status, headers=headers)


def problem(status: int, detail: str, request: Request, *, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONOut:
    """A problem-details response (a PACT ``Error`` on the PACT routes, :func:`pact_error`)."""
    if is_pact(request.url.path):
        return pact_error(status, detail, request.url.path, headers=headers, code=extra.get("pact_code"),
                          oauth_error=extra.get("oauth_error"))
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
        if isinstance(exc, AuthenticationFailed) and is_pact(request.url.path):
            # PACT: an expired token is 401 TokenExpired; any other bad token 400 BadRequest (conformance tests)
            expired = isinstance(exc, TokenExpired)
            return pact_error(401 if expired else 400, str(exc), request.url.path,
                              code="TokenExpired" if expired else "BadRequest",
                              headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
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
