"""CEMS QA tests (质量保证检验) with acceptance criteria as selectable rule sets, and the paired-run file reader.

Tests (pure): :func:`rata` (reference-method comparison / RATA), :func:`bias_test` (with the bias-adjustment
factor), :func:`linearity`, :func:`calibration_error`, :func:`drift_24h`; :func:`diagnose_stack` names the
component of a CO2 CEMS (CO2 analyser, flow monitor, moisture monitor) that the QA points at.

Criteria: ``data/qa_criteria.csv`` (rule sets ``hj75_2017``, ``ec_co2``, ``part75``; :func:`criteria`,
:func:`rule_sets`), parameters and their default rule set: ``data/qa_parameters.csv`` (:func:`parameters`,
:func:`default_rule_set`; ``ec_co2`` for CO2, flow, moisture and CO2 mass). Every result names its rule set,
clause, source and evidence mark.

Files: :func:`read_rata_file` (CSV/XLSX paired runs → :class:`RataFile`; docs/formats/rata.md) and
:func:`write_rata_file` (paired runs → CSV in the same row model, :data:`RATA_COLUMNS`).
"""

from ._diagnose import ComponentFinding, StackDiagnosis, diagnose_stack
from ._qa import (
    BiasResult,
    Check,
    Criterion,
    LevelCheck,
    LevelResult,
    PairedRuns,
    Parameter,
    QAError,
    RataResult,
    Run,
    bias_test,
    calibration_error,
    criteria,
    default_rule_set,
    drift_24h,
    linearity,
    parameters,
    rata,
    rule_sets,
    t_975,
)
from ._qafile import COLUMNS as RATA_COLUMNS
from ._qafile import RataFile, RataFileError, read_rata_file, write_rata_file

__all__ = [
    "RATA_COLUMNS",
    "BiasResult",
    "Check",
    "ComponentFinding",
    "Criterion",
    "LevelCheck",
    "LevelResult",
    "PairedRuns",
    "Parameter",
    "QAError",
    "RataFile",
    "RataFileError",
    "RataResult",
    "Run",
    "StackDiagnosis",
    "bias_test",
    "calibration_error",
    "criteria",
    "default_rule_set",
    "diagnose_stack",
    "drift_24h",
    "linearity",
    "parameters",
    "rata",
    "read_rata_file",
    "rule_sets",
    "t_975",
    "write_rata_file",
]
