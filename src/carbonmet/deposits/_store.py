"""Storing deposits (存证存储): every version kept, every version audited, evidence bytes kept by hash.

:func:`save_deposits` stores a checked deposit file in the caller's transaction: for each row the next version
of its (enterprise, month, stream, parameter) — version 1, or a correction (n + 1) that must give a ``reason``;
a row equal to the latest version stores nothing. Each stored version is one ``monthly_deposit`` row and one
audit entry (:func:`carbonmet.db.record`, entity ``monthly_deposit``, key ``E01/2025-03/boiler_coal/
activity_data/v1``) whose data are every column of the row, the content hash among them. The evidence files
and the deposit file itself are copied into the :class:`EvidenceStore` by their SHA-256.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import lock_chain, record
from ..sites import MonitoringPlan, load_plan, plan_versions
from ._evidence import EvidenceStore
from ._models import DEPOSIT, KEY_MAX, DepositRecord
from ._reader import DepositFile, DepositInput
from ._rules import DepositRules, deadline, deposit_rules, month_end, month_over, status_of
from ._types import Deposit, DepositError, DepositProblem, Evidence, content_hash, deposit_key


@dataclass(frozen=True, slots=True)
class DepositReport:
    """What :func:`save_deposits` did with one file: ``rows == len(stored) + len(unchanged)``.

    ``stored`` are the new versions (1, or corrections); ``unchanged`` the latest versions that already held
    what a row says (nothing new stored for them).
    """

    file: str
    sha256: str
    enterprise: str
    month: str
    plan_version: int
    rows: int
    stored: tuple[Deposit, ...]
    unchanged: tuple[Deposit, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sha256": self.sha256, "enterprise": self.enterprise, "month": self.month,
                "plan_version": self.plan_version, "rows": self.rows, "stored": [d.to_dict() for d in self.stored],
                "unchanged": [d.to_dict() for d in self.unchanged]}


def _evidence_json(evidence: tuple[Evidence, ...]) -> str:
    return json.dumps([e.to_dict() for e in evidence], ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def to_deposit(r: DepositRecord) -> Deposit:
    """A stored row as a :class:`Deposit`."""
    ev = tuple(Evidence(str(e["name"]), str(e["sha256"]), str(e["kind"]), int(e["size"]))
               for e in json.loads(r.evidence))
    return Deposit(r.enterprise, r.month, r.source_stream, r.parameter, r.version, r.value, r.unit, ev, r.note,
                   r.reason, datetime.fromisoformat(r.uploaded_at), r.deadline, r.authority_deadline, r.status,
                   r.plan_version, r.source_file, r.source_sha256, r.source_row, r.content_hash)


def _state(r: DepositRecord) -> dict[str, Any]:
    return {c.name: getattr(r, c.name) for c in DepositRecord.__table__.columns}


def _same(d: Deposit, row: DepositInput) -> bool:
    """Whether the latest version already says what the row says (value, unit, evidence, note)."""
    return (d.value == row.value and d.unit == row.unit and d.note == row.note
            and {(e.name, e.sha256, e.kind) for e in d.evidence} == {(e.name, e.sha256, e.kind) for e in row.evidence})


def _latest(session: Session, enterprise: str, month: str) -> dict[tuple[str, str], DepositRecord]:
    out: dict[tuple[str, str], DepositRecord] = {}
    for r in session.scalars(select(DepositRecord).where(DepositRecord.enterprise == enterprise,
                                                         DepositRecord.month == month)
                             .order_by(DepositRecord.version)):
        out[(r.source_stream, r.parameter)] = r
    return out


def save_deposits(session: Session, df: DepositFile, *, actor: str, now: datetime, tz: str,
                  evidence: EvidenceStore, rules: DepositRules | None = None) -> DepositReport:
    """Store a checked deposit file as new versions, audited, in the caller's transaction.

    Parameters
    ----------
    session : Session
        The transaction that writes (the caller commits).
    df : DepositFile
        As :func:`read_deposit_file` returned it.
    actor : str
        Who deposits (audit log).
    now : datetime
        The platform's clock (aware): the deposits' ``uploaded_at``, and the time the status is judged at.
    tz : str
        IANA zone of the deposit months and deadlines (the workspace's zone).
    evidence : EvidenceStore
        Where the evidence files and the deposit file are kept by their hash.
    rules : DepositRules, optional
        Default :func:`deposit_rules`.

    Returns
    -------
    DepositReport

    Raises
    ------
    DepositError
        The month has not ended at ``now`` (its values are not final); a row changes the latest version without a
        ``reason``; an audit key would be longer than the log holds; an evidence file changed after it was read.
        Nothing is stored then (the caller rolls back).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rules = rules or deposit_rules()
    fname = str(df.path)
    if not month_over(df.month, now, tz):
        raise DepositError(fname, [DepositProblem(fname, "-", "month", f"{df.month} 尚未结束，月度数值未定 / {df.month} "
                                                  f"has not ended yet ({now.isoformat()}): its monthly values are "
                                                  "not final")])
    lock_chain(session)  # one writer at a time: two deposits cannot both take version n + 1
    latest = _latest(session, df.enterprise, df.month)
    problems: list[DepositProblem] = []
    plan: list[tuple[DepositInput, int]] = []
    unchanged: list[Deposit] = []
    for row in df.rows:
        cur = latest.get((row.source_stream, row.parameter))
        if cur is not None and _same(to_deposit(cur), row):
            unchanged.append(to_deposit(cur))
            continue
        version = cur.version + 1 if cur is not None else 1
        if cur is not None and row.reason is None:
            problems.append(DepositProblem(fname, row.row, "reason", f"修正第 {cur.version} 版须说明原因 / this changes "
                                           f"version {cur.version} ({cur.value:g} {cur.unit}, deposited "
                                           f"{cur.uploaded_at[:10]}): a correction needs a reason"))
        key = deposit_key(df.enterprise, df.month, row.source_stream, row.parameter, version)
        if len(key) > KEY_MAX:
            problems.append(DepositProblem(fname, row.row, "source_stream", f"存证键过长 / the deposit key {key[:40]!r}… "
                                           f"is {len(key)} characters, over the audit log's {KEY_MAX}"))
        plan.append((row, version))
    if problems:
        raise DepositError(fname, problems)
    stamp = now.astimezone(UTC)
    days, adays = int(rules.enterprise_days.value), int(rules.authority_days.value)
    status = status_of(stamp, df.month, days, tz)
    stored: list[Deposit] = []
    if plan:
        try:
            for row, _ in plan:
                for e, path in zip(row.evidence, row.paths, strict=True):
                    evidence.put(path, e.sha256)
            evidence.put(df.path, df.sha256)
        except (ValueError, OSError) as exc:
            raise DepositError(fname, [DepositProblem(fname, "-", "evidence", str(exc))]) from None
    for row, version in plan:
        d = Deposit(df.enterprise, df.month, row.source_stream, row.parameter, version, row.value, row.unit,
                    row.evidence, row.note, row.reason, stamp, deadline(df.month, days), deadline(df.month, adays),
                    status, df.plan_version, df.name[:255], df.sha256, row.row)
        d = replace(d, content_hash=content_hash(d))
        rec = DepositRecord(deposit_key=d.key, enterprise=d.enterprise, month=d.month, source_stream=d.source_stream,
                            parameter=d.parameter, version=d.version, value=d.value, unit=d.unit,
                            evidence=_evidence_json(d.evidence), note=d.note, reason=d.reason,
                            uploaded_at=d.content()["uploaded_at"], deadline=d.deadline,
                            authority_deadline=d.authority_deadline, status=d.status, plan_version=d.plan_version,
                            source_file=d.source_file, source_sha256=d.source_sha256, source_row=d.source_row,
                            content_hash=d.content_hash)
        session.add(rec)
        session.flush()
        record(session, actor=actor, action="create", entity=DEPOSIT, key=d.key, data=_state(rec))
        stored.append(d)
    return DepositReport(fname, df.sha256, df.enterprise, df.month, df.plan_version, len(df.rows), tuple(stored),
                         tuple(unchanged))


def load_deposits(session: Session, enterprise: str, *, year: int | None = None, month: str | None = None,
                  latest: bool = False) -> list[Deposit]:
    """Stored deposits of an enterprise (of a year or a month), by month, stream, parameter and version.

    With ``latest`` only the latest version of each (month, stream, parameter).
    """
    stmt = select(DepositRecord).where(DepositRecord.enterprise == enterprise)
    if month is not None:
        stmt = stmt.where(DepositRecord.month == month)
    if year is not None:
        stmt = stmt.where(DepositRecord.month.like(f"{year:04d}-%"))
    stmt = stmt.order_by(DepositRecord.month, DepositRecord.source_stream, DepositRecord.parameter,
                         DepositRecord.version)
    out = [to_deposit(r) for r in session.scalars(stmt)]
    if not latest:
        return out
    last: dict[tuple[str, str, str], Deposit] = {}
    for d in out:
        last[(d.month, d.source_stream, d.parameter)] = d
    return list(last.values())



def plan_for_month(session: Session, enterprise: str, month: str) -> MonitoringPlan | None:
    """The version of the enterprise's monitoring plan in force in ``month``: the latest version whose
    ``valid_from`` is on or before the month's last day (None when there is none)."""
    end = month_end(month)
    versions = [v for v in plan_versions(session, enterprise) if v.valid_from <= end]
    if not versions:
        return None
    return load_plan(session, enterprise, max(v.version for v in versions))
