"""The registry CLI end to end on a SQLite file (the real command in a subprocess for one path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from carbonmet.cli import app

DATA = Path(__file__).parents[1] / "registry" / "data"
FILES = [str(DATA / f"{t}.csv") for t in ("organisations", "sites", "points", "standards", "instruments", "certificates")]
runner = CliRunner()


def _run(db: str, *args: str) -> tuple[int, str]:
    r = runner.invoke(app, [*args, "--db", db])
    return r.exit_code, r.output


def test_cli_flow(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    code, out = _run(db, "registry", "import", *FILES, "--json")
    assert code == 0, out
    assert sum(f["rows"] for f in json.loads(out)["files"]) == 4 + 1 + 4 + 4 + 5 + 13

    code, out = _run(db, "registry", "due", "--within", "30d", "--today", "2025-10-01", "--json")
    assert code == 0
    assert {i["instrument"]: i["status"] for i in json.loads(out)} == {"BS1": "overdue"}

    code, out = _run(db, "registry", "trace-back", "NAT-FLOW", "--from", "2024-01-01", "--to", "2024-05-01", "--json")
    assert code == 0
    assert {p["point"] for p in json.loads(out)["data_periods"]} == {"E01.NG_IN", "E01.CO2_VENT"}

    code, out = _run(db, "registry", "list", "--table", "certificates", "--limit", "0", "--json")
    assert code == 0 and len(json.loads(out)) == 13

    code, out = _run(db, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True

    code, out = _run(db, "registry", "due", "--today", "2025-10-01")
    assert code == 0 and "超期" in out and "BS1" in out


def test_cli_rejects_bad_file_with_row_and_field(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    bad = tmp_path / "organisations.csv"
    bad.write_text("org_code,name,kind\nA,甲,enterprise\nB,乙,bank\n", encoding="utf-8")
    code, out = _run(db, "registry", "import", str(bad), "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False and doc["problems"][0]["row"] == 3 and doc["problems"][0]["field"] == "kind"


def test_console_script_runs(tmp_path: Path) -> None:
    env = {**os.environ, "CARBONMET_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    r = subprocess.run([sys.executable, "-m", "carbonmet", "audit", "verify", "--json"], capture_output=True,
                       text=True, env=env, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {k: doc[k] for k in ("ok", "entries", "head_hash", "first_bad_seq", "reason")} == {
        "ok": True, "entries": 0, "head_hash": "0" * 64, "first_bad_seq": None, "reason": ""}
    assert doc["chain_ok"] is True and doc["reconcile"]["ok"] is True  # verify also reconciles the tables


def test_dcc_export_import_cli(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert _run(db, "registry", "import", *FILES)[0] == 0
    xml = tmp_path / "c.xml"
    code, out = _run(db, "dcc", "export", "ORD-2024-FM1", "--out", str(xml), "--signer", "张三")
    assert code == 0, out
    assert "张三".encode() in xml.read_bytes()
    code, out = _run(db, "dcc", "import", str(xml), "--json")  # same number: an update, not a duplicate
    assert code == 0, out
    doc = json.loads(out)
    assert doc["cert_no"] == "ORD-2024-FM1" and doc["instrument"] == "FM1" and doc["U"] == 0.5
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"not xml at all")
    code, out = _run(db, "dcc", "import", str(bad))
    assert code == 1 and "bad.xml" in out


def test_ingest_validates_against_the_registry(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert _run(db, "registry", "import", *FILES)[0] == 0
    readings = tmp_path / "ng.csv"
    readings.write_text(
        "point_id,ts,value,unit\n"
        "E01.NG_IN,2025-01-01T00:00:00+08:00,1000,Nm3\n"
        "E01.NG_IN,2025-01-01T01:00:00+08:00,1.2,万Nm3\n"  # converted to the point's unit
        "E01.NOPE,2025-01-01T01:00:00+08:00,5,Nm3\n",  # not in the registry: quarantined
        encoding="utf-8",
    )
    r = runner.invoke(app, ["ingest", str(readings), "--store", str(tmp_path / "store"), "--json"],
                      env={"CARBONMET_DATABASE_URL": db})
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert (doc["received"], doc["stored"], doc["quarantined"]) == (3, 2, 1)


def test_cli_reports_files_committed_before_a_rejected_one(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    bad_sites = tmp_path / "sites.csv"
    bad_sites.write_text("site_code,org_code,name\nS1,NOPE,厂区\n", encoding="utf-8")
    code, out = _run(db, "registry", "import", FILES[0], str(bad_sites), "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["file"] == str(bad_sites) and [f["rows"] for f in doc["imported_before"]] == [4]


def test_cli_date_errors_are_usage_errors(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    code, out = _run(db, "registry", "due", "--today", "2025/10/01")
    assert code == 2 and "YYYY-MM-DD" in out
    code, out = _run(db, "registry", "trace-back", "X", "--from", "2024-05-01", "--to", "2024-01-01")
    assert code == 2 and "--to" in out
