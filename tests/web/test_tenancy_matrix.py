"""Every API route × every role × every tenant: no caller reads or writes another organisation's data.

The operations come from the app's own route table (and agree with its OpenAPI document), so a route added without a line in
``CALLS`` (how to call it for a given enterprise) fails :func:`test_every_route_has_a_call_in_the_matrix`, and the
matrix test itself cannot run over it. Oracles:

* a caller without credentials gets 401 (problem details, ``WWW-Authenticate``) on every route but sign-in;
* a listing or the caller's own records contain no code of an enterprise the role may not read;
* a record of an enterprise the role may not read answers 404 (or 403), never its data;
* a write to an enterprise the role may not write is refused (403/404, or for readings: nothing stored, all
  quarantined ``out_of_scope``) and changes nothing of that enterprise and nothing in the audit log;
* after any call, the data of every enterprise the role may not write is unchanged.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from carbonmet import services
from carbonmet.db import AuditEntry
from carbonmet.footprint.pact import exchange_id
from carbonmet.services import Scope, Workspace
from carbonmet.web import WebConfig, create_app, is_pact

from .conftest import DCC, ENTERPRISES, PASSWORD, SECRET, Site, lab_csv

READS = {"reg": {"E01", "E02"}, "centre": {"E01", "E02"}, "ver1": {"E01"}, "alice": {"E01"}, "bob": {"E02"}}
WRITES = {"reg": set(), "centre": {"E01", "E02"}, "ver1": set(), "alice": {"E01"}, "bob": {"E02"}}
ROLES = ("anonymous", *READS)
OWNER = {"E01": "alice", "E02": "bob"}
_n = itertools.count(1)

Send = Callable[[TestClient, dict[str, str], str, int], httpx.Response]


@dataclass(frozen=True)
class Call:
    """How to call one operation for enterprise ``target`` (``send``) and what kind of check applies."""

    kind: str  # public | self | list | centre | read | pact-read | write | user-keys | own-key
    send: Send
    denied_ok: Callable[[httpx.Response], bool] | None = None
    allowed_ok: Callable[[httpx.Response], bool] | None = None


def _get(path: str, **params: object) -> Send:
    return lambda c, h, t, n: c.get(path.format(t=t, n=n), headers=h, params=params)


def _ts(month: int, n: int) -> str:
    """A time that grows with ``n`` (the points are totalisers: their values must grow with time too)."""
    return (datetime(2025, month, 1, tzinfo=timezone(timedelta(hours=8))) + timedelta(minutes=n)).isoformat()


def _readings_csv(t: str, n: int) -> bytes:
    return f"point_id,ts,value\n{t}.COAL,{_ts(3, n)},{1_000_000 + n}\n".encode()


def _nothing_stored(r: httpx.Response) -> bool:
    return r.status_code == 200 and r.json()["stored"] == 0 and set(r.json()["by_reason"]) == {"out_of_scope"}


def _one_taken(r: httpx.Response) -> bool:
    return r.status_code == 200 and r.json()["stored"] + r.json()["duplicates"] == 1


def _dcc(t: str, n: int) -> bytes:
    return DCC.read_bytes().replace(b"LLJZ2025-03-0117", f"LLJZ-{t}-{n}".encode())


def _basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def _event(n: int) -> dict[str, object]:
    return {"type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3", "specversion": "1.0", "id": f"m{n}",
            "source": "//matrix.example", "time": "2026-01-01T00:00:00Z", "data": {"productId": ["urn:x:y"]}}


CALLS: dict[tuple[str, str], Call] = {
    # PACT v3: the token from the owner's API key (public: the credentials are in the call), the footprints the
    # caller reads (none exist in this small region: the positive cases are in test_pact.py), events
    ("POST", "/auth/token"): Call("public", lambda c, h, t, n: c.post(
        "/auth/token", data={"grant_type": "client_credentials"}, headers=_basic(OWNER[t], KEY_SECRETS[t]))),
    ("GET", "/3/footprints"): Call("list", _get("/3/footprints")),
    ("GET", "/3/footprints/{pf_id}"): Call("pact-read", lambda c, h, t, n: c.get(
        f"/3/footprints/{exchange_id(t, 'methanol', 2025)}", headers=h)),
    ("POST", "/3/events"): Call("self", lambda c, h, t, n: c.post("/3/events", headers=h, json=_event(n))),
    ("POST", "/api/v1/auth/token"): Call("public", lambda c, h, t, n: c.post(
        "/api/v1/auth/token", data={"username": OWNER[t], "password": PASSWORD})),
    ("GET", "/api/v1/auth/me"): Call("self", _get("/api/v1/auth/me")),
    ("POST", "/api/v1/auth/keys"): Call("self", lambda c, h, t, n: c.post(
        "/api/v1/auth/keys", headers=h, json={"label": f"matrix {n}"})),
    ("GET", "/api/v1/users"): Call("centre", _get("/api/v1/users")),
    ("POST", "/api/v1/users"): Call("centre", lambda c, h, t, n: c.post(
        "/api/v1/users", headers=h, json={"username": f"made{n}", "password": PASSWORD, "role": "enterprise",
                                          "org": t})),
    ("POST", "/api/v1/users/{username}/assignments"): Call("centre", lambda c, h, t, n: c.post(
        "/api/v1/users/ver2/assignments", headers=h, json={"org": t})),
    ("PATCH", "/api/v1/users/{username}"): Call("centre", lambda c, h, t, n: c.patch(
        "/api/v1/users/idle", headers=h, json={"active": n % 2 == 0})),
    ("DELETE", "/api/v1/auth/keys/{key_id}"): Call("own-key", lambda c, h, t, n: c.delete(
        f"/api/v1/auth/keys/{KEYS[t]}", headers=h)),
    ("POST", "/api/v1/users/{username}/keys"): Call("user-keys", lambda c, h, t, n: c.post(
        f"/api/v1/users/{OWNER[t]}/keys", headers=h, json={"label": f"for {n}"})),
    ("GET", "/api/v1/organisations"): Call("list", _get("/api/v1/organisations")),
    ("GET", "/api/v1/sites"): Call("list", _get("/api/v1/sites")),
    ("GET", "/api/v1/points"): Call("list", _get("/api/v1/points")),
    ("GET", "/api/v1/instruments"): Call("list", _get("/api/v1/instruments")),
    ("GET", "/api/v1/certificates"): Call("list", _get("/api/v1/certificates")),
    ("GET", "/api/v1/due"): Call("list", _get("/api/v1/due", today="2025-01-10", include_ok="true")),
    ("GET", "/api/v1/quarantine"): Call("list", _get("/api/v1/quarantine")),
    ("GET", "/api/v1/jobs"): Call("list", _get("/api/v1/jobs")),
    ("GET", "/api/v1/instruments/{ref}"): Call("read", _get("/api/v1/instruments/BS-{t}")),
    ("GET", "/api/v1/certificates/{cert_no}"): Call("read", _get("/api/v1/certificates/C01-{t}-2024")),
    ("GET", "/api/v1/accounts/{enterprise}/{year}"): Call("read", _get("/api/v1/accounts/{t}/2025")),
    ("GET", "/api/v1/comparison/{enterprise}/{year}"): Call("read", _get("/api/v1/comparison/{t}/2025")),
    ("GET", "/api/v1/review/{enterprise}"): Call("read", _get("/api/v1/review/{t}", date="2025-02-01")),
    ("POST", "/api/v1/jobs/accounting"): Call("read", lambda c, h, t, n: c.post(
        "/api/v1/jobs/accounting", headers=h, json={"enterprise": t, "year": 2025, "method": "lpu", "trials": 1000})),
    ("GET", "/api/v1/jobs/{job_id}"): Call("read", lambda c, h, t, n: c.get(f"/api/v1/jobs/{JOBS[t]}", headers=h)),
    ("POST", "/api/v1/readings"): Call("write", lambda c, h, t, n: c.post(
        "/api/v1/readings", headers=h, files={"files": (f"r{n}.csv", _readings_csv(t, n))}), _nothing_stored,
        _one_taken),
    ("POST", "/api/v1/readings/json"): Call("write", lambda c, h, t, n: c.post(
        "/api/v1/readings/json", headers=h, json={"readings": [
            {"point_id": f"{t}.COAL", "ts": _ts(4, n), "value": 2_000_000 + n}]}),
        _nothing_stored, _one_taken),
    ("POST", "/api/v1/lab"): Call("write", lambda c, h, t, n: c.post(
        "/api/v1/lab", headers=h, files={"files": (f"lab{n}.csv", lab_csv(t, f"M{n}"))})),
    ("POST", "/api/v1/certificates/dcc"): Call("write", lambda c, h, t, n: c.post(
        "/api/v1/certificates/dcc", headers=h, files={"file": (f"c{n}.xml", _dcc(t, n))},
        data={"instrument": f"BS-{t}", "issuer": "C01"})),
}
JOBS: dict[str, str] = {}
KEYS: dict[str, str] = {}  # a key id of each enterprise's user
KEY_SECRETS: dict[str, str] = {}  # a whole key of each enterprise's user (its PACT client secret)


def _route_table(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every API route the app serves, from its router (hidden routes included)."""
    try:
        from fastapi.routing import (
            iter_route_contexts,  # FastAPI ≥ 0.13x: included routers are resolved lazily
        )
    except ImportError:  # pragma: no cover - older FastAPI flattens included routers into app.routes
        pairs = [(r.path, set(r.methods)) for r in app.routes if isinstance(r, APIRoute)]
    else:
        pairs = [(c.path, set(c.methods or ())) for c in iter_route_contexts(app.router.routes)]
    return sorted({(m, p) for p, ms in pairs if p.startswith("/api/") or is_pact(p) for m in ms if m != "HEAD"})


_APP = create_app(Workspace("sqlite://"), WebConfig(secret=SECRET))  # the route table; no database is opened
OPERATIONS = _route_table(_APP)


def test_the_route_table_and_the_openapi_document_agree() -> None:
    documented = sorted((m.upper(), p) for p, ops in _APP.openapi()["paths"].items() for m in ops)
    assert OPERATIONS == documented  # no API route is hidden from the document schemathesis works from


def test_every_route_has_a_call_in_the_matrix() -> None:
    missing = set(OPERATIONS) - set(CALLS)
    assert not missing, f"routes without a line in CALLS (how to call them per tenant): {sorted(missing)}"
    assert not set(CALLS) - set(OPERATIONS), "CALLS names routes the app no longer has"


def _fingerprint(ws: Workspace, org: str) -> tuple[object, ...]:
    """What ``org`` holds, as the centre sees it: readings, lab results, certificates, instruments, users."""
    c = Scope.centre()
    return (services.point_readings(ws, c, f"{org}.COAL").num_rows,
            len(services.lab_results(ws, c, org, year=2025)),
            sorted(x["cert_no"] for x in services.list_certificates(ws, c) if x["owner_org"] == org),
            sorted(x["instrument_id"] for x in services.list_instruments(ws, c) if x["org_code"] == org),
            sorted(u["username"] for u in services.list_users(ws, c) if u["org_code"] == org))


def _audit_head(ws: Workspace) -> int:
    with ws.session() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _is_problem(r: httpx.Response) -> bool:
    body = r.json()
    return (r.headers["content-type"].startswith("application/problem+json")
            and {"type", "title", "status", "detail", "instance"} <= set(body) and body["status"] == r.status_code)


def _is_pact_error(r: httpx.Response) -> bool:
    body = r.json()
    return isinstance(body.get("code"), str) and isinstance(body.get("message"), str)


def _is_error_document(r: httpx.Response, path: str) -> bool:
    """A problem document under /api/, a PACT Error on the PACT routes."""
    return _is_pact_error(r) if is_pact(path) else _is_problem(r)


def _leaks(r: httpx.Response, role: str) -> set[str]:
    return {org for org in ENTERPRISES if org not in READS[role] and org in r.text}


@pytest.fixture(scope="module")
def matrix_site(site: Site) -> Site:
    services.create_user(site.ws, Scope.centre(), "ver2", PASSWORD, "verifier")
    services.create_user(site.ws, Scope.centre(), "idle", PASSWORD, "verifier")
    for t in ENTERPRISES:
        KEYS[t] = services.create_api_key(site.ws, Scope.centre(), OWNER[t], "matrix")["key_id"]
        KEY_SECRETS[t] = services.create_api_key(site.ws, Scope.centre(), OWNER[t], "matrix pact")["key"]
    for t in ENTERPRISES:
        r = site.client.post("/api/v1/jobs/accounting", headers=site.headers["centre"],
                             json={"enterprise": t, "year": 2025, "method": "lpu", "trials": 1000})
        JOBS[t] = r.json()["id"]
    return site


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_role_reads_or_writes_another_tenant(matrix_site: Site, method: str, path: str, role: str) -> None:
    call = CALLS[(method, path)]
    site = matrix_site
    headers = site.headers.get(role, {})
    for target in ENTERPRISES:
        n = next(_n)
        others = {o: _fingerprint(site.ws, o) for o in ENTERPRISES if role == "anonymous" or o not in WRITES[role]}
        head = _audit_head(site.ws)
        r = call.send(site.client, headers, target, n)
        where = f"{method} {path} as {role} for {target}: {r.status_code} {r.text[:300]}"
        assert r.status_code < 500, where
        if role == "anonymous":
            if call.kind == "public":
                assert r.status_code == 200, where
            else:
                assert r.status_code == 401 and _is_error_document(r, path) and "WWW-Authenticate" in r.headers, where
                assert _audit_head(site.ws) == head, where
        elif call.kind in ("list", "self", "public"):
            assert r.status_code in (200, 201), where
            assert not _leaks(r, role), where
        elif call.kind in ("centre", "user-keys", "own-key"):
            allowed = role == "centre" or (call.kind != "centre" and OWNER[target] == role)
            if allowed:
                assert r.status_code in (200, 201), where
            else:  # a key of another user reads like a missing one
                assert r.status_code == (404 if call.kind == "own-key" else 403) and _is_problem(r), where
                assert _audit_head(site.ws) == head, where
        elif call.kind == "pact-read":  # no footprint exists here: readers and others get the same 404
            assert r.status_code == 404 and _is_pact_error(r) and r.json()["code"] == "NotFound", where
            assert not _leaks(r, role), where
        elif call.kind == "read":
            if target in READS[role]:
                assert r.status_code not in (401, 403, 404), where
                assert not _leaks(r, role), where
            else:
                assert r.status_code in (403, 404) and _is_problem(r), where
        else:  # write
            if target in WRITES[role]:
                assert r.status_code not in (401, 403, 404), where
                assert call.allowed_ok is None or call.allowed_ok(r), where
                assert not _leaks(r, role), where
            else:  # the refusal may name the organisation the caller itself named, and nothing else
                ok = r.status_code in (403, 404) and _is_problem(r)
                assert ok or (call.denied_ok is not None and call.denied_ok(r)), where
                assert _audit_head(site.ws) == head, where
        after = {o: _fingerprint(site.ws, o) for o in others}
        assert after == others, f"{where}: changed data of {[o for o in others if after[o] != others[o]]}"


def test_a_denied_write_leaves_nothing_and_names_no_data(matrix_site: Site) -> None:
    r = matrix_site.client.post("/api/v1/lab", headers=matrix_site.headers["alice"],
                                files={"files": ("x.csv", lab_csv("E02", "SNEAK"))})
    assert r.status_code == 403 and "E02" in r.json()["detail"] and "22.7" not in r.text
    assert json.loads(r.text)["instance"] == "/api/v1/lab"
