"""Laboratory analyses use cases (化验数据): import lab files, list results, check flags and sampling frequency.

A result belongs to the enterprise of its sample point (or the one the file names). Importing needs every
enterprise a file's rows belong to in the write scope — checked for all files before anything is written,
so a file touching another enterprise is refused as a whole with :class:`AccessDenied` and nothing of any
file is stored; then each file is stored in a transaction of its own (all or nothing per file, audited,
through the write guard). Reading needs the enterprise in the read scope.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from carbonmet.lab import (
    LabError,
    LabFile,
    LabFindings,
    LabImport,
    LabImportReport,
    LabReject,
    LabResult,
    check_against_registry,
    frequency_findings,
    query_results,
    read_lab_file,
    result_flags,
    save_lab_file,
)
from carbonmet.sites import MonitoringPlan, load_plan, plan_versions

from ._deps import CarbonmetError, aggregate
from ._errors import ServiceError
from ._guard import guarded_write
from ._metering import _readable_point
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

_IMPORT = "lab import 化验数据导入"
_RESULTS = "lab results 化验结果"


def _paths(files: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(files, str | Path):
        return [Path(files)]
    return [Path(f) for f in files]


def _refused(path: Path, exc: LabError) -> LabImport:
    """A file that is not a table of results: reported, nothing written."""
    return LabImport(exc.file or str(path), "", "rejected", 0, 0, 0, 0,
                     (LabReject(exc.file or str(path), exc.row, exc.field, "file", exc.reason),))


@use_case("write")
def import_lab(
    ws: Workspace,
    scope: Scope,
    files: str | Path | Iterable[str | Path],
    *,
    enterprise: str | None = None,
    time_zone: str | None = None,
) -> LabImportReport:
    """Import laboratory results files (化验结果导入; CSV/XLSX, docs/formats/lab.md).

    Parameters
    ----------
    ws : Workspace
    scope : Scope
        Every enterprise a file's rows belong to must be in its write scope.
    files : path or iterable of paths
    enterprise : str, optional
        The enterprise every row belongs to (rows naming another are refused); default: each result's
        sample point's enterprise.
    time_zone : str, optional
        IANA zone for times written without a UTC offset (default: such times are refused).

    Returns
    -------
    LabImportReport
        One :class:`carbonmet.lab.LabImport` per file: ``stored`` (new results stored, conflicting rows
        quarantined), ``duplicate`` (nothing new) or ``rejected`` (a refused row: nothing of the file is stored;
        the import and its rows are kept in the quarantine with the reasons when the caller may write its
        enterprises); ``rows == stored + duplicates + quarantined`` for each.

    Raises
    ------
    AccessDenied
        A file has rows of an enterprise outside the write scope (checked for every file before anything is
        written: then nothing is stored).
    """
    checked: list[tuple[Path, LabFile | LabError]] = []
    for p in _paths(files):
        try:
            lf = read_lab_file(p, enterprise=enterprise, time_zone=time_zone)
        except LabError as exc:
            checked.append((p, exc))
            continue
        with ws.session() as s:
            lf = check_against_registry(s, lf)
        for org in lf.enterprises:
            scope.check_write(org, f"{_IMPORT} ({lf.file})")
        checked.append((p, lf))
    out: list[LabImport] = []
    for p, item in checked:
        if isinstance(item, LabError):
            out.append(_refused(p, item))
            continue
        if item.rows == 0:
            out.append(LabImport(item.file, item.sha256, "stored", 0, 0, 0, 0))
            continue
        record = bool(item.enterprises) or scope.all_access
        with guarded_write(ws, scope, _IMPORT) as s:
            out.append(save_lab_file(s, item, actor=scope.actor, time_zone=ws.time_zone, record_rejected=record))
    return LabImportReport(tuple(out))


def _year(year: int, zone: str) -> tuple[datetime, datetime]:
    z = ZoneInfo(zone)
    return datetime(year, 1, 1, tzinfo=z), datetime(year + 1, 1, 1, tzinfo=z)


@use_case("read")
def lab_results(
    ws: Workspace,
    scope: Scope,
    enterprise: str,
    *,
    year: int | None = None,
    point_ids: Sequence[str] | None = None,
    analytes: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[LabResult]:
    """An enterprise's stored lab results (化验结果), optionally of some points and analytes, over a year
    (local, the workspace's time zone) or ``[start, end)`` (aware); :class:`NotInScope` if not readable."""
    scope.check_read(enterprise, _RESULTS, enterprise)
    if year is not None:
        if start is not None or end is not None:
            raise ServiceError("year 与 start/end 只能给一个 / give either year or start/end, not both")
        start, end = _year(year, ws.time_zone)
    for t in (start, end):
        if t is not None and t.tzinfo is None:
            raise ServiceError(f"时间须带时区 / a time bound must carry its UTC offset: {t.isoformat()}")
    with ws.session() as s:
        return query_results(s, enterprise=enterprise, point_ids=point_ids, analytes=analytes, start=start, end=end)


def _activity(ws: Workspace, scope: Scope, plan: MonitoringPlan, year: int
              ) -> Callable[[str, datetime, datetime], bool] | None:
    """Whether each source stream was active in a period, from the monthly totals of the activity-data point
    the plan names for it (readings store); None without a store. A month whose totaliser or rate readings are
    missing counts as active (a gap is not a stop); a month without any event of a per-event point (weighbridge
    tickets) as inactive."""
    if ws.store_root is None:
        return None
    start, end = _year(year, ws.time_zone)
    months: dict[str, list[tuple[datetime, float]]] = {}
    for r in plan.parameters:
        if r.source != "point" or r.parameter != "activity_data" or r.source_stream in months:
            continue
        try:
            cat = _readable_point(ws, scope, r.ref)
            rows = aggregate(ws.store(), cat, [r.ref], start, end, "month", tz=ws.time_zone)
        except CarbonmetError:
            continue
        # per-event amounts (a weighbridge's tickets): no event in a month is no delivery, not a gap
        events = cat[r.ref].reading_kind == "interval"
        months[r.source_stream] = [(a.period_start, 0.0 if events and a.n_readings == 0 else a.value_measured)
                                   for a in rows]

    def active(stream: str, a: datetime, b: datetime) -> bool:
        vals = [v for t, v in months.get(stream, []) if a <= t < b and not math.isnan(v)]
        return not vals or any(v > 0 for v in vals)

    return active


@use_case("read")
def lab_findings(ws: Workspace, scope: Scope, enterprise: str, year: int) -> LabFindings:
    """The checks of an enterprise's lab results in a year (化验数据核查): the flags of its results (reused
    sample id, C/NCV inconsistent, analyser without a valid certificate — by the registry as it is now) and
    the periods or batches without a result against its monitoring plan (the newest stored version valid in
    the year; none stored: no frequency check) — with a readings store, not in periods in which the stream's
    activity-data point measured no consumption (a stop). :class:`NotInScope` if the enterprise is not readable."""
    scope.check_read(enterprise, _RESULTS, enterprise)
    start, end = _year(year, ws.time_zone)
    with ws.session() as s:
        results, flags = result_flags(s, enterprise, start, end, time_zone=ws.time_zone)
        versions = [v for v in plan_versions(s, enterprise) if v.valid_from < end.date()]
        plan = load_plan(s, enterprise, versions[-1].version) if versions else None
    freq = [] if plan is None else frequency_findings(plan, results, year, time_zone=ws.time_zone,
                                                      active=_activity(ws, scope, plan, year))
    return LabFindings(enterprise, year, len(results), tuple(flags), tuple(freq),
                       plan.version if plan is not None else None)
