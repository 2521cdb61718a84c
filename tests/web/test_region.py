"""The API over a generated region (two enterprises, the refdata generator, loaded the real way): an account as a
job with progress and as a direct answer agree with the service, and each role sees only its enterprises."""

from __future__ import annotations

import time
from datetime import date

import pytest

from carbonmet import services
from carbonmet.services import Scope

from .conftest import GEN_YEAR as YEAR


def test_an_account_as_a_job_reports_progress_and_equals_the_direct_answer(api: tuple) -> None:
    ws, client, h = api
    direct = client.get(f"/api/v1/accounts/E01/{YEAR}", headers=h["e1"], params={"method": "lpu"})
    assert direct.status_code == 200, direct.text
    want = services.account_enterprise(ws, Scope.enterprise("E01"), "E01", YEAR, method="lpu").to_dict()["total"]
    assert direct.json()["total"]["value"] == pytest.approx(want["value"]) and direct.json()["total"]["unit"] == "tCO2"
    r = client.post("/api/v1/jobs/accounting", headers=h["e1"],
                    json={"enterprise": "E01", "year": YEAR, "method": "lpu", "trials": 1000})
    assert r.status_code == 202
    for _ in range(600):  # bounded wait for the worker thread; no timing is asserted
        job = client.get(f"/api/v1/jobs/{r.json()['id']}", headers=h["e1"]).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert (job["status"], job["progress"], job["error"]) == ("done", 1.0, None)
    assert job["result"]["total"]["value"] == pytest.approx(want["value"])
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=h["e2"]).status_code == 404
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=h["mee"]).json()["status"] == "done"


def test_each_role_sees_its_enterprises_of_the_generated_region(api: tuple) -> None:
    ws, client, h = api
    orgs = {u: {o["org_code"] for o in client.get("/api/v1/organisations", headers=h[u]).json()} for u in h}
    assert orgs["e1"] == {"E01"} and orgs["e2"] == {"E02"} and {"E01", "E02"} <= orgs["mee"]
    points = {p["org_code"] for p in client.get("/api/v1/points", headers=h["e2"]).json()}
    assert points == {"E02"}
    assert client.get(f"/api/v1/accounts/E02/{YEAR}", headers=h["e1"]).status_code == 404
    review = client.get("/api/v1/review/E02", headers=h["mee"], params={"date": "2025-12-31"})
    want = services.review_enterprise(ws, Scope.regulator(), "E02", date(2025, 12, 31))
    assert review.status_code == 200 and len(review.json()["findings"]) == len(want.findings)
