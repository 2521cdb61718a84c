"""The registry's reconcilers (对账): what each registry audit entry stores, and how its table is checked.

The generic machinery (replaying the log, the report, :class:`carbonmet.db.KeyedReconciler`) is in
:mod:`carbonmet.db`; this module knows the registry's tables and registers one reconciler per table
when the registry is imported, so :func:`carbonmet.db.reconcile` checks them all.

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

from collections import defaultdict
from collections.abc import Callable, Mapping
from functools import partial
from itertools import groupby
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..db import Base
from ..db.audit import (
    Discrepancy,
    KeyedReconciler,
    diff_fields,
    loads,
    register_reconciler,
    row_json,
    stream_rows,
)
from ._models import (
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


def _columns(model: type[Base]) -> list[str]:
    return [c.name for c in model.__table__.columns]


class _Instance:
    """A logged record of a MULTI table (mutable while the log is replayed)."""

    __slots__ = ("data", "key", "matched", "seq")

    def __init__(self, seq: int, key: str, data: dict[str, Any]) -> None:
        self.seq, self.key, self.data, self.matched = seq, key, data, False


def _multi_rows(table: str) -> AnySelect:
    """The rows of a MULTI table with the codes that form its key (``__a``, ``__b``), in id order."""
    if table == "installation":
        t = Installation.__table__
        return (select(t, Instrument.code.label("__a"), MeasurementPoint.code.label("__b"))
                .join(Instrument, Instrument.id == t.c.instrument_id)
                .join(MeasurementPoint, MeasurementPoint.id == t.c.point_id)
                .order_by(t.c.id))
    t = StandardIncident.__table__
    return (select(t, MeasurementStandard.code.label("__a"))
            .join(MeasurementStandard, MeasurementStandard.id == t.c.standard_id).order_by(t.c.id))


class MultiReconciler:
    """Installations and incidents: rows without a unique key, matched by the logged row id."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.model, self.group_col = MULTI[table]
        self.multi: dict[Any, list[_Instance]] = defaultdict(list)
        self.by_id: dict[int, _Instance] = {}
        self.unreadable: list[Discrepancy] = []

    def add(self, seq: int, action: str, key: str, data: str) -> None:
        d = loads(data)
        if not isinstance(d, dict):
            self.unreadable.append(Discrepancy("unreadable", self.table, key, seq=seq))
            return
        group = self.multi[d.get(self.group_col)]
        target = self.by_id.get(d["id"]) if "id" in d else None
        if target is None and action != "create":
            # an entry without the row id: the services only ever change an instrument's open installation
            open_ = [i for i in group if i.data.get("installed_to") is None]
            same_point = [i for i in open_ if i.data.get("point_id") == d.get("point_id")]
            found = same_point or open_
            target = found[-1] if found else None
        if action == "delete":
            if target is not None:
                group.remove(target)
                self.by_id.pop(target.data.get("id"), None)  # type: ignore[arg-type]
            return
        if target is None:
            target = _Instance(seq, key, d)
            group.append(target)
        else:
            old_group = self.multi[target.data.get(self.group_col)]
            if old_group is not group:
                old_group.remove(target)
                group.append(target)
            target.seq, target.key, target.data = seq, key, d
        if "id" in d:
            self.by_id[d["id"]] = target

    def check(self, session: Session) -> tuple[int, list[Discrepancy]]:
        table, group_col = self.table, self.group_col
        out = list(self.unreadable)
        cols = _columns(self.model)
        pending: dict[Any, list[tuple[str, dict[str, Any]]]] = defaultdict(list)  # group → rows not matched by id
        n = 0
        for row in stream_rows(session, _multi_rows(table)):
            n += 1
            m = row._mapping
            key = f"{m['__a']}@{m['__b']}" if table == "installation" else m["__a"]
            cur = {c: m[c] for c in cols}
            inst = self.by_id.get(cur["id"])
            if inst is not None and not inst.matched:
                inst.matched = True
                out.extend(diff_fields(table, inst.key, inst.seq, inst.data, cur))
            else:
                pending[cur[group_col]].append((key, cur))
        # entries written before the row id was logged: match within the group, equal rows first
        for gid, instances in self.multi.items():
            idless = [i for i in instances if not i.matched and "id" not in i.data]
            cands = pending.get(gid, [])
            for inst in list(idless):
                hit = next((c for c in cands if not diff_fields(table, "", None, inst.data, c[1])), None)
                if hit is not None:
                    inst.matched = True
                    cands.remove(hit)
                    idless.remove(inst)
            for inst, (_key, cur) in zip(idless, list(cands), strict=False):
                inst.matched = True
                cands.remove((_key, cur))
                out.extend(diff_fields(table, inst.key, inst.seq, inst.data, cur))
            for inst in instances:
                if not inst.matched:
                    out.append(Discrepancy("missing", table, inst.key, logged=inst.data, seq=inst.seq))
        for cands in pending.values():
            for key, cur in cands:
                out.append(Discrepancy("unlogged", table, key, current=row_json(cur, cols)))
        return n, out


class _CertificateSet:
    """A per-certificate set logged as one entry keyed by ``cert_no``: the last entry is the logged set."""

    table = ""

    def __init__(self) -> None:
        self.logged: dict[str, tuple[int, str]] = {}

    def add(self, seq: int, action: str, key: str, data: str) -> None:
        self.logged[key] = (seq, data)

    def _entry(self, cert_no: str, out: list[Discrepancy]) -> tuple[int | None, dict[str, Any] | None, bool]:
        """(seq, data, readable) of the certificate's last entry, removed from the pending ones."""
        entry = self.logged.pop(cert_no, None)
        if entry is None:
            return None, None, True
        data = loads(entry[1])
        if not isinstance(data, dict):
            out.append(Discrepancy("unreadable", self.table, cert_no, seq=entry[0]))
            return entry[0], None, False
        return entry[0], data, True

    def _walk(self, session: Session, stmt: AnySelect, take: Callable[[Any], tuple[Any, Any]],
              compare: Callable[[str, dict[Any, Any]], None]) -> int:
        n = 0
        for cert_no, group in groupby(stream_rows(session, stmt), key=lambda r: r[0]):
            current: dict[Any, Any] = {}
            for r in group:
                n += 1
                k, v = take(r)
                current[k] = v
            compare(cert_no, current)
        for cert_no in list(self.logged):
            compare(cert_no, {})
        return n


class LinksReconciler(_CertificateSet):
    """``certificate_standard``: a certificate's full set of (standard id, standard-certificate id) links."""

    table = LINKS

    def check(self, session: Session) -> tuple[int, list[Discrepancy]]:
        out: list[Discrepancy] = []
        std = MeasurementStandard
        codes: dict[int, str] = {i: c for i, c in session.execute(select(std.id, std.code))}  # few rows
        t = CertificateStandard.__table__
        stmt = (select(Certificate.cert_no, t.c.standard_id, t.c.standard_certificate_id)
                .join(Certificate, Certificate.id == t.c.certificate_id).order_by(t.c.certificate_id))

        def compare(cert_no: str, current: dict[int, int | None]) -> None:
            seq, data, readable = self._entry(cert_no, out)
            if not readable:
                return
            want: dict[int, int | None] = {int(sid): scid for sid, scid in (data or {}).get("standards", [])}
            for sid in sorted(want.keys() | current.keys()):
                key = f"{cert_no}/{codes.get(sid, sid)}"
                if sid not in current:
                    out.append(Discrepancy("missing", LINKS, key, logged=want[sid], seq=seq))
                elif sid not in want:
                    out.append(Discrepancy("unlogged", LINKS, key, current=current[sid], seq=seq))
                elif want[sid] != current[sid]:
                    out.append(Discrepancy("changed", LINKS, key, "standard_certificate_id", want[sid],
                                           current[sid], seq))

        n = self._walk(session, stmt, lambda r: (r[1], r[2]), compare)
        return n, out


class ResultsReconciler(_CertificateSet):
    """``certificate_result``: a certificate's full list of calibration points."""

    table = RESULTS

    def check(self, session: Session) -> tuple[int, list[Discrepancy]]:
        out: list[Discrepancy] = []
        t = CertificateResult.__table__
        cols = [c for c in _columns(CertificateResult) if c not in ("id", "certificate_id", "position")]
        stmt = (select(Certificate.cert_no, t).join(Certificate, Certificate.id == t.c.certificate_id)
                .order_by(t.c.certificate_id, t.c.position))

        def compare(cert_no: str, current: dict[int, Mapping[str, Any]]) -> None:
            seq, data, readable = self._entry(cert_no, out)
            if not readable:
                return
            want: list[Any] = (data or {}).get("results", [])
            for pos in range(max(len(want), max(current, default=-1) + 1)):
                key = f"{cert_no}#{pos}"
                if pos >= len(want):
                    if pos in current:
                        out.append(Discrepancy("unlogged", RESULTS, key, current=row_json(current[pos], cols),
                                               seq=seq))
                elif pos not in current:
                    out.append(Discrepancy("missing", RESULTS, key, logged=want[pos], seq=seq))
                else:
                    logged_point = {c: want[pos].get(c) for c in cols}  # a key left out was stored as NULL
                    out.extend(diff_fields(RESULTS, key, seq, logged_point, current[pos]))

        def take(r: Any) -> tuple[int, dict[str, Any]]:
            m = r._mapping
            return m["position"], {c: m[c] for c in cols}

        n = self._walk(session, stmt, take, compare)
        return n, out


def _register() -> None:
    """One reconciler per registry table, in :data:`TABLE_ORDER` (the order findings are listed in)."""
    for table, (model, key) in KEYED.items():
        register_reconciler(table, partial(KeyedReconciler, model, key))
    for table in MULTI:
        register_reconciler(table, partial(MultiReconciler, table))
    register_reconciler(LINKS, LinksReconciler)
    register_reconciler(RESULTS, ResultsReconciler)


_register()
