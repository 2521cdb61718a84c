"""Measured factors (实测) and one product's factor across regions, judged by E_n against the combined uncertainty."""

from __future__ import annotations

import math
from datetime import datetime

import pytest
from sqlalchemy import Engine

from carbonmet.db import session_scope
from carbonmet.factors import (
    Distribution,
    FactorError,
    FactorRecord,
    compare_regions,
    find,
    measured_factor,
    save_factors,
)
from carbonmet.factors.database import compare_factors
from carbonmet.quantities import MeasuredQuantity, Provenance, Shape, Source

REGIONS = ["north_china", "northwest", "east_china"]


def _electricity(value: float, unit: str = "tCO2/MWh", flow_unit: str = "MWh", u: float | None = None,
                 **kw: str) -> FactorRecord:
    """A literature electricity factor of region x (2022), with a normal uncertainty ``u`` when given."""
    fields: dict[str, object] = {"region": "x", "basis": "literature", "source": "s", "evidence": "C", **kw}
    if u is not None:
        fields["distribution"] = Distribution(shape="normal", u=u)
    return FactorRecord(product="electricity", year=2022, gas="CO2", value=value, unit=unit, flow_unit=flow_unit,
                        **fields)


def _measured(value: float = 0.62, u: float = 0.02) -> FactorRecord:
    q = MeasuredQuantity(
        value=value,
        unit="tCO2/MWh",
        u=u,
        name="E01 captive plant EF",
        provenance=Provenance(
            source=Source.MEASURED,
            instruments=("FM-01", "WM-02"),
            certificates=("C-2024-17",),
            method="coal and power metering",
            period=(datetime(2022, 1, 1), datetime(2023, 1, 1)),
        ),
    )
    return measured_factor(q, product="electricity", region="E01", year=2022, flow_unit="MWh", owner="E01")


def test_a_measured_factor_keeps_its_uncertainty_and_provenance() -> None:
    m = _measured()
    assert m.basis == "measured" and m.evidence == "D" and m.owner == "E01"
    assert m.u == 0.02 and m.distribution.shape == "normal"
    assert "FM-01" in m.source and "C-2024-17" in m.source and "2022-01-01" in m.source
    rect = MeasuredQuantity(value=2.8, unit="tCO2/t", u=0.1, shape=Shape.RECTANGULAR)
    r = measured_factor(rect, product="methanol", region="E01", year=2025, flow_unit="t")
    assert r.distribution.shape == "uniform" and r.u == pytest.approx(0.1)


def test_a_measured_factor_without_uncertainty_or_with_a_foreign_unit_is_refused() -> None:
    with pytest.raises(FactorError, match="uncertainty is not evaluated"):
        measured_factor(
            MeasuredQuantity(value=2.8, unit="tCO2/t"),
            product="methanol",
            region="E01",
            year=2025,
            flow_unit="t",
        )
    with pytest.raises(FactorError, match="does not fit"):
        measured_factor(
            MeasuredQuantity(value=2.8, unit="tCO2/t", u=0.1),
            product="methanol",
            region="E01",
            year=2025,
            flow_unit="MWh",
        )


def test_three_regions_against_the_measured_value_by_hand() -> None:
    cmp = compare_regions(None, "electricity", REGIONS, measured=_measured(), technology="statistical")
    assert [f.region for f in cmp.factors] == REGIONS and cmp.unit == "tCO2 / MWh" and cmp.k == 2.0
    # north China 0.6776 with u = 3 % (rectangular class, u_rel 0.03) = 0.020328; measured 0.62 ± 0.02.
    # U = 2·√(0.020328² + 0.02²) = 0.057034; E_n = (0.6776 − 0.62)/0.057034 = 1.0099 → |E_n| > 1.
    d = cmp.versus_measured[0]
    assert d.difference == pytest.approx(0.0576)
    assert d.U_combined == pytest.approx(2 * math.hypot(0.6776 * 0.03, 0.02))
    assert d.en == pytest.approx(0.0576 / (2 * math.hypot(0.6776 * 0.03, 0.02)))
    assert d.en == pytest.approx(1.0099, abs=1e-4) and d.satisfactory is False
    # northwest 0.5857: E_n = −0.0343/(2·√(0.017571² + 0.02²)) = −0.6441 → satisfactory
    assert (
        cmp.versus_measured[1].en == pytest.approx(-0.6441, abs=1e-4) and cmp.versus_measured[1].satisfactory
    )
    assert len(cmp.between_regions) == 3  # every pair once
    nw_ec = cmp.between_regions[2]
    assert nw_ec.en == pytest.approx((0.5857 - 0.5617) / (2 * math.hypot(0.5857 * 0.03, 0.5617 * 0.03)))
    assert cmp.to_dict()["versus_measured"][0]["satisfactory"] is False


def test_units_are_converted_before_judging() -> None:
    kwh = _electricity(620.0, "gCO2/kWh", "kWh", u=20.0)
    cmp = compare_factors([kwh], _measured())
    assert cmp.versus_measured[0].difference == pytest.approx(0.0, abs=1e-12)
    assert cmp.versus_measured[0].en == pytest.approx(0.0, abs=1e-12)


def test_a_factor_without_uncertainty_is_reported_not_judged() -> None:
    bare = _electricity(0.6, evidence="?")
    d = compare_factors([bare], _measured()).versus_measured[0]
    assert d.en is None and d.satisfactory is None and "no numeric uncertainty" in d.reason


def test_factors_of_other_products_or_incompatible_units_are_refused() -> None:
    meoh = find(product="methanol", technology="natural_gas_smr")
    with pytest.raises(FactorError, match="different products"):
        compare_factors(meoh, _measured())
    co2 = find(product="methanol", technology="end_of_life_combustion")
    with pytest.raises(FactorError, match="cannot be compared"):
        compare_factors(meoh + co2)  # kgCO2e/kg against kgCO2/kg


def test_a_region_without_a_factor_or_with_several_is_named() -> None:
    with pytest.raises(FactorError, match="no electricity factor for region 'atlantis'"):
        compare_regions(None, "electricity", ["north_china", "atlantis"])
    with pytest.raises(FactorError, match="choose one"):
        compare_regions(None, "methanol", ["CN"])


def test_a_stored_regional_factor_joins_the_comparison(engine: Engine) -> None:
    new = _electricity(0.70, u=0.021, technology="statistical", region="ningxia", basis="default", source="a notice")
    with session_scope(engine) as s:
        save_factors(s, [new], actor="t")
    with session_scope(engine) as s:
        cmp = compare_regions(
            s, "electricity", [*REGIONS, "ningxia"], measured=_measured(), technology="statistical"
        )
    assert [f.store for f in cmp.factors] == ["packaged", "packaged", "packaged", "db"]
    assert cmp.versus_measured[3].en == pytest.approx(0.08 / (2 * math.hypot(0.021, 0.02)))
