"""Accounts from inventory files: the worked example by hand, certificates, legal state, bad input, same bytes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from carbonmet.accounting import (
    InventoryError,
    Part,
    StreamCalc,
    Term,
    account_inventory,
    read_inventory,
    write_xlsx,
)
from carbonmet.factors import default_profile, grid_factor
from carbonmet.quantities import CO2_PER_C

EXAMPLE = Path(__file__).parents[2] / "examples" / "inventory-ctm.toml"


def _streams(acc_dict: dict) -> dict[str, dict]:
    return {s["name"]: s for s in acc_dict["streams"]}


def test_worked_example_by_hand() -> None:
    """docs/inventory.md: a coal-to-methanol plant; gasifier coal in the balance, boiler coal burned — once each."""
    p = default_profile()
    acc = account_inventory(read_inventory(EXAMPLE), method="lpu").to_dict()
    s = _streams(acc)
    c_meoh = p.get("carbon_content", "methanol").value  # 0.3749
    # gasification: (1 500 000 × 0.60 − 1 000 000 × c_MeOH − 90 000 × 0.20) tC × 44/12
    gas = (1_500_000 * 0.60 - 1_000_000 * c_meoh - 90_000 * 0.20) * CO2_PER_C
    # boiler coal per heat: 500 000 t × 20.9 GJ/t × CC_bit × OF_bit × 44/12 (CC, OF: the profile's defaults)
    bit = p.fuel("bituminous_coal")
    boiler = 500_000 * 20.9 * bit.carbon_content_per_heat.value * bit.oxidation_rate.value * CO2_PER_C
    # natural gas: 6e6 Nm³ × NCV × CC × OF × 44/12, all defaults (GJ/Nm³, tC/GJ)
    ng = p.fuel("natural_gas")
    gas_fuel = 6e6 * ng.ncv.value * ng.carbon_content_per_heat.value * ng.oxidation_rate.value * CO2_PER_C
    # electricity: 150 000 MWh × grid factor for 2025
    elec = 150_000 * grid_factor(2025).value
    assert s["gasification"]["emissions"]["value"] == pytest.approx(gas, rel=1e-9, abs=1e-4)
    assert s["boiler_coal"]["emissions"]["value"] == pytest.approx(boiler, rel=1e-9, abs=1e-4)
    assert s["natural_gas"]["emissions"]["value"] == pytest.approx(gas_fuel, rel=1e-9, abs=1e-4)
    assert s["purchased_electricity"]["emissions"]["value"] == pytest.approx(elec, rel=1e-9, abs=1e-4)
    assert acc["total"]["value"] == pytest.approx(gas + boiler + gas_fuel + elec, rel=1e-9, abs=1e-4)
    assert acc["direct"]["value"] == pytest.approx(gas + boiler + gas_fuel, rel=1e-9, abs=1e-4)
    # no double counting: the gasifier coal feeds only the balance, the boiler coal only combustion
    assert s["gasification"]["activity"]["items"].keys() == {"gasifier_coal", "methanol", "gasifier_slag"}
    assert "gasifier_coal" not in s and "boiler_coal" not in s["gasification"]["activity"]["items"]
    # natural gas at its defaults gives the §1.3 EF of 21.62 t/10⁴Nm³ — with the printed 44/12; the engine uses
    # the molar-mass ratio 44.0095/12.011 (0.07 % lower), as the reference region's truth does
    assert gas_fuel / 600 * (44 / 12) / CO2_PER_C == pytest.approx(21.62, abs=0.005)


def test_the_budget_explains_the_total_and_the_mcm_agrees_with_lpu() -> None:
    acc = account_inventory(read_inventory(EXAMPLE), method="both", trials=200_000, seed=3)
    d = acc.to_dict()
    u = d["total"]["u"]
    # no correlated pair of terms in this file: the shares add to one
    assert sum(b["variance_share"] for b in d["budget"]) == pytest.approx(1.0, abs=1e-6)
    assert math.sqrt(sum(b["u_contribution_t"] ** 2 for b in d["budget"])) == pytest.approx(u, rel=1e-6)
    assert d["total"]["mcm"]["u"] == pytest.approx(u, rel=0.02)
    lo, hi = d["total"]["mcm"]["interval"]
    assert lo < d["total"]["value"] < hi
    # the engine's LPU equals the analytic one
    assert acc.engine is not None and acc.engine.evaluation.lpu is not None
    assert acc.engine.evaluation.lpu.u == pytest.approx(u, rel=1e-9, abs=1e-4)
    # improve: ranked, each with the figure U would become
    imp = d["improve"]
    assert imp and all(i["U_after_t"] < i["U_now_t"] for i in imp)
    assert [i["reduction_t"] for i in imp] == sorted((i["reduction_t"] for i in imp), reverse=True)


def _one_stream(tmp_path: Path, instrument: str, extra: str = "") -> Path:
    p = tmp_path / "inv.toml"
    p.write_text(f"""
[inventory]
enterprise = "T1"
year = 2025
[[instruments]]
{instrument}
[[streams]]
name = "boiler_coal"
kind = "fuel_combustion"
fuel = "bituminous_coal"
activity = {{ value = 100000, unit = "t", instrument = "S1" }}
{extra}
""", encoding="utf-8")
    return p


def _u_rel_of(acc: dict, key: str) -> float:
    return next(b["u_rel"] for b in acc["budget"] if b["term"] == key)


def test_calibration_certificate_U_over_k_not_the_class_MPE(tmp_path: Path) -> None:
    # a 1.0 class scale (MPE 1 %) calibrated with U = 0.2 %, k = 2: u = 0.1 %, not 1/√3 = 0.577 %
    cal = account_inventory(read_inventory(_one_stream(
        tmp_path, 'id = "S1"\ncertificate = "calibration"\nU_rel = 0.2\nk = 2\nmpe_rel = 1.0')), method="lpu").to_dict()
    ver = account_inventory(read_inventory(_one_stream(
        tmp_path, 'id = "S1"\ncertificate = "verification"\nmpe_rel = 1.0')), method="lpu").to_dict()
    assert _u_rel_of(cal, "instrument:S1") == pytest.approx(0.001, rel=1e-6)
    assert _u_rel_of(ver, "instrument:S1") == pytest.approx(0.01 / math.sqrt(3), rel=1e-6)
    b = next(b for b in ver["budget"] if b["term"] == "instrument:S1")
    assert b["distribution"] == "rectangular"
    # the as-found error of a calibration kept as a term (not applied) unless the file says apply_as_found
    kept = account_inventory(read_inventory(_one_stream(
        tmp_path, 'id = "S1"\ncertificate = "calibration"\nU_rel = 0.2\nas_found_rel = 0.3')), method="lpu").to_dict()
    assert _u_rel_of(kept, "as_found:S1") == pytest.approx(0.003 / math.sqrt(3), rel=1e-6)
    applied = account_inventory(read_inventory(_one_stream(
        tmp_path, 'id = "S1"\ncertificate = "calibration"\nU_rel = 0.2\nas_found_rel = 0.3\napply_as_found = true')),
        method="lpu").to_dict()
    assert not any(b["term"] == "as_found:S1" for b in applied["budget"])
    assert applied["total"]["value"] == pytest.approx(kept["total"]["value"] / 1.003, rel=1e-9, abs=1e-3)


def test_an_instrument_out_of_legal_state_is_flagged_and_widened(tmp_path: Path) -> None:
    ok = account_inventory(read_inventory(_one_stream(tmp_path, 'id = "S1"\nmpe_rel = 0.5')), method="lpu").to_dict()
    bad = account_inventory(read_inventory(_one_stream(tmp_path, 'id = "S1"\nmpe_rel = 0.5\nstate = "overdue"')),
                            method="lpu").to_dict()
    assert ok["total"]["valid"] and not ok["flags"]
    assert not bad["total"]["valid"]
    flag = next(f for f in bad["flags"] if f["kind"] == "legal_state")
    assert flag["instrument"] == "S1" and flag["state"] == "overdue" and "5.3.6" in flag["rule"]
    # extra rectangular term of half-width 3 × MPE = 1.5 % over the whole year
    assert _u_rel_of(bad, "legal_state:S1") == pytest.approx(0.015 / math.sqrt(3), rel=1e-6)
    assert bad["total"]["u"] > ok["total"]["u"]


@pytest.mark.parametrize(("edit", "where", "field"), [
    ('fuel = "bituminous_coal"', "streams[1]", "fuel"),  # → unknown fuel below
    ('activity = { value = 100000, unit = "t", instrument = "S1" }', "streams[1].activity", "unit"),
    ('activity = { value = 100000, unit = "t", instrument = "S1" }', "streams[1].activity", "value"),
    ('activity = { value = 100000, unit = "t", instrument = "S1" }', "streams[1].activity", "instrument"),
])
def test_bad_inventory_names_file_place_and_field(tmp_path: Path, edit: str, where: str, field: str) -> None:
    good = _one_stream(tmp_path, 'id = "S1"\nmpe_rel = 0.5').read_text(encoding="utf-8")
    repl = {"fuel": 'fuel = "unobtainium"', "unit": 'activity = { value = 100000, unit = "GJ/t", instrument = "S1" }',
            "value": 'activity = { value = -5, unit = "t", instrument = "S1" }',
            "instrument": 'activity = { value = 100000, unit = "t", instrument = "S9" }'}[field]
    p = tmp_path / "bad.toml"
    p.write_text(good.replace(edit, repl), encoding="utf-8")
    with pytest.raises(InventoryError) as ei:
        account_inventory(read_inventory(p))
    probs = ei.value.problems
    assert any(f == str(p) and w == where and fl == field for f, w, fl, _ in probs), probs
    assert str(p) in str(ei.value)


def test_unit_that_does_not_fit_the_fuel_and_carbon_over_100_percent(tmp_path: Path) -> None:
    p = _one_stream(tmp_path, 'id = "S1"\nmpe_rel = 0.5')
    p.write_text(p.read_text(encoding="utf-8").replace('unit = "t"', 'unit = "Nm3"'), encoding="utf-8")
    with pytest.raises(InventoryError) as ei:
        account_inventory(read_inventory(p))
    assert ("streams[1].activity", "unit") in {(w, f) for _, w, f, _ in ei.value.problems}
    q = tmp_path / "c.toml"
    q.write_text(EXAMPLE.read_text(encoding="utf-8").replace("value = 60.0", "value = 150.0"), encoding="utf-8")
    with pytest.raises(InventoryError) as ei:
        read_inventory(q)
    assert ("streams[1].inputs[1].carbon", "value") in {(w, f) for _, w, f, _ in ei.value.problems}
    assert "100 %" in str(ei.value)


def test_missing_parameter_without_default(tmp_path: Path) -> None:
    q = tmp_path / "m.toml"
    text = EXAMPLE.read_text(encoding="utf-8").replace('name = "methanol"\n  material = "methanol"',
                                                       'name = "mystery_product"')
    q.write_text(text, encoding="utf-8")
    with pytest.raises(InventoryError) as ei:
        account_inventory(read_inventory(q))
    assert any(w == "streams[1].outputs[1].carbon" for _, w, _, _ in ei.value.problems)


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    a = account_inventory(read_inventory(EXAMPLE), method="both", trials=50_000, seed=1)
    b = account_inventory(read_inventory(EXAMPLE), method="both", trials=50_000, seed=1)
    ja = json.dumps(a.to_dict(), ensure_ascii=False, sort_keys=True)
    assert ja == json.dumps(b.to_dict(), ensure_ascii=False, sort_keys=True)
    x1, x2 = write_xlsx(a, tmp_path / "a.xlsx"), write_xlsx(b, tmp_path / "b.xlsx")
    assert x1.read_bytes() == x2.read_bytes()
    prov = a.to_dict()["provenance"]
    assert prov["inputs"]["inventory"]["sha256"] and prov["profile"]["name"] == "GB/T 32151.10-2023"
    assert prov["factors_data"] and prov["code"].startswith("carbonmet ")


def test_systematic_terms_stay_correlated_over_periods() -> None:
    """Twelve months of 100 t each from one scale (u = 1 %): the year's u is 12 t, not √12 · 1 t."""
    from carbonmet.accounting import Account

    s = StreamCalc("coal", "fuel_combustion", parts=[Part("coal", np.full(12, 100.0), ("instrument:S",))])
    acc = Account("T", 2025, "p", [f"2025-{m:02d}" for m in range(1, 13)], [s],
                  {"instrument:S": Term("instrument:S", 0.01)})
    v, u = acc.figures()
    assert v[-1] == pytest.approx(1200.0) and u[-1] == pytest.approx(12.0, rel=1e-12)
    assert u[0] == pytest.approx(1.0, rel=1e-12)
    assert acc.u_independent_periods() == pytest.approx(math.sqrt(12.0), rel=1e-12)


def test_affected_tonnes_of_a_suspect_instrument_by_hand() -> None:
    """The boiler-coal belt scale read 1 % high all year: the stream moves by −E/1.01, u gains E·1 %/√3."""
    from datetime import date

    from carbonmet.accounting import affected_tonnes

    acc = account_inventory(read_inventory(EXAMPLE), method="lpu")
    boiler = next(s for s in acc.to_dict()["streams"] if s["name"] == "boiler_coal")["emissions"]
    rows = affected_tonnes(acc, "BS-B", date(2025, 1, 1), None, 0.01)
    assert [r["stream"] for r in rows] == ["boiler_coal"]
    r = rows[0]
    assert r["affected_t"] == pytest.approx(boiler["value"], rel=1e-6)
    assert r["value_move_t"] == pytest.approx(-boiler["value"] * 0.01 / 1.01, rel=1e-6)
    assert r["stream_u_after_t"] == pytest.approx(math.hypot(boiler["u"], boiler["value"] * 0.01 / math.sqrt(3)),
                                                  rel=1e-6)
    # half the year affected: half the tonnes
    half = affected_tonnes(acc, "BS-B", date(2025, 1, 1), date(2025, 7, 2), 0.01)[0]
    assert half["affected_t"] == pytest.approx(boiler["value"] * 182 / 365, rel=1e-6)
    assert affected_tonnes(acc, "NO-SUCH", date(2025, 1, 1), None, 0.01) == []
