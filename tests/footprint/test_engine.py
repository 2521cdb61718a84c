"""The footprint engine on a coal-to-methanol system worked by hand (conftest.methanol_system).

Hand arithmetic, GWP100 AR6 (CO2 1, CH4 27.9), demand 1 kg methanol.

Per unit of each activity, kg CO2e:
    mining  e_m = 0.01 + 0.002 · 27.9 = 0.0658 per kg coal
    grid    e_g = 1.0 per kWh
    gasif.  e_x = 2.0 per kg methanol (0.5 kg CO2 captured, not netted)
    LNG     e_l = 0.6 per kg LNG

Substitution (system expansion): gasification runs once (s_x = 1) and its 0.25 kg LNG replaces LNG supply
(s_l = −0.25). Coal x and electricity y close the loop:
    x = 1.5 + 0.5 y,   y = 0.5 + 0.04 x
    ⇒ x = 1.5 + 0.25 + 0.02 x ⇒ x = 1.75 / 0.98 = 25/14 kg,   y = 0.5 + 0.04 · 25/14 = 4/7 kWh
    score = 0.0658 · 25/14 + 4/7 + 2.0 − 0.25 · 0.6

Partitioning with methanol share f (mass: 1/(1 + 0.25) = 0.8; energy: 19.9/(19.9 + 0.25·50) = 19.9/32.4;
economic: 2.4/(2.4 + 0.25·4.0) = 12/17): the methanol part of gasification takes f of every input and emission,
so x = (25/14) f, y = (4/7) f and score = f · (0.0658 · 25/14 + 4/7 + 2.0), captured CO2 = 0.5 f.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction as F

import numpy as np
import pytest

from carbonmet.footprint import (
    ALLOCATION_METHODS,
    FootprintError,
    Lca,
    ProductSystem,
    SingularTechnosphereError,
)

E_MINING = F("0.01") + F("0.002") * F("27.9")
COAL, POWER = F(25, 14), F(4, 7)
BEFORE_CREDIT = E_MINING * COAL + POWER * 1 + 2
SHARES = {"mass": F(1) / F("1.25"), "energy": F("19.9") / F("32.4"), "economic": F(12, 17)}


def test_the_hand_worked_system_gives_the_hand_supply_and_score_under_substitution(
    system: ProductSystem,
) -> None:
    r = system.footprint({"methanol": 1.0}, allocation="substitution")
    supply = dict(zip(r.activities, r.supply, strict=True))
    assert supply["coal mining"] == pytest.approx(float(COAL), rel=1e-12)
    assert supply["power grid"] == pytest.approx(float(POWER), rel=1e-12)
    assert supply["gasification"] == pytest.approx(1.0, rel=1e-12)
    assert supply["LNG supply"] == pytest.approx(-0.25, rel=1e-12)
    assert r.score == pytest.approx(float(BEFORE_CREDIT - F("0.25") * F("0.6")), rel=1e-12)
    assert r.allocation == "substitution" and r.gwp_set == "AR6"


def test_contributions_by_activity_and_by_stage_add_up_to_the_score(system: ProductSystem) -> None:
    r = system.footprint({"methanol": 1.0})
    assert r.contribution.sum() == pytest.approx(r.score, rel=1e-12)
    assert r.by_stage["mining"] == pytest.approx(float(E_MINING * COAL), rel=1e-12)
    assert r.by_stage["grid"] == pytest.approx(float(POWER), rel=1e-12)
    assert r.by_stage["gasification"] == pytest.approx(2.0, rel=1e-12)
    assert r.by_stage["lng"] == pytest.approx(-0.15, rel=1e-12)


def test_the_inventory_is_reported_by_gas_in_kg(system: ProductSystem) -> None:
    r = system.footprint({"methanol": 1.0})
    co2 = F("0.01") * COAL + POWER + 2 - F("0.25") * F("0.6")
    assert r.inventory["CO2"] == pytest.approx(float(co2), rel=1e-12)
    assert r.inventory["CH4"] == pytest.approx(float(F("0.002") * COAL), rel=1e-12)
    assert set(r.inventory) == {"CO2", "CH4"}


@pytest.mark.parametrize("method", ["mass", "energy", "economic"])
def test_every_partitioning_method_gives_its_hand_value(system: ProductSystem, method: str) -> None:
    f = SHARES[method]
    r = system.footprint({"methanol": 1.0}, allocation=method)
    assert r.score == pytest.approx(float(f * BEFORE_CREDIT), rel=1e-12)
    assert r.captured_co2 == pytest.approx(float(f * F("0.5")), rel=1e-12)
    supply = dict(zip(r.activities, r.supply, strict=True))
    assert supply["coal mining"] == pytest.approx(float(f * COAL), rel=1e-12)
    assert r.allocation == method


def test_the_co_product_gets_the_rest_of_the_burden_under_partitioning(system: ProductSystem) -> None:
    # 0.25 kg LNG carries (1 − f) of the activity: per kg, (1 − f)/0.25 of the unallocated burden
    r = system.footprint({"LNG (co-product)": 1.0}, allocation="mass")
    assert r.score == pytest.approx(float((1 - SHARES["mass"]) / F("0.25") * BEFORE_CREDIT), rel=1e-12)


def test_the_sensitivity_table_gives_every_method_against_the_chosen_one(system: ProductSystem) -> None:
    rows = system.allocation_sensitivity({"methanol": 1.0}, chosen="mass")
    assert [r.method for r in rows] == list(ALLOCATION_METHODS)
    by = {r.method: r for r in rows}
    assert by["mass"].chosen and not any(r.chosen for r in rows if r.method != "mass")
    assert by["mass"].relative_to_chosen == 0.0
    expected = (BEFORE_CREDIT - F("0.15")) / (SHARES["mass"] * BEFORE_CREDIT) - 1
    assert by["substitution"].relative_to_chosen == pytest.approx(float(expected), rel=1e-12)


def test_a_method_whose_property_is_missing_shows_why_in_the_sensitivity_table() -> None:
    ps = ProductSystem()
    ps.add_activity("split", "a", stage="x", properties={"mass": 1.0})
    ps.add_coproduct("split", "b", 1.0, properties={"mass": 1.0}, avoids="b elsewhere")
    ps.add_activity("b supply", "b elsewhere", stage="y")
    ps.add_emission("split", "CO2", 1.0)
    rows = {r.method: r for r in ps.allocation_sensitivity({"a": 1.0}, chosen="mass")}
    assert rows["mass"].score == pytest.approx(0.5)
    assert (
        np.isnan(rows["energy"].score) and "'energy'" in rows["energy"].note and "'a'" in rows["energy"].note
    )


def test_captured_co2_stays_in_its_own_field_and_out_of_the_score(
    make_system: Callable[..., ProductSystem],
) -> None:
    with_capture = make_system(capture=True).footprint({"methanol": 1.0})
    without = make_system(capture=False).footprint({"methanol": 1.0})
    assert with_capture.captured_co2 == pytest.approx(0.5, rel=1e-12)
    assert without.captured_co2 == 0.0
    assert with_capture.score == without.score
    assert "captured_CO2" not in with_capture.inventory


def test_a_singular_technosphere_raises_an_error_naming_the_activities() -> None:
    # X needs 1 Y per X and Y needs 1 X per Y: the loop produces nothing net, A = [[1, −1], [−1, 1]] is singular
    ps = ProductSystem()
    ps.add_activity("make X", "X", stage="a")
    ps.add_input("make X", "Y", 1.0)
    ps.add_activity("make Y", "Y", stage="a")
    ps.add_input("make Y", "X", 1.0)
    ps.add_activity("fine", "Z", stage="b")
    ps.add_input("fine", "X", 0.1)
    ps.add_emission("fine", "CO2", 1.0)
    with pytest.raises(SingularTechnosphereError) as err:
        ps.footprint({"Z": 1.0})
    assert set(err.value.activities) == {"make X", "make Y"}
    assert "make X" in str(err.value) and "singular" in str(err.value)


def test_an_input_nobody_provides_is_named() -> None:
    ps = ProductSystem()
    ps.add_activity("plant", "methanol", stage="synthesis")
    ps.add_input("plant", "hydrogen", 0.1)
    with pytest.raises(FootprintError, match="'plant' takes product 'hydrogen'"):
        ps.footprint({"methanol": 1.0})


def test_substitution_needs_the_avoided_product_named() -> None:
    ps = ProductSystem()
    ps.add_activity("plant", "methanol", stage="synthesis", properties={"mass": 1.0})
    ps.add_coproduct("plant", "sulphur", 0.01, properties={"mass": 1.0})
    with pytest.raises(FootprintError, match="co-product 'sulphur' avoids"):
        ps.matrices("substitution")
    assert ps.matrices("mass").allocation == "mass"


def test_a_gas_without_a_gwp_is_named() -> None:
    ps = ProductSystem(gwp_set="AR6")
    ps.add_activity("plant", "methanol", stage="synthesis")
    ps.add_emission("plant", "unobtainium", 1.0)
    with pytest.raises(FootprintError, match="'unobtainium'"):
        ps.matrices()


def test_a_demand_for_an_unknown_product_is_named(system: ProductSystem) -> None:
    with pytest.raises(FootprintError, match="'ethanol'"):
        system.footprint({"ethanol": 1.0})


def test_ar5_characterisation_changes_only_the_methane_weight(
    make_system: Callable[..., ProductSystem],
) -> None:
    ps = make_system()
    ps.gwp_set = "AR5"
    r = ps.footprint({"methanol": 1.0})
    e_mining = F("0.01") + F("0.002") * 28
    assert r.score == pytest.approx(float(e_mining * COAL + POWER + 2 - F("0.15")), rel=1e-12)
    assert r.gwp_set == "AR5"


def test_one_factorisation_serves_many_demands(system: ProductSystem) -> None:
    lca = Lca(system.matrices("mass"))
    one = lca.solve({"methanol": 1.0}).score
    assert lca.solve({"methanol": 2.0}).score == pytest.approx(2 * one, rel=1e-12)
    assert lca.solve({"electricity": 1.0}).score == pytest.approx(
        float((E_MINING * F("0.5") + 1) / (1 - F("0.5") * F("0.04"))), rel=1e-12
    )
    assert lca.fill_in >= 1.0


def test_the_result_names_its_allocation_factors_and_gwp_values_with_their_evidence(
    system: ProductSystem,
) -> None:
    r = system.footprint({"methanol": 1.0}, allocation="mass")
    assert any(n.startswith("gasification: mass allocation methanol 0.8") for n in r.notes)
    assert any(n.startswith("GWP100 AR6 CH4 = 27.9") and "evidence C" in n for n in r.notes)
