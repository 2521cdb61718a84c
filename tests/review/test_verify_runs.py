"""Stored verification runs on a generated region (seed 7, two enterprises), on SQLite and PostgreSQL: the run keeps
the report's hash, the sampling plan and the verified account, which ``verified_account`` returns; the
enterprise corrects its under-reported month and the next verification shows the finding fixed; the command line
stores a run (``--record``), lists, closes and diffs."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.review import REPORT_COLUMNS, read_report
from carbonmet.services import (
    AccessDenied,
    NotInScope,
    Scope,
    Workspace,
    close_finding,
    generate_region,
    import_lab,
    import_plan,
    import_registry,
    list_findings,
    run_diff,
    run_verify,
    verified_account,
    verify_audit_log,
    verify_enterprise,
)


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("vruns")
    with Workspace(f"sqlite:///{root / 'gen.db'}", store_root=root / "region") as ws:
        generate_region(ws, Scope.nobody(), root / "region", enterprises=2, seed=7, resolution="hour")
    return root / "region", json.loads((root / "region" / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ws(module_db_url: str, region: tuple[Path, dict[str, Any]]) -> Iterator[Workspace]:
    root, _ = region
    with Workspace(module_db_url, store_root=root) as w:
        centre = Scope.centre()
        import_registry(w, centre, sorted((root / "registry").glob("*.csv")))
        for f in sorted((root / "plans").glob("*.toml")):
            import_plan(w, centre, f)
        import_lab(w, centre, [root / "lab" / "lab.csv"])
        yield w


def _corrected(report: Path, m: dict[str, Any], out: Path) -> Path:
    """The report with the under-reported month restored to the amount the manifest names (and its emissions
    recomputed from the row's own figures)."""
    old = float(re.match(r"amount ([\d.]+) →", m["detail"]).group(1))  # type: ignore[union-attr]
    rep = read_report(report)
    rows = []
    for r in rep.rows:
        if (r.stream, r.period) == (m["stream"], m["month"]):
            r = r.model_copy(update={"amount": old})
            r = r.model_copy(update={"emissions_tco2": round(r.computed_emissions(), 3)})
        rows.append(r.cells())
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(REPORT_COLUMNS)
        w.writerows(rows)
    return out


def test_a_verification_run_keeps_the_verified_account_and_a_corrected_report_fixes_its_finding(
        ws: Workspace, region: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root, manifest = region
    m = next(x for x in manifest["misstatements"] if x["kind"] == "underreported_month")
    e = m["enterprise"]
    report = root / "reports" / f"{e}.csv"
    verifier = Scope.of(read=[e], actor="verifier-v")
    direct = verify_enterprise(ws, verifier, e, 2025, report)
    with pytest.raises(AccessDenied):  # the enterprise does not record its own verification
        run_verify(ws, Scope.enterprise(e), e, 2025, report)
    with pytest.raises(NotInScope):
        verified_account(ws, verifier, e, 2025)  # nothing verified yet
    run = run_verify(ws, verifier, e, 2025, report)
    assert (run.kind, run.year, run.on, run.actor, run.run_key) == ("verify", 2025, None, "verifier-v",
                                                                      f"{e}/verify/2025/1")
    assert run.report_sha256 == hashlib.sha256(report.read_bytes()).hexdigest() and run.report_file == report.name
    assert run.sampling == json.loads(json.dumps(direct.sampling)) and run.materiality == direct.materiality
    assert {f["key"] for f in list_findings(ws, verifier, e, kind="verify")} == {f.key() for f in direct.findings}
    key = f"VER-ACT-01|{m['stream']}|{m['month']}"
    tracked = {f["key"]: f for f in list_findings(ws, verifier, e, kind="verify")}
    assert key in tracked
    # the verified account as stored, for the comparison pilot: the same figures the verification computed
    acc = verified_account(ws, Scope.enterprise(e), e, 2025)
    assert acc.run_key == run.run_key and acc.report_sha256 == run.report_sha256
    got = [(v.stream, v.unit, v.reported_tco2, v.verified_tco2, v.difference_tco2, v.materiality_tco2, v.verdict,
            v.months_checked) for v in acc.streams]
    want = [(v.stream, v.unit, v.reported_tco2, v.verified_tco2, v.difference_tco2, v.materiality_tco2, v.verdict,
             v.months_checked) for v in direct.streams]
    assert [g[:2] + g[6:] for g in got] == [w[:2] + w[6:] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g[2:6] == pytest.approx(w[2:6], rel=1e-12)
    assert acc.total is not None and direct.total is not None
    assert acc.total.verified_tco2 == pytest.approx(direct.total.verified_tco2, rel=1e-12)
    coal = next(v for v in acc.streams if v.stream == m["stream"])
    assert coal.verified_tco2 > coal.reported_tco2  # a month of fuel was under-reported

    # the verifier closes the finding once the enterprise has corrected its report; the next run confirms it
    close_finding(ws, verifier, tracked[key]["id"], "企业按皮带秤累计量更正该月入炉煤量 / corrected from the belt-scale "
                  "totaliser", reference=f"{e}.csv v2")
    fixed_report = _corrected(report, m, tmp_path / f"{e}.csv")
    run2 = run_verify(ws, verifier, e, 2025, fixed_report)
    d = run_diff(ws, verifier, e, "verify", year=2025)
    assert d.run.run_key == run2.run_key == f"{e}/verify/2025/2" and d.previous_run_key == run.run_key
    assert [x["key"] for x in d.fixed] == [key] and d.reopened == [] and d.new == []
    assert {f["key"]: f["status"] for f in list_findings(ws, verifier, e)}[key] == "fixed"
    acc2 = verified_account(ws, verifier, e, 2025)
    coal2 = next(v for v in acc2.streams if v.stream == m["stream"])
    assert acc2.run_key == run2.run_key and coal2.verdict == "pass"
    assert abs(coal2.difference_tco2) < abs(coal.difference_tco2)
    assert verify_audit_log(ws, Scope.centre())["ok"]


def _text(res: Any) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(res.output.split())


def test_the_command_line_records_lists_closes_and_diffs(ws: Workspace, region: tuple[Path, dict[str, Any]],
                                                         module_db_url: str) -> None:
    root, manifest = region
    m = next(x for x in manifest["misstatements"] if x["kind"] == "default_where_measured")
    e = m["enterprise"]
    cli = CliRunner()
    base = ["--db", module_db_url]
    res = cli.invoke(app, ["verify", e, "--year", "2025", "--report", str(root / "reports" / f"{e}.csv"),
                           "--store", str(root), "--record", "--json", *base])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["run"]["kind"] == "verify" and out["verified_account"]["enterprise"] == e
    key = f"VER-DAT-03|{m['stream']}|{m['month']}"
    assert key in [x["key"] for x in out["new"]]
    res = cli.invoke(app, ["review", e, "--date", "2025-12-31", "--record", *base])
    assert res.exit_code == 0 and "stored run" in _text(res) and f"{e}/review/1" in _text(res), res.output
    res = cli.invoke(app, ["findings", "list", "--enterprise", e, "--kind", "verify", "--json", *base])
    fid = next(f["id"] for f in json.loads(res.output) if f["key"] == key)
    res = cli.invoke(app, ["findings", "close", str(fid), *base])
    assert res.exit_code != 0 and "--evidence" in _text(res)  # evidence is required
    res = cli.invoke(app, ["findings", "ack", str(fid), "--org", e, *base])
    assert res.exit_code == 0 and "acknowledged" in _text(res), res.output
    res = cli.invoke(app, ["findings", "close", str(fid), "--evidence", "化验值已更正", "--org", e, *base])
    assert res.exit_code == 2 and "assigned verifier" in _text(res)
    res = cli.invoke(app, ["findings", "close", str(fid), "--evidence", "化验值已更正", "--reference", "LAB-1", *base])
    assert res.exit_code == 0 and "closed" in _text(res) and "LAB-1" in _text(res), res.output
    res = cli.invoke(app, ["findings", "close", str(fid), "--evidence", "again", *base])
    assert res.exit_code == 2 and "cannot be closed" in _text(res)
    res = cli.invoke(app, ["findings", "close", "999999", "--evidence", "x", *base])
    assert res.exit_code == 2 and "does not exist" in _text(res)
    res = cli.invoke(app, ["findings", "diff", e, "--kind", "verify", "--year", "2025", "--json", *base])
    assert json.loads(res.output)["counts"]["new"] == len(out["new"])
    res = cli.invoke(app, ["findings", "list", "--status", "closed", *base])
    assert res.exit_code == 0 and "LAB-1" in _text(res)
    res = cli.invoke(app, ["findings", "runs", "--enterprise", e, *base])
    assert res.exit_code == 0 and f"{e}/review/1" in _text(res) and f"{e}/verify/2025/1" in _text(res)
    res = cli.invoke(app, ["findings", "account", e, "--year", "2025", *base])
    assert res.exit_code == 0 and "total" in _text(res)
