"""Metering data: readers, validation, the columnar readings store and period aggregation (计量数据).

The public API is filled in as the modules land; the shared plain types live in :mod:`._types`.
"""

from ._types import READINGS_SCHEMA, InstrumentPeriod, PointInfo, RawReading, ReadingKind

__all__ = ["READINGS_SCHEMA", "InstrumentPeriod", "PointInfo", "RawReading", "ReadingKind"]
