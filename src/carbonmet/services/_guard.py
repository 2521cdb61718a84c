"""The one place writes are checked: every registry change in a use case's transaction is attributed
to its organisation and refused unless the caller may write it (写入范围检查).

The registry logs every change it makes in the hash-chained audit log, in the same transaction. A
write use case runs in :func:`guarded_write`; before the transaction commits, the guard reads the audit
entries the use case appended, finds the organisation(s) each changed record belongs to (before and
after the change, so a record cannot be moved out of another organisation either) and rolls the whole
transaction back with :class:`AccessDenied` naming the first organisation the scope may not write.
A record of a kind the guard does not know is refused unless the scope is all-access (fail closed).

When the workspace has the operator's audit key (``Workspace.audit_key``), the guard then signs the
chain's new head in the same transaction (:func:`carbonmet.db.sign_head`): a write and the signature
of the head it produced commit together, and an entry appended without the key stays unsigned.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ._deps import (
    AuditEntry,
    AuditKeyError,
    Certificate,
    Instrument,
    MeasurementPoint,
    MeasurementStandard,
    Organisation,
    Site,
    load_signing_key,
    lock_chain,
    sign_head,
)
from ._errors import ServiceError
from ._scope import Scope
from ._workspace import Workspace


def _org_by_id(s: Session, org_id: Any) -> str | None:
    return s.scalar(select(Organisation.code).where(Organisation.id == org_id)) if org_id is not None else None


def _org_of_site(s: Session, site_id: Any) -> str | None:
    return s.scalar(select(Organisation.code).join(Site, Site.org_id == Organisation.id).where(Site.id == site_id))


def _org_of_point(s: Session, point_id: Any) -> str | None:
    return s.scalar(
        select(Organisation.code)
        .join(Site, Site.org_id == Organisation.id)
        .join(MeasurementPoint, MeasurementPoint.site_id == Site.id)
        .where(MeasurementPoint.id == point_id)
    )


def _org_of_instrument(s: Session, instrument_id: Any) -> str | None:
    return s.scalar(
        select(Organisation.code).join(Instrument, Instrument.org_id == Organisation.id)
        .where(Instrument.id == instrument_id)
    )


def _org_of_standard(s: Session, standard_id: Any) -> str | None:
    return s.scalar(
        select(Organisation.code).join(MeasurementStandard, MeasurementStandard.holder_org_id == Organisation.id)
        .where(MeasurementStandard.id == standard_id)
    )


def _org_of_certificate_row(s: Session, data: dict[str, Any]) -> set[str | None]:
    if data.get("instrument_id") is not None:
        return {_org_of_instrument(s, data["instrument_id"])}
    return {_org_of_standard(s, data.get("standard_id"))}


def _org_of_certificate(s: Session, cert_no: Any) -> set[str | None]:
    row = s.execute(
        select(Certificate.instrument_id, Certificate.standard_id).where(Certificate.cert_no == cert_no)
    ).first()
    if row is None:
        return {None}
    return _org_of_certificate_row(s, {"instrument_id": row.instrument_id, "standard_id": row.standard_id})


def owners(s: Session, entity: str, data: dict[str, Any]) -> set[str | None] | None:
    """Organisation codes a registry record (an audit entry's ``entity`` and ``data``) belongs to.

    ``None`` when the kind of record is unknown; a ``None`` member when a reference cannot be resolved.
    A certificate belongs to the owner of its subject (the instrument's organisation, or the holder of
    the standard), not to its issuer; an installation to both the instrument's and the point's.
    """
    if entity == "organisation":
        return {data.get("code")}
    if entity == "site":
        return {_org_by_id(s, data.get("org_id"))}
    if entity == "measurement_point":
        return {_org_of_site(s, data.get("site_id"))}
    if entity == "instrument":
        return {_org_by_id(s, data.get("org_id"))}
    if entity == "installation":
        return {_org_of_instrument(s, data.get("instrument_id")), _org_of_point(s, data.get("point_id"))}
    if entity == "measurement_standard":
        return {_org_by_id(s, data.get("holder_org_id"))}
    if entity == "certificate":
        return _org_of_certificate_row(s, data)
    if entity in ("certificate_standard", "certificate_result"):
        return _org_of_certificate(s, data.get("certificate"))  # logged as {"certificate": cert_no, …}
    if entity == "standard_incident":
        return {_org_of_standard(s, data.get("standard_id"))}
    if entity == "hj212_credential":  # a data logger belongs to the enterprises of the points carrying its MN
        return set(s.scalars(
            select(Organisation.code).join(Site, Site.org_id == Organisation.id)
            .join(MeasurementPoint, MeasurementPoint.site_id == Site.id)
            .where(MeasurementPoint.hj212_mn == data.get("mn"))
        )) or {None}
    if entity in ("monitoring_plan", "monitoring_plan_parameter", "monitoring_plan_change"):
        return {data.get("enterprise")}  # a plan version and its rows belong to the plan's enterprise
    if entity in ("lab_import", "lab_result", "lab_quarantine"):
        # a lab import and the rows it wrote belong to every enterprise its rows belong to (";"-joined in the
        # import row, a list in the row entries); an import no enterprise could be found for: centre only
        ents = data.get("enterprises")
        items = ents.split(";") if isinstance(ents, str) else ents if isinstance(ents, list) else []
        return {str(e) for e in items if e} or {None}
    if entity == "monthly_deposit":
        return {data.get("enterprise")}  # a deposit belongs to the enterprise whose month it is
    if entity in ("review_run", "review_run_finding", "review_finding", "review_finding_event",
                  "review_verified_stream"):
        return {data.get("enterprise")}  # a review or verification run and its records: the reviewed enterprise
    return None


#: Records a user may write for itself whatever its organisations (its own API keys): the entry's ``username``
#: must be the scope's actor.
SELF_SERVICE = frozenset({"api_key"})


def _head(s: Session) -> int:
    return s.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0


def check_changes(s: Session, scope: Scope, since: int, action: str) -> None:
    """Refuse (raise :class:`AccessDenied`) if any audit entry after ``since`` touches an organisation
    ``scope`` may not write; for an update or delete, the record's previous logged state counts too."""
    if scope.all_access:
        return
    for e in s.scalars(select(AuditEntry).where(AuditEntry.seq > since).order_by(AuditEntry.seq)):
        states = [json.loads(e.data)]
        if e.action != "create":
            prev = s.scalar(
                select(AuditEntry.data)
                .where(AuditEntry.entity == e.entity, AuditEntry.entity_key == e.entity_key, AuditEntry.seq <= since)
                .order_by(AuditEntry.seq.desc()).limit(1)
            )
            if prev is not None:
                states.append(json.loads(prev))
        for data in states:
            if e.entity in SELF_SERVICE and data.get("username") == scope.actor:
                continue
            orgs = owners(s, e.entity, data)
            if orgs is None:
                scope.check_write(f"{e.entity} {e.entity_key}", action)
                continue
            for org in sorted(orgs, key=lambda o: o or ""):
                scope.check_write(org, f"{action} ({e.entity} {e.entity_key})")


@contextmanager
def guarded_write(ws: Workspace, scope: Scope, action: str) -> Iterator[Session]:
    """A write transaction: the body's registry changes commit only if ``scope`` may write them all.

    Parameters
    ----------
    ws : Workspace
    scope : Scope
    action : str
        What is being done, for the error message (e.g. ``"registry import"``).
    """
    key = None
    if ws.audit_key is not None:  # read before anything is written: a missing key refuses the write
        try:
            key = load_signing_key(ws.audit_key)
        except AuditKeyError as exc:
            raise ServiceError(f"{action}: {exc}") from None
    with ws.session() as s:
        lock_chain(s)  # no other writer can append between the head read here and this body's entries
        since = _head(s)
        yield s
        s.flush()
        check_changes(s, scope, since, action)
        if key is not None and _head(s) > since:
            sign_head(s, key)
