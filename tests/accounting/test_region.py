"""Accounts of the reference region (seed 7, the dataset ``make demo`` builds) against its ground truth.

Every enterprise goes the real way: registry import, monitoring plans with their streams table, laboratory
import, the readings store the region wrote, then :func:`carbonmet.services.account_enterprise`.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from carbonmet.services import (
    Scope,
    Workspace,
    account_enterprise,
    generate_region,
    import_lab,
    import_plan,
    import_registry,
)

YEAR = 2025


def _load(ws: Workspace, region: Path) -> None:
    centre = Scope.centre()
    import_registry(ws, centre, sorted((region / "registry").glob("*.csv")))
    for f in sorted((region / "plans").glob("*.toml")):
        import_plan(ws, centre, f)
    import_lab(ws, centre, [region / "lab" / "lab.csv"])


def _truth(region: Path) -> dict[str, dict[str, Any]]:
    with (region / "truth" / "enterprises.csv").open(encoding="utf-8", newline="") as fh:
        return {r["enterprise"]: r for r in csv.DictReader(fh)}


def _true_total(r: dict[str, Any]) -> float:
    return float(r["direct_emitted_co2_t"]) + float(r["indirect_electricity_co2_t"]) + float(r["indirect_steam_co2_t"])


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any], dict[str, Any]]]:
    root = tmp_path_factory.mktemp("acct")
    reg = root / "region"
    with Workspace(f"sqlite:///{root / 'r.db'}", store_root=reg) as ws:
        manifest = generate_region(ws, Scope.nobody(), reg, enterprises=12, year=YEAR, seed=7, resolution="hour")
        _load(ws, reg)
        accounts = {e: account_enterprise(ws, Scope.centre(), e, YEAR, method="both", trials=50_000, seed=1)
                    for e in sorted(_truth(reg))}
        yield reg, {"manifest": manifest}, accounts


def test_every_enterprise_total_within_its_expanded_uncertainty_of_the_truth(region: tuple) -> None:
    reg, _, accounts = region
    truth = _truth(reg)
    rows = []
    for e, acc in accounts.items():
        t = acc.total
        true = _true_total(truth[e])
        rows.append((e, (t["value"] - true) / t["u"], t["valid"]))
        assert t["interval"][0] <= true <= t["interval"][1] or not t["valid"], (e, t, true)
        assert t["mcm"]["u"] == pytest.approx(t["u"], rel=0.03)
    z = np.array([r[1] for r in rows])
    assert np.all(np.abs(z) < 1.96), rows
    assert abs(float(z.mean())) < 1.0 and 0.3 < float(z.std()) < 1.8, rows


def test_the_independent_assumption_under_covers(region: tuple) -> None:
    """Treating each instrument's error as independent month to month (√12 shrinkage) makes u too small: the
    standardised errors against the truth then spread far wider than N(0, 1)."""
    reg, _, accounts = region
    truth = _truth(reg)
    z_cor, z_ind, ratio = [], [], []
    for e, acc in accounts.items():
        t = acc.total
        d = t["value"] - _true_total(truth[e])
        u_ind = acc.u_independent_periods()
        z_cor.append(d / t["u"])
        z_ind.append(d / u_ind)
        ratio.append(u_ind / t["u"])
    assert max(ratio) < 0.6  # the independent u is well under two thirds of the correlated one
    # mean z² should be ≈ 1 for an honest u; the independent one is inflated by 1/ratio²
    assert float(np.mean(np.square(z_ind))) > 2.5 * float(np.mean(np.square(z_cor)))
    outside_ind = sum(abs(z) > 1.96 for z in z_ind)
    outside_cor = sum(abs(z) > 1.96 for z in z_cor)
    assert outside_ind >= outside_cor + 3, (z_cor, z_ind)


def _stream(acc: Any, name: str) -> dict[str, Any]:
    return next(s for s in acc.to_dict()["streams"] if s["name"] == name)


@pytest.mark.parametrize(("enterprise", "instrument", "state"), [("E07", "E07-I0170", "overdue"),
                                                                ("E10", "E10-I0263", "failed")])
def test_the_two_faulty_belt_scales_are_flagged_and_their_interval_holds_the_truth(
        region: tuple, enterprise: str, instrument: str, state: str) -> None:
    """An overdue, drifting belt scale (z ≈ −4.5 on its certificate's u) and a belt scale that failed
    verification and stayed in service (z ≈ +2.8): each stream is flagged and marked not valid, and its
    widened interval contains the true coal mass."""
    reg, _, accounts = region
    acc = accounts[enterprise]
    s = _stream(acc, "boiler_coal")
    flags = [f for f in s["flags"] if f["kind"] == "legal_state"]
    assert flags and flags[0]["instrument"] == instrument and flags[0]["state"] == state
    assert not s["valid"] and not acc.total["valid"]
    with (reg / "truth" / "carbon_streams.csv").open(encoding="utf-8", newline="") as fh:
        true_mass = next(float(r["amount"]) for r in csv.DictReader(fh)
                         if r["enterprise"] == enterprise and r["period"] == str(YEAR) and r["stream"] == "boiler_coal")
    act = s["activity"]
    U = act["value"] * act["U_rel_pct"] / 100
    assert abs(act["value"] - true_mass) <= U, (act, true_mass)
    with (reg / "registry" / "instruments.csv").open(encoding="utf-8", newline="") as fh:
        mpe = next(float(r["mpe_rel"]) for r in csv.DictReader(fh) if r["instrument_id"] == instrument)
    z_cert = (act["value"] - true_mass) / (act["value"] * mpe / 100 / math.sqrt(3))
    assert abs(z_cert) > 1.96  # what the certificate alone would claim excludes the truth


def test_every_stream_fed_by_an_instrument_out_of_legal_state_is_flagged(region: tuple) -> None:
    _, extra, accounts = region
    manifest = extra["manifest"]
    out_of_state = [n for n in manifest.noncompliance
                    if n["kind"] in ("overdue", "does_not_conform", "calibrated_not_verified")]
    assert out_of_state
    for n in out_of_state:
        acc = accounts[n["enterprise"]]
        flagged = {f.get("instrument") for f in acc.flags if f["kind"] == "legal_state"}
        used = {i for s in acc.to_dict()["streams"] for src in s["data_source"].values()
                for i in src.get("instruments", [])}
        if n["instrument_id"] in used:
            assert n["instrument_id"] in flagged, (n, flagged)


def test_monthly_results_and_their_uncertainty(region: tuple) -> None:
    _, _, accounts = region
    d = accounts["E01"].to_dict()
    months = d["periods"]
    assert [m["period"] for m in months] == [f"{YEAR}-{i:02d}" for i in range(1, 13)]
    assert sum(m["value"] for m in months) == pytest.approx(d["total"]["value"], rel=1e-9)
    # systematic terms add across months: the year's u is larger than the root-sum-square of the months'
    assert d["total"]["u"] > math.sqrt(sum(m["u"] ** 2 for m in months))
    for s in d["streams"]:
        assert len(s["periods"]) == 12


def test_json_carries_the_documented_fields_and_the_budget_reaches_certificates(region: tuple) -> None:
    _, _, accounts = region
    d = json.loads(json.dumps(accounts["E01"].to_dict(), ensure_ascii=False))
    assert {"value", "u", "U", "k", "unit", "interval"} <= d["total"].keys()
    for s in d["streams"]:
        assert {"name", "kind", "emissions", "activity", "factor", "tier", "data_source"} <= s.keys()
    assert any(b["certificates"] for b in d["budget"] if b["kind"] in ("instrument", "analyser"))
    assert d["improve"] and d["improve"][0]["U_after_t"] < d["improve"][0]["U_now_t"]
    assert d["control_plan"] and any(c["planned"] == "lab" for c in d["control_plan"])
    assert d["provenance"]["inputs"]["plan"] == "E01@1"


def test_reverse_traceability_reaches_tonnes(region: tuple) -> None:
    """A mass standard found out of tolerance: the belt scales it verified moved the coal accounts; the region's
    out-of-tolerance gas-flow standard only reached CEMS points, which feed no account."""
    from datetime import date

    from carbonmet.services import trace_accounts

    reg, extra, _ = region
    with Workspace(f"sqlite:///{reg.parent / 'r.db'}", store_root=reg) as ws:
        res = trace_accounts(ws, Scope.centre(), "WS-NM-MASS-1", date(2024, 1, 1), date(2025, 12, 31), YEAR, 0.01)
        assert res["accounts"], res["not_accounted"]
        for a in res["accounts"]:
            assert a["affected_t"] != 0 and a["value_move_t"] == pytest.approx(-a["affected_t"] * 0.01 / 1.01, rel=1e-3)
            assert a["stream_u_after_t"] > a["stream_u_before_t"]
            assert a["total_u_after_t"] >= a["total_u_before_t"]
        oot = extra["manifest"].out_of_tolerance[0]
        res2 = trace_accounts(ws, Scope.centre(), oot["standard_code"], date.fromisoformat(oot["window_from"]),
                              date.fromisoformat(oot["window_to"]), YEAR, oot["as_found_error_rel_pct"] / 100)
        assert not res2["accounts"] and res2["not_accounted"]
        assert all("feeds no accounted stream" in n["reason"] for n in res2["not_accounted"])
