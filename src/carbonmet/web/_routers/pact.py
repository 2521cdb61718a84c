"""PACT v3 exchange of product footprints (PACT Technical Specifications for PCF Data Exchange v3.0.3): the OAuth 2.0
client-credentials token, ``ListFootprints``, ``GetFootprint`` and the ``Events`` action (PACT 数据交换).

**Credentials.** A data recipient's system is a machine client, so it signs in with an API key, not a person's
password: ``client_id`` is the carbonmet user name and ``client_secret`` one of that user's API keys
(``cmk_…``, made by ``POST /api/v1/auth/keys`` or by the centre), sent as HTTP Basic (RFC 6749 §2.3.1; the form
fields ``client_id``/``client_secret`` are accepted too). The token is the API's own bearer token (same key, same
lifetime, :attr:`WebConfig.token_minutes`), so a recipient sees exactly what that user's role and tenancy allow —
the verifier assigned to an enterprise its footprints, the regulator all, an enterprise its own.

**Footprints** are computed by the services (:func:`carbonmet.services.pact_footprints`: the account of each
readable enterprise-year → the product rule → the PACT document), for the years of
:attr:`WebConfig.pact_years` (default: the previous calendar year), cached per data version; ids are stable
(:func:`carbonmet.footprint.pact.exchange_id`: enterprise, product, year, code version).

**Errors** on these routes are PACT ``Error`` objects (``code``, ``message``): a missing token 401
``AccessDenied``, an invalid one 400 ``BadRequest``, an expired one 401 ``TokenExpired``, an unknown id — or the
id of a footprint of an enterprise the caller may not read, the same answer — 404 ``NotFound``, a request the
schema refuses 400 ``BadRequest``.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field

from carbonmet.services import AuthenticationFailed, Scope, authenticate, pact_footprint, pact_footprints

from .._auth import ScopeDep, WorkspaceDep, current_caller, issue_token
from .._problems import JSONOut, json_of, pact_error

log = logging.getLogger("carbonmet.web.pact")
basic = HTTPBasic(auto_error=False, description="client id (user name) and client secret (one of its API keys)")
TAG = "PACT v3 产品碳足迹交换"
EVENT_TYPES = ("org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
               "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
               "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
               "org.wbcsd.pact.ProductFootprint.PublishedEvent.3")
DEFAULT_PAGE = 100

token_router = APIRouter(tags=[TAG])
router = APIRouter(prefix="/3", tags=[TAG], dependencies=[Depends(current_caller)])


class PactToken(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str = "footprint:list footprint:read"


class FootprintList(BaseModel):
    data: list[dict[str, Any]]


class FootprintOne(BaseModel):
    data: dict[str, Any]


class PactEvent(BaseModel):
    """A CloudEvent in structured mode (CloudEvents 1.0) of one of the four PACT v3 event types."""

    type: Literal[EVENT_TYPES]  # type: ignore[valid-type]
    specversion: str = Field(pattern=r"^1\.[0-9]+$", description="CloudEvents version (1.0)")
    id: str = Field(min_length=1, max_length=256)
    source: str = Field(min_length=1, max_length=2048)
    time: datetime
    data: dict[str, Any]


def _years(request: Request) -> tuple[int, ...]:
    years = request.app.state.config.pact_years
    return tuple(years) if years else (date.today().year - 1,)


@token_router.post("/auth/token", response_model=PactToken)
def pact_token(request: Request, ws: WorkspaceDep,
               grant_type: Annotated[str, Form(max_length=64, description="client_credentials")],
               credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)],
               client_id: Annotated[str | None, Form(max_length=64)] = None,
               client_secret: Annotated[str | None, Form(max_length=256)] = None) -> Any:
    """PACT 令牌 OAuth 2.0 client credentials (RFC 6749 §4.4) → a bearer token for the ``/3`` routes.

    ``client_id`` = user name, ``client_secret`` = one of its API keys; HTTP Basic or form fields. Five failures
    for one client id from one address within five minutes → 429, as for the password sign-in.
    """
    if grant_type != "client_credentials":
        return pact_error(400, f"不支持的授权类型 unsupported grant_type {grant_type!r} (client_credentials only)",
                          request.url.path, oauth_error="unsupported_grant_type")
    cid = credentials.username if credentials is not None else client_id
    secret = credentials.password if credentials is not None else client_secret
    if not cid or not secret:
        return pact_error(401, "需要客户端凭据 client authentication required (HTTP Basic client id and secret)",
                          request.url.path, headers={"WWW-Authenticate": 'Basic realm="carbonmet"'})
    limiter = request.app.state.limiter
    address = request.client.host if request.client else "?"
    wait = limiter.retry_after(cid, address)
    if wait is not None:
        return pact_error(429, f"失败次数过多，请 {wait} 秒后再试 / too many failed attempts, retry in {wait} s",
                          request.url.path, headers={"Retry-After": str(wait)})
    try:
        caller = authenticate(ws, Scope.nobody(), api_key=secret)
        if caller.username != cid:
            raise AuthenticationFailed()
    except AuthenticationFailed:
        limiter.failed(cid, address)
        return pact_error(401, "客户端认证失败 client authentication failed", request.url.path,
                          headers={"WWW-Authenticate": 'Basic realm="carbonmet"'})
    limiter.succeeded(cid, address)
    cfg = request.app.state.config
    token, seconds = issue_token(cfg.secret, caller.username, cfg.token_minutes)
    return {"access_token": token, "token_type": "Bearer", "expires_in": seconds,
            "scope": "footprint:list footprint:read"}


Many = Annotated[list[str] | None, Query(max_length=100)]


@router.get("/footprints", response_model=FootprintList)
def list_footprints(
    request: Request, ws: WorkspaceDep, scope: ScopeDep,
    limit: Annotated[int | None, Query(ge=0, le=1000, description="at most this many (default 100)")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="pagination: where the page starts")] = 0,
    product_id: Annotated[list[str] | None, Query(alias="productId", max_length=100)] = None,
    company_id: Annotated[list[str] | None, Query(alias="companyId", max_length=100)] = None,
    geography: Many = None,
    classification: Many = None,
    valid_on: Annotated[datetime | None, Query(alias="validOn")] = None,
    valid_after: Annotated[datetime | None, Query(alias="validAfter")] = None,
    valid_before: Annotated[datetime | None, Query(alias="validBefore")] = None,
    status: Annotated[str | None, Query(pattern="(?i)^(active|deprecated)$")] = None,
) -> Response:
    """ListFootprints 产品碳足迹列表: the footprints the caller may read, filtered as the specification says
    (OR within a criterion, AND across), at most ``limit`` (default 100) from ``offset``; a ``Link: <…>;
    rel="next"`` header (absolute, same host) when more follow."""
    criteria: dict[str, Any] = {"product_id": product_id or (), "company_id": company_id or (),
                                "geography": geography or (), "classification": classification or (),
                                "valid_on": valid_on, "valid_after": valid_after, "valid_before": valid_before,
                                "status": status}
    hits = pact_footprints(ws, scope, _years(request), **criteria)
    filtered = any(criteria.values())
    n = DEFAULT_PAGE if limit is None else limit
    end = offset + n
    headers = {}
    if end < len(hits):
        nxt = request.url.include_query_params(offset=end, limit=n)
        headers["Link"] = f'<{nxt}>; rel="next"'
    if filtered:
        return JSONOut({"data": hits[offset:end]}, headers=headers)
    out = json_of(hits, lambda ds: {"data": ds[offset:end]}, variant=f"pact:{offset}:{end}")
    out.headers.update(headers)
    return out


@router.get("/footprints/{pf_id}", response_model=FootprintOne)
def get_footprint(request: Request, pf_id: Annotated[str, Path(max_length=64)], ws: WorkspaceDep,
                  scope: ScopeDep) -> Response:
    """GetFootprint 单个产品碳足迹 by id; 404 ``NotFound`` for an unknown id and for one the caller may not read."""
    doc = pact_footprint(ws, scope, pf_id, _years(request))
    return json_of(doc, lambda d: {"data": d}, variant="pact-one")


def _event_problem(event: PactEvent) -> str | None:
    """What is wrong with the event's ``data`` for its type (None when it is acceptable)."""
    d = event.data
    kind = event.type.rsplit(".", 2)[-2]
    if kind == "RequestFulfilledEvent":
        if not isinstance(d.get("requestEventId"), str) or not d["requestEventId"]:
            return "data.requestEventId: required (the id of the request fulfilled)"
        if not isinstance(d.get("pfs"), list) or not d["pfs"] or not all(isinstance(x, dict) for x in d["pfs"]):
            return "data.pfs: a non-empty list of ProductFootprint objects is required"
    elif kind == "RequestRejectedEvent":
        if not isinstance(d.get("requestEventId"), str) or not d["requestEventId"]:
            return "data.requestEventId: required (the id of the request rejected)"
        err = d.get("error")
        if not (isinstance(err, dict) and isinstance(err.get("code"), str) and isinstance(err.get("message"), str)):
            return "data.error: an Error object with code and message is required"
    elif kind == "PublishedEvent" and not (isinstance(d.get("pfIds"), list)
                                           and all(isinstance(x, str) for x in d["pfIds"])):
        return "data.pfIds: a list of footprint ids is required"
    return None


@router.post("/events", status_code=200, response_class=Response,
             openapi_extra={"requestBody": {"content": {"application/cloudevents+json": {
                 "schema": {"$ref": "#/components/schemas/PactEvent"}}}}})
def events(event: PactEvent, scope: ScopeDep) -> Response:
    """Events 事件: a CloudEvent (``application/cloudevents+json``) of the four PACT v3 types → 200, empty body.

    A ``RequestCreatedEvent`` is accepted and logged; carbonmet sends no events back yet (no fulfilment by
    ``RequestFulfilledEvent``): the requester lists the footprints with the same criteria. The other three are
    validated and acknowledged. An unknown type or a malformed event → 400 ``BadRequest``.
    """
    wrong = _event_problem(event)
    if wrong is not None:
        return pact_error(400, f"事件无效 invalid {event.type}: {wrong}", "/3/events")
    log.info("PACT event %s id=%s source=%s from %s", event.type, event.id, event.source, scope.actor)
    return Response(status_code=200)
