"""Reconciliation (对账) of the registry tables against the audit log.

The hash chain (:func:`carbonmet.registry.verify_audit`) proves that the log itself was not altered.
It does not prove that the tables still hold what the log says: the append-only guard protects only
``audit_log``, so anyone with database access can ``UPDATE certificate …`` directly. Reconciliation
replays the log to the last logged state of every record and compares it with the current row:

* ``changed`` — a field differs from its logged value (改动未经审计);
* ``unlogged`` — a row exists that no audit entry created (无审计记录);
* ``missing`` — the log says a row exists, the table no longer has it (记录被删除).

What each audit entry stores, and so what is reconciled:

================== ============================= ==================================================
entity (table)     entity_key                    data (the after-state)
================== ============================= ==================================================
organisation, site, code (``cert_no``)           every column of the row (the row ``id`` too for
measurement_point,                               entries written since reconciliation came in);
measurement_standard,                            a DCC document (``dcc_xml``) as its SHA-256
instrument, certificate
installation       ``instrument@point``          every column (``id`` since reconciliation)
standard_incident  standard code                 every column (``id`` since reconciliation)
certificate_standard ``cert_no``                 the certificate's full set of (standard id,
                                                 standard-certificate id) links
certificate_result ``cert_no``                   the certificate's full list of calibration points
================== ============================= ==================================================

Reading is streamed: the log in one ordered pass, each table in one pass (joined to the codes that
form its key), so the cost grows linearly with the registry and not with round trips.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ._audit import _jsonable
from ._models import (
    AuditEntry,
    Base,
    Certificate,
    CertificateResult,
    CertificateStandard,
    Installation,
    Instrument,
    MeasurementPoint,
    MeasurementStandard,
    Organisation,
    Site,
    StandardIncident,
)

Kind = Literal["changed", "unlogged", "missing", "unreadable"]
AnySelect = Select[*tuple[Any, ...]]

#: Tables whose rows are identified by a unique code, and that code's column.
KEYED: dict[str, tuple[type[Base], str]] = {
    "organisation": (Organisation, "code"),
    "site": (Site, "code"),
    "measurement_point": (MeasurementPoint, "code"),
    "measurement_standard": (MeasurementStandard, "code"),
    "instrument": (Instrument, "code"),
    "certificate": (Certificate, "cert_no"),
}
#: Tables whose key is not unique (an instrument back at the same point; several incidents of one standard):
#: rows are matched by the logged row id, or, for entries written before the id was logged, within the
#: group of this column.
MULTI: dict[str, tuple[type[Base], str]] = {
    "installation": (Installation, "instrument_id"),
    "standard_incident": (StandardIncident, "standard_id"),
}
LINKS = "certificate_standard"
RESULTS = "certificate_result"
TABLE_ORDER = (*KEYED, *MULTI, LINKS, RESULTS)
BATCH = 5000


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One difference between a registry table and the audit log.

    ``field`` is set for ``changed`` only; ``logged``/``current`` are JSON values (dates as ISO text,
    a DCC document as its SHA-256); ``seq`` is the last audit entry of the record (None if it has none).
    """

    kind: Kind
    table: str
    key: str
    field: str | None = None
    logged: Any = None
    current: Any = None
    seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "table": self.table, "key": self.key, "field": self.field,
                "logged": self.logged, "current": self.current, "seq": self.seq}


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """Result of :func:`reconcile`: ``ok`` when every row equals its last logged state."""

    entries: int
    rows: dict[str, int]
    discrepancies: tuple[Discrepancy, ...]
    unchecked: dict[str, int] = field(default_factory=dict)  # logged entity kinds this version does not know

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.discrepancies:
            out[d.kind] = out.get(d.kind, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "rows": self.rows,
            "counts": self.counts(),
            "unchecked": self.unchecked,
            "discrepancies": [d.to_dict() for d in self.discrepancies],
        }


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def _diff(table: str, key: str, seq: int | None, logged: Mapping[str, Any], current: Mapping[str, Any],
          skip: Iterable[str] = ()) -> list[Discrepancy]:
    """Fields of ``logged`` whose current value differs (fields the table no longer has are not checked)."""
    out = []
    skipped = set(skip)
    for name, lv in logged.items():
        if name in skipped or name not in current:
            continue
        raw = current[name]
        if lv == raw:  # numbers, text and NULL compare as stored; dates and blobs need their JSON form
            continue
        cv = _jsonable(raw)
        if not _same(lv, cv):
            out.append(Discrepancy("changed", table, key, name, lv, cv, seq))
    return out


def _stream(session: Session, stmt: AnySelect) -> Iterator[Any]:
    """Rows of ``stmt`` fetched in batches (a server-side cursor on PostgreSQL)."""
    # Core rows on the session's connection (and transaction): no ORM entity loading is needed here
    yield from session.connection().execute(stmt.execution_options(yield_per=BATCH))


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


class _Instance:
    """A logged record of a MULTI table (mutable while the log is replayed)."""

    __slots__ = ("data", "key", "matched", "seq")

    def __init__(self, seq: int, key: str, data: dict[str, Any]) -> None:
        self.seq, self.key, self.data, self.matched = seq, key, data, False


@dataclass
class _Replay:
    """The last logged state of every record."""

    entries: int = 0
    keyed: dict[str, dict[str, tuple[int, str]]] = field(default_factory=lambda: {t: {} for t in KEYED})
    multi: dict[str, dict[Any, list[_Instance]]] = field(default_factory=lambda: {t: defaultdict(list) for t in MULTI})
    by_id: dict[str, dict[int, _Instance]] = field(default_factory=lambda: {t: {} for t in MULTI})
    sets: dict[str, dict[str, tuple[int, str]]] = field(default_factory=lambda: {LINKS: {}, RESULTS: {}})
    unchecked: dict[str, int] = field(default_factory=dict)
    unreadable: list[Discrepancy] = field(default_factory=list)

    def add(self, seq: int, action: str, entity: str, key: str, data: str) -> None:
        self.entries += 1
        if entity in KEYED:
            if action == "delete":
                self.keyed[entity].pop(key, None)
            else:
                self.keyed[entity][key] = (seq, data)
        elif entity in self.sets:
            self.sets[entity][key] = (seq, data)
        elif entity in MULTI:
            d = _loads(data)
            if not isinstance(d, dict):
                self.unreadable.append(Discrepancy("unreadable", entity, key, seq=seq))
                return
            self._add_multi(seq, action, entity, key, d)
        else:
            self.unchecked[entity] = self.unchecked.get(entity, 0) + 1

    def _add_multi(self, seq: int, action: str, entity: str, key: str, d: dict[str, Any]) -> None:
        group = self.multi[entity][d.get(MULTI[entity][1])]
        target = self.by_id[entity].get(d["id"]) if "id" in d else None
        if target is None and action != "create":
            # an entry without the row id: the services only ever change an instrument's open installation
            open_ = [i for i in group if i.data.get("installed_to") is None]
            same_point = [i for i in open_ if i.data.get("point_id") == d.get("point_id")]
            found = same_point or open_
            target = found[-1] if found else None
        if action == "delete":
            if target is not None:
                group.remove(target)
                self.by_id[entity].pop(target.data.get("id"), None)  # type: ignore[arg-type]
            return
        if target is None:
            target = _Instance(seq, key, d)
            group.append(target)
        else:
            old_group = self.multi[entity][target.data.get(MULTI[entity][1])]
            if old_group is not group:
                old_group.remove(target)
                group.append(target)
            target.seq, target.key, target.data = seq, key, d
        if "id" in d:
            self.by_id[entity][d["id"]] = target


def _replay(session: Session) -> _Replay:
    rep = _Replay()
    a = AuditEntry
    stmt = select(a.seq, a.action, a.entity, a.entity_key, a.data).order_by(a.seq)
    for seq, action, entity, key, data in _stream(session, stmt):
        rep.add(seq, action, entity, key, data)
    return rep


def _columns(model: type[Base]) -> list[str]:
    return [c.name for c in model.__table__.columns]


def _row_json(row: Mapping[str, Any], cols: Iterable[str]) -> dict[str, Any]:
    return {c: _jsonable(row[c]) for c in cols}


def _check_keyed(session: Session, rep: _Replay, out: list[Discrepancy], rows: dict[str, int]) -> None:
    for table, (model, key_col) in KEYED.items():
        logged = rep.keyed[table]
        cols = _columns(model)
        n = 0
        for row in _stream(session, select(model.__table__)):
            n += 1
            cur = row._mapping
            key = cur[key_col]
            entry = logged.pop(key, None)
            if entry is None:
                out.append(Discrepancy("unlogged", table, key, current=_row_json(cur, cols)))
                continue
            seq, text = entry
            data = _loads(text)
            if not isinstance(data, dict):
                out.append(Discrepancy("unreadable", table, key, seq=seq))
                continue
            out.extend(_diff(table, key, seq, data, {c: cur[c] for c in cols}))
        rows[table] = n
        for key, (seq, text) in logged.items():
            out.append(Discrepancy("missing", table, key, logged=_loads(text), seq=seq))


def _multi_rows(table: str) -> AnySelect:
    if table == "installation":
        t = Installation.__table__
        return (select(t, Instrument.code.label("__a"), MeasurementPoint.code.label("__b"))
                .join(Instrument, Instrument.id == t.c.instrument_id)
                .join(MeasurementPoint, MeasurementPoint.id == t.c.point_id)
                .order_by(t.c.id))
    t = StandardIncident.__table__
    return (select(t, MeasurementStandard.code.label("__a"))
            .join(MeasurementStandard, MeasurementStandard.id == t.c.standard_id).order_by(t.c.id))


def _check_multi(session: Session, rep: _Replay, out: list[Discrepancy], rows: dict[str, int]) -> None:
    for table, (model, group_col) in MULTI.items():
        cols = _columns(model)
        by_id = rep.by_id[table]
        pending: dict[Any, list[tuple[str, dict[str, Any]]]] = defaultdict(list)  # group → rows not matched by id
        n = 0
        for row in _stream(session, _multi_rows(table)):
            n += 1
            m = row._mapping
            key = f"{m['__a']}@{m['__b']}" if table == "installation" else m["__a"]
            cur = {c: m[c] for c in cols}
            inst = by_id.get(cur["id"])
            if inst is not None and not inst.matched:
                inst.matched = True
                out.extend(_diff(table, inst.key, inst.seq, inst.data, cur))
            else:
                pending[cur[group_col]].append((key, cur))
        rows[table] = n
        # entries written before the row id was logged: match within the group, equal rows first
        for gid, instances in rep.multi[table].items():
            idless = [i for i in instances if not i.matched and "id" not in i.data]
            cands = pending.get(gid, [])
            for inst in list(idless):
                hit = next((c for c in cands if not _diff(table, "", None, inst.data, c[1])), None)
                if hit is not None:
                    inst.matched = True
                    cands.remove(hit)
                    idless.remove(inst)
            for inst, (_key, cur) in zip(idless, list(cands), strict=False):
                inst.matched = True
                cands.remove((_key, cur))
                out.extend(_diff(table, inst.key, inst.seq, inst.data, cur))
            for inst in instances:
                if not inst.matched:
                    out.append(Discrepancy("missing", table, inst.key, logged=inst.data, seq=inst.seq))
        for cands in pending.values():
            for key, cur in cands:
                out.append(Discrepancy("unlogged", table, key, current=_row_json(cur, cols)))


def _check_links(session: Session, rep: _Replay, out: list[Discrepancy], rows: dict[str, int]) -> None:
    std = MeasurementStandard
    codes: dict[int, str] = {i: c for i, c in session.execute(select(std.id, std.code))}  # few rows
    logged = rep.sets[LINKS]
    t = CertificateStandard.__table__
    stmt = (select(Certificate.cert_no, t.c.standard_id, t.c.standard_certificate_id)
            .join(Certificate, Certificate.id == t.c.certificate_id).order_by(t.c.certificate_id))
    n = 0

    def compare(cert_no: str, current: dict[int, int | None]) -> None:
        entry = logged.pop(cert_no, None)
        seq = entry[0] if entry else None
        want: dict[int, int | None] = {}
        if entry is not None:
            data = _loads(entry[1])
            if not isinstance(data, dict):
                out.append(Discrepancy("unreadable", LINKS, cert_no, seq=seq))
                return
            want = {int(sid): scid for sid, scid in data.get("standards", [])}
        for sid in sorted(want.keys() | current.keys()):
            key = f"{cert_no}/{codes.get(sid, sid)}"
            if sid not in current:
                out.append(Discrepancy("missing", LINKS, key, logged=want[sid], seq=seq))
            elif sid not in want:
                out.append(Discrepancy("unlogged", LINKS, key, current=current[sid], seq=seq))
            elif want[sid] != current[sid]:
                out.append(Discrepancy("changed", LINKS, key, "standard_certificate_id", want[sid], current[sid], seq))

    for cert_no, group in groupby(_stream(session, stmt), key=lambda r: r[0]):
        current = {}
        for _c, sid, scid in group:
            n += 1
            current[sid] = scid
        compare(cert_no, current)
    for cert_no in list(logged):
        compare(cert_no, {})
    rows[LINKS] = n


def _check_results(session: Session, rep: _Replay, out: list[Discrepancy], rows: dict[str, int]) -> None:
    logged = rep.sets[RESULTS]
    t = CertificateResult.__table__
    cols = [c for c in _columns(CertificateResult) if c not in ("id", "certificate_id", "position")]
    stmt = (select(Certificate.cert_no, t).join(Certificate, Certificate.id == t.c.certificate_id)
            .order_by(t.c.certificate_id, t.c.position))
    n = 0

    def compare(cert_no: str, current: dict[int, Mapping[str, Any]]) -> None:
        entry = logged.pop(cert_no, None)
        seq = entry[0] if entry else None
        want: list[Any] = []
        if entry is not None:
            data = _loads(entry[1])
            if not isinstance(data, dict):
                out.append(Discrepancy("unreadable", RESULTS, cert_no, seq=seq))
                return
            want = data.get("results", [])
        for pos in range(max(len(want), max(current, default=-1) + 1)):
            key = f"{cert_no}#{pos}"
            if pos >= len(want):
                if pos in current:
                    out.append(Discrepancy("unlogged", RESULTS, key, current=_row_json(current[pos], cols), seq=seq))
            elif pos not in current:
                out.append(Discrepancy("missing", RESULTS, key, logged=want[pos], seq=seq))
            else:
                logged_point = {c: want[pos].get(c) for c in cols}  # a key left out was stored as NULL
                out.extend(_diff(RESULTS, key, seq, logged_point, current[pos]))

    for cert_no, group in groupby(_stream(session, stmt), key=lambda r: r[0]):
        current: dict[int, Mapping[str, Any]] = {}
        for r in group:
            n += 1
            m = r._mapping
            current[m["position"]] = {c: m[c] for c in cols}
        compare(cert_no, current)
    for cert_no in list(logged):
        compare(cert_no, {})
    rows[RESULTS] = n


def reconcile(session: Session) -> ReconcileReport:
    """Compare every registry row with the last state the audit log records for it (对账).

    The log is read once in order and replayed; each audited table is then read once (streamed in
    batches of ``BATCH`` rows) and compared field by field with its logged state.

    Parameters
    ----------
    session : Session
        An open session on the registry; nothing is written.

    Returns
    -------
    ReconcileReport
        ``discrepancies`` sorted by table (in :data:`TABLE_ORDER`), key and field: fields changed
        outside the services, rows without an audit entry, rows the log has that the table lacks.
        Fields an entry does not carry (e.g. the row id, in entries written before it was logged)
        are not checked. ``unchecked`` counts logged entity kinds this version cannot reconcile.

    Notes
    -----
    Run it together with the chain check (:func:`carbonmet.registry.verify_audit`): reconciling
    against a log whose chain is broken proves nothing. While others write, run it in one snapshot
    (``REPEATABLE READ`` on PostgreSQL; a SQLite read transaction is one already), or a change committed
    between reading the log and reading a table is reported.
    """
    rep = _replay(session)
    out: list[Discrepancy] = list(rep.unreadable)
    rows: dict[str, int] = {}
    _check_keyed(session, rep, out, rows)
    _check_multi(session, rep, out, rows)
    _check_links(session, rep, out, rows)
    _check_results(session, rep, out, rows)
    order = {t: i for i, t in enumerate(TABLE_ORDER)}
    out.sort(key=lambda d: (order.get(d.table, len(order)), d.key, d.field or "", d.kind))
    return ReconcileReport(rep.entries, rows, tuple(out), dict(rep.unchecked))
