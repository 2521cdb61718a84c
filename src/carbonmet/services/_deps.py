"""Every name the services take from the other packages, imported here and nowhere else in services.

The packages below are being re-shaped (the engine, sessions and the audit chain move to
``carbonmet.db``; ``metering.validate`` becomes ``validate_readings``; the catalogue loader moves to the
registry): when a name moves, this module changes and the use cases do not. Only public names
(``from carbonmet.<package> import …``) are used, never another package's private ``_module``.
"""

from __future__ import annotations

from carbonmet.db import (
    AuditEntry,
    AuditReport,
    ReconcileReport,
    lock_chain,
    make_engine,
    migrate,
    reconcile,
    session_scope,
)
from carbonmet.db import verify as verify_audit
from carbonmet.metering import (
    ActivityData,
    AggregationError,
    ColumnMap,
    IngestReport,
    PeriodAggregate,
    ReadError,
    Store,
    activity_data,
    aggregate,
    file_batch_id,
    read_file,
)
from carbonmet.metering.schemas import BATCH_SCHEMA
from carbonmet.quantities import MeasuredQuantity, Provenance, Source, from_type_a
from carbonmet.refdata import Manifest, generate
from carbonmet.registry import (
    Coverage,
    DueItem,
    ImportRejected,
    ImportReport,
    NotFound,
    TraceResult,
    catalog_from_registry,
    due_list,
    import_dcc,
    import_files,
    instrument_uncertainty,
    period_coverage,
    trace_back,
)
from carbonmet.registry.models import (
    Certificate,
    Installation,
    Instrument,
    MeasurementPoint,
    MeasurementStandard,
    Organisation,
    Site,
)
from carbonmet.registry.write import record_incident as register_incident
from carbonmet.sites import Catalog, PointInfo, as_catalog
from carbonmet.uncertainty import Evaluation, InputSet, Model, evaluate, load_model

__all__ = [
    "BATCH_SCHEMA",
    "ActivityData",
    "AggregationError",
    "AuditEntry",
    "AuditReport",
    "Catalog",
    "Certificate",
    "ColumnMap",
    "Coverage",
    "DueItem",
    "Evaluation",
    "ImportRejected",
    "ImportReport",
    "IngestReport",
    "InputSet",
    "Installation",
    "Instrument",
    "Manifest",
    "MeasuredQuantity",
    "MeasurementPoint",
    "MeasurementStandard",
    "Model",
    "NotFound",
    "Organisation",
    "PeriodAggregate",
    "PointInfo",
    "Provenance",
    "ReadError",
    "ReconcileReport",
    "Site",
    "Source",
    "Store",
    "TraceResult",
    "activity_data",
    "aggregate",
    "as_catalog",
    "catalog_from_registry",
    "due_list",
    "evaluate",
    "file_batch_id",
    "from_type_a",
    "generate",
    "import_dcc",
    "import_files",
    "instrument_uncertainty",
    "load_model",
    "lock_chain",
    "make_engine",
    "migrate",
    "period_coverage",
    "read_file",
    "reconcile",
    "register_incident",
    "session_scope",
    "trace_back",
    "verify_audit",
]
