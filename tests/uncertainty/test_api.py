"""Library API: callable models with dual-number sensitivities, LPU details, measured quantities."""

from __future__ import annotations

import math

import numpy as np
import pytest

from carbonmet.quantities import MeasuredQuantity, Source
from carbonmet.uncertainty import InputSet, Model, ModelError, compare, evaluate, lpu
from carbonmet.uncertainty.distributions import Normal, Rectangular, StudentT
from carbonmet.uncertainty.expression import Dual
from carbonmet.uncertainty.gum import coverage_factor, en_score, welch_satterthwaite, zeta_score


def test_callable_model_sensitivities_equal_expression_model() -> None:
    iset = InputSet()
    iset.add("a", Normal(2.0, 0.1))
    iset.add("b", Rectangular(0.5, 1.5))
    iset.add("c", StudentT(3.0, 0.2, 6))

    def f(a, b, c):  # type: ignore[no-untyped-def]
        return a * np.exp(b) / c + np.sqrt(c) * np.abs(a - 5) + a**2 * np.log(c) - np.sin(b) ** 2

    text = "a * exp(b) / c + sqrt(c) * abs(a - 5) + a**2 * log(c) - sin(b)**2"
    r_f = lpu(Model.from_function(f, iset))
    r_e = lpu(Model.from_expression(text, iset))
    assert r_f.value == pytest.approx(r_e.value, rel=1e-14)
    np.testing.assert_allclose(r_f.sensitivities, r_e.sensitivities, rtol=1e-13)
    assert r_f.u == pytest.approx(r_e.u, rel=1e-13)
    assert r_f.dof == r_e.dof


def test_callable_with_many_inputs_uses_blocks() -> None:
    n = 700
    iset = InputSet()
    for i in range(n):
        iset.add(f"x{i}", Normal(1.0 + i / n, 0.01))

    def f(**x):  # type: ignore[no-untyped-def]
        total = 0.0
        for i in range(n):
            total = total + (i + 1) * x[f"x{i}"] ** 2
        return total

    model = Model.from_function(f, iset)
    r = lpu(model)  # one pass: all 700 directions at once
    xs = np.array([1.0 + i / n for i in range(n)])
    np.testing.assert_allclose(r.sensitivities, 2 * np.arange(1, n + 1) * xs, rtol=1e-13)
    y, g = model.value_and_gradient(xs, block=256)  # three passes of ≤ 256 directions
    assert y == pytest.approx(r.value) and np.array_equal(g, r.sensitivities)


def test_callable_using_math_module_gets_a_clear_error() -> None:
    iset = InputSet()
    iset.add("a", Normal(2.0, 0.1))
    with pytest.raises(ModelError, match="math"):
        lpu(Model.from_function(lambda a: math.exp(a), iset))


def test_dual_numbers() -> None:
    x = Dual(2.0, np.array([1.0, 0.0]))
    y = Dual(3.0, np.array([0.0, 1.0]))
    z = (x * y + x / y - 2**x + y**2.5 - abs(-x)) ** 2
    v = 2 * 3 + 2 / 3 - 4 + 3**2.5 - 2
    dzdx = 2 * v * (3 + 1 / 3 - 4 * math.log(2) - 1)
    dzdy = 2 * v * (2 - 2 / 9 + 2.5 * 3**1.5)
    assert z.v == pytest.approx(v**2)
    np.testing.assert_allclose(z.d, [dzdx, dzdy], rtol=1e-13)
    assert x < y and max(x, y) is y


def test_welch_satterthwaite_and_k() -> None:
    """GUM G.4.1 and table G.2: ν_eff from components; t_95(ν)."""
    nu = welch_satterthwaite(np.array([3.0, 4.0]), np.array([4.0, np.inf]), 5.0)
    assert nu == pytest.approx(5.0**4 / (3.0**4 / 4))
    assert coverage_factor(0.95, 8) == pytest.approx(2.31, abs=0.005)  # GUM table G.2
    assert coverage_factor(0.9545, math.inf) == pytest.approx(2.0, abs=0.001)
    assert coverage_factor(0.99, 16) == pytest.approx(2.92, abs=0.005)
    # JJF 1059.1-2012 §7 reporting example: u_c = 0.35 mg gives U = 0.70 mg (k = 2) or U95 = 0.79 mg (ν_eff = 9)
    assert round(coverage_factor(0.95, 9) * 0.35, 2) == 0.79


def test_budget_rows_and_measured_quantity() -> None:
    iset = InputSet()
    iset.add("AD", Rectangular(99.0, 101.0), unit="t")
    iset.add("EF", Normal(2.5, 0.05), unit="tCO2/t")
    m = Model.from_expression("AD * EF", iset, output="E", unit="tCO2")
    r = lpu(m, k=2.0)
    b = {row.input: row for row in r.budget}
    assert b["AD"].sensitivity == pytest.approx(2.5) and b["EF"].sensitivity == pytest.approx(100.0)
    assert sum(row.variance_share for row in r.budget) == pytest.approx(1.0)
    assert r.U == pytest.approx(2 * r.u) and r.k == 2.0
    mq = r.to_measured_quantity()
    assert isinstance(mq, MeasuredQuantity)
    assert (mq.value, mq.u, mq.unit, mq.name) == (r.value, r.u, "tCO2", "E")
    assert mq.provenance.source is Source.CALCULATED and mq.provenance.inputs == ("AD", "EF")
    ev = evaluate(m, trials=20_000, seed=1)
    assert ev.mcm is not None
    mq2 = ev.mcm.to_measured_quantity()
    assert mq2.u == pytest.approx(r.u, rel=0.05)
    d = ev.to_dict()
    assert set(d) >= {"lpu", "mcm", "validation", "budget"}


def test_correlated_lpu_matches_gum_5_2_2() -> None:
    """GUM §5.2.2 / F.1.2.3: y = x1 + x2 with r = 1 gives u = u1 + u2; r = −1 gives |u1 − u2|."""
    for r, expected in ((1.0, 0.5), (-1.0, 0.1), (0.0, math.sqrt(0.2**2 + 0.3**2))):
        iset = InputSet()
        iset.add("x1", Normal(1.0, 0.2))
        iset.add("x2", Normal(2.0, 0.3))
        if r:
            iset.correlate("x1", "x2", r)
        assert lpu(Model.from_expression("x1 + x2", iset)).u == pytest.approx(expected)


def test_en_and_zeta_scores() -> None:
    """ISO 13528 §9.6–9.7: E_n with expanded, ζ with standard uncertainties."""
    assert en_score(10.5, 0.3, 10.0, 0.4) == pytest.approx(0.5 / 0.5)
    assert zeta_score(10.5, 0.15, 10.0, 0.2) == pytest.approx(2.0)
    a = MeasuredQuantity(10.5, "t", u=0.15)
    b = MeasuredQuantity(10.0, "t", u=0.2)
    c = compare(a, b, k=2)
    assert c.en == pytest.approx(1.0) and c.en_satisfactory
    assert c.zeta == pytest.approx(2.0) and c.zeta_verdict == "satisfactory"
    assert compare(MeasuredQuantity(11.0, "t", u=0.15), b).zeta_verdict == "action"


def test_shared_input_must_be_the_same_quantity() -> None:
    i1, i2 = InputSet(), InputSet()
    i1.add("F", Normal(1.0, 0.1))
    i2.add("F", Normal(1.0, 0.2))
    a = lpu(Model.from_expression("2*F", i1))
    b = lpu(Model.from_expression("3*F", i2))
    with pytest.raises(ValueError, match="shared inputs must be the same quantity"):
        compare(a, b)


def test_input_set_errors() -> None:
    iset = InputSet()
    iset.add("x", Normal(0, 1))
    with pytest.raises(ModelError, match="defined twice"):
        iset.add("x", Normal(0, 1))
    with pytest.raises(ModelError, match="not a valid identifier"):
        iset.add("a b", Normal(0, 1))
    with pytest.raises(ModelError, match="unknown input 'y'"):
        iset.correlate("x", "y", 0.5)
    iset.add("y", Normal(0, 1))
    with pytest.raises(ModelError, match=r"\[-1, 1\]"):
        iset.correlate("x", "y", 1.5)


def test_compare_counts_correlation_between_inputs_of_different_models() -> None:
    """Review finding 1: r(w_cems, C_gas) links an input of one model to an input of the other.

    u(d) of compare() must equal the LPU of the difference model d = E_cems − E_calc over the
    same InputSet (GUM §5.2.2 applied to f_a − f_b).
    """
    for r in (0.2, 0.9, -0.5):
        inputs = InputSet()
        inputs.add("F", Rectangular(5.2e6 - 2.6e4, 5.2e6 + 2.6e4))
        inputs.add("w_cems", Normal(1.962e-3, 0.020e-3))
        inputs.add("C_gas", Normal(0.536e-3, 0.004e-3))
        inputs.correlate("w_cems", "C_gas", r)
        cems = Model.from_expression("F * w_cems", inputs, output="E_cems")
        calc = Model.from_expression("F * C_gas * 44 / 12", inputs, output="E_calc")
        diff = lpu(Model.from_expression("F * w_cems - F * C_gas * 44 / 12", inputs))
        c = compare(lpu(cems), lpu(calc))
        assert c.u_difference == pytest.approx(diff.u, rel=1e-9)
        assert c.zeta == pytest.approx(diff.value / diff.u, rel=1e-9)


def test_compare_refuses_to_drop_the_covariance_of_shared_inputs_it_cannot_compute() -> None:
    """Review finding 5: LPU of X0+X1 vs MCM of X0+X1+0.1·X2 share X0, X1: true u(d) = 0.1, not 2.0."""
    from carbonmet.uncertainty import UncertaintyError, mcm

    iset = InputSet()
    for i in range(3):
        iset.add(f"X{i}", Normal(0.0, 1.0))
    a = lpu(Model.from_expression("X0 + X1", iset))
    b_model = Model.from_expression("X0 + X1 + 0.1*X2", iset)
    b = mcm(b_model, 20_000, seed=1)
    with pytest.raises(UncertaintyError, match=r"share or correlate inputs \(X0, X1\)"):
        compare(a, b)
    with pytest.raises(UncertaintyError, match="shared=False"):
        compare(a.to_measured_quantity(), lpu(b_model).to_measured_quantity())
    # correlated (not shared) inputs of one InputSet are caught too
    iset.add("Y", Normal(0.0, 1.0))
    iset.correlate("X2", "Y", 0.5)
    with pytest.raises(UncertaintyError, match=r"r\(X2, Y\)"):
        compare(
            mcm(Model.from_expression("2*Y", iset), 20_000, seed=1),
            mcm(Model.from_expression("X2", iset), 20_000, seed=1),
        )
    # the LPU pair gives the exact answer, and shared=False is the caller's explicit statement
    assert compare(a, lpu(b_model)).u_difference == pytest.approx(0.1)
    assert compare(a, b, shared=False).covariance == 0.0


@pytest.mark.parametrize("expr", ["abs(x)", "abs(x - 1) + x", "sqrt(x**2)"])
def test_abs_at_its_kink_is_refused_like_sqrt_at_zero(expr: str) -> None:
    """Review finding 4: |x| has no derivative at 0; u_c = 0 was reported silently for x ~ N(0, 1)."""
    from carbonmet.uncertainty import EvaluationError

    iset = InputSet()
    iset.add("x", Normal(0.0 if "1" not in expr else 1.0, 1.0))
    with pytest.raises(EvaluationError, match="not differentiable there; use the Monte Carlo method"):
        lpu(Model.from_expression(expr, iset))
    with pytest.raises(EvaluationError, match="not differentiable"):
        lpu(Model.from_function(lambda x: np.abs(x - iset["x"].distribution.mean), iset, names=["x"]))
    with pytest.raises(EvaluationError, match="not differentiable"):
        lpu(Model.from_function(lambda x: abs(x - iset["x"].distribution.mean), iset, names=["x"]))


@pytest.mark.parametrize(("expr", "mean"), [("x**2", 0.0), ("(x - 1)**3", 1.0), ("2*x + y**2", 0.0)])
def test_zero_sensitivity_of_an_uncertain_input_is_noted(expr: str, mean: float) -> None:
    """Review finding 4: a stationary point drops the input from u_c (GUM §5.1.2 note) — say so."""
    iset = InputSet()
    iset.add("x", Normal(mean, 1.0))
    iset.add("y", Normal(0.0, 1.0))
    r = lpu(Model.from_expression(expr, iset))
    zero = [n for n, c in zip(r.inputs, r.sensitivities, strict=True) if c == 0.0]
    assert zero and any("is zero at the estimates" in n and "Monte Carlo" in n for n in r.notes)
    assert all(z in r.notes[-1] for z in zero)
    iset2 = InputSet()
    iset2.add("x", Normal(1.0, 1.0))
    assert lpu(Model.from_expression("x**2", iset2)).notes == []


def test_function_models_use_ieee_arithmetic_and_fail_with_evaluation_errors() -> None:
    """Review finding 6: dual numbers raised ZeroDivisionError/TypeError/ValueError from Python floats."""
    from carbonmet.uncertainty import EvaluationError
    from carbonmet.uncertainty.distributions import Constant

    def at(mean: float) -> InputSet:
        iset = InputSet()
        iset.add("x", Normal(mean, 0.1))
        return iset

    cases = [
        (lambda x: np.sqrt(x), at(0.0), "not differentiable"),
        (lambda x: x**0.5, at(0.0), "not differentiable"),
        (lambda x: x**0.5, at(-1.0), "not finite at the input estimates"),
        (lambda x: 1.0 / x, at(0.0), "not finite at the input estimates"),
        (lambda x: np.log(x), at(0.0), "not finite at the input estimates"),
        (lambda x: 2.0**x * np.log(x), at(0.0), "not finite at the input estimates"),
    ]
    for f, iset, msg in cases:
        with pytest.raises(EvaluationError, match=msg):
            lpu(Model.from_function(f, iset, names=["x"]))
    # 0**y ≡ 0 for y > 0: ∂/∂y = 0, not 0·log 0 = NaN (expression and callable alike)
    iset = InputSet()
    iset.add("x", Constant(0.0))
    iset.add("y", Normal(2.0, 0.1))
    for m in (Model.from_expression("x**y", iset), Model.from_function(lambda x, y: x**y, iset)):
        r = lpu(m)
        assert r.value == 0.0 and r.u == 0.0
    iset.add("b", Normal(0.0, 0.1))
    assert lpu(Model.from_function(lambda b, y: b**y + 3 * b, iset)).u == pytest.approx(0.3)
    assert lpu(Model.from_expression("b**y + 3*b", iset)).u == pytest.approx(0.3)
    # a constant base 0 raised to an uncertain exponent through __rpow__
    assert lpu(Model.from_function(lambda y: 0.0**y, iset)).u == 0.0
