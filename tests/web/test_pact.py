"""The PACT v3 exchange over a generated region (two enterprises, loaded the real way): a data recipient signs in
with the client-credentials grant (user name + API key), lists and fetches exactly the footprints its role and
tenancy allow, pages through them with the Link header, filters them, and posts events; every error is a PACT
``Error`` (code, message)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from carbonmet import services
from carbonmet.footprint.pact import check_product_footprint, exchange_id
from carbonmet.services import Scope
from carbonmet.web import issue_token

from .conftest import GEN_YEAR, SECRET

API = tuple[Any, TestClient, dict[str, dict[str, str]]]
CREATED = "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3"


def _basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def _pact_token(client: TestClient, user: str, key: str) -> dict[str, str]:
    r = client.post("/auth/token", data={"grant_type": "client_credentials"}, headers=_basic(user, key))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    return {"Authorization": f"Bearer {body['access_token']}"}


@pytest.fixture(scope="module")
def pact(api: API) -> dict[str, dict[str, str]]:
    """A PACT bearer token per user, each obtained with one of its own API keys."""
    ws, client, _ = api
    keys = {u: services.create_api_key(ws, Scope.centre(), u, "pact recipient")["key"] for u in ("e1", "e2", "mee")}
    return {u: _pact_token(client, u, k) for u, k in keys.items()} | {"_keys": keys}  # type: ignore[dict-item]


def _is_pact_error(r: httpx.Response, status: int, code: str) -> bool:
    body = r.json()
    return r.status_code == status and body.get("code") == code and isinstance(body.get("message"), str)


def _all(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = client.get("/3/footprints", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]  # type: ignore[no-any-return]


def test_each_recipient_lists_exactly_the_footprints_of_its_enterprises(api: API, pact: dict) -> None:
    ws, client, _ = api
    mine = {u: _all(client, pact[u]) for u in ("e1", "e2", "mee")}
    orgs = {u: {d["companyIds"][0].rsplit(":", 1)[1] for d in docs} for u, docs in mine.items()}
    assert orgs["e1"] == {"E01"} and orgs["e2"] == {"E02"} and orgs["mee"] == {"E01", "E02"}
    assert sorted(d["id"] for d in mine["mee"]) == sorted(d["id"] for u in ("e1", "e2") for d in mine[u])
    for d in mine["mee"]:
        assert check_product_footprint(d) == [], d["id"]  # a valid v3.0.3 ProductFootprint
        org, product = d["productIds"][0].rsplit(":", 2)[1:]
        assert d["id"] == exchange_id(org, product, GEN_YEAR)  # stable: enterprise, product, year, code version
        want = services.footprint_enterprise(ws, Scope.regulator(), org, GEN_YEAR, product).pact
        assert d["pcf"] == want["pcf"]  # the figures are the service's


def test_a_footprint_by_id_is_found_by_its_readers_and_not_found_by_others(api: API, pact: dict) -> None:
    _, client, _ = api
    e2_doc = _all(client, pact["e2"])[0]
    r = client.get(f"/3/footprints/{e2_doc['id']}", headers=pact["mee"])
    assert r.status_code == 200 and r.json()["data"] == e2_doc
    assert client.get(f"/3/footprints/{e2_doc['id']}", headers=pact["e2"]).json()["data"]["id"] == e2_doc["id"]
    denied = client.get(f"/3/footprints/{e2_doc['id']}", headers=pact["e1"])
    missing = client.get("/3/footprints/non-existent-id", headers=pact["e1"])
    assert _is_pact_error(denied, 404, "NotFound") and _is_pact_error(missing, 404, "NotFound")
    assert "E02" not in denied.text and e2_doc["companyName"] not in denied.text


def test_pagination_follows_absolute_next_links_on_the_same_host(api: API, pact: dict) -> None:
    _, client, _ = api
    everything = _all(client, pact["mee"])
    assert len(everything) >= 2
    seen: list[str] = []
    url = "/3/footprints?limit=1"
    while True:
        r = client.get(url, headers=pact["mee"])
        assert r.status_code == 200 and len(r.json()["data"]) <= 1
        seen += [d["id"] for d in r.json()["data"]]
        link = r.headers.get("link")
        if link is None:
            break
        m = re.fullmatch(r'<(http://testserver/3/footprints\?[^>]+)>; rel="next"', link)
        assert m is not None, link
        url = m.group(1)
    assert seen == [d["id"] for d in everything]
    assert client.get("/3/footprints", headers=pact["mee"], params={"limit": 0}).json()["data"] == []


def test_filters_combine_or_within_and_across_criteria(api: API, pact: dict) -> None:
    _, client, _ = api
    docs = _all(client, pact["mee"])
    one = docs[0]
    pid = one["productIds"][0]
    assert [d["id"] for d in _all(client, pact["mee"], productId=pid.upper())] == [one["id"]]  # case-insensitive
    other = docs[-1]["productIds"][0]
    both = _all(client, pact["mee"], productId=[pid, other])
    assert {d["id"] for d in both} == {one["id"], docs[-1]["id"]}
    country = one["pcf"]["geographyCountrySubdivision"].split("-")[0]
    assert one["id"] in {d["id"] for d in _all(client, pact["mee"], geography=country, productId=pid)}
    assert _all(client, pact["mee"], geography="DE") == []
    assert _all(client, pact["mee"], status="deprecated") == []
    assert len(_all(client, pact["mee"], status="Active")) == len(docs)
    # no validity period given: valid for 3 years from the end of the reference period
    end = datetime.fromisoformat(one["pcf"]["referencePeriodEnd"])
    assert one["id"] in {d["id"] for d in _all(client, pact["mee"], validOn=(end + timedelta(days=30)).isoformat())}
    assert _all(client, pact["mee"], validOn=(end + timedelta(days=4 * 366)).isoformat()) == []
    assert _all(client, pact["mee"], validBefore="2026-01-01T00:00:00Z") == []
    bad = client.get("/3/footprints", headers=pact["mee"], params={"limit": -1})
    assert _is_pact_error(bad, 400, "BadRequest")


def test_the_token_endpoint_answers_oauth_and_pact_errors(api: API, pact: dict) -> None:
    _, client, _ = api
    keys = pact["_keys"]
    wrong = client.post("/auth/token", data={"grant_type": "client_credentials"}, headers=_basic("e1", "cmk_x_y"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client" and "code" in wrong.json()
    swapped = client.post("/auth/token", data={"grant_type": "client_credentials"}, headers=_basic("e1", keys["e2"]))
    assert swapped.status_code == 401 and "access_token" not in swapped.text
    grant = client.post("/auth/token", data={"grant_type": "password"}, headers=_basic("e1", keys["e1"]))
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    form = client.post("/auth/token", data={"grant_type": "client_credentials", "client_id": "e1",
                                            "client_secret": keys["e1"]})
    assert form.status_code == 200 and form.json()["access_token"]
    assert client.post("/auth/token", data={}, headers=_basic("e1", keys["e1"])).json()["error"] == "invalid_request"


def test_missing_invalid_and_expired_tokens_answer_pact_errors(api: API) -> None:
    _, client, _ = api
    assert _is_pact_error(client.get("/3/footprints"), 401, "AccessDenied")
    bad = client.get("/3/footprints", headers={"Authorization": "Bearer invalid-access-token"})
    assert _is_pact_error(bad, 400, "BadRequest")
    old, _ = issue_token(SECRET, "e1", 1.0, now=datetime.now(UTC) - timedelta(hours=1))
    expired = client.get("/3/footprints", headers={"Authorization": f"Bearer {old}"})
    assert _is_pact_error(expired, 401, "TokenExpired")
    assert _is_pact_error(client.post("/3/events", headers={"Authorization": "Bearer x"}, json={}), 400, "BadRequest")


def _event(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": f"org.wbcsd.pact.ProductFootprint.{kind}.3", "specversion": "1.0", "id": f"ev-{kind}",
            "source": "//recipient.example/3/events", "time": "2026-03-05T17:31:00Z", "data": data}


def test_events_of_the_four_types_are_accepted_and_malformed_ones_refused(api: API, pact: dict) -> None:
    _, client, _ = api
    h = pact["e1"] | {"Content-Type": "application/cloudevents+json; charset=UTF-8"}
    ok = {"RequestCreatedEvent": {"productId": ["urn:carbonmet:product:E01:methanol"], "geography": ["CN"]},
          "RequestFulfilledEvent": {"requestEventId": "r1", "pfs": [{"id": "x"}]},
          "RequestRejectedEvent": {"requestEventId": "r1", "error": {"code": "NotFound", "message": "none"}},
          "PublishedEvent": {"pfIds": ["079e425a-464f-528d-341d-4a944a1dfd70"]}}
    for kind, data in ok.items():
        r = client.post("/3/events", headers=h, content=httpx.Request("POST", "/", json=_event(kind, data)).content)
        assert r.status_code == 200 and r.content == b"", (kind, r.text)
    for kind, data in (("RequestRejectedEvent", {"requestEventId": "r1"}), ("RequestFulfilledEvent",
                       {"requestEventId": "r1", "pfs": []}), ("SomethingElse", {})):
        r = client.post("/3/events", headers=pact["e1"], json=_event(kind, data))
        assert _is_pact_error(r, 400, "BadRequest"), (kind, r.text)
    assert _is_pact_error(client.post("/3/events", json=_event("RequestCreatedEvent", {})), 401, "AccessDenied")
