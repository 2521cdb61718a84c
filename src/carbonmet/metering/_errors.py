"""Errors of the metering package (计量数据错误)."""

from __future__ import annotations

from carbonmet.quantities import CarbonmetError


class MeteringError(CarbonmetError):
    """Base class of metering errors."""


class CatalogError(MeteringError, ValueError):
    """A points / instruments file is malformed (names file, row and field)."""


class ReadError(MeteringError, ValueError):
    """An input file cannot be read at all (missing required column, unknown format, bad mapping).

    Row-level problems are never raised: those rows are quarantined with a reason.
    """


class StoreError(MeteringError):
    """The readings store is unusable (layout, journal or durability failure)."""


class AggregationError(MeteringError, ValueError):
    """An aggregation request cannot be answered (unknown point, bad period, unsupported zone)."""
