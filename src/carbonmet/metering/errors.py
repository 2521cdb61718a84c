"""Every metering error, importable by name (the ones callers usually catch are also in :mod:`carbonmet.metering`).

:class:`MeteringError` is the base of :class:`ReadError` (a file, row and field that cannot be read),
:class:`CatalogError`, :class:`StoreError` and :class:`AggregationError`. MQTT payload errors are
:class:`carbonmet.metering.mqtt.PayloadError`; HJ 212 errors are in :mod:`carbonmet.metering.hj212.errors`.
"""

from ._errors import AggregationError, CatalogError, MeteringError, ReadError, StoreError

__all__ = [
    "AggregationError",
    "CatalogError",
    "MeteringError",
    "ReadError",
    "StoreError",
]
