"""Monte Carlo method: intervals (JCGM 101 §7.7), tolerance (§7.9.2), reproducibility, adaptive M,
correlated sampling, and the statistical coverage of the 95 % interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from carbonmet.uncertainty import EvaluationError, InputSet, Model, UncertaintyError, mcm
from carbonmet.uncertainty.distributions import Lognormal, Normal, Rectangular, Triangular
from carbonmet.uncertainty.gum import coverage_intervals, numerical_tolerance


def test_coverage_interval_indices_follow_jcgm101_7_7() -> None:
    """M = 100, p = 0.95: q = 95, r = (M − q + 1)/2 = 3 → [y_(3), y_(98)] (1-based, §7.7.2)."""
    y = np.arange(1.0, 101.0)
    sym, short = coverage_intervals(y, 0.95)
    assert sym == (3.0, 98.0)
    assert short[1] - short[0] == 95.0
    # M = 1000, p = 0.95: q = 950, M − q = 50 even → r = 25 → [y_(25), y_(975)]
    y = np.arange(1.0, 1001.0)
    assert coverage_intervals(y, 0.95)[0] == (25.0, 975.0)
    # skewed values: the shortest interval sits where the values are dense
    y = np.sort(np.concatenate([np.linspace(0, 1, 900), np.linspace(1, 100, 100)]))
    sym, short = coverage_intervals(y, 0.9)
    assert short[1] - short[0] < sym[1] - sym[0]
    assert short[0] == 0.0


@pytest.mark.parametrize(
    ("u", "ndig", "delta"),
    [
        (0.0539, 2, 0.0005),
        (16.45, 2, 0.5),
        (16.45, 1, 5.0),
        (2.0, 2, 0.05),
        (0.000050, 1, 0.000005),
        (9.96, 2, 0.5),
        (9.96, 1, 5.0),
    ],
)
def test_numerical_tolerance(u: float, ndig: int, delta: float) -> None:
    """JCGM 101 §7.9.2: u = c × 10^l with n_dig digits in c, δ = ½ × 10^l (9.96 rounds to 10: two digits "10" → δ = 0.5)."""
    assert numerical_tolerance(u, ndig) == pytest.approx(delta)


def _model() -> Model:
    iset = InputSet()
    iset.add("a", Normal(10.0, 0.2))
    iset.add("b", Rectangular(1.0, 2.0))
    iset.add("c", Triangular(0.0, 1.0))
    iset.add("d", Lognormal(3.0, 0.3))
    iset.correlate("a", "d", 0.5)
    return Model.from_expression("a * b + c / d", iset, output="y")


def test_reproducible_and_independent_of_threads() -> None:
    m = _model()
    r1 = mcm(m, 50_000, seed=42, workers=1, chunk_size=4_096)
    r2 = mcm(m, 50_000, seed=42, workers=2, chunk_size=4_096)
    r3 = mcm(m, 50_000, seed=43, workers=2, chunk_size=4_096)
    assert r1.samples is not None and r2.samples is not None and r3.samples is not None
    assert np.array_equal(r1.samples, r2.samples)
    assert (r1.value, r1.u, r1.interval) == (r2.value, r2.u, r2.interval)
    assert not np.array_equal(r1.samples, r3.samples)
    a1 = mcm(m, adaptive=True, ndig=1, seed=7, workers=1, keep_samples=False)
    a2 = mcm(m, adaptive=True, ndig=1, seed=7, workers=2, keep_samples=False)
    assert (a1.trials, a1.value, a1.interval) == (a2.trials, a2.value, a2.interval)


def test_seed_is_reported_and_reusable() -> None:
    m = _model()
    r = mcm(m, 20_000)
    again = mcm(m, 20_000, seed=r.seed)
    assert r.interval == again.interval


def test_adaptive_procedure_stops_and_is_stable() -> None:
    """JCGM 101 §7.9.4: blocks of max(J, 10⁴) = 10⁴ trials for p = 0.95; ndig = 3 needs more trials
    than ndig = 1; the final u and interval agree with a long fixed run within 2δ."""
    m = _model()
    a1 = mcm(m, adaptive=True, ndig=1, seed=3, keep_samples=False)
    a2 = mcm(m, adaptive=True, ndig=3, seed=3, keep_samples=False)
    assert a1.converged and a2.converged
    assert a1.trials % 10_000 == 0 and a1.blocks >= 2
    assert a2.trials > a1.trials
    ref = mcm(m, 1_000_000, seed=99, keep_samples=False)
    assert abs(a2.u - ref.u) <= 2 * a2.delta
    assert abs(a2.interval[0] - ref.interval[0]) <= 2 * a2.delta
    capped = mcm(m, adaptive=True, ndig=6, seed=3, max_trials=30_000, keep_samples=False)
    assert not capped.converged and capped.trials == 30_000


def test_correlated_normals_have_the_stated_correlation() -> None:
    """JCGM 101 §6.4.8: multivariate Gaussian by Cholesky; the sample correlation matches r."""
    iset = InputSet()
    iset.add("x", Normal(0.0, 1.0))
    iset.add("y", Normal(5.0, 2.0))
    iset.add("z", Normal(-1.0, 0.5))
    iset.correlate("x", "y", 0.8)
    iset.correlate("y", "z", -0.3)
    res = {}
    for expr in ("x + y", "y - 4 * z"):
        res[expr] = mcm(Model.from_expression(expr, iset), 400_000, seed=5)
    # var(x + y) = 1 + 4 + 2·0.8·2 = 8.2; var(y − 4z) = 4 + 4 − 2·4·(−0.3)·2·0.5 = 10.4
    assert res["x + y"].u == pytest.approx(math.sqrt(8.2), rel=0.01)
    assert res["y - 4 * z"].u == pytest.approx(math.sqrt(10.4), rel=0.01)


def test_singular_and_invalid_correlation() -> None:
    iset = InputSet()
    iset.add("x", Normal(0.0, 1.0))
    iset.add("y", Normal(0.0, 1.0))
    iset.correlate("x", "y", 1.0)  # fully correlated: PSD square root is used
    r = mcm(Model.from_expression("x - y", iset), 10_000, seed=1)
    assert r.u == pytest.approx(0.0, abs=1e-6)
    iset2 = InputSet()
    for n in "abc":
        iset2.add(n, Normal(0.0, 1.0))
    iset2.correlate("a", "b", 0.9)
    iset2.correlate("b", "c", 0.9)
    iset2.correlate("a", "c", -0.9)
    with pytest.raises(UncertaintyError, match="not positive semi-definite"):
        mcm(Model.from_expression("a + b + c", iset2), 10_000, seed=1)


def test_nan_trials_are_reported_with_the_subexpression_and_input() -> None:
    iset = InputSet()
    iset.add("q", Normal(0.05, 0.05))
    iset.add("k", Normal(1.0, 0.01))
    m = Model.from_expression("k * log(q)", iset, output="E")
    with pytest.raises(EvaluationError) as exc:
        mcm(m, 20_000, seed=1)
    msg = str(exc.value)
    assert "sub-expression 'log(q)' (position 4)" in msg
    assert "input(s) q drawn" in msg and "model 'E'" in msg
    assert f"of {20_000} Monte Carlo trials" in msg


def test_too_few_trials_rejected() -> None:
    with pytest.raises(UncertaintyError, match="too few"):
        mcm(_model(), 1_000, seed=1)


def test_callable_model_same_as_expression() -> None:
    iset = InputSet()
    iset.add("a", Normal(10.0, 0.2))
    iset.add("b", Rectangular(1.0, 2.0))
    e = mcm(Model.from_expression("a * exp(b / 10)", iset), 30_000, seed=4)
    f = mcm(Model.from_function(lambda a, b: a * np.exp(b / 10), iset), 30_000, seed=4)
    assert e.samples is not None and f.samples is not None
    np.testing.assert_allclose(e.samples, f.samples, rtol=1e-13)


@pytest.mark.slow
def test_95_percent_interval_covers_the_truth_about_95_percent_of_the_time() -> None:
    """Known truth: an emission E = AD·NCV·CC·OF·44/12 with true inputs; each repetition draws the
    'measured' inputs around the truth with the stated errors (rectangular for the meter, normal for
    the lab values), assigns the corresponding state-of-knowledge distributions centred on the
    measured values, and runs the MCM. Over 1 000 seeded repetitions the 95 % probabilistically
    symmetric interval must contain the true E in 93–97 % of them."""
    true = {"AD": 1.0e5, "NCV": 20.9, "CC": 0.0261, "OF": 0.98}
    mpe_ad = 0.02 * true["AD"]  # ±2 % meter MPE
    u_rel = {"NCV": 0.02, "CC": 0.03, "OF": 0.01}
    e_true = true["AD"] * true["NCV"] * true["CC"] * true["OF"] * 44 / 12
    rng = np.random.default_rng(20261123)
    hits = 0
    reps = 1000
    for rep in range(reps):
        iset = InputSet()
        ad = true["AD"] + rng.uniform(-mpe_ad, mpe_ad)
        iset.add("AD", Rectangular(ad - mpe_ad, ad + mpe_ad))
        for k, ur in u_rel.items():
            s = ur * true[k]
            iset.add(k, Normal(true[k] + s * rng.standard_normal(), s))
        m = Model.from_expression("AD * NCV * CC * OF * 44 / 12", iset, output="E")
        r = mcm(m, 10_000, seed=rep, workers=1, keep_samples=False)
        hits += r.interval[0] <= e_true <= r.interval[1]
    rate = hits / reps
    assert 0.93 <= rate <= 0.97, rate
    # binomial sanity: the observed rate is within 4 sd of 0.95
    assert abs(rate - 0.95) <= 4 * math.sqrt(0.95 * 0.05 / reps)
    assert stats.binomtest(hits, reps, 0.95).pvalue > 1e-4


def test_gaussian_marginalisation_is_exact_and_selective() -> None:
    """Independent normal inputs entering a sum linearly are integrated analytically; the output
    distribution is unchanged (compared with plain sampling and with the exact moments)."""
    iset = InputSet()
    n = 40
    for i in range(n):
        iset.add(f"A{i}", Rectangular(1.0 + i / n, 1.2 + i / n))
    for i in range(n):
        iset.add(f"F{i}", Normal(2.0 + i / 10, 0.3))
    iset.add("G", Normal(1.0, 0.1))  # divides: not marginalised
    iset.add("H", Normal(5.0, 0.5))  # appears twice: not marginalised
    iset.add("K", Normal(3.0, 0.2))  # correlated: not marginalised
    iset.add("L", Normal(0.5, 0.05))
    iset.correlate("K", "L", 0.5)
    text = " + ".join(f"A{i} * F{i}" for i in range(n)) + " + 7/G + H*H + H + K + L"
    m = Model.from_expression(text, iset, output="y")
    marg = mcm(m, 400_000, seed=1)
    plain = mcm(m, 400_000, seed=2, marginalize=False)
    assert set(marg.marginalized) == {f"F{i}" for i in range(n)}
    assert plain.marginalized == ()
    # exact moments of the linear part: E[A F] = E[A]E[F]; var(A F) = E[A²]E[F²] − (E[A]E[F])²
    ea = np.array([1.1 + i / n for i in range(n)])
    ea2 = ea**2 + 0.2**2 / 12
    ef = np.array([2.0 + i / 10 for i in range(n)])
    ef2 = ef**2 + 0.3**2
    var_lin = float(np.sum(ea2 * ef2 - (ea * ef) ** 2))
    for r in (marg, plain):
        assert r.u > math.sqrt(var_lin)
    assert marg.u == pytest.approx(plain.u, rel=0.01)
    assert marg.value == pytest.approx(plain.value, abs=4 * plain.u / math.sqrt(400_000) * 1.5)
    np.testing.assert_allclose(marg.interval, plain.interval, atol=0.04 * plain.u)  # ≈ 5 sd of the difference
    # the shortest interval is located less precisely by sampling than the symmetric one
    np.testing.assert_allclose(marg.shortest_interval, plain.shortest_interval, atol=0.12 * plain.u)


def test_fixed_k_does_not_change_validation_of_a_linear_gaussian_model() -> None:
    """Review finding 3: Y = X0+X1+X2+X3, X_i ~ N(0, 1) is exactly N(0, 4); the GUF is exact.

    With --k 2 the reported U is 2u, but validation must still compare y ± t_p(ν_eff)·u (= 1.960u
    for p = 0.95, JCGM 101 §8.2) with the MCM 95 % interval, so the verdict is "validated".
    """
    from carbonmet.uncertainty import evaluate

    iset = InputSet()
    for i in range(4):
        iset.add(f"X{i}", Normal(0.0, 1.0))
    m = Model.from_expression("X0 + X1 + X2 + X3", iset)
    free = evaluate(m, trials=100_000, seed=1)
    fixed = evaluate(m, trials=100_000, seed=1, k=2.0)
    assert fixed.lpu is not None and fixed.lpu.U == pytest.approx(4.0)
    assert fixed.validation is not None and free.validation is not None
    assert fixed.validation.k_p == pytest.approx(stats.norm.ppf(0.975))
    assert fixed.validation.agrees and free.validation.agrees
    assert fixed.validation.d_low == pytest.approx(free.validation.d_low)
    assert fixed.to_dict()["validation"]["k_p"] == pytest.approx(1.959964, rel=1e-6)


def test_standard_form_rows_give_the_same_model_values_as_materialised_rows() -> None:
    """Normal and rectangular inputs are sampled in standard form (x = offset + scale·s) and sums of
    weighted inputs fold the scaling into their weights. Every way the evaluator reads a row must
    give the values it gives on materialised rows: weight × input, input × input (different rows and
    the same row), plain sums of inputs, single inputs, non-linear terms, and inputs of other
    distributions mixed in (so the blocks' rows are not contiguous)."""
    from carbonmet.uncertainty.montecarlo import McmRunner

    iset = InputSet()
    n = 12
    for i in range(n):
        iset.add(f"a{i}", Rectangular(-1.0 + i, 0.5 + 2 * i))  # spans 0 for i = 0: cancellation
        iset.add(f"b{i}", Normal(3.0 - i, 0.1 + i / 10))
        iset.add(f"t{i}", Triangular(0.0, 1.0 + i))
        iset.add(f"e{i}", Normal(0.5 + i, 0.2))  # enters once, linearly: marginalised
    parts = [
        " + ".join(f"a{i} * e{i}" for i in range(n)),
        " + ".join(f"{1.5 + i} * a{i}" for i in range(n)),
        " - ".join(f"a{i} * b{i}" for i in range(n)),
        " + ".join(f"a{i} * a{i} * {0.2 * i}" for i in range(n)),
        " + ".join(f"b{i}" for i in range(n)),
        " + ".join(f"t{i} * a{i}" for i in range(n)),
        "exp(a3 / 20) * b5 + sqrt(t2) - b0 / (a7 + 30)",
    ]
    model = Model.from_expression(" + ".join(f"({p})" for p in parts), iset, output="y")
    for marginalize in (False, True):
        runner = McmRunner(model, 5, "SFC64", marginalize)
        aff = runner.plan.affine
        assert len(runner.marginalized) == (n if marginalize else 0)
        assert aff is not None and aff.mask.sum() == 3 * n - len(runner.marginalized)
        rng = np.random.Generator(np.random.SFC64(1))
        X, Z = runner.plan.draw(rng, 777)
        y_folded = runner.program(X, Z, aff)
        y_plain = runner.program(aff.materialise(X.copy()), Z, None)
        np.testing.assert_allclose(y_folded, y_plain, rtol=1e-12, atol=1e-9)


def test_rectangular_inputs_are_uniform_with_32_bit_resolution() -> None:
    """A rectangular input's samples lie strictly inside (low, high), sit on the 2³² mid-points and
    are uniform (Kolmogorov–Smirnov), with the moments of the rectangular distribution."""
    iset = InputSet()
    iset.add("x", Rectangular(2.0, 5.0))
    r = mcm(Model.from_expression("x", iset, output="x"), 200_000, seed=11)
    x = r.samples
    assert x is not None
    assert 2.0 < x.min() and x.max() < 5.0
    k = (x - 2.0) / 3.0 * 2.0**32 - 0.5  # integers up to the rounding of x (≈ 10⁻⁶ here)
    assert np.max(np.abs(k - np.round(k))) < 1e-3
    assert stats.kstest((x - 2.0) / 3.0, "uniform").pvalue > 1e-3
    assert r.value == pytest.approx(3.5, abs=4 * 3.0 / math.sqrt(12 * 200_000))
    assert r.u == pytest.approx(3.0 / math.sqrt(12), rel=0.01)


@pytest.mark.parametrize("expression", ["t", "t + 0", "c"])
def test_model_values_never_alias_the_reused_sample_buffer(expression: str) -> None:
    """Each worker thread reuses one sample buffer for its chunks; a model that returns an input row
    itself (here a triangular input, drawn outside the standard-form blocks) must still give every
    chunk its own values."""
    iset = InputSet()
    iset.add("t", Triangular(0.0, 1.0))
    iset.add("c", Lognormal(1.0, 0.1))
    m = Model.from_expression(expression, iset, output="y")
    for workers in (1, 2):
        r = mcm(m, 60_000, seed=3, workers=workers, chunk_size=1_000)
        assert r.samples is not None
        assert np.unique(r.samples).size == r.samples.size  # continuous input: all values distinct
