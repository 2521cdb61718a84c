"""``--org``: a command run as an enterprise reads and writes that enterprise's data only (on SQLite and
PostgreSQL); without it the command runs as the centre and sees every organisation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbonmet.cli import app

DATA = Path(__file__).parents[1] / "registry" / "data"
FILES = [str(DATA / f"{t}.csv") for t in ("organisations", "sites", "points", "standards", "instruments", "certificates")]
runner = CliRunner()

#: A second enterprise beside the registry test region's E01: one point, one mandatory instrument never verified.
E02 = {
    "organisations": "org_code,name,kind\nE02,乙电力有限公司,enterprise\n",
    "sites": "site_code,org_code,name\nE02-S1,E02,乙厂区\n",
    "points": "point_id,site_code,name,quantity,carrier,unit,reading_kind\n"
              "E02.GAS,E02-S1,天然气,normal_volume,natural_gas,Nm3,total\n",
    "instruments": "serial,instrument_id,org_code,type,range_low,range_high,unit,mpe_rel,legal_category,point_id,"
                   "installed_from,status\n"
                   "FM-E02,FM-E02,E02,gas_flow_meter,0,5000,Nm3/h,1.0,mandatory,E02.GAS,2024-01-01,in_service\n",
}


def _cli(db: str, *args: str) -> tuple[int, str]:
    """Exit code and output; the output with JSON intact, messages unwrapped (the console wraps them)."""
    r = runner.invoke(app, [*args, "--db", db])
    return r.exit_code, r.output if "--json" in args and r.exit_code == 0 else " ".join(r.output.split())


@pytest.fixture
def region(db_url: str, tmp_path: Path) -> str:
    """The registry test region (E01) and E02, imported by the centre."""
    e02 = []
    for table, body in E02.items():
        (tmp_path / f"{table}.csv").write_text(body, encoding="utf-8")
        e02.append(str(tmp_path / f"{table}.csv"))
    code, out = _cli(db_url, "registry", "import", *FILES, *e02)
    assert code == 0, out
    return db_url


def _due(db: str, *org: str) -> dict[str, str]:
    code, out = _cli(db, "registry", "due", "--today", "2025-10-01", *org, "--json")
    assert code == 0, out
    return {i["instrument"]: i["org"] for i in json.loads(out)}


def test_due_list_of_an_enterprise_shows_only_its_own_instruments(region: str) -> None:
    centre = _due(region)
    assert centre["BS1"] == "E01" and centre["FM-E02"] == "E02"
    assert set(_due(region, "--org", "E01").values()) == {"E01"} and "BS1" in _due(region, "--org", "E01")
    assert _due(region, "--org", "E02") == {"FM-E02": "E02"}
    assert _due(region, "--org", "E99") == {}  # an enterprise without records sees nothing


def test_an_enterprise_cannot_ingest_another_enterprises_readings(region: str, tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    readings = tmp_path / "mixed.csv"
    readings.write_text(
        "point_id,ts,value\n"
        + "".join(f"E02.GAS,2025-01-01T{h:02d}:00:00+08:00,{1000 + 10 * h}\n" for h in range(4))
        + "".join(f"E01.NG_IN,2025-01-01T{h:02d}:00:00+08:00,{5000 + 10 * h}\n" for h in range(3)),
        encoding="utf-8")
    code, out = _cli(region, "ingest", str(readings), "--store", store, "--org", "E02", "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert (doc["received"], doc["stored"], doc["quarantined"]) == (7, 4, 3)
    assert doc["by_reason"] == {"out_of_scope": 3}

    # E02 cannot read E01's point (the same answer as for a point that does not exist) …
    code, out = _cli(region, "readings", "summary", "E01.NG_IN", "--store", store, "--org", "E02", "--json")
    assert code == 1 and "outside your read scope" in out
    # … and the centre finds nothing stored for it: the refused rows are quarantined, naming E01
    code, out = _cli(region, "readings", "summary", "E01.NG_IN", "--store", store, "--json")
    assert code == 1 and "no readings stored" in out
    code, out = _cli(region, "readings", "summary", "E02.GAS", "--store", store, "--org", "E02", "--period", "day",
                     "--json")
    assert code == 0, out
    assert json.loads(out)["periods"][0]["value_measured"] == pytest.approx(30.0)

    code, out = _cli(region, "readings", "quarantine", "--store", store, "--json")
    q = json.loads(out)
    assert q["by_reason"] == {"out_of_scope": 3}
    assert all("organisation E01" in r["detail"] for r in q["records"])
    code, out = _cli(region, "readings", "quarantine", "--store", store, "--org", "E02", "--json")
    assert json.loads(out) == {"total": 0, "by_reason": {}, "records": [], "deviations": {}, "deviation_batches": 0,
                               "deviation_stored": 0}  # refused rows: the centre's only


def test_enterprise_scope_on_registry_commands(region: str, tmp_path: Path) -> None:
    code, out = _cli(region, "registry", "coverage", "E01.NG_IN", "--from", "2025-01-01", "--to", "2025-02-01",
                     "--org", "E02")
    assert code == 1 and "outside your read scope" in out
    code, out = _cli(region, "registry", "trace-back", "NAT-FLOW", "--from", "2024-01-01", "--to", "2024-05-01",
                     "--org", "E02", "--json")
    assert code == 0 and json.loads(out)["data_periods"] == []
    code, out = _cli(region, "dcc", "export", "ORD-2024-FM1", "--org", "E02")
    assert code == 1 and "outside your read scope" in out
    # an enterprise cannot import rows of another organisation; nothing is kept
    steal = tmp_path / "instruments-steal.csv"
    steal.write_text("serial,instrument_id,org_code,type\nFM-0001,FM1,E02,gas_flow_meter\n", encoding="utf-8")
    code, out = _cli(region, "registry", "import", str(steal), "--org", "E02")
    assert code == 1 and "organisation E01" in out
    code, out = _cli(region, "registry", "list", "--table", "instruments", "--limit", "0", "--json")
    assert {r["instrument_id"]: r["org_code"] for r in json.loads(out)}["FM1"] == "E01"
    # the whole registry is the centre's to list and verify
    code, out = _cli(region, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
