"""The readings store: partitioned Parquet + raw archive + quarantine + ingest journal (计量数据存储).

Layout (docs/formats/readings.md)::

    STORE/readings/enterprise=<org>/point=<point_id>/month=<YYYY-MM>/part-<token>.parquet
    STORE/raw/<source>/<YYYY-MM-DD>/<token>.<ext>       every received input, as received
    STORE/quarantine/<YYYY-MM-DD>/<token>.parquet       rejected rows with reason and detail
    STORE/journal.sqlite                                ingest journal (batch ids, message keys)

``month`` is the UTC month of ``ts``. ``token`` is a short hash of the batch id.

Durability and idempotency: an ingest call returns (and only then may the caller acknowledge — HJ 212
9014, MQTT PUBACK, file import "done") after every file it wrote was fsynced, renamed into place, its
directory fsynced, and the batch was committed to the journal (SQLite, synchronous=FULL). The journal
first records the files a batch is about to write (state ``writing``); a crash before the commit
leaves that row, and opening the store deletes those files again, so the batch can be re-sent and is
stored exactly once. A batch id or message key already committed is answered as all duplicates.

Partitions written by other tools (e.g. the reference dataset, with :data:`READINGS_SCHEMA`) need no
journal entry: the store reads every ``*.parquet`` file in a partition directory.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from carbonmet.quantities.rules import code_problem

from ._catalog import as_catalog
from ._durable import (
    fsync_dir,
    remove_stale_tmp,
    write_bytes_durable,
    write_parquet_durable,
    write_parquet_many_durable,
)
from ._errors import StoreError
from ._readers import BATCH_SCHEMA, readings_to_batch
from ._rules import Rules, default_rules
from ._types import READINGS_SCHEMA, PointInfo, RawReading
from ._validate import Existing, Notice, validate_readings

_MONTH = re.compile(r"\d{4}-\d{2}")

#: Columns of a quarantine file.
QUARANTINE_SCHEMA = pa.schema(
    list(BATCH_SCHEMA)
    + [
        pa.field("reason", pa.string()),
        pa.field("detail", pa.string()),
        pa.field("batch", pa.string()),
        pa.field("received_at", pa.timestamp("us", tz="UTC")),
    ]
)

_EMPTY: Existing = (np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, object))


def token(batch_id: str) -> str:
    """Short file-name-safe token of a batch id."""
    return hashlib.sha256(batch_id.encode("utf-8")).hexdigest()[:24]


@dataclass(slots=True)
class IngestReport:
    """What happened to one ingested batch. ``received == stored + quarantined + duplicates``."""

    batch_id: str
    source: str
    received: int = 0
    stored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    already_ingested: bool = False
    origin: str = ""
    #: deviations from the source's protocol that were accepted and flagged (code → readings or messages
    #: carrying it), e.g. an HJ 212 logger's 14-character MN under the accept-and-flag policy
    deviations: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._check()

    def _check(self) -> None:
        if self.received != self.stored + self.quarantined + self.duplicates:
            raise StoreError(
                f"batch {self.batch_id}: counts do not add up: received {self.received} != stored "
                f"{self.stored} + quarantined {self.quarantined} + duplicates {self.duplicates}"
            )

    def merge(self, other: IngestReport) -> None:
        """Add another report's counts into this one (for multi-file or multi-batch totals)."""
        self.received += other.received
        self.stored += other.stored
        self.quarantined += other.quarantined
        self.duplicates += other.duplicates
        for k, v in other.by_reason.items():
            self.by_reason[k] = self.by_reason.get(k, 0) + v
        for k, v in other.deviations.items():
            self.deviations[k] = self.deviations.get(k, 0) + v
        self.notices.extend(other.notices)
        self._check()

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "source": self.source,
            "origin": self.origin,
            "received": self.received,
            "stored": self.stored,
            "quarantined": self.quarantined,
            "duplicates": self.duplicates,
            "by_reason": dict(sorted(self.by_reason.items())),
            "notices": [n.to_dict() for n in self.notices],
            "already_ingested": self.already_ingested,
            "deviations": dict(sorted(self.deviations.items())),
        }


class _Partition:
    """Cached (ts, value, flag) of one partition directory, refreshed when its file set changes."""

    __slots__ = ("files", "flag", "ts", "value")

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.ts: npt.NDArray[np.int64] = np.empty(0, np.int64)
        self.value: npt.NDArray[np.float64] = np.empty(0, np.float64)
        self.flag: npt.NDArray[np.object_] = np.empty(0, object)

    def add(self, ts: npt.NDArray[np.int64], value: npt.NDArray[np.float64], flag: npt.NDArray[np.object_]) -> None:
        t = np.concatenate([self.ts, ts])
        v = np.concatenate([self.value, value])
        f = np.concatenate([self.flag, flag])
        o = np.argsort(t, kind="stable")
        self.ts, self.value, self.flag = t[o], v[o], f[o]


def _read_tv(path: Path) -> Existing:
    t = pq.read_table(path, columns=["ts", "value", "flag"])
    ts = t.column("ts").cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    v = t.column("value").fill_null(np.nan)
    f = t.column("flag").cast(pa.string())
    return (
        ts.to_numpy().astype(np.int64, copy=False),
        v.to_numpy().astype(np.float64, copy=False),
        np.asarray(f.to_numpy(zero_copy_only=False), dtype=object),
    )


class Store:
    """A readings store rooted at a directory (created if missing).

    Parameters
    ----------
    root : path
        Store directory.
    rules : Rules, optional
        Rule table; default: the one shipped with carbonmet.
    local_tz : str
        Zone of calendar dates in the catalog [IANA name].
    """

    def __init__(self, root: str | os.PathLike[str], rules: Rules | None = None, local_tz: str = "Asia/Shanghai"):
        self.root = Path(root)
        self.rules = rules or default_rules()
        self.local_tz = local_tz
        for d in ("readings", "raw", "quarantine"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        self._tlock = threading.RLock()
        self._held = threading.local()  # .depth: store locks this thread holds (reading() nests)
        self._cache: dict[tuple[str, str, str], _Partition] = {}
        self._db = sqlite3.connect(self.root / "journal.sqlite", isolation_level=None, check_same_thread=False)
        with self._locked():
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS batches (batch_id TEXT PRIMARY KEY, state TEXT NOT NULL, "
                "source TEXT, files TEXT, report TEXT, started TEXT, finished TEXT)"
            )
            self._db.execute("CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, batch_id TEXT NOT NULL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL, batch_id TEXT)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS compactions (dir TEXT PRIMARY KEY, state TEXT NOT NULL, "
                "new_file TEXT NOT NULL, old_files TEXT NOT NULL)"
            )
            self._recover()

    # --- locking and recovery ----------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive lock for writers (every process and thread), dead writers' leftovers undone first.

        A writer holds this lock from its journal row ``writing`` to the commit, so a ``writing`` row (or a
        compaction row) seen here belongs to a process that died mid-batch: its files are removed before
        anything else is written or merged, even while other ingest processes keep running.
        """
        with self._tlock:
            fd = os.open(self.root / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._held.depth = getattr(self._held, "depth", 0) + 1
                try:
                    if self._dead_writer():
                        self._recover_journal()
                    yield
                finally:
                    self._held.depth -= 1
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Shared lock for readers: no ingest or compaction changes the file set meanwhile.

        The thread lock is taken first, in the same order as :meth:`_locked`: a reader holding the file lock
        while waiting for the thread lock (which :meth:`files` takes) would deadlock against an ingest in
        another thread of this process holding the thread lock while waiting for the file lock.
        """
        # a dead writer's files are undone first (or a live one's row: the exclusive lock then waits for it and
        # finds nothing) — not when this thread already holds a store lock: its own would block the exclusive one
        if not getattr(self._held, "depth", 0) and self._dead_writer():
            with self._locked():
                pass
        with self._tlock:
            fd = os.open(self.root / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)
                self._held.depth = getattr(self._held, "depth", 0) + 1
                try:
                    yield
                finally:
                    self._held.depth -= 1
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _dead_writer(self) -> bool:
        """True if the journal holds a batch or a compaction not finished (one query)."""
        with self._tlock:
            try:
                row = self._db.execute("SELECT EXISTS (SELECT 1 FROM batches WHERE state='writing') "
                                       "OR EXISTS (SELECT 1 FROM compactions)").fetchone()
            except sqlite3.OperationalError:  # a new store, its journal's tables not created yet
                return False
        return bool(row[0])

    def _recover(self) -> None:
        """At open: undo dead writers' batches and compactions, and remove their temporary files."""
        self._recover_journal()
        for d in ("readings", "raw", "quarantine"):  # temporary files of processes killed mid-write
            remove_stale_tmp(self.root / d)

    def _recover_journal(self) -> None:
        """Remove files of batches that were being written when a process died (never acknowledged), and
        finish or drop its compactions. Call with the exclusive lock held."""
        rows = self._db.execute("SELECT batch_id, files FROM batches WHERE state='writing'").fetchall()
        for batch_id, files in rows:
            dirs = set()
            for f in json.loads(files or "[]"):
                p = self.root / f
                if p.exists():
                    p.unlink()
                    dirs.add(p.parent)
            for d in dirs:
                fsync_dir(d)
            self._db.execute("DELETE FROM batches WHERE batch_id=?", (batch_id,))
        for d, state, new_file, old_files in self._db.execute(
            "SELECT dir, state, new_file, old_files FROM compactions"
        ).fetchall():
            pdir = self.root / d
            if state == "writing":  # the merged file may be partial: drop it, the old files are intact
                (pdir / new_file).unlink(missing_ok=True)
            else:  # "swap": the merged file is complete and durable: finish removing the old ones
                for f in json.loads(old_files):
                    (pdir / f).unlink(missing_ok=True)
            if pdir.exists():
                fsync_dir(pdir)
            self._db.execute("DELETE FROM compactions WHERE dir=?", (d,))
        self._cache.clear()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- journal -----------------------------------------------------------------------------------
    def is_ingested(self, batch_id: str) -> bool:
        """True if a batch with this id was committed."""
        with self._tlock:
            r = self._db.execute("SELECT state FROM batches WHERE batch_id=?", (batch_id,)).fetchone()
        return r is not None and r[0] == "done"

    def known_keys(self, keys: Iterable[str]) -> set[str]:
        """The subset of message keys (e.g. MQTT ``msg_id``) already committed."""
        keys = list(keys)
        out: set[str] = set()
        with self._tlock:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                q = f"SELECT key FROM keys WHERE key IN ({','.join('?' * len(chunk))})"
                out.update(r[0] for r in self._db.execute(q, chunk))
        return out

    def cursor(self, name: str) -> str | None:
        """The position a source committed with its last batch (:meth:`ingest` ``cursors``), or ``None``.

        A connector reading a history (an OPC UA historian, a logger's memory) resumes from here after a
        restart: the cursor moves in the same journal transaction as the batch it follows, so it never
        runs ahead of what is stored, nor behind it.
        """
        with self._tlock:
            r = self._db.execute("SELECT value FROM cursors WHERE name=?", (name,)).fetchone()
        return None if r is None else str(r[0])

    def set_cursor(self, name: str, value: str) -> None:
        """Move a source's cursor without a batch (everything up to ``value`` was already stored)."""
        with self._locked():
            self._db.execute("INSERT OR REPLACE INTO cursors (name, value, batch_id) VALUES (?, ?, NULL)",
                             (name, value))

    def journal(self) -> list[dict[str, Any]]:
        """All committed batches with their reports (oldest first)."""
        with self._tlock:
            rows = self._db.execute(
                "SELECT batch_id, source, report, finished FROM batches WHERE state='done' ORDER BY finished"
            ).fetchall()
        return [{"batch_id": b, "source": s, "finished": f, **json.loads(r or "{}")} for b, s, r, f in rows]

    # --- partitions --------------------------------------------------------------------------------
    def partition_dir(self, enterprise: str, point: str, month: str) -> Path:
        """Directory of one partition; the codes are checked, never joined into a path unchecked."""
        for what, code in (("enterprise", enterprise), ("point_id", point)):
            problem = code_problem(code)
            if problem is not None:
                raise StoreError(f"{what}: {problem}")
        if not _MONTH.fullmatch(month):
            raise StoreError(f"month: not YYYY-MM: {month!r}")
        return self._inside(self.root / "readings" / f"enterprise={enterprise}" / f"point={point}" / f"month={month}")

    def _inside(self, path: Path) -> Path:
        """``path`` if it lies inside the store (lexically, after ``..`` is resolved), else :class:`StoreError`."""
        root = os.path.normpath(self.root.absolute())
        full = os.path.normpath(path.absolute())
        if os.path.commonpath([root, full]) != root:
            raise StoreError(f"refusing to write outside the store {root}: {full}")
        return path

    def _existing(self, enterprise: str, point: str, month: str) -> Existing:
        key = (enterprise, point, month)
        d = self.partition_dir(enterprise, point, month)
        try:
            names = {n for n in os.listdir(d) if n.endswith(".parquet") and not n.startswith(".")}
        except FileNotFoundError:
            names = set()
        if names:
            names -= self._unfinished_names(d)
        part = self._cache.get(key)
        if part is None or not part.files <= names:
            part = _Partition()
            self._cache[key] = part
        for name in sorted(names - part.files):
            part.add(*_read_tv(d / name))
            part.files.add(name)
        return (part.ts, part.value, part.flag) if len(part.ts) else _EMPTY

    def _unfinished_names(self, d: Path) -> set[str]:
        """File names in directory ``d`` that belong to batches not committed (state ``writing``: a
        crash in another process, removed on the next open). Never read, never counted as stored."""
        with self._tlock:
            rows = self._db.execute("SELECT files FROM batches WHERE state='writing'").fetchall()
        if not rows:
            return set()
        rel = str(d.relative_to(self.root))
        out = set()
        for (files,) in rows:
            for f in json.loads(files or "[]"):
                head, _, name = f.rpartition("/")
                if head == rel:
                    out.add(name)
        return out

    def files(
        self,
        points: Sequence[str] | None = None,
        months: Sequence[str] | None = None,
        enterprises: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Parquet files of the given points and months (partition pruning by directory, no glob of
        the whole store when points and their enterprises are known)."""
        base = self.root / "readings"
        out: list[str] = []
        if points is None:
            point_dirs = [p for e in base.glob("enterprise=*") for p in e.glob("point=*")]
        else:
            point_dirs = []
            for pid in points:
                if code_problem(pid) is not None or (enterprises and code_problem(enterprises.get(pid, "x"))):
                    continue  # not an identifier: no partition of it can exist (and no path is built)
                if enterprises and pid in enterprises:
                    point_dirs.append(base / f"enterprise={enterprises[pid]}" / f"point={pid}")
                else:
                    point_dirs.extend(base.glob(f"enterprise=*/point={pid}"))
        for pd in point_dirs:
            if months is None:
                mdirs = sorted(pd.glob("month=*"))
            else:
                mdirs = [pd / f"month={m}" for m in months if _MONTH.fullmatch(m)]
            for md in mdirs:
                try:
                    names = sorted(os.listdir(md))
                except FileNotFoundError:
                    continue
                skip = self._unfinished_names(md)
                out.extend(str(md / n) for n in names if n.endswith(".parquet") and not n.startswith(".")
                           and n not in skip)
        return out

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A new in-memory DuckDB connection (the store is read through ``read_parquet`` file lists)."""
        return duckdb.connect()

    def readings(
        self, point: str, start: datetime | None = None, end: datetime | None = None, catalog: Mapping[str, PointInfo] | None = None
    ) -> pa.Table:
        """Stored readings of one point (ts, value, flag, source, batch), sorted by time, ``[start, end)``."""
        months = None
        if start is not None and end is not None:
            months = _months_between(start, end)
        with self.reading():
            return self._readings(point, start, end, months, catalog)

    def _readings(
        self, point: str, start: datetime | None, end: datetime | None, months: list[str] | None,
        catalog: Mapping[str, PointInfo] | None,
    ) -> pa.Table:
        ents = {point: catalog[point].enterprise} if catalog is not None and point in catalog else None
        files = self.files([point], months, ents)
        if not files:
            return READINGS_SCHEMA.empty_table()
        con = self.connect()
        where = []
        params: list[Any] = []
        if start is not None:
            where.append("epoch_us(ts) >= ?")
            params.append(int(start.timestamp() * 1_000_000))
        if end is not None:
            where.append("epoch_us(ts) < ?")
            params.append(int(end.timestamp() * 1_000_000))
        sql = (
            "SELECT ts, value, flag::VARCHAR AS flag, source::VARCHAR AS source, batch FROM read_parquet(?, union_by_name=true)"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY ts"
        )
        t = con.sql(sql, params=[files, *params]).to_arrow_table()
        con.close()
        return t.cast(pa.schema([pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False), *list(t.schema)[1:]]))

    # --- ingest ------------------------------------------------------------------------------------
    def ingest(
        self,
        batch: pa.Table,
        batch_id: str,
        catalog: Mapping[str, PointInfo],
        *,
        source: str,
        raw: bytes | None = None,
        raw_ext: str = ".bin",
        keys: Sequence[str] = (),
        extra_quarantine: pa.Table | None = None,
        origin: str = "",
        deviations: Mapping[str, int] | None = None,
        cursors: Mapping[str, str] | None = None,
    ) -> IngestReport:
        """Validate and store one input batch; return when it is durable.

        Parameters
        ----------
        batch : pyarrow.Table
            Input rows (:data:`BATCH_SCHEMA`), from a reader.
        batch_id : str
            Idempotency key of the whole batch (file hash, HJ 212 MN+QN, MQTT message keys hash).
        catalog : Mapping[str, PointInfo]
            Known points (e.g. :func:`carbonmet.registry.catalog_from_files` or the registry).
        source : str
            ``file``, ``mqtt``, ``hj212``, ``rest``: the raw archive sub-directory.
        raw : bytes, optional
            The input exactly as received, archived before anything else.
        keys : sequence of str
            Message keys committed with the batch (known keys are then duplicates on re-delivery).
        extra_quarantine : pyarrow.Table, optional
            Rows the caller already rejected (:data:`BATCH_SCHEMA` + reason, detail), stored and
            counted with the batch.
        deviations : mapping of str to int, optional
            Protocol deviations the source accepted and flagged (code → count), kept in the batch's
            journal report with the points the batch wrote (:meth:`journal`).
        cursors : mapping of str to str, optional
            Source positions committed in the same transaction as the batch (:meth:`cursor`); also set
            when the batch was ingested before.
        """
        cat = as_catalog(catalog)
        with self._locked():
            if self.is_ingested(batch_id):
                n = batch.num_rows + (extra_quarantine.num_rows if extra_quarantine is not None else 0)
                for name, value in (cursors or {}).items():
                    self._db.execute("INSERT OR REPLACE INTO cursors (name, value, batch_id) VALUES (?, ?, ?)",
                                     (name, value, batch_id))
                return IngestReport(batch_id, source, received=n, duplicates=n, already_ingested=True, origin=origin)
            now = datetime.now(UTC)
            tok = token(batch_id)
            day = now.strftime("%Y-%m-%d")
            if raw is not None:
                if code_problem(source) is not None or code_problem(f"x{raw_ext}") is not None:
                    raise StoreError(f"source {source!r} / extension {raw_ext!r} is not a safe file name part")
                write_bytes_durable(self._inside(self.root / "raw" / source / day / f"{tok}{raw_ext}"), raw)
            res = validate_readings(batch, cat, self.rules, self._existing, local_tz=self.local_tz)
            quarantined = res.quarantined
            if extra_quarantine is not None and extra_quarantine.num_rows:
                quarantined = pa.concat_tables([quarantined, extra_quarantine.select(quarantined.column_names)])
            # plan the files, record them, then write them
            acc = res.accepted
            parts: list[tuple[tuple[str, str, str], pa.Table]] = []
            if acc.num_rows:
                # accepted rows are sorted by point then time, so each partition is one contiguous run
                pid = acc.column("point_id").to_numpy(zero_copy_only=False)
                mon = acc.column("month").to_numpy(zero_copy_only=False)
                ent = acc.column("enterprise").to_numpy(zero_copy_only=False)
                change = np.ones(acc.num_rows, bool)
                change[1:] = (pid[1:] != pid[:-1]) | (mon[1:] != mon[:-1])
                starts = np.flatnonzero(change)
                for s0, s1 in zip(starts, np.append(starts[1:], acc.num_rows)):
                    k = (str(ent[s0]), str(pid[s0]), str(mon[s0]))
                    parts.append((k, _to_store_table(acc.slice(int(s0), int(s1 - s0)), batch_id)))
            planned = [
                str((self.partition_dir(*k) / f"part-{tok}.parquet").relative_to(self.root)) for k, _ in parts
            ]
            qpath = self.root / "quarantine" / day / f"{tok}.parquet"
            if quarantined.num_rows:
                planned.append(str(qpath.relative_to(self.root)))
            self._db.execute(
                "INSERT OR REPLACE INTO batches (batch_id, state, source, files, started) VALUES (?,?,?,?,?)",
                (batch_id, "writing", source, json.dumps(planned), now.isoformat()),
            )
            try:
                return self._write_batch(batch_id, source, origin, keys, parts, tok, qpath, quarantined, res, acc,
                                         extra_quarantine, now, dict(deviations or {}), dict(cursors or {}))
            except BaseException:
                # nothing of a failed batch may stay visible (it was not acknowledged and will be re-sent)
                self._undo(batch_id, planned)
                raise

    def _undo(self, batch_id: str, planned: Sequence[str]) -> None:
        """Delete the files of a batch that failed before its commit, and its journal row."""
        dirs = set()
        for f in planned:
            p = self.root / f
            try:
                p.unlink()
                dirs.add(p.parent)
            except FileNotFoundError:
                pass
        for d in dirs:
            fsync_dir(d)
        self._db.execute("DELETE FROM batches WHERE batch_id=? AND state='writing'", (batch_id,))
        self._cache.clear()

    def _write_batch(self, batch_id: str, source: str, origin: str, keys: Sequence[str],
                     parts: list[tuple[tuple[str, str, str], pa.Table]], tok: str, qpath: Path,
                     quarantined: pa.Table, res: Any, acc: pa.Table, extra_quarantine: pa.Table | None,
                     now: datetime, deviations: dict[str, int], cursors: dict[str, str]) -> IngestReport:
        write_parquet_many_durable([(self.partition_dir(*k) / f"part-{tok}.parquet", tbl) for k, tbl in parts])
        if quarantined.num_rows:
            q = quarantined.append_column("batch", pa.array([batch_id] * quarantined.num_rows, pa.string()))
            q = q.append_column(
                "received_at", pa.array([now] * quarantined.num_rows, pa.timestamp("us", tz="UTC"))
            )
            write_parquet_durable(qpath, q.select(QUARANTINE_SCHEMA.names).cast(QUARANTINE_SCHEMA))
        by_reason: dict[str, int] = {}
        if quarantined.num_rows:
            for r, c in zip(*np.unique(quarantined.column("reason").to_numpy(zero_copy_only=False).astype(str),
                                       return_counts=True)):
                by_reason[str(r)] = int(c)
        report = IngestReport(
            batch_id,
            source,
            received=res.received + (extra_quarantine.num_rows if extra_quarantine is not None else 0),
            stored=acc.num_rows,
            quarantined=quarantined.num_rows,
            duplicates=res.duplicates,
            by_reason=by_reason,
            notices=res.notices,
            origin=origin,
            deviations={k: v for k, v in deviations.items() if v},
        )
        doc = {k: v for k, v in report.to_dict().items() if k != "notices"}
        if report.deviations:  # whose data deviated: the points the batch wrote or quarantined
            pts = {p for t in (acc, quarantined) for p in t.column("point_id").to_pylist() if p is not None}
            doc["points"] = sorted(pts)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "UPDATE batches SET state='done', report=?, finished=? WHERE batch_id=?",
                (json.dumps(doc), datetime.now(UTC).isoformat(), batch_id),
            )
            self._db.executemany("INSERT OR REPLACE INTO cursors (name, value, batch_id) VALUES (?, ?, ?)",
                                 [(n, v, batch_id) for n, v in cursors.items()])
            self._db.executemany("INSERT OR IGNORE INTO keys (key, batch_id) VALUES (?, ?)",
                                 [(k, batch_id) for k in keys])
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return report

    def ingest_readings(
        self,
        readings: Sequence[RawReading],
        batch_id: str,
        catalog: Mapping[str, PointInfo],
        *,
        source: str,
        raw: bytes | None = None,
        raw_ext: str = ".bin",
        keys: Sequence[str] = (),
        **options: Any,
    ) -> IngestReport:
        """:meth:`ingest` for a list of :class:`RawReading` (HJ 212, MQTT, REST); ``options`` are :meth:`ingest`'s
        (``origin``, ``extra_quarantine``, ``deviations``, ``cursors``)."""
        return self.ingest(readings_to_batch(readings), batch_id, catalog, source=source, raw=raw,
                           raw_ext=raw_ext, keys=keys, **options)

    def reject(self, raw: bytes, reason: str, *, source: str, origin: str = "", detail: str = "") -> IngestReport:
        """Quarantine an input that could not be parsed at all (one record), durably."""
        batch_id = f"{source}-reject:{hashlib.sha256(raw).hexdigest()}"
        row = pa.Table.from_pylist(
            [{"point_id": None, "serial": None, "ts": None, "value": None, "unit": None, "flag": None,
              "origin": origin, "error": reason, "raw_ts": None, "raw_value": raw.decode("utf-8", "replace")[:2000],
              "reason": reason, "detail": detail or reason}],
            schema=pa.schema(list(BATCH_SCHEMA) + [pa.field("reason", pa.string()), pa.field("detail", pa.string())]),
        )
        return self.ingest(BATCH_SCHEMA.empty_table(), batch_id, {}, source=source, raw=raw,
                           extra_quarantine=row, origin=origin)

    # --- compaction --------------------------------------------------------------------------------
    def compact(self, min_files: int = 8) -> int:
        """Merge the files of every partition holding at least ``min_files`` into one sorted file.

        Streaming ingest (MQTT, HJ 212) writes one small file per batch and partition; this keeps the
        file count down. Crash-safe: the journal records the merge before the merged file is written
        (a crash then drops the partial merged file) and marks the swap once it is durable (a crash
        then finishes deleting the old files). Rows keep their original ``batch``. A reader that does not
        take the shared lock (:meth:`reading`) may see rows twice for a moment between the swap and the
        deletion; the store's own readers take it, in every process.

        Returns
        -------
        int
            Number of partitions compacted.
        """
        done = 0
        base = self.root / "readings"
        with self._locked():
            for md in sorted(base.glob("enterprise=*/point=*/month=*")):
                names = sorted(n for n in os.listdir(md) if n.endswith(".parquet") and not n.startswith("."))
                if len(names) < max(2, min_files):
                    continue
                rel = str(md.relative_to(self.root))
                new = f"part-c{hashlib.sha256('|'.join(names).encode()).hexdigest()[:20]}.parquet"
                self._db.execute("INSERT OR REPLACE INTO compactions VALUES (?, 'writing', ?, ?)",
                                 (rel, new, json.dumps(names)))
                tables = [pq.read_table(md / n).cast(READINGS_SCHEMA) for n in names]
                merged = pa.concat_tables(tables).sort_by("ts")
                write_parquet_durable(md / new, merged)
                self._db.execute("UPDATE compactions SET state='swap' WHERE dir=?", (rel,))
                for n in names:
                    (md / n).unlink()
                fsync_dir(md)
                self._db.execute("DELETE FROM compactions WHERE dir=?", (rel,))
                done += 1
            self._cache.clear()
        return done

    # --- quarantine --------------------------------------------------------------------------------
    def quarantine(self) -> pa.Table:
        """All quarantined rows (:data:`QUARANTINE_SCHEMA`)."""
        with self.reading():
            files = sorted(str(p) for p in (self.root / "quarantine").glob("*/*.parquet"))
            if not files:
                return QUARANTINE_SCHEMA.empty_table()
            return pa.concat_tables(pq.read_table(f).cast(QUARANTINE_SCHEMA) for f in files)


def _to_store_table(sub: pa.Table, batch_id: str) -> pa.Table:
    n = sub.num_rows
    return pa.Table.from_arrays(
        [
            sub.column("ts"),
            sub.column("value"),
            sub.column("flag").combine_chunks().dictionary_encode().cast(pa.dictionary(pa.int8(), pa.string())),
            sub.column("source").combine_chunks().dictionary_encode().cast(pa.dictionary(pa.int8(), pa.string())),
            pa.repeat(pa.scalar(batch_id, pa.string()), n),
        ],
        schema=READINGS_SCHEMA,
    )


def _months_between(start: datetime, end: datetime) -> list[str]:
    """UTC months "YYYY-MM" overlapping ``[start, end)``."""
    s = np.datetime64(start.astimezone(UTC).replace(tzinfo=None), "M")
    e = np.datetime64(end.astimezone(UTC).replace(tzinfo=None) - timedelta(microseconds=1), "M")
    return [str(m) for m in np.arange(s, e + np.timedelta64(1, "M"))]
