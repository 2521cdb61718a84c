"""Instrument, standard and certificate registry (计量器具、计量标准与证书登记; 溯源链).

Public API: the models (declared on :class:`carbonmet.db.Base`), the validated row models, write
services (each change audited with :func:`carbonmet.db.record`), bulk import/export, and the queries:
:func:`due_list`, :func:`period_coverage`, :func:`trace_back`; the point catalogue built one way
from the database or the import files (:func:`catalog_from_registry`, :func:`catalog_from_files`);
an instrument's covering certificate as a measured quantity (:func:`instrument_uncertainty`).

Database set-up (engine, sessions, migrations), the audit chain and reconciliation are in
:mod:`carbonmet.db`; importing this package registers a reconciler for each registry table, so
:func:`carbonmet.db.reconcile` checks them.
"""

from . import _reconcile  # noqa: F401  (registers the registry tables with carbonmet.db.reconcile)
from ._catalog import Placement, build_catalog, catalog_from_files, catalog_from_registry
from ._dcc_map import certificate_to_dcc, export_dcc, import_dcc
from ._errors import AuditChainBroken, FieldError, ImportRejected, NotFound, RegistryError, RowProblem
from ._import import ImportReport, export_csv, export_rows, export_xlsx, import_file, import_files
from ._models import (
    Certificate,
    CertificateResult,
    CertificateStandard,
    Installation,
    Instrument,
    MeasurementPoint,
    MeasurementStandard,
    Organisation,
    Site,
    StandardIncident,
)
from ._queries import (
    Coverage,
    DueItem,
    TraceResult,
    add_months,
    certificate_valid_until,
    due_list,
    period_coverage,
    trace_back,
)
from ._rows import ROW_MODELS, CertificateRow, InstrumentRow, OrganisationRow, PointRow, SiteRow, StandardRow
from ._services import (
    find_instrument,
    get_certificate,
    get_standard,
    install,
    link_standards,
    record_incident,
    set_results,
    upsert_certificate,
    upsert_instrument,
    upsert_organisation,
    upsert_point,
    upsert_site,
    upsert_standard,
)
from ._uncertainty import instrument_uncertainty

__all__ = [
    "ROW_MODELS",
    "AuditChainBroken",
    "Certificate",
    "CertificateResult",
    "CertificateRow",
    "CertificateStandard",
    "Coverage",
    "DueItem",
    "FieldError",
    "ImportRejected",
    "ImportReport",
    "Installation",
    "Instrument",
    "InstrumentRow",
    "MeasurementPoint",
    "MeasurementStandard",
    "NotFound",
    "Organisation",
    "OrganisationRow",
    "Placement",
    "PointRow",
    "RegistryError",
    "RowProblem",
    "Site",
    "SiteRow",
    "StandardIncident",
    "StandardRow",
    "TraceResult",
    "add_months",
    "build_catalog",
    "catalog_from_files",
    "catalog_from_registry",
    "certificate_to_dcc",
    "certificate_valid_until",
    "due_list",
    "export_csv",
    "export_dcc",
    "export_rows",
    "export_xlsx",
    "find_instrument",
    "get_certificate",
    "get_standard",
    "import_dcc",
    "import_file",
    "import_files",
    "install",
    "instrument_uncertainty",
    "link_standards",
    "period_coverage",
    "record_incident",
    "set_results",
    "trace_back",
    "upsert_certificate",
    "upsert_instrument",
    "upsert_organisation",
    "upsert_point",
    "upsert_site",
    "upsert_standard",
]
