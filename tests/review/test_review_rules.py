"""The review engine on a hand-built registry (tests/review/conftest.py), rule by rule, at the boundaries."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmet.review import RuleFileError, load_rules, profile_names, read_rule_file
from carbonmet.services import NotInScope, Scope, Workspace, review_enterprise

HEADER = ("rule_id,check,applies_to,parameter,value,unit,standard,clause,evidence,severity,message_zh,message_en,"
          "recommendation_zh,recommendation_en\n")


def _by(res) -> dict[str, set[str]]:  # instrument -> rule ids
    out: dict[str, set[str]] = {}
    for f in res.findings:
        out.setdefault(f.instrument, set()).add(f.rule_id)
    return out


def test_each_rule_type_on_the_last_day_of_cover(hand_ws: Workspace) -> None:
    res = review_enterprise(hand_ws, Scope.centre(), "E01", date(2025, 6, 30))
    assert _by(res) == {
        # belt scale class 1 (MPE 1.0 %) on fuel coal: Table 4 dynamic weighing needs 0.5
        "I-BELT-BAD": {"CCM-ACC-01"},
        # gateway meter class 1.0 where class I users need 0.5S; I-ELEC "0.5S" = 0.5 is exactly the limit: passes
        "I-ELEC2": {"CCM-ACC-02"},
        # 强制检定 gas meter with a calibration certificate only
        "I-CAL": {"CCM-CAL-02"},
        # verification V-FAIL2 of 1 March 2025 failed; still in service
        "I-FAIL": {"CCM-CAL-03"},
        # no certificate at all
        "I-NONE": {"CCM-CAL-04"},
        # X-OOT issued 10 April with WRK-FLOW, inside its suspect window 1 April … 1 May; and its indication
        # error 1.8 % with U = 0.6 % against MPE 1.5 %: U > 1.5/3 → guarded, 0.9 < 1.8 < 2.1 → inconclusive
        "I-OOT": {"CCM-TRC-01", "CCM-ERR-01"},
        # X-ERR: 2.2 % ≥ 1.5 + 0.6 = 2.1 → fail (issued 10 February, before the suspect window)
        "I-ERR": {"CCM-ERR-01"},
    }
    # I-OK: V-OK valid until 2025-06-30 = the review date → still covered; I-SPARE is not in service
    assert res.instruments_reviewed == 9
    sev = {(f.instrument, f.rule_id): f.severity for f in res.findings}
    assert sev[("I-FAIL", "CCM-CAL-03")] == "critical"
    assert sev[("I-OOT", "CCM-ERR-01")] == "info" and sev[("I-ERR", "CCM-ERR-01")] == "minor"
    f = next(f for f in res.findings if f.rule_id == "CCM-TRC-01")
    assert (f.certificate, f.standard, f.point) == ("X-OOT", "WRK-FLOW", "E01.FLARE")
    assert "2025-04-01…2025-05-01" in f.message and f.evidence == "C"
    f = next(f for f in res.findings if f.rule_id == "CCM-CAL-03")
    assert f.certificate == "V-FAIL2" and "5.3.6" in f.clause
    f = next(f for f in res.findings if f.instrument == "I-ERR")
    assert "不合格" in f.message and "fail" in f.message
    f = next(f for f in res.findings if f.rule_id == "CCM-ACC-01")
    assert "MPE 1 %" in f.message and "0.5" in f.message and f.recommendation


def test_overdue_from_the_day_after_the_validity_end(hand_ws: Workspace) -> None:
    res = review_enterprise(hand_ws, Scope.centre(), "E01", date(2025, 7, 1))
    f = [f for f in res.findings if f.instrument == "I-OK"]
    assert [x.rule_id for x in f] == ["CCM-CAL-01"]
    assert f[0].certificate == "V-OK" and "2025-06-30" in f[0].message


def test_before_the_incident_was_found_no_traceability_finding(hand_ws: Workspace) -> None:
    res = review_enterprise(hand_ws, Scope.centre(), "E01", date(2025, 4, 30))
    assert not [f for f in res.findings if f.rule_id == "CCM-TRC-01"]


def test_a_local_rule_set_changes_the_result_without_code(hand_ws: Workspace, tmp_path: Path) -> None:
    local = tmp_path / "province"
    local.mkdir()
    (local / "local.csv").write_text(
        HEADER
        # a province's grace period replaces the profile's overdue rule (same rule_id)
        + "CCM-CAL-01,overdue,,grace_days,30,d,某省 JJF,4.1,A,minor,{instrument} 超期 {valid_until},"
          "{instrument} overdue since {valid_until},,\n"
        # an enterprise standard adds a class rule for syngas flow meters
        + "ENT-ACC-01,accuracy_class,carrier=syngas; type=gas_flow_meter,mpe_rel,1.0,%,Q/ENT 001,5.2,A,major,"
          "{instrument} 等级 {accuracy_class} 低于 {limit},{instrument} class {accuracy_class} worse than {limit},,\n",
        encoding="utf-8")
    base = review_enterprise(hand_ws, Scope.centre(), "E01", date(2025, 7, 1))
    res = review_enterprise(hand_ws, Scope.centre(), "E01", date(2025, 7, 1), local_rules=local)
    assert "CCM-CAL-01" in _by(base)["I-OK"] and "I-OK" not in _by(res)  # within 30 days of grace
    assert {i for i, r in _by(res).items() if "ENT-ACC-01" in r} == {"I-OOT", "I-ERR"}
    assert res.profile_version != base.profile_version and str(local / "local.csv") in res.rule_files


def test_scope(hand_ws: Workspace) -> None:
    with pytest.raises(NotInScope):
        review_enterprise(hand_ws, Scope.enterprise("E02"), "E01", date(2025, 6, 30))
    res = review_enterprise(hand_ws, Scope.enterprise("E01"), "E01", date(2025, 6, 30))
    assert res.findings


def test_profile_is_shipped_with_sources() -> None:
    assert "gb17167_ccm" in profile_names()
    rs = load_rules()
    assert {r.check for r in rs.rules} >= {"overdue", "calibrated_not_verified", "does_not_conform",
                                           "accuracy_class", "traceability_oot"}
    for r in rs.rules:
        assert r.standard and r.clause and r.evidence and r.message_zh and r.message_en


@pytest.mark.parametrize(("row", "field", "match"), [
    ("X1,overdue,,grace_days,-1,d,S,1,V,major,m,m,,", "value", "≥ 0"),
    ("X1,overdue,,grace_days,1.5,d,S,1,V,major,m,m,,", "value", "whole number"),
    ("X1,overdue,,days,1,d,S,1,V,major,m,m,,", "parameter", "grace_days"),
    ("X1,audit_trail,,,,,S,1,V,major,m,m,,", "check", "unknown check"),
    ("X1,never_certified,,,,,S,1,V,severe,m,m,,", "severity", "severe"),
    ("X1,never_certified,,,,,S,1,Q,major,m,m,,", "evidence", "'Q'"),
    ("X1,never_certified,colour=red,,,,S,1,V,major,m,m,,", "applies_to", "unknown field 'colour'"),
    ("X1,never_certified,type,,,,S,1,V,major,m,m,,", "applies_to", "field=value"),
    ("X1,never_certified,,,,,S,1,V,major,{owner},m,,", "message_zh", "placeholder {owner}"),
    ("X1,never_certified,,,,,,1,V,major,m,m,,", "standard", "empty"),
    ("X1,accuracy_class,,mpe_rel,0,%,S,1,V,major,m,m,,", "value", "> 0"),
    ("X1,accuracy_class,,mpe_rel,abc,%,S,1,V,major,m,m,,", "value", "not a number"),
    ("X1,accuracy_class,,mpe_rel,0.5,级,S,1,V,major,m,m,,", "unit", "MPE in %"),
    ("X1,certificate_error,,decision_rule,lenient,,S,1,V,major,m,m,,", "value", "decision rule"),
])
def test_bad_rule_files_name_file_row_and_field(tmp_path: Path, row: str, field: str, match: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(HEADER + "OK1,never_certified,,,,,S,1,V,major,m,m,,\n" + row + "\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match=match) as ei:
        read_rule_file(p)
    assert (ei.value.file, ei.value.row, ei.value.field) == (str(p), 3, field)
    assert f"{p}:3:{field}" in str(ei.value)


def test_missing_column_and_duplicate_rule(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("rule_id,check\nX,overdue\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match="missing column") as ei:
        read_rule_file(p)
    assert ei.value.row == 1
    p.write_text(HEADER + "X,never_certified,,,,,S,1,V,major,m,m,,\nX,never_certified,,,,,S,1,V,major,m,m,,\n",
                 encoding="utf-8")
    with pytest.raises(RuleFileError, match="twice") as ei:
        read_rule_file(p)
    assert (ei.value.row, ei.value.field) == (3, "rule_id")


def test_unknown_profile_and_missing_local_set(tmp_path: Path) -> None:
    from carbonmet.review import ReviewError

    with pytest.raises(ReviewError, match="unknown review profile 'nope'"):
        load_rules("nope")
    with pytest.raises(ReviewError, match="not found"):
        load_rules(local=tmp_path / "absent")


_cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_cell, min_size=14, max_size=14))
def test_rule_file_parser_refuses_garbage_with_a_rule_file_error(tmp_path: Path, cells: list[str]) -> None:
    """Any row either reads as a rule or is refused with file, row and field; nothing else escapes."""
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf).writerow(cells)
    p = tmp_path / "fuzz.csv"
    p.write_text(HEADER + buf.getvalue(), encoding="utf-8")
    try:
        rules = read_rule_file(p)
    except RuleFileError as exc:
        assert exc.field and str(p) in str(exc)
    else:
        # a blank row is skipped (no rule); otherwise one rule from row 2
        assert [r.source for r in rules] == ([] if not any(c.strip() for c in cells) else [f"{p}:2"])
