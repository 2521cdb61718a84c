"""The demo's server (the code path of ``carbonmet demo``): uvicorn on loopback over a small generated region with
the demo's users, each login seeing its enterprises; and an account answered from the cache is never stale."""

from __future__ import annotations

import csv
import io
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from carbonmet import services
from carbonmet.cli import demo_server
from carbonmet.demo import DEMO_PASSWORD, DemoSite, create_demo_users
from carbonmet.services import Scope, Workspace


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("demo")
    reg = root / "region"
    url = f"sqlite:///{root / 'registry.db'}"
    centre = Scope.centre(actor="demo")
    with Workspace(url, store_root=reg) as ws:
        services.generate_region(ws, centre, reg, enterprises=2, year=2025, seed=7, resolution="hour")
        services.import_registry(ws, centre, sorted((reg / "registry").glob("*.csv")))
        for f in sorted(Path(reg / "plans").glob("*.toml")):
            services.import_plan(ws, centre, f)
        services.import_lab(ws, centre, [reg / "lab" / "lab.csv"])
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
        yield f"http://127.0.0.1:{port}", reg
    finally:
        server.should_exit = True
        thread.join(30)
        ws.close()


def _login(c: httpx.Client, user: str) -> dict[str, str]:
    r = c.post("/api/v1/auth/token", data={"username": user, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _orgs(base: str, user: str) -> set[str]:
    with httpx.Client(base_url=base, timeout=60) as c:
        got = c.get("/api/v1/organisations", headers=_login(c, user))
        assert got.status_code == 200, got.text
        return {o["org_code"] for o in got.json() if o["org_code"].startswith("E")}


def test_the_served_demo_answers_each_demo_login_with_its_enterprises(served: tuple[str, Path]) -> None:
    base, _ = served
    assert _orgs(base, "e01") == {"E01"}
    assert _orgs(base, "e02") == {"E02"}
    assert _orgs(base, "verifier") == {"E02"}
    assert _orgs(base, "regulator") == _orgs(base, "centre") == {"E01", "E02"}


def test_an_account_asked_again_after_new_lab_results_is_computed_from_them(served: tuple[str, Path]) -> None:
    base, region = served
    with httpx.Client(base_url=base, timeout=300) as c:
        h = _login(c, "e01")
        first = c.get("/api/v1/accounts/E01/2025", headers=h)
        again = c.get("/api/v1/accounts/E01/2025", headers=h)
        assert first.status_code == again.status_code == 200, first.text
        assert again.json()["total"] == first.json()["total"]
        # one more boiler-coal carbon content result, far above the others: the account rises
        with (region / "lab" / "lab.csv").open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        row = next(
            r for r in rows if r["point_id"] == "E01.BOILER_COAL.LAB" and r["analyte"] == "carbon_content"
        )
        # a lot starting one day into the first one: its hours take the new result
        start = (datetime.fromisoformat(row["sampled_from"]) + timedelta(days=1)).isoformat()
        row = {
            **row,
            "sample_id": "E01-EXTRA-1",
            "report_no": "E01-EXTRA-1",
            "value": "95.0",
            "sampled_from": start,
        }
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)
        r = c.post("/api/v1/lab", headers=h, files={"files": ("extra.csv", out.getvalue().encode())})
        assert r.status_code == 200 and r.json()["stored"] == 1, r.text
        after = c.get("/api/v1/accounts/E01/2025", headers=h)
    assert after.status_code == 200
    assert after.json()["total"]["value"] > first.json()["total"]["value"]
