"""Metering data: readers, validation, the columnar readings store and period aggregation (计量数据).

Public API
----------
Readers
    :func:`read_file` (CSV/XLSX with a :class:`ColumnMap`), :func:`readings_to_batch`, :func:`file_batch_id`.
Catalog
    :class:`Catalog` of :class:`PointInfo` (both from :mod:`carbonmet.sites`); build one with
    :func:`carbonmet.registry.catalog_from_files` or :func:`carbonmet.registry.catalog_from_registry`;
    any ``Mapping[str, PointInfo]`` works.
Validation
    :func:`validate_readings` (one input batch against the catalog, the rules and what is stored; the
    store calls it on every ingest) → rejected rows and :class:`Notice` findings.
Store
    :class:`Store` (``ingest``, ``ingest_readings``, ``reject``, ``readings``, ``quarantine``),
    :class:`IngestReport`; one reading is a :class:`RawReading` of a :class:`ReadingKind`.
Aggregation
    :func:`aggregate_table` (one Arrow table) / :func:`aggregate` → :class:`PeriodAggregate`;
    :func:`activity_data` → :class:`ActivityData`
    (period totals as :class:`carbonmet.quantities.MeasuredQuantity`).
Rules
    :func:`default_rules` (``rules.toml``, ``flags.csv``) → :class:`Rules`.
Errors
    :class:`MeteringError` and the ones callers catch: :class:`ReadError`, :class:`StoreError`,
    :class:`AggregationError`.

Public submodules: :mod:`~carbonmet.metering.readers` (every reader function, incl. ``read_csv_bytes``
and ``zone``), :mod:`~carbonmet.metering.mqtt` (the MQTT listener and payload scheme),
:mod:`~carbonmet.metering.schemas` (the Arrow schemas of input batches, readings and quarantine),
:mod:`~carbonmet.metering.rules` (validation rules, ``parse_rules``, ``is_rollover``),
:mod:`~carbonmet.metering.aggregation` (aggregation and activity data in full, incl. certificate
coverage), :mod:`~carbonmet.metering.errors` (every error class). The HJ 212 codec and server live in
:mod:`carbonmet.metering.hj212` (imported on demand).
"""

from ._activity import ActivityData, activity_data
from ._aggregate import PeriodAggregate, aggregate, aggregate_table
from ._catalog import Catalog
from ._errors import AggregationError, MeteringError, ReadError, StoreError
from ._generation import store_generation
from ._readers import ColumnMap, file_batch_id, read_file, readings_to_batch
from ._rules import Rules, default_rules
from ._store import IngestReport, Store
from ._types import PointInfo, RawReading, ReadingKind
from ._validate import Notice, validate_readings

__all__ = [
    "ActivityData",
    "AggregationError",
    "Catalog",
    "ColumnMap",
    "IngestReport",
    "MeteringError",
    "Notice",
    "PeriodAggregate",
    "PointInfo",
    "RawReading",
    "ReadError",
    "ReadingKind",
    "Rules",
    "Store",
    "StoreError",
    "activity_data",
    "aggregate",
    "aggregate_table",
    "default_rules",
    "file_batch_id",
    "read_file",
    "readings_to_batch",
    "store_generation",
    "validate_readings",
]
