"""The plant's books as balance nodes (StockLedger): a coal yard worked by hand on a four-month plant.

The plant: coal in (belt scale, 0.6 tC/t by the lab), product out (Coriolis, default carbon content) and the
vent out (CEMS), all following one load profile — so without the books their bias signatures are parallel and no
bias of the belt scale can be told from the product meter's or the vent's. The coal yard's books: weighbridge
receipts R and surveyed stocks S (opening and each month's close), with R_t = M_t + S_{t+1} − S_t.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from carbonmet.accounting import Account, Noise, Part, StreamCalc, Term
from carbonmet.cems import (
    CemsError,
    PlantBalance,
    StockLedger,
    plant_balance,
    survey_repeatability,
    systematic_bias_test,
)
from carbonmet.cems.balance import BalanceNetwork, Stream

C_CO2 = 3.664191  # tCO2 per tC, as the balance uses
LOAD = np.array([1.0, 1.2, 0.9, 1.1])
MASS = 100.0 * LOAD  # belt scale [t]
STOCK = np.array([50.0, 60.0, 40.0, 55.0, 50.0])  # surveys [t]: opening, then each month's close
RECEIPTS = MASS + STOCK[1:] - STOCK[:-1]  # weighbridge [t]: 110, 100, 105, 105
PERIODS = ["2025-01", "2025-02", "2025-03", "2025-04"]


def _legs() -> tuple[Account, Account]:
    def noise(name: str, tc: np.ndarray) -> Noise:
        return Noise(f"sampling:{name}.x", 0.002 * tc * C_CO2)

    coal, prod, vent = 0.6 * MASS, 40.0 * LOAD, 20.0 * LOAD  # tC
    group = StreamCalc("gasification", "carbon_balance",
                       parts=[Part("gasifier_coal", coal * C_CO2, ("instrument:BELT", "analyser:LAB")),
                              Part("methanol", -prod * C_CO2, ("instrument:COR", "default:C"))],
                       noises=[noise("gasifier_coal", coal), noise("methanol", prod)])
    terms = {"instrument:BELT": Term("instrument:BELT", 0.005, instruments=("BELT",)),
             "analyser:LAB": Term("analyser:LAB", 0.01, instruments=("LAB",)),
             "instrument:COR": Term("instrument:COR", 0.002, instruments=("COR",)),
             "default:C": Term("default:C", 0.005, kind="default")}
    acc = Account("E00", 2025, "test", PERIODS, [group], terms)
    stack = StreamCalc("vent", "measured_emission", parts=[Part("vent", vent * C_CO2, ("instrument:VENT",))],
                       noises=[noise("vent", vent)])
    cems = Account("E00", 2025, "test", PERIODS, [stack],
                   {"instrument:VENT": Term("instrument:VENT", 0.03, instruments=("VENT",))})
    return acc, cems


def _yard() -> StockLedger:
    return StockLedger("gasifier_coal", "in", MASS, ("BELT",), RECEIPTS, "instrument:RAIL", 0.003, STOCK,
                       "instrument:SCAN", 0.01, 0.015, {"fence": ["RAIL"], "stock": ["SCAN"]})


def test_the_yard_flows_are_the_books_in_carbon_and_the_yard_closes_by_hand() -> None:
    acc, cems = _legs()
    pb = plant_balance(acc, cems, SimpleNamespace(parameters=[]), [_yard()])
    names = list(pb.network.measured_names)
    assert "coal_yard:gasifier_coal" in pb.network.nodes
    # receipts 0.6 × (110, 100, 105, 105) tC; stock change 0.6 × (10, −20, 15, −5) tC
    np.testing.assert_allclose(pb.x[:, names.index("gasifier_coal.receipts")], [66.0, 60.0, 63.0, 63.0])
    np.testing.assert_allclose(pb.x[:, names.index("gasifier_coal.stock_change")], [6.0, -12.0, 9.0, -3.0])
    # yard: receipts − coal − Δstock = 66 − 60 − 6 = 0 every month
    yard = pb.x[:, names.index("gasifier_coal.receipts")] - pb.x[:, names.index("gasifier_coal")] \
        - pb.x[:, names.index("gasifier_coal.stock_change")]
    np.testing.assert_allclose(yard, 0.0, atol=1e-9)
    # the survey at the close of January (60 t) closes January (+36 tC) and opens February (−36 tC)
    k = pb.term_keys.index("survey:gasifier_coal:1")
    np.testing.assert_allclose(pb.sens[:, names.index("gasifier_coal.stock_change"), k], [36.0, -36.0, 0.0, 0.0])
    # the lab's carbon content multiplies the yard's three flows alike: it cancels in the yard's constraint
    lab = pb.term_keys.index("analyser:LAB")
    s = pb.sens[:, :, lab]
    np.testing.assert_allclose(s[:, names.index("gasifier_coal.receipts")] - s[:, names.index("gasifier_coal")]
                               - s[:, names.index("gasifier_coal.stock_change")], 0.0, atol=1e-9)
    assert pb.instruments["gasifier_coal.receipts"] == ["LAB", "RAIL"]


def test_without_the_books_the_belt_scale_cannot_be_named_with_them_it_is() -> None:
    acc, cems = _legs()
    plan = SimpleNamespace(parameters=[])
    bare = systematic_bias_test(plant_balance(acc, cems, plan))
    m0 = {x["flow"]: x for x in bare["meters"]}
    # parallel signatures (ρ = 1): the belt scale is told from the product meter only once the product would need
    # a bias beyond the plausible 50 % to mimic it — 40 tC of product for 60 tC of coal: b = 0.5 × 40/60 = 1/3
    assert m0["gasifier_coal"]["rho"] == pytest.approx(1.0)
    assert m0["gasifier_coal"]["minimum_nameable_bias"] == pytest.approx(1 / 3, rel=1e-4)
    hit0 = systematic_bias_test(plant_balance(acc, cems, plan), bias={"gasifier_coal": 0.05})
    assert hit0["detected"] and hit0["named"] is None and "gasifier_coal" in hit0["candidates"]

    pb = plant_balance(acc, cems, plan, [_yard()])
    clean = systematic_bias_test(pb)
    assert not clean["detected"]
    m = {x["flow"]: x for x in clean["meters"]}
    mnb = m["gasifier_coal"]["minimum_nameable_bias"]
    assert mnb is not None and mnb < 0.1 and m["gasifier_coal"]["rho"] < 1.0
    for sign in (-1.0, 1.0):
        hit = systematic_bias_test(pb, bias={"gasifier_coal": sign * 1.2 * mnb})
        assert hit["detected"] and hit["named"] == "gasifier_coal", hit["candidates"]
        b = next(x["b"] for x in hit["meters"] if x["flow"] == "gasifier_coal")
        # the estimate is relative to the biased reading: a reading (1 + β)·x is off by β/(1 + β) of itself
        beta = sign * 1.2 * mnb
        assert b == pytest.approx(beta / (1 + beta), rel=0.01)


def test_a_ledger_of_the_wrong_length_and_an_unknown_survey_type_are_refused() -> None:
    acc, cems = _legs()
    short = StockLedger("gasifier_coal", "in", MASS, ("BELT",), RECEIPTS, "instrument:RAIL", 0.003, STOCK[:4],
                        "instrument:SCAN", 0.01, 0.015)
    with pytest.raises(CemsError, match="stock 4"):
        plant_balance(acc, cems, SimpleNamespace(parameters=[]), [short])
    assert survey_repeatability("stockpile_survey") == pytest.approx(0.015)
    with pytest.raises(CemsError, match="stock_surveys.csv.*'ruler'"):
        survey_repeatability("ruler")


# A two-node plant built by hand: feed → A, A → product, A → link → B, B → vent. Feed and product sit on node A
# only (parallel signatures, ρ = 1: an equivalence pair); the link is on A and B, and with the vent's meter
# three times looser than the others its whitened signature leans to A's: ρ ≈ 0.9 with the feed and product.
HAND_T = 12
HAND_LOAD = 1.0 + 0.15 * np.sin(np.arange(HAND_T))
HAND_FLOWS = {"feed": 100.0, "prod": 60.0, "link": 40.0, "vent": 40.0}  # tC a month at load 1
HAND_U = {"feed": 0.01, "prod": 0.01, "link": 0.01, "vent": 0.055}  # relative, independent month to month
HAND_NET = BalanceNetwork(("A", "B"), (Stream("feed", None, "A"), Stream("prod", "A", None),
                                       Stream("link", "A", "B"), Stream("vent", "B", None)))


def _hand(rng: np.random.Generator | None) -> PlantBalance:
    names = list(HAND_NET.measured_names)
    truth = np.outer(HAND_LOAD, [HAND_FLOWS[n] for n in names])
    noise = (np.array([HAND_U[n] for n in names]) * truth) ** 2
    x = truth if rng is None else truth + rng.normal(size=truth.shape) * np.sqrt(noise)
    return PlantBalance("E00", 2025, [f"2025-{t:02d}" for t in range(1, HAND_T + 1)], HAND_NET, x,
                        np.stack([np.diag(v) for v in noise]), np.diag(noise.sum(axis=0)),
                        np.zeros((HAND_T, len(names), 0)), np.zeros(0), [], noise, {n: [] for n in names}, {})


def test_the_minimum_nameable_bias_is_the_size_named_alone_with_95_percent_power() -> None:
    """Over noise draws, a bias of the link's meter (ρ ≈ 0.9 to its nearest) at its minimum nameable bias is
    named alone in ≥ 95 % of the draws (less the Monte Carlo scatter), more often above it and clearly less often
    below it; a healthy meter is never named; the ρ = 1 pair (feed, product) is reported as a set."""
    clean = systematic_bias_test(_hand(None))
    m = {x["flow"]: x for x in clean["meters"]}
    assert 0.85 < m["link"]["rho"] < 0.95 and m["link"]["nearest"] in ("feed", "prod")
    mnb = m["link"]["minimum_nameable_bias"]
    assert mnb is not None and m["link"]["minimum_detectable_bias"] < mnb < 0.2
    rng = np.random.default_rng(12)
    n = 200
    share = {}
    for factor in (0.7, 1.0, 1.2):
        named = wrong = 0
        for i in range(n):
            hit = systematic_bias_test(_hand(rng), bias={"link": (-1.0) ** i * factor * mnb})
            named += hit["named"] == "link"
            wrong += hit["named"] not in (None, "link")
        assert wrong == 0, factor
        share[factor] = named / n
    # binomial sd at 95 % over 200 draws is 1.5 %
    assert share[1.0] >= 0.92 and share[1.2] >= 0.97 and share[0.7] <= 0.9, share
    alarms = sum(systematic_bias_test(_hand(rng))["detected"] for _ in range(n))
    assert alarms / n <= 0.06  # family-wise 5 %

    # parallel signatures: no noise draw can tell the feed from the product below the size at which the product
    # would have to read 50 % off to mimic it (0.5 × 60/100 = 0.3): detected, reported as the set
    assert m["feed"]["rho"] == pytest.approx(1.0) and m["feed"]["minimum_nameable_bias"] == pytest.approx(0.3, rel=1e-3)
    for sign in (-1.0, 1.0):
        hit = systematic_bias_test(_hand(rng), bias={"feed": sign * 5 * m["feed"]["minimum_detectable_bias"]})
        assert hit["detected"] and hit["named"] is None and set(hit["candidates"]) == {"feed", "prod"}
