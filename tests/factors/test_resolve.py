"""resolve(): the default ids the monitoring plans write all resolve; unknown ids fail naming the id; grid factors by
accounting year say which notice they come from."""

from __future__ import annotations

import pytest

from carbonmet.factors import (
    FLAG_CARRIED_FORWARD,
    FactorError,
    default_profile,
    grid_factor,
    load_profile,
    profiles,
    resolve,
)
from carbonmet.quantities import conversion_factor

# default ids the reference region's plans write (docs/refdata.md "plans"); that every default id of every generated
# plan resolves in its row's unit is checked on the generated plans themselves (tests/refdata/test_plans.py)
PLAN_REFS = {
    "GB/T 32151.10-2023/oxidation_rate/bituminous_coal": "%",
    "GB/T 32151.10-2023/oxidation_rate/natural_gas": "%",
    "GB/T 32151.10-2023/carbon_content/methanol": "%",
    "GB/T 32151.10-2023/carbon_content/polyethylene": "%",
    "MEE/grid/emission_factor/national": "tCO2/MWh",
    "GB/T 32151.10-2023/emission_factor/steam": "tCO2/GJ",
    "GB/T 32151.10-2023/oxidation_rate/coal": "%",  # written by refdata-1.1 plans: the alias coal → bituminous_coal
}


@pytest.mark.parametrize("ref", sorted(PLAN_REFS))
def test_every_default_id_of_the_refdata_plans_resolves_in_the_plans_unit(ref: str) -> None:
    v = resolve(ref)
    assert v.value > 0
    # the plan states the unit it expects; the value converts to it (oxidation rate 0.93 → 93 %)
    assert 0 < v.value * conversion_factor(v.unit, PLAN_REFS[ref]) < 100


def test_the_plans_grid_id_is_the_latest_compliance_factor_and_pins_its_year() -> None:
    v = resolve("MEE/grid/emission_factor/national")
    assert (v.value, v.unit, v.year, v.evidence) == (0.5703, "tCO2/MWh", 2022, "V")
    assert "2023—2025年发电行业" in v.source
    assert v.ref == "MEE/grid/emission_factor/national/2022"
    assert resolve("MEE/grid/emission_factor/national/2021").value == pytest.approx(0.5810)


def test_every_value_resolves_back_from_its_ref() -> None:
    for p in profiles():
        for v in p.values():
            back = resolve(v.ref)
            assert (back.profile, back.parameter, back.subject, back.value, back.unit) == (
                v.profile, v.parameter, v.subject, v.value, v.unit)


def test_profile_aliases_and_chinese_subjects_resolve() -> None:
    assert resolve("GB/T 32151.10—2023/ncv/烟煤").value == 19.570
    assert resolve("NDRC-2013/oxidation_rate/褐煤").profile == "NDRC-2013-化工"
    assert resolve("AR6/gwp/N2O").value == 273
    assert resolve("MEE/grid/emission_factor/内蒙古").subject == "inner_mongolia"


@pytest.mark.parametrize(("ref", "why"), [
    ("GB/T 32151.10-2023/oxidation_rate/cole", "has no oxidation_rate for 'cole'; close: co"),
    ("GB/T 32151.10-2024/ncv/lignite", "no profile name starts it"),
    ("GB/T 32151.10-2023/ncv", "expected <profile>/<parameter>/<subject>"),
    ("GB/T 32151.10-2023/ncv/lignite/2022", "expected <profile>/<parameter>/<subject>"),
    ("GB/T 32151.10-2023/heat_rate/lignite", "has no parameter 'heat_rate'"),
    ("MEE/grid/emission_factor/national/1999", "no emission_factor for 'national' of data year 1999"),
    ("MEE/grid/emission_factor/national/last", "'last' is not a data year"),
    ("MEE/grid/emission_factor/mars", "has no emission_factor for 'mars'"),
    ("unknown", "no profile name starts it"),
])
def test_an_unknown_ref_fails_with_a_message_naming_the_ref(ref: str, why: str) -> None:
    with pytest.raises(FactorError) as err:
        resolve(ref)
    assert f"cannot resolve {ref!r}" in str(err.value)
    assert why in str(err.value)


def test_grid_factor_for_an_accounting_year_names_its_notice() -> None:
    v = grid_factor(2022)
    assert (v.value, v.evidence, v.flags) == (0.5703, "V", ())
    assert "生态环境部办公厅" in v.source and "accounting year(s) 2022" in v.note
    assert grid_factor(2020).value == pytest.approx(0.6101) and grid_factor(2019).unverified  # recalled [M]
    assert grid_factor(2022, "national_average").value == pytest.approx(0.5366)
    assert grid_factor(2021, "national_average").value == pytest.approx(0.5568)
    assert grid_factor(2022, "华北").value == pytest.approx(0.6776)


def test_a_later_year_carries_the_last_factor_forward_flagged_and_marked_as_an_assumption() -> None:
    v = grid_factor(2025)
    assert v.value == 0.5703 and v.year == 2022
    assert FLAG_CARRIED_FORWARD in v.flags and v.evidence == "A" and v.unverified
    assert "no notice found for accounting year 2025" in v.note
    with pytest.raises(FactorError, match="no 'national' grid factor for accounting year 2025.*carry_forward=False"):
        grid_factor(2025, carry_forward=False)


def test_the_compliance_and_statistical_factors_are_kept_apart() -> None:
    with pytest.raises(FactorError, match="no 'national_average' grid factor for accounting year 2020"):
        grid_factor(2020, "national_average")
    with pytest.raises(FactorError, match="has no emission_factor for 'europe'"):
        grid_factor(2022, "europe")
    with pytest.raises(FactorError, match="holds no grid factors"):
        default_profile().grid_factor(2022)
    grid = load_profile("MEE/grid")
    assert grid.get("emission_factor", "national", year=2021).value == pytest.approx(0.5810)
