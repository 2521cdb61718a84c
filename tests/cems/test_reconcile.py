"""Carbon-balance reconciliation (碳平衡数据协调): worked examples, statistics and gross-error recall."""

from __future__ import annotations

import struct
from collections import Counter

import numpy as np
import pytest
from numpy.testing import assert_allclose

from carbonmet.cems.balance import (
    BalanceError,
    BalanceNetwork,
    PersistentBias,
    SankeyFlow,
    Stream,
    reconcile,
    reconcile_periods,
    sankey_png,
)

# ------------------------------------------------------------------------------------ worked examples

SPLIT = BalanceNetwork(("splitter",), (Stream("x1", None, "splitter"), Stream("x2", "splitter", None),
                                       Stream("x3", "splitter", None)))


def test_a_hand_worked_three_stream_balance_reproduces_the_textbook_formula() -> None:
    # x1 = x2 + x3, A = [1, -1, -1], x = (100, 60, 35) tC, σ = (2, 1, 1) tC, Σ = diag(4, 1, 1)
    # r = A x = 100 - 60 - 35 = 5;  A Σ Aᵀ = 4 + 1 + 1 = 6;  Σ Aᵀ = (4, -1, -1)
    # x̂ = x - Σ Aᵀ (A Σ Aᵀ)⁻¹ r = (100 - 4·5/6, 60 + 5/6, 35 + 5/6) = (96.6667, 60.8333, 35.8333)
    # Σ̂ = Σ - Σ Aᵀ A Σ / 6:  var x̂1 = 4 - 16/6 = 4/3, var x̂2 = var x̂3 = 1 - 1/6 = 5/6
    # χ² = rᵀ (A Σ Aᵀ)⁻¹ r = 25/6 = 4.1667 on dof = rank A = 1, p = P(χ²₁ > 4.1667) = 0.04123
    res = reconcile(SPLIT, [100.0, 60.0, 35.0], np.diag([4.0, 1.0, 1.0]))
    assert_allclose(res.value, [100 - 20 / 6, 60 + 5 / 6, 35 + 5 / 6], rtol=1e-12)
    assert_allclose(res.u, np.sqrt([4 / 3, 5 / 6, 5 / 6]), rtol=1e-12)
    assert_allclose(res.covariance[1, 2], -1 / 6, rtol=1e-12)  # x̂2, x̂3 become correlated: cov = 0 - 1·1/6
    assert_allclose(res.adjustment, [-20 / 6, 5 / 6, 5 / 6], rtol=1e-12)
    assert res.dof == 1
    assert res.chi2 == pytest.approx(25 / 6, rel=1e-12)
    assert res.p_value == pytest.approx(0.041227, abs=1e-6)
    assert not res.passed
    assert res.value[0] == pytest.approx(res.value[1] + res.value[2], rel=1e-12)
    # every meter of a single-node balance has the same test: T_i = χ² = 25/6, and they form one set
    assert_allclose(res.glr, 25 / 6, rtol=1e-12)
    assert_allclose(res.standardized_adjustment ** 2, 25 / 6, rtol=1e-12)
    assert res.equivalence_sets == (("x1", "x2", "x3"),)
    # T = 4.17 > χ²₁(0.95) = 3.84 (one distinct test): a gross error, but no meter can be named
    (finding,) = res.gross_errors
    assert finding.named is None and finding.candidates == ("x1", "x2", "x3")
    # each candidate's bias alone: b = r/(fᵀV⁻¹f)·(fᵀV⁻¹) … = r·f_i: x1 reads +5 high, or x2 or x3 -5 low
    assert_allclose(finding.bias, [5.0, -5.0, -5.0], rtol=1e-12)
    assert_allclose(finding.u_bias, np.sqrt(6.0), rtol=1e-12)
    assert "无法区分" in finding.message and "cannot tell apart" in finding.message


def test_correlated_meters_on_one_weighbridge_change_the_weights_as_the_formula_says() -> None:
    # x2 and x3 weighed by the same weighbridge: cov(x2, x3) = 0.5 tC²; Σ = [[4,0,0],[0,1,.5],[0,.5,1]]
    # A Σ Aᵀ = 4 + 1 + 1 + 2·0.5 = 7;  Σ Aᵀ = (4, -1.5, -1.5);  r = 5
    # x̂ = (100 - 20/7, 60 + 7.5/7, 35 + 7.5/7) = (97.1429, 61.0714, 36.0714);  χ² = 25/7 = 3.5714
    cov = np.array([[4.0, 0, 0], [0, 1, 0.5], [0, 0.5, 1]])
    res = reconcile(SPLIT, [100.0, 60.0, 35.0], cov)
    assert_allclose(res.value, [100 - 20 / 7, 60 + 7.5 / 7, 35 + 7.5 / 7], rtol=1e-12)
    assert res.chi2 == pytest.approx(25 / 7, rel=1e-12)
    # var x̂1 = 4 - 16/7 = 12/7
    assert res.u[0] == pytest.approx(np.sqrt(12 / 7), rel=1e-12)
    assert res.passed and res.gross_errors == ()


# a gasifier (node a) feeding fuel gas p, unmeasured, to a boiler (node b); a flare (node c) burns a metered
# purge e and its stack v is unmeasured: nothing but e itself says what e is
TWO = BalanceNetwork(("a", "b", "c"), (
    Stream("f", None, "a"), Stream("p", "a", "b", measured=False), Stream("s", "a", None),
    Stream("o", "b", None), Stream("w", "b", None), Stream("e", None, "c"), Stream("v", "c", None, measured=False),
))


def test_an_unmeasured_stream_is_solved_by_projection_and_a_lone_meter_is_declared_untestable() -> None:
    # measured (f, s, o, w, e) = (100, 10, 50, 41, 5), σ = (2, 1, 1, 1, 0.5); the truth satisfies
    #   a: f = p + s,  b: p = o + w,  c: e = v
    # projecting out p and v leaves one constraint, a + b: f - s - o - w = 0 (e's column is zero: e is not
    # redundant; v = e is observable). B = [1, -1, -1, -1, 0], r = 100 - 10 - 50 - 41 = -1, V = 4+1+1+1 = 7
    # x̂_f = 100 - 4·(-1)/7 = 100.5714, x̂_s = 10 - 1/7 = 9.8571, x̂_o = 49.8571, x̂_w = 40.8571, x̂_e = 5
    # p = f - s: var p = var f̂ + var ŝ - 2 cov(f̂, ŝ) = (4 - 16/7) + (1 - 1/7) - 2·(4/7) = 10/7
    x = [100.0, 10.0, 50.0, 41.0, 5.0]
    res = reconcile(TWO, x, np.diag([4.0, 1, 1, 1, 0.25]))
    names = list(res.names)
    val = dict(zip(names, res.value, strict=True))
    assert res.dof == 1
    assert val["f"] == pytest.approx(100 + 4 / 7, rel=1e-12)
    assert val["s"] == pytest.approx(10 - 1 / 7, rel=1e-12)
    assert val["p"] == pytest.approx(50 + 41 - 2 / 7, rel=1e-12)
    assert res.u[names.index("p")] == pytest.approx(np.sqrt(10 / 7), rel=1e-12)
    assert val["v"] == pytest.approx(5.0, rel=1e-12) and val["e"] == 5.0
    assert res.u[names.index("v")] == pytest.approx(0.5, rel=1e-12)
    assert res.chi2 == pytest.approx(1 / 7, rel=1e-12)
    assert res.observable.all()
    assert res.not_testable == ("e",)
    assert np.isnan(res.glr[names.index("e")]) and np.isnan(res.standardized_adjustment[names.index("e")])
    assert res.u[names.index("e")] == pytest.approx(0.5)  # not improved: nothing checks it
    # node imbalances need every stream of the node measured: none here has them all
    assert np.isnan(res.node_imbalance).all()


def test_a_non_redundant_meter_correlated_with_a_redundant_one_moves_but_stays_untestable() -> None:
    # the carbon contents of f and e come from the same lab: cov(f, e) = 0.6 tC²
    cov = np.diag([4.0, 1, 1, 1, 0.25])
    cov[0, 4] = cov[4, 0] = 0.6
    res = reconcile(TWO, [100.0, 10.0, 50.0, 41.0, 5.0], cov)
    ie = res.names.index("e")
    # x̂_e = e - cov(e, f)·B_f·r / V = 5 - 0.6·1·(-1)/7;  still no test of e
    assert res.value[ie] == pytest.approx(5 + 0.6 / 7, rel=1e-12)
    assert np.isnan(res.glr[ie]) and res.not_testable == ("e",)


def test_two_parallel_unmeasured_streams_are_reported_unobservable() -> None:
    net = BalanceNetwork(("a", "b"), (
        Stream("in", None, "a"), Stream("g1", "a", "b", measured=False), Stream("g2", "a", "b", measured=False),
        Stream("out", "b", None),
    ))
    res = reconcile(net, [10.0, 9.0], np.diag([1.0, 1.0]))
    assert res.observable.tolist() == [True, False, False, True]
    assert np.isnan(res.value[1:3]).all() and np.isnan(res.u[1:3]).all()
    assert res.dof == 1 and res.value[0] == pytest.approx(9.5)
    assert [f.name for f in res.flows()] == ["in", "out"]


def test_the_glr_equals_the_squared_standardised_adjustment_only_for_uncorrelated_meters() -> None:
    rng = np.random.default_rng(7)
    diag = reconcile(CHAIN, CHAIN_X, np.diag(CHAIN_U**2))
    ok = diag.redundant
    assert_allclose(diag.glr[ok], diag.standardized_adjustment[ok] ** 2, rtol=1e-10)
    f = rng.normal(size=(5, 2)) * CHAIN_U[:, None] * 0.6
    corr = reconcile(CHAIN, CHAIN_X, np.diag(CHAIN_U**2) + f @ f.T)
    assert not np.allclose(corr.glr[ok], corr.standardized_adjustment[ok] ** 2, rtol=1e-3)


# a two-node chain: a → b by the meter "link"; a-only and b-only meters form two equivalence sets
CHAIN = BalanceNetwork(("a", "b"), (
    Stream("in", None, "a"), Stream("loss", "a", None), Stream("link", "a", "b"), Stream("prod", "b", None),
    Stream("vent", "b", None),
))
CHAIN_TRUE = np.array([1000.0, 40.0, 960.0, 700.0, 260.0])
CHAIN_U = np.array([10.0, 2.0, 8.0, 5.0, 6.0])
CHAIN_X = CHAIN_TRUE + np.array([3.0, -1.0, 2.0, 1.0, -2.0])


def test_serial_elimination_names_a_meter_the_network_can_distinguish() -> None:
    # signatures: in (1, 0), loss (-1, 0) → one set; link (-1, 1) alone; prod, vent (0, -1) → one set
    clean = reconcile(CHAIN, CHAIN_X, np.diag(CHAIN_U**2))
    assert clean.gross_errors == () and clean.dof == 2
    assert clean.equivalence_sets == (("in", "loss"), ("prod", "vent"))
    x = CHAIN_X.copy()
    x[2] += 60.0  # link reads 60 tC high: 7.5 σ
    res = reconcile(CHAIN, x, np.diag(CHAIN_U**2))
    assert res.gross_errors[0].named == "link"
    assert res.gross_errors[0].bias[0] == pytest.approx(60.0, abs=3 * res.gross_errors[0].u_bias[0])
    assert "link" in res.gross_errors[0].message
    x = CHAIN_X.copy()
    x[4] -= 50.0  # vent reads low: the network can only say "prod or vent"
    res = reconcile(CHAIN, x, np.diag(CHAIN_U**2))
    assert res.gross_errors[0].named is None and res.gross_errors[0].candidates == ("prod", "vent")
    assert res.gross_errors[0].bias[1] == pytest.approx(-50.0, abs=3 * res.gross_errors[0].u_bias[1])
    # after eliminating one of them the other is not testable and the test stops
    assert len(res.gross_errors) == 1


def test_the_period_variant_gives_the_single_period_answer_in_every_period() -> None:
    rng = np.random.default_rng(3)
    x = CHAIN_TRUE + rng.normal(size=(6, 5)) * CHAIN_U
    x[4, 2] += 80
    cov = np.diag(CHAIN_U**2)
    many = reconcile_periods(CHAIN, x, cov, periods=[f"2024-{m:02d}" for m in range(1, 7)])
    for t in range(6):
        one = reconcile(CHAIN, x[t], cov)
        assert_allclose(many.value[t], one.value, rtol=1e-12)
        assert_allclose(many.covariance[t], one.covariance, rtol=1e-10, atol=1e-12)
        assert many.chi2[t] == pytest.approx(one.chi2, rel=1e-10)
        assert many.gross_errors[t] == one.gross_errors
    assert many.gross_errors[4][0].named == "link"
    # closure: every node is fully measured; plant boundary in - loss - prod - vent
    c = many.closure
    assert_allclose(c.node_imbalance[:, 0], x[:, 0] - x[:, 1] - x[:, 2])
    assert_allclose(c.plant_imbalance, x[:, 0] - x[:, 1] - x[:, 3] - x[:, 4])
    assert_allclose(c.plant_imbalance_u, np.sqrt(100 + 4 + 25 + 36))
    assert_allclose(c.relative_closure, c.plant_imbalance / x[:, 0])
    assert many.dof_total == 12 and many.chi2_total == pytest.approx(many.chi2.sum())


# ------------------------------------------------------------------------------------------ bad input


def test_bad_networks_and_inputs_are_refused_with_the_field_named() -> None:
    with pytest.raises(BalanceError, match="unknown|not a node"):
        BalanceNetwork(("a",), (Stream("s", "a", "b"),))
    with pytest.raises(BalanceError, match="appears twice"):
        BalanceNetwork(("a",), (Stream("s", None, "a"), Stream("s", "a", None)))
    with pytest.raises(BalanceError, match="touches no node"):
        BalanceNetwork(("a",), (Stream("s", None, None),))
    with pytest.raises(BalanceError, match=r"x: shape \(2,\)"):
        reconcile(SPLIT, [1.0, 2.0], np.eye(3))
    with pytest.raises(BalanceError, match="'x2'.*nan"):
        reconcile(SPLIT, [1.0, np.nan, 2.0], np.eye(3))
    with pytest.raises(BalanceError, match=r"variance of stream 'x3'"):
        reconcile(SPLIT, [1.0, 1.0, 2.0], np.diag([1.0, 1.0, 0.0]))
    with pytest.raises(BalanceError, match=r"entries \[0, 1\]"):
        reconcile(SPLIT, [1.0, 1.0, 2.0], np.array([[1.0, 0.5, 0], [0, 1, 0], [0, 0, 1]]))
    with pytest.raises(BalanceError, match="positive semi-definite"):
        reconcile(SPLIT, [1.0, 1.0, 2.0], np.array([[1.0, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]))
    bad = np.stack([np.eye(3), np.diag([1.0, -1.0, 1.0])])
    with pytest.raises(BalanceError, match="period 1"):
        reconcile_periods(SPLIT, np.ones((2, 3)), bad)
    with pytest.raises(BalanceError, match="column 0"):
        BalanceNetwork.from_incidence(["a", "b"], ["s"], [[1.0], [1.0]])


def test_a_network_from_its_incidence_matrix_is_the_network_from_its_streams() -> None:
    net = BalanceNetwork.from_incidence(CHAIN.nodes, CHAIN.names, CHAIN.incidence)
    assert net.streams == CHAIN.streams
    assert_allclose(CHAIN.incidence, [[1, -1, -1, 0, 0], [0, 0, 1, -1, -1]])


# ------------------------------------------------------------------------- statistics on healthy networks


def _random_network(rng: np.random.Generator) -> BalanceNetwork:
    """3-4 nodes in a chain (so all are connected), 3-5 extra streams, one unmeasured internal stream."""
    m = int(rng.integers(3, 5))
    nodes = tuple(f"n{i}" for i in range(m))
    streams = [Stream("in0", None, "n0")] + [Stream(f"l{i}", f"n{i}", f"n{i + 1}") for i in range(m - 1)]
    for k in range(int(rng.integers(3, 6))):
        i = int(rng.integers(m))
        streams.append(Stream(f"o{k}", f"n{i}", None) if rng.random() < 0.7 else Stream(f"i{k}", None, f"n{i}"))
    streams.append(Stream("out_last", f"n{m - 1}", None))
    j = int(rng.integers(1, m))
    streams[j] = Stream(streams[j].name, streams[j].source, streams[j].target, measured=False)
    return BalanceNetwork(nodes, tuple(streams))


def test_on_healthy_random_networks_the_tests_hold_their_level_and_the_reconciled_u_covers() -> None:
    rng = np.random.default_rng(20240601)
    periods = 400
    reject = tested = 0
    cover = n_cover = 0
    sq_raw = sq_rec = 0.0
    per_meter_alarms = per_meter_tests = 0
    for _ in range(12):
        net = _random_network(rng)
        a = net.incidence
        null = np.linalg.svd(a)[2][np.linalg.matrix_rank(a):].T
        # true flows: any point of the null space of A (signs do not matter to a linear reconciliation)
        mu = (null @ rng.normal(size=null.shape[1]) * 400)[None] + (null @ rng.normal(size=(null.shape[1],
                                                                                        periods)) * 30).T
        meas = net.measured
        n = int(meas.sum())
        u = rng.uniform(5, 25, n)
        f = rng.normal(size=(n, 2)) * u[:, None] * 0.5  # correlated meters: two shared factors
        cov = np.diag(u**2 * 0.75) + f @ f.T
        x = mu[:, meas] + rng.multivariate_normal(np.zeros(n), cov, size=periods)
        res = reconcile_periods(net, x, cov)
        assert res.dof >= 1
        tested += periods
        reject += int((~res.passed).sum())
        raw_u = np.sqrt(np.diag(cov))
        # reconciled u never larger than raw, strictly smaller for the redundant meters
        assert np.all(res.u[:, meas] <= raw_u * (1 + 1e-12))
        assert np.all(res.u[:, meas][:, res.redundant[meas]] < raw_u[res.redundant[meas]])
        seen = res.observable  # measured streams and the unmeasured ones the balance determines
        err = np.abs(res.value - mu)[:, seen]
        ue = res.u[:, seen]
        cover += int((err <= 1.959964 * ue).sum())
        n_cover += err.size
        sq_raw += float(((x - mu[:, meas]) ** 2).sum())
        sq_rec += float(((res.value[:, meas] - mu[:, meas]) ** 2).sum())
        per_meter_alarms += sum(len(g) > 0 for g in res.gross_errors)
        per_meter_tests += periods
    rate = reject / tested
    coverage = cover / n_cover
    print(f"\nhealthy networks: χ² rejects {rate:.2%} of {tested} periods at α = 5 %; 95 % intervals of x̂ "
          f"cover {coverage:.2%} of {n_cover}; RMS raw {np.sqrt(sq_raw):.0f} → reconciled {np.sqrt(sq_rec):.0f}; "
          f"gross-error false alarms {per_meter_alarms / per_meter_tests:.2%} of periods")
    sd = np.sqrt(0.05 * 0.95 / tested)
    assert abs(rate - 0.05) < 4 * sd
    assert abs(coverage - 0.95) < 0.01
    assert sq_rec < 0.8 * sq_raw
    assert per_meter_alarms / per_meter_tests < 0.05 + 4 * sd


# ------------------------------------------------------------------- synthetic coal-to-methanol plant

PLANT = BalanceNetwork(("gasification", "synthesis", "boiler"), (
    Stream("feed_coal", None, "gasification"),
    Stream("slag", "gasification", None),
    Stream("syngas", "gasification", "synthesis"),
    Stream("natural_gas", None, "synthesis"),
    Stream("methanol", "synthesis", None),
    Stream("fusel_oil", "synthesis", None),
    Stream("co2_recovered", "synthesis", None),
    Stream("rectisol_vent", "synthesis", None),
    Stream("fuel_gas", "synthesis", "boiler", measured=False),
    Stream("boiler_coal", None, "boiler"),
    Stream("boiler_stack", "boiler", None),
    Stream("boiler_ash", "boiler", None),
))
# relative standard uncertainties of the meters (belt scale + lab carbon content, flow + online GC, tank
# gauging, CEMS …) — illustrative values for the synthetic plant
PLANT_REL = {"feed_coal": 0.015, "slag": 0.05, "syngas": 0.01, "natural_gas": 0.01, "methanol": 0.005,
             "fusel_oil": 0.03, "co2_recovered": 0.015, "rectisol_vent": 0.03, "boiler_coal": 0.02,
             "boiler_stack": 0.04, "boiler_ash": 0.05}


def _plant_truth(rng: np.random.Generator, periods: int = 12) -> np.ndarray:
    """Monthly carbon flows [tC] that balance exactly; profiles vary (load, a turnaround, winter gas
    curtailment, months without CO2 offtake, the heating season)."""
    m = np.arange(periods)
    load = 1 + 0.06 * np.sin(2 * np.pi * m / periods) + rng.normal(0, 0.03, periods)
    load[rng.integers(3, 9)] *= 0.55
    coal = 62000 * load * rng.normal(1, 0.03, periods)
    slag = coal * rng.uniform(0.014, 0.018, periods)
    syngas = coal - slag
    ng = 6000 * np.where(np.isin(m % 12, (0, 1, 10, 11)), rng.uniform(0.05, 0.3, periods),
                         rng.uniform(0.8, 1.2, periods))
    feed = syngas + ng
    methanol = feed * rng.uniform(0.45, 0.47, periods)
    fusel = feed * rng.uniform(0.006, 0.009, periods)
    co2r = rng.uniform(7000, 11000, periods)
    co2r[rng.choice(periods, 2, replace=False)] *= rng.uniform(0.0, 0.2, 2)
    fuel = feed * rng.uniform(0.035, 0.05, periods)
    vent = feed - methanol - fusel - co2r - fuel
    bcoal = 20000 * (1 + 0.35 * np.cos(2 * np.pi * m / 12)) * rng.normal(1, 0.05, periods)
    ash = bcoal * rng.uniform(0.012, 0.016, periods)
    stack = bcoal + fuel - ash
    mu = np.stack([coal, slag, syngas, ng, methanol, fusel, co2r, vent, fuel, bcoal, stack, ash], axis=1)
    assert_allclose(mu @ PLANT.incidence.T, 0, atol=1e-8)
    return mu


def _plant_measure(rng: np.random.Generator, mu: np.ndarray, meter: str | None = None,
                   bias: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    xm = mu[:, PLANT.measured]
    u = np.array([PLANT_REL[n] for n in PLANT.measured_names]) * xm
    cov = u[:, :, None] ** 2 * np.eye(u.shape[1])
    x = xm + rng.normal(size=xm.shape) * u
    if meter is not None:
        x[:, PLANT.measured_names.index(meter)] *= 1 + bias
    return x, cov


def _expected(p: PersistentBias, i: int, b: float) -> str:
    """A priori class of an injection of relative bias ``b`` on meter ``i``, from the engine's own numbers.

    'weak': |b| below the meter's minimum detectable bias (80 % power). Otherwise, with λ = (β/u_β)² the
    expected statistic of the biased meter and C its stacked-signature cosine with a competitor j (whose
    statistic is then about C²λ), the meter is named when √T_i > √r·√T_j (r the separation ratio); on the
    square-root scale the statistics are unit-variance normals with correlation C, so the expected margin is
    √λ(1 − √r|C|) / √(1 + r − 2√r|C|) standard deviations. 'separable' when that margin is ≥ 1.28 (90 %)
    against every competitor whose implied bias is plausible, else 'set'.
    """
    if abs(b) < p.minimum_detectable_bias[i]:
        return "weak"
    beta = b / (1 + b)
    lam = (beta / p.u_bias[i]) ** 2
    c = np.abs(p.correlation[i])
    rivals = np.isfinite(c) & (np.arange(c.size) != i)
    rivals &= np.abs(beta * c * p.u_bias / p.u_bias[i]) <= p.max_relative_bias
    if not rivals.any():
        return "separable"
    cmax = float(c[rivals].max())
    sr = np.sqrt(p.separation_ratio)
    margin = np.sqrt(lam) * (1 - sr * cmax) / np.sqrt(1 + sr**2 - 2 * sr * cmax)
    return "separable" if margin >= 1.28 else "set"


def test_a_biased_meter_on_the_plant_is_named_or_its_set_reported_over_seeds() -> None:
    seeds = range(12)
    meters = PLANT.measured_names
    tally: dict[str, Counter[str]] = {m: Counter() for m in meters}
    by_class: dict[str, Counter[str]] = {k: Counter() for k in ("separable", "set", "weak")}
    periods: dict[str, Counter[str]] = {k: Counter() for k in ("separable", "set", "weak")}
    for seed in seeds:
        rng = np.random.default_rng(1000 + seed)
        mu = _plant_truth(rng)
        if seed == 0:
            x, cov = _plant_measure(rng, mu)
            clean = reconcile_periods(PLANT, x, cov)
            # one period: the gasification node alone, syngas alone, and everything behind the unmeasured
            # fuel gas (synthesis + boiler) in one set
            assert clean.equivalence_sets == (
                ("feed_coal", "slag"),
                ("natural_gas", "methanol", "fusel_oil", "co2_recovered", "rectisol_vent", "boiler_coal",
                 "boiler_stack", "boiler_ash"))
            assert np.all(np.isfinite(clean.closure.relative_closure))
            assert np.all(np.abs(clean.closure.relative_closure) < 0.1)
        for meter in meters:
            for sign in (1.0, -1.0):
                b = sign * rng.uniform(0.03, 0.08)
                x, cov = _plant_measure(rng, mu, meter, b)
                res = reconcile_periods(PLANT, x, cov)
                p = res.persistent
                i = PLANT.names.index(meter)
                cls = _expected(p, i, b)
                outcome = ("named" if p.named == meter else "in set" if meter in p.candidates
                           else "wrong" if p.detected else "none")
                tally[meter][outcome] += 1
                by_class[cls][outcome] += 1
                if outcome in ("named", "in set"):  # the estimate recovers the injected bias
                    assert abs(p.bias[i] - b) < 4 * p.u_bias[i]
                for found in res.gross_errors:  # single periods: the first finding of each period
                    if found:
                        periods[cls]["named" if found[0].named == meter else
                                     "in set" if meter in found[0].candidates else "wrong"] += 1
                    else:
                        periods[cls]["none"] += 1
    print(f"\npersistent relative-bias test, 12 months, one meter biased 3–8 % either sign, seeds {list(seeds)}")
    for meter in meters:
        t = tally[meter]
        print(f"  {meter:14s} named {t['named']:2d}  in set {t['in set']:2d}  healthy meter blamed "
              f"{t['wrong']:2d}  nothing found {t['none']:2d}")
    for k, t in by_class.items():
        q = periods[k]
        n, m = sum(t.values()), sum(q.values())
        if n:
            print(f"  a priori {k:9s} {n:3d} runs: named {t['named'] / n:4.0%}, in set {t['in set'] / n:4.0%}, "
                  f"healthy meter blamed {t['wrong'] / n:4.0%}, nothing {t['none'] / n:4.0%} | single months: "
                  f"named {q['named'] / m:4.0%}, in set {q['in set'] / m:4.0%}, healthy blamed "
                  f"{q['wrong'] / m:4.0%}, nothing {q['none'] / m:4.0%}")
    sep, st = by_class["separable"], by_class["set"]
    assert sum(sep.values()) >= 10 and sum(st.values()) >= 40
    # where the network (with the profiles) can separate the meter, it is named
    assert sep["named"] / sum(sep.values()) >= 0.8
    # where it cannot, the reported candidates contain it
    assert (st["named"] + st["in set"]) / sum(st.values()) >= 0.75
    # a healthy meter is rarely blamed instead of the biased one (the family-wise level is 5 %)
    total = sum(sum(t.values()) for t in by_class.values())
    assert sum(t["wrong"] for t in by_class.values()) / total <= 0.06
    # single months: when a detectable bias is found, the finding holds the biased meter
    q = periods["separable"] + periods["set"]
    assert (q["named"] + q["in set"]) / (q["named"] + q["in set"] + q["wrong"]) >= 0.75


def test_on_healthy_plants_the_persistent_bias_test_holds_its_level() -> None:
    runs, alarms, over, tests = 80, 0, 0, 0
    for seed in range(runs):
        rng = np.random.default_rng(5000 + seed)
        x, cov = _plant_measure(rng, _plant_truth(rng))
        p = reconcile_periods(PLANT, x, cov).persistent
        alarms += p.detected
        t = p.statistic[np.isfinite(p.statistic)]
        over += int((t > 3.841459).sum())  # each meter's T against χ²₁(0.95)
        tests += t.size
    print(f"\nhealthy plants: a persistent bias reported in {alarms} of {runs} (family-wise α = 5 %); single "
          f"meters over χ²₁(0.95): {over / tests:.1%} of {tests}")
    assert alarms / runs <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / runs)
    assert abs(over / tests - 0.05) < 4 * np.sqrt(0.05 * 0.95 / tests)


def test_the_carbon_flow_diagram_is_a_png_of_reasonable_size() -> None:
    rng = np.random.default_rng(11)
    mu = _plant_truth(rng)
    x, cov = _plant_measure(rng, mu)
    res = reconcile(PLANT, x[0], cov[0])
    zh = {"feed_coal": "气化原料煤", "methanol": "甲醇", "boiler_stack": "锅炉烟囱"}
    flows = res.flows(zh)
    assert {f.name for f in flows if f.direction == "in"} >= {"feed_coal", "syngas", "fuel_gas"}
    png = sankey_png(flows, "碳流图 2024-01", title_en="Carbon flows 2024-01",
                     node_labels_zh={"gasification": "气化", "synthesis": "合成", "boiler": "锅炉"})
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert 600 <= width <= 3000 and 400 <= height <= 2000
    assert 10_000 < len(png) < 2_000_000
    with pytest.raises(BalanceError, match="row 0"):
        sankey_png([SankeyFlow("x", "a", "in", -1.0, 0.1)], "t")
    with pytest.raises(BalanceError, match="direction"):
        sankey_png([SankeyFlow("x", "a", "sideways", 1.0, 0.1)], "t")
