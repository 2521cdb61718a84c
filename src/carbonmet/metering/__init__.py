"""Metering data: readers, validation, the columnar readings store and period aggregation (计量数据).

Public API
----------
Readers
    :func:`read_file` (CSV/XLSX with a :class:`ColumnMap`), :func:`readings_to_batch`,
    :class:`MqttListener` / :func:`parse_payload` / :func:`reading_payload` (MQTT scheme).
Catalog
    :class:`Catalog`; build one with :func:`carbonmet.registry.catalog_from_files` or
    :func:`carbonmet.registry.catalog_from_registry`; any ``Mapping[str, PointInfo]`` works.
Validation
    :func:`validate_readings` (one input batch against the catalog, the rules and what is stored; the
    store calls it on every ingest), :func:`is_rollover`.
Store
    :class:`Store` (``ingest``, ``ingest_readings``, ``reject``, ``readings``, ``quarantine``),
    :class:`IngestReport`.
Aggregation
    :func:`aggregate_table` (one Arrow table) / :func:`aggregate` → :class:`PeriodAggregate`;
    :func:`activity_data` → :class:`ActivityData`
    (period totals as :class:`carbonmet.quantities.MeasuredQuantity`).
Rules
    :func:`default_rules` (``rules.toml``, ``flags.csv``).

The HJ 212 codec and server live in :mod:`carbonmet.metering.hj212` (imported on demand).
"""

from ._activity import ActivityData, CertificateCoverage, activity_data, certificate_coverage
from ._aggregate import PeriodAggregate, aggregate, aggregate_table, integral_unit
from ._catalog import Catalog, as_catalog
from ._errors import AggregationError, CatalogError, MeteringError, ReadError, StoreError
from ._mqtt import MqttListener, PayloadError, ingest_messages, parse_payload, reading_payload
from ._readers import BATCH_SCHEMA, ColumnMap, file_batch_id, read_csv_bytes, read_file, readings_to_batch
from ._rules import Rules, default_rules, parse_rules
from ._store import QUARANTINE_SCHEMA, IngestReport, Store
from ._types import READINGS_SCHEMA, InstrumentPeriod, PointInfo, RawReading, ReadingKind
from ._validate import Notice, is_rollover, validate_readings

__all__ = [
    "BATCH_SCHEMA",
    "QUARANTINE_SCHEMA",
    "READINGS_SCHEMA",
    "ActivityData",
    "AggregationError",
    "Catalog",
    "CatalogError",
    "CertificateCoverage",
    "ColumnMap",
    "IngestReport",
    "InstrumentPeriod",
    "MeteringError",
    "MqttListener",
    "Notice",
    "PayloadError",
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
    "as_catalog",
    "certificate_coverage",
    "default_rules",
    "file_batch_id",
    "ingest_messages",
    "integral_unit",
    "is_rollover",
    "parse_payload",
    "parse_rules",
    "read_csv_bytes",
    "read_file",
    "reading_payload",
    "readings_to_batch",
    "validate_readings",
]
