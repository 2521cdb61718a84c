"""The connector interface: what a source gives the platform and what it gets back (数据接口).

A connector knows one transport (a file, HJ 212 over TCP, MQTT, OPC UA, Modbus TCP, …) and nothing about the
store. It turns what it receives into :class:`Record` objects — raw readings with the source they came from and
an idempotency key — and hands them to :meth:`Intake.submit`. When ``submit`` returns, the readings are
validated, stored or quarantined with a reason, and durable (fsynced, committed to the journal), so the
connector may then acknowledge to its source (answer 9014, send the PUBACK, advance a historian cursor, move
the file away). If ``submit`` raises, nothing of the records is visible and the connector must not
acknowledge: the source sends them again (or the connector reads them again), and the keys make the second
delivery count once.

The platform's part, the same for every connector:

- **validation and quarantine** (:meth:`carbonmet.metering.Store.ingest`: unknown point, unit, range, flags,
  time; ``received == stored + quarantined + duplicates``);
- **idempotency**: a record whose key was committed before counts as a duplicate, as do repeats in one call;
- **durable acknowledgement**: ``submit`` returns only after the batch is durable; a cursor given with it
  (:meth:`Intake.cursor`) is committed in the same journal transaction;
- **counting**: :attr:`Intake.totals` (an :class:`~carbonmet.metering.IngestReport`, with accepted protocol
  deviations), records, batches, rejects, failures;
- **the raw archive**: every record's bytes as received, under ``raw/<source>/``.

A connector is any object with a ``source`` name and ``async run(intake, stop)`` (:class:`Connector`);
:func:`run_connector` runs one until ``stop`` is set. docs/connectors.md has a whole example.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from .. import IngestReport, PointInfo, RawReading, readings_to_batch
from ..errors import MeteringError

log = logging.getLogger(__name__)


class ConnectorError(MeteringError, ValueError):
    """A connector's configuration cannot be used (names the file, line or field)."""


@dataclass(frozen=True, slots=True)
class Record:
    """What a connector received once: raw readings, where they came from, and how to recognise them again.

    Attributes
    ----------
    source_id : str
        The device or stream, e.g. ``opcua:opc.tcp://10.1.2.3:4840|ns=2;s=FT101``, ``modbus:10.1.2.4:502/1``.
    key : str
        Idempotency key: the same data delivered again gets the same key (a node and its source timestamp,
        a meter and its poll slot, an MQTT topic and ``msg_id``, a file's hash). Unique across sources: start
        it with the connector's name.
    readings : sequence of RawReading
        The values as received (point id or instrument serial, time, value, unit, flag, origin).
    raw : bytes
        The bytes as received, archived before anything is validated.
    deviations : tuple of str
        Protocol deviations the connector accepted and flags (counted per record in the batch's report).
    batch : pyarrow.Table, optional
        Rows already in the input-batch schema (a file reader's output) instead of ``readings``.
    """

    source_id: str
    key: str
    readings: Sequence[RawReading] = ()
    raw: bytes = b""
    deviations: tuple[str, ...] = ()
    batch: pa.Table | None = None

    @property
    def size(self) -> int:
        """Rows this record carries."""
        return self.batch.num_rows if self.batch is not None else len(self.readings)


class IngestTarget(Protocol):
    """What the intake needs of a store: :class:`carbonmet.metering.Store` or the services' scoped store."""

    def ingest(self, batch: pa.Table, batch_id: str, catalog: Mapping[str, PointInfo], *, source: str,
               **options: Any) -> IngestReport: ...

    def reject(self, raw: bytes, reason: str, *, source: str, origin: str = "", detail: str = "") -> IngestReport: ...

    def known_keys(self, keys: Sequence[str]) -> set[str]: ...

    def cursor(self, name: str) -> str | None: ...

    def set_cursor(self, name: str, value: str) -> None: ...


@runtime_checkable
class Connector(Protocol):
    """A source of readings. ``source`` names the raw-archive directory and prefixes batch ids; ``run`` reads
    until ``stop`` is set, handing each group of records to ``intake.submit`` and acknowledging to its source
    only after that returned."""

    source: str

    async def run(self, intake: Intake, stop: asyncio.Event) -> None: ...


@dataclass
class Intake:
    """The platform's side of a connector: validation, quarantine, durable acknowledgement and counting.

    Parameters
    ----------
    target : IngestTarget
        The readings store (or the services' scoped store, which quarantines other enterprises' points).
    catalog : Mapping[str, PointInfo]
        Known points, for validation.
    source : str
        The connector's name: raw archive sub-directory (``raw/<source>/``) and batch-id prefix.
    raw_ext : str
        Extension of archived raw input. With ``".jsonl"`` (the default) a batch's records are archived as
        JSON lines (key, source id, the bytes as text or base64); any other extension archives their bytes
        joined as received (framed protocols such as HJ 212).
    """

    target: IngestTarget
    catalog: Mapping[str, PointInfo]
    source: str
    raw_ext: str = ".jsonl"
    totals: IngestReport = field(init=False)
    records: int = 0
    batches: int = 0
    rejects: int = 0
    failures: int = 0

    def __post_init__(self) -> None:
        self.totals = IngestReport(f"{self.source}-total", self.source)

    # -- what connectors call ----------------------------------------------------------------------------
    async def submit(self, records: Sequence[Record], *, cursor: tuple[str, str] | None = None,
                     origin: str = "") -> IngestReport:
        """Validate and store ``records`` as one batch; return once durable (then acknowledge to the source).

        Parameters
        ----------
        records : sequence of Record
            What was received; records whose key was committed before (or repeats in this call) count
            as duplicates.
        cursor : (name, value), optional
            The source position after these records, committed in the same transaction (:meth:`cursor`).
        origin : str
            For the report and error messages.

        Raises
        ------
        Exception
            Whatever the store raised: nothing of the batch is visible; do not acknowledge.
        """
        return await asyncio.to_thread(self.submit_now, list(records), cursor=cursor, origin=origin)

    def submit_now(self, records: Sequence[Record], *, cursor: tuple[str, str] | None = None,
                   origin: str = "") -> IngestReport:
        """:meth:`submit` for callers already in a worker thread (blocks until durable)."""
        try:
            report = self._submit(list(records), cursor, origin)
        except BaseException:
            self.failures += 1
            raise
        self.records += len(records)
        self.count(report)
        return report

    def count(self, report: IngestReport) -> None:
        """Add a durable batch's report to the totals (for adapters that call the store themselves)."""
        self.totals.merge(report)
        del self.totals.notices[:-100]

    async def reject(self, raw: bytes, reason: str, *, origin: str = "") -> IngestReport:
        """Quarantine input that could not be read at all (its bytes archived, the reason kept); durable."""
        report = await asyncio.to_thread(self.target.reject, raw, reason, source=self.source, origin=origin or self.source)
        self.rejects += 1
        self.totals.merge(report)
        return report

    def cursor(self, name: str) -> str | None:
        """The position committed with the last batch that gave ``cursor=(name, …)``, or ``None``."""
        return self.target.cursor(name)

    # -- the platform's part ---------------------------------------------------------------------------
    def _submit(self, records: list[Record], cursor: tuple[str, str] | None, origin: str) -> IngestReport:
        keys = [r.key for r in records]
        known = self.target.known_keys(keys) if keys else set()
        fresh: list[Record] = []
        seen: set[str] = set()
        dup = 0
        for r in records:
            if r.key in known or r.key in seen:
                dup += r.size
                continue
            seen.add(r.key)
            fresh.append(r)
        cursors = dict([cursor]) if cursor is not None else {}
        if not fresh:
            if cursor is not None:
                self.target.set_cursor(*cursor)
            return IngestReport(f"{self.source}:duplicates", self.source, received=dup, duplicates=dup,
                                origin=origin)
        fresh_keys = [r.key for r in fresh]
        batch_id = fresh_keys[0] if len(fresh) == 1 else (
            f"{self.source}:" + hashlib.sha256("\n".join(sorted(fresh_keys)).encode()).hexdigest()[:32])
        tables = [r.batch for r in fresh if r.batch is not None]
        readings = [x for r in fresh if r.batch is None for x in r.readings]
        if readings or not tables:
            tables.append(readings_to_batch(readings))
        batch = tables[0] if len(tables) == 1 else pa.concat_tables([t.select(tables[0].column_names)
                                                                     for t in tables])
        deviations: dict[str, int] = {}
        for r in fresh:
            for code in r.deviations:
                deviations[code] = deviations.get(code, 0) + 1
        options: dict[str, Any] = {}
        if deviations:
            options["deviations"] = deviations
        if cursors:
            options["cursors"] = cursors
        report = self.target.ingest(batch, batch_id, self.catalog, source=self.source, raw=self._raw(fresh),
                                    raw_ext=self.raw_ext, keys=fresh_keys, origin=origin or f"{len(fresh)} record(s)",
                                    **options)
        self.batches += 1
        if dup:
            report.merge(IngestReport(batch_id, self.source, received=dup, duplicates=dup))
        return report

    def _raw(self, records: list[Record]) -> bytes:
        if self.raw_ext != ".jsonl":
            return b"".join(r.raw for r in records)
        lines = []
        for r in records:
            doc: dict[str, Any] = {"key": r.key, "source_id": r.source_id}
            try:
                doc["raw"] = r.raw.decode("utf-8")
            except UnicodeDecodeError:
                doc["raw_b64"] = base64.b64encode(r.raw).decode("ascii")
            lines.append(json.dumps(doc, ensure_ascii=False))
        return ("\n".join(lines) + "\n").encode("utf-8")


async def run_connector(connector: Connector, target: IngestTarget, catalog: Mapping[str, PointInfo], *,
                        stop: asyncio.Event | None = None, raw_ext: str | None = None) -> Intake:
    """Run ``connector`` until ``stop`` is set (or it returns), storing what it submits into ``target``.

    Returns
    -------
    Intake
        With the counts (``totals``, ``records``, ``batches``, ``rejects``, ``failures``).
    """
    intake = Intake(target, catalog, connector.source,
                    raw_ext=raw_ext if raw_ext is not None else getattr(connector, "raw_ext", ".jsonl"))
    await connector.run(intake, stop if stop is not None else asyncio.Event())
    return intake


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds`` [s], or less when ``stop`` is set meanwhile."""
    if seconds <= 0:
        return
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


async def reconnecting(stop: asyncio.Event, session: Callable[[], Awaitable[None]], *, label: str,
                       reconnect_s: float, on_error: Callable[[], None] | None = None) -> None:
    """Run ``session`` (connect, read until ``stop``, close) again and again until ``stop`` is set.

    A failed session — the meter or the link down, a refused request — is counted by ``on_error``, logged
    with ``label`` and retried after ``reconnect_s`` [s]; a cancellation is not caught. What a session had
    submitted before it failed is already durable (:meth:`Intake.submit`), so nothing is lost or doubled by
    the retry.
    """
    while not stop.is_set():
        try:
            await session()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the link: reconnect (counted, logged)
            if on_error is not None:
                on_error()
            log.warning("%s: %s: %s; reconnecting", label, type(exc).__name__, exc)
            await wait_or_stop(stop, reconnect_s)


def config_rows(text: str, name: str, required: Sequence[str], empty: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The rows of a connector's CSV configuration (a header line, ``#`` comments and blank lines skipped), each
    as ``("name:line", {column: stripped text})`` — a column missing from a short row is ``""``.

    Raises
    ------
    ConnectorError
        ``empty`` when there is no line at all; a column of ``required`` missing from the header; a line that is
        not CSV — each naming the file and line.
    """
    lines = [(i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ConnectorError(f"{name}: {empty}")
    header = [c.strip() for c in next(csv.reader([lines[0][1]]))]
    for col in required:
        if col not in header:
            raise ConnectorError(f"{name}:{lines[0][0]}: 缺少列 missing column {col!r} (have {header})")
    for no, line in lines[1:]:
        try:
            row = next(csv.reader(io.StringIO(line)))
        except (csv.Error, StopIteration) as exc:
            raise ConnectorError(f"{name}:{no}: 无法解析 not CSV: {exc}") from None
        yield f"{name}:{no}", {k: (row[i].strip() if i < len(row) else "") for i, k in enumerate(header)}
