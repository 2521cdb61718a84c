"""CEMS QA tests: a 9-run flow RATA worked by hand, the rule sets as data, bias/BAF, gas-level checks, diagnosis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from carbonmet.cems.qa import (
    PairedRuns,
    QAError,
    bias_test,
    calibration_error,
    criteria,
    default_rule_set,
    diagnose_stack,
    drift_24h,
    linearity,
    parameters,
    rata,
    rule_sets,
    t_975,
)

# A flow-monitor RATA of 9 runs (velocity, m/s), constructed for this test.
#   run  RM_i   CEM_i  d_i = RM_i − CEM_i
#    1   15.2   14.8   0.4
#    2   15.6   15.3   0.3
#    3   14.9   14.4   0.5
#    4   15.8   15.5   0.3
#    5   16.1   15.5   0.6
#    6   15.4   15.0   0.4
#    7   15.0   14.8   0.2
#    8   15.7   15.2   0.5
#    9   15.3   14.8   0.5
RM = [15.2, 15.6, 14.9, 15.8, 16.1, 15.4, 15.0, 15.7, 15.3]
CEM = [14.8, 15.3, 14.4, 15.5, 15.5, 15.0, 14.8, 15.2, 14.8]
FLOW = PairedRuns.from_arrays("flow", "m/s", RM, CEM)

# Printed two-sided 95 % t-table (t_0.025 with n − 1 degrees of freedom, as in 40 CFR 75 App. A Table 7-1):
T_TABLE = {8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201}


def test_the_nine_run_flow_rata_worked_by_hand() -> None:
    r = rata(FLOW, "ec_co2")
    # d_i as tabulated above
    assert_allclose(r.d, [0.4, 0.3, 0.5, 0.3, 0.6, 0.4, 0.2, 0.5, 0.5], atol=1e-12)
    # Σd = 3.7  →  d̄ = 3.7/9 = 0.411 11
    assert_allclose(r.d_mean, 3.7 / 9)
    # ΣRM = 139.0 → RM̄ = 15.444 4;  ΣCEM = 139.0 − 3.7 = 135.3 → CEM̄ = 15.033 3
    assert_allclose((r.rm_mean, r.cems_mean), (139.0 / 9, 135.3 / 9))
    # Σd² = 0.16+0.09+0.25+0.09+0.36+0.16+0.04+0.25+0.25 = 1.65
    # Σ(d − d̄)² = Σd² − (Σd)²/n = 1.65 − 13.69/9 = 0.128 889
    # S_d = √(0.128 889/8) = √0.016 111 1 = 0.126 930
    assert_allclose(r.s_d, math.sqrt((1.65 - 3.7**2 / 9) / 8))
    assert_allclose(r.s_d, 0.126930, atol=5e-7)
    # t(0.975, 8) = 2.306 (printed table); cc = 2.306 × 0.126 930/√9 = 2.306 × 0.042 310 = 0.097 567
    assert abs(r.t_value - T_TABLE[8]) < 5e-4
    assert_allclose(r.cc, 2.306 * 0.126930 / 3, rtol=2e-4)
    # RA = (|d̄| + |cc|)/RM̄ × 100 = (0.411 11 + 0.097 567)/15.444 4 × 100 = 0.508 678/15.444 4 × 100 = 3.294 %
    assert_allclose(r.ra_pct, 3.294, atol=1e-3)
    # ec_co2: RA 3.29 % ≤ 10.0 % — passes; the first alternative met decides and is cited with its mark [V]
    assert r.passed and r.rule_set == "ec_co2" and r.evidence == "V" and "10.0 %" in r.clause
    # the other alternative (|d̄| = 0.411 ≤ 0.6 m/s) is evaluated too
    md = next(c for c in r.checks if c.limit_kind == "mean_diff")
    assert md.applicable and md.passed and md.unit == "m/s" and md.limit == 0.6


def test_t_values_agree_with_the_printed_table_and_scipy() -> None:
    for dof, printed in T_TABLE.items():
        assert abs(t_975(dof) - printed) < 5e-4
        assert t_975(dof) == pytest.approx(float(stats.t.ppf(0.975, dof)), rel=1e-12)


def test_the_part75_worked_example_of_the_notes() -> None:
    # accounting_methods.md §6.2: 9 pairs, RM̄ = 10.36, d̄ = 0.189, S_d = 0.078, t = 2.306
    #   cc = 2.306 × 0.078/3 = 0.059 96 ≈ 0.060;  RA = (0.189 + 0.060)/10.36 × 100 = 2.40 %
    # nine differences with exactly that mean and standard deviation: d̄ ± S_d·z with Σz = 0, Σz² = 8
    z = np.array([-1, 1, -1, 1, -1, 1, -1, 1, 0.0])  # Σz = 0, Σz² = 8
    d = 0.189 + 0.078 * z
    rm = np.full(9, 10.36)
    r = rata(PairedRuns.from_arrays("co2", "%", rm.tolist(), (rm - d).tolist()), "part75")
    assert_allclose((r.d_mean, r.s_d), (0.189, 0.078), rtol=1e-12)
    assert round(r.cc, 3) == 0.060 and round(r.ra_pct, 2) == 2.40
    b = bias_test(PairedRuns.from_arrays("co2", "%", rm.tolist(), (rm - d).tolist()), "part75")
    # d̄ 0.189 > cc 0.060 → a low bias is flagged; BAF = 1 + 0.189/(10.36 − 0.189) = 1.0186, but Part 75 does not
    # adjust CO2 (the BAF applies to SO2, NOx and flow): baf stays 1
    assert b.direction == "low" and not b.passed and not b.baf_applies and b.baf == 1.0
    assert round(1 + 0.189 / (10.36 - 0.189), 4) == 1.0186


def test_bias_adjustment_factor_for_a_low_reading_flow_monitor() -> None:
    b = bias_test(FLOW, "part75")
    # d̄ = 0.411 11 > |cc| = 0.097 57 → low bias; BAF = 1 + 0.411 11/15.033 33 = 1.027 35
    assert b.direction == "low" and not b.passed and b.baf_applies
    assert_allclose(b.baf, 1 + (3.7 / 9) / (135.3 / 9))
    assert b.evidence == "M" and "§7.6" in b.clause and "BAF" in b.clause


def test_the_ec_co2_bias_limit_honours_the_greater_of_two_alternatives() -> None:
    # CO2 at 12 %, CEMS 0.4 % low with scatter: |d̄| 0.4 % ≤ 0.5 % CO2 passes even though 0.4/5 = 8 % of a 5 %
    # full scale would fail the 5.0 %-of-full-scale alternative
    rm = [12.0, 12.2, 11.8, 12.1, 11.9, 12.0, 12.3, 11.7, 12.0]
    cem = [x - 0.4 + e for x, e in zip(rm, [0.05, -0.05, 0.02, -0.02, 0.0, 0.03, -0.03, 0.01, -0.01], strict=True)]
    b = bias_test(PairedRuns.from_arrays("co2", "%", rm, cem), "ec_co2", span=5.0)
    by = {c.limit_kind: c for c in b.checks}
    assert not by["pct_of_span"].passed and by["mean_diff"].passed and b.passed
    assert b.rule_set == "ec_co2" and b.evidence == "V"


def test_fewer_than_nine_pairs_is_an_error() -> None:
    with pytest.raises(QAError) as e:
        rata(PairedRuns.from_arrays("flow", "m/s", RM[:8], CEM[:8]))
    assert e.value.field == "runs" and "9" in str(e.value)


def test_part75_run_exclusion_rule() -> None:
    rm = RM + [15.5, 15.1, 15.9]
    cem = CEM + [13.0, 14.7, 15.4]  # run 10 is an outlier (d = 2.5)
    runs = PairedRuns.from_arrays("flow", "m/s", rm, cem)
    with_all = rata(runs, "part75")
    cleaned = rata(runs, "part75", exclude=["10"])
    assert cleaned.excluded == ("10",) and cleaned.n == 11 and cleaned.ra_pct < with_all.ra_pct
    # more than 3 rejected, or rejection where the rule set has no such rule, is refused
    with pytest.raises(QAError, match="3"):
        rata(runs, "part75", exclude=["1", "2", "3", "4"])
    with pytest.raises(QAError) as e:
        rata(runs, "ec_co2", exclude=["10"])
    assert e.value.field == "exclude"
    # rejecting runs may not leave fewer than 9
    with pytest.raises(QAError, match="9"):
        rata(PairedRuns.from_arrays("flow", "m/s", RM + [15.0], CEM + [14.9]), "part75", exclude=["1", "2"])


def test_hj75_bands_pick_the_criterion_by_the_reference_mean() -> None:
    # SO2 in µmol/mol: RM̄ ≈ 100 lies in 50–250 → mean absolute error ≤ 20 µmol/mol; d̄ = 15 passes, 25 fails
    rm = [100.0, 98.0, 102.0, 101.0, 99.0, 100.0, 97.0, 103.0, 100.0]
    ok = rata(PairedRuns.from_arrays("so2", "umol/mol", rm, [x - 15 for x in rm]))
    bad = rata(PairedRuns.from_arrays("so2", "ppm", rm, [x - 25 for x in rm]))
    assert ok.rule_set == "hj75_2017" and ok.passed and "50–250" in ok.clause
    assert not bad.passed and "50–250" in bad.clause
    assert [c.applicable for c in ok.checks].count(True) == 1
    # O2 ≤ 5 %: absolute ±1.0 %
    o2 = rata(PairedRuns.from_arrays("o2", "%", [4.0] * 9, [4.8] * 9))
    assert o2.passed and "≤ 5.0 %" in o2.clause


def test_there_is_no_hj_criterion_for_co2() -> None:
    assert not [c for c in criteria() if c.rule_set == "hj75_2017" and c.parameter == "co2"]
    assert default_rule_set("co2") == "ec_co2"
    with pytest.raises(QAError) as e:
        rata(PairedRuns.from_arrays("co2", "%", [12.0] * 9, [12.1] * 9), "hj75_2017")
    assert e.value.field == "rule_set"


def test_a_flow_in_cubic_metres_gets_only_the_relative_alternative() -> None:
    # 0.6 m/s cannot apply to m³/h: evaluated as not applicable, the 10 % RA decides
    q_rm = [x * 3600 * 12.0 for x in RM]
    q_cem = [x * 3600 * 12.0 for x in CEM]
    r = rata(PairedRuns.from_arrays("flow", "m3/h", q_rm, q_cem), "ec_co2")
    md = next(c for c in r.checks if c.limit_kind == "mean_diff")
    assert not md.applicable and "m/s" in md.note and r.passed
    assert_allclose(r.ra_pct, rata(FLOW, "ec_co2").ra_pct)  # RA does not depend on the unit
    # HJ 75 bands flow on velocity: a flow in m³/h has no applicable criterion → a clear error
    with pytest.raises(QAError, match="m3/h"):
        rata(PairedRuns.from_arrays("flow", "m3/h", q_rm, q_cem), "hj75_2017")


def test_moisture_alternative_two_percent_of_dry_fraction() -> None:
    # Bws ≈ 10 %: RA large (d̄ = 1.5, RA ≥ 15 %) but |d̄| 1.5 ≤ 0.020 × (100 − 10) = 1.8 % H2O → passes
    rm = [10.0, 10.4, 9.6, 10.2, 9.8, 10.1, 9.9, 10.3, 9.7]
    r = rata(PairedRuns.from_arrays("moisture", "%", rm, [x - 1.5 for x in rm]), "ec_co2")
    alt = next(c for c in r.checks if c.limit_kind == "mean_diff_pct_of_dry")
    assert r.ra_pct > 10 and alt.passed and alt.limit == pytest.approx(0.02 * (100 - 10.0)) and r.passed


def test_linearity_calibration_error_and_drift() -> None:
    # Part 75 linearity, CO2 span 20 %: low 5.0 (R̄ 5.1 → LE 2 %), mid 11.0 (R̄ 11.4 → LE 3.6 %),
    # high 18.0 (R̄ 19.0 → LE 1.0/18 = 5.56 % > 5 %, and |R̄ − A| = 1.0 > 0.5 % CO2) → fails at high
    lin = linearity("co2", "%", {"low": (5.0, [5.1, 5.1, 5.1]), "mid": (11.0, [11.3, 11.4, 11.5]),
                                 "high": (18.0, [18.9, 19.0, 19.1])}, rule_set="part75")
    assert [lv.passed for lv in lin.levels] == [True, True, False]
    assert_allclose([lv.pct_of_reference for lv in lin.levels], [2.0, 40 / 11, 100 / 18], rtol=1e-9)
    assert not lin.passed and lin.evidence == "M"
    with pytest.raises(QAError):
        linearity("co2", "%", {"low": (5.0, [5.0])}, rule_set="part75")
    # daily calibration error of a flow monitor, span 30 m/s: 1.5 m/s off = 5 % of span ≤ 6 % (out-of-control
    # limit) but > 3 % (certification limit)
    daily = calibration_error("flow", "m/s", {"zero": (0.0, 0.3), "span": (24.0, 25.5)}, span=30.0, rule_set="part75")
    cert = calibration_error("flow", "m/s", {"zero": (0.0, 0.3), "span": (24.0, 25.5)}, span=30.0, rule_set="part75",
                             daily=False)
    assert daily.passed and not cert.passed and cert.levels[1].pct_of_span == pytest.approx(5.0)
    # EC 24 h drift: CO2 0.3 % passes (≤ 0.5 %); flow 1.2 m/s of a 30 m/s span is 4 % (> 3 %) and > 0.6 m/s: fails
    assert drift_24h("co2", "%", {"zero": (0.0, 0.0, 0.2), "span": (15.0, 15.0, 15.3)}).passed
    fl = drift_24h("flow", "m/s", {"span": (20.0, 20.0, 21.2)}, span=30.0)
    assert not fl.passed and fl.rule_set == "ec_co2"
    with pytest.raises(QAError, match="span"):
        drift_24h("flow", "m3/h", {"span": (20.0, 20.0, 21.2)})


def _runs(parameter: str, unit: str, ref: np.ndarray, factor: float, noise: float, seed: int) -> PairedRuns:
    rng = np.random.default_rng(seed)
    return PairedRuns.from_arrays(parameter, unit, ref.tolist(), (ref * factor * (1 + noise * rng.standard_normal(
        ref.size))).tolist())


def test_a_flow_monitor_reading_six_percent_high_is_named_not_the_co2_analyser() -> None:
    n = 9
    rng = np.random.default_rng(7)
    co2_ref = 12.0 + 0.3 * rng.standard_normal(n)
    flow_ref = 15.0 + 1.0 * rng.standard_normal(n)
    co2 = _runs("co2", "%", co2_ref, 1.0, 0.005, 1)
    flow = _runs("flow", "m/s", flow_ref, 1.06, 0.005, 2)
    dx = diagnose_stack(co2, flow)
    assert dx.suspect == "flow"
    assert "flow monitor" in dx.verdict and "流量监测仪" in dx.verdict and "CO2 analyser reads" not in dx.verdict
    by = {c.parameter: c for c in dx.components}
    assert by["flow"].flagged and by["flow"].biased and 5.0 < by["flow"].relative_bias_pct < 7.0
    assert not by["co2"].flagged
    # the flow monitor passes its 10 % RA limit: the bias test is what points at it
    assert by["flow"].rata is not None and by["flow"].rata.passed
    # the CO2 mass carries the +6 %
    assert dx.mass is not None and 5.0 < dx.mass.rel_error_pct < 7.0


def test_a_co2_analyser_reading_high_is_named_and_moisture_enters_through_the_dry_fraction() -> None:
    n = 10
    rng = np.random.default_rng(11)
    co2 = _runs("co2", "%", 12.0 + 0.3 * rng.standard_normal(n), 1.07, 0.004, 3)
    flow = _runs("flow", "m/s", 15.0 + rng.standard_normal(n), 1.0, 0.005, 4)
    moist = _runs("moisture", "%", 10.0 + 0.2 * rng.standard_normal(n), 1.0, 0.01, 5)
    dx = diagnose_stack(co2, flow, moist)
    assert dx.suspect == "co2" and "CO2 analyser" in dx.verdict
    m = {c.parameter: c for c in dx.components}["moisture"]
    assert_allclose(m.mass_effect_pct, -(m.rata.cems_mean - m.rata.rm_mean) / (100 - m.rata.rm_mean) * 100)  # type: ignore[union-attr]
    # a healthy stack (fixed seeds; unbiased components): no suspect, and the verdict says so
    ok = diagnose_stack(_runs("co2", "%", 12.0 + 0.3 * rng.standard_normal(9), 1.0, 0.003, 6),
                        _runs("flow", "m/s", 15.0 + rng.standard_normal(9), 1.0, 0.003, 8))
    assert ok.suspect is None and not any(c.flagged for c in ok.components) and "every component" in ok.verdict


def test_the_packaged_tables_are_well_formed() -> None:
    assert set(rule_sets()) >= {"hj75_2017", "ec_co2", "part75"}
    for c in criteria():
        assert c.clause and c.source and c.evidence
    assert {p.default_rule_set for p in parameters()} <= set(rule_sets())
    # the HJ rows carry marks weaker than [V]; the EC RATA/drift/bias rows are [V]
    assert {c.evidence for c in criteria() if c.rule_set == "hj75_2017"} <= {"C", "M"}
    assert {c.evidence for c in criteria() if c.rule_set == "ec_co2" and c.limit_kind != "min_pairs"} == {"V"}


def test_the_flow_monitor_is_named_whatever_the_scatter_of_the_runs() -> None:
    # 50 stacks with independent scatter (0.5 % per run), flow +6 %, CO2 true: the verdict names flow every time,
    # even when the CO2 analyser is flagged by chance (about 1 in 20 by the 95 % t-test)
    named = []
    for seed in range(50):
        rng = np.random.default_rng(100 + seed)
        co2 = _runs("co2", "%", 12.0 + 0.3 * rng.standard_normal(9), 1.0, 0.005, 1000 + seed)
        flow = _runs("flow", "m/s", 15.0 + rng.standard_normal(9), 1.06, 0.005, 2000 + seed)
        named.append(diagnose_stack(co2, flow).suspect)
    assert named.count("flow") == 50
