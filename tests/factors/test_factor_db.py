"""The factor database: records, append-only audited versions, one query API over stored and packaged factors.

Every database test runs on SQLite and PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, func, select, text

from carbonmet.db import AuditEntry, reconcile, session_scope, verify
from carbonmet.factors import (
    Distribution,
    FactorError,
    FactorRecord,
    data_version,
    default_profile,
    find,
    get_factor,
    save_factors,
)
from carbonmet.factors.database import packaged_factors


def _rec(**kw: object) -> FactorRecord:
    base: dict[str, object] = {
        "product": "methanol",
        "region": "shaanxi",
        "year": 2024,
        "gas": "CO2e",
        "gwp_set": "AR5",
        "value": 3.1,
        "unit": "kgCO2e/kg",
        "flow_unit": "kg",
        "basis": "literature",
        "source": "a study",
        "evidence": "C",
        "distribution": Distribution(shape="lognormal", sigma=0.1),
    }
    base.update(kw)
    return FactorRecord(**base)  # type: ignore[arg-type]


def _audit_count(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


# --- records -----------------------------------------------------------------------------------------------------
def test_a_unit_that_does_not_fit_the_flow_is_refused_naming_both() -> None:
    with pytest.raises(ValidationError, match=r"unit 'tCO2/MWh' does not fit the flow.*per t"):
        _rec(gas="CO2", gwp_set="", unit="tCO2/MWh", flow_unit="t")
    with pytest.raises(ValidationError, match="does not fit"):
        _rec(unit="tC/t", flow_unit="t")  # carbon mass is not CO2e mass
    assert _rec(gas="CH4", gwp_set="", unit="kg/t", flow_unit="t").unit == "kg/t"  # CH4: a plain mass
    assert _rec(gas="CO2", gwp_set="", unit="kgCO2/kWh", flow_unit="MWh").u > 0  # same kind, other units


def test_co2e_needs_its_gwp_set_and_a_single_gas_must_not_have_one() -> None:
    with pytest.raises(ValidationError, match="gwp_set"):
        _rec(gwp_set="")
    with pytest.raises(ValidationError, match="gwp_set"):
        _rec(gas="CO2", unit="kgCO2/kg")


def test_a_measured_factor_needs_its_uncertainty_and_a_negative_pedigree_is_refused() -> None:
    with pytest.raises(ValidationError, match="measured factor needs its uncertainty"):
        _rec(basis="measured", distribution=Distribution())
    with pytest.raises(ValidationError, match="out of range"):
        _rec(pedigree=(2, -1, 1, 1, 1), basic_variance=0.0006)
    with pytest.raises(ValidationError, match="sigma must be ≥ 0"):
        Distribution(shape="lognormal", sigma=-0.1)


def test_the_standard_uncertainty_of_each_shape() -> None:
    assert _rec().u == pytest.approx(3.1 * math.sqrt(math.expm1(0.01)))  # lognormal: value·√(e^{σ²} − 1)
    assert _rec(distribution=Distribution(shape="normal", u=0.2)).u == 0.2
    assert _rec(distribution=Distribution(shape="uniform", minimum=2.9, maximum=3.3)).u == pytest.approx(
        0.4 / math.sqrt(12)
    )
    tri = Distribution(shape="triangular", minimum=2.6, mode=3.2, maximum=3.8)
    assert _rec(distribution=tri).u == pytest.approx(
        math.sqrt((2.6**2 + 3.2**2 + 3.8**2 - 2.6 * 3.2 - 2.6 * 3.8 - 3.2 * 3.8) / 18)
    )
    assert math.isnan(_rec(distribution=Distribution()).u)  # never a silent zero


def test_a_record_becomes_a_measured_quantity_with_its_provenance() -> None:
    q = _rec(pedigree="(2;3;1;2;5)", basic_variance=0.0006, evidence="M").quantity()
    assert q.unit == "kgCO2e/kg" and q.u > 0 and "pedigree (2;3;1;2;5)" in q.provenance.note
    assert "evidence [M]" in q.provenance.note


# --- the packaged defaults through the same API ------------------------------------------------------------------
def test_the_packaged_defaults_are_queryable_as_read_only_records() -> None:
    coal = find(product="bituminous_coal")
    assert len(coal) == 1 and coal[0].store == "packaged" and coal[0].data_version == data_version()
    assert coal[0].value == pytest.approx(default_profile().fuel("bituminous_coal").emission_factor()[0])
    assert coal[0].source.startswith("GB/T 32151.10-2023") and coal[0].region == "CN"
    grid = find(product="electricity", year=2022, technology="statistical")
    assert len({r.region for r in grid}) >= 7  # one product across ≥ 3 regions
    north = next(r for r in grid if r.region == "north_china")
    assert north.value == pytest.approx(0.6776) and north.unit == "tCO2/MWh" and north.evidence == "V"
    assert north.u == pytest.approx(0.6776 * 0.03)  # the documented grid class uncertainty, rectangular
    assert all(r.store == "packaged" for r in packaged_factors())
    with pytest.raises(FactorError, match="packaged"):
        save_factors(None, [coal[0]], actor="t")  # type: ignore[arg-type]


def test_the_seed_methanol_factors_carry_source_and_mark() -> None:
    meoh = {r.technology: r for r in find(product="methanol")}
    li = meoh["coal_to_methanol_lng_coproduction"]
    assert li.value == 2.63 and li.evidence == "V" and "10.3390/su16093573" in li.source
    assert li.pedigree == (2, 3, 2, 2, 3) and li.basic_variance == pytest.approx((math.log(1.05) / 2) ** 2)
    # (2;3;2;2;3) in ecoinvent v3: 0.0006 + 0.0006 + 0.0002 + 0.000025 + 0.008 = 0.009425, plus the basic variance
    assert li.distribution.sigma == pytest.approx(math.sqrt(li.basic_variance + 0.009425))
    assert meoh["natural_gas_smr"].unverified and meoh["natural_gas_smr"].region == "global"


# --- the store ---------------------------------------------------------------------------------------------------
def test_versions_are_appended_never_overwritten(engine: Engine) -> None:
    r = _rec()
    with session_scope(engine) as s:
        assert [x.ref for x in save_factors(s, [r], actor="t").stored] == [f"{r.key}/v1"]
    with session_scope(engine) as s:
        rep = save_factors(s, [r], actor="t")
        assert rep.stored == () and [x.version for x in rep.unchanged] == [1]  # identical: no new version
    with session_scope(engine) as s:
        assert [
            x.version for x in save_factors(s, [r.model_copy(update={"value": 3.2})], actor="t").stored
        ] == [2]
    with session_scope(engine) as s:
        versions = find(s, product="methanol", region="shaanxi", all_versions=True)
        assert [(x.version, x.value) for x in versions] == [(1, 3.1), (2, 3.2)]
        assert [x.version for x in find(s, product="methanol", region="shaanxi")] == [2]
        assert get_factor(s, f"{r.key}/v1").value == 3.1 and get_factor(s, r.key).value == 3.2
        assert verify(s).ok and reconcile(s).ok
        logged = s.scalars(select(AuditEntry.entity_key).where(AuditEntry.entity == "emission_factor")).all()
    assert logged == [f"{r.key}/v1", f"{r.key}/v2"]


def test_a_changed_row_is_found_by_reconciliation(engine: Engine) -> None:
    with session_scope(engine) as s:
        save_factors(s, [_rec()], actor="t")
    with engine.begin() as c:
        c.execute(text("UPDATE emission_factor SET value = 9.9"))
    with session_scope(engine) as s:
        rep = reconcile(s)
    assert not rep.ok and any(
        d.kind == "changed" and d.table == "emission_factor" and d.field == "value" for d in rep.discrepancies
    )


def test_a_key_given_twice_refuses_the_whole_call(engine: Engine) -> None:
    before = _audit_count(engine)
    with pytest.raises(FactorError, match=r"given twice.*a\.csv:2"), session_scope(engine) as s:
        save_factors(
            s, [_rec(region="a"), _rec(), _rec(value=3.3)], actor="t", rows=["a.csv:1", "a.csv:2", "a.csv:3"]
        )
    assert _audit_count(engine) == before
    with session_scope(engine) as s:
        assert find(s, region="a", packaged=False) == []


def test_find_filters_by_product_region_year_and_basis(engine: Engine) -> None:
    with session_scope(engine) as s:
        save_factors(
            s,
            [
                _rec(),
                _rec(region="inner_mongolia", year=2023),
                _rec(
                    region="E01",
                    basis="measured",
                    owner="E01",
                    distribution=Distribution(shape="normal", u=0.1),
                ),
            ],
            actor="t",
        )
    with session_scope(engine) as s:
        assert {r.region for r in find(s, product="methanol", packaged=False)} == {
            "shaanxi",
            "inner_mongolia",
        }
        assert [r.region for r in find(s, product="methanol", year=2023)] == ["inner_mongolia"]
        assert find(s, product="methanol", basis="measured") == []  # an owned factor is not shared
        assert [r.owner for r in find(s, product="methanol", basis="measured", owners=["E01"])] == ["E01"]
        assert find(s, product="methanol", basis="measured", owners=["E02"]) == []
        assert len(find(s, basis="measured", owners=None)) == 1  # the centre sees every owner
        both = find(s, product="methanol")
        assert {r.store for r in both} == {"db", "packaged"}
        with pytest.raises(FactorError, match="no emission factor 'methanol/-/E01/2024/CO2e/AR5'"):
            get_factor(s, "methanol/-/E01/2024/CO2e/AR5")  # owned: not found without the owner
