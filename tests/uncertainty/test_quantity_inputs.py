"""Measured quantities as model inputs: distribution from u and shape, provenance kept to the budget."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from carbonmet.quantities import (
    CO2_PER_C,
    MeasuredQuantity,
    Provenance,
    Shape,
    Source,
    from_certificate,
    from_expanded,
    from_mpe,
    from_type_a,
)
from carbonmet.uncertainty import InputSet, Model, ModelError, evaluate, lpu
from carbonmet.uncertainty.distributions import (
    Constant,
    Normal,
    Rectangular,
    StudentT,
    Triangular,
    distribution_from_u,
)

BELT = Provenance(
    instruments=("BS-01",),
    certificates=("JD2024-0311",),
    period=(datetime(2024, 1, 1), datetime(2025, 1, 1)),
    method="sum of daily belt-scale totals",
)


def test_shapes_follow_the_quantity() -> None:
    """Rectangular: half-width √3·u (GUM §4.3.7); normal: u = U/k; t: ν = n − 1 (JCGM 101 §6.4.9)."""
    iset = InputSet()
    fc = iset.add_quantity("FC", from_mpe(120_000.0, "t", mpe=600.0, provenance=BELT))
    assert isinstance(fc.distribution, Rectangular)
    assert fc.distribution.u == pytest.approx(600.0 / math.sqrt(3))
    assert fc.distribution.mean == pytest.approx(120_000.0)
    assert (fc.distribution.low, fc.distribution.high) == pytest.approx((119_400.0, 120_600.0))
    assert fc.unit == "t" and fc.provenance == BELT
    assert "BS-01" in fc.description and "JD2024-0311" in fc.description

    car = iset.add_quantity("C_ar", from_type_a([0.5361, 0.5342, 0.5378, 0.5355], "tC/t"))
    assert isinstance(car.distribution, StudentT) and car.distribution.dof == 3

    cal = iset.add_quantity(
        "d_an", from_certificate(0.0, "tC/t", kind="calibration", expanded_u=0.004, coverage_factor=2)
    )
    assert isinstance(cal.distribution, Normal) and cal.distribution.u == pytest.approx(0.002)


def test_default_shape_without_a_recorded_one() -> None:
    iset = InputSet()
    plain = iset.add_quantity("x", MeasuredQuantity(5.0, "t", u=0.1))
    assert isinstance(plain.distribution, Normal) and plain.distribution.u == pytest.approx(0.1)
    with_dof = iset.add_quantity("y", MeasuredQuantity(5.0, "t", u=0.1, dof=8))
    assert isinstance(with_dof.distribution, StudentT) and with_dof.distribution.dof == 8
    forced = iset.add_quantity("z", MeasuredQuantity(5.0, "t", u=0.1, dof=8), shape="normal")
    assert isinstance(forced.distribution, Normal) and forced.distribution.dof == 8
    tri = iset.add_quantity("w", from_expanded(5.0, "t", U=0.2), shape=Shape.TRIANGULAR)
    assert isinstance(tri.distribution, Triangular) and tri.distribution.u == pytest.approx(0.1)
    exact = iset.add_quantity("c", MeasuredQuantity(44.0, "g/mol", u=0.0))
    assert isinstance(exact.distribution, Constant)


def test_nan_u_is_an_error_that_says_so() -> None:
    missing = from_certificate(1.0, "t", kind="verification", name="belt")
    with pytest.raises(ModelError, match=r"input 'FC' \(quantity 'belt'\).*not evaluated \(nan\).*no MPE"):
        InputSet().add_quantity("FC", missing)
    with pytest.raises(ModelError, match="not a valid identifier"):
        InputSet().add_quantity("1x", MeasuredQuantity(1.0, "t", u=0.1))
    with pytest.raises(ModelError, match="expected a MeasuredQuantity"):
        InputSet().add_quantity("x", 1.0)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="input 'x'.*shape 'gamma'"):
        InputSet().add_quantity("x", MeasuredQuantity(1.0, "t", u=0.1), shape="gamma")
    iset = InputSet()
    iset.add_quantity("x", MeasuredQuantity(1.0, "t", u=0.1))
    with pytest.raises(ModelError, match="defined twice"):
        iset.add_quantity("x", MeasuredQuantity(1.0, "t", u=0.1))


def test_provenance_reaches_budget_and_result() -> None:
    iset = InputSet()
    iset.add_quantity("FC", from_mpe(120_000.0, "t", mpe=600.0, provenance=BELT))
    iset.add_quantity("C_ar", from_type_a([0.5361, 0.5342, 0.5378, 0.5355], "tC/t"))
    an = Provenance(instruments=("AN-7",), certificates=("JL2024-0099",))
    iset.add_quantity("d_an", from_certificate(0.0, "tC/t", kind="检定", mpe=0.002, provenance=an))
    model = Model.from_expression("FC * (C_ar + d_an)", iset, output="E_C", unit="tC")
    r = lpu(model)
    rows = {b.input: b for b in r.budget}
    assert rows["FC"].provenance == BELT and rows["d_an"].provenance == an
    assert rows["C_ar"].provenance == Provenance()
    assert rows["FC"].to_dict()["provenance"]["instruments"] == ["BS-01"]
    q = r.to_measured_quantity()
    assert q.provenance.source is Source.CALCULATED
    assert q.provenance.instruments == ("BS-01", "AN-7")
    assert q.provenance.certificates == ("JD2024-0311", "JL2024-0099")
    # the MCM samples the t of C_ar (ν = 3), whose standard deviation is u·√(ν/(ν − 2)) (JCGM 101
    # §6.4.9.4), so its u(y) exceeds the LPU's: first-order propagation with that std instead of u
    ev = evaluate(model, trials=200_000, seed=3)
    fc, car, dan = (iset[n].distribution for n in ("FC", "C_ar", "d_an"))
    c_sum = car.mean + dan.mean
    u_mcm = math.hypot(c_sum * fc.u, fc.mean * car.u * math.sqrt(3.0), fc.mean * dan.u)
    assert ev.mcm is not None and ev.mcm.u == pytest.approx(u_mcm, rel=0.02)
    assert ev.mcm.u > r.u * 1.05


def test_from_mapping_accepts_quantities() -> None:
    iset = InputSet.from_mapping({"a": from_mpe(2.0, "t", mpe=0.1, provenance=BELT), "b": Normal(1.0, 0.1)})
    assert iset["a"].provenance == BELT and isinstance(iset["a"].distribution, Rectangular)
    again = InputSet.from_mapping(dict(iset.inputs))
    assert again["a"].provenance == BELT


@pytest.mark.parametrize(
    ("shape", "kind"),
    [("normal", "normal"), ("rectangular", "rectangular"), ("triangular", "triangular"), ("t", "t")],
)
def test_distribution_from_u_keeps_u(shape: str, kind: str) -> None:
    d = distribution_from_u(3.0, 0.25, shape, dof=12)
    assert d.kind == kind and d.u == pytest.approx(0.25) and d.mean == pytest.approx(3.0)


# --- units checked once with pint ---------------------------------------------------------------------


def _carbon_inputs() -> InputSet:
    iset = InputSet()
    iset.add_quantity("AD", from_mpe(1.0e5, "t", mpe=2.0e3))
    iset.add_quantity("NCV", from_expanded(20.9, "GJ/t", U=0.4))
    iset.add_quantity("CC", from_type_a([0.0260, 0.0262, 0.0259, 0.0263], "tC/GJ"))
    iset.add_quantity("OF", MeasuredQuantity(0.98, "1", u=0.01))
    return iset


def test_carbon_becomes_co2_only_through_the_constant() -> None:
    """tC and tCO2 are different dimensions: 44/12 leaves tC as tC, CO2_PER_C (tCO2/tC) converts."""
    iset = _carbon_inputs()
    m = Model.from_expression(
        "AD * NCV * CC * OF * CO2_PER_C", iset, output="E", unit="tCO2", check_units=True
    )
    assert lpu(m).value == pytest.approx(1.0e5 * 20.9 * 0.0261 * 0.98 * CO2_PER_C, rel=1e-3)
    with pytest.raises(
        ModelError, match=r"gives .*carbon_mass.* output unit is .*co2_mass.*only through the constant"
    ):
        Model.from_expression(
            "AD * NCV * CC * OF * 44 / 12", iset, output="E2", unit="tCO2", check_units=True
        )
    # the default for inputs that all have units (check_units=None) checks as well
    with pytest.raises(ModelError, match="CO2_PER_C"):
        Model.from_expression(
            "AD * NCV * CC * OF * 44 / 12", iset, output="E3", unit="tCO2", check_units=None
        )
    Model.from_expression("AD * NCV * CC * OF * 44 / 12", iset, output="E4", unit="tC", check_units=None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AD + NCV", r"term 'NCV' \(position 5\) is GJ / t \[\[length\] \*\* 2 / \[time\] \*\* 2\]"),
        ("exp(AD) * CC", r"exp\(\) of 'AD' \(position 4\).*dimensionless argument"),
        ("AD ** OF * CC", "variable power"),
        ("AD * NCV * CC * NCV ** OF", "variable power"),
    ],
)
def test_unit_errors_name_the_term(text: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        Model.from_expression(text, _carbon_inputs(), output="E", unit="tC", check_units=True)


def test_units_that_work_out() -> None:
    iset = _carbon_inputs()
    iset.add("dp", Normal(4.0, 0.1), unit="kPa")
    iset.add("K", Normal(2.0, 0.01), unit="t/h/kPa**0.5")
    Model.from_expression("K * sqrt(dp) * 3", iset, output="q", unit="t/h", check_units=True)
    Model.from_expression(
        "AD * NCV ** 1 * CC * (1 + OF / 100)", iset, output="E", unit="kgC", check_units=True
    )
    with pytest.raises(ModelError, match="input 'x' has no unit"):
        iset.add("x", Normal(1.0, 0.1))
        Model.from_expression("AD * CC * NCV * x", iset, output="E", unit="tC", check_units=True)
    # without units on every input (and check_units=None) nothing is checked
    Model.from_expression("AD * x", iset, output="E", unit="tC", check_units=None)
