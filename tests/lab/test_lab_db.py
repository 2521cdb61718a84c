"""Lab results in the registry database, on SQLite and PostgreSQL: the reference region's lab file imports whole
with no flag; a re-import writes nothing; a conflicting value is quarantined and the stored one kept; a rejected
file stores no result and keeps every row in the quarantine; the audit log reconciles after each.

The region's own results are of 2025; the other cases use sampling windows of 2024 and sample ids of their own,
so that they do not meet (one database per module and backend).
"""

from __future__ import annotations

import csv
import math
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.lab import LabImport, frequency_findings, query_results, read_lab_file
from carbonmet.refdata import Manifest
from carbonmet.services import Scope, Workspace, import_lab, import_registry, lab_findings, lab_results
from carbonmet.services import verify_audit_log as verify
from carbonmet.sites import read_plan

TZ = ZoneInfo("Asia/Shanghai")
CENTRE = Scope.centre("test")
COLUMNS = ["sample_id", "point_id", "sampled_from", "sampled_to", "analyte", "value", "unit", "U", "k", "lab_org",
           "instrument_id", "method", "report_no"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    cols = list(dict.fromkeys([*COLUMNS, *(k for r in rows for k in r)]))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def _analyser(root: Path, kind: str) -> str:
    return next(r["instrument_id"] for r in _rows(root / "registry" / "instruments.csv")
                if r["org_code"] == "E01" and r["type"] == kind)


def _row(root: Path, sample_id: str, analyte: str, value: float, start: datetime, hours: int = 24,
         point: str = "E01.GASIFIER_COAL.LAB", instrument: str | None = None) -> dict[str, str]:
    unit, kind = ("MJ/kg", "calorimeter") if analyte == "ncv" else ("%", "carbon_analyser")
    return {"sample_id": sample_id, "point_id": point, "sampled_from": start.isoformat(),
            "sampled_to": (start + timedelta(hours=hours)).isoformat(), "analyte": analyte, "value": f"{value}",
            "unit": unit, "U": "0.15", "k": "2", "lab_org": "E01", "instrument_id": instrument or _analyser(root, kind),
            "method": "GB/T 213-2008" if analyte == "ncv" else "GB/T 30733-2014", "report_no": f"T-{sample_id}"}


def _audit_clean(ws: Workspace) -> None:
    rep = verify(ws, CENTRE)
    assert rep["ok"], rep
    assert rep["reconcile"]["discrepancies"] == []


def _one(ws: Workspace, path: Path, scope: Scope = CENTRE) -> LabImport:
    (f,) = import_lab(ws, scope, [path]).files
    assert f.rows == f.stored + f.duplicates + f.quarantined  # in = stored + duplicates + quarantined
    return f


def _quarantined(ws: Workspace, import_id: int) -> list[tuple[int | None, str, str]]:
    with ws.session() as s:
        return [tuple(r) for r in s.execute(text(  # type: ignore[misc]
            "SELECT file_row, field, code FROM lab_quarantine WHERE import_id = :i ORDER BY file_row"), {"i": import_id})]


def test_the_region_lab_file_imports_whole_with_no_flag_and_a_reimport_writes_nothing(
        ws: Workspace, region: tuple[Path, Manifest]) -> None:
    root, manifest = region
    path = root / "lab" / "lab.csv"
    lines = len(_rows(path))
    f = _one(ws, path)
    assert (f.status, f.rows, f.stored, f.duplicates, f.quarantined) == ("stored", lines, lines, 0, 0)
    assert f.flags == () and f.rejects == () and f.enterprises == ("E01",) and f.recorded
    # the region injects no lab fault: no flag, and the plan's frequencies are met
    assert not [x for x in manifest.faults + manifest.noncompliance if ".LAB" in x.get("point_id", "")]
    found = lab_findings(ws, CENTRE, "E01", 2025)
    assert (found.results, found.flags, found.frequency, found.plan_version) == (lines, (), (), 1)
    # stored = read: the same content, in canonical units, traceable to the analyser
    read = {(r.sample_id, r.analyte): r for r in read_lab_file(path, enterprise="E01").results}
    with ws.session() as s:
        stored = query_results(s, enterprise="E01")
    assert len(stored) == lines and all(r.content() == read[(r.sample_id, r.analyte)].content() for r in stored)
    assert {r.instrument_id for r in stored} == {r["instrument_id"] for r in _rows(path)}
    _audit_clean(ws)
    with ws.session() as s:
        head = s.execute(text("SELECT COUNT(*) FROM audit_log")).scalar_one()
    again = _one(ws, path)
    assert (again.status, again.stored, again.duplicates, again.import_id) == ("duplicate", 0, lines, f.import_id)
    with ws.session() as s:
        assert s.execute(text("SELECT COUNT(*) FROM audit_log")).scalar_one() == head  # nothing written
    # the query the accounting engine uses: one point, one analyte, one month
    march = lab_results(ws, CENTRE, "E01", point_ids=["E01.GASIFIER_COAL.LAB"], analytes=["ncv"],
                        start=datetime(2025, 3, 1, tzinfo=TZ), end=datetime(2025, 4, 1, tzinfo=TZ))
    assert march and all(r.analyte == "ncv" and r.sampled_from < datetime(2025, 4, 1, tzinfo=TZ)
                         and r.sampled_to > datetime(2025, 3, 1, tzinfo=TZ) for r in march)
    assert all(r.u == pytest.approx(r.U / r.k) and r.unit == "MJ/kg" for r in march)


def test_a_conflicting_value_is_quarantined_and_the_stored_result_kept(ws: Workspace, region: tuple[Path, Manifest],
                                                                        tmp_path: Path) -> None:
    root, _ = region
    t0 = datetime(2024, 3, 1, tzinfo=TZ)
    first = _one(ws, _write(tmp_path / "a.csv", [_row(root, "CF-1", "ncv", 22.7, t0)]))
    assert (first.status, first.stored) == ("stored", 1)
    changed = _one(ws, _write(tmp_path / "b.csv", [_row(root, "CF-1", "ncv", 23.1, t0),
                                                    _row(root, "CF-2", "ncv", 22.8, t0 + timedelta(days=1))]))
    assert (changed.status, changed.stored, changed.quarantined) == ("stored", 1, 1)
    (rej,) = changed.rejects
    assert (rej.row, rej.field, rej.code) == (2, "value", "conflict") and "never overwritten" in rej.reason
    assert changed.import_id is not None and _quarantined(ws, changed.import_id) == [(2, "value", "conflict")]
    kept = [r for r in lab_results(ws, CENTRE, "E01", year=2024) if r.sample_id == "CF-1"]
    assert [r.value for r in kept] == [22.7]
    # the same row twice in one file: once stored, once a duplicate
    twice = _one(ws, _write(tmp_path / "c.csv", [_row(root, "CF-3", "ncv", 22.5, t0)] * 2))
    assert (twice.stored, twice.duplicates) == (1, 1)
    _audit_clean(ws)


def test_a_rejected_file_stores_nothing_and_keeps_every_row_in_the_quarantine(
        ws: Workspace, region: tuple[Path, Manifest], tmp_path: Path) -> None:
    root, _ = region
    t0 = datetime(2024, 5, 1, tzinfo=TZ)
    rows = [_row(root, "RJ-1", "ncv", 22.7, t0), _row(root, "RJ-2", "carbon_content", 60.0, t0),
            _row(root, "RJ-3", "carbon_content", 150.0, t0 + timedelta(days=1)),  # row 4: not a mass fraction
            _row(root, "RJ-4", "ncv", 22.9, t0, point="E01.NO_SUCH_STREAM.LAB")]  # row 5: unknown stream
    f = _one(ws, _write(tmp_path / "bad.csv", rows))
    assert (f.status, f.rows, f.stored, f.quarantined, f.recorded) == ("rejected", 4, 0, 4, True)
    assert [(r.row, r.field, r.code) for r in f.rejects] == [(4, "value", "out_of_range"),
                                                              (5, "point_id", "unknown_point")]
    assert str(f.rejects[0]).startswith(f"{tmp_path / 'bad.csv'}:4:value: ")
    assert not [r for r in lab_results(ws, CENTRE, "E01", year=2024) if r.sample_id.startswith("RJ-")]
    assert f.import_id is not None
    assert _quarantined(ws, f.import_id) == [(2, "", "file_rejected"), (3, "", "file_rejected"),
                                             (4, "value", "out_of_range"), (5, "point_id", "unknown_point")]
    with ws.session() as s:  # the file as received is kept with its import
        raw = s.execute(text("SELECT raw FROM lab_import WHERE id = :i"), {"i": f.import_id}).scalar_one()
    assert bytes(raw) == (tmp_path / "bad.csv").read_bytes()
    # the same bad file again: reported, not recorded twice
    again = _one(ws, tmp_path / "bad.csv")
    assert (again.status, again.import_id) == ("rejected", f.import_id)
    _audit_clean(ws)


def test_reused_ids_falsified_carbon_and_uncertified_analysers_are_flagged(
        ws: Workspace, region: tuple[Path, Manifest], tmp_path: Path) -> None:
    root, _ = region
    # a real coal sample of the region (the one whose C/NCV is the median), moved to 2024
    lab = _rows(root / "lab" / "lab.csv")
    by_key: dict[tuple[str, str, str], dict[str, float]] = {}
    for r in lab:
        if r["point_id"] == "E01.GASIFIER_COAL.LAB" and r["analyte"] in ("ncv", "carbon_content"):
            by_key.setdefault((r["point_id"], r["sampled_from"], r["sampled_to"]), {})[r["analyte"]] = float(r["value"])
    pairs = sorted((v["carbon_content"] / 100 / v["ncv"], v["ncv"], v["carbon_content"]) for v in by_key.values())
    _, ncv, carbon = pairs[len(pairs) // 2]
    t0 = datetime(2024, 6, 3, tzinfo=TZ)
    falsified = _one(ws, _write(tmp_path / "forged.csv", [
        _row(root, "FX-N", "ncv", ncv, t0), _row(root, "FX-C", "carbon_content", round(carbon * 0.9, 4), t0)]))
    assert [(f.kind, f.sample_id) for f in falsified.flags] == [("c_ncv_inconsistent", "FX-C")]
    assert falsified.flags[0].related == ("FX-N",) and falsified.flags[0].value < 0.0264 * 0.92
    honest = _one(ws, _write(tmp_path / "honest.csv", [
        _row(root, "OK-N", "ncv", ncv, t0 + timedelta(days=2)),
        _row(root, "OK-C", "carbon_content", carbon, t0 + timedelta(days=2))]))
    assert honest.flags == ()
    # one sample number for two sampling windows
    reused = _one(ws, _write(tmp_path / "reused.csv", [
        _row(root, "RU-1", "ncv", ncv, t0 + timedelta(days=5)),
        _row(root, "RU-1", "carbon_content", carbon, t0 + timedelta(days=9))]))
    assert [(f.kind, f.sample_id, f.analyte) for f in reused.flags] == [
        ("reused_sample_id", "RU-1", "ncv"), ("reused_sample_id", "RU-1", "carbon_content")]
    # an analyser whose only certificate ran out at the end of 2023
    issuer = next(r["org_code"] for r in _rows(root / "registry" / "organisations.csv")
                  if r["kind"] == "metrology_institute")
    reg = tmp_path / "registry"
    reg.mkdir()
    (reg / "instruments.csv").write_text(
        "serial,instrument_id,org_code,type,unit,mpe_rel,legal_category,status\n"
        "OLD-1,E01-OLDCAL,E01,calorimeter,MJ/kg,0.2,mandatory,in_service\n", encoding="utf-8")
    (reg / "certificates.csv").write_text(
        "cert_no,kind,subject,subject_kind,issuer_org,calibration_date,valid_until,conclusion\n"
        f"OLD-2023-1,verification,E01-OLDCAL,instrument,{issuer},2023-01-05,2023-12-31,conforms\n", encoding="utf-8")
    import_registry(ws, CENTRE, [reg / "instruments.csv", reg / "certificates.csv"])
    old = _one(ws, _write(tmp_path / "old.csv", [
        _row(root, "UC-N", "ncv", ncv, t0 + timedelta(days=12), instrument="E01-OLDCAL")]))
    (flag,) = old.flags
    assert (flag.kind, flag.sample_id) == ("no_valid_certificate", "UC-N")
    assert "E01-OLDCAL" in flag.detail and "OLD-2023-1" in flag.detail and "2024-06-16" in flag.detail
    # stored with the results, and found again by the year's check
    stored = {r.sample_id: r.flags for r in lab_results(ws, CENTRE, "E01", year=2024)}
    assert (stored["FX-C"], stored["OK-C"], stored["RU-1"], stored["UC-N"]) == (
        ("c_ncv_inconsistent",), (), ("reused_sample_id",), ("no_valid_certificate",))
    kinds = {(f.kind, f.sample_id) for f in lab_findings(ws, CENTRE, "E01", 2024).flags}
    assert {("c_ncv_inconsistent", "FX-C"), ("reused_sample_id", "RU-1"), ("no_valid_certificate", "UC-N")} <= kinds
    assert not {s for k, s in kinds if s.startswith("OK-")}
    _audit_clean(ws)


def test_a_month_deleted_from_a_stream_is_reported(region: tuple[Path, Manifest]) -> None:
    root, _ = region
    plan = read_plan(root / "plans" / "E01.toml")
    results = read_lab_file(root / "lab" / "lab.csv", enterprise="E01").results
    assert frequency_findings(plan, results, 2025) == []
    march = (datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ))
    kept = [r for r in results if not (r.point_id == "E01.BOILER_COAL.LAB" and r.analyte == "carbon_content"
                                       and r.sampled_from < march[1] and r.sampled_to > march[0])]
    assert len(kept) < len(results)
    (f,) = frequency_findings(plan, kept, 2025)
    assert (f.point_id, f.parameter, f.period, f.kind, f.frequency, f.source_stream) == (
        "E01.BOILER_COAL.LAB", "carbon_content", "2025-03", "missing_month", "per_batch", "boiler_coal")


def test_the_command_line_exits_2_on_a_rejected_file_and_prints_where(
        ws: Workspace, region: tuple[Path, Manifest], tmp_path: Path) -> None:
    if ws.engine.dialect.name != "sqlite":
        pytest.skip("the command line is exercised once")
    root, _ = region
    url = ws.engine.url.render_as_string(hide_password=False)
    bad = _write(tmp_path / "cli-bad.csv", [_row(root, "CL-1", "carbon_content", 150.0, datetime(2024, 8, 1, tzinfo=TZ))])
    run = CliRunner().invoke(app, ["lab", "import", str(bad), "--db", url])
    assert run.exit_code == 2, run.output
    assert f"{bad}:2:value:" in " ".join(run.output.split()).replace(" ", "") or f"{bad}:2:value:" in run.output
    good = _write(tmp_path / "cli-good.csv", [_row(root, "CL-2", "ncv", 22.7, datetime(2024, 8, 1, tzinfo=TZ))])
    run = CliRunner().invoke(app, ["lab", "import", str(good), "--db", url, "--json"])
    assert run.exit_code == 0, run.output
    assert '"stored": 1' in run.output
    run = CliRunner().invoke(app, ["lab", "check", "E01", "--year", "2024", "--db", url, "--json"])
    assert run.exit_code == 0 and '"year": 2024' in run.output
    run = CliRunner().invoke(app, ["lab", "list", "E01", "--year", "2024", "--analyte", "ncv", "--db", url, "--json"])
    assert run.exit_code == 0 and "CL-2" in run.output
    assert math.isfinite(float(next(r for r in lab_results(ws, CENTRE, "E01", year=2024) if r.sample_id == "CL-2").u))
