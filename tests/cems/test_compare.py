"""The CEMS–accounting comparison: E_n with shared inputs against the naive formula, and which one covers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from carbonmet.accounting import Account, Part, StreamCalc, Term
from carbonmet.cems import compare_accounts, deviation_stability, recalibration_steps

T = 100_000.0  # true emissions of the month [tCO2]
U_NG, U_FLOW, U_LAB = 0.02, 0.025, 0.01  # relative standard uncertainties [-]


def _legs(cems_value: float, acc_value: float) -> tuple[Account, Account]:
    """A CEMS leg and an account of one month that share the natural-gas flow meter (the same instrument feeds
    the CEMS flow calculation and the fuel stream)."""
    terms = {"instrument:NG": Term("instrument:NG", U_NG), "instrument:FLOW": Term("instrument:FLOW", U_FLOW),
             "analyser:LAB": Term("analyser:LAB", U_LAB, kind="analyser")}
    c = StreamCalc("stack", "measured_emission", parts=[Part("stack", np.array([cems_value]),
                                                            ("instrument:NG", "instrument:FLOW"))])
    a = StreamCalc("fuel", "fuel_combustion", parts=[Part("fuel", np.array([acc_value]),
                                                         ("instrument:NG", "analyser:LAB"))])
    return (Account("EX", 2025, "cems", ["2025-01"], [c], {k: terms[k] for k in ("instrument:NG", "instrument:FLOW")}),
            Account("EX", 2025, "p", ["2025-01"], [a], {k: terms[k] for k in ("instrument:NG", "analyser:LAB")}))


def test_shared_input_cancels_in_the_difference() -> None:
    cems, acc = _legs(T, T)
    cmp = compare_accounts(cems, acc)
    y = cmp.year_row
    # u(D)² = (T·u_FLOW)² + (T·u_LAB)²: the shared meter's (T·u_NG)² enters both legs with the same
    # sensitivity T and cancels: √(2500² + 1000²) = 2692.58 t
    assert y["u_difference"] == pytest.approx(math.hypot(T * U_FLOW, T * U_LAB), abs=1e-3)
    # naive: u²(CEMS) + u²(acc) = T²(u_NG² + u_FLOW²) + T²(u_NG² + u_LAB²) → 3905.12 t
    assert y["u_difference_naive"] == pytest.approx(T * math.sqrt(2 * U_NG**2 + U_FLOW**2 + U_LAB**2), abs=1e-3)
    assert [s["term"] for s in cmp.shared] == ["instrument:NG"]
    assert cmp.shared[0]["sensitivity_cems_t"] == pytest.approx(T) == cmp.shared[0]["sensitivity_accounting_t"]


def test_the_formula_with_shared_inputs_covers_and_the_naive_one_over_covers() -> None:
    """Simulate the two legs measuring the same true emissions with their errors; count how often |D| ≤ 2·u(D)."""
    rng = np.random.default_rng(11)
    n = 20_000
    d_ng, d_f, d_l = (rng.normal(0, u, n) for u in (U_NG, U_FLOW, U_LAB))
    cems_v = T * (1 + d_ng) * (1 + d_f)
    acc_v = T * (1 + d_ng) * (1 + d_l)
    cmp = compare_accounts(*_legs(T, T))
    u_sh, u_nv = cmp.year_row["u_difference"], cmp.year_row["u_difference_naive"]
    cover_sh = float(np.mean(np.abs(cems_v - acc_v) <= 2 * u_sh))
    cover_nv = float(np.mean(np.abs(cems_v - acc_v) <= 2 * u_nv))
    assert 0.94 <= cover_sh <= 0.965, cover_sh  # k = 2 on a normal difference: 95.45 %
    assert cover_nv > 0.99, cover_nv  # ignoring the shared meter double-counts it: intervals too wide
    # and the verdict differs where it matters: a real 7 % difference is caught only with the covariance
    cmp7 = compare_accounts(*_legs(1.07 * T, T))
    assert not cmp7.consistent and abs(cmp7.year_row["En_naive"]) < 1 < abs(cmp7.year_row["En"])


def test_comparison_refuses_different_periods() -> None:
    cems, acc = _legs(T, T)
    acc.periods = ["2025-02"]
    with pytest.raises(ValueError, match="same enterprise"):
        compare_accounts(cems, acc)


def test_stability_and_step_tests() -> None:
    rng = np.random.default_rng(3)
    flat = 1.0 + rng.normal(0, 0.2, 12)
    assert not deviation_stability(flat)["unstable"]
    drift = flat + 0.3 * np.arange(12)  # +3.3 % over the year
    s = deviation_stability(drift)
    assert s["unstable"] and s["change_over_year_pct"] == pytest.approx(3.3, abs=0.6)
    stepped = flat.copy()
    stepped[8:] += 2.0  # an instrument recalibrated against a faulty standard in August reads 2 % high from then
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    ev = [{"instrument": "I-OOT", "point": "P.FLOW", "date": "2025-08-14", "certificate": "C1"},
          {"instrument": "I-OK", "point": "P.CO2", "date": "2025-03-02", "certificate": "C2"}]
    res = {r["instrument"]: r for r in recalibration_steps(stepped, months, ev)}
    assert res["I-OOT"]["significant"] and res["I-OOT"]["step_pct"] == pytest.approx(2.0, abs=0.4)
    assert not res["I-OK"]["significant"]
    # months wholly before (Jan–Jul) and after (Sep–Dec) the calibration month; August left out
    assert res["I-OOT"]["before_pct"] == pytest.approx(float(stepped[:7].mean()), abs=1e-4)


def test_cems_against_the_verified_account_sums_the_boundary_and_combines_u_in_quadrature() -> None:
    """Hand-worked: CEMS 1,030 t (u 10 → U 20); verified coal 600 (U 12) + gas 400 (U 9), a stream outside the
    boundary ignored → verified 1,000, U = 15; D = 30, U(D) = √(20² + 15²) = 25, E_n = 1.2: inconsistent."""
    from carbonmet.cems import compare_verified

    ver = [{"stream": "coal", "reported_tco2": 590.0, "verified_tco2": 600.0, "U_tco2": 12.0},
           {"stream": "gas", "reported_tco2": 400.0, "verified_tco2": 400.0, "U_tco2": 9.0},
           {"stream": "electricity", "reported_tco2": 50.0, "verified_tco2": 50.0, "U_tco2": 1.0}]
    r = compare_verified({"cems": 1030.0, "u_cems": 10.0}, ver, ["coal", "gas"])
    assert (r["verified"], r["reported"], r["U_verified"], r["U_cems"]) == (1000.0, 990.0, 15.0, 20.0)
    assert (r["difference"], r["U_difference"], r["En"], r["relative_deviation_pct"]) == (30.0, 25.0, 1.2, 3.0)
    assert not r["consistent"] and r["streams"] == ["coal", "gas"] and r["missing"] == []
    # a boundary stream the verification does not list: no E_n on a partial boundary
    r = compare_verified({"cems": 1030.0, "u_cems": 10.0}, ver, ["coal", "gas", "process"])
    assert r["missing"] == ["process"] and r["En"] is None and not r["consistent"]


def test_a_boundary_stream_the_verification_does_not_list_comes_from_the_platform() -> None:
    from carbonmet.cems import compare_verified

    ver = [{"stream": "coal", "reported_tco2": 590.0, "verified_tco2": 600.0, "U_tco2": 12.0}]
    r = compare_verified({"cems": 1030.0, "u_cems": 10.0}, ver, ["coal", "process"], {"process": (400.0, 4.5)})
    # verified 600 + platform 400 = 1,000; U = √(12² + (2·4.5)²) = 15; D = 30, U(D) = 25 → E_n = 1.2
    assert (r["from_platform"], r["missing"], r["verified"], r["U_verified"], r["En"]) == (["process"], [], 1000.0,
                                                                                         15.0, 1.2)
