"""Which months are in, late, missing or not due; and where an account differs from the deposits (pure, no
database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from carbonmet.deposits import (
    Deposit,
    Evidence,
    compare_account,
    content_hash,
    deadline,
    deposit_rules,
    deposit_status,
    month_end,
)

from ._plan import PLAN

EV = (Evidence("ledger.txt", "0" * 64, "ledger", 10),)


def _dep(month: str, stream: str, parameter: str, value: float = 1.0, unit: str = "t", version: int = 1,
         uploaded: datetime | None = None, status: str = "on_time", enterprise: str = "E01") -> Deposit:
    at = uploaded or datetime(int(month[:4]), int(month[5:]), 28, tzinfo=UTC)
    return Deposit(enterprise, month, stream, parameter, version, value, unit, EV, None, None, at,
                   deadline(month, 20), deadline(month, 40), status, 1, "f.csv", "1" * 64, 2)


def test_deadlines_are_month_end_plus_natural_days() -> None:
    assert month_end("2024-02") == date(2024, 2, 29) and month_end("2025-02") == date(2025, 2, 28)
    assert deadline("2025-01", 20) == date(2025, 2, 20) and deadline("2025-12", 20) == date(2026, 1, 20)
    assert deadline("2025-02", 40) == date(2025, 4, 9)
    r = deposit_rules()
    assert (r.enterprise_days.value, r.enterprise_days.evidence) == (20, "V")
    assert (r.authority_days.value, r.authority_days.evidence) == (40, "C")
    assert r.tolerance.evidence == "A" and r.tolerance.reason and r.tolerance.value == 0.005


def test_status_per_planned_row_and_month() -> None:
    deposits = [
        _dep("2025-01", "boiler_coal", "activity_data"),  # on time
        _dep("2025-02", "boiler_coal", "activity_data", status="late",
             uploaded=datetime(2025, 3, 25, tzinfo=UTC)),
        _dep("2025-02", "boiler_coal", "activity_data", version=2, status="late"),
        _dep("2025-01", "boiler_coal", "activity_data", enterprise="E02"),  # another enterprise: ignored
    ]
    rows = deposit_status(PLAN, deposits, 2025, today=date(2025, 4, 20))
    # deposited monthly: coal amount, carbon, NCV (per batch), gas amount (continuous), gas carbon (monthly), steam
    # amount from July; not the yearly default oxidation rate nor the CEMS concentration
    assert sorted({(r.source_stream, r.parameter) for r in rows}) == [
        ("boiler_coal", "activity_data"), ("boiler_coal", "carbon_content"), ("boiler_coal", "ncv"),
        ("natural_gas", "activity_data"), ("natural_gas", "carbon_content"), ("purchased_steam", "activity_data")]
    steam = [r.month for r in rows if r.source_stream == "purchased_steam"]
    assert steam == [f"2025-{m:02d}" for m in range(7, 13)]
    coal = {r.month: r for r in rows if (r.source_stream, r.parameter) == ("boiler_coal", "activity_data")}
    assert (coal["2025-01"].status, coal["2025-01"].versions) == ("on_time", 1)
    assert (coal["2025-02"].status, coal["2025-02"].versions, coal["2025-02"].latest_status) == ("late", 2, "late")
    assert coal["2025-03"].status == "not_due"  # deadline 20 April, today 20 April: still due today
    assert coal["2025-04"].status == "not_due"
    gas = {r.month: r.status for r in rows if (r.source_stream, r.parameter) == ("natural_gas", "activity_data")}
    assert (gas["2025-02"], gas["2025-03"], gas["2025-12"]) == ("missing", "not_due", "not_due")
    later = deposit_status(PLAN, deposits, 2025, today=date(2025, 4, 21))
    assert next(r.status for r in later if (r.source_stream, r.parameter, r.month) == (
        "boiler_coal", "activity_data", "2025-03")) == "missing"
    assert rows[0].to_dict()["deadline"] == rows[0].deadline.isoformat()


def _account() -> dict[str, Any]:
    """The parts of ``Account.to_dict()`` the comparison reads (as the plan path writes them)."""
    months = ["2025-01", "2025-02"]
    return {
        "enterprise": "E01", "year": 2025,
        "streams": [
            {"name": "boiler_coal", "kind": "fuel_combustion",
             "activity": {"unit": "t", "periods": [{"period": months[0], "value": 50000.0},
                                                   {"period": months[1], "value": 48000.0}]},
             "factor": {"carbon_unit": "1", "carbon_content_periods": [{"period": months[0], "value": 0.6066},
                                                                       {"period": months[1], "value": None}]}},
            {"name": "natural_gas", "kind": "fuel_combustion",
             "activity": {"unit": "Nm3", "periods": [{"period": months[0], "value": 0.0}]},
             "factor": {"carbon_unit": "t/Nm3", "carbon_content_periods": [{"period": months[0], "value": 0.0005916}],
                        "ncv_unit": "GJ/Nm3", "ncv_periods": [{"period": months[0], "value": 0.0389}]}},
            {"name": "gasification", "kind": "carbon_balance",
             "activity": {"items": {"gasifier_coal": {"unit": "t", "periods": [{"period": months[0], "value": 1.5e5}],
                                                      "carbon_periods": [{"period": months[0], "value": 0.70}]},
                                    "methanol": {"unit": "t", "periods": [{"period": months[0], "value": 1.2e5}],
                                                 "carbon_periods": []}}},
             "factor": {}},
            {"name": "recovered_co2", "kind": "co2_recovered",
             "activity": {"unit": "Nm3", "periods": [{"period": months[0], "value": 9.0e6}]}, "factor": {}},
        ],
    }


def test_the_comparison_converts_units_and_finds_only_the_material_difference() -> None:
    deps = [
        _dep("2025-01", "boiler_coal", "activity_data", 49000.0),  # 2 % low
        _dep("2025-02", "boiler_coal", "activity_data", 48010.0),  # +0.02 %: within tolerance
        _dep("2025-01", "boiler_coal", "carbon_content", 60.66, "%"),  # % against the account's fraction
        _dep("2025-01", "natural_gas", "carbon_content", 0.5916, "kg/Nm3"),  # kg/Nm3 against t/Nm3
        _dep("2025-01", "natural_gas", "ncv", 38.9, "MJ/Nm3"),
        _dep("2025-01", "natural_gas", "activity_data", 0.0, "Nm3"),
        _dep("2025-01", "gasifier_coal", "activity_data", 150.0, "kt"),
        _dep("2025-01", "gasifier_coal", "carbon_content", 70.0, "%"),
        _dep("2025-01", "methanol", "activity_data", 1.2e5),
        _dep("2025-01", "boiler_coal", "ncv", 23.1, "MJ/kg"),  # the per-mass account uses no NCV
        _dep("2025-01", "recovered_co2", "activity_data", 9.5e6, "Nm3"),  # the account's is pure CO2
        _dep("2025-02", "boiler_coal", "carbon_content", 60.0, "%"),  # the account has no figure (None)
        _dep("2025-01", "boiler_coal", "activity_data", 47000.0, version=0),  # superseded by version 1
        _dep("2024-12", "boiler_coal", "activity_data", 1.0),  # another year
    ]
    diffs = compare_account(deps, _account())
    findings = [(d.kind, d.source_stream, d.parameter, d.month) for d in diffs if d.finding]
    assert findings == [("compared", "boiler_coal", "activity_data", "2025-01")]
    coal = next(d for d in diffs if (d.source_stream, d.parameter, d.month) == ("boiler_coal", "activity_data",
                                                                                 "2025-01"))
    assert (coal.version, coal.difference, coal.unit) == (1, -1000.0, "t")
    assert coal.relative == pytest.approx(-0.02) and coal.exceeds and "-2.000 %" in coal.note
    by = {(d.source_stream, d.parameter, d.month): d for d in diffs}
    c = by[("boiler_coal", "carbon_content", "2025-01")]
    assert (c.kind, c.deposit_value, c.account_value, c.exceeds) == ("compared", pytest.approx(0.6066), 0.6066, False)
    assert by[("natural_gas", "carbon_content", "2025-01")].deposit_value == pytest.approx(0.0005916)
    assert by[("natural_gas", "ncv", "2025-01")].relative == pytest.approx(0.0, abs=1e-12)
    assert by[("natural_gas", "activity_data", "2025-01")].relative is None  # 0 against 0
    assert by[("gasifier_coal", "activity_data", "2025-01")].deposit_value == pytest.approx(1.5e5)
    assert by[("gasifier_coal", "carbon_content", "2025-01")].unit == "1"
    assert by[("boiler_coal", "activity_data", "2025-02")].exceeds is False
    for k in (("boiler_coal", "ncv", "2025-01"), ("recovered_co2", "activity_data", "2025-01"),
              ("boiler_coal", "carbon_content", "2025-02")):
        assert by[k].kind == "not_in_account"
    assert ("boiler_coal", "activity_data", "2024-12") not in by


def test_months_the_account_used_without_a_deposit_are_findings() -> None:
    diffs = compare_account([_dep("2025-01", "boiler_coal", "activity_data", 50000.0)], _account())
    missing = {(d.source_stream, d.parameter, d.month) for d in diffs if d.kind == "not_deposited"}
    assert ("boiler_coal", "activity_data", "2025-02") in missing
    assert ("methanol", "activity_data", "2025-01") in missing and ("recovered_co2", "activity_data",
                                                                    "2025-01") not in missing
    assert all(d.finding for d in diffs if d.kind == "not_deposited")
    assert [d.kind for d in diffs if (d.source_stream, d.parameter, d.month) == ("boiler_coal", "activity_data",
                                                                                 "2025-01")] == ["compared"]


def test_units_that_do_not_convert_are_reported_not_compared() -> None:
    d = compare_account([_dep("2025-01", "boiler_coal", "activity_data", 5.0e4, "Nm3")], _account())
    bad = next(x for x in d if x.month == "2025-01" and x.parameter == "activity_data" and
               x.source_stream == "boiler_coal")
    assert bad.kind == "not_comparable" and bad.finding and "do not convert" in bad.note


def test_a_tolerance_given_replaces_the_rule() -> None:
    deps = [_dep("2025-01", "boiler_coal", "activity_data", 49000.0)]
    assert compare_account(deps, _account(), tolerance=0.03)[0].exceeds is False
    assert content_hash(deps[0]) == content_hash(_dep("2025-01", "boiler_coal", "activity_data", 49000.0))
