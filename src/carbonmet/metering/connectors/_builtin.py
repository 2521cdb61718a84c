"""The transports the platform had before the connector interface, as connectors: files, HJ 212, MQTT.

Each keeps its own module and its tests (:func:`carbonmet.metering.read_file`, :mod:`carbonmet.metering.hj212`,
:mod:`carbonmet.metering.mqtt`); what changes is that the store behind them is the :class:`Intake`, so their
batches are counted like any other connector's and they run through :func:`run_connector`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from .. import ColumnMap, IngestReport, PointInfo, RawReading, ReadError, file_batch_id, read_file
from ._base import Intake, Record


class FileConnector:
    """CSV/XLSX readings files (docs/formats/readings.md): one record per file, keyed by the file's hash.

    An unreadable file is archived and quarantined whole (``unreadable_file``). ``on_file(path, report)`` is
    called after each file is durable.
    """

    source = "file"

    def __init__(self, paths: Sequence[str | Path], *, mapping: ColumnMap | None = None, tz: Any = None,
                 on_file: Callable[[Path, IngestReport], None] | None = None) -> None:
        self.paths = [Path(p) for p in paths]
        self.mapping, self.tz, self.on_file = mapping, tz, on_file
        self.reports: list[IngestReport] = []

    async def run(self, intake: Intake, stop: asyncio.Event) -> None:
        intake.raw_ext = ""
        for path in self.paths:
            if stop.is_set():
                return
            raw = await asyncio.to_thread(path.read_bytes)
            try:
                batch = await asyncio.to_thread(read_file, path, self.mapping, self.tz)
            except ReadError as exc:
                rep = await intake.reject(raw, f"unreadable_file: {exc}", origin=str(path))
            else:
                intake.raw_ext = path.suffix.lower() or ".csv"
                rep = await intake.submit([Record(f"file:{path}", file_batch_id(raw), raw=raw, batch=batch)],
                                          origin=str(path))
            self.reports.append(rep)
            if self.on_file is not None:
                self.on_file(path, rep)


class _IntakeStore:
    """The store as the HJ 212 sink and the MQTT listener see it, writing through an :class:`Intake`.

    Called from worker threads (the sink and the listener run the store in ``asyncio.to_thread``).
    """

    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    # HJ 212 (store_sink): one message = one record keyed by its batch id
    def ingest_readings(self, readings: Sequence[RawReading], batch_id: str, catalog: Mapping[str, PointInfo] | None = None,
                        *, source: str, raw: bytes | None = None, raw_ext: str = ".bin", keys: Sequence[str] = (),
                        **options: Any) -> IngestReport:
        devs: dict[str, int] = options.get("deviations") or {}
        rec = Record(f"{source}:{batch_id.split(':')[1] if batch_id.count(':') >= 2 else batch_id}", batch_id,
                     tuple(readings), raw or b"", tuple(c for c, n in devs.items() for _ in range(n)))
        return self.intake.submit_now([rec])

    # MQTT (ingest_messages): its batches keep their own keys and quarantine rows; the listener's report of each
    # group (duplicates included) is counted by MqttConnector
    def ingest(self, batch: pa.Table, batch_id: str, catalog: Mapping[str, PointInfo], *, source: str,
               **options: Any) -> IngestReport:
        rep = self.intake.target.ingest(batch, batch_id, catalog, source=source, **options)
        self.intake.batches += 1
        return rep

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        return self.intake.target.known_keys(keys)

    def reject(self, raw: bytes, reason: str, *, source: str, origin: str = "", detail: str = "") -> IngestReport:
        rep = self.intake.target.reject(raw, reason, source=source, origin=origin, detail=detail)
        self.intake.rejects += 1
        self.intake.totals.merge(rep)
        return rep

    def compact(self, min_files: int = 8) -> int:
        compact = getattr(self.intake.target, "compact", None)
        return int(compact(min_files)) if compact is not None else 0


class HJ212Connector:
    """The HJ 212 TCP server as a connector: each message (one packet, or the parts of a split one) is a record
    keyed as :func:`carbonmet.metering.hj212.store_sink` keys it; answers (9014) go out only after ``submit``
    returned; undecodable frames and frames a strict policy refuses are quarantined with their reason.

    ``options`` are :func:`carbonmet.metering.hj212.start_server`'s (``policy``, ``limits``,
    ``check_password``, ``stored_times``); :attr:`server` is the running server (its ``port`` and ``stats``).
    """

    source = "hj212"
    raw_ext = ".hj212"

    def __init__(self, host: str, port: int, point_map: Any, *,
                 on_start: Callable[[Any], None] | None = None, **options: Any) -> None:
        self.host, self.port, self.point_map, self.options, self.on_start = host, port, point_map, options, on_start
        self.server: Any = None

    async def run(self, intake: Intake, stop: asyncio.Event) -> None:
        from ..hj212 import start_server, store_sink

        sink, reject = store_sink(_IntakeStore(intake), intake.catalog)
        self.server = await start_server(self.host, self.port, sink, self.point_map, reject=reject, **self.options)
        try:
            if self.on_start is not None:
                self.on_start(self.server)
            await stop.wait()
        finally:
            await self.server.close()


class MqttConnector:
    """The MQTT listener (QoS 1, persistent session; PUBACK after the batch is durable) as a connector.

    ``options`` are :class:`carbonmet.metering.mqtt.MqttListener`'s; :attr:`listener` is the running listener.
    """

    source = "mqtt"

    def __init__(self, host: str = "127.0.0.1", port: int = 1883, **options: Any) -> None:
        self.host, self.port, self.options = host, port, options
        self.listener: Any = None

    async def run(self, intake: Intake, stop: asyncio.Event) -> None:
        from ..mqtt import MqttListener

        self.listener = MqttListener(_IntakeStore(intake), intake.catalog, self.host, self.port,  # type: ignore[arg-type]
                                     **self.options)

        def counted(report: IngestReport) -> None:  # after each durable, acknowledged group of messages
            intake.records += report.received
            intake.count(report)

        await self.listener.run(stop, on_report=counted)
