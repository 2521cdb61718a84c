"""The readings store behind the HJ 212 server: the ``sink`` and ``reject`` callbacks (入库回调).

The server answers 9014 only after ``sink`` has returned (:mod:`._server`), so the sink returns only once
the readings are durable: it calls :meth:`carbonmet.metering.Store.ingest_readings` in a worker thread,
which returns after every file is fsynced and the batch is committed to the journal. Frames that could
not be decoded at all go to :meth:`carbonmet.metering.Store.reject` (quarantined with their reason).

Only these two public methods of the store are used, so any object offering them
(:class:`IngestTarget`) can stand behind the server.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .. import IngestReport, PointInfo, RawReading
from ._codec import Packet
from ._reassembly import Message
from ._server import Reject, Sink


class IngestTarget(Protocol):
    """What a sink needs of a store: durable ingest of readings and quarantine of unparseable input.

    :class:`carbonmet.metering.Store` is one.
    """

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
    ) -> IngestReport: ...

    def reject(self, raw: bytes, reason: str, *, source: str, origin: str = "", detail: str = "") -> IngestReport: ...


def store_sink(store: IngestTarget, catalog: Mapping[str, PointInfo]) -> tuple[Sink, Reject]:
    """``(sink, reject)`` callbacks that put what the HJ 212 server receives into a readings store.

    Parameters
    ----------
    store : IngestTarget
        The readings store (:class:`carbonmet.metering.Store`).
    catalog : Mapping[str, PointInfo]
        Known points, for validation (e.g. :func:`carbonmet.metering.load_catalog` or the registry).

    Returns
    -------
    sink : async callable ``(readings, message) -> IngestReport``
        Deviations the server's acceptance policy flagged on the packets are counted with the batch
        (``IngestReport.deviations``, per packet). Returns once the readings are durable (the server may then answer 9014). The batch id is
        ``hj212:<MN>:<CN>:<sha256>`` where the hash covers the received bytes of every part of the
        message. QN is not unique enough to be the key: loggers reuse one QN for all parts of a split
        upload and for backfill bursts, and two different packets must never share a batch id (the
        second would be answered 9014 and dropped). An identical re-sent packet has the same bytes and
        is recognised; a re-sent packet with other bytes (new QN) is a new batch whose readings are then
        duplicates by point and time. The frames are archived under ``raw/hj212/`` (``.hj212``).
    reject : async callable ``(raw, reason) -> IngestReport``
        Quarantines an unparseable frame (CRC error, bad length …) with its reason.
    """

    async def sink(readings: list[RawReading], message: Message) -> IngestReport:
        raw = message_bytes(message)
        batch_id = f"hj212:{message.mn}:{message.cn}:{message_digest(message, readings)}"
        deviations = message_deviations(message)
        options: dict[str, Any] = {"deviations": deviations} if deviations else {}
        return await asyncio.to_thread(
            store.ingest_readings, readings, batch_id, catalog, source="hj212", raw=raw, raw_ext=".hj212", **options
        )

    async def reject(raw: bytes, reason: str) -> IngestReport:
        return await asyncio.to_thread(store.reject, raw, reason, source="hj212", origin="hj212")

    return sink, reject


def message_deviations(message: Message | Packet) -> dict[str, int]:
    """Deviations accepted under the accept-and-flag policy: code → packets (parts) of the message carrying it."""
    out: dict[str, int] = {}
    for p in _parts(message):
        for code in p.deviations:
            out[code] = out.get(code, 0) + 1
    return out


def _parts(message: Message | Packet) -> tuple[Packet, ...]:
    return message.parts if isinstance(message, Message) else (message,)


def message_bytes(message: Message | Packet) -> bytes | None:
    """The frames of a message as received (its parts' frames joined), or ``None`` if any part was
    built in-process and never framed."""
    raws = [p.raw for p in _parts(message)]
    if all(r is not None for r in raws):
        return b"".join(r for r in raws if r is not None)
    return None


def message_digest(message: Message | Packet, readings: Sequence[RawReading] = ()) -> str:
    """SHA-256 (hex) identifying a message: of every part's frame, each length-prefixed so the split
    points count too; for parts never framed, of their header and data area (and of the readings when
    no part has a data area)."""
    h = hashlib.sha256()
    parts = _parts(message)
    raws = [p.raw for p in parts]
    if all(r is not None for r in raws):
        for r in raws:
            assert r is not None
            h.update(len(r).to_bytes(8, "big"))
            h.update(r)
    else:  # built in-process, never framed
        for p in parts:
            h.update(repr((p.header, p.cp)).encode("utf-8"))
        if not any(p.cp for p in parts):
            h.update(repr(list(readings)).encode("utf-8"))
    return h.hexdigest()
