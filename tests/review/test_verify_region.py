"""Verification on the reference region (seed 7, 12 enterprises): every misstatement injected into the reports is
found, and the clean reports are not flagged (precision = recall = 1); the same on another seed through
``carbonmet validate verify``; the command line on a report, a bad report and JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.review import ReportFileError, finding_keys
from carbonmet.services import (
    Scope,
    Workspace,
    generate_region,
    import_lab,
    import_plan,
    import_registry,
    verify_enterprise,
)

CHECK = {"underreported_month": "activity_month", "default_where_measured": "default_where_measured",
         "reused_sample": "reused_sample"}


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    root = tmp_path_factory.mktemp("verify7")
    with Workspace(f"sqlite:///{root / 'r.db'}", store_root=root / "region") as ws:
        generate_region(ws, Scope.nobody(), root / "region", enterprises=12, seed=7, resolution="hour")
        centre = Scope.centre()
        import_registry(ws, centre, sorted((root / "region" / "registry").glob("*.csv")))
        for f in sorted((root / "region" / "plans").glob("*.toml")):
            import_plan(ws, centre, f)
        import_lab(ws, centre, [root / "region" / "lab" / "lab.csv"])
    manifest = json.loads((root / "region" / "manifest.json").read_text(encoding="utf-8"))
    yield root, manifest


def test_every_injected_misstatement_is_found_and_nothing_else_on_seed_7(region: tuple[Path, dict[str, Any]]) -> None:
    root, manifest = region
    expected = {(m["enterprise"], CHECK[m["kind"]], m["stream"], m["month"]) for m in manifest["misstatements"]}
    assert {m["kind"] for m in manifest["misstatements"]} == set(CHECK)
    found: set[tuple[str, str, str, str]] = set()
    with Workspace(f"sqlite:///{root / 'r.db'}", store_root=root / "region") as ws:
        for e in sorted(x["enterprise"] for x in manifest["enterprises_list"]):
            res = verify_enterprise(ws, Scope.centre(), e, 2025, root / "region" / "reports" / f"{e}.csv")
            found |= finding_keys(res)
            assert res.total is not None and res.total.verdict == "pass"
            assert all(s.verdict in ("pass", "inconclusive") for s in res.streams)
    tp = len(found & expected)
    precision, recall = tp / len(found), tp / len(expected)
    print(f"seed 7: injected {len(expected)}, found {len(found)}, precision {precision}, recall {recall}")
    assert (precision, recall) == (1.0, 1.0), (sorted(found - expected), sorted(expected - found))


def test_the_command_verifies_a_report_and_prints_json(region: tuple[Path, dict[str, Any]]) -> None:
    root, manifest = region
    m = next(x for x in manifest["misstatements"] if x["kind"] == "underreported_month")
    args = ["verify", m["enterprise"], "--year", "2025", "--report", str(root / "region" / "reports" /
            f"{m['enterprise']}.csv"), "--db", f"sqlite:///{root / 'r.db'}", "--store", str(root / "region")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "verified account" in res.output and "VER-ACT-01" in res.output
    res = CliRunner().invoke(app, [*args, "--json"])
    d = json.loads(res.output)
    hit = [f for f in d["findings"] if f["check"] == "activity_month"]
    assert [(f["stream"], f["period"]) for f in hit] == [(m["stream"], m["month"])]
    assert {r["stream"] for r in d["verified_account"]} >= {m["stream"]}


def test_a_bad_report_is_refused_naming_file_row_and_field(region: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root, _ = region
    lines = (root / "region" / "reports" / "E01.csv").read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "E01.csv"
    bad.write_text("\n".join([lines[0], lines[1].replace(",t,measured,", ",kg,measured,"), *lines[2:]]) + "\n",
                   encoding="utf-8")
    with Workspace(f"sqlite:///{root / 'r.db'}", store_root=root / "region") as ws, \
            pytest.raises(ReportFileError) as ei:
        verify_enterprise(ws, Scope.centre(), "E01", 2025, bad)
    assert (ei.value.file, ei.value.row, ei.value.field) == (str(bad), 2, "unit")
    res = CliRunner().invoke(app, ["verify", "E01", "--year", "2025", "--report", str(bad), "--db",
                                   f"sqlite:///{root / 'r.db'}", "--store", str(root / "region")])
    assert res.exit_code == 2 and f"{bad}:2:unit" in res.output.replace("\n", "")


def test_validate_verify_prints_precision_and_recall_of_one_on_another_seed() -> None:
    res = CliRunner().invoke(app, ["validate", "verify", "--runs", "1", "--seed", "8", "--enterprises", "4"])
    assert res.exit_code == 0, res.output
    print(res.output)
    assert "seed 8:" in res.output and "precision 1.000, recall 1.000" in res.output
    assert "flagged 0" in res.output
