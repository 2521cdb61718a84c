"""Profiles: the default is the 2023 edition, the disputed table is never a default and always flagged, every value
names its profile, and lookups fail with messages that say what was asked."""

from __future__ import annotations

import math
from datetime import date

import pytest

from carbonmet.factors import (
    FLAG_BORROWED,
    FLAG_DISPUTED,
    FLAG_SUBJECT_ALIAS,
    FactorError,
    FactorValue,
    default_profile,
    gwp,
    load_profile,
    profiles,
)
from carbonmet.quantities import Evidence, Shape, Source


def _all_values() -> list[FactorValue]:
    return [v for p in profiles() for v in p.values()]


def test_the_default_profile_is_gb_t_32151_10_2023_in_force_from_2024_07_01() -> None:
    p = default_profile()
    assert (p.name, p.status, p.kind, p.in_force_from) == ("GB/T 32151.10-2023", "in_force", "defaults",
                                                           date(2024, 7, 1))
    assert not p.disputed


def test_the_declared_profiles_are_all_there_and_named_as_the_notes_name_them() -> None:
    names = [p.name for p in profiles()]
    assert names[:4] == ["GB/T 32151.10-2023", "GB/T 32151.10-2015", "NDRC-2013-化工", "unattributed-A"]
    assert {"MEE/grid", "IPCC-SAR", "IPCC-AR4", "IPCC-AR5", "IPCC-AR6"} <= set(names)
    assert load_profile("GB/T 32151.10-2015").status == "superseded"
    assert load_profile("GB/T 32151.10-2015").superseded_on == date(2024, 7, 1)


def test_table_a_is_disputed_never_the_default_and_every_value_from_it_is_flagged() -> None:
    a = load_profile("unattributed-A")
    assert a.disputed and a.status == "disputed"
    assert default_profile().name != a.name
    assert all(not p.disputed for p in profiles() if p.name == default_profile().name)
    values = a.values()
    assert values and all(FLAG_DISPUTED in v.flags and v.unverified and v.profile == "unattributed-A"
                          for v in values)
    q = a.get("ncv", "bituminous_coal").quantity()
    assert q.provenance.evidence is Evidence.UNVERIFIED and "disputed_profile" in q.provenance.note


def test_the_ndrc_2013_profile_borrows_the_s1_lineage_and_marks_every_value_unverified() -> None:
    ndrc, new = load_profile("NDRC-2013-化工"), default_profile()
    assert ndrc.status == "declared"
    for v in ndrc.values():
        assert v.evidence == "?" and v.unverified and v.profile == "NDRC-2013-化工"
    lignite = ndrc.get("ncv", "lignite")
    assert lignite.value == new.get("ncv", "lignite").value and FLAG_BORROWED in lignite.flags
    assert "capped" in lignite.note
    assert ndrc.get("gwp", "N2O").value == 310  # SAR, the 2013 guideline's GWP_N2O [?]


def test_every_value_names_its_profile_source_clause_evidence_and_a_finite_uncertainty() -> None:
    values = _all_values()
    assert len(values) > 150
    for v in values:
        assert v.profile and v.source and v.clause and v.evidence, v
        assert math.isfinite(v.value) and v.value >= 0, v
        assert math.isfinite(v.u_rel) and 0 <= v.u_rel < 1 and v.u_source, v
        assert v.u_shape in ("normal", "rectangular")
        assert v.ref.startswith(v.profile + "/")


def test_a_value_becomes_a_measured_quantity_with_default_provenance() -> None:
    cc = default_profile().get("carbon_content_per_heat", "anthracite")
    q = cc.quantity("CC_anthracite")
    assert (q.value, q.unit, q.name) == (cc.value, "tC/GJ", "CC_anthracite")
    assert q.u == pytest.approx(0.0274 * 0.03)
    assert q.shape is Shape.NORMAL
    assert q.provenance.source is Source.DEFAULT
    assert q.provenance.evidence is Evidence.CORROBORATED
    assert "GB/T 32151.22-2024" in q.provenance.reference and "表C.1 无烟煤" in q.provenance.reference
    assert "evidence [C]" in q.provenance.note and "IPCC 2006" in q.provenance.note
    of = default_profile().get("oxidation_rate", "coke").quantity()
    assert of.shape is Shape.RECTANGULAR and of.name == "GB/T 32151.10-2023/oxidation_rate/coke"


def test_every_value_turns_into_a_measured_quantity_in_its_unit() -> None:
    for v in _all_values():
        q = v.quantity()
        assert (q.value, q.unit, q.u) == (v.value, v.unit, pytest.approx(abs(v.value) * v.u_rel))
        assert q.provenance.source is Source.DEFAULT and v.ref in q.provenance.reference


def test_unverified_follows_the_evidence_mark() -> None:
    p = default_profile()
    assert not p.get("ncv", "anthracite").unverified  # [C]
    assert not p.get("carbon_content", "methanol").unverified  # [V-calc]
    assert p.get("carbon_content", "fusel_oil").unverified  # [M]
    assert p.get("carbon_content", "diesel").unverified  # [A] representative molecule
    assert p.get("gwp", "N2O").unverified  # the 2023 edition's GWP set is not known [?]


def test_the_generic_coal_alias_reads_bituminous_coal_and_says_so() -> None:
    p = default_profile()
    v = p.get("oxidation_rate", "coal")
    assert v.subject == "bituminous_coal" and v.value == pytest.approx(0.93)
    assert FLAG_SUBJECT_ALIAS in v.flags and "alias 'coal'" in v.note
    assert FLAG_SUBJECT_ALIAS not in p.get("oxidation_rate", "bituminous_coal").flags
    assert p.fuel("coal").subject == "bituminous_coal"


def test_product_carbon_contents_are_mass_fractions_found_by_key_or_chinese_name() -> None:
    p = default_profile()
    assert p.get("carbon_content", "甲醇").value == pytest.approx(0.3749)
    assert p.get("carbon_content", "meg").unit == "1"
    assert p.get("carbon_content", "sulfur").value == 0
    assert p.get("carbon_content", "polyethylene").value == pytest.approx(0.8563)
    assert p.get("emission_factor", "steam").value == pytest.approx(0.11)
    assert p.get("emission_factor", "蒸汽").unit == "tCO2/GJ"


def test_gwp_sets_are_versioned() -> None:
    assert [gwp("N2O", s).value for s in ("SAR", "AR4", "AR5", "AR6")] == [310, 298, 265, 273]
    assert [gwp("CH4", s).value for s in ("AR2", "AR4", "IPCC-AR5")] == [21, 25, 28]
    assert gwp("ch4", "AR6").value == pytest.approx(27.9)
    assert gwp("CH4_fossil", "AR6").value == pytest.approx(29.8)
    assert gwp("CO2").value == 1 and gwp("CO2").profile == "IPCC-AR5"
    assert gwp("N2O").u_rel == 0 and "convention" in gwp("N2O").u_source
    with pytest.raises(FactorError, match="unknown GWP set 'AR9'"):
        gwp("CH4", "AR9")
    with pytest.raises(FactorError, match="has no gwp for 'CH5'.*close: CH4"):
        gwp("CH5")


def test_an_unknown_profile_names_the_name_and_offers_the_close_ones() -> None:
    with pytest.raises(FactorError, match=r"unknown profile .*'GB/T 32151.10-2032'.*close: GB/T 32151.10-2023"):
        load_profile("GB/T 32151.10-2032")
    assert load_profile("GB/T 32151.10—2023") is default_profile()  # em dash alias


def test_a_missing_value_names_profile_parameter_and_subject() -> None:
    p = default_profile()
    with pytest.raises(FactorError, match=r"profile 'GB/T 32151.10-2023' has no ncv for 'antracite'.*anthracite"):
        p.get("ncv", "antracite")
    with pytest.raises(FactorError, match=r"has no parameter 'calorific'"):
        p.get("calorific", "coal")
    with pytest.raises(FactorError, match="has no fuel table"):
        load_profile("IPCC-AR5").fuel("coal")
    with pytest.raises(FactorError, match="has no ncv for 'methanol'"):
        p.fuel("methanol")


def test_subjects_lists_keys_per_parameter() -> None:
    p = default_profile()
    assert "methanol" in p.subjects("carbon_content") and "methanol" not in p.subjects("ncv")
    assert set(p.subjects("emission_factor")) >= {"natural_gas", "steam", "heat", "hot_water"}
    assert p.subjects("no_such_parameter") == []
    assert p.parameters() == ["carbon_content", "carbon_content_per_heat", "emission_factor", "gwp", "ncv",
                              "oxidation_rate"]
