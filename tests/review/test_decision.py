"""Decision rules with uncertainty, branch by branch, worked by hand (ILAC-G8:09/2019 §4.2; JJF 1094)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonmet.review import decide, decide_mpe


# --- simple acceptance (w = 0): the limit itself passes, anything beyond fails ------------------------------------
@pytest.mark.parametrize(("value", "verdict"), [(1.9, "pass"), (2.0, "pass"), (2.0000001, "fail"), (-2.0, "pass"),
                                                (-2.01, "fail")])
def test_simple_two_sided(value: float, verdict: str) -> None:
    d = decide(value, 0.8, lower=-2.0, upper=2.0, rule="simple")
    assert d.verdict == verdict and d.applied == "simple" and d.guard_band == 0.0
    assert (d.accept_lower, d.accept_upper) == (-2.0, 2.0)


def test_simple_one_sided_upper_and_lower() -> None:
    assert decide(5.0, 3.0, upper=5.0, rule="simple").verdict == "pass"  # U is ignored under simple acceptance
    assert decide(5.1, 0.0, upper=5.0, rule="simple").verdict == "fail"
    assert decide(10.0, 1.0, lower=10.0, rule="simple").verdict == "pass"
    assert decide(9.9, 1.0, lower=10.0, rule="simple").verdict == "fail"


# --- guarded, w = U: TU = 2.0, U = 0.5 → pass ≤ 1.5, inconclusive in (1.5, 2.5), fail ≥ 2.5 --------------------------
@pytest.mark.parametrize(("value", "verdict"), [
    (1.5, "pass"),           # exactly at the acceptance limit 2.0 − 0.5
    (1.5000001, "inconclusive"),
    (2.0, "inconclusive"),   # on the tolerance limit: the uncertainty straddles it
    (2.4999999, "inconclusive"),
    (2.5, "fail"),           # exactly at 2.0 + 0.5
    (-1.5, "pass"), (-2.2, "inconclusive"), (-2.5, "fail"),
])
def test_guarded_two_sided_boundaries(value: float, verdict: str) -> None:
    d = decide(value, 0.5, lower=-2.0, upper=2.0, rule="guarded")
    assert d.verdict == verdict
    assert d.guard_band == 0.5 and (d.accept_lower, d.accept_upper) == (-1.5, 1.5)


def test_guarded_fraction_of_u() -> None:
    # w = 0.5 × U = 0.5 × 0.4 = 0.2: acceptance limit 1.0 − 0.2 = 0.8; rejection from 1.0 + 0.2 = 1.2
    assert decide(0.8, 0.4, upper=1.0, guard_fraction=0.5).verdict == "pass"
    assert decide(0.9, 0.4, upper=1.0, guard_fraction=0.5).verdict == "inconclusive"
    assert decide(1.2, 0.4, upper=1.0, guard_fraction=0.5).verdict == "fail"
    # a lower limit mirrors it: 10 + 0.2 = 10.2 accepts, 10 − 0.2 = 9.8 rejects
    assert decide(10.2, 0.4, lower=10.0, guard_fraction=0.5).verdict == "pass"
    assert decide(10.0, 0.4, lower=10.0, guard_fraction=0.5).verdict == "inconclusive"
    assert decide(9.8, 0.4, lower=10.0, guard_fraction=0.5).verdict == "fail"


def test_guarded_zero_u_is_simple() -> None:
    assert decide(2.0, 0.0, upper=2.0).verdict == "pass"
    assert decide(2.0001, 0.0, upper=2.0).verdict == "fail"


def test_guard_band_wider_than_the_tolerance_leaves_no_pass_zone() -> None:
    # ±1 with U = 1.5: acceptance zone [−1 + 1.5, 1 − 1.5] = [0.5, −0.5] is empty → a centred value is inconclusive
    d = decide(0.0, 1.5, lower=-1.0, upper=1.0)
    assert d.verdict == "inconclusive"
    assert decide(2.5, 1.5, lower=-1.0, upper=1.0).verdict == "fail"  # 1 + 1.5 = 2.5


# --- JJF 1094: U95 ≤ MPEV/3 → simple; otherwise guarded with w = U95 ------------------------------------------------
def test_jjf1094_small_u_is_simple() -> None:
    # MPEV 1.5 %, U95 = 0.5 % = MPEV/3 exactly → uncertainty ignored: |Δ| = 1.5 passes, 1.51 fails
    d = decide_mpe(1.5, 0.5, 1.5)
    assert d.applied == "simple" and d.verdict == "pass" and d.rule == "jjf1094"
    assert decide_mpe(1.51, 0.5, 1.5).verdict == "fail"


def test_jjf1094_large_u_is_guarded() -> None:
    # MPEV 1.5 %, U95 = 0.6 % > 0.5 %: 合格 |Δ| ≤ 0.9, 不合格 |Δ| ≥ 2.1, 待定 between
    assert decide_mpe(0.9, 0.6, 1.5).verdict == "pass"
    d = decide_mpe(-1.2, 0.6, 1.5)
    assert d.verdict == "inconclusive" and d.applied == "guarded" and d.guard_band == 0.6
    assert decide_mpe(2.1, 0.6, 1.5).verdict == "fail"
    assert decide_mpe(-2.1, 0.6, 1.5).verdict == "fail"
    assert "待定" in d.message and "inconclusive" in d.message


def test_jjf1094_needs_a_symmetric_limit() -> None:
    with pytest.raises(ValueError, match="symmetric"):
        decide(0.0, 0.1, lower=-1.0, upper=2.0, rule="jjf1094")
    with pytest.raises(ValueError, match="symmetric"):
        decide(0.0, 0.1, upper=2.0, rule="jjf1094")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"value": 0.0, "U": 0.1}, "at least one tolerance limit"),
    ({"value": math.nan, "U": 0.1, "upper": 1.0}, "finite"),
    ({"value": 0.0, "U": -0.1, "upper": 1.0}, "U must be"),
    ({"value": 0.0, "U": 0.1, "lower": 2.0, "upper": 1.0}, "above upper"),
    ({"value": 0.0, "U": 0.1, "upper": 1.0, "rule": "lenient"}, "unknown decision rule"),
    ({"value": 0.0, "U": 0.1, "upper": 1.0, "guard_fraction": -1.0}, "guard fraction"),
])
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        decide(**kwargs)


def test_bad_mpe() -> None:
    with pytest.raises(ValueError, match="MPE"):
        decide_mpe(0.0, 0.1, 0.0)


finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(finite, st.floats(0, 1e3), st.floats(0.001, 1e3))
def test_guarded_is_never_more_lenient_than_simple(value: float, U: float, tol: float) -> None:
    """A guarded pass is a simple pass, and a guarded fail is a simple fail (the guard band only adds doubt)."""
    s = decide(value, U, lower=-tol, upper=tol, rule="simple").verdict
    g = decide(value, U, lower=-tol, upper=tol, rule="guarded").verdict
    assert g == "inconclusive" or g == s
