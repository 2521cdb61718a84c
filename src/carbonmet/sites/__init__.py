"""Enterprises, sites, measurement points and what is installed at them (企业、场所与计量点).

Public API: :class:`PointInfo` and :class:`InstrumentPeriod` (what is known about a measurement
point and the instruments installed there over time), :class:`Catalog` (points by id with the
instrument-serial look-ups validation needs) and :func:`as_catalog`.
"""

from ._catalog import Catalog, as_catalog
from ._types import InstrumentPeriod, PointInfo, ReadingKind

__all__ = ["Catalog", "InstrumentPeriod", "PointInfo", "ReadingKind", "as_catalog"]
