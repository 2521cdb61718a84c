"""Metering use cases: the point catalogue, ingest of readings files, summaries, activity data,
quarantine (计量数据).

A point belongs to the enterprise the registry gives it. Ingest validates against the points the
caller may write: a row for a point (or an instrument serial) of an enterprise outside the write scope
is quarantined with reason ``out_of_scope`` and never reaches the readings store, so the counts still
add up (received = stored + quarantined + duplicates).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa

from ._deps import (
    DEFAULT_LIMITS,
    ActivityData,
    Catalog,
    ColumnMap,
    IngestReport,
    PeriodAggregate,
    PointInfo,
    RawReading,
    ReadError,
    Store,
    TabularError,
    activity_data,
    aggregate,
    as_catalog,
    catalog_from_registry,
    file_batch_id,
    read_file,
    read_limited,
    readings_to_batch,
)
from ._errors import NotInScope, ServiceError
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

OUT_OF_SCOPE = "out_of_scope"
"""Quarantine reason of a reading for a point of an enterprise outside the caller's write scope."""


def _all_points(ws: Workspace) -> Catalog:
    """Every point of the registry (or of the workspace's catalogue files): only for deciding whom a
    reading belongs to, never returned."""
    files = ws.file_catalog()
    if files is not None:
        return as_catalog(files)
    with ws.session() as s:
        return as_catalog(catalog_from_registry(s))


def _scoped(cat: Mapping[str, PointInfo], allowed: Any) -> Catalog:
    return as_catalog({k: v for k, v in cat.items() if allowed(v.enterprise)})


@use_case("read")
def point_catalog(ws: Workspace, scope: Scope) -> Catalog:
    """The point catalogue (计量点目录) from the registry (or the workspace's catalogue files): points of
    enterprises in the read scope only."""
    return _scoped(_all_points(ws), scope.can_read)


def _serial_orgs(cat: Catalog, serial: str) -> set[str]:
    return {cat[pid].enterprise for pid, _ in cat.installations(serial)}


def _row_orgs(cat: Catalog, point_id: Any, serial: Any) -> set[str]:
    """Enterprises a batch row refers to by point id, else by instrument serial (empty: unknown)."""
    if point_id is not None and point_id in cat:
        return {cat[point_id].enterprise}
    if point_id is None and serial is not None:
        return _serial_orgs(cat, serial)
    return set()


def _split_out_of_scope(batch: pa.Table, full: Catalog, scope: Scope) -> tuple[pa.Table, pa.Table | None]:
    """(rows the caller may write or that name no known point, rows of enterprises outside the scope)."""
    pids = batch.column("point_id").to_pylist()
    serials = batch.column("serial").to_pylist()
    refused = [refused_org(full, scope, pid, ser) for pid, ser in zip(pids, serials, strict=True)]
    mask = np.array([r is not None for r in refused], dtype=bool)
    if not mask.any():
        return batch, None
    out = batch.filter(pa.array(mask))
    detail = [f"无权写入单位 {o} 的计量点 / no write access to organisation {o}" for o in refused if o is not None]
    out = out.append_column("reason", pa.array([OUT_OF_SCOPE] * out.num_rows, pa.string()))
    out = out.append_column("detail", pa.array(detail, pa.string()))
    return batch.filter(pa.array(~mask)), out


def _with_refused(extra: pa.Table | None, refused: pa.Table | None) -> pa.Table | None:
    if refused is None:
        return extra
    if extra is None:
        return refused
    return pa.concat_tables([extra, refused.cast(extra.schema)])


class ScopedStore:
    """The readings store as a caller may write it: rows of points outside the write scope are
    quarantined (``out_of_scope``) and never stored (写入范围内的数据存储).

    Offers what the ingest paths use of :class:`carbonmet.metering.Store` (``ingest``,
    ``ingest_readings``, ``reject``, ``known_keys``, ``compact``), so file ingest, the HJ 212 sink and
    the MQTT listener all write through it. The catalogue a caller passes to ``ingest`` is ignored:
    rows are validated against :attr:`catalog`, the points of the write scope.

    Parameters
    ----------
    store : carbonmet.metering.Store
        The readings store.
    full : Catalog
        Every known point (to tell a point of another enterprise from an unknown one).
    scope : Scope
        The caller.
    """

    def __init__(self, store: Store, full: Catalog, scope: Scope) -> None:
        self.store, self.full, self.scope = store, full, scope
        self.catalog: Catalog = _scoped(full, scope.can_write)

    def ingest(self, batch: pa.Table, batch_id: str, catalog: Mapping[str, PointInfo] | None = None, *,
               extra_quarantine: pa.Table | None = None, **options: Any) -> IngestReport:
        """:meth:`carbonmet.metering.Store.ingest` with rows outside the write scope quarantined."""
        mine, refused = _split_out_of_scope(batch, self.full, self.scope)
        return self.store.ingest(mine, batch_id, self.catalog, extra_quarantine=_with_refused(extra_quarantine, refused),
                                 **options)

    def ingest_readings(self, readings: Sequence[RawReading], batch_id: str,
                        catalog: Mapping[str, PointInfo] | None = None, *, source: str, raw: bytes | None = None,
                        raw_ext: str = ".bin", keys: Sequence[str] = (), **options: Any) -> IngestReport:
        """:meth:`ingest` for a list of :class:`carbonmet.metering.RawReading` (HJ 212, MQTT, connectors)."""
        return self.ingest(readings_to_batch(readings), batch_id, source=source, raw=raw, raw_ext=raw_ext, keys=keys,
                           **options)

    def reject(self, raw: bytes, reason: str, *, source: str, origin: str = "", detail: str = "") -> IngestReport:
        """Quarantine an input that could not be parsed at all (one record; the centre sees it)."""
        return self.store.reject(raw, reason, source=source, origin=origin, detail=detail)

    def known_keys(self, keys: Iterable[str]) -> set[str]:
        """Message keys already committed (re-deliveries are duplicates)."""
        return self.store.known_keys(keys)

    def cursor(self, name: str) -> str | None:
        """A connector's committed position (:meth:`carbonmet.metering.Store.cursor`)."""
        return self.store.cursor(name)

    def set_cursor(self, name: str, value: str) -> None:
        """Move a connector's position without a batch (:meth:`carbonmet.metering.Store.set_cursor`)."""
        self.store.set_cursor(name, value)

    def compact(self, min_files: int = 8) -> int:
        """Merge small files (:meth:`carbonmet.metering.Store.compact`); changes no reading."""
        return self.store.compact(min_files)


def scoped_store(ws: Workspace, scope: Scope) -> ScopedStore:
    """The workspace's readings store as ``scope`` may write it."""
    return ScopedStore(ws.store(), _all_points(ws), scope)


def refused_org(full: Catalog, scope: Scope, point_id: str | None, serial: str | None) -> str | None:
    """The organisation a reading belongs to when the scope may not write it (else ``None``)."""
    orgs = _row_orgs(full, point_id, serial)
    bad = sorted(o for o in orgs if not scope.can_write(o))
    return bad[0] if bad and len(bad) == len(orgs) else None


def _zone(name: str | None) -> Any:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError(f"未知时区 unknown time zone {name!r}") from None


@use_case("write")
def ingest_files(
    ws: Workspace, scope: Scope, files: Iterable[str | Path], *, mapping: Sequence[str] | str | None = None,
    default_tz: str | None = None, on_file: Callable[[Path, IngestReport], None] | None = None,
) -> tuple[IngestReport, list[IngestReport]]:
    """Ingest CSV/XLSX readings files into the store: validate, store, quarantine (导入读数).

    Parameters
    ----------
    files : paths
        Readings files (docs/formats/readings.md).
    mapping : str or sequence of str, optional
        Column mapping ``FIELD=COLUMN`` pairs (e.g. ``"ts=时间,value=读数"``).
    default_tz : str, optional
        IANA zone of naive input times.
    on_file : callable ``(path, report)``, optional
        Called after each file is durable (for a progress display).

    Returns
    -------
    (IngestReport, list of IngestReport)
        The total and one report per file. An unreadable file is archived and quarantined as one
        record (reason ``unreadable_file``). Rows for points of enterprises outside the write scope
        are quarantined with reason ``out_of_scope``.

    Raises
    ------
    ServiceError
        A file that does not exist or is over the size limit (``carbonmet.tabular.Limits.max_bytes``,
        256 MiB), naming the file and the limit. Every file's size is checked before anything is read or
        stored, and a file is read at most up to the limit, so an oversized file costs no memory (and is
        not archived: it stays where it is).
    """
    try:
        cmap = ColumnMap.parse(mapping)
    except ReadError as exc:
        raise ServiceError(str(exc)) from None
    tz = _zone(default_tz)
    paths = [Path(f) for f in files]
    for f in paths:  # all of them before the first is read: nothing half done for a size a stat can tell
        try:
            size = f.stat().st_size
        except OSError as exc:
            raise ServiceError(f"无法读取 cannot read {f}: {exc}") from None
        if size > DEFAULT_LIMITS.max_bytes:
            raise ServiceError(_too_large(f, f"{size} bytes"))
    st = scoped_store(ws, scope)
    total = IngestReport("total", "file")
    per_file: list[IngestReport] = []
    for f in paths:
        try:
            raw = read_limited(f, DEFAULT_LIMITS)
        except TabularError as exc:
            if exc.field == "limit":
                raise ServiceError(_too_large(f, exc.reason.split(",")[0])) from None
            raise ServiceError(f"无法读取 cannot read {f}: {exc.reason}") from None
        try:
            batch = read_file(f, cmap, tz)
        except ReadError as exc:  # the whole file is unusable: archived and quarantined as one record
            rep = st.reject(raw, "unreadable_file", source="file", origin=str(f), detail=str(exc))
            rep.origin = str(f)
        else:
            rep = st.ingest(batch, file_batch_id(raw), source="file", raw=raw, raw_ext=f.suffix.lower() or ".csv",
                            origin=str(f))
        total.merge(rep)
        per_file.append(rep)
        if on_file is not None:
            on_file(f, rep)
    return total, per_file


def _too_large(f: Path, size: str) -> str:
    cap = DEFAULT_LIMITS.max_bytes
    return (f"文件过大 {f}: {size}，超过上限 {cap} 字节 ({cap // 2**20} MiB) / file too large: {f}: {size}, "
            f"over the limit of {cap} bytes ({cap // 2**20} MiB); split it into smaller files")


def _readable_point(ws: Workspace, scope: Scope, point: str) -> Catalog:
    cat = point_catalog(ws, scope)
    if point not in cat:
        raise NotInScope("measurement point 计量点", point)
    return cat


@use_case("read")
def readings_summary(
    ws: Workspace, scope: Scope, point: str, start: datetime, end: datetime,
    period: Literal["hour", "day", "month", "year"] = "month",
) -> list[PeriodAggregate]:
    """Period totals (or means) of a point over ``[start, end)`` with completeness (按期汇总)."""
    cat = _readable_point(ws, scope, point)
    return aggregate(ws.store(), cat, [point], start, end, period, tz=ws.time_zone)


@use_case("read")
def point_activity(ws: Workspace, scope: Scope, point: str, start: datetime, end: datetime) -> ActivityData:
    """Activity data (活动数据) of a point over ``[start, end)``: a measured quantity with provenance."""
    cat = _readable_point(ws, scope, point)
    return activity_data(ws.store(), cat, point, start, end, tz=ws.time_zone)


@use_case("read")
def point_readings(ws: Workspace, scope: Scope, point: str, start: datetime | None = None,
                   end: datetime | None = None) -> pa.Table:
    """Stored readings of a point (ts, value, flag, source, batch), sorted by time."""
    cat = _readable_point(ws, scope, point)
    return ws.store().readings(point, start, end, catalog=cat)


@use_case("read")
def list_quarantine(ws: Workspace, scope: Scope, reason: str | None = None) -> list[dict[str, Any]]:
    """Quarantined records (隔离区) the caller may read.

    A record belongs to the enterprise of its point (by point id, else by instrument serial). Records
    refused as ``out_of_scope``, and records naming no known point (an unreadable file, an unknown point
    id), are visible to the all-access scope only: they cannot be attributed to one enterprise safely.
    """
    q = ws.store().quarantine()
    rows = q.select(["reason", "detail", "origin", "point_id", "serial", "raw_ts", "raw_value", "unit", "flag",
                     "batch"]).to_pylist()
    if not scope.all_access:
        full = _all_points(ws)
        kept = []
        for r in rows:
            orgs = set() if r["reason"] == OUT_OF_SCOPE else _row_orgs(full, r["point_id"], r["serial"])
            if orgs and all(scope.can_read(o) for o in orgs):
                kept.append(r)
        rows = kept
    if reason is not None:
        rows = [r for r in rows if r["reason"] == reason]
    return rows


@use_case("read")
def list_deviations(ws: Workspace, scope: Scope) -> list[dict[str, Any]]:
    """Batches stored with protocol deviations accepted and flagged (接收并标记), the caller may read.

    An HJ 212 logger under the accept-and-flag policy (14-character MN, 2005-style header, unknown codes …)
    has its readings stored and each deviation counted with the batch in the store's journal. A batch belongs
    to the enterprises of the points it wrote; batches naming no known point are visible to the all-access
    scope only.

    Returns
    -------
    list of dict
        One per batch, oldest first: ``batch_id``, ``source``, ``origin``, ``finished``, ``points``,
        ``deviations`` (code → packets carrying it), ``stored``, ``quarantined``.
    """
    full = None if scope.all_access else _all_points(ws)
    out: list[dict[str, Any]] = []
    for j in ws.store().journal():
        devs = j.get("deviations") or {}
        if not devs:
            continue
        points = list(j.get("points") or [])
        if full is not None:
            orgs = {full[p].enterprise for p in points if p in full}
            if not orgs or any(p not in full for p in points) or not all(scope.can_read(o) for o in orgs):
                continue
        out.append({k: j.get(k) for k in ("batch_id", "source", "origin", "finished", "stored", "quarantined")}
                   | {"points": points, "deviations": dict(devs)})
    return out


@use_case("centre")
def compact_store(ws: Workspace, scope: Scope, min_files: int = 8) -> int:
    """Merge the small files streaming ingest leaves in each partition (合并小文件) — centre scope only.

    Store maintenance over every enterprise's partitions; no reading is changed, added or removed.

    Returns
    -------
    int
        Partitions compacted.
    """
    scope.check_centre("compact the readings store 合并数据文件")
    return ws.store().compact(min_files)
