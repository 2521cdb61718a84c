"""A plant's product footprint from its measured foreground: hand-worked values, correlations kept, PACT out."""

from __future__ import annotations

import math

import pytest

from carbonmet.footprint import FootprintError, check_product_footprint, product_footprint, product_rule
from carbonmet.footprint.plant import (
    BackgroundFactor,
    ErrorTerm,
    Linear,
    PlantData,
    background_factors,
    plant_footprint,
    subdivision_of,
)

BG = {"purchased_electricity": BackgroundFactor("purchased_electricity", 0.5, "tCO2e/MWh", 0.0, "test", "A"),
      "coal": BackgroundFactor("coal", 0.15, "tCO2e/t", 0.0, "test", "A")}


def _methanol(terms: dict[str, ErrorTerm] | None = None, direct_sens: dict[str, float] | None = None,
              product_sens: dict[str, float] | None = None, recovered: Linear | None = None) -> PlantData:
    # 1000 t methanol; 2500 t CO2 on site; 200 MWh bought; 1500 t coal
    return PlantData("P1", 2025, Linear(2500.0, "tCO2", direct_sens or {}),
                     {"purchased_electricity": Linear(200.0, "MWh"), "coal": Linear(1500.0, "t")},
                     {"methanol": Linear(1000.0, "t", product_sens or {})}, terms or {}, recovered)


def test_a_small_plant_worked_by_hand() -> None:
    # (2500 t direct + 200 MWh × 0.5 + 1500 t × 0.15) / 1000 t = (2500 + 100 + 225) / 1000 = 2.825 kgCO2e/kg
    fp = plant_footprint(product_rule("methanol"), _methanol(), BG)
    assert fp.value == pytest.approx(2.825, rel=1e-12)
    assert fp.by_stage == pytest.approx({"gasification": 2.5, "grid": 0.1, "mining": 0.225}, rel=1e-12)
    assert fp.per_tonne == pytest.approx({"purchased_electricity": 0.2, "coal": 1.5}, rel=1e-12)  # MWh/t, t/t
    assert fp.primary_data_share == pytest.approx(2.5 / 2.825, rel=1e-12)
    assert fp.u == 0.0 and fp.u_measurement == 0.0


def test_a_meter_shared_by_the_carbon_balance_and_the_product_moves_both_together() -> None:
    # The product meter's relative error δ_M (u = 1 %) raises the product mass by 1000 t·δ_M and, through the
    # carbon balance, lowers direct CO2 by 0.3749 × 44.0095/12.011 × 1000 t·δ_M = 1373.7 t·δ_M:
    # ∂F/∂δ_M = (−1373.7 − 2.825 × 1000)/1000 = −4.1987 → u = 0.041987 kgCO2e/kg.
    # Treated as independent inputs the two would give √(1.3737² + 2.825²) × 0.01 = 0.031413 — too small.
    c = 0.3749 * 44.0095 / 12.011 * 1000.0
    data = _methanol({"instrument:M": ErrorTerm("instrument:M", 0.01)}, {"instrument:M": -c}, {"instrument:M": 1000.0})
    fp = plant_footprint(product_rule("methanol"), data, BG)
    expected = (c / 1000.0 + 2.825) * 0.01
    assert fp.u_measurement == pytest.approx(expected, rel=1e-6)
    assert fp.u_measurement > 1.3 * math.hypot(c / 1000.0, 2.825) * 0.01
    assert fp.budget[0]["term"] == "instrument:M"


def test_background_factor_uncertainty_is_kept_apart_from_the_measurement_uncertainty() -> None:
    bg = dict(BG, coal=BackgroundFactor("coal", 0.15, "tCO2e/t", 0.38, "test", "R"))
    fp = plant_footprint(product_rule("methanol"), _methanol(), bg)
    assert fp.u_measurement == 0.0
    assert fp.u == pytest.approx(1.5 * 0.15 * 0.38, rel=1e-6)   # 1.5 t coal per t × 0.15 × 38 %
    assert fp.U == pytest.approx(2 * fp.u) and "unverified_factor:coal" not in fp.flags


def test_monte_carlo_over_the_same_terms_agrees_with_the_lpu() -> None:
    terms = {"instrument:M": ErrorTerm("instrument:M", 0.01), "analyser:C": ErrorTerm("analyser:C", 0.02, "rectangular")}
    data = _methanol(terms, {"instrument:M": -1373.7, "analyser:C": 2000.0}, {"instrument:M": 1000.0})
    fp = plant_footprint(product_rule("methanol"), data, BG, mc=4000, seed=3)
    assert fp.mc is not None
    m = fp.mc["measurement"]
    assert m["mean"] == pytest.approx(fp.value, abs=4 * fp.u_measurement / math.sqrt(4000) + 1e-3)
    assert m["sd"] == pytest.approx(fp.u_measurement, rel=0.06)


def _olefins(allocation: str) -> float:
    # 500 t PE and 500 t PP from one plant emitting 5000 t CO2 and buying nothing
    data = PlantData("P2", 2025, Linear(5000.0, "tCO2"), {}, {"polyethylene": Linear(500.0, "t"),
                                                              "polypropylene": Linear(500.0, "t")}, {})
    rules = {p: product_rule(p) for p in ("polyethylene", "polypropylene")}
    return plant_footprint(rules["polyethylene"], data, {}, allocation=allocation, co_rules=rules).value


def test_every_allocation_variant_gives_its_hand_value_for_two_co_products() -> None:
    assert _olefins("mass") == pytest.approx(5000.0 / 1000.0, rel=1e-12)           # 5.0 kg/kg for both
    lhv_pe, lhv_pp = product_rule("polyethylene").property("lhv_mj_per_kg").value, \
        product_rule("polypropylene").property("lhv_mj_per_kg").value
    share = 500 * lhv_pe / (500 * lhv_pe + 500 * lhv_pp)                            # 43.3 / 87.3 = 0.49599
    assert _olefins("energy") == pytest.approx(5000.0 * share / 500.0, rel=1e-12)  # 4.9599 kg/kg
    with pytest.raises(FootprintError, match="price"):
        _olefins("economic")                                                         # no price in the rules


def test_recovered_co2_is_reported_apart_and_never_netted() -> None:
    fp = plant_footprint(product_rule("methanol"), _methanol(recovered=Linear(300.0, "tCO2")), BG)
    assert fp.value == pytest.approx(2.825) and fp.captured == pytest.approx(0.3)
    figures = fp.pcf_figures()
    assert figures.ccu_carbon_content == pytest.approx(0.3 * 12.011 / 44.0095)
    assert figures.fossil_ghg_emissions == pytest.approx(2.825) and figures.ccs_capture == 0.0


def test_the_footprint_becomes_a_valid_pact_document() -> None:
    from datetime import UTC, datetime

    fp = plant_footprint(product_rule("methanol"), _methanol(recovered=Linear(300.0, "tCO2")), BG)
    doc = product_footprint(fp.rule, fp.pcf_figures(), company_name="P1", company_ids=["urn:carbonmet:org:P1"],
                            product_ids=["urn:carbonmet:product:P1:methanol"],
                            period_start=datetime(2025, 1, 1, tzinfo=UTC), period_end=datetime(2025, 12, 31, tzinfo=UTC),
                            created=datetime(2026, 1, 1, tzinfo=UTC), geography_subdivision=subdivision_of("内蒙古自治区鄂尔多斯市"))
    assert check_product_footprint(doc) == []
    assert doc["pcf"]["pcfExcludingBiogenicUptake"] == "2.825" and doc["pcf"]["geographyCountrySubdivision"] == "CN-NM"
    assert doc["pcf"]["ccuCarbonContent"] == "0.081876" and doc["pcf"]["primaryDataShare"] == "88.495575"


@pytest.mark.parametrize(("change", "says"), [
    ({"products": {"meg": Linear(1.0, "t")}}, "makes no methanol"),
    ({"background": {}}, "no background factor for purchased_electricity, coal"),
    ({"direct": Linear(2500.0, "tCO2", {"instrument:X": 1.0})}, "unknown error terms instrument:X"),
    ({"allocation": "volume"}, "unknown allocation"),
])
def test_a_footprint_that_cannot_be_made_says_why(change: dict, says: str) -> None:
    data = _methanol()
    kw: dict = {}
    if "products" in change or "direct" in change:
        data = PlantData("P1", 2025, change.get("direct", data.direct), data.inputs,
                         change.get("products", data.products), data.terms)
    if "allocation" in change:
        kw["allocation"] = change["allocation"]
    with pytest.raises(FootprintError, match=says):
        plant_footprint(product_rule("methanol"), data, change.get("background", BG), **kw)


def test_packaged_background_factors_take_grid_and_heat_from_the_factor_store() -> None:
    bg = background_factors()
    assert bg["purchased_electricity"].value == pytest.approx(0.5703) and bg["purchased_electricity"].ref
    assert bg["purchased_steam"].value == pytest.approx(0.11)
    assert bg["coal"].value == pytest.approx(0.15) and bg["coal"].u_rel == pytest.approx(0.058 / 0.15)
    assert bg["coal"].ref.startswith("coal/upstream_mining_transport/") and bg["coal"].unverified   # [R]: memory
    assert bg["natural_gas"].unverified
    assert subdivision_of("陕西省榆林市") == "CN-SN" and subdivision_of("Mars") is None


def test_on_site_emissions_split_by_stage_keep_the_total_and_its_uncertainty() -> None:
    # 2500 t = 2000 t carbon balance (gasification) + 500 t boilers (utilities); one meter term on each
    terms = {"a": ErrorTerm("a", 0.01), "b": ErrorTerm("b", 0.02)}
    whole = _methanol(terms, {"a": 2000.0, "b": 500.0})
    split = PlantData("P1", 2025, whole.direct, whole.inputs, whole.products, terms, None,
                      {"gasification": Linear(2000.0, "tCO2", {"a": 2000.0}),
                       "utilities": Linear(500.0, "tCO2", {"b": 500.0})})
    a = plant_footprint(product_rule("methanol"), whole, BG)
    b = plant_footprint(product_rule("methanol"), split, BG)
    assert b.value == pytest.approx(a.value, rel=1e-12) and b.u_measurement == pytest.approx(a.u_measurement, rel=1e-6)
    assert b.by_stage == pytest.approx({"gasification": 2.0, "utilities": 0.5, "grid": 0.1, "mining": 0.225})
    assert b.primary_data_share == pytest.approx(2.5 / 2.825)
