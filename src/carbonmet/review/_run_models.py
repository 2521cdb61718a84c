"""The tables of stored review and verification runs (审查/核查记录), on :class:`carbonmet.db.Base`.

``review_run`` one row per run; ``review_run_finding`` the findings of a run as they were found (one row each);
``review_finding`` one row per tracked problem of an enterprise's series of runs with its lifecycle status;
``review_finding_event`` the history of a tracked finding (opened, acknowledged, closed, fixed, reopened: who, when,
evidence); ``review_verified_stream`` the verified account of a verification run (one row per stream and the total).

Rows are written once except ``review_finding`` (its status changes). Every write is logged in the audit chain
under the table's name and the row's unique key, and reconciled (:func:`carbonmet.db.reconcile`). Every row
carries its ``enterprise`` so that the services' write guard attributes it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, KeyedReconciler, register_reconciler

RUN, RUN_FINDING, FINDING, EVENT, VERIFIED = (
    "review_run", "review_run_finding", "review_finding", "review_finding_event", "review_verified_stream")
#: Kinds of run: a metrology review (计量审查) or a verification (碳核查).
KINDS = ("review", "verify")
#: Lifecycle of a tracked finding: open → acknowledged → closed (with evidence); a later run marks it fixed
#: (no longer found) or reopened (found again after it was closed or fixed).
STATUSES = ("open", "acknowledged", "closed", "fixed", "reopened")
#: How a run's finding relates to the series before it.
CHANGES = ("new", "persisting", "reopened")


class ReviewRun(Base):
    """One stored review or verification run (一次审查/核查)."""

    __tablename__ = RUN
    id: Mapped[int] = mapped_column(primary_key=True)
    run_key: Mapped[str] = mapped_column(String(160), unique=True)  # "<series>/<seq>"
    series: Mapped[str] = mapped_column(String(140), index=True)  # "E01/review" or "E01/verify/2025"
    seq: Mapped[int] = mapped_column(Integer)
    enterprise: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    on_date: Mapped[date | None] = mapped_column(Date)  # the review date (a verification: None)
    year: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[str] = mapped_column(String(40))
    profile: Mapped[str] = mapped_column(String(64))
    profile_version: Mapped[str] = mapped_column(String(32))
    rule_files: Mapped[str] = mapped_column(Text)  # JSON [{"file", "sha256"}]
    report_file: Mapped[str | None] = mapped_column(String(255))
    report_sha256: Mapped[str | None] = mapped_column(String(64))
    sampling: Mapped[str] = mapped_column(Text)  # JSON, the verification's sampling plan ([] for a review)
    materiality: Mapped[str] = mapped_column(Text)  # JSON ({} for a review)
    items_checked: Mapped[int] = mapped_column(Integer)  # instruments reviewed / report rows verified
    counts: Mapped[str] = mapped_column(Text)  # JSON severity -> n
    previous_run_key: Mapped[str | None] = mapped_column(String(160))
    diff_counts: Mapped[str] = mapped_column(Text)  # JSON new/persisting/reopened/fixed/not_checked -> n
    __table_args__ = (CheckConstraint(f"kind IN {KINDS}", name="ck_review_run_kind"),)


class ReviewRunFinding(Base):
    """One finding of one run, as found (运行发现)."""

    __tablename__ = RUN_FINDING
    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_key: Mapped[str] = mapped_column(String(180), unique=True)  # "<run_key>#<n>"
    run_key: Mapped[str] = mapped_column(String(160), index=True)
    finding_id: Mapped[int] = mapped_column(Integer, index=True)  # the tracked finding (review_finding.id)
    enterprise: Mapped[str] = mapped_column(String(64))
    finding_key: Mapped[str] = mapped_column(String(255))
    change: Mapped[str] = mapped_column(String(12))
    rule_id: Mapped[str] = mapped_column(String(64))
    check_name: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(12))
    instrument: Mapped[str] = mapped_column(String(64))
    point: Mapped[str] = mapped_column(String(64))
    certificate: Mapped[str] = mapped_column(String(64))
    standard: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    clause: Mapped[str] = mapped_column(Text)
    evidence_mark: Mapped[str] = mapped_column(String(8))
    evidence: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    recommendation: Mapped[str] = mapped_column(Text)
    rule_source: Mapped[str] = mapped_column(String(255))
    report_row: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (CheckConstraint(f"change IN {CHANGES}", name="ck_review_run_finding_change"),)


class ReviewFinding(Base):
    """A problem tracked across the runs of one series until it is fixed (跟踪的发现)."""

    __tablename__ = FINDING
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_ref: Mapped[str] = mapped_column(String(400), unique=True)  # "<series>/<finding_key>"
    series: Mapped[str] = mapped_column(String(140), index=True)
    enterprise: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    finding_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(12))
    rule_id: Mapped[str] = mapped_column(String(64))
    check_name: Mapped[str] = mapped_column(String(48))
    subject: Mapped[str] = mapped_column(String(64))  # the instrument (review) or the stream (verification)
    period: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)  # as last found
    recommendation: Mapped[str] = mapped_column(Text)
    first_run_key: Mapped[str] = mapped_column(String(160))
    last_run_key: Mapped[str] = mapped_column(String(160))  # the last run that found it
    updated_at: Mapped[str] = mapped_column(String(40))
    updated_by: Mapped[str] = mapped_column(String(96))
    acknowledged_by: Mapped[str | None] = mapped_column(String(96))
    acknowledged_at: Mapped[str | None] = mapped_column(String(40))
    closed_by: Mapped[str | None] = mapped_column(String(96))
    closed_at: Mapped[str | None] = mapped_column(String(40))
    closure_evidence: Mapped[str | None] = mapped_column(Text)
    closure_reference: Mapped[str | None] = mapped_column(String(128))
    fixed_run_key: Mapped[str | None] = mapped_column(String(160))
    events: Mapped[int] = mapped_column(Integer)  # number of events (the next event's number - 1)
    __table_args__ = (CheckConstraint(f"status IN {STATUSES}", name="ck_review_finding_status"),)


class ReviewFindingEvent(Base):
    """One step in the life of a tracked finding (发现处理记录): who, when, what, with which evidence."""

    __tablename__ = EVENT
    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(40), unique=True)  # "F<finding id>.<n>"
    finding_id: Mapped[int] = mapped_column(Integer, index=True)
    enterprise: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # opened, acknowledged, closed, fixed, reopened
    status_before: Mapped[str | None] = mapped_column(String(16))
    status_after: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(96))
    at: Mapped[str] = mapped_column(String(40))
    run_key: Mapped[str | None] = mapped_column(String(160), index=True)
    evidence: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text)


class ReviewVerifiedStream(Base):
    """One row of the verified account of a verification run (核查后排放量), per stream and ``total``."""

    __tablename__ = VERIFIED
    id: Mapped[int] = mapped_column(primary_key=True)
    row_key: Mapped[str] = mapped_column(String(230), unique=True)  # "<run_key>/<stream>"
    run_key: Mapped[str] = mapped_column(String(160), index=True)
    enterprise: Mapped[str] = mapped_column(String(64), index=True)
    year: Mapped[int] = mapped_column(Integer)
    stream: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(32))
    reported_amount: Mapped[float | None] = mapped_column(Float)
    verified_amount: Mapped[float | None] = mapped_column(Float)
    reported_tco2: Mapped[float] = mapped_column(Float)
    verified_tco2: Mapped[float] = mapped_column(Float)
    difference_tco2: Mapped[float] = mapped_column(Float)
    difference_pct: Mapped[float | None] = mapped_column(Float)
    u_tco2: Mapped[float] = mapped_column(Float)  # expanded uncertainty U of the verified emissions
    materiality_tco2: Mapped[float] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(16))
    months_checked: Mapped[str] = mapped_column(Text)  # JSON list of YYYY-MM


#: table → its unique key column (the audit entries' ``entity_key``)
KEYS = {RUN: "run_key", RUN_FINDING: "occurrence_key", FINDING: "finding_ref", EVENT: "event_key",
        VERIFIED: "row_key"}

register_reconciler(RUN, lambda: KeyedReconciler(ReviewRun, KEYS[RUN]))
register_reconciler(RUN_FINDING, lambda: KeyedReconciler(ReviewRunFinding, KEYS[RUN_FINDING]))
register_reconciler(FINDING, lambda: KeyedReconciler(ReviewFinding, KEYS[FINDING]))
register_reconciler(EVENT, lambda: KeyedReconciler(ReviewFindingEvent, KEYS[EVENT]))
register_reconciler(VERIFIED, lambda: KeyedReconciler(ReviewVerifiedStream, KEYS[VERIFIED]))
