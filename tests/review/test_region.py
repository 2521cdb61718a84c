"""The review on the reference region (seed 7, 12 enterprises): every injected non-compliance and every
instrument traced to the out-of-tolerance standard is found, and nothing else (precision = recall = 1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.services import (
    Scope,
    Workspace,
    generate_region,
    import_registry,
    record_incident,
    review_enterprise,
)

KIND = {"overdue": "overdue", "does_not_conform": "does_not_conform",
        "calibrated_not_verified": "calibrated_not_verified", "accuracy_class": "nonconforming_class",
        "traceability_oot": "out_of_tolerance"}


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    root = tmp_path_factory.mktemp("region7")
    db = f"sqlite:///{root / 'r.db'}"
    with Workspace(db, store_root=root / "region") as ws:
        generate_region(ws, Scope.nobody(), root / "region", enterprises=12, seed=7, resolution="hour")
        manifest = json.loads((root / "region" / "manifest.json").read_text(encoding="utf-8"))
        centre = Scope.centre()
        import_registry(ws, centre, sorted((root / "region" / "registry").glob("*.csv")))
        for ev in manifest["out_of_tolerance"]:  # the holder records its standard's incident
            record_incident(ws, centre, ev["standard_code"], date.fromisoformat(ev["window_from"]),
                            date.fromisoformat(ev["window_to"]))
    yield root, manifest


def test_precision_and_recall_are_one_on_seed_7(region: tuple[Path, dict[str, Any]]) -> None:
    root, manifest = region
    expected = {(f["kind"], f["instrument_id"]) for f in manifest["noncompliance"]}
    expected |= {("out_of_tolerance", a["instrument_id"])
                 for ev in manifest["out_of_tolerance"] for a in ev["affected_certificates"]}
    assert {k for k, _ in expected} == {"overdue", "does_not_conform", "calibrated_not_verified",
                                        "nonconforming_class", "out_of_tolerance"}
    found: set[tuple[str, str]] = set()
    with Workspace(f"sqlite:///{root / 'r.db'}", store_root=root / "region") as ws:
        for e in sorted(x["enterprise"] for x in manifest["enterprises_list"]):
            res = review_enterprise(ws, Scope.centre(), e, date(2025, 12, 31))
            found |= {(KIND.get(f.check, f.check), f.instrument) for f in res.findings if f.severity != "info"}
    tp = len(found & expected)
    precision, recall = tp / len(found), tp / len(expected)
    print(f"seed 7: expected {len(expected)}, found {len(found)}, precision {precision}, recall {recall}")
    assert (precision, recall) == (1.0, 1.0), (sorted(found - expected), sorted(expected - found))


def test_cli_review_json_and_text(region: tuple[Path, dict[str, Any]]) -> None:
    root, manifest = region
    bad = next(f for f in manifest["noncompliance"] if f["kind"] == "nonconforming_class")
    db = f"sqlite:///{root / 'r.db'}"
    r = CliRunner().invoke(app, ["review", bad["enterprise"], "--date", "2025-12-31", "--json", "--db", db])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["enterprise"] == bad["enterprise"] and d["profile"] == "gb17167_ccm"
    assert bad["instrument_id"] in {f["instrument"] for f in d["findings"] if f["check"] == "accuracy_class"}
    r = CliRunner().invoke(app, ["review", bad["enterprise"], "--date", "2025-12-31", "--db", db])
    assert r.exit_code == 0 and bad["instrument_id"] in r.output and "GB 17167-2006" in r.output
    r = CliRunner().invoke(app, ["review", bad["enterprise"], "--date", "31.12.2025", "--db", db])
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output
    r = CliRunner().invoke(app, ["review", bad["enterprise"], "--date", "2025-12-31", "--profile", "nope",
                                 "--db", db])
    assert r.exit_code == 2 and "unknown review profile" in r.output


def test_cli_validate_review_small_region() -> None:
    r = CliRunner().invoke(app, ["validate", "review", "--runs", "1", "--enterprises", "3", "--seed", "11", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["seeds"][0]["seed"] == 11 and d["seeds"][0]["expected"] > 0
    assert (d["precision"], d["recall"]) == (1.0, 1.0), (d["false_positives"], d["missed"])


def test_the_region_meets_the_fit_out_rates_and_its_data_are_complete(region: tuple[Path, dict[str, Any]]) -> None:
    root, _ = region
    with Workspace(f"sqlite:///{root / 'r.db'}", store_root=root / "region") as ws:
        res = review_enterprise(ws, Scope.centre(), "E01", date(2025, 12, 31))
    rates = {(r.level, r.carrier): r for r in res.fitout}
    # every energy point of the generated enterprise carries an instrument: gateway coal, gas, electricity and
    # the belt scales at 100 %; the lab sample points of the same carriers are not meters and are not counted
    assert {("L1", "electricity"), ("L1", "natural_gas"), ("L1", "coal|fuel_coal|raw_coal"),
            ("L2", "coal|fuel_coal|raw_coal")} <= set(rates)
    assert all(r.verdict == "pass" and r.rate == 100.0 and not r.unequipped for r in rates.values())
    assert rates[("L2", "coal|fuel_coal|raw_coal")].required_points == 2  # GASIFIER_COAL and BOILER_COAL
    assert not [f for f in res.findings if f.check in ("fitout_rate", "completeness")]
