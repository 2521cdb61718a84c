"""A small region behind the real app: E01 and E02 (and the institute C01) in a real registry on SQLite and
PostgreSQL, January 2025 readings, a monitoring plan each, a calorimeter each for lab results, and one user per
role. Module-scoped: the tests that only read share it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from carbonmet import services
from carbonmet.services import Scope, Workspace
from carbonmet.web import WebConfig, create_app

PG_ADMIN_URL = os.environ.get("CARBONMET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ENTERPRISES = ("E01", "E02")
SECRET = "test-secret-" + "k" * 40
PASSWORD = "correct horse battery"
DCC = Path(__file__).parents[1] / "data" / "dcc" / "gas_flow_meter_v3.3.0.xml"

REGISTRY = {
    "organisations": "org_code,name,kind,region,industry\n"
                     "C01,示例市计量检测中心,metrology_institute,示例市,\n"
                     "E01,甲煤化有限公司,enterprise,示例市,coal_chemical\n"
                     "E02,乙电力有限公司,enterprise,示例市,power\n",
    "sites": "site_code,org_code,name\nE01-S1,E01,甲厂区\nE02-S1,E02,乙厂区\n",
    "points": "point_id,site_code,name,quantity,carrier,unit,reading_kind,level,source_stream\n"
              "E01.COAL,E01-S1,入炉煤,mass,raw_coal,t,total,L1,boiler_coal\n"
              "E02.COAL,E02-S1,入炉煤,mass,raw_coal,t,total,L1,boiler_coal\n"
              "E01.COAL.LAB,E01-S1,入炉煤采样,ncv,raw_coal,MJ/kg,sample,,boiler_coal\n"
              "E02.COAL.LAB,E02-S1,入炉煤采样,ncv,raw_coal,MJ/kg,sample,,boiler_coal\n",
    "standards": "standard_code,name,holder_org,level,quantity\nWRK-MASS,链码秤工作标准,C01,working,mass\n",
    "instruments": "serial,instrument_id,org_code,type,unit,mpe_rel,legal_category,point_id,installed_from,status\n"
                   "S-E01,BS-E01,E01,belt_scale,t/h,0.5,non_mandatory,E01.COAL,2024-01-01,in_service\n"
                   "S-E02,BS-E02,E02,belt_scale,t/h,0.5,non_mandatory,E02.COAL,2024-01-01,in_service\n"
                   "CAL-S-E01,CAL-E01,E01,calorimeter,MJ/kg,0.2,mandatory,,,in_service\n"
                   "CAL-S-E02,CAL-E02,E02,calorimeter,MJ/kg,0.2,mandatory,,,in_service\n",
    "certificates": "cert_no,kind,subject,subject_kind,issuer_org,calibration_date,valid_until,conclusion,U,k,"
                    "error_unit,standards_used\n"
                    "C01-STD-2023,calibration,WRK-MASS,standard,C01,2023-06-01,,,0.05,2,%,\n"
                    "C01-E01-2024,verification,BS-E01,instrument,C01,2024-01-02,2025-01-20,conforms,,,,WRK-MASS\n"
                    "C01-E02-2024,verification,BS-E02,instrument,C01,2024-01-03,2025-01-20,conforms,,,,WRK-MASS\n",
}

#: user name → (role, organisation); a verifier "ver1" is assigned E01 only. No name contains an org code, so a
#: response that contains one tells which organisation's data it carries.
USERS = {"reg": ("regulator", None), "centre": ("centre", None), "ver1": ("verifier", None),
         "alice": ("enterprise", "E01"), "bob": ("enterprise", "E02")}


def plan_text(org: str) -> str:
    return (f'[plan]\nenterprise = "{org}"\nversion = 1\nvalid_from = 2025-01-01\n\n'
            f'[[changes]]\nversion = 1\nchanged_on = 2025-01-01\nby = "{org}"\nreason = "first"\n\n'
            f'[[parameters]]\nsite_code = "{org}-S1"\nemission_source = "boiler"\nsource_stream = "boiler_coal"\n'
            f'parameter = "activity_data"\nunit = "t"\nsource = "point"\nref = "{org}.COAL"\n'
            f'frequency = "continuous"\ninstruments = ["BS-{org}"]\nresponsible = "计量室"\n')


def readings_csv(path: Path, points: tuple[str, ...], rate: float = 100.0) -> Path:
    t0 = datetime.fromisoformat("2025-01-01T00:00:00+08:00")
    lines = ["point_id,ts,value"]
    for p in points:
        lines += [f"{p},{(t0 + timedelta(hours=h)).isoformat()},{1000.0 + rate * h}" for h in range(31 * 24 + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def lab_csv(org: str, sample: str) -> bytes:
    return ("sample_id,point_id,sampled_from,sampled_to,analyte,value,unit,U,k,lab_org,instrument_id,method,report_no\n"
            f"{sample},{org}.COAL.LAB,2025-01-05T00:00:00+08:00,2025-01-06T00:00:00+08:00,ncv,22.7,MJ/kg,0.12,2,"
            f"{org},CAL-{org},GB/T 213-2008,R-{sample}\n").encode()


def build(url: str, root: Path) -> Workspace:
    """The region, imported and ingested by the centre, with one user per role."""
    ws = Workspace(url, store_root=root / "store", home=root / "home")
    centre = Scope.centre()
    d = root / "registry"
    d.mkdir(parents=True, exist_ok=True)
    files = []
    for table, body in REGISTRY.items():
        (d / f"{table}.csv").write_text(body, encoding="utf-8")
        files.append(d / f"{table}.csv")
    services.import_registry(ws, centre, files)
    bad = root / "bad.csv"
    bad.write_text("point_id,ts,value,flag\n" + "".join(
        f"{e}.COAL,2025-01-05T00:30:00+08:00,5000,Z\n" for e in ENTERPRISES), encoding="utf-8")
    services.ingest_files(ws, centre, [readings_csv(root / "jan.csv", ("E01.COAL", "E02.COAL")), bad])
    for e in ENTERPRISES:
        (root / f"plan-{e}.toml").write_text(plan_text(e), encoding="utf-8")
        services.import_plan(ws, centre, root / f"plan-{e}.toml")
    for name, (role, org) in USERS.items():
        services.create_user(ws, centre, name, PASSWORD, role, org=org)
    services.assign_verifier(ws, centre, "ver1", "E01")
    return ws


@dataclass
class Site:
    """The region's workspace, the app's test client and a bearer header per user."""

    ws: Workspace
    client: TestClient
    headers: dict[str, dict[str, str]]


def page_sign_in(client: TestClient, user: str) -> None:
    """Sign ``user`` in through the login form: the client then holds the page session cookie."""
    r = client.post("/login", data={"username": user, "password": PASSWORD, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module")
def site(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    ws = build(module_db_url, tmp_path_factory.mktemp("region"))
    app = create_app(ws, WebConfig(secret=SECRET))
    with TestClient(app) as client:
        yield Site(ws, client, {u: login(client, u) for u in USERS})
    ws.close()


GEN_YEAR = 2025


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, TestClient, dict[str, dict[str, str]]]]:
    root = tmp_path_factory.mktemp("genregion")
    reg = root / "region"
    ws = Workspace(f"sqlite:///{root / 'r.db'}", store_root=reg, home=root / "home")
    services.generate_region(ws, Scope.nobody(), reg, enterprises=2, year=GEN_YEAR, seed=7, resolution="hour")
    centre = Scope.centre()
    services.import_registry(ws, centre, sorted((reg / "registry").glob("*.csv")))
    for f in sorted(Path(reg / "plans").glob("*.toml")):
        services.import_plan(ws, centre, f)
    services.import_lab(ws, centre, [reg / "lab" / "lab.csv"])
    for name, role, org in (("e1", "enterprise", "E01"), ("e2", "enterprise", "E02"), ("mee", "regulator", None)):
        services.create_user(ws, centre, name, PASSWORD, role, org=org)
    with TestClient(create_app(ws, WebConfig(secret=SECRET, pact_years=(GEN_YEAR,)))) as client:
        yield ws, client, {u: login(client, u) for u in ("e1", "e2", "mee")}
    ws.close()
