"""The pages in a real browser: Playwright for Python driving the system's Chromium against the app served by
uvicorn over a generated region (two enterprises). Each role signs in and sees exactly its enterprises, an
enterprise page draws its chart, an upload shows its counts, the account report downloads as a PDF.
Screenshots go to ``tests/artifacts/browser/`` (not committed)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from carbonmet import services
from carbonmet.services import Scope, Workspace
from carbonmet.web import WebConfig, create_app

from .conftest import PASSWORD, SECRET

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

YEAR = 2025
CHROMIUM = os.environ.get("CARBONMET_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "browser"
#: user → (role, organisation, the enterprises its overview must list); the verifier is assigned E02 only.
USERS = {"mee": ("regulator", None, {"E01", "E02"}), "admin": ("centre", None, {"E01", "E02"}),
         "audit2": ("verifier", None, {"E02"}), "plant1": ("enterprise", "E01", {"E01"})}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a generated region, served by uvicorn in a thread on a free port of 127.0.0.1."""
    import uvicorn

    root = tmp_path_factory.mktemp("browser-region")
    reg = root / "region"
    ws = Workspace(f"sqlite:///{root / 'r.db'}", store_root=reg, home=root / "home")
    services.generate_region(ws, Scope.nobody(), reg, enterprises=2, year=YEAR, seed=11, resolution="hour")
    centre = Scope.centre()
    services.import_registry(ws, centre, sorted((reg / "registry").glob("*.csv")))
    for f in sorted((reg / "plans").glob("*.toml")):
        services.import_plan(ws, centre, f)
    services.import_lab(ws, centre, [reg / "lab" / "lab.csv"])
    for name, (role, org, _) in USERS.items():
        services.create_user(ws, centre, name, PASSWORD, role, org=org)
    services.assign_verifier(ws, centre, "audit2", "E02")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(ws, WebConfig(secret=SECRET)), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(400):  # bounded wait for start-up; nothing about timing is asserted
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    ws.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM} (scripts/system-packages.txt installs it)")
        pytest.skip(f"no Chromium at {CHROMIUM}; run `make system-deps`")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module", autouse=True)
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def signed_in(browser: Any, base_url: str, user: str) -> Any:
    """A new browser context signed in as ``user`` through the sign-in form, on the overview page."""
    ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    page.goto("/")
    assert "/login" in page.url  # no session: the pages send you to sign in
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base_url}/")
    return page


def painted_pixels(page: Any, selector: str) -> int:
    """How many pixels of the canvas under ``selector`` are not transparent."""
    page.wait_for_selector(f"{selector} canvas")
    return int(page.eval_on_selector(f"{selector} canvas", """c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) n++; } return n; }"""))


@pytest.mark.parametrize("user", list(USERS))
def test_each_role_signs_in_and_sees_exactly_its_enterprises(browser: Any, base_url: str, user: str) -> None:
    page = signed_in(browser, base_url, user)
    listed = {r.get_attribute("data-org") for r in page.query_selector_all("#enterprises tr[data-org]")}
    assert listed == USERS[user][2]
    page.wait_for_selector("#accounts-table tr[data-account]")
    accounts = {r.get_attribute("data-account") for r in page.query_selector_all("#accounts-table tr[data-account]")}
    assert accounts == USERS[user][2]
    assert painted_pixels(page, "#accounts") > 1000
    page.screenshot(path=str(ARTIFACTS / f"overview-{user}.png"), full_page=True)
    page.context.close()


def test_an_enterprise_page_draws_its_monthly_chart_and_hides_other_enterprises(browser: Any, base_url: str) -> None:
    page = signed_in(browser, base_url, "plant1")
    page.click("#enterprises a[href^='/enterprises/E01']")
    page.wait_for_selector("#streams")
    assert "tCO2" in page.inner_text("#total")
    assert painted_pixels(page, "div[data-chart-name='monthly']") > 1000
    page.screenshot(path=str(ARTIFACTS / "enterprise-E01.png"), full_page=True)
    other = page.goto(f"/enterprises/E02?year={YEAR}")
    assert other is not None and other.status == 404
    page.goto(f"/enterprises/E01?year={YEAR}&lang=en")
    assert "Sign out" in page.inner_text("header")
    page.context.close()


def test_a_readings_upload_shows_its_counts(browser: Any, base_url: str, tmp_path: Path) -> None:
    page = signed_in(browser, base_url, "plant1")
    page.goto("/quality")
    page.wait_for_selector("#gaps tr[data-org]")
    assert {r.get_attribute("data-org") for r in page.query_selector_all("#gaps tr[data-org]")} == {"E01"}
    csv = tmp_path / "upload.csv"
    csv.write_text("point_id,ts,value\n"
                   "E01.BOILER_COAL,2026-02-01T00:00:00+08:00,90000000.0\n"
                   "E01.BOILER_COAL,2026-02-01T01:00:00+08:00,90000050.0\n"
                   "E01.BOILER_COAL,2026-02-01T02:00:00+08:00,80000000.0\n"  # a totaliser going backwards
                   "E02.BOILER_COAL,2026-02-01T00:00:00+08:00,3.0\n", encoding="utf-8")  # not plant1's
    page.set_input_files("#files", str(csv))
    page.click("#upload-button")
    counts = page.wait_for_selector("#upload-counts")
    assert counts is not None
    got = {k: counts.get_attribute(f"data-{k}") for k in ("received", "stored", "quarantined", "duplicates")}
    assert got == {"received": "4", "stored": "2", "quarantined": "2", "duplicates": "0"}, counts.inner_text()
    assert "out_of_scope: 1" in counts.inner_text() and "totaliser_decrease: 1" in counts.inner_text()
    page.screenshot(path=str(ARTIFACTS / "upload.png"), full_page=True)
    page.context.close()


def test_the_account_report_downloads_as_a_pdf(browser: Any, base_url: str) -> None:
    page = signed_in(browser, base_url, "plant1")
    page.goto(f"/enterprises/E01?year={YEAR}")
    with page.expect_download(timeout=60_000) as info:
        page.click("#pdf-link")
    path = info.value.path()
    data = Path(path).read_bytes()
    assert data.startswith(b"%PDF-")
    shutil.copy(path, ARTIFACTS / "account-E01.pdf")
    page.context.close()


def test_the_reverse_trace_draws_the_chain_within_the_callers_scope(browser: Any, base_url: str) -> None:
    page = signed_in(browser, base_url, "plant1")
    page.goto("/instruments")
    page.click("#trace-link")
    options = [o.get_attribute("value") for o in page.query_selector_all("#standards option")]
    assert options, "the standards behind plant1's certificates are offered"
    for standard in options:
        page.goto(f"/instruments/trace?standard={standard}&date_from={YEAR - 1}-01-01&date_to={YEAR}-12-31")
        if page.query_selector("div[data-chart-name='trace']"):
            break
    else:
        pytest.fail("no standard of the region traces to anything")
    assert painted_pixels(page, "div[data-chart-name='trace']") > 500
    points = [r.inner_text() for r in page.query_selector_all("#trace-periods tbody tr td:first-child")]
    assert points and all(p.startswith("E01.") for p in points)
    page.screenshot(path=str(ARTIFACTS / "trace.png"), full_page=True)
    page.context.close()
