"""Monitoring plans in the database: every version kept, every write audited (监测计划的版本存储).

Four tables on :class:`carbonmet.db.Base`, one row set per plan version:

* ``monitoring_plan`` — the header of one version, unique by (enterprise, version), with the SHA-256 of
  the version's content (:func:`plan_hash`);
* ``monitoring_plan_parameter`` — its parameter rows, in file order (``position``);
* ``monitoring_plan_change`` — its change log (修订记录);
* ``monitoring_plan_stream`` — its stream rows (源流类别: kind, material, form, balance …), when it has any.

A version, once stored, is never changed: a plan with different content is stored as the next version,
and a plan whose content equals the current version's is not stored again. Each version is logged with
:func:`carbonmet.db.record` as three entries keyed ``<enterprise>@<version>`` (the header row; the list
of parameter rows; the list of change rows) and a fourth (the list of stream rows) only when the plan
has stream rows — so a plan without them is stored and logged exactly as before the table existed. The
reconcilers of this package compare the entries with the tables (``carbonmet audit verify``). The enterprise is an organisation code of the registry; this
package does not depend on the registry, so the service that imports a plan checks that it exists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..db import AuditEntry, Base, lock_chain, record
from ..db.audit import canonical_json
from ._model import SOURCE_KINDS, STREAM_KINDS
from ._plan import (
    MonitoringPlan,
    PlanChangeRow,
    PlanError,
    PlanHeader,
    PlanParameterRow,
    PlanProblem,
    PlanStreamRow,
)

PLAN = "monitoring_plan"
PARAMETERS = "monitoring_plan_parameter"
CHANGES = "monitoring_plan_change"
STREAMS = "monitoring_plan_stream"


class PlanVersionRow(Base):
    """The header of one stored version of an enterprise's monitoring plan (计划版本)."""

    __tablename__ = PLAN
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    title: Mapped[str | None] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(96))
    content_hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (
        UniqueConstraint("enterprise", "version"),
        CheckConstraint("version >= 1", name="ck_monitoring_plan_version"),
    )


class PlanParameterRecord(Base):
    """One parameter row of a stored plan version (监测参数)."""

    __tablename__ = PARAMETERS
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey(f"{PLAN}.id"))
    position: Mapped[int] = mapped_column(Integer)
    site_code: Mapped[str] = mapped_column(String(64))
    emission_source: Mapped[str] = mapped_column(String(96))
    source_stream: Mapped[str] = mapped_column(String(96))
    parameter: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(48))
    source: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(96))
    method: Mapped[str | None] = mapped_column(String(200))
    frequency: Mapped[str] = mapped_column(String(16))
    instruments: Mapped[str] = mapped_column(Text)  # instrument ids joined by ";" (as in the CSV format)
    responsible: Mapped[str] = mapped_column(String(96))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("plan_id", "position"),
        CheckConstraint(f"source IN {SOURCE_KINDS}", name="ck_monitoring_plan_parameter_source"),
    )


class PlanChangeRecord(Base):
    """One change-log entry of a stored plan version (修订记录)."""

    __tablename__ = CHANGES
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey(f"{PLAN}.id"))
    position: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    changed_on: Mapped[date] = mapped_column(Date)
    changed_by: Mapped[str] = mapped_column(String(96))
    reason: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("plan_id", "position"),)


class PlanStreamRecord(Base):
    """One stream row of a stored plan version (源流类别: kind, material, form, balance, steam enthalpy)."""

    __tablename__ = STREAMS
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey(f"{PLAN}.id"))
    position: Mapped[int] = mapped_column(Integer)
    source_stream: Mapped[str] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(32))
    material: Mapped[str | None] = mapped_column(String(64))
    form: Mapped[str | None] = mapped_column(String(16))
    balance: Mapped[str | None] = mapped_column(String(96))
    enthalpy_kj_per_kg: Mapped[float | None] = mapped_column(Float)
    enthalpy_u_rel: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("plan_id", "position"),
        UniqueConstraint("plan_id", "source_stream"),
        CheckConstraint(f"kind IN {STREAM_KINDS}", name="ck_monitoring_plan_stream_kind"),
    )


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """One stored version of an enterprise's plan, as :func:`save_plan` and :func:`plan_versions` report it.

    ``created`` is False when :func:`save_plan` found the content equal to the current version's and stored
    nothing; ``imported_at`` and ``imported_by`` come from the version's audit entry.
    """

    enterprise: str
    version: int
    valid_from: date
    title: str | None
    content_hash: str
    parameters: int
    created: bool = True
    imported_at: str | None = None
    imported_by: str | None = None

    @property
    def key(self) -> str:
        """``<enterprise>@<version>``: the key of the version's audit entries."""
        return plan_key(self.enterprise, self.version)

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "version": self.version, "valid_from": self.valid_from.isoformat(),
                "title": self.title, "content_hash": self.content_hash, "parameters": self.parameters,
                "created": self.created, "imported_at": self.imported_at, "imported_by": self.imported_by}


def plan_key(enterprise: str, version: int) -> str:
    """The audit key of a plan version, ``E01@2``."""
    return f"{enterprise}@{version}"


def _param_sort(r: PlanParameterRow) -> tuple[str, str, str, str]:
    return (r.source_stream, r.parameter, (r.valid_from or date.min).isoformat(), r.ref)


def plan_hash(plan: MonitoringPlan) -> str:
    """SHA-256 (hex) of a plan's content: header without the version number, parameters, change log and
    — only when the plan has any — stream rows.

    Rows are taken in a canonical order (parameters by source stream, parameter, validity start;
    changes by version and date; streams by source stream), so the same plan written in another row
    order has the same hash. A plan without stream rows hashes as it did before the streams table
    existed, so versions stored then are still recognised as unchanged.
    """
    header = plan.header.model_dump(exclude={"version"})
    params = [r.model_dump() for r in sorted(plan.parameters, key=_param_sort)]
    changes = [c.model_dump() for c in sorted(plan.changes, key=lambda c: (c.version, c.changed_on, c.by,
                                                                            c.reason))]
    content: dict[str, Any] = {"plan": header, "parameters": params, "changes": changes}
    if plan.streams:
        content["streams"] = sorted((r.model_dump() for r in plan.streams),
                                    key=lambda d: (d["source_stream"], canonical_json(d)))
    text = canonical_json(content)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _current(session: Session, enterprise: str) -> PlanVersionRow | None:
    return session.scalar(select(PlanVersionRow).where(PlanVersionRow.enterprise == enterprise)
                          .order_by(PlanVersionRow.version.desc()).limit(1))


def _columns(model: type[Base]) -> list[str]:
    return [c.name for c in model.__table__.columns]


def _state(obj: Base) -> dict[str, Any]:
    return {c: getattr(obj, c) for c in _columns(type(obj))}


def save_plan(session: Session, plan: MonitoringPlan, actor: str, *, source: str | None = None) -> PlanVersion:
    """Store a plan as its enterprise's next version, audited; nothing stored if it equals the current one.

    Parameters
    ----------
    session : Session
        The session (and transaction) that writes; the caller commits.
    plan : MonitoringPlan
        The plan, as :func:`read_plan` read it.
    actor : str
        Who imports it (audit log).
    source : str, optional
        The file it came from, named in errors.

    Returns
    -------
    PlanVersion
        The new version (``created`` True), or the current one when its content (:func:`plan_hash`) is the
        same (``created`` False; then the file's version number is not checked).

    Raises
    ------
    PlanError
        The file's version number is not the next one: ``N + 1`` after a stored version ``N`` (so that
        the change log has an entry for the version it makes); any number for the first version.

    Notes
    -----
    Versions are never changed in place: earlier versions stay readable with :func:`load_plan`. The
    three audit entries (``monitoring_plan``, ``monitoring_plan_parameter``, ``monitoring_plan_change``,
    each keyed ``<enterprise>@<version>``) carry every column with the row ids; a plan with stream rows
    has a fourth (``monitoring_plan_stream``), a plan without them none.
    """
    lock_chain(session)  # one writer at a time: two imports cannot both take version N + 1
    digest = plan_hash(plan)
    cur = _current(session, plan.enterprise)
    if cur is not None and cur.content_hash == digest:
        count = session.scalar(select(func.count()).select_from(PlanParameterRecord)
                               .where(PlanParameterRecord.plan_id == cur.id)) or 0
        return PlanVersion(cur.enterprise, cur.version, cur.valid_from, cur.title, cur.content_hash, count,
                           created=False)
    expected = cur.version + 1 if cur is not None else plan.version
    if plan.version != expected:
        fname = source or f"plan of {plan.enterprise}"
        raise PlanError(fname, [PlanProblem(
            fname, "plan", "version",
            f"{plan.enterprise} 已存有第 {cur.version if cur else 0} 版，本文件内容不同，应为第 {expected} 版并附修订记录 / "
            f"{plan.enterprise} has stored version {cur.version if cur else 0} with other content; this file must "
            f"be version {expected}, with a change-log entry for it (got {plan.version})")])
    h = plan.header
    head = PlanVersionRow(enterprise=h.enterprise, version=plan.version, valid_from=h.valid_from, title=h.title,
                          approved_by=h.approved_by, content_hash=digest)
    session.add(head)
    session.flush()
    params = [PlanParameterRecord(plan_id=head.id, position=i, instruments=";".join(r.instruments),
                                  **r.model_dump(exclude={"instruments"}))
              for i, r in enumerate(plan.parameters)]
    changes = [PlanChangeRecord(plan_id=head.id, position=i, version=c.version, changed_on=c.changed_on,
                                changed_by=c.by, reason=c.reason) for i, c in enumerate(plan.changes)]
    streams = [PlanStreamRecord(plan_id=head.id, position=i, **r.model_dump()) for i, r in enumerate(plan.streams)]
    session.add_all([*params, *changes, *streams])
    session.flush()
    key = plan_key(h.enterprise, plan.version)
    record(session, actor=actor, action="create", entity=PLAN, key=key, data=_state(head))
    record(session, actor=actor, action="create", entity=PARAMETERS, key=key,
           data={"plan": key, "enterprise": h.enterprise, "rows": [_state(p) for p in params]})
    record(session, actor=actor, action="create", entity=CHANGES, key=key,
           data={"plan": key, "enterprise": h.enterprise, "rows": [_state(c) for c in changes]})
    if streams:  # a plan without stream rows is logged as before the table existed (three entries)
        record(session, actor=actor, action="create", entity=STREAMS, key=key,
               data={"plan": key, "enterprise": h.enterprise, "rows": [_state(r) for r in streams]})
    return PlanVersion(h.enterprise, plan.version, h.valid_from, h.title, digest, len(params))


def load_plan(session: Session, enterprise: str, version: int | None = None) -> MonitoringPlan | None:
    """A stored version of an enterprise's plan (default: the current one); None if there is none.

    The rows come back in the order they were imported, as the row models :func:`read_plan` returns.
    """
    stmt = select(PlanVersionRow).where(PlanVersionRow.enterprise == enterprise)
    stmt = stmt.where(PlanVersionRow.version == version) if version is not None else stmt.order_by(
        PlanVersionRow.version.desc()).limit(1)
    head = session.scalar(stmt)
    if head is None:
        return None
    header = PlanHeader(enterprise=head.enterprise, version=head.version, valid_from=head.valid_from,
                        title=head.title, approved_by=head.approved_by)
    skip = {"id", "plan_id", "position"}
    params = tuple(
        PlanParameterRow.model_validate({k: v for k, v in _state(p).items() if k not in skip and v is not None})
        for p in session.scalars(select(PlanParameterRecord).where(PlanParameterRecord.plan_id == head.id)
                                 .order_by(PlanParameterRecord.position)))
    changes = tuple(
        PlanChangeRow(version=c.version, changed_on=c.changed_on, by=c.changed_by, reason=c.reason)
        for c in session.scalars(select(PlanChangeRecord).where(PlanChangeRecord.plan_id == head.id)
                                 .order_by(PlanChangeRecord.position)))
    streams = tuple(
        PlanStreamRow.model_validate({k: v for k, v in _state(r).items() if k not in skip and v is not None})
        for r in session.scalars(select(PlanStreamRecord).where(PlanStreamRecord.plan_id == head.id)
                                 .order_by(PlanStreamRecord.position)))
    return MonitoringPlan(header, params, changes, streams)


def plan_versions(session: Session, enterprise: str | None = None) -> list[PlanVersion]:
    """The stored versions of one enterprise's plan (or of every enterprise), oldest first, with who
    imported each and when (from the audit log)."""
    counts = (select(PlanParameterRecord.plan_id, func.count().label("n"))
              .group_by(PlanParameterRecord.plan_id).subquery())
    stmt = (select(PlanVersionRow, counts.c.n).outerjoin(counts, counts.c.plan_id == PlanVersionRow.id)
            .order_by(PlanVersionRow.enterprise, PlanVersionRow.version))
    if enterprise is not None:
        stmt = stmt.where(PlanVersionRow.enterprise == enterprise)
    rows = session.execute(stmt).all()
    keys = [plan_key(h.enterprise, h.version) for h, _ in rows]
    who: dict[str, tuple[str, str]] = {}
    for i in range(0, len(keys), 500):
        for k, ts, actor in session.execute(
                select(AuditEntry.entity_key, AuditEntry.ts, AuditEntry.actor)
                .where(AuditEntry.entity == PLAN, AuditEntry.action == "create",
                       AuditEntry.entity_key.in_(keys[i : i + 500]))):
            who[k] = (ts, actor)
    return [PlanVersion(h.enterprise, h.version, h.valid_from, h.title, h.content_hash, int(n or 0),
                        imported_at=who.get(k, (None, None))[0], imported_by=who.get(k, (None, None))[1])
            for (h, n), k in zip(rows, keys, strict=True)]
