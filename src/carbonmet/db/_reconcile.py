"""Reconciliation (对账) of every audited table against the audit log.

The hash chain (:func:`carbonmet.db.verify`) proves that the log itself was not altered. It does not
prove that the tables still hold what the log says: the append-only guard protects only ``audit_log``,
so anyone with database access can ``UPDATE certificate …`` directly. Reconciliation replays the log
to the last logged state of every record and compares it with the current row:

* ``changed`` — a field differs from its logged value (改动未经审计);
* ``unlogged`` — a row exists that no audit entry created (无审计记录);
* ``missing`` — the log says a row exists, the table no longer has it (记录被删除);
* ``unreadable`` — an entry's data is not a JSON object.

Each audited table has a :class:`Reconciler`: it is fed the table's log entries in order
(:meth:`Reconciler.add`), then reads the table once and reports (:meth:`Reconciler.check`). A table
whose rows carry a unique key column and whose entries store every column uses
:class:`KeyedReconciler` as it is; a package with other shapes (rows without a unique key, a set of
links logged as one entry) writes its own. Packages register theirs with :func:`register_reconciler`
when they are imported, so ``carbonmet audit verify`` covers every table of every package, including
ones added later; :func:`audited_tables` lists them, and a test asserts that every table on
:class:`carbonmet.db.Base` has one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy import Select, Table, inspect, select
from sqlalchemy.orm import Session

from ._audit import NEG_INF, POS_INF, AuditEntry, json_value

Kind = Literal["changed", "unlogged", "missing", "unreadable"]
AnySelect = Select[*tuple[Any, ...]]
#: Rows fetched per batch when a table or the log is streamed.
BATCH = 5000


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One difference between a table and the audit log.

    ``field`` is set for ``changed`` only; ``logged``/``current`` are JSON values (dates as ISO text,
    a blob as its SHA-256); ``seq`` is the last audit entry of the record (None if it has none).
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
    unchecked: dict[str, int] = field(default_factory=dict)  # logged entity kinds no reconciler knows

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


class Reconciler(Protocol):
    """Reconciles one audited table (``table`` is also the ``entity`` of its log entries).

    One instance serves one :func:`reconcile` run: :meth:`add` is called for each of the table's
    entries in log order, then :meth:`check` once.
    """

    table: str

    def add(self, seq: int, action: str, key: str, data: str) -> None:
        """Take one log entry (``data`` is its stored JSON text)."""

    def check(self, session: Session) -> tuple[int, list[Discrepancy]]:
        """Read the table; return its row count and its findings."""


def diff_fields(table: str, key: str, seq: int | None, logged: Mapping[str, Any], current: Mapping[str, Any],
                skip: Iterable[str] = ()) -> list[Discrepancy]:
    """``changed`` findings for the fields of ``logged`` whose current value differs.

    Fields the table no longer has, and those in ``skip``, are not checked. Both sides are compared in
    their logged JSON form (:func:`carbonmet.db.audit.json_value`): a NaN is NULL, +inf/-inf are
    ``"Infinity"``/``"-Infinity"``, on either side, so a NaN stored as NULL by SQLite (kept by
    PostgreSQL) and a value logged by an older version as a ``NaN`` literal all compare equal.
    """
    out = []
    skipped = set(skip)
    for name, lv in logged.items():
        if name in skipped or name not in current:
            continue
        raw = current[name]
        if lv == raw:  # numbers, text and NULL compare as stored; dates and blobs need their JSON form
            continue
        lv, cv = json_value(lv), json_value(raw)
        if lv != cv:
            out.append(Discrepancy("changed", table, key, name, lv, cv, seq))
    return out


def stream_rows(session: Session, stmt: AnySelect) -> Iterator[Any]:
    """Rows of ``stmt`` fetched in batches of :data:`BATCH` (a server-side cursor on PostgreSQL)."""
    # Core rows on the session's connection (and transaction): no ORM entity loading is needed here
    yield from session.connection().execute(stmt.execution_options(yield_per=BATCH))


#: How the non-standard literals an older version wrote (``json.dumps`` default) are read back: in the
#: canonical form :func:`carbonmet.db.audit.json_value` writes today.
_CONSTANTS: dict[str, Any] = {"NaN": None, "Infinity": POS_INF, "-Infinity": NEG_INF}


def loads(text: str) -> Any:
    """Logged JSON text, or None when it does not parse.

    ``NaN``, ``Infinity`` and ``-Infinity`` literals (written before the canonical form was strict JSON)
    are read in today's form: NaN as None, the infinities as ``"Infinity"``/``"-Infinity"``.
    """
    try:
        return json.loads(text, parse_constant=_CONSTANTS.__getitem__)
    except ValueError:
        return None


def row_json(row: Mapping[str, Any], cols: Iterable[str]) -> dict[str, Any]:
    """The columns ``cols`` of a row in their logged JSON form."""
    return {c: json_value(row[c]) for c in cols}


class KeyedReconciler:
    """A table whose rows are identified by a unique column and whose entries log every column.

    The last entry of a key is its logged state (``delete`` removes it). Each row is compared field by
    field with it; a row without an entry is ``unlogged``, an entry without a row ``missing``.

    Parameters
    ----------
    table : sqlalchemy.Table
        The audited table (``Model.__table__``); its name is the entries' ``entity``.
    key : str
        The column whose value is the entries' ``entity_key`` (unique in the table).
    """

    def __init__(self, table: Table | Any, key: str) -> None:
        self._table: Table = getattr(table, "__table__", table)
        self.table = self._table.name
        self.key = key
        self._logged: dict[str, tuple[int, str]] = {}

    def add(self, seq: int, action: str, key: str, data: str) -> None:
        if action == "delete":
            self._logged.pop(key, None)
        else:
            self._logged[key] = (seq, data)

    def check(self, session: Session) -> tuple[int, list[Discrepancy]]:
        out: list[Discrepancy] = []
        # only the columns this database has: one of an older revision lacks those added later
        have = {c["name"] for c in inspect(session.connection()).get_columns(self.table)}
        columns = [c for c in self._table.columns if c.name in have]
        cols = [c.name for c in columns]
        n = 0
        for row in stream_rows(session, select(*columns)):
            n += 1
            cur = row._mapping
            key = str(cur[self.key])
            entry = self._logged.pop(key, None)
            if entry is None:
                out.append(Discrepancy("unlogged", self.table, key, current=row_json(cur, cols)))
                continue
            seq, text = entry
            data = loads(text)
            if not isinstance(data, dict):
                out.append(Discrepancy("unreadable", self.table, key, seq=seq))
                continue
            out.extend(diff_fields(self.table, key, seq, data, {c: cur[c] for c in cols}))
        for key, (seq, text) in self._logged.items():
            out.append(Discrepancy("missing", self.table, key, logged=loads(text), seq=seq))
        self._logged = {}
        return n, out


ReconcilerFactory = Callable[[], Reconciler]
_REGISTERED: dict[str, ReconcilerFactory] = {}


def register_reconciler(table: str, factory: ReconcilerFactory) -> None:
    """Make :func:`reconcile` check ``table`` with a fresh ``factory()`` on every run.

    Called by a package when it is imported, once per audited table, in the order findings are
    to be listed (registering a table again replaces its reconciler).

    Examples
    --------
    >>> register_reconciler("organisation", lambda: KeyedReconciler(Organisation, "code"))  # doctest: +SKIP
    """
    _REGISTERED[table] = factory


def audited_tables() -> tuple[str, ...]:
    """Names of the tables with a registered reconciler, in registration order."""
    return tuple(_REGISTERED)


def reconcile(session: Session, reconcilers: Sequence[Reconciler] | None = None) -> ReconcileReport:
    """Compare every audited row with the last state the audit log records for it (对账).

    The log is read once in order and each entry handed to its table's reconciler; each audited table
    is then read once (streamed in batches of :data:`BATCH` rows) and compared field by field.

    Parameters
    ----------
    session : Session
        An open session; nothing is written.
    reconcilers : sequence of Reconciler, optional
        The tables to check; default: a fresh instance of every registered one
        (:func:`register_reconciler`; import the packages whose tables are to be checked).

    Returns
    -------
    ReconcileReport
        ``discrepancies`` sorted by table (in the order of ``reconcilers``), key and field.
        ``unchecked`` counts logged entity kinds that no reconciler knows.

    Notes
    -----
    Run it together with the chain check (:func:`carbonmet.db.verify`): reconciling against a log whose
    chain is broken proves nothing. While others write, run it in one snapshot (``REPEATABLE READ`` on
    PostgreSQL; a SQLite read transaction is one already), or a change committed between reading the
    log and reading a table is reported.
    """
    recs = list(reconcilers) if reconcilers is not None else [f() for f in _REGISTERED.values()]
    by_table = {r.table: r for r in recs}
    unchecked: dict[str, int] = {}
    entries = 0
    a = AuditEntry
    stmt = select(a.seq, a.action, a.entity, a.entity_key, a.data).order_by(a.seq)
    logged: dict[str, int] = {}
    for seq, action, entity, key, data in stream_rows(session, stmt):
        entries += 1
        rec = by_table.get(entity)
        if rec is None:
            unchecked[entity] = unchecked.get(entity, 0) + 1
        else:
            logged[entity] = logged.get(entity, 0) + 1
            rec.add(seq, action, key, data)
    out: list[Discrepancy] = []
    rows: dict[str, int] = {}
    present = set(inspect(session.connection()).get_table_names())
    for rec in recs:
        if rec.table not in present and not logged.get(rec.table):
            rows[rec.table] = 0  # a table of a later revision than this database, and nothing logged for it
            continue
        rows[rec.table], found = rec.check(session)
        out.extend(found)
    order = {r.table: i for i, r in enumerate(recs)}
    out.sort(key=lambda d: (order.get(d.table, len(order)), d.key, d.field or "", d.kind))
    return ReconcileReport(entries, rows, tuple(out), unchecked)
