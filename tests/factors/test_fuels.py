"""Default fuel rows: units converted at load time, the published EF column reproduced, the corrections applied."""

from __future__ import annotations

from pathlib import Path

import pytest
from numpy.testing import assert_allclose

from carbonmet.factors import CO2_PER_C, CO2_PER_C_PRINTED, default_profile, load_profile
from carbonmet.quantities import conversion_factor

# accounting_2025 §1.3, column "EF (S1)", tCO2 per t or per 10^4 Nm3, computed there as NCV × CC × OF × 44/12.
# Transcribed here independently of data/fuels.csv so that a slip in either shows.
EF_S1 = {
    "anthracite": 2.5215, "bituminous_coal": 1.7417, "lignite": 1.1729, "washed_coal": 2.2082,
    "other_washed_coal": 1.0519, "briquette": 1.9360, "other_coal_products": 2.1081, "coke": 2.8604,
    "petroleum_coke": 3.2115, "crude_oil": 3.0202, "fuel_oil": 3.1705, "gasoline": 2.9251, "diesel": 3.0959,
    "kerosene": 3.0334, "lng": 2.8313, "lpg": 3.1013, "naphtha": 3.1980, "coal_tar": 2.6446,
    "crude_benzene": 3.4109, "other_petroleum_products": 2.9488, "natural_gas": 21.6219, "coke_oven_gas": 8.8638,
    "blast_furnace_gas": 8.4811, "converter_gas": 15.1240, "refinery_dry_gas": 3.0389, "other_gas": 2.3148,
}
GASES_PER_WAN_NM3 = {"natural_gas", "coke_oven_gas", "blast_furnace_gas", "converter_gas", "other_gas"}


def _printed_ef(profile_name: str, subject: str) -> float:
    """EF with the printed 44/12, per t or per 10^4 Nm3 as the tables print it."""
    fuel = load_profile(profile_name).fuel(subject)
    ef, unit = fuel.emission_factor(co2_per_c=CO2_PER_C_PRINTED)
    return ef * conversion_factor("1/Nm3", "1/万Nm3") if unit == "tCO2/Nm3" else ef


def test_natural_gas_ef_is_21_62_t_per_10k_nm3_after_the_load_time_unit_conversion() -> None:
    # 389.31 GJ/10^4 Nm3 → 0.038931 GJ/Nm3; 15.3 tC/TJ → 0.0153 tC/GJ; 99 % → 0.99
    ng = default_profile().fuel("natural_gas")
    assert ng.amount_unit == "Nm3"
    assert ng.ncv.unit == "GJ/Nm3" and ng.ncv.value == pytest.approx(0.038931, rel=1e-12)
    assert ng.carbon_content_per_heat.unit == "tC/GJ" and ng.carbon_content_per_heat.value == pytest.approx(0.0153)
    assert ng.oxidation_rate.unit == "1" and ng.oxidation_rate.value == pytest.approx(0.99)
    ef, unit = ng.emission_factor(co2_per_c=CO2_PER_C_PRINTED)
    assert unit == "tCO2/Nm3"
    # 0.038931 × 0.0153 × 0.99 × 44/12 = 0.00216219 t/Nm3 = 21.6219 t/10^4 Nm3
    assert ef == pytest.approx(0.0021622, rel=1e-4)
    assert round(ef * 1e4, 2) == 21.62


def test_bituminous_coal_ef_is_1_7417_t_per_t() -> None:
    coal = default_profile().fuel("bituminous_coal")
    assert coal.ncv.unit == "GJ/t" and coal.ncv.value == 19.570
    assert coal.carbon_content_per_heat.value == pytest.approx(0.0261)  # not 26.1, 2.61 or 0.261
    # 19.570 × 0.0261 × 0.93 × 44/12 = 1.741750
    assert coal.emission_factor(co2_per_c=CO2_PER_C_PRINTED)[0] == pytest.approx(1.7417, rel=1e-4)


def test_the_default_ratio_is_the_molar_mass_one_and_differs_from_44_over_12_by_0_068_percent() -> None:
    coal = default_profile().fuel("bituminous_coal")
    ef, unit = coal.emission_factor()
    assert CO2_PER_C == pytest.approx(44.0095 / 12.011)
    # 19.570 × 0.0261 × 0.93 × 3.664191 = 1.740530
    assert (ef, unit) == (pytest.approx(1.740530, rel=1e-6), "tCO2/t")
    assert ef / coal.emission_factor(CO2_PER_C_PRINTED)[0] == pytest.approx((44.0095 / 12.011) / (44 / 12))
    ng_ef = default_profile().fuel("天然气").emission_factor()[0] * 1e4
    assert ng_ef == pytest.approx(21.6068, rel=1e-5)  # 21.62 × 0.999324


@pytest.mark.parametrize("subject", sorted(EF_S1))
def test_every_fuel_row_reproduces_the_published_ef_column(subject: str) -> None:
    assert _printed_ef("GB/T 32151.10-2023", subject) == pytest.approx(EF_S1[subject], rel=1e-4)


def test_the_default_profile_has_exactly_the_26_fuels_of_the_verdict_table() -> None:
    assert default_profile().subjects("ncv") == sorted(EF_S1)
    units = {s: default_profile().fuel(s).amount_unit for s in EF_S1}
    assert {s for s, u in units.items() if u == "Nm3"} == GASES_PER_WAN_NM3


def test_the_corrections_of_accounting_2025_are_applied() -> None:
    p = default_profile()
    assert p.get("carbon_content_per_heat", "natural_gas").value == pytest.approx(0.0153)  # not 0.01532
    assert p.get("oxidation_rate", "refinery_dry_gas").value == pytest.approx(0.99)  # not 0.98
    # BF gas 33.00 and BOF gas 84.00 GJ/10^4 Nm3 (not Table A's 37.69 / 79.54)
    assert p.get("ncv", "blast_furnace_gas").value == pytest.approx(33.00e-4)
    assert p.get("ncv", "converter_gas").value == pytest.approx(84.00e-4)
    assert "corrected" in p.get("carbon_content_per_heat", "natural_gas").note


def test_cc_is_stored_per_gj_for_every_row_so_no_row_is_off_by_a_power_of_ten() -> None:
    for name in ("GB/T 32151.10-2023", "unattributed-A"):
        p = load_profile(name)
        ccs = [p.get("carbon_content_per_heat", s).value for s in p.subjects("carbon_content_per_heat")]
        assert all(0.01 < cc < 0.08 for cc in ccs), (name, ccs)  # 12–71 kg C/GJ covers NG to BF gas


def test_the_disputed_table_keeps_its_own_values_and_differs_where_the_notes_say() -> None:
    # accounting_2025 §1.3 "A vs S1": bituminous +18.9 %, lignite +21.4 %, other washed coal +22.5 %, BF gas +14.2 %
    for subject, diff in (("bituminous_coal", 0.189), ("lignite", 0.214), ("other_washed_coal", 0.225),
                          ("blast_furnace_gas", 0.142), ("anthracite", -0.079)):
        ratio = _printed_ef("unattributed-A", subject) / _printed_ef("GB/T 32151.10-2023", subject)
        assert_allclose(ratio - 1, diff, atol=6e-4)
    a = load_profile("unattributed-A").fuel("bituminous_coal")
    assert a.ncv.profile == "unattributed-A" and a.ncv.value == 23.204


def test_the_2015_edition_shares_the_2023_lineage_value_for_value() -> None:
    new, old = load_profile("GB/T 32151.10-2023"), load_profile("GB/T 32151.10-2015")
    for parameter in ("ncv", "carbon_content_per_heat", "oxidation_rate", "carbon_content"):
        assert old.subjects(parameter) == new.subjects(parameter)
        for s in new.subjects(parameter):
            a, b = new.get(parameter, s), old.get(parameter, s)
            assert (a.value, a.unit, a.evidence) == (b.value, b.unit, b.evidence)
            assert (a.profile, b.profile) == ("GB/T 32151.10-2023", "GB/T 32151.10-2015")


def test_a_fuel_is_found_by_its_chinese_name_and_its_derived_ef_carries_the_combined_uncertainty() -> None:
    p = default_profile()
    assert p.fuel("焦炉煤气").subject == "coke_oven_gas"
    ef = p.get("emission_factor", "lignite")
    parts = [p.get(k, "lignite").u_rel for k in ("ncv", "carbon_content_per_heat", "oxidation_rate")]
    assert ef.u_rel == pytest.approx(sum(x * x for x in parts) ** 0.5)
    assert ef.value == pytest.approx(p.fuel("lignite").emission_factor()[0])
    assert "derived" in ef.flags and ef.unit == "tCO2/t"


def test_the_fuel_table_in_docs_matches_the_data() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "factors.md").read_text(encoding="utf-8")
    rows = [ln.split("|")[1:-1] for ln in doc.splitlines() if ln.startswith("| `")]
    table = {cells[0].strip().strip("`"): cells for cells in rows if cells[0].strip().strip("`") in EF_S1}
    assert sorted(table) == sorted(EF_S1)
    for subject, cells in table.items():
        ef, unit = default_profile().fuel(subject).emission_factor()
        scale = 1e4 if unit == "tCO2/Nm3" else 1.0
        assert float(cells[6]) == pytest.approx(ef * scale, abs=5e-5), subject
        assert float(cells[7]) == pytest.approx(_printed_ef("GB/T 32151.10-2023", subject), abs=5e-5), subject
        u = default_profile().get("emission_factor", subject).u_rel * 100
        assert float(cells[9].replace("%", "")) == pytest.approx(u, abs=0.05), subject
