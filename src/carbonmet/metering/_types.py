"""Plain data shared by every metering reader and the store.

Readers (CSV/XLSX, HJ 212, MQTT, REST) turn what they receive into :class:`RawReading` records; the
store validates them against :class:`PointInfo` (what the registry knows about a measurement point)
and keeps them, or quarantines them with a reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import pyarrow as pa

from carbonmet.sites import InstrumentPeriod, PointInfo, ReadingKind

__all__ = ["READINGS_SCHEMA", "InstrumentPeriod", "PointInfo", "RawReading", "ReadingKind"]

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
