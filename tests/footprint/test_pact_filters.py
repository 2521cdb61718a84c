"""ListFootprints filters and the default validity period of a PACT v3 ProductFootprint, on hand-made documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carbonmet.footprint.pact import PactError, exchange_id, footprint_matches, validity_period

DOC = {"id": "x", "status": "Active", "productIds": ["urn:carbonmet:product:E01:methanol"],
       "companyIds": ["urn:carbonmet:org:E01"], "productClassifications": ["urn:pact:cas:67-56-1"],
       "pcf": {"referencePeriodEnd": "2025-12-31T23:59:59Z", "geographyCountrySubdivision": "CN-NM"}}


def test_without_a_stated_period_a_footprint_is_valid_three_years_from_the_reference_end() -> None:
    start, end = validity_period(DOC)
    assert start == datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert end == datetime(2028, 12, 31, 23, 59, 59, tzinfo=UTC)
    stated = DOC | {"validityPeriodStart": "2026-01-01T00:00:00Z", "validityPeriodEnd": "2026-06-30T00:00:00Z"}
    assert validity_period(stated) == (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 30, tzinfo=UTC))


def test_values_of_one_criterion_are_alternatives_and_criteria_all_apply() -> None:
    assert footprint_matches(DOC, product_id=["urn:other", "URN:CARBONMET:PRODUCT:E01:METHANOL"])
    assert not footprint_matches(DOC, product_id=["urn:other"])
    assert footprint_matches(DOC, geography=["DE", "cn"])  # the subdivision's country, any case
    assert footprint_matches(DOC, geography=["cn-nm"], company_id=["urn:carbonmet:org:E01"])
    assert not footprint_matches(DOC, geography=["CN"], company_id=["urn:carbonmet:org:E02"])
    assert footprint_matches(DOC, classification=["urn:pact:cas:67-56-1"], status="active")
    assert not footprint_matches(DOC, status="Deprecated")


def test_validity_criteria_compare_with_the_period() -> None:
    on = datetime(2027, 6, 1, tzinfo=UTC)
    assert footprint_matches(DOC, valid_on=on)
    assert not footprint_matches(DOC, valid_on=datetime(2029, 1, 2, tzinfo=UTC))
    assert footprint_matches(DOC, valid_after=datetime(2025, 12, 1, tzinfo=UTC))  # start > validAfter
    assert not footprint_matches(DOC, valid_after=datetime(2026, 1, 1, tzinfo=UTC))
    assert footprint_matches(DOC, valid_before=datetime(2029, 1, 1, tzinfo=UTC))  # end < validBefore
    assert not footprint_matches(DOC, valid_before=datetime(2028, 12, 31, tzinfo=UTC))
    with pytest.raises(PactError, match="zone"):
        footprint_matches(DOC, valid_on=datetime(2027, 6, 1))


def test_an_exchange_id_depends_on_enterprise_product_year_and_code_version() -> None:
    a = exchange_id("E01", "methanol", 2025, "1.0")
    assert a == exchange_id("E01", "methanol", 2025, "1.0")
    assert len({a, exchange_id("E02", "methanol", 2025, "1.0"), exchange_id("E01", "meg", 2025, "1.0"),
                exchange_id("E01", "methanol", 2024, "1.0"), exchange_id("E01", "methanol", 2025, "1.1")}) == 5
