"""The measured-quantity type."""

import math
from datetime import datetime

import pytest

from carbonmet.quantities import (
    Evidence,
    MeasuredQuantity,
    Provenance,
    QuantityError,
    Source,
    UnitError,
    from_expanded,
    from_mpe,
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
