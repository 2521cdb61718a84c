"""Stored review and verification runs, the lifecycle of their findings, diffs and the verified account
(审查/核查记录、发现闭环、差异与核查后排放量).

Functions take the caller's session and write in its transaction, logging every write in the audit chain; the
services add tenancy (:mod:`carbonmet.services`). See :mod:`carbonmet.review._runs` for the lifecycle.

- tables: :class:`ReviewRun`, :class:`ReviewRunFinding`, :class:`ReviewFinding`, :class:`ReviewFindingEvent`,
  :class:`ReviewVerifiedStream`; :data:`KINDS`, :data:`STATUSES`;
- pure: :func:`plan_lifecycle` (→ :class:`Lifecycle`), :func:`next_status`, :func:`series_of`;
- writes: :func:`store_run` (→ :class:`RunRecord`), :func:`acknowledge`, :func:`close`;
- reads: :func:`query_runs`, :func:`query_findings`, :func:`get_run`, :func:`get_finding`, :func:`finding_events`,
  :func:`latest_run`, :func:`run_diff` (→ :class:`RunDiff`), :func:`verified_account_of` (→ :class:`VerifiedAccount`);
  plain data: :func:`finding_dict`, :func:`event_dict`, :func:`occurrence_dict`;
- errors: :class:`FindingStateError`.
"""

from ._run_models import (
    KINDS,
    STATUSES,
    ReviewFinding,
    ReviewFindingEvent,
    ReviewRun,
    ReviewRunFinding,
    ReviewVerifiedStream,
)
from ._runs import (
    FindingStateError,
    Lifecycle,
    RunDiff,
    RunRecord,
    VerifiedAccount,
    acknowledge,
    close,
    event_dict,
    finding_dict,
    finding_events,
    get_finding,
    get_run,
    latest_run,
    next_status,
    occurrence_dict,
    plan_lifecycle,
    query_findings,
    query_runs,
    rule_file_hashes,
    run_diff,
    series_of,
    store_run,
    verified_account_of,
)

__all__ = [
    "KINDS",
    "STATUSES",
    "FindingStateError",
    "Lifecycle",
    "ReviewFinding",
    "ReviewFindingEvent",
    "ReviewRun",
    "ReviewRunFinding",
    "ReviewVerifiedStream",
    "RunDiff",
    "RunRecord",
    "VerifiedAccount",
    "acknowledge",
    "close",
    "event_dict",
    "finding_dict",
    "finding_events",
    "get_finding",
    "get_run",
    "latest_run",
    "next_status",
    "occurrence_dict",
    "plan_lifecycle",
    "query_findings",
    "query_runs",
    "rule_file_hashes",
    "run_diff",
    "series_of",
    "store_run",
    "verified_account_of",
]
