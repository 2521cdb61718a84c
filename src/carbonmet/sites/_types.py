"""What the platform knows about a measurement point and the instruments installed there (计量点).

The registry builds these from its tables, the metering store validates readings against them, and
the accounting engines bind them to source-stream parameters through the monitoring plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

ReadingKind = Literal["total", "rate", "sample", "interval"]


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
