"""Instrument, standard and certificate registry (计量器具、计量标准与证书登记; 溯源链).

Public API: database set-up (:func:`make_engine`, :func:`migrate`, :func:`session_scope`), the
validated row models, write services (each change audited), bulk import/export, and the queries:
:func:`due_list`, :func:`period_coverage`, :func:`trace_back`, :func:`catalog_from_registry`;
the audit chain: :func:`verify_audit`.
"""

from ._audit import AuditReport
from ._audit import verify as verify_audit
from ._dcc_map import certificate_to_dcc, export_dcc, import_dcc
from ._db import default_url, make_engine, migrate, session_scope
from ._errors import AuditChainBroken, FieldError, ImportRejected, NotFound, RegistryError, RowProblem
from ._import import ImportReport, export_csv, export_rows, export_xlsx, import_file, import_files
from ._models import (
    AuditEntry,
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
    catalog_from_registry,
    certificate_valid_until,
    due_list,
    period_coverage,
    trace_back,
)
from ._rows import CertificateRow, InstrumentRow, OrganisationRow, PointRow, SiteRow, StandardRow
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

__all__ = [name for name in dir() if not name.startswith("_")]
