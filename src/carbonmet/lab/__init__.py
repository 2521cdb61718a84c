"""Laboratory analyses as first-class, traceable data (化验数据): carbon content, NCV, moisture, ash, gas composition.

One traceable record from sample to factor: the sample (sample point of the source stream, sampling window
or batch, who took it), the method, the analyser instrument (whose certificate in the registry gives its
uncertainty), the reference material lot, the report number.

Public API
----------
Reading (pure, no database)
    :func:`read_lab_file` (CSV/XLSX → :class:`LabFile` of :class:`LabResult` and :class:`LabReject`; a file
    that is not a table of results raises :class:`LabError`); the analyte table :func:`analytes`
    (:class:`Analyte` rows of ``analytes.csv``: canonical unit and plausible range, with sources).
Checks (pure)
    :func:`find_flags` (reused sample id; carbon content inconsistent with the NCV of the same sample, bands in
    ``c_per_ncv.csv``, :func:`c_ncv_bands`) → :class:`LabFlag`; :func:`frequency_findings` (periods and batches
    without a result against the monitoring plan) → :class:`FrequencyFinding`.
Database
    :func:`check_against_registry`, :func:`save_lab_file` (→ :class:`LabImport`; tables ``lab_import``,
    ``lab_result``, ``lab_quarantine`` on :class:`carbonmet.db.Base`, audited and reconciled by
    ``carbonmet audit verify``), :func:`query_results` (the accounting engine's query),
    :func:`certificate_flags` (analyser without a valid certificate, by the registry's one rule),
    :func:`result_flags` (an enterprise's stored results over a period and their flags now);
    :class:`LabImportReport` and :class:`LabFindings` (what the services return).
"""

from . import _reconcile  # noqa: F401  (registers the lab tables with carbonmet.db.reconcile)
from ._analytes import Analyte, analytes
from ._flags import c_ncv_bands, certificate_flags, find_flags
from ._frequency import frequency_findings
from ._reader import read_lab_file
from ._store import check_against_registry, query_results, result_flags, save_lab_file
from ._types import (
    FrequencyFinding,
    LabError,
    LabFile,
    LabFindings,
    LabFlag,
    LabImport,
    LabImportReport,
    LabReject,
    LabResult,
)

__all__ = [
    "Analyte",
    "FrequencyFinding",
    "LabError",
    "LabFile",
    "LabFindings",
    "LabFlag",
    "LabImport",
    "LabImportReport",
    "LabReject",
    "LabResult",
    "analytes",
    "c_ncv_bands",
    "certificate_flags",
    "check_against_registry",
    "find_flags",
    "frequency_findings",
    "query_results",
    "read_lab_file",
    "result_flags",
    "save_lab_file",
]
