"""Distributions: analytic moments (GUM §4.3, JCGM 101 §6.4) against sampling, and parameter checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmet.uncertainty import DistributionError
from carbonmet.uncertainty.distributions import (
    Arcsine,
    Constant,
    Exponential,
    Lognormal,
    Normal,
    Rectangular,
    StudentT,
    Trapezoidal,
    Triangular,
    distribution_from_params,
    normal_from_expanded,
    rectangular_from_mpe,
    type_a,
)

N = 200_000
loc = st.floats(-1e3, 1e3, allow_nan=False)
pos = st.floats(1e-3, 1e2, allow_nan=False)


def _check_moments(d: object, seed: int, std_check: bool = True) -> None:
    rng = np.random.default_rng(seed)
    x = d.sample(rng, N)  # type: ignore[attr-defined]
    sd = d.std  # type: ignore[attr-defined]
    assert abs(x.mean() - d.mean) <= 5 * sd / math.sqrt(N) + 1e-12 * (1 + abs(d.mean))  # type: ignore[attr-defined]
    if std_check and sd > 0:
        assert x.std(ddof=1) == pytest.approx(sd, rel=0.02)
    # the quantile function is consistent with sampling (median check)
    med = float(d.ppf(np.array([0.5]))[0])  # type: ignore[attr-defined]
    assert abs(np.median(x) - med) <= 0.02 * (sd if sd > 0 else 1.0) + 1e-9 * abs(med)


@settings(max_examples=15, deadline=None)
@given(loc, pos, st.integers(0, 10**6))
def test_normal_moments(m: float, s: float, seed: int) -> None:
    _check_moments(Normal(m, s), seed)


@settings(max_examples=15, deadline=None)
@given(loc, pos, st.integers(0, 10**6))
def test_rectangular_moments(a: float, w: float, seed: int) -> None:
    d = Rectangular(a, a + w)
    assert d.u == pytest.approx(w / math.sqrt(12))
    _check_moments(d, seed)


@settings(max_examples=15, deadline=None)
@given(loc, pos, st.floats(0, 1), st.integers(0, 10**6))
def test_triangular_moments(a: float, w: float, frac: float, seed: int) -> None:
    d = Triangular(a, a + w, a + frac * w)
    _check_moments(d, seed)
    assert Triangular(0, 1).u == pytest.approx(1 / math.sqrt(24))  # symmetric: (b − a)/√24


@settings(max_examples=15, deadline=None)
@given(loc, pos, st.floats(0, 1), st.integers(0, 10**6))
def test_trapezoidal_moments(a: float, w: float, beta: float, seed: int) -> None:
    d = Trapezoidal(a, a + w, beta)
    assert d.u == pytest.approx(w * math.sqrt((1 + beta**2) / 24))  # JCGM 101 §6.4.4.3
    _check_moments(d, seed)


@settings(max_examples=15, deadline=None)
@given(loc, pos, st.integers(0, 10**6))
def test_arcsine_moments(a: float, w: float, seed: int) -> None:
    d = Arcsine(a, a + w)
    assert d.u == pytest.approx(w / math.sqrt(8))  # JCGM 101 §6.4.6.3
    _check_moments(d, seed)


@settings(max_examples=15, deadline=None)
@given(loc, pos, st.integers(5, 60), st.integers(0, 10**6))
def test_student_t_moments(m: float, s: float, nu: int, seed: int) -> None:
    d = StudentT(m, s, nu)
    assert d.u == s  # GUM: u = s/√n, dof carried separately
    assert d.std == pytest.approx(s * math.sqrt(nu / (nu - 2)))  # JCGM 101 §6.4.9.4
    _check_moments(d, seed, std_check=nu >= 9)  # heavy tails: sample sd converges slowly


@settings(max_examples=15, deadline=None)
@given(st.floats(0.1, 1e3), st.floats(0.01, 0.5), st.integers(0, 10**6))
def test_lognormal_moments(m: float, rel: float, seed: int) -> None:
    _check_moments(Lognormal(m, rel * m), seed)


@settings(max_examples=10, deadline=None)
@given(pos, st.integers(0, 10**6))
def test_exponential_moments(m: float, seed: int) -> None:
    _check_moments(Exponential(m), seed)


def test_constant() -> None:
    d = Constant(3.5)
    assert (d.mean, d.u, d.std) == (3.5, 0.0, 0.0)
    assert np.all(d.sample(np.random.default_rng(0), 4) == 3.5)


def test_certificate_shorthands() -> None:
    """u = U/k (GUM §6.2, JJF 1059.1 §4.3.3.2); MPE → rectangular, u = MPE/√3 (JJF 1059.1 §4.3.3.4)."""
    d = normal_from_expanded(10.0, 0.2, 2.0)
    assert d.u == pytest.approx(0.1) and d.mean == 10.0
    r = rectangular_from_mpe(100.0, 0.5)
    assert r.u == pytest.approx(0.5 / math.sqrt(3)) and r.mean == pytest.approx(100.0)
    t = type_a([10.1, 10.3, 9.9, 10.0, 10.2])
    assert t.dof == 4 and t.mean == pytest.approx(10.1)
    assert t.u == pytest.approx(np.std([10.1, 10.3, 9.9, 10.0, 10.2], ddof=1) / math.sqrt(5))


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("gamma", {"mean": 1}, "unknown distribution 'gamma'"),
        ("normal", {"mean": 1}, "missing parameter 'std'"),
        ("normal", {"mean": 1, "std": -0.1}, "'std' must be ≥ 0"),
        ("normal", {"mean": 1, "std": 0.1, "sd": 2}, "unexpected parameter 'sd'"),
        ("rectangular", {"low": 2, "high": 1}, "'low' must be < 'high'"),
        ("rectangular", {"low": 1, "high": 1}, "'low' must be < 'high'"),
        ("triangular", {"low": 0, "high": 1, "mode": 2}, "'mode' must lie in"),
        ("trapezoidal", {"low": 0, "high": 1, "beta": 1.5}, "'beta' must lie in"),
        ("t", {"mean": 1, "std": 0.1}, "missing parameter 'dof'"),
        ("t", {"mean": 1, "std": 0.1, "dof": 0}, "'dof' must be > 0"),
        ("lognormal", {"mean": -1, "std": 0.1}, "must be > 0"),
        ("normal", {"value": 1, "U": 0.1, "k": 0}, "'k' must be > 0"),
        ("normal", {"mean": "abc", "std": 1}, "must be a number"),
        ("normal", {"mean": float("nan"), "std": 1}, "must be finite"),
    ],
)
def test_bad_parameters(kind: str, params: dict[str, object], message: str) -> None:
    with pytest.raises(DistributionError, match=message):
        distribution_from_params(kind, params)


def test_parameter_forms() -> None:
    assert distribution_from_params("normal", {"value": 5, "U": 0.4, "k": 2}).u == pytest.approx(0.2)
    assert distribution_from_params("uniform", {"value": 5, "mpe": 1}).u == pytest.approx(1 / math.sqrt(3))
    assert distribution_from_params("type_a", {"data": [1, 2, 3]}).dof == 2
    assert distribution_from_params("constant", {"value": 2}).u == 0.0
