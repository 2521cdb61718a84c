"""The monthly-deposits page of an enterprise and the centre's users-and-roles page: read-only, the caller's scope
only (404 for another enterprise's deposits, 403 for the users page outside the centre, as the API), zh-CN first
and English on request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from carbonmet import services
from carbonmet.deposits import deposit_rules
from carbonmet.services import Scope, Workspace
from carbonmet.web import WebConfig, create_app

from .conftest import GEN_YEAR, SECRET, Site, page_sign_in

TZ = ZoneInfo("Asia/Shanghai")
ON = "2025-05-01"  # March is missing by then (due 20 April), April not yet due


def _deposit_file(d: Path, org: str, month: str, value: float, stream: str = "boiler_coal", unit: str = "t",
                  reason: str = "") -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "ledger.txt").write_text(f"{org} {month} ledger: {value} {unit}\n", encoding="utf-8")
    f = d / f"{org}-{month}.csv"
    f.write_text("source_stream,parameter,value,unit,evidence,evidence_kind,reason\n"
                 f"{stream},activity_data,{value},{unit},ledger.txt,ledger,{reason}\n", encoding="utf-8")
    return f


@pytest.fixture(scope="module")
def region(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """E01: January on time and corrected once, February late; E02: January on time. An API key for alice."""
    d = tmp_path_factory.mktemp("deposits")
    e01 = Scope.enterprise("E01")
    services.deposit_month(site.ws, e01, "E01", "2025-01", _deposit_file(d / "a", "E01", "2025-01", 74400),
                           now=datetime(2025, 2, 10, 9, tzinfo=TZ))
    services.deposit_month(site.ws, e01, "E01", "2025-01",
                           _deposit_file(d / "b", "E01", "2025-01", 74410, reason="ledger re-read"),
                           now=datetime(2025, 2, 15, 9, tzinfo=TZ))
    services.deposit_month(site.ws, e01, "E01", "2025-02", _deposit_file(d / "c", "E01", "2025-02", 67200),
                           now=datetime(2025, 4, 1, 9, tzinfo=TZ))
    services.deposit_month(site.ws, Scope.enterprise("E02"), "E02", "2025-01",
                           _deposit_file(d / "d", "E02", "2025-01", 55555), now=datetime(2025, 2, 10, 9, tzinfo=TZ))
    services.create_api_key(site.ws, Scope.centre(), "alice", "laptop-sync")
    return site


@pytest.fixture
def client(region: Site) -> Iterator[TestClient]:
    with TestClient(create_app(region.ws, WebConfig(secret=SECRET))) as c:
        yield c


def _cell(text: str, month: str) -> str:
    """The status-matrix cell of ``month`` (``YYYY-MM``): its data-status and its mark."""
    head = f'data-month="{month}" data-status="'
    i = text.index(head) + len(head)
    status = text[i:text.index('"', i)]
    j = text.index(">", i) + 1
    return f"{status} {text[j:text.index('</td>', j)]}"


def test_the_deposits_page_shows_each_month_versions_and_every_stored_version(client: TestClient) -> None:
    page_sign_in(client, "alice")
    page = client.get(f"/enterprises/E01/deposits?year=2025&on={ON}")
    assert page.status_code == 200 and "月度存证" in page.text and "存证状态" in page.text
    assert [_cell(page.text, m) for m in ("2025-01", "2025-02", "2025-03", "2025-04")] == [
        "on_time ●+1", "late ◐", "missing ✗", "not_due ·"]
    assert "按期: 1" in page.text and "逾期: 1" in page.text and "缺失: 1" in page.text
    assert "ledger re-read" in page.text and "74410" in page.text and "74400" in page.text and "67200" in page.text
    assert "ledger.txt (ledger)" in page.text
    assert "55555" not in page.text  # E02's deposit
    assert 'id="account-error"' in page.text  # this region's plans have no streams table: status only
    en = client.get(f"/enterprises/E01/deposits?year=2025&on={ON}&lang=en")
    assert en.status_code == 200 and "Monthly deposits" in en.text and "corrections" in en.text
    assert "missing" in en.text and "Every stored version" in en.text
    empty = client.get("/enterprises/E01/deposits?year=2024&on=2024-06-01")
    assert empty.status_code == 200 and "74400" not in empty.text and _cell(empty.text, "2024-01") == "missing ✗"


@pytest.mark.parametrize("user", ["alice", "ver1"])  # an enterprise user and a verifier assigned E01 only
def test_another_enterprises_deposits_answer_404(client: TestClient, user: str) -> None:
    page_sign_in(client, user)
    for path in ("/enterprises/E02/deposits", "/enterprises/E02/deposits?year=2025", "/enterprises/C01/deposits"):
        r = client.get(path)
        assert r.status_code == 404 and "55555" not in r.text, (user, path)
    assert "74410" in client.get("/enterprises/E01/deposits?year=2025").text


@pytest.mark.parametrize("user", ["reg", "centre"])
def test_the_regulator_and_the_centre_read_every_enterprises_deposits(client: TestClient, user: str) -> None:
    page_sign_in(client, user)
    e02 = client.get(f"/enterprises/E02/deposits?year=2025&on={ON}")
    assert e02.status_code == 200 and "55555" in e02.text and _cell(e02.text, "2025-02") == "missing ✗"
    assert "74410" in client.get("/enterprises/E01/deposits?year=2025").text


def test_the_users_page_lists_users_roles_assignments_and_key_labels_for_the_centre(
        client: TestClient, region: Site) -> None:
    r = client.get("/users", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/users")
    page_sign_in(client, "centre")
    page = client.get("/users")
    assert page.status_code == 200 and "用户与角色" in page.text and 'href="/users"' in page.text
    rows = services.list_users(region.ws, Scope.centre())
    for u in rows:
        assert f'data-user="{u["username"]}"' in page.text
    assert "主管部门" in page.text and "核查机构" in page.text and "计量中心" in page.text
    ver = page.text[page.text.index('data-user="ver1"'):]
    assert ver[:ver.index("</tr>")].count('href="/enterprises/E01"') == 1  # ver1's assignment
    alice = page.text[page.text.index('data-user="alice"'):]
    assert "laptop-sync" in alice[:alice.index("</tr>")]
    for u in rows:  # a key's label and creation time only: never its id, secret or a password hash
        for k in u["api_keys"]:
            assert k["key_id"] not in page.text and "cmk_" not in page.text
    assert "argon2" not in page.text and "hash" not in page.text.lower()
    en = client.get("/users?lang=en")
    assert en.status_code == 200 and "Users and roles" in en.text and "API keys" in en.text


@pytest.mark.parametrize("user", ["reg", "ver1", "alice"])
def test_the_users_page_is_the_centres_only(client: TestClient, user: str) -> None:
    page_sign_in(client, user)
    r = client.get("/users")
    assert r.status_code == 403 and "无权访问" in r.text and "laptop-sync" not in r.text and 'data-user="bob"' not in r.text
    assert 'href="/users"' not in client.get("/").text


def test_the_deposits_page_is_linked_and_shows_where_the_account_differs(
        api: tuple[Workspace, TestClient, dict[str, dict[str, str]]], tmp_path: Path) -> None:
    """The generated region (plans with their streams, a year of readings): January of one stream deposited 50 %
    above the account's figure is a finding, and so is every month the account used but nobody deposited."""
    ws, _, _ = api
    centre = Scope.centre()
    acc = services.account_enterprise(ws, centre, "E01", GEN_YEAR, method="lpu").to_dict()
    rules = deposit_rules()
    deposited = {p.source_stream for p in services.show_plan(ws, centre, "E01").parameters
                 if p.parameter == "activity_data" and rules.deposited(p.parameter, p.frequency)}
    month = f"{GEN_YEAR}-01"
    name, value, unit = next(
        (s["name"], p["value"], s["activity"]["unit"]) for s in acc["streams"]
        if s["name"] in deposited and s.get("kind") != "co2_recovered" and not s["activity"].get("items")
        for p in s["activity"].get("periods") or [] if p["period"] == month and p["value"])
    services.deposit_month(ws, Scope.enterprise("E01"), "E01", month,
                           _deposit_file(tmp_path, "E01", month, 1.5 * value, stream=name, unit=unit),
                           now=datetime(GEN_YEAR, 2, 10, 9, tzinfo=TZ))
    with TestClient(create_app(ws, WebConfig(secret=SECRET))) as c:
        page_sign_in(c, "e1")
        ent = c.get(f"/enterprises/E01?year={GEN_YEAR}")
        assert ent.status_code == 200 and f'href="/enterprises/E01/deposits?year={GEN_YEAR}"' in ent.text
        page = c.get(f"/enterprises/E01/deposits?year={GEN_YEAR}")
        assert page.status_code == 200 and 'id="deposit-findings"' in page.text
        row = page.text[page.text.index('class="diff-compared"'):]
        row = row[:row.index("</tr>")]
        assert name in row and month in row and "+50.000 %" in row and "超差" in row
        assert 'class="diff-not_deposited"' in page.text and "未存证" in page.text
        grid_row = page.text[page.text.index(f"<tr><td>{name}</td><td>activity_data</td>"):]
        assert _cell(grid_row[:grid_row.index("</tr>")], month) == "on_time ●"
        assert c.get(f"/enterprises/E02/deposits?year={GEN_YEAR}").status_code == 404
