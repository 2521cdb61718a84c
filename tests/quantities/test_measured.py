"""The measured-quantity type."""

import math
from datetime import datetime

import pytest

from carbonmet.quantities import (
    CertificateKind,
    Evidence,
    MeasuredQuantity,
    Provenance,
    QuantityError,
    Shape,
    Source,
    UnitError,
    from_certificate,
    from_expanded,
    from_mpe,
    from_type_a,
    mpe_standard_uncertainty,
)


def test_conversion_carries_uncertainty() -> None:
    q = MeasuredQuantity(1234.5, "t", u=6.0, name="coal")
    kg = q.to("kg")
    assert kg.value == pytest.approx(1.2345e6)
    assert kg.u == pytest.approx(6000.0)
    assert kg.relative_u == pytest.approx(q.relative_u)


def test_uncertainty_of_temperature_not_offset() -> None:
    q = MeasuredQuantity(25.0, "degC", u=0.2).to("K")
    assert q.value == pytest.approx(298.15)
    assert q.u == pytest.approx(0.2)


def test_certificate_shorthands() -> None:
    assert from_expanded(10.0, "t", U=0.2, k=2).u == pytest.approx(0.1)
    assert from_mpe(100.0, "t", mpe=0.5).u == pytest.approx(0.5 / math.sqrt(3))
    with pytest.raises(QuantityError):
        from_expanded(1.0, "t", U=0.1, k=0)


def test_invalid_parts_rejected() -> None:
    with pytest.raises(QuantityError, match="negative"):
        MeasuredQuantity(1.0, "t", u=-1.0)
    with pytest.raises(UnitError):
        MeasuredQuantity(1.0, "bogus_unit")


def test_not_evaluated_is_nan_not_zero() -> None:
    q = MeasuredQuantity(5.0, "GJ")
    assert math.isnan(q.u)
    assert "not evaluated" in str(q)


def test_dict_round_trip() -> None:
    prov = Provenance(
        source=Source.DEFAULT,
        period=(datetime(2025, 1, 1), datetime(2026, 1, 1)),
        reference="NDRC 2013 化工指南 附录二",
        evidence=Evidence.CORROBORATED,
        instruments=("BS-001",),
        certificates=("JD2025-001",),
    )
    q = MeasuredQuantity(23.204, "GJ/t", u=0.3, dof=12, provenance=prov, name="NCV_bituminous")
    assert MeasuredQuantity.from_dict(q.to_dict()) == q


def test_from_certificate_calibration_is_normal_u_over_k() -> None:
    """校准: u = U/k (JJF 1059.1-2012 §4.3.3.2), normal, the certificate's dof kept."""
    prov = Provenance(instruments=("FT-101",), certificates=("JL2024-0117",))
    q = from_certificate(
        5.2e6, "m3", kind="calibration", expanded_u=2.6e4, coverage_factor=2.0, dof=50, provenance=prov
    )
    assert q.u == pytest.approx(1.3e4) and q.shape is Shape.NORMAL and q.dof == 50
    assert q.provenance.certificates == ("JL2024-0117",) and q.provenance.note == ""
    rel = from_certificate(200.0, "t", kind="校准", expanded_u=0.5, coverage_factor=2.0, relative=True)
    assert rel.u == pytest.approx(200.0 * 0.005 / 2.0)


def test_from_certificate_verification_uses_the_mpe_rule() -> None:
    """检定: rectangular, u = MPE/√3 through mpe_standard_uncertainty (JJF 1059.1-2012 §4.3.3.4)."""
    q = from_certificate(1000.0, "t", kind="verification", mpe=0.5, relative=True)
    assert q.u == pytest.approx(mpe_standard_uncertainty(0.5) * 1000.0 / 100.0)
    assert q.shape is Shape.RECTANGULAR and math.isinf(q.dof)
    assert from_certificate(3.0, "t", kind=CertificateKind.VERIFICATION, mpe=0.3).u == pytest.approx(
        0.3 / math.sqrt(3)
    )


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({"kind": "calibration", "coverage_factor": 2.0}, "expanded uncertainty U"),
        ({"kind": "calibration", "expanded_u": 0.2}, "coverage factor k"),
        ({"kind": "检定"}, "no MPE"),
        ({"kind": "verification", "mpe": math.nan}, "no MPE"),
    ],
)
def test_from_certificate_missing_figure_is_nan_with_a_note(kwargs: dict, missing: str) -> None:
    q = from_certificate(10.0, "t", provenance=Provenance(note="period 2024"), **kwargs)
    assert math.isnan(q.u)
    assert missing in q.provenance.note and q.provenance.note.startswith("period 2024; ")
    assert "u not evaluated" in str(q)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "test report"}, "kind must be 'calibration'"),
        ({"kind": "calibration", "expanded_u": 0.2, "coverage_factor": 0.0}, "coverage factor must be > 0"),
        ({"kind": "calibration", "expanded_u": -0.2, "coverage_factor": 2.0}, "must be ≥ 0"),
        ({"kind": "verification", "mpe": -1.0}, "MPE must be finite"),
    ],
)
def test_from_certificate_rejects_bad_figures(kwargs: dict, message: str) -> None:
    with pytest.raises(QuantityError, match=message):
        from_certificate(10.0, "t", name="d_an", **kwargs)


def test_shape_recorded_and_serialised() -> None:
    assert from_mpe(1.0, "t", mpe=0.1).shape is Shape.RECTANGULAR
    assert from_expanded(1.0, "t", U=0.1).shape is Shape.NORMAL
    assert MeasuredQuantity(1.0, "t", u=0.1).shape is None
    q = MeasuredQuantity(1.0, "t", u=0.1, shape="triangular")  # type: ignore[arg-type]
    assert q.shape is Shape.TRIANGULAR
    assert MeasuredQuantity.from_dict(q.to_dict()) == q
    assert "shape" not in MeasuredQuantity(1.0, "t", u=0.1).to_dict()
    with pytest.raises(QuantityError, match="unknown distribution shape 'gamma'"):
        MeasuredQuantity(1.0, "t", u=0.1, shape="gamma")  # type: ignore[arg-type]


def test_from_type_a_mean_of_lab_samples() -> None:
    """A 类评定: x̄, s/√n, ν = n − 1 (GUM §4.2.3)."""
    xs = [0.5361, 0.5342, 0.5378, 0.5355]
    q = from_type_a(xs, "tC/t", name="C_ar")
    mean = sum(xs) / 4
    s = math.sqrt(sum((x - mean) ** 2 for x in xs) / 3)
    assert q.value == pytest.approx(mean) and q.u == pytest.approx(s / 2) and q.dof == 3
    assert q.shape is Shape.T
    with pytest.raises(QuantityError, match="C_ar: needs at least 2 values"):
        from_type_a([1.0], "t", name="C_ar")
    with pytest.raises(QuantityError, match="value #2 is not finite"):
        from_type_a([1.0, math.nan], "t")
