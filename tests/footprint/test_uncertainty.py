"""Monte Carlo and first-order propagation through the footprint engine."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy.stats import binom

from carbonmet.footprint import FootprintError, Lca, ProductSystem, Spread


def test_the_same_seed_gives_the_same_draws(make_system: Callable[..., ProductSystem]) -> None:
    lca = Lca(make_system(sigma=0.1).matrices())
    a = lca.monte_carlo({"m": {"methanol": 1.0}}, iterations=50, seed=7)
    b = lca.monte_carlo({"m": {"methanol": 1.0}}, iterations=50, seed=7)
    c = lca.monte_carlo({"m": {"methanol": 1.0}}, iterations=50, seed=8)
    assert np.array_equal(a.scores, b.scores)
    assert not np.array_equal(a.scores, c.scores)


def _linear_system(spreads: dict[str, Spread]) -> ProductSystem:
    """Score linear in the emissions: plant uses 2 kWh; grid emits 0.8 kg CO2/kWh; plant emits 1 kg CO2, 0.01 kg CH4."""
    ps = ProductSystem(gwp_set="AR6")
    ps.add_activity("grid", "electricity", stage="grid")
    ps.add_emission("grid", "CO2", 0.8, spreads.get("grid"))
    ps.add_activity("plant", "product", stage="synthesis")
    ps.add_input("plant", "electricity", 2.0)
    ps.add_emission("plant", "CO2", 1.0, spreads.get("plant CO2"))
    ps.add_emission("plant", "CH4", 0.01, spreads.get("plant CH4"))
    return ps


def test_the_monte_carlo_mean_tends_to_the_deterministic_score_for_symmetric_inputs() -> None:
    ps = _linear_system(
        {
            "grid": Spread.normal(0.08),
            "plant CO2": Spread.triangular(0.7, 1.3),
            "plant CH4": Spread.uniform(0.005, 0.015),
        }
    )
    mc = Lca(ps.matrices()).monte_carlo({"p": {"product": 1.0}}, iterations=20_000, seed=3)
    s = mc.summary("p")
    assert s.deterministic == pytest.approx(1.6 + 1.0 + 0.279, rel=1e-12)
    assert abs(s.mean - s.deterministic) < 4 * s.sd / math.sqrt(s.iterations)
    # var = (2·0.08)² + 0.6²/24·... : normal 0.0256, triangular (0.7²+1.3²+1−0.91−0.7−1.3)/18 = 0.015,
    # uniform 27.9² · 0.01²/12 = 0.006487
    assert s.sd == pytest.approx(math.sqrt(0.0256 + 0.015 + 27.9**2 * 0.01**2 / 12), rel=0.03)


def test_a_lognormal_amount_is_the_median_so_the_mean_lies_above_the_static_score() -> None:
    sigma = 0.5
    ps = _linear_system({"plant CO2": Spread.lognormal(sigma)})
    mc = Lca(ps.matrices()).monte_carlo({"p": {"product": 1.0}}, iterations=40_000, seed=5)
    s = mc.summary("p")
    rest = 1.6 + 0.279
    assert s.median == pytest.approx(s.deterministic, rel=0.01)
    assert s.mean - rest == pytest.approx(math.exp(sigma**2 / 2), rel=0.01)


def test_the_95_percent_interval_covers_a_known_truth_about_95_percent_of_the_time() -> None:
    # Truth: grid 0.8, plant CO2 1.0, CH4 0.01 (score 2.879). Each trial "measures" the three emissions with
    # normal errors of known sd, builds the system from the measurements with those sds, and asks whether
    # the Monte Carlo 95 % interval contains the true score. For this linear model the coverage is exactly
    # 95 %; with 400 trials the count of hits is Binomial(400, 0.95).
    rng = np.random.default_rng(2026)
    truth = {"grid": 0.8, "plant CO2": 1.0, "plant CH4": 0.01}
    sds = {"grid": 0.05, "plant CO2": 0.1, "plant CH4": 0.004}
    true_score = 2 * 0.8 + 1.0 + 27.9 * 0.01
    trials, hits = 400, 0
    for t in range(trials):
        ps = ProductSystem(gwp_set="AR6")
        obs = {k: truth[k] + sds[k] * rng.standard_normal() for k in truth}
        ps.add_activity("grid", "electricity", stage="grid")
        ps.add_emission("grid", "CO2", obs["grid"], Spread.normal(sds["grid"]))
        ps.add_activity("plant", "product", stage="synthesis")
        ps.add_input("plant", "electricity", 2.0)
        ps.add_emission("plant", "CO2", obs["plant CO2"], Spread.normal(sds["plant CO2"]))
        ps.add_emission("plant", "CH4", obs["plant CH4"], Spread.normal(sds["plant CH4"]))
        s = Lca(ps.matrices()).monte_carlo({"p": {"product": 1.0}}, iterations=2_000, seed=t).summary("p")
        hits += s.p2_5 <= true_score <= s.p97_5
    lo, hi = binom.ppf([0.0005, 0.9995], trials, 0.95)  # 99.9 % acceptance band of the hit count
    assert lo <= hits <= hi, f"{hits}/{trials} intervals covered the truth"


def _two_products_sharing_a_background() -> ProductSystem:
    """Two methanol plants buying from the same (very uncertain) coal supply; they differ by 3 % in coal use."""
    ps = ProductSystem(gwp_set="AR6")
    ps.add_activity("coal mining", "coal", stage="mining")
    ps.add_emission("coal mining", "CH4", 0.004, Spread.lognormal(0.6))
    ps.add_emission("coal mining", "CO2", 0.05, Spread.lognormal(0.3))
    for name, coal in (("plant A", 1.50), ("plant B", 1.45)):
        ps.add_activity(name, f"methanol {name[-1]}", stage="gasification")
        ps.add_input(name, "coal", coal, Spread.lognormal(0.002))
        ps.add_emission(name, "CO2", 2.0, Spread.normal(0.002))
    return ps


def test_paired_sampling_gives_a_much_narrower_difference_than_independent_sampling() -> None:
    lca = Lca(_two_products_sharing_a_background().matrices())
    demands = {"A": {"methanol A": 1.0}, "B": {"methanol B": 1.0}}
    paired = lca.monte_carlo(demands, iterations=4_000, seed=11)
    independent = lca.monte_carlo(demands, iterations=4_000, seed=11, paired=False)
    d_pair, d_ind = paired.difference("A", "B"), independent.difference("A", "B")
    assert paired.paired and not independent.paired
    assert d_pair.deterministic == pytest.approx(0.05 * (0.004 * 27.9 + 0.05), rel=1e-12)
    assert d_pair.sd < 0.25 * d_ind.sd
    # the single-product spreads do not depend on pairing
    assert paired.summary("A").sd == pytest.approx(independent.summary("A").sd, rel=0.1)
    # paired: A emits more than B in almost every iteration; independent draws cannot tell them apart
    assert np.mean(paired.scores[:, 0] > paired.scores[:, 1]) > 0.95
    assert np.mean(independent.scores[:, 0] > independent.scores[:, 1]) < 0.8


def test_first_order_propagation_agrees_with_monte_carlo_for_small_uncertainties(
    make_system: Callable[..., ProductSystem],
) -> None:
    # every exchange of the hand-worked system with a 1 % lognormal, technosphere inputs included
    lca = Lca(make_system(sigma=0.01).matrices())
    lpu = lca.lpu({"methanol": 1.0})
    mc = lca.monte_carlo({"m": {"methanol": 1.0}}, iterations=8_000, seed=2).summary("m")
    assert lpu.score == pytest.approx(mc.deterministic, rel=1e-12)
    assert lpu.sd == pytest.approx(mc.sd, rel=0.05)


def test_lpu_sensitivities_equal_finite_differences(make_system: Callable[..., ProductSystem]) -> None:
    lca = Lca(make_system(sigma=0.1).matrices("mass"))
    m = lca.matrices
    lpu = lca.lpu({"methanol": 1.0})
    for i in np.flatnonzero(m.kind != 0):
        h = 1e-6 * abs(m.amount[i])
        m.amount[i] += h
        up = Lca(m).solve({"methanol": 1.0}).score
        m.amount[i] -= 2 * h
        down = Lca(m).solve({"methanol": 1.0}).score
        m.amount[i] += h
        assert lpu.sensitivity[i] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-9), m.param_names[
            i
        ]
    budget = lpu.budget(3)
    assert len(budget) == 3 and budget[0][2] >= budget[1][2] >= budget[2][2]
    assert sum(lpu.variance) == pytest.approx(lpu.sd**2, rel=1e-12)


def test_spreads_are_checked_when_they_are_built() -> None:
    with pytest.raises(FootprintError, match="exactly one"):
        Spread.lognormal(0.1, gsd=1.2)
    assert Spread.lognormal(gsd=math.e).sigma == pytest.approx(1.0)
    with pytest.raises(FootprintError, match="minimum < maximum"):
        Spread.uniform(2.0, 1.0)
    ps = ProductSystem()
    ps.add_activity("a", "x", stage="s")
    ps.add_emission("a", "CO2", 5.0, Spread.triangular(0.0, 1.0))
    with pytest.raises(FootprintError, match="a -> CO2: triangular mode"):
        ps.matrices()


def test_monte_carlo_reports_captured_co2_per_iteration(make_system: Callable[..., ProductSystem]) -> None:
    lca = Lca(make_system(sigma=0.1).matrices())
    mc = lca.monte_carlo({"m": {"methanol": 1.0}}, iterations=200, seed=1)
    assert mc.captured_co2.shape == (200, 1)
    assert np.median(mc.captured_co2) == pytest.approx(0.5, rel=0.05)
    assert np.all(mc.captured_co2 > 0)


def _chain(n: int, spread: Spread) -> ProductSystem:
    """A supply chain of ``n`` activities, each buying 0.5 of the previous one's product and emitting 1 kg CO2,
    with a short loop at the top (the last buys 0.01 of the first's product back)."""
    ps = ProductSystem(gwp_set="AR6")
    for i in range(n):
        ps.add_activity(f"step {i}", f"good {i}", stage="chain")
        ps.add_emission(f"step {i}", "CO2", 1.0, spread)
        if i:
            ps.add_input(f"step {i}", f"good {i - 1}", 0.5, spread)
    ps.add_input("step 0", f"good {n - 1}", 0.01, spread)
    return ps


@pytest.mark.parametrize("n", [10, 120])
def test_monte_carlo_agrees_with_first_order_propagation_on_small_and_large_systems(n: int) -> None:
    # 10 activities take the batched dense path, 120 the sparse refactorisation path; both must agree with LPU
    lca = Lca(_chain(n, Spread.lognormal(0.01)).matrices())
    demand = {f"good {n - 1}": 1.0}
    lpu = lca.lpu(demand)
    s = lca.monte_carlo({"d": demand}, iterations=3_000, seed=4).summary("d")
    assert s.deterministic == pytest.approx(lpu.score, rel=1e-12)
    assert abs(s.mean - s.deterministic) < 5 * s.sd / math.sqrt(s.iterations) + 1e-4 * s.deterministic
    assert s.sd == pytest.approx(lpu.sd, rel=0.06)


def test_the_results_turn_into_measured_quantities_in_kg_co2e(
    make_system: Callable[..., ProductSystem],
) -> None:
    lca = Lca(make_system(sigma=0.1).matrices())
    q = lca.lpu({"methanol": 1.0}).quantity()
    assert q.unit == "kgCO2e" and q.u > 0 and q.provenance.source == "calculated"
    s = lca.monte_carlo({"m": {"methanol": 1.0}}, iterations=100, seed=1).summary("m")
    mq = s.quantity("PCF methanol")
    assert mq.value == s.deterministic and mq.u == s.sd and "100 iterations" in mq.provenance.method


def test_a_system_without_uncertain_exchanges_gives_the_static_score_every_time(
    system: ProductSystem,
) -> None:
    mc = Lca(system.matrices()).monte_carlo({"m": {"methanol": 1.0}}, iterations=5, seed=1)
    np.testing.assert_allclose(mc.scores, mc.deterministic[0], rtol=1e-12)
    assert mc.summary("m").sd <= 1e-12 * mc.deterministic[0]
    with pytest.raises(FootprintError, match="no demand labelled 'x'"):
        mc.summary("x")
