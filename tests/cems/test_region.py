"""CEMS on the reference region (seed 7, the dataset ``make demo`` builds) against its ground truth.

The region has one drifting stack flow monitor (E05 STACK3, from April) and four CEMS instruments calibrated
against the gas-flow standard later found out of tolerance (+3 % from their calibration date: E03 STACK2,
E10 STACK3, E12 STACK1 and the E12 Rectisol vent). Every enterprise goes the real way: registry import,
plans, lab import, the store the region wrote, then the services.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.services import (
    Scope,
    Workspace,
    compare_enterprise,
    generate_region,
    import_lab,
    import_plan,
    import_registry,
)

YEAR = 2025
Z95 = 1.959963984540054


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("cems")
    reg = root / "region"
    db = f"sqlite:///{root / 'r.db'}"
    with Workspace(db, store_root=reg) as ws:
        generate_region(ws, Scope.nobody(), reg, enterprises=12, year=YEAR, seed=7, resolution="hour")
        c = Scope.centre()
        import_registry(ws, c, sorted((reg / "registry").glob("*.csv")))
        for f in sorted((reg / "plans").glob("*.toml")):
            import_plan(ws, c, f)
        import_lab(ws, c, [reg / "lab" / "lab.csv"])
        ents = [f"E{i:02d}" for i in range(1, 13)]
        cmp = {e: compare_enterprise(ws, c, e, YEAR) for e in ents}
        cems = {e: cmp[e].legs[0] for e in ents}
    yield {"region": reg, "db": db, "cems": cems, "compare": cmp, "faulty": _faulty_cems(reg)}


def _faulty_cems(region: Path) -> dict[str, list[dict[str, Any]]]:
    """Injected faults on flow or CO2 points of monitored streams, per enterprise (manifest.json): the drifting
    monitor and the instruments calibrated against the out-of-tolerance standard."""
    m = json.loads((region / "manifest.json").read_text(encoding="utf-8"))
    out: dict[str, list[dict[str, Any]]] = {}
    cems = (".FLOW", ".CO2")
    for f in m["faults"]:
        if f["kind"] == "drift" and f["point_id"].endswith(cems) and ".CO2_RECOVERED." not in f["point_id"]:
            out.setdefault(f["enterprise"], []).append({"point": f["point_id"], "instrument": f["instrument_id"]})
    for ev in m["out_of_tolerance"]:
        for a in ev["affected_certificates"]:
            if a["point_id"].endswith(cems) and ".CO2_RECOVERED." not in a["point_id"]:
                out.setdefault(a["point_id"].split(".")[0], []).append({"point": a["point_id"],
                                                                         "instrument": a["instrument_id"]})
    return out


def _truth(reg: Path) -> dict[tuple[str, str], float]:
    with (reg / "truth" / "carbon_streams.csv").open(encoding="utf-8", newline="") as fh:
        return {(r["enterprise"], r["stream"]): float(r["co2_t"]) for r in csv.DictReader(fh)
                if r["period"] == str(YEAR) and r["co2_t"]}


def test_healthy_sources_are_within_their_expanded_uncertainty_of_the_truth(region: dict[str, Any]) -> None:
    truth = _truth(region["region"])
    bad = {f["point"] for fs in region["faulty"].values() for f in fs}
    z = []
    for e, acc in region["cems"].items():
        for s in acc.streams:
            if s.name == "flare" or {s.activity["flow_point"], s.activity["conc_point"]} & bad:
                continue
            v, u = acc.figures([s])
            z.append((e, s.name, (float(v[-1]) - truth[(e, s.name)]) / float(u[-1])))
    zz = np.array([x[2] for x in z])
    assert len(z) >= 36
    inside = float(np.mean(np.abs(zz) <= Z95))
    assert inside >= 0.9, [x for x in z if abs(x[2]) > Z95]  # 95 % intervals: about 95 % inside
    assert abs(float(zz.mean())) < 0.5 and 0.4 < float(zz.std()) < 1.5


def test_hours_add_up_and_every_gap_carries_its_rule(region: dict[str, Any]) -> None:
    for acc in region["cems"].values():
        for s in acc.streams:
            a = s.activity
            if "hours" not in a:
                continue
            assert a["valid_hours"] + a["substituted_hours"] + a["stopped_hours"] == a["hours"] == 8760
            for g in a["gaps"]["flow"] + a["gaps"]["co2"]:
                assert g["clause"].startswith("HJ/T 75-2007") and g["evidence"] in ("V", "A")


def test_the_faulty_monitors_are_flagged_and_the_healthy_enterprises_are_not(region: dict[str, Any]) -> None:
    cmp, faulty = region["compare"], region["faulty"]
    assert set(faulty) == {"E03", "E05", "E10", "E12"}
    flagged = {e for e, c in cmp.items() if c.flagged}
    assert {"E05", "E12", "E03"} <= flagged  # drift (slope), out-of-tolerance standard (steps)
    assert flagged <= set(faulty), flagged - set(faulty)  # no false alarm on this seed
    # the drift shows as a change over the year; the steps name the instruments calibrated against the faulty
    # standard
    assert cmp["E05"].stability["unstable"] and cmp["E05"].stability["change_over_year_pct"] > 0.5
    assert {"E12-I0337", "E12-I0334"} <= set(cmp["E12"].suspects)
    assert "E03-I0081" in cmp["E03"].suspects


def test_no_shared_inputs_in_the_region_so_both_formulas_agree(region: dict[str, Any]) -> None:
    for c in region["compare"].values():
        assert not c.shared
        y = c.year_row
        assert y["u_difference"] == pytest.approx(y["u_difference_naive"], rel=1e-6)
        assert 0.0 < c.measured_share < 1.0


def test_cli_cems_annual_and_compare(region: dict[str, Any]) -> None:
    run = CliRunner()
    args = ["--year", str(YEAR), "--db", region["db"], "--store", str(region["region"])]
    r = run.invoke(app, ["cems", "annual", "E05", *args, "--json", "--method", "lpu"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["total"]["value"] == pytest.approx(region["cems"]["E05"].total["value"], rel=1e-9)
    assert {h["stream"] for h in d["hours"]} >= {"boiler_stack_3", "rectisol_vent"}
    r = run.invoke(app, ["compare", "E12", *args, "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["flagged"] and len(d["periods"]) == 13 and "E12-I0334" in d["suspects"]
    r = run.invoke(app, ["compare", "E12", *args])
    assert r.exit_code == 0 and "E_n" in r.output
    r = run.invoke(app, ["cems", "annual", "E05", *args, "--rule-set", "hj75_2099"])
    assert r.exit_code == 2 and "hjt75_2007" in r.output


@pytest.fixture(scope="module")
def balances(region: dict[str, Any]) -> dict[str, Any]:
    from carbonmet.cems import plant_balance, reconcile_plant
    from carbonmet.sites import load_plan

    out = {}
    with Workspace(region["db"], store_root=region["region"]) as ws, ws.session() as s:
        for e, cmp in region["compare"].items():
            pb = plant_balance(cmp.legs[1], cmp.legs[0], load_plan(s, e))
            out[e] = (pb, reconcile_plant(pb))
    return out


def _carbon_truth(reg: Path) -> dict[tuple[str, str], float]:
    with (reg / "truth" / "carbon_streams.csv").open(encoding="utf-8", newline="") as fh:
        return {(r["enterprise"], r["stream"]): float(r["carbon_t"]) for r in csv.DictReader(fh)
                if r["period"] == str(YEAR) and r["carbon_t"]}


def test_reconciled_flows_are_closer_to_the_truth_and_their_u_covers(region: dict[str, Any],
                                                                      balances: dict[str, Any]) -> None:
    """Against the true carbon of every measured flow: the reconciled values' errors, in units of the raw u, are
    smaller than the raw ones (what weighted least squares promises); reconciled u ≤ raw u; 95 % intervals cover."""
    truth = _carbon_truth(region["region"])
    z_raw, z_rec, inside, n = [], [], 0, 0
    for e, (pb, pr) in balances.items():
        an = pr.annual
        names = list(pb.network.measured_names)
        for j, nm in enumerate(an.names):
            if nm not in names or truth.get((e, nm), 0) <= 0:
                continue
            k = names.index(nm)
            t = truth[(e, nm)]
            z_raw.append((an.raw[k] - t) / an.raw_u[k])
            z_rec.append((an.value[j] - t) / an.raw_u[k])
            assert an.u[j] <= an.raw_u[k] * (1 + 1e-9)
            inside += abs(an.value[j] - t) <= Z95 * an.u[j]
            n += 1
    rms_raw, rms_rec = float(np.sqrt(np.mean(np.square(z_raw)))), float(np.sqrt(np.mean(np.square(z_rec))))
    assert n >= 120
    assert rms_rec < rms_raw, (rms_raw, rms_rec)
    assert inside / n >= 0.9, inside / n


def test_the_unmetered_fuel_gas_is_solved_and_plausible(region: dict[str, Any], balances: dict[str, Any]) -> None:
    for _pb, pr in balances.values():
        an = pr.annual
        j = list(an.names).index("fuel_gas_unmetered")
        boiler_in = sum(float(an.value[i]) for i, s in enumerate(an.network.streams) if s.target == "combustion"
                        and s.source is None)
        # the process fires a few per cent of the boilers' carbon as purge / tail gas (refdata route constants)
        assert 0 < an.value[j] < 0.5 * boiler_in and an.u[j] > 0


def test_systematic_bias_test_quiet_on_the_plants_and_finds_an_injected_gross_error(balances: dict[str, Any]) -> None:
    from carbonmet.cems import systematic_bias_test

    quiet = [e for e, (pb, _) in balances.items() if not systematic_bias_test(pb)["detected"]]
    assert len(quiet) >= 10  # family-wise 5 % per plant
    pb, _ = balances["E01"]
    clean = systematic_bias_test(pb)
    mdb = {m["flow"]: m["minimum_detectable_bias"] for m in clean["meters"]}
    hit = systematic_bias_test(pb, bias={"gasifier_coal": -1.5 * mdb["gasifier_coal"]})
    assert hit["detected"] and "gasifier_coal" in hit["candidates"]
    # every meter of the candidate set is one whose error the balance cannot tell from the injected one
    assert hit["named"] in (None, "gasifier_coal")


@pytest.fixture(scope="module")
def booked(region: dict[str, Any]) -> dict[str, Any]:
    """The plant balances with the books beside the meters: coal yards and product tanks (refdata 1.6)."""
    from carbonmet.cems import plant_balance
    from carbonmet.services import stock_ledgers
    from carbonmet.sites import load_plan

    out = {}
    with Workspace(region["db"], store_root=region["region"]) as ws:
        for e, cmp in region["compare"].items():
            with ws.session() as s:
                plan = load_plan(s, e)
            ledgers, notes = stock_ledgers(ws, Scope.centre(), e, YEAR)
            assert notes == [], notes
            out[e] = plant_balance(cmp.legs[1], cmp.legs[0], plan, ledgers)
    return out


def test_the_books_add_a_node_per_coal_yard_and_product_tank_and_each_closes(booked: dict[str, Any]) -> None:
    """Receipts − belt − Δstock (yard) and Coriolis − shipments − Δstock (tank), month by month, within 3 u of
    zero: the books and the meters tell one story when nothing is biased beyond its certificate."""
    from carbonmet.cems import reconcile_plant

    for e, pb in booked.items():
        nodes = [n for n in pb.network.nodes if n.startswith(("coal_yard:", "tank:"))]
        assert {"coal_yard:gasifier_coal", "coal_yard:boiler_coal"} <= set(nodes), e
        mo = reconcile_plant(pb).monthly
        for n in nodes:
            i = list(pb.network.nodes).index(n)
            imb, u = mo.closure.node_imbalance[:, i], mo.closure.node_imbalance_u[:, i]
            assert np.all(np.isfinite(imb)) and np.all(np.abs(imb) <= 3 * u + 1e-9), (e, n, imb / u)


def test_the_books_let_the_test_name_the_belt_scale_and_the_product_meter(balances: dict[str, Any],
                                                                        booked: dict[str, Any]) -> None:
    """Without the books the gasifier belt scale's signature is the product meter's and the vent's (ρ → 1: no
    bias of it can be named alone below 20 %); with them it is nameable, and an injected error of that size
    is named alone, as is the receipts weighbridge's, the product Coriolis meter's and the tank shipments'."""
    from carbonmet.cems import systematic_bias_test

    named, tried = 0, 0
    for e, pb in booked.items():
        clean = systematic_bias_test(pb)
        if clean["detected"]:
            continue
        m = {x["flow"]: x for x in clean["meters"]}
        before = {x["flow"]: x for x in systematic_bias_test(balances[e][0])["meters"]}
        mnb0 = before["gasifier_coal"]["minimum_nameable_bias"]
        assert mnb0 is None or mnb0 > m["gasifier_coal"]["minimum_nameable_bias"], e
        # the product's Coriolis meter and the tank's weighbridge shipments (ρ ≈ 0.998): the relative bias follows
        # the monthly flow, which the scatter estimated under the null hypothesis used to swallow
        tanks = [n.split(":", 1)[1] for n in pb.network.nodes if n.startswith("tank:")]
        for nm in ("gasifier_coal", "gasifier_coal.receipts", *tanks, *(f"{t}.shipments" for t in tanks)):
            mnb = m[nm]["minimum_nameable_bias"]
            size = 1.2 * mnb if mnb is not None else np.inf
            if size > 0.2:
                continue
            for sign in (-1.0, 1.0):
                hit = systematic_bias_test(pb, bias={nm: sign * size})
                tried += 1
                named += hit["named"] == nm
                assert hit["detected"] and hit["named"] in (None, nm), (e, nm, hit["named"])
    assert tried >= 40 and named / tried >= 0.95, (named, tried)


def test_three_way_and_the_balance_cli(region: dict[str, Any], tmp_path: Path) -> None:
    run = CliRunner()
    png = tmp_path / "e05.png"
    r = run.invoke(app, ["balance", "E05", "--year", str(YEAR), "--db", region["db"], "--store", str(region["region"]),
                         "--json", "--png", str(png)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tw = d["three_way"]["periods"]
    assert len(tw) == 13 and tw[-1]["period"] == str(YEAR)
    y = tw[-1]
    assert y["cems"] == pytest.approx(region["compare"]["E05"].year_row["cems"])
    # the reconciled emissions lie between what the two legs say, and are more certain than either
    lo, hi = sorted((y["cems"], y["accounting"]))
    assert lo <= y["reconciled"] <= hi
    assert y["u_reconciled"] < min(y["u_cems"], y["u_accounting"])
