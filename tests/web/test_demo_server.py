"""The demo's server (the code path of ``carbonmet demo``): uvicorn on loopback over a small generated region with
the demo's users, each login seeing its enterprises; and an account answered from the cache is never stale."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from carbonmet import services
from carbonmet.cli import demo_server
from carbonmet.demo import DEMO_PASSWORD, DemoSite, create_demo_users
from carbonmet.services import Scope, Workspace

from .conftest import Site


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("demo")
    reg = root / "region"
    url = f"sqlite:///{root / 'registry.db'}"
    centre = Scope.centre(actor="demo")
    with Workspace(url, store_root=reg) as ws:
        services.generate_region(ws, centre, reg, enterprises=2, year=2025, seed=7, resolution="hour")
        services.import_registry(ws, centre, sorted((reg / "registry").glob("*.csv")))
        for f in sorted(Path(reg / "plans").glob("*.toml")):
            services.import_plan(ws, centre, f)
        logins = create_demo_users(ws, centre, ["E01", "E02"], verifier_orgs=("E02",))
    port = _free_port()
    server, ws = demo_server(DemoSite(root, url, reg, root / "home", logins), "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(600):  # bounded wait for uvicorn to listen; no timing is asserted
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        ws.close()


def _orgs(base: str, user: str) -> set[str]:
    with httpx.Client(base_url=base, timeout=60) as c:
        r = c.post("/api/v1/auth/token", data={"username": user, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}
        got = c.get("/api/v1/organisations", headers=h)
        assert got.status_code == 200, got.text
        return {o["org_code"] for o in got.json() if o["org_code"].startswith("E")}


def test_the_served_demo_answers_each_demo_login_with_its_enterprises(served: str) -> None:
    assert _orgs(served, "e01") == {"E01"}
    assert _orgs(served, "e02") == {"E02"}
    assert _orgs(served, "verifier") == {"E02"}
    assert _orgs(served, "regulator") == _orgs(served, "centre") == {"E01", "E02"}


def test_an_account_asked_again_after_new_readings_is_computed_from_them(site: Site) -> None:
    h = site.headers["alice"]
    first = site.client.get("/api/v1/accounts/E01/2025", headers=h)
    again = site.client.get("/api/v1/accounts/E01/2025", headers=h)
    assert first.status_code == again.status_code == 200
    assert again.json()["total"] == first.json()["total"]
    # February: the belt scale's counter goes on (January ends at 1000 + 100 t/h × 744 h)
    feb = [{"point_id": "E01.COAL", "ts": f"2025-02-01T{h:02d}:00:00+08:00", "value": 1000.0 + 100.0 * (744 + h)}
           for h in range(1, 24)]
    r = site.client.post("/api/v1/readings/json", headers=h, json={"readings": feb})
    assert r.status_code == 200 and r.json()["stored"] == len(feb), r.text
    after = site.client.get("/api/v1/accounts/E01/2025", headers=h)
    assert after.status_code == 200
    assert after.json()["total"]["value"] > first.json()["total"]["value"]
