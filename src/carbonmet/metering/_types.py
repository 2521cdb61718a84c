"""Plain data shared by every metering reader and the store.

Readers (CSV/XLSX, HJ 212, MQTT, REST) turn what they receive into :class:`RawReading` records; the
store validates them against :class:`PointInfo` (what the registry knows about a measurement point)
and keeps them, or quarantines them with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, NamedTuple

import pyarrow as pa

ReadingKind = Literal["total", "rate", "sample", "interval"]

#: Arrow schema of one stored readings file (partition keys enterprise/point/month are in the path).
#: See docs/formats/readings.md — this is the single definition used by the store and by refdata.
READINGS_SCHEMA = pa.schema(
    [
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("value", pa.float64(), nullable=True),
        pa.field("flag", pa.dictionary(pa.int8(), pa.string()), nullable=False),
        pa.field("source", pa.dictionary(pa.int8(), pa.string()), nullable=False),
        pa.field("batch", pa.string(), nullable=False),
    ]
)


class RawReading(NamedTuple):
    """One value as a reader received it, before validation.

    A named tuple rather than a frozen dataclass: readers build one per value received (six per
    HJ 212 packet), and a tuple is built in less than half the time.

    Attributes
    ----------
    point_id : str or None
        Measurement point id, if the source names it.
    serial : str or None
        Instrument serial, if the source names the instrument instead of the point.
    ts : datetime
        Timestamp, timezone-aware.
    value : float or None
        Value as received (``None`` when the source sent no number).
    unit : str or None
        Unit as received (``None``: the point's unit).
    flag : str
        HJ 212 data flag (N, F, M, S, D, C, T, B); ``"N"`` when the source has none.
    origin : str
        Where it came from, for error messages: ``"file.csv:17"``, ``"hj212:QN=…"``, ``"mqtt:topic#mid"``.
    """

    ts: datetime
    value: float | None
    point_id: str | None = None
    serial: str | None = None
    unit: str | None = None
    flag: str = "N"
    origin: str = ""


@dataclass(frozen=True, slots=True)
class InstrumentPeriod:
    """An instrument installed at a point over a period, with the certificates covering it."""

    instrument_id: str
    serial: str
    installed_from: date | None
    installed_to: date | None  # exclusive; None = still installed
    range_low: float | None = None
    range_high: float | None = None
    range_unit: str | None = None
    mpe_rel: float | None = None  # % of reading
    certificates: tuple[tuple[str, date, date | None], ...] = ()  # (cert_no, valid_from, valid_until)


@dataclass(frozen=True, slots=True)
class PointInfo:
    """What the store needs to know about a measurement point (from the registry)."""

    point_id: str
    enterprise: str
    unit: str
    reading_kind: ReadingKind
    quantity: str = ""
    carrier: str = ""
    source_stream: str = ""
    hj212_mn: str | None = None
    hj212_code: str | None = None
    instruments: tuple[InstrumentPeriod, ...] = field(default_factory=tuple)
