"""A two-enterprise region (E01, E02, and the institute C01 holding the standard) in a real registry
on SQLite and PostgreSQL, with a real readings store holding January 2025 for both enterprises."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from carbonmet.services import Scope, Workspace, import_registry, ingest_files

PG_ADMIN_URL = os.environ.get("CARBONMET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ENTERPRISES = ("E01", "E02")

REGISTRY = {
    "organisations": "org_code,name,kind,region,industry\n"
                     "C01,示例市计量检测中心,metrology_institute,示例市,\n"
                     "E01,甲煤化有限公司,enterprise,示例市,coal_chemical\n"
                     "E02,乙电力有限公司,enterprise,示例市,power\n",
    "sites": "site_code,org_code,name\nE01-S1,E01,甲厂区\nE02-S1,E02,乙厂区\n",
    "points": "point_id,site_code,name,quantity,carrier,unit,reading_kind,level,source_stream\n"
              "E01.COAL,E01-S1,入炉煤,mass,raw_coal,t,total,L1,boiler_coal\n"
              "E02.COAL,E02-S1,入炉煤,mass,raw_coal,t,total,L1,boiler_coal\n",
    "standards": "standard_code,name,holder_org,level,quantity\nWRK-MASS,链码秤工作标准,C01,working,mass\n",
    "instruments": "serial,instrument_id,org_code,type,unit,mpe_rel,legal_category,point_id,installed_from,status\n"
                   "S-E01,BS-E01,E01,belt_scale,t/h,0.5,non_mandatory,E01.COAL,2024-01-01,in_service\n"
                   "S-E02,BS-E02,E02,belt_scale,t/h,0.5,non_mandatory,E02.COAL,2024-01-01,in_service\n",
    "certificates": "cert_no,kind,subject,subject_kind,issuer_org,calibration_date,valid_until,conclusion,U,k,"
                    "error_unit,standards_used\n"
                    "C01-STD-2023,calibration,WRK-MASS,standard,C01,2023-06-01,,,0.05,2,%,\n"
                    "C01-E01-2024,verification,BS-E01,instrument,C01,2024-01-02,2025-01-20,conforms,,,,WRK-MASS\n"
                    "C01-E02-2024,verification,BS-E02,instrument,C01,2024-01-03,2025-01-20,conforms,,,,WRK-MASS\n",
}


def write_registry(d: Path) -> list[Path]:
    """The registry import files of the region, one per table."""
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for table, body in REGISTRY.items():
        (d / f"{table}.csv").write_text(body, encoding="utf-8")
        out.append(d / f"{table}.csv")
    return out


def readings_csv(path: Path, points: tuple[str, ...], rate: float = 100.0) -> Path:
    """Hourly totaliser readings of January 2025 for ``points`` (``rate`` t/h)."""
    t0 = datetime.fromisoformat("2025-01-01T00:00:00+08:00")
    lines = ["point_id,ts,value"]
    for p in points:
        lines += [f"{p},{(t0 + timedelta(hours=h)).isoformat()},{1000.0 + rate * h}" for h in range(31 * 24 + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_region(url: str, root: Path) -> Workspace:
    """A workspace on ``url`` with the region imported and January 2025 ingested, both by the centre."""
    ws = Workspace(url, store_root=root / "store")
    centre = Scope.centre()
    import_registry(ws, centre, write_registry(root / "registry"))
    bad = root / "bad.csv"  # one quarantined row per enterprise (a flag HJ 212 does not define)
    bad.write_text("point_id,ts,value,flag\n" + "".join(
        f"{e}.COAL,2025-01-05T00:30:00+08:00,5000,Z\n" for e in ENTERPRISES), encoding="utf-8")
    ingest_files(ws, centre, [readings_csv(root / "jan.csv", ("E01.COAL", "E02.COAL")), bad])
    return ws


@pytest.fixture(scope="module")
def region(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The shared region for read-only use cases."""
    ws = build_region(module_db_url, tmp_path_factory.mktemp("region"))
    yield ws
    ws.close()


@pytest.fixture
def fresh_region(db_url: str, tmp_path: Path) -> Iterator[Workspace]:
    """A region of its own, for use cases that write."""
    ws = build_region(db_url, tmp_path)
    yield ws
    ws.close()
