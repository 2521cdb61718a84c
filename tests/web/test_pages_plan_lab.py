"""The monitoring-plan and laboratory-results pages: read-only, the caller's scope only (404 for another
enterprise, as the API), zh-CN first and English on request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from carbonmet import services
from carbonmet.services import Scope, Workspace
from carbonmet.web import WebConfig, create_app

from .conftest import GEN_YEAR, SECRET, Site, lab_csv, page_sign_in, plan_text


@pytest.fixture(scope="module")
def region(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The region with one laboratory result per enterprise and a second plan version for E01."""
    d = tmp_path_factory.mktemp("lab")
    files = []
    for org in ("E01", "E02"):
        (d / f"lab-{org}.csv").write_bytes(lab_csv(org, f"S-{org}-1"))
        files.append(d / f"lab-{org}.csv")
    services.import_lab(site.ws, Scope.centre(), files)
    v2 = plan_text("E01").replace("version = 1\nvalid_from = 2025-01-01", "version = 2\nvalid_from = 2025-07-01")
    v2 += '\n[[changes]]\nversion = 2\nchanged_on = 2025-06-20\nby = "E01"\nreason = "second belt scale"\n'
    (d / "plan-E01-v2.toml").write_text(v2, encoding="utf-8")
    services.import_plan(site.ws, Scope.centre(), d / "plan-E01-v2.toml")
    return site


@pytest.fixture
def client(region: Site) -> Iterator[TestClient]:
    with TestClient(create_app(region.ws, WebConfig(secret=SECRET))) as c:
        yield c


def test_the_plan_page_shows_the_current_version_its_rows_and_the_stored_versions(client: TestClient) -> None:
    page_sign_in(client, "alice")
    page = client.get("/enterprises/E01/plan")
    assert page.status_code == 200 and "监测计划" in page.text
    assert "版本 2" in page.text and "second belt scale" in page.text and "E01.COAL" in page.text
    assert "BS-E01" in page.text and "2025-07-01" in page.text
    assert 'href="/enterprises/E01/plan?version=1"' in page.text
    v1 = client.get("/enterprises/E01/plan?version=1&lang=en")
    assert v1.status_code == 200 and "Monitoring plan" in v1.text and "Version 1" in v1.text
    assert "second belt scale" not in v1.text  # the change log of version 1 only
    assert client.get("/enterprises/E01/plan?version=9").status_code == 404


def test_the_lab_page_shows_the_years_results_with_their_uncertainty(client: TestClient) -> None:
    page_sign_in(client, "alice")
    page = client.get("/enterprises/E01/lab?year=2025")
    assert page.status_code == 200 and "化验结果" in page.text
    assert "S-E01-1" in page.text and "22.7 ± 0.12 (2.0) MJ/kg" in page.text and "CAL-E01" in page.text
    assert "GB/T 213-2008" in page.text and "R-S-E01-1" in page.text
    assert "S-E02-1" not in page.text
    assert "S-E01-1" not in client.get("/enterprises/E01/lab?year=2024").text
    only = client.get("/enterprises/E01/lab?year=2025&analyte=moisture&lang=en")
    assert only.status_code == 200 and "Laboratory results" in only.text and "S-E01-1" not in only.text


@pytest.mark.parametrize("user", ["alice", "ver1"])  # an enterprise user and a verifier assigned E01 only
def test_another_enterprises_plan_and_lab_pages_answer_404(client: TestClient, user: str) -> None:
    page_sign_in(client, user)
    for path in ("/enterprises/E02/plan", "/enterprises/E02/plan?version=1", "/enterprises/E02/lab?year=2025"):
        r = client.get(path)
        assert r.status_code == 404 and "S-E02-1" not in r.text and "E02.COAL" not in r.text, (user, path)
    assert client.get("/enterprises/E01/lab?year=2025").status_code == 200


def test_the_regulator_reads_every_enterprise_and_a_page_needs_a_session(client: TestClient) -> None:
    r = client.get("/enterprises/E02/plan", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/enterprises/E02/plan")
    page_sign_in(client, "reg")
    assert "S-E02-1" in client.get("/enterprises/E02/lab?year=2025").text
    assert "E02.COAL" in client.get("/enterprises/E02/plan").text


def test_the_pages_are_linked_from_the_enterprise_page_of_a_generated_region(
        api: tuple[Workspace, TestClient, dict[str, dict[str, str]]]) -> None:
    """The generated region (plans with their streams, a year of readings and lab results) behind its own client."""
    ws, _, _ = api
    with TestClient(create_app(ws, WebConfig(secret=SECRET))) as c:
        page_sign_in(c, "e1")
        page = c.get(f"/enterprises/E01?year={GEN_YEAR}")
        assert page.status_code == 200
        assert 'href="/enterprises/E01/plan"' in page.text
        assert f'href="/enterprises/E01/lab?year={GEN_YEAR}"' in page.text
        lab = c.get(f"/enterprises/E01/lab?year={GEN_YEAR}")
        assert lab.status_code == 200 and "E01." in lab.text and "化验结果" in lab.text
        plan = c.get("/enterprises/E01/plan")
        assert plan.status_code == 200 and "activity_data" in plan.text
