"""Enterprises, sites, source streams, measurement points and the monitoring plan (企业、场所、源流、计量点与监测计划).

Public API
----------
Enterprise model
    :class:`Enterprise` → :class:`Site` → :class:`EmissionSource` → :class:`SourceStream` →
    :class:`Parameter` (kind: activity data, NCV, carbon content, oxidation rate, …) bound to a
    :class:`ParameterSource` (metering point, lab stream or default factor id) over a validity period.
Monitoring plan (数据质量控制计划)
    :class:`MonitoringPlan` (header :class:`PlanHeader`, rows :class:`PlanParameterRow`, change log
    :class:`PlanChangeRow`, optional stream rows :class:`PlanStreamRow` stating each source stream's kind
    — :data:`StreamKind`, :data:`STREAM_KINDS` — material, form and balance); :func:`read_plan` (TOML,
    XLSX, CSV; errors :class:`PlanError`, each :class:`PlanProblem` naming file, row and field),
    :func:`plan_to_toml`, :func:`plan_tables`, :func:`diff` → :class:`PlanDiff`.
Stored plans (versioned, audited)
    :func:`save_plan` (the next version, or nothing when the content is unchanged) → :class:`PlanVersion`,
    :func:`load_plan`, :func:`plan_versions`, :func:`plan_hash`; tables ``monitoring_plan``,
    ``monitoring_plan_parameter``, ``monitoring_plan_change``, ``monitoring_plan_stream`` on
    :class:`carbonmet.db.Base`, reconciled by ``carbonmet audit verify``.
Points
    :class:`PointInfo` and :class:`InstrumentPeriod` (what is known about a measurement point and the
    instruments installed there over time), :class:`Catalog` and :func:`as_catalog`.
"""

from . import _reconcile  # noqa: F401  (registers the plan tables with carbonmet.db.reconcile)
from ._catalog import Catalog, as_catalog
from ._model import (
    STREAM_KINDS,
    EmissionSource,
    Enterprise,
    Parameter,
    ParameterSource,
    Site,
    SourceStream,
    StreamKind,
)
from ._plan import (
    MonitoringPlan,
    PlanChangeRow,
    PlanDiff,
    PlanError,
    PlanHeader,
    PlanParameterRow,
    PlanProblem,
    PlanStreamRow,
    diff,
    plan_tables,
    plan_to_toml,
    read_plan,
)
from ._store import PlanVersion, load_plan, plan_hash, plan_versions, save_plan
from ._types import InstrumentPeriod, PointInfo, ReadingKind

__all__ = [
    "STREAM_KINDS",
    "Catalog",
    "EmissionSource",
    "Enterprise",
    "InstrumentPeriod",
    "MonitoringPlan",
    "Parameter",
    "ParameterSource",
    "PlanChangeRow",
    "PlanDiff",
    "PlanError",
    "PlanHeader",
    "PlanParameterRow",
    "PlanProblem",
    "PlanStreamRow",
    "PlanVersion",
    "PointInfo",
    "ReadingKind",
    "Site",
    "SourceStream",
    "StreamKind",
    "as_catalog",
    "diff",
    "load_plan",
    "plan_hash",
    "plan_tables",
    "plan_to_toml",
    "plan_versions",
    "read_plan",
    "save_plan",
]
