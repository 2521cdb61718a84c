"""Instrument, standard and certificate registry (计量器具、计量标准与证书登记; 溯源链).

Public API: bulk import/export of the registry files (:func:`import_files`, :func:`export_rows`, …) and
of DCCs (:func:`import_dcc`, :func:`export_dcc`, :func:`recheck_signature`); the queries :func:`due_list`, :func:`period_coverage`,
:func:`trace_back`; the HJ 212 access passwords of data loggers, held as salted scrypt hashes
(:func:`set_logger_password`, :func:`verify_logger_password`, :func:`loggers_with_password`); the point catalogue built one way from the database or the import files
(:func:`catalog_from_registry`, :func:`catalog_from_files`, :func:`build_catalog`); an instrument's
covering certificate as a measured quantity (:func:`instrument_uncertainty`), its certificate state
over accounting periods (:func:`instrument_states`) and the certificates those read, in bulk
(:func:`instrument_certificates`); the errors a caller
catches (:class:`RegistryError`, :class:`ImportRejected`, :class:`NotFound`).

Public submodules:

- :mod:`carbonmet.registry.models`: the ORM classes (declared on :class:`carbonmet.db.Base`);
- :mod:`carbonmet.registry.rows`: the validated row models (one per import file, shared with refdata);
- :mod:`carbonmet.registry.write`: single-record writes and look-ups (each change audited with
  :func:`carbonmet.db.record`): ``upsert_*``, ``install``, ``record_incident``, …;
- :mod:`carbonmet.registry.rules`: the rules that decide when a certificate counts and covers, and the
  certificate states they give instruments whose certificates are already read;
- :mod:`carbonmet.registry.errors`: every error class;
- :mod:`carbonmet.registry.dcc`: the Digital Calibration Certificate reader/writer (no database).

Database set-up (engine, sessions, migrations), the audit chain and reconciliation are in
:mod:`carbonmet.db`; importing this package registers a reconciler for each registry table, so
:func:`carbonmet.db.reconcile` checks them.
"""

from . import _reconcile  # noqa: F401  (registers the registry tables with carbonmet.db.reconcile)
from ._catalog import Placement, build_catalog, catalog_from_files, catalog_from_registry
from ._credentials import loggers_with_password, set_logger_password, verify_logger_password
from ._dcc_map import certificate_to_dcc, export_dcc, import_dcc, recheck_signature
from ._errors import ImportRejected, NotFound, RegistryError
from ._import import ImportReport, export_csv, export_rows, export_xlsx, import_file, import_files
from ._queries import Coverage, DueItem, TraceResult, due_list, period_coverage, trace_back
from ._uncertainty import InstrumentState, instrument_certificates, instrument_states, instrument_uncertainty

__all__ = [
    "Coverage",
    "DueItem",
    "ImportRejected",
    "ImportReport",
    "InstrumentState",
    "NotFound",
    "Placement",
    "RegistryError",
    "TraceResult",
    "build_catalog",
    "catalog_from_files",
    "catalog_from_registry",
    "certificate_to_dcc",
    "due_list",
    "export_csv",
    "export_dcc",
    "export_rows",
    "export_xlsx",
    "import_dcc",
    "import_file",
    "import_files",
    "instrument_certificates",
    "instrument_states",
    "instrument_uncertainty",
    "loggers_with_password",
    "period_coverage",
    "recheck_signature",
    "set_logger_password",
    "trace_back",
    "verify_logger_password",
]
