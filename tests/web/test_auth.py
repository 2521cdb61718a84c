"""Signing in, token expiry, API keys, the login rate limit, jobs with progress and the problem-details shape —
against the real app over the region (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from carbonmet import services
from carbonmet.services import Scope
from carbonmet.web import issue_token

from .conftest import PASSWORD, SECRET, Site


def _problem(r: object, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert set(body) >= {"type", "title", "status", "detail", "instance"} and body["status"] == status
    return body  # type: ignore[no-any-return]


def test_signing_in_gives_a_thirty_minute_token_naming_the_role(site: Site) -> None:
    r = site.client.post("/api/v1/auth/token", data={"username": "alice", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer" and r.json()["expires_in"] == 1800
    claims = jwt.decode(r.json()["access_token"], SECRET, algorithms=["HS256"], issuer="carbonmet")
    assert claims["sub"] == "alice" and claims["exp"] - claims["iat"] == 1800
    me = site.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
    assert (me["role"], me["org_code"], me["read"], me["write"]) == ("enterprise", "E01", ["E01"], ["E01"])


def test_the_roles_scopes_as_the_api_reports_them(site: Site) -> None:
    me = {u: site.client.get("/api/v1/auth/me", headers=h).json() for u, h in site.headers.items()}
    assert me["reg"]["reads_every_organisation"] and not me["reg"]["all_access"] and me["reg"]["write"] == []
    assert me["centre"]["all_access"]
    assert (me["ver1"]["read"], me["ver1"]["write"]) == (["E01"], [])
    assert (me["bob"]["read"], me["bob"]["write"]) == (["E02"], ["E02"])


def test_a_wrong_password_is_401_with_www_authenticate(site: Site) -> None:
    r = site.client.post("/api/v1/auth/token", data={"username": "bob", "password": "wrong password"})
    body = _problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer") and "invalid user name" in str(body["detail"])
    unknown = site.client.post("/api/v1/auth/token", data={"username": "nosuchuser", "password": "wrong password"})
    assert _problem(unknown, 401)["detail"] == body["detail"]  # an unknown name reads like a wrong password


def test_an_expired_or_forged_token_is_refused(site: Site) -> None:
    old, _ = issue_token(SECRET, "alice", 30, now=datetime.now(UTC) - timedelta(minutes=31))
    forged, _ = issue_token("another-secret-" + "x" * 40, "centre", 30)
    unsigned = jwt.encode({"sub": "centre", "iss": "carbonmet", "iat": 0, "exp": 2**33}, "", algorithm="none")
    for token in (old, forged, unsigned, "not-a-token"):
        r = site.client.get("/api/v1/organisations", headers={"Authorization": f"Bearer {token}"})
        _problem(r, 401)
        assert "www-authenticate" in r.headers
    fresh, _ = issue_token(SECRET, "alice", 30, now=datetime.now(UTC) - timedelta(minutes=29))
    assert site.client.get("/api/v1/organisations", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_a_token_of_a_user_that_does_not_exist_is_refused(site: Site) -> None:
    token, _ = issue_token(SECRET, "ghost", 30)
    _problem(site.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)


def test_an_api_key_is_shown_once_and_acts_as_its_user(site: Site) -> None:
    r = site.client.post("/api/v1/auth/keys", headers=site.headers["bob"], json={"label": "数采仪 logger 7"})
    assert r.status_code == 201
    made = r.json()
    assert made["key"].startswith("cmk_") and made["username"] == "bob"
    me = site.client.get("/api/v1/auth/me", headers={"X-API-Key": made["key"]}).json()
    assert (me["username"], me["write"]) == ("bob", ["E02"])
    orgs = site.client.get("/api/v1/organisations", headers={"X-API-Key": made["key"]}).json()
    assert [o["org_code"] for o in orgs] == ["E02"]
    listed = site.client.get("/api/v1/users", headers=site.headers["centre"])
    assert made["key_id"] in listed.text and made["key"] not in listed.text  # the key is never shown again
    for bad in (made["key"][:-1] + ("A" if made["key"][-1] != "A" else "B"), "cmk_nothing", "plain"):
        _problem(site.client.get("/api/v1/auth/me", headers={"X-API-Key": bad}), 401)


def test_five_failed_sign_ins_lock_that_name_from_that_client_for_five_minutes(site: Site) -> None:
    services.create_user(site.ws, Scope.centre(), "dora", PASSWORD, "enterprise", org="E01")
    limiter = site.client.app.state.limiter  # type: ignore[attr-defined]
    now = [1000.0]
    saved = limiter.clock
    limiter.clock = lambda: now[0]
    try:
        for _ in range(5):
            _problem(site.client.post("/api/v1/auth/token", data={"username": "dora", "password": "nope nope"}), 401)
            now[0] += 10
        r = site.client.post("/api/v1/auth/token", data={"username": "dora", "password": PASSWORD})
        _problem(r, 429)
        assert int(r.headers["retry-after"]) == 300 - 50
        other = site.client.post("/api/v1/auth/token", data={"username": "alice", "password": PASSWORD})
        assert other.status_code == 200  # another name from the same client is not locked
        now[0] += 251  # the first failure has left the window
        ok = site.client.post("/api/v1/auth/token", data={"username": "dora", "password": PASSWORD})
        assert ok.status_code == 200
    finally:
        limiter.clock = saved


def test_errors_are_problem_details(site: Site) -> None:
    h = site.headers["centre"]
    body = _problem(site.client.get("/api/v1/instruments/NO-SUCH", headers=h), 404)
    assert body["instance"] == "/api/v1/instruments/NO-SUCH" and "NO-SUCH" in str(body["detail"])
    body = _problem(site.client.get("/api/v1/due", headers=h, params={"within_days": "soon"}), 422)
    assert "within_days" in str(body["detail"]) and body["errors"]
    _problem(site.client.get("/api/v1/nowhere", headers=h), 404)
    _problem(site.client.delete("/api/v1/organisations", headers=h), 405)
    _problem(site.client.get("/api/v1/users", headers=site.headers["reg"]), 403)
    bad = site.client.post("/api/v1/readings", headers=h, files={"files": ("r.txt", b"x")})
    assert "expected .csv" in str(_problem(bad, 422)["detail"])


def test_an_upload_answers_with_counts_and_quarantine_reasons(site: Site) -> None:
    body = ("point_id,ts,value,flag\nE01.COAL,2025-05-01T00:00:00+08:00,1,N\nE01.COAL,2025-05-01T01:00:00+08:00,2,Z\n"
            "E02.COAL,2025-05-01T00:00:00+08:00,3,N\n")
    r = site.client.post("/api/v1/readings", headers=site.headers["alice"], files={"files": ("may.csv", body)})
    assert r.status_code == 200
    d = r.json()
    assert (d["received"], d["stored"], d["quarantined"]) == (3, 1, 2)
    assert d["by_reason"] == {"invalid_flag": 1, "out_of_scope": 1} and d["files"][0]["origin"] == "may.csv"
    assert "/tmp" not in r.text


def test_a_job_reports_progress_and_is_seen_only_by_readers_of_its_enterprise(site: Site) -> None:
    r = site.client.post("/api/v1/jobs/accounting", headers=site.headers["alice"],
                         json={"enterprise": "E01", "year": 2025, "method": "lpu", "trials": 1000})
    assert r.status_code == 202 and r.json()["status"] in ("queued", "running", "failed", "done")
    job_id = r.json()["id"]
    for _ in range(200):  # bounded wait for the worker thread; no timing is asserted
        job = site.client.get(f"/api/v1/jobs/{job_id}", headers=site.headers["alice"]).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert job["status"] == "failed" and job["error"]["status"] == 400 and "streams" in job["error"]["detail"]
    assert job["progress"] >= 0.05 and job["finished_at"]
    for user in ("centre", "reg", "ver1"):
        assert site.client.get(f"/api/v1/jobs/{job_id}", headers=site.headers[user]).status_code == 200
    _problem(site.client.get(f"/api/v1/jobs/{job_id}", headers=site.headers["bob"]), 404)
    assert job_id not in site.client.get("/api/v1/jobs", headers=site.headers["bob"]).text
    _problem(site.client.post("/api/v1/jobs/accounting", headers=site.headers["bob"],
                              json={"enterprise": "E01", "year": 2025}), 404)


@pytest.mark.parametrize("role", ["regulator", "verifier", "enterprise"])
def test_only_the_centre_creates_users(site: Site, role: str) -> None:
    who = {"regulator": "reg", "verifier": "ver1", "enterprise": "alice"}[role]
    r = site.client.post("/api/v1/users", headers=site.headers[who],
                         json={"username": f"x-{role}", "password": PASSWORD, "role": "centre"})
    _problem(r, 403)


def test_the_openapi_document_and_its_page_are_served(site: Site) -> None:
    assert site.client.get("/docs").status_code == 200
    doc = site.client.get("/openapi.json").json()
    assert {"OAuth2PasswordBearer", "APIKeyHeader"} <= set(doc["components"]["securitySchemes"])
    assert {"HTTPBasic"} <= set(doc["components"]["securitySchemes"])  # the PACT client-credentials token
    pact = {"/auth/token", "/3/footprints", "/3/footprints/{pf_id}", "/3/events"}
    assert all(p.startswith("/api/v1/") for p in set(doc["paths"]) - pact) and pact <= set(doc["paths"])


def test_a_deactivated_user_is_refused_at_the_next_request_and_a_revoked_key_at_once(site: Site) -> None:
    services.create_user(site.ws, Scope.centre(), "gone", PASSWORD, "enterprise", org="E02")
    token = site.client.post("/api/v1/auth/token", data={"username": "gone", "password": PASSWORD}).json()
    h = {"Authorization": f"Bearer {token['access_token']}"}
    key = site.client.post("/api/v1/auth/keys", headers=h, json={"label": "device"}).json()
    assert site.client.get("/api/v1/auth/me", headers={"X-API-Key": key["key"]}).status_code == 200
    revoked = site.client.delete(f"/api/v1/auth/keys/{key['key_id']}", headers=h)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    _problem(site.client.get("/api/v1/auth/me", headers={"X-API-Key": key["key"]}), 401)
    off = site.client.patch("/api/v1/users/gone", headers=site.headers["centre"], json={"active": False})
    assert off.status_code == 200 and off.json()["changed"] is True
    _problem(site.client.get("/api/v1/auth/me", headers=h), 401)  # the token has not expired, the user is gone
    _problem(site.client.post("/api/v1/auth/token", data={"username": "gone", "password": PASSWORD}), 401)


def test_cached_listings_follow_every_audited_change_of_the_registry(site: Site, tmp_path: object) -> None:
    # the organisations and due list are kept per audit-log head: unchanged data → the same bytes, a change of
    # the registry (here: a new organisation, a certificate for E01's scale) → the new answer at once
    h = site.headers["reg"]
    first = site.client.get("/api/v1/organisations", headers=h)
    again = site.client.get("/api/v1/organisations", headers=h)
    assert first.status_code == 200 and first.content == again.content
    assert "E07" not in {o["org_code"] for o in first.json()}
    due = site.client.get("/api/v1/due", headers=h, params={"today": "2025-06-01", "include_ok": "true"}).json()
    before = next(i for i in due if i["instrument"] == "BS-E01")
    path = tmp_path / "organisations.csv"  # type: ignore[operator]
    path.write_text("org_code,name,kind,region,industry\nE07,丁化工有限公司,enterprise,示例市,coal_chemical\n",
                    encoding="utf-8")
    services.import_registry(site.ws, Scope.centre(), [path])
    cert = tmp_path / "certificates.csv"  # type: ignore[operator]
    cert.write_text("cert_no,kind,subject,subject_kind,issuer_org,calibration_date,valid_until,conclusion,U,k,"
                    "error_unit,standards_used\nC01-E01-2025,verification,BS-E01,instrument,C01,2025-05-20,"
                    "2026-05-20,conforms,,,,WRK-MASS\n", encoding="utf-8")
    services.import_registry(site.ws, Scope.centre(), [cert])
    after = site.client.get("/api/v1/organisations", headers=h).json()
    assert "E07" in {o["org_code"] for o in after}
    due = site.client.get("/api/v1/due", headers=h, params={"today": "2025-06-01", "include_ok": "true"}).json()
    now = next(i for i in due if i["instrument"] == "BS-E01")
    assert (before["last_certificate"], now["last_certificate"]) == ("C01-E01-2024", "C01-E01-2025")
    assert now["status"] == "ok" and before["status"] == "overdue"
