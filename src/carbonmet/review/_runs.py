"""Stored review and verification runs and the lifecycle of their findings (审查/核查记录与发现闭环).

A run is stored in a **series**: the reviews of one enterprise (``E01/review``) or the verifications of one
enterprise's year (``E01/verify/2025`` — a verification of 2026 does not fix a finding of 2025). Each finding of
a run has a stable key (:meth:`Finding.key`, :meth:`VerificationFinding.key`); the same key in the same series is
the same **tracked finding**, whose status follows

.. code-block:: text

    open ──acknowledge──► acknowledged ──close (evidence)──► closed
      └─────────────────────close (evidence)─────────────────┘
    next run of the series: not found  (its rule applied) → fixed
                            found again, was closed or fixed → reopened (acknowledge / close again)

An open, acknowledged or reopened finding that the next run no longer finds is fixed too (its event says that no
closure was recorded). A finding whose rule the next run did not apply (another profile, a local rule set without
it) keeps its status: that run could not see it (``not_checked``).

The diff of a run against the series before it: ``new`` (never found before), ``persisting`` (still open from an
earlier run), ``reopened`` (found again after it was closed or fixed) and ``fixed`` (found before, not now).

Pure parts: :func:`plan_lifecycle`, :func:`next_status`. The rest reads and writes the tables of
:mod:`carbonmet.review._run_models` in the caller's session, logging every write in the audit chain.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import record
from ._engine import Finding, ReviewResult
from ._errors import ReviewError
from ._rules import RuleSet
from ._run_models import (
    KEYS,
    STATUSES,
    ReviewFinding,
    ReviewFindingEvent,
    ReviewRun,
    ReviewRunFinding,
    ReviewVerifiedStream,
)
from ._verify import VerificationFinding, VerificationResult, VerifiedStream

S = TypeVar("S")
Restrict = Callable[[Any, Any], Any]
"""A filter applied to a select and an ``enterprise`` column (the services pass ``Scope.where``)."""

#: Statuses a user may acknowledge or close from.
_OPEN = ("open", "reopened")
_CLOSABLE = ("open", "acknowledged", "reopened")
_DONE = ("closed", "fixed")


class FindingStateError(ReviewError, ValueError):
    """A finding cannot take this step from its status (e.g. closing a fixed finding), or closing lacks evidence."""


# --- pure --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Lifecycle:
    """What one run does to the tracked findings of its series (:func:`plan_lifecycle`).

    ``changes``: the run's finding keys → ``new``, ``persisting`` or ``reopened``; ``fixed``: tracked keys the run
    no longer finds (their rule applied); ``not_checked``: tracked keys not found whose rule the run did not apply.
    """

    changes: dict[str, str]
    fixed: tuple[str, ...]
    not_checked: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        out = {c: 0 for c in ("new", "persisting", "reopened")}
        for c in self.changes.values():
            out[c] += 1
        return {**out, "fixed": len(self.fixed), "not_checked": len(self.not_checked)}


def plan_lifecycle(found: Iterable[str], tracked: Mapping[str, tuple[str, str]],
                   applied_rules: Iterable[str]) -> Lifecycle:
    """Classify a run's findings against the tracked findings of its series.

    Parameters
    ----------
    found : iterable of str
        The keys of the run's findings.
    tracked : mapping
        Key → (status, rule_id) of every finding tracked in the series before the run.
    applied_rules : iterable of str
        The rule ids of the run's rule set.

    Returns
    -------
    Lifecycle
        A found key is ``new`` (not tracked), ``reopened`` (tracked as closed or fixed) or ``persisting``. A tracked
        key not found is ``fixed`` when its status is not fixed already and its rule applied, else ``not_checked``
        when its rule did not apply (already fixed ones are left alone).
    """
    keys = list(dict.fromkeys(found))
    rules = set(applied_rules)
    changes: dict[str, str] = {}
    for k in keys:
        st = tracked.get(k)
        changes[k] = "new" if st is None else "reopened" if st[0] in _DONE else "persisting"
    present = set(keys)
    fixed: list[str] = []
    unseen: list[str] = []
    for k, (status, rule) in sorted(tracked.items()):
        if k in present or status == "fixed":
            continue
        (fixed if rule in rules else unseen).append(k)
    return Lifecycle(changes, tuple(fixed), tuple(unseen))


def next_status(status: str, action: str, *, evidence: str | None = None) -> str:
    """The status after a user's ``action`` (``acknowledge`` or ``close``) on a finding in ``status``.

    Raises
    ------
    FindingStateError
        The step is not allowed from ``status``, or ``close`` has no evidence text.
    """
    if status not in STATUSES:
        raise FindingStateError(f"未知状态 unknown status {status!r}")
    if action == "acknowledge":
        if status not in _OPEN:
            raise FindingStateError(f"状态为 {status} 的发现不能确认 / a finding that is {status} cannot be acknowledged "
                                    f"(only {' or '.join(_OPEN)} ones)")
        return "acknowledged"
    if action == "close":
        if status not in _CLOSABLE:
            raise FindingStateError(f"状态为 {status} 的发现不能关闭 / a finding that is {status} cannot be closed "
                                    f"(only {', '.join(_CLOSABLE)} ones)")
        if not (evidence or "").strip():
            raise FindingStateError("关闭发现须提供整改证据 / closing a finding needs evidence (text: what was done)")
        return "closed"
    raise FindingStateError(f"未知操作 unknown action {action!r}; expected acknowledge or close")


# --- records -----------------------------------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _row_data(row: Any) -> dict[str, Any]:
    return {c.name: getattr(row, c.key) for c in row.__table__.columns}


def _log(s: Session, actor: str, action: str, row: Any) -> None:
    s.flush()
    table = row.__table__.name
    record(s, actor=actor, action=action, entity=table, key=str(getattr(row, KEYS[table])), data=_row_data(row))


def _json(x: Any) -> str:
    return json.dumps(x, ensure_ascii=False, sort_keys=True, default=str)


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def rule_file_hashes(kind: str, rules: RuleSet) -> list[dict[str, str]]:
    """SHA-256 of every file of a rule set: the shipped profile (``data/<profile>.csv``, or ``data/verify/…`` for a
    verification) and each local rule file, in the order they were read."""
    out = []
    for i, f in enumerate(rules.files):
        if i == 0:
            sub = "data/verify" if kind == "verify" else "data"
            data = resources.files(__package__).joinpath(f"{sub}/{f}").read_bytes()
        else:
            data = Path(f).read_bytes()
        out.append({"file": f, "sha256": hashlib.sha256(data).hexdigest()})
    return out


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A stored run (审查/核查记录) as the services return it."""

    id: int
    run_key: str
    series: str
    enterprise: str
    kind: str
    on: date | None
    year: int
    actor: str
    created_at: str
    profile: str
    profile_version: str
    rule_files: list[dict[str, str]]
    report_file: str | None
    report_sha256: str | None
    sampling: list[dict[str, Any]]
    materiality: dict[str, Any]
    items_checked: int
    counts: dict[str, int]
    previous_run_key: str | None
    diff_counts: dict[str, int]
    findings: int

    @classmethod
    def of(cls, r: ReviewRun, findings: int) -> RunRecord:
        return cls(r.id, r.run_key, r.series, r.enterprise, r.kind, r.on_date, r.year, r.actor, r.created_at,
                   r.profile, r.profile_version, json.loads(r.rule_files), r.report_file, r.report_sha256,
                   json.loads(r.sampling), json.loads(r.materiality), r.items_checked, json.loads(r.counts),
                   r.previous_run_key, json.loads(r.diff_counts), findings)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "run_key": self.run_key, "series": self.series, "enterprise": self.enterprise,
                "kind": self.kind, "on": self.on.isoformat() if self.on else None, "year": self.year,
                "actor": self.actor, "created_at": self.created_at, "profile": self.profile,
                "profile_version": self.profile_version, "rule_files": self.rule_files,
                "report_file": self.report_file, "report_sha256": self.report_sha256, "sampling": self.sampling,
                "materiality": self.materiality, "items_checked": self.items_checked, "counts": self.counts,
                "previous_run_key": self.previous_run_key, "diff": self.diff_counts, "findings": self.findings}


def finding_dict(f: ReviewFinding) -> dict[str, Any]:
    """A tracked finding as plain data (``id`` is what ``carbonmet findings close ID`` takes)."""
    return {"id": f.id, "finding_ref": f.finding_ref, "series": f.series, "enterprise": f.enterprise,
            "kind": f.kind, "key": f.finding_key, "status": f.status, "severity": f.severity, "rule_id": f.rule_id,
            "check": f.check_name, "subject": f.subject, "period": f.period, "message": f.message,
            "recommendation": f.recommendation, "first_run": f.first_run_key, "last_run": f.last_run_key,
            "updated_at": f.updated_at, "updated_by": f.updated_by, "acknowledged_by": f.acknowledged_by,
            "acknowledged_at": f.acknowledged_at, "closed_by": f.closed_by, "closed_at": f.closed_at,
            "closure_evidence": f.closure_evidence, "closure_reference": f.closure_reference,
            "fixed_run": f.fixed_run_key}


def event_dict(e: ReviewFindingEvent) -> dict[str, Any]:
    return {"event": e.event_key, "finding_id": e.finding_id, "action": e.action, "status_before": e.status_before,
            "status_after": e.status_after, "actor": e.actor, "at": e.at, "run": e.run_key, "evidence": e.evidence,
            "reference": e.reference, "note": e.note}


def occurrence_dict(o: ReviewRunFinding) -> dict[str, Any]:
    return {"finding_id": o.finding_id, "key": o.finding_key, "change": o.change, "rule_id": o.rule_id,
            "check": o.check_name, "severity": o.severity, "instrument": o.instrument, "point": o.point,
            "certificate": o.certificate, "standard": o.standard, "stream": o.stream, "period": o.period,
            "clause": o.clause, "evidence_mark": o.evidence_mark, "evidence": o.evidence, "message": o.message,
            "recommendation": o.recommendation, "rule_source": o.rule_source, "report_row": o.report_row}


def _event(s: Session, f: ReviewFinding, action: str, before: str | None, actor: str, at: str, *,
           run_key: str | None = None, evidence: str | None = None, reference: str | None = None,
           note: str = "") -> ReviewFindingEvent:
    """Log one event of ``f`` (its status already changed); the caller logs ``f`` after it (its event count)."""
    f.events += 1
    e = ReviewFindingEvent(event_key=f"F{f.id}.{f.events}", finding_id=f.id, enterprise=f.enterprise, action=action,
                           status_before=before, status_after=f.status, actor=actor, at=at, run_key=run_key,
                           evidence=evidence, reference=reference, note=note)
    s.add(e)
    _log(s, actor, "create", e)
    return e


def _occurrence_fields(f: Finding | VerificationFinding) -> dict[str, Any]:
    if isinstance(f, Finding):
        ev = "; ".join(x for x in (f"instrument {f.instrument}", f"point {f.point}" if f.point else "",
                                   f"certificate {f.certificate}" if f.certificate else "",
                                   f"standard {f.standard}" if f.standard else "") if x)
        return {"rule_id": f.rule_id, "check_name": f.check, "severity": f.severity, "instrument": f.instrument,
                "point": f.point, "certificate": f.certificate, "standard": f.standard, "stream": "", "period": "",
                "clause": f.clause, "evidence_mark": f.evidence, "evidence": ev, "message": f.message,
                "recommendation": f.recommendation, "rule_source": f.rule_source, "report_row": None}
    return {"rule_id": f.rule_id, "check_name": f.check, "severity": f.severity, "instrument": "", "point": "",
            "certificate": "", "standard": "", "stream": f.stream, "period": f.period, "clause": f.clause,
            "evidence_mark": f.evidence_mark, "evidence": f.evidence, "message": f.message,
            "recommendation": f.recommendation, "rule_source": f.rule_source, "report_row": f.report_row}


def _keyed(findings: Sequence[Finding | VerificationFinding]) -> list[tuple[str, Finding | VerificationFinding]]:
    """(key, finding) with keys made unique within the run (a second finding of the same key gets ``#2`` …)."""
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        k = f.key()
        seen[k] = seen.get(k, 0) + 1
        out.append((k if seen[k] == 1 else f"{k}#{seen[k]}", f))
    return out


def series_of(kind: str, enterprise: str, year: int) -> str:
    """The series a run belongs to: ``<E>/review``, or ``<E>/verify/<year>``."""
    return f"{enterprise}/review" if kind == "review" else f"{enterprise}/verify/{year}"


def store_run(session: Session, result: ReviewResult | VerificationResult, rules: RuleSet, *, actor: str,
              report_sha256: str | None = None) -> RunRecord:
    """Store a review or verification run with its findings (and a verification's verified account), move the
    series' tracked findings through their lifecycle (:func:`plan_lifecycle`) and log every write in the audit
    chain — all in the caller's transaction.

    Parameters
    ----------
    session : Session
    result : ReviewResult or VerificationResult
        What :func:`review_instruments` or :func:`verify_account` returned.
    rules : RuleSet
        The rule set the run applied (its files are hashed; its rule ids decide what a run could have found).
    actor : str
        Who ran it (the caller's user name).
    report_sha256 : str, optional
        SHA-256 of the verified report file.

    Returns
    -------
    RunRecord
    """
    now = _now()
    if isinstance(result, ReviewResult):
        kind, enterprise, year, on = "review", result.enterprise, result.on.year, result.on
        items, sampling, materiality, report_file = result.instruments_reviewed, [], {}, None
    else:
        kind, enterprise, year, on = "verify", result.enterprise, result.year, None
        sampling, materiality = result.sampling, result.materiality
        items = sum(len(x.get("months", [])) for x in result.sampling)  # stream-months checked
        report_file = Path(result.report_file).name
    series = series_of(kind, enterprise, year)
    session.flush()
    last = session.scalar(select(ReviewRun).where(ReviewRun.series == series).order_by(ReviewRun.seq.desc()).limit(1))
    seq = (last.seq + 1) if last is not None else 1
    run_key = f"{series}/{seq}"
    tracked = {f.finding_key: f for f in session.scalars(select(ReviewFinding).where(ReviewFinding.series == series))}
    keyed = _keyed(result.findings)
    plan = plan_lifecycle([k for k, _ in keyed], {k: (f.status, f.rule_id) for k, f in tracked.items()},
                          [r.rule_id for r in rules.rules])
    run = ReviewRun(run_key=run_key, series=series, seq=seq, enterprise=enterprise, kind=kind, on_date=on, year=year,
                    actor=actor, created_at=now, profile=rules.profile, profile_version=rules.version,
                    rule_files=_json(rule_file_hashes(kind, rules)), report_file=report_file,
                    report_sha256=report_sha256, sampling=_json(sampling), materiality=_json(materiality),
                    items_checked=items, counts=_json(result.counts()),
                    previous_run_key=last.run_key if last is not None else None, diff_counts=_json(plan.counts()))
    session.add(run)
    _log(session, actor, "create", run)
    for n, (k, f) in enumerate(keyed, start=1):
        occ = _occurrence_fields(f)
        change = plan.changes[k]
        subject = occ["instrument"] or occ["stream"]
        tf = tracked.get(k)
        if tf is None:
            tf = ReviewFinding(finding_ref=f"{series}/{k}", series=series, enterprise=enterprise, kind=kind,
                               finding_key=k, status="open", severity=occ["severity"], rule_id=occ["rule_id"],
                               check_name=occ["check_name"], subject=subject, period=occ["period"],
                               message=occ["message"], recommendation=occ["recommendation"], first_run_key=run_key,
                               last_run_key=run_key, updated_at=now, updated_by=actor, events=0)
            session.add(tf)
            session.flush()
            _event(session, tf, "opened", None, actor, now, run_key=run_key, note=f"found by run {run_key}")
            _log(session, actor, "create", tf)
        else:
            before = tf.status
            tf.severity, tf.message, tf.recommendation = occ["severity"], occ["message"], occ["recommendation"]
            tf.last_run_key, tf.updated_at, tf.updated_by = run_key, now, actor
            if change == "reopened":
                tf.status = "reopened"
                if before == "fixed":
                    how = f"fixed in run {tf.fixed_run_key}"
                else:
                    how = (f"closed {tf.closed_at} by {tf.closed_by}: {tf.closure_evidence}"
                           + (f" [{tf.closure_reference}]" if tf.closure_reference else ""))
                note = (f"重新出现 / found again by run {run_key} after it was {before} ({how})")
                _event(session, tf, "reopened", before, actor, now, run_key=run_key, note=note)
            _log(session, actor, "update", tf)
        o = ReviewRunFinding(occurrence_key=f"{run_key}#{n}", run_key=run_key, finding_id=tf.id,
                             enterprise=enterprise, finding_key=k, change=change, **occ)
        session.add(o)
        _log(session, actor, "create", o)
    for k in plan.fixed:
        tf = tracked[k]
        before = tf.status
        tf.status, tf.fixed_run_key, tf.updated_at, tf.updated_by = "fixed", run_key, now, actor
        note = (f"已整改 / no longer found by run {run_key}" + ("" if before == "closed" else
                f"; 未登记关闭证据 / it was {before}: no closure was recorded"))
        _event(session, tf, "fixed", before, actor, now, run_key=run_key, note=note)
        _log(session, actor, "update", tf)
    if isinstance(result, VerificationResult):
        for v in [*result.streams, *([result.total] if result.total is not None else [])]:
            row = ReviewVerifiedStream(
                row_key=f"{run_key}/{v.stream}", run_key=run_key, enterprise=enterprise, year=year, stream=v.stream,
                unit=v.unit, reported_amount=_finite(v.reported_amount), verified_amount=_finite(v.verified_amount),
                reported_tco2=v.reported_tco2, verified_tco2=v.verified_tco2, difference_tco2=v.difference_tco2,
                difference_pct=_finite(v.difference_pct), u_tco2=v.U_tco2, materiality_tco2=v.materiality_tco2,
                verdict=v.verdict, months_checked=_json(list(v.months_checked)))
            session.add(row)
            _log(session, actor, "create", row)
    session.flush()
    return RunRecord.of(run, len(keyed))


def acknowledge(session: Session, finding: ReviewFinding, *, actor: str, note: str = "") -> ReviewFinding:
    """Acknowledge a finding (确认): open or reopened → acknowledged; logged and audited."""
    before = finding.status
    finding.status = next_status(before, "acknowledge")
    now = _now()
    finding.acknowledged_by, finding.acknowledged_at = actor, now
    finding.updated_by, finding.updated_at = actor, now
    _event(session, finding, "acknowledged", before, actor, now, note=note)
    _log(session, actor, "update", finding)
    return finding


def close(session: Session, finding: ReviewFinding, *, actor: str, evidence: str,
          reference: str | None = None) -> ReviewFinding:
    """Close a finding (关闭) with the evidence of what was done (text) and an optional reference (a new certificate
    number, the replacing instrument's code, the corrected record's id); logged and audited. The next run of the
    series confirms it (fixed) or reopens it."""
    before = finding.status
    finding.status = next_status(before, "close", evidence=evidence)
    now = _now()
    ref = (reference or "").strip() or None
    finding.closed_by, finding.closed_at = actor, now
    finding.closure_evidence, finding.closure_reference = evidence.strip(), ref
    finding.updated_by, finding.updated_at = actor, now
    _event(session, finding, "closed", before, actor, now, evidence=evidence.strip(), reference=ref)
    _log(session, actor, "update", finding)
    return finding


# --- queries -----------------------------------------------------------------------------------------------------
def _same(stmt: S, _col: Any) -> S:
    return stmt


def get_finding(session: Session, finding_id: int) -> ReviewFinding | None:
    """The tracked finding with this id, or None."""
    return session.get(ReviewFinding, finding_id)


def get_run(session: Session, run_id: int) -> ReviewRun | None:
    """The run with this id, or None."""
    return session.get(ReviewRun, run_id)


def query_findings(session: Session, *, enterprise: str | None = None, status: str | None = None,
                   kind: str | None = None, restrict: Restrict = _same) -> list[ReviewFinding]:
    """Tracked findings, filtered; by enterprise, kind and id."""
    if status is not None and status not in STATUSES:
        raise ReviewError(f"未知状态 unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    stmt = restrict(select(ReviewFinding), ReviewFinding.enterprise)
    if enterprise is not None:
        stmt = stmt.where(ReviewFinding.enterprise == enterprise)
    if status is not None:
        stmt = stmt.where(ReviewFinding.status == status)
    if kind is not None:
        stmt = stmt.where(ReviewFinding.kind == kind)
    return list(session.scalars(stmt.order_by(ReviewFinding.enterprise, ReviewFinding.kind, ReviewFinding.id)))


def finding_events(session: Session, finding_id: int) -> list[ReviewFindingEvent]:
    """The history of a tracked finding, oldest first."""
    return list(session.scalars(select(ReviewFindingEvent).where(ReviewFindingEvent.finding_id == finding_id)
                                .order_by(ReviewFindingEvent.id)))


def query_runs(session: Session, *, enterprise: str | None = None, kind: str | None = None,
               restrict: Restrict = _same) -> list[RunRecord]:
    """Stored runs, filtered; by enterprise, series and number."""
    stmt = restrict(select(ReviewRun), ReviewRun.enterprise)
    if enterprise is not None:
        stmt = stmt.where(ReviewRun.enterprise == enterprise)
    if kind is not None:
        stmt = stmt.where(ReviewRun.kind == kind)
    runs = list(session.scalars(stmt.order_by(ReviewRun.enterprise, ReviewRun.series, ReviewRun.seq)))
    n = dict(session.execute(select(ReviewRunFinding.run_key, func.count()).where(
        ReviewRunFinding.run_key.in_([r.run_key for r in runs])).group_by(ReviewRunFinding.run_key)).all()) \
        if runs else {}
    return [RunRecord.of(r, int(n.get(r.run_key, 0))) for r in runs]


def latest_run(session: Session, enterprise: str, kind: str, year: int | None = None) -> ReviewRun | None:
    """The newest run of an enterprise and kind (a verification: of ``year`` when given)."""
    stmt = select(ReviewRun).where(ReviewRun.enterprise == enterprise, ReviewRun.kind == kind)
    if year is not None:
        stmt = stmt.where(ReviewRun.year == year)
    return session.scalar(stmt.order_by(ReviewRun.created_at.desc(), ReviewRun.id.desc()).limit(1))


@dataclass
class RunDiff:
    """A run against the series before it (与上次审查/核查比较): its findings that are new, persisting or reopened,
    and the findings it no longer found (fixed) or could not see (not checked)."""

    run: RunRecord
    previous_run_key: str | None
    new: list[dict[str, Any]] = field(default_factory=list)
    persisting: list[dict[str, Any]] = field(default_factory=list)
    reopened: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "persisting": len(self.persisting), "reopened": len(self.reopened),
                "fixed": len(self.fixed)}

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run.to_dict(), "previous_run_key": self.previous_run_key, "counts": self.counts(),
                "new": self.new, "persisting": self.persisting, "reopened": self.reopened, "fixed": self.fixed}


def run_diff(session: Session, run: ReviewRun) -> RunDiff:
    """The diff of a stored run against the series before it, as recorded when it was stored."""
    occ = list(session.scalars(select(ReviewRunFinding).where(ReviewRunFinding.run_key == run.run_key)
                               .order_by(ReviewRunFinding.id)))
    d = RunDiff(RunRecord.of(run, len(occ)), run.previous_run_key)
    events = {e.id: e for e in session.scalars(select(ReviewFindingEvent).where(
        ReviewFindingEvent.run_key == run.run_key))}
    for o in occ:
        getattr(d, o.change).append(occurrence_dict(o))
    fixed_ids = sorted({e.finding_id for e in events.values() if e.action == "fixed"})
    for fid in fixed_ids:
        f = session.get(ReviewFinding, fid)
        if f is not None:
            row = finding_dict(f)
            row["note"] = next(e.note for e in events.values() if e.finding_id == fid and e.action == "fixed")
            d.fixed.append(row)
    return d


@dataclass
class VerifiedAccount:
    """The verified account of an enterprise-year from its latest stored verification run (核查后排放量)."""

    enterprise: str
    year: int
    run_id: int
    run_key: str
    verified_by: str
    verified_at: str
    report_file: str | None
    report_sha256: str | None
    streams: list[VerifiedStream]
    total: VerifiedStream | None

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "year": self.year, "run_id": self.run_id, "run_key": self.run_key,
                "verified_by": self.verified_by, "verified_at": self.verified_at, "report_file": self.report_file,
                "report_sha256": self.report_sha256, "streams": [s.to_dict() for s in self.streams],
                "total": self.total.to_dict() if self.total else None}


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def verified_account_of(session: Session, enterprise: str, year: int) -> VerifiedAccount | None:
    """The verified account of the newest verification run of ``enterprise`` for ``year``, or None."""
    run = latest_run(session, enterprise, "verify", year)
    if run is None:
        return None
    rows = list(session.scalars(select(ReviewVerifiedStream).where(ReviewVerifiedStream.run_key == run.run_key)
                                .order_by(ReviewVerifiedStream.id)))
    out = []
    total = None
    for r in rows:
        v = VerifiedStream(r.stream, r.unit, _nan(r.reported_amount), _nan(r.verified_amount), r.reported_tco2,
                           r.verified_tco2, r.difference_tco2, r.difference_pct, r.u_tco2, r.materiality_tco2,
                           r.verdict, tuple(json.loads(r.months_checked)))
        if r.stream == "total" and r.row_key == f"{run.run_key}/total":
            total = v
        else:
            out.append(v)
    return VerifiedAccount(enterprise, year, run.id, run.run_key, run.actor, run.created_at, run.report_file,
                           run.report_sha256, out, total)
