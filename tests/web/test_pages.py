"""The pages without a browser: sign-in sets an HttpOnly SameSite=Strict session cookie, pages without one
redirect to the sign-in form, the cookie is the same credential as a bearer token for the API (with a CSRF token
for writes), another enterprise's page answers 404 like the API, English on request, nothing from outside."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from carbonmet.web import WebConfig, create_app, is_pact

from .conftest import PASSWORD, SECRET, Site


@pytest.fixture
def browser_like(site: Site) -> Iterator[TestClient]:
    """A client of its own (own cookie jar) on the region's app."""
    with TestClient(create_app(site.ws, WebConfig(secret=SECRET))) as client:
        yield client


def sign_in(client: TestClient, user: str) -> str:
    r = client.post("/login", data={"username": user, "password": PASSWORD, "next": "/quality"},
                    follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/quality")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "carbonmet_session=" in cookie
    page = client.get("/quality")
    m = re.search(r'"X-CSRF-Token": "([0-9a-f]+)"', page.text)
    assert m, "the page carries the session's CSRF token for htmx"
    return m.group(1)


def test_a_page_without_a_session_redirects_to_the_sign_in_form(browser_like: TestClient) -> None:
    r = browser_like.get("/instruments?on=2025-01-31", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/instruments")
    assert browser_like.get("/login").status_code == 200


def test_sign_in_redirects_only_within_the_site(browser_like: TestClient) -> None:
    for evil in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
        r = browser_like.post("/login", data={"username": "alice", "password": PASSWORD, "next": evil},
                              follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/")


def test_a_wrong_password_shows_the_form_again_and_sets_no_cookie(browser_like: TestClient) -> None:
    r = browser_like.post("/login", data={"username": "alice", "password": "wrong password"},
                          follow_redirects=False)
    assert r.status_code == 401 and "login-error" in r.text and "set-cookie" not in r.headers


def test_the_session_cookie_reads_the_api_and_writes_only_with_the_csrf_token(browser_like: TestClient) -> None:
    csrf = sign_in(browser_like, "alice")
    assert browser_like.get("/api/v1/auth/me").json()["username"] == "alice"
    body = {"readings": [{"point_id": "E01.COAL", "ts": "2025-03-01T00:00:00+08:00", "value": 9e6}]}
    refused = browser_like.post("/api/v1/readings/json", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    ok = browser_like.post("/api/v1/readings/json", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["received"] == 1


def test_an_enterprise_user_gets_404_for_another_enterprises_pages(browser_like: TestClient) -> None:
    sign_in(browser_like, "alice")
    for path in ("/enterprises/E02?year=2025", "/enterprises/E02/review?year=2025",
                 "/enterprises/E02/report.pdf?year=2025", "/enterprises/E02/comparison?year=2025",
                 "/enterprises/E02/footprint?year=2025", "/enterprises/E02/footprint/methanol.json?year=2025",
                 "/certificates/C01-E02-2024"):
        r = browser_like.get(path)
        assert r.status_code == 404 and "乙电力" not in r.text and "BS-E02" not in r.text, path
    assert browser_like.get("/certificates/C01-E01-2024").status_code == 200


def test_the_instruments_page_lists_only_the_callers_instruments(browser_like: TestClient) -> None:
    sign_in(browser_like, "bob")
    page = browser_like.get("/instruments?on=2025-01-31")
    assert page.status_code == 200 and "BS-E02" in page.text and "BS-E01" not in page.text


def test_pages_are_chinese_first_and_english_on_request(browser_like: TestClient) -> None:
    sign_in(browser_like, "reg")
    assert "数据质量" in browser_like.get("/quality").text
    en = browser_like.get("/quality?lang=en")
    assert "Data quality" in en.text and "carbonmet_lang=en" in en.headers["set-cookie"]
    assert "Data quality" in browser_like.get("/quality").text  # remembered


def test_pages_load_nothing_from_outside_and_stay_out_of_the_openapi_document(browser_like: TestClient) -> None:
    sign_in(browser_like, "centre")
    html = browser_like.get("/quality").text
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for asset in ("/static/vendor/echarts.min.js", "/static/vendor/htmx.min.js", "/static/charts.js"):
        assert browser_like.get(asset).status_code == 200
    paths = browser_like.app.openapi()["paths"]  # type: ignore[attr-defined]
    assert all(p.startswith("/api/") or is_pact(p) for p in paths)  # the API and the PACT v3 routes only


def test_signing_out_clears_the_session(browser_like: TestClient) -> None:
    sign_in(browser_like, "alice")
    r = browser_like.post("/logout", follow_redirects=False)
    assert r.status_code == 303 and 'carbonmet_session=""' in r.headers["set-cookie"]
    assert browser_like.get("/quality", follow_redirects=False).status_code == 303
