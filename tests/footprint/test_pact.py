"""PACT v3.0.3 ProductFootprint documents: written from a rule and figures, checked by our strict schema."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonmet.footprint.pact import (
    PACT_SPEC_VERSION,
    PactError,
    PcfFigures,
    check_product_footprint,
    decimal_string,
    product_footprint,
    product_footprint_schema,
)
from carbonmet.footprint.rules import product_rule

DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")
Y0, Y1 = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)
CREATED = datetime(2026, 1, 15, tzinfo=UTC)


def _doc(figures: PcfFigures, **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"company_name": "鄂尔多斯甲醇示例 E01", "company_ids": ["urn:carbonmet:org:E01"],
                                "product_ids": ["urn:carbonmet:product:E01:methanol"], "period_start": Y0, "period_end": Y1,
                                "created": CREATED, "geography_subdivision": "CN-NM"}
    return product_footprint(product_rule("methanol"), figures, **(args | kw))


def _numbers(x: Any, path: str = "") -> list[str]:
    if isinstance(x, dict):
        return [p for k, v in x.items() for p in _numbers(v, f"{path}/{k}")]
    if isinstance(x, list):
        return [p for i, v in enumerate(x) for p in _numbers(v, f"{path}/{i}")]
    return [path] if isinstance(x, int | float) and not isinstance(x, bool) else []


def test_a_coal_methanol_footprint_without_capture_validates_and_sends_no_json_numbers() -> None:
    doc = _doc(PcfFigures(3.21, 0.3749, primary_data_share=88.0, dqi=(1.2, 1.0, 1.0)))
    assert check_product_footprint(doc) == []
    assert _numbers(doc) == []
    pcf = doc["pcf"]
    assert pcf["pcfExcludingBiogenicUptake"] == pcf["fossilGhgEmissions"] == "3.21"
    assert pcf["ccsTechnologicalCO2CaptureIncluded"] is False and "ccsTechnologicalCO2Capture" not in pcf
    assert doc["specVersion"] == PACT_SPEC_VERSION == "3.0.3"
    assert doc["productClassifications"] == ["urn:pact:productclassification:cas:67-56-1"]
    assert pcf["productOrSectorSpecificRules"][0]["ruleNames"][0].startswith("T/CPCIF 0467-2025")


def test_captured_co2_is_reported_in_its_own_field_never_netted_silently() -> None:
    # gross fossil 3.30 kgCO2e/kg, of which 1.05 captured and stored: PACT v3 sum rule 3.30 + (−1.05) = 2.25
    doc = _doc(PcfFigures(3.30, 0.3749, ccs_capture=1.05, capture_origin="鄂尔多斯盆地咸水层 Ordos basin saline aquifer"))
    pcf = doc["pcf"]
    assert pcf["fossilGhgEmissions"] == "3.3"
    assert pcf["ccsTechnologicalCO2Capture"] == "-1.05"
    assert pcf["ccsTechnologicalCO2CaptureIncluded"] is True
    assert pcf["technologicalCO2CaptureOrigin"].startswith("鄂尔多斯")
    assert pcf["pcfExcludingBiogenicUptake"] == "2.25"
    assert check_product_footprint(doc) == []
    netted = copy.deepcopy(doc)
    del netted["pcf"]["ccsTechnologicalCO2Capture"]  # the capture hidden in the total: the sum rule catches it
    assert any("sum of its terms" in p for p in check_product_footprint(netted))
    undeclared = copy.deepcopy(doc)
    undeclared["pcf"]["ccsTechnologicalCO2CaptureIncluded"] = False
    assert any("CaptureIncluded" in p for p in check_product_footprint(undeclared))


def test_the_same_inputs_give_the_same_document_and_id_and_other_figures_another_id() -> None:
    a, b = _doc(PcfFigures(3.21, 0.3749)), _doc(PcfFigures(3.21, 0.3749))
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    c = _doc(PcfFigures(3.22, 0.3749), preceding_ids=[a["id"]])
    assert c["id"] != a["id"] and c["precedingPfIds"] == [a["id"]]
    assert check_product_footprint(c) == []


def test_uncertainty_and_provenance_travel_in_the_comment_and_an_extension() -> None:
    doc = _doc(PcfFigures(3.21, 0.3749, expanded_uncertainty=0.154), extension={"U_k2": "0.154", "profile": "x"})
    assert "U (k=2) = 0.154" in doc["comment"]
    assert doc["extensions"][0]["data"]["U_k2"] == "0.154"
    assert check_product_footprint(doc) == []


@pytest.mark.parametrize(("figures", "kw", "says"), [
    (PcfFigures(3.0, 0.37, ccs_capture=-1.0, capture_origin="x"), {}, "≥ 0"),
    (PcfFigures(3.0, 0.37, ccs_capture=1.0), {}, "technologicalCO2CaptureOrigin"),
    (PcfFigures(-0.1, 0.37), {}, "≥ 0"),
    (PcfFigures(3.0, 0.37), {"geography_country": "CN"}, "one geography"),
    (PcfFigures(3.0, 0.37), {"created": datetime(2026, 1, 15)}, "zone"),
    (PcfFigures(float("nan"), 0.37), {}, "finite"),
])
def test_figures_that_cannot_be_a_valid_document_are_refused_naming_why(figures: PcfFigures, kw: dict[str, Any],
                                                                        says: str) -> None:
    with pytest.raises(PactError, match=re.escape(says)):
        _doc(figures, **kw)


def test_times_are_written_in_utc_whatever_zone_they_come_in() -> None:
    beijing = timezone(timedelta(hours=8))
    doc = _doc(PcfFigures(3.0, 0.37), period_start=datetime(2025, 1, 1, 8, tzinfo=beijing))
    assert doc["pcf"]["referencePeriodStart"] == "2025-01-01T00:00:00Z"


def test_the_strict_check_names_the_path_of_unknown_keys_numbers_bad_enums_and_formats() -> None:
    doc = _doc(PcfFigures(3.21, 0.3749))
    doc["pcf"]["otherOperatorName"] = "TfS"          # a stray key the published schema would let through
    doc["pcf"]["declaredUnitAmount"] = 1             # a JSON number
    doc["status"] = "Draft"
    doc["created"] = "15.01.2026"
    doc["companyIds"] = ["E01"]
    problems = "\n".join(check_product_footprint(doc))
    for path in ("/pcf: Additional properties", "/pcf/declaredUnitAmount", "/status", "/created", "/companyIds/0"):
        assert path in problems


def test_geography_is_at_most_one_of_the_three_fields() -> None:
    doc = _doc(PcfFigures(3.21, 0.3749))
    doc["pcf"]["geographyCountry"] = "CN"
    assert check_product_footprint(doc)
    del doc["pcf"]["geographyCountry"], doc["pcf"]["geographyCountrySubdivision"]
    assert check_product_footprint(doc) == []       # no geography at all is allowed


def test_the_schema_says_which_specification_it_was_written_from() -> None:
    s = product_footprint_schema()
    assert "3.0.3" in s["$comment"] and s["additionalProperties"] is False
    assert set(s["required"]) == {"id", "specVersion", "created", "status", "companyName", "companyIds",
                                  "productDescription", "productIds", "productNameCompany", "pcf"}
    assert len(s["$defs"]["CarbonFootprint"]["required"]) == 12


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(min_value=0, max_value=9))
def test_decimal_strings_always_match_the_pact_pattern_and_round_to_the_places(x: float, places: int) -> None:
    s = decimal_string(x, places)
    assert DECIMAL.match(s) and s != "-0"
    assert abs(float(s) - x) <= 0.5 * 10.0**-places * (1 + 1e-9) + abs(x) * 1e-15
