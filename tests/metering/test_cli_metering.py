"""``carbonmet ingest`` / ``readings summary`` / ``readings quarantine`` end to end on files."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from carbonmet.cli import app

runner = CliRunner()


def _files(d: Path) -> dict[str, Path]:
    (d / "points.csv").write_text(
        "point_id,site_code,name,quantity,carrier,unit,reading_kind\n"
        "E01.GAS,S1,gas,normal_volume_flow,natural_gas,Nm3/h,rate\n", encoding="utf-8")
    (d / "sites.csv").write_text("site_code,org_code,name\nS1,E01,plant\n", encoding="utf-8")
    (d / "instruments.csv").write_text(
        "serial,org_code,type,range_low,range_high,unit,mpe_rel,point_id,installed_from\n"
        "FM-1,E01,gas_flow_meter,0,5000,Nm3/h,1.0,E01.GAS,2024-01-01\n", encoding="utf-8")
    (d / "certificates.csv").write_text(
        "cert_no,kind,subject,issuer_org,calibration_date,valid_until,conclusion\n"
        "JZ-1,verification,FM-1,M1,2024-06-01,2026-06-01,conforms\n", encoding="utf-8")
    rows = "".join(f"FM-1,2025-01-01T{h:02d}:{m:02d}:00+08:00,1200,N\n" for h in range(2) for m in range(60))
    (d / "r.csv").write_text("serial,ts,value,flag\n" + rows + "FM-1,2025-01-01T03:00:00+08:00,99999,N\n",
                             encoding="utf-8")
    (d / "broken.csv").write_bytes(b"foo,bar\n1,2\n")
    return {k: d / f"{k}.csv" for k in ("points", "sites", "instruments", "certificates", "r", "broken")}


def _cat_args(f: dict[str, Path]) -> list[str]:
    return ["--points", str(f["points"]), "--sites", str(f["sites"]), "--instruments", str(f["instruments"]),
            "--certificates", str(f["certificates"])]


def test_ingest_summary_quarantine(tmp_path: Path) -> None:
    f = _files(tmp_path)
    store = str(tmp_path / "store")
    res = runner.invoke(app, ["ingest", str(f["r"]), "--store", store, *_cat_args(f), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["received"], out["stored"], out["quarantined"], out["duplicates"]) == (121, 120, 1, 0)
    assert out["by_reason"] == {"out_of_range": 1}
    res = runner.invoke(app, ["ingest", str(f["r"]), "--store", store, *_cat_args(f), "--json"])
    again = json.loads(res.stdout)
    assert again["duplicates"] == 121 and again["files"][0]["already_ingested"]

    res = runner.invoke(app, ["readings", "summary", "E01.GAS", "--store", store, *_cat_args(f), "--period", "day",
                              "--start", "2025-01-01", "--end", "2025-01-02", "--json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["periods"][0]["value_measured"] == 2400.0 and s["periods"][0]["valid_hours"] == 2
    assert s["total"]["unit"] == "Nm3" and s["total"]["provenance"]["certificates"] == ["JZ-1"]
    # review finding 8: certificate coverage per instrument-day, and no MPE u for a partly measured day
    assert s["certificate_coverage"] and s["certificate_coverage"][0]["installed_days"] == 1
    assert s["uncovered_share"] == s["certificate_coverage"][0]["uncovered_days"] / 1
    assert s["total"]["u"] is None and s["completeness"] < 1
    res = runner.invoke(app, ["readings", "summary", "E01.GAS", "--store", store, *_cat_args(f), "--period", "day",
                              "--start", "2025-01-01", "--end", "2025-01-02"])
    assert res.exit_code == 0 and "certificate coverage" in res.stdout and "not evaluated" in res.stdout

    res = runner.invoke(app, ["readings", "quarantine", "--store", store, "--json"])
    q = json.loads(res.stdout)
    assert q["by_reason"] == {"out_of_range": 1} and q["records"][0]["origin"].endswith("r.csv:122")


def test_unreadable_file_is_archived_and_quarantined(tmp_path: Path) -> None:
    f = _files(tmp_path)
    store = tmp_path / "store"
    res = runner.invoke(app, ["ingest", str(f["broken"]), "--store", str(store), *_cat_args(f), "--json"])
    assert res.exit_code == 2
    out = json.loads(res.stdout)
    assert (out["received"], out["quarantined"]) == (1, 1) and out["by_reason"] == {"unreadable_file": 1}
    assert list((store / "raw" / "file").rglob("*.bin"))
