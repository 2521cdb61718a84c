"""Stored review runs and the lifecycle of their findings on the hand-built registry (tests/review/conftest.py), on
SQLite and PostgreSQL: a run keeps who, when, profile and rule-file hashes; a finding closed after its cause was
fixed (a new certificate through the registry service) shows fixed in the next run, one closed without a fix shows
reopened; the diff counts; the audit log holds every write and reconciles; bad ids and steps are refused."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import func, select

from carbonmet.db import AuditEntry
from carbonmet.review import ReviewError, review_instruments
from carbonmet.review.runs import FindingStateError, next_status, plan_lifecycle
from carbonmet.services import (
    AccessDenied,
    NotInScope,
    Scope,
    ServiceError,
    Workspace,
    acknowledge_finding,
    close_finding,
    import_registry,
    list_findings,
    list_runs,
    record_incident,
    run_diff,
    run_review,
    verify_audit_log,
)

from .conftest import write_registry

JULY_1, JULY_3 = date(2025, 7, 1), date(2025, 7, 3)
CENTRE = Scope.centre("reviewer-a")
TABLES = ("review_run", "review_run_finding", "review_finding", "review_finding_event")


@pytest.fixture
def ws(db_url: str, tmp_path: Path) -> Iterator[Workspace]:
    with Workspace(db_url, store_root=tmp_path / "store") as w:
        import_registry(w, Scope.centre(), write_registry(tmp_path / "registry"))
        record_incident(w, Scope.centre(), "WRK-FLOW", date(2025, 4, 1), date(2025, 5, 1), "超差")
        yield w


def _by_key(ws: Workspace, **kw: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {f["key"]: f for f in list_findings(ws, CENTRE, "E01", **kw)}


# --- pure --------------------------------------------------------------------------------------------------------
def test_the_lifecycle_plan_classifies_found_and_missing_keys() -> None:
    tracked = {"a": ("open", "R1"), "b": ("closed", "R1"), "c": ("fixed", "R1"), "d": ("acknowledged", "R2"),
               "e": ("closed", "R2"), "f": ("open", "R9"), "g": ("fixed", "R2")}
    plan = plan_lifecycle(["a", "b", "c", "n"], tracked, ["R1", "R2"])
    assert plan.changes == {"a": "persisting", "b": "reopened", "c": "reopened", "n": "new"}
    assert plan.fixed == ("d", "e")  # not found, rule applied; "g" was fixed already
    assert plan.not_checked == ("f",)  # its rule R9 was not in this run's rule set
    assert plan.counts() == {"new": 1, "persisting": 1, "reopened": 2, "fixed": 2, "not_checked": 1}


@pytest.mark.parametrize(("status", "action", "evidence", "after"), [
    ("open", "acknowledge", None, "acknowledged"), ("reopened", "acknowledge", None, "acknowledged"),
    ("open", "close", "new certificate", "closed"), ("acknowledged", "close", "replaced", "closed"),
    ("reopened", "close", "replaced", "closed"),
])
def test_allowed_steps(status: str, action: str, evidence: str | None, after: str) -> None:
    assert next_status(status, action, evidence=evidence) == after


@pytest.mark.parametrize(("status", "action", "evidence", "match"), [
    ("closed", "acknowledge", None, "cannot be acknowledged"), ("acknowledged", "acknowledge", None, "cannot be"),
    ("fixed", "close", "x", "cannot be closed"), ("closed", "close", "x", "cannot be closed"),
    ("open", "close", "  ", "needs evidence"), ("open", "close", None, "needs evidence"),
    ("open", "delete", None, "unknown action"), ("gone", "close", "x", "unknown status"),
])
def test_refused_steps_say_why(status: str, action: str, evidence: str | None, match: str) -> None:
    with pytest.raises(FindingStateError, match=match):
        next_status(status, action, evidence=evidence)


# --- stored runs -------------------------------------------------------------------------------------------------
def test_a_stored_run_keeps_who_when_profile_rule_hashes_and_its_findings(ws: Workspace) -> None:
    with ws.session() as s:
        direct = review_instruments(s, "E01", JULY_1)
    run = run_review(ws, CENTRE, "E01", JULY_1)
    shipped = resources.files("carbonmet.review").joinpath("data/gb17167_ccm.csv").read_bytes()
    assert (run.enterprise, run.kind, run.on, run.actor, run.run_key) == ("E01", "review", JULY_1, "reviewer-a",
                                                                           "E01/review/1")
    assert run.rule_files == [{"file": "gb17167_ccm.csv", "sha256": hashlib.sha256(shipped).hexdigest()}]
    assert run.profile_version == direct.profile_version and run.counts == direct.counts()
    assert run.findings == len(direct.findings) and run.diff_counts["new"] == len(direct.findings)
    assert run.previous_run_key is None
    found = _by_key(ws)
    assert set(found) == {f.key() for f in direct.findings}
    assert {f["status"] for f in found.values()} == {"open"}
    # the traceability finding is keyed by its certificate, the others by rule and instrument
    assert "CCM-TRC-01|I-OOT|X-OOT" in found and "CCM-CAL-01|I-OK" in found
    d = run_diff(ws, CENTRE, "E01")
    ok = next(x for x in d.new if x["instrument"] == "I-OK")
    assert (ok["certificate"], ok["clause"], ok["evidence_mark"]) == ("V-OK", "GB 17167-2006; JJF 1356-2012 5.3.6",
                                                                       "V-std")
    assert [r.run_key for r in list_runs(ws, CENTRE, "E01")] == ["E01/review/1"]


def test_a_closed_finding_whose_cause_was_fixed_shows_fixed_and_an_unfixed_one_reopened(ws: Workspace,
                                                                                       tmp_path: Path) -> None:
    run_review(ws, CENTRE, "E01", JULY_1)
    first = _by_key(ws)
    # I-OK's verification ran out on 30 June; I-NONE has never had a certificate
    overdue, never = first["CCM-CAL-01|I-OK"], first["CCM-CAL-04|I-NONE"]
    acknowledge_finding(ws, Scope.enterprise("E01", actor="e01-user"), overdue["id"], "已送检")
    # the enterprise fixes the cause: a new verification of I-OK through the registry service, and it installs a
    # new thermometer without any certificate (a new problem)
    fix = tmp_path / "fix"
    fix.mkdir()
    (fix / "certificates.csv").write_text(
        "cert_no,kind,subject,subject_kind,issuer_org,calibration_date,valid_until,conclusion\n"
        "V-OK-2,verification,I-OK,instrument,C01,2025-07-02,2026-07-01,conforms\n", encoding="utf-8")
    (fix / "instruments.csv").write_text(
        "serial,instrument_id,org_code,type,unit,accuracy_class,mpe_rel,legal_category,point_id,installed_from,"
        "status\nS11,I-NEW,E01,thermometer,degC,1.0,,non_mandatory,,,in_service\n", encoding="utf-8")
    import_registry(ws, Scope.enterprise("E01"), [fix / "instruments.csv", fix / "certificates.csv"])
    closed = close_finding(ws, CENTRE, overdue["id"], "重新检定合格 re-verified, conforms", reference="V-OK-2")
    assert (closed["status"], closed["closed_by"], closed["closure_reference"]) == ("closed", "reviewer-a", "V-OK-2")
    close_finding(ws, CENTRE, never["id"], "已申请校准 calibration requested")  # nothing done yet

    run2 = run_review(ws, CENTRE, "E01", JULY_3)
    after = _by_key(ws)
    assert after["CCM-CAL-01|I-OK"]["status"] == "fixed" and after["CCM-CAL-01|I-OK"]["fixed_run"] == run2.run_key
    assert after["CCM-CAL-04|I-NONE"]["status"] == "reopened"
    assert after["CCM-CAL-04|I-NEW"]["status"] == "open"
    unchanged = set(first) - {"CCM-CAL-01|I-OK", "CCM-CAL-04|I-NONE"}
    assert {after[k]["status"] for k in unchanged} == {"open"}
    d = run_diff(ws, CENTRE, "E01")
    assert d.previous_run_key == "E01/review/1" and d.run.run_key == "E01/review/2"
    assert [x["key"] for x in d.new] == ["CCM-CAL-04|I-NEW"]
    assert [x["key"] for x in d.reopened] == ["CCM-CAL-04|I-NONE"]
    assert [x["key"] for x in d.fixed] == ["CCM-CAL-01|I-OK"]
    assert sorted(x["key"] for x in d.persisting) == sorted(unchanged)
    assert d.counts() == {"new": 1, "persisting": len(unchanged), "reopened": 1, "fixed": 1}
    assert run2.diff_counts == {**d.counts(), "not_checked": 0}
    # the reopened one says so, naming the closure it undoes; the fixed one's history names who did what
    hist = {f["key"]: f["events"] for f in list_findings(ws, CENTRE, "E01", history=True)}
    reopened = hist["CCM-CAL-04|I-NONE"][-1]
    assert reopened["action"] == "reopened" and "calibration requested" in reopened["note"]
    assert [(e["action"], e["actor"]) for e in hist["CCM-CAL-01|I-OK"]] == [
        ("opened", "reviewer-a"), ("acknowledged", "e01-user"), ("closed", "reviewer-a"), ("fixed", "reviewer-a")]
    assert hist["CCM-CAL-01|I-OK"][2]["reference"] == "V-OK-2"
    # the diff of the first run is still the first run's
    assert run_diff(ws, CENTRE, "E01", run_id=list_runs(ws, CENTRE, "E01")[0].id).counts()["new"] == len(first)
    assert [f["key"] for f in list_findings(ws, CENTRE, "E01", status="reopened")] == ["CCM-CAL-04|I-NONE"]

    # every write is in the audit log and the tables reconcile with it
    with ws.session() as s:
        logged = Counter(dict(s.execute(select(AuditEntry.entity, func.count()).where(AuditEntry.entity.in_(TABLES))
                                        .group_by(AuditEntry.entity)).all()))
    assert logged["review_run"] == 2
    assert logged["review_run_finding"] == run2.findings + len(first)
    assert logged["review_finding_event"] == len(first) + 1 + 1 + 2 + 1 + 1  # opened ×n, new, ack, closes, fixed, reopened
    rep = verify_audit_log(ws, Scope.centre())
    assert rep["ok"], rep["reconcile"]["discrepancies"][:3]
    assert {t: rep["reconcile"]["rows"][t] for t in TABLES}["review_run"] == 2


def test_a_reopened_finding_can_be_closed_again_and_a_fixed_one_recurring_is_reopened(ws: Workspace,
                                                                                      tmp_path: Path) -> None:
    run_review(ws, CENTRE, "E01", JULY_1)
    ok = _by_key(ws)["CCM-CAL-01|I-OK"]
    close_finding(ws, CENTRE, ok["id"], "送检 sent for verification")
    run_review(ws, CENTRE, "E01", JULY_1)  # nothing changed: reopened
    assert _by_key(ws)["CCM-CAL-01|I-OK"]["status"] == "reopened"
    close_finding(ws, CENTRE, ok["id"], "检定合格", reference="V-OK-2")
    fix = tmp_path / "certificates.csv"
    fix.write_text("cert_no,kind,subject,subject_kind,issuer_org,calibration_date,valid_until,conclusion\n"
                   "V-OK-2,verification,I-OK,instrument,C01,2025-07-02,2025-07-31,conforms\n", encoding="utf-8")
    import_registry(ws, Scope.centre(), [fix])
    run_review(ws, CENTRE, "E01", JULY_3)
    assert _by_key(ws)["CCM-CAL-01|I-OK"]["status"] == "fixed"
    with pytest.raises(FindingStateError, match="cannot be closed"):
        close_finding(ws, CENTRE, ok["id"], "again")
    run4 = run_review(ws, CENTRE, "E01", date(2025, 8, 5))  # the new certificate ran out on 31 July
    assert _by_key(ws)["CCM-CAL-01|I-OK"]["status"] == "reopened" and run4.diff_counts["reopened"] == 1
    note = list_findings(ws, CENTRE, "E01", status="reopened", history=True)[0]["events"][-1]["note"]
    assert "fixed in run E01/review/3" in note


def test_bad_ids_steps_and_filters_are_refused_clearly(ws: Workspace) -> None:
    with pytest.raises(NotInScope, match="does not exist"):
        run_diff(ws, CENTRE, "E01")  # no run stored yet
    run_review(ws, CENTRE, "E01", JULY_1)
    fid = _by_key(ws)["CCM-CAL-01|I-OK"]["id"]
    with pytest.raises(NotInScope, match="'999999'"):
        close_finding(ws, CENTRE, 999999, "x")
    with pytest.raises(ServiceError, match="whole number"):
        acknowledge_finding(ws, CENTRE, "abc")
    with pytest.raises(FindingStateError, match="needs evidence"):
        close_finding(ws, CENTRE, fid, " ")
    assert close_finding(ws, CENTRE, f"F{fid}", "ok")["status"] == "closed"  # "F12" reads as finding 12
    with pytest.raises(FindingStateError, match="cannot be acknowledged"):
        acknowledge_finding(ws, CENTRE, fid)
    with pytest.raises(ReviewError, match="unknown status"):
        list_findings(ws, CENTRE, status="done")
    with pytest.raises(ServiceError, match="kind"):
        list_runs(ws, CENTRE, kind="audit")
    with pytest.raises(NotInScope):
        run_diff(ws, CENTRE, "E01", run_id=999999)
    with pytest.raises(AccessDenied):
        close_finding(ws, Scope.enterprise("E01"), fid, "x")
    with pytest.raises(ReviewError, match="unknown review profile"):
        run_review(ws, CENTRE, "E01", JULY_1, profile="nope")
    assert len(list_runs(ws, CENTRE, "E01")) == 1  # nothing stored by the refused calls
