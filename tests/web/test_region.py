"""The API over a generated region (two enterprises, the refdata generator, loaded the real way): an account as a
job with progress and as a direct answer agree with the service, and each role sees only its enterprises."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from carbonmet import services
from carbonmet.services import Scope, Workspace
from carbonmet.web import WebConfig, create_app

from .conftest import PASSWORD, SECRET, login

YEAR = 2025


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, TestClient, dict[str, dict[str, str]]]]:
    root = tmp_path_factory.mktemp("genregion")
    reg = root / "region"
    ws = Workspace(f"sqlite:///{root / 'r.db'}", store_root=reg, home=root / "home")
    services.generate_region(ws, Scope.nobody(), reg, enterprises=2, year=YEAR, seed=7, resolution="hour")
    centre = Scope.centre()
    services.import_registry(ws, centre, sorted((reg / "registry").glob("*.csv")))
    for f in sorted(Path(reg / "plans").glob("*.toml")):
        services.import_plan(ws, centre, f)
    services.import_lab(ws, centre, [reg / "lab" / "lab.csv"])
    for name, role, org in (("e1", "enterprise", "E01"), ("e2", "enterprise", "E02"), ("mee", "regulator", None)):
        services.create_user(ws, centre, name, PASSWORD, role, org=org)
    with TestClient(create_app(ws, WebConfig(secret=SECRET))) as client:
        yield ws, client, {u: login(client, u) for u in ("e1", "e2", "mee")}
    ws.close()


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
