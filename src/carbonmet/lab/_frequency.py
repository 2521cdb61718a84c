"""Sampling frequency against the monitoring plan (化验频次核查): which periods of a lab parameter have no result.

The plan (数据质量控制计划) promises, for each lab parameter (``source = "lab"``, ``ref`` the sample point,
``parameter`` the analyte), how often it is analysed. The chemical-sector rule is per delivery batch
(每批次) or at least monthly for solid fuels (accounting_methods.md §2.1 [M]); so every frequency at least
as often as monthly is checked month by month, ``quarterly`` by quarter, ``yearly``/``once`` over the year;
``per_batch``/``per_delivery`` also batch by batch when the results name their batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from ..sites import MonitoringPlan, PlanParameterRow
from ._analytes import analytes
from ._types import FindingKind, FrequencyFinding, LabResult

#: Frequencies checked month by month (at least as often as monthly).
MONTHLY = ("continuous", "per_batch", "per_delivery", "daily", "weekly", "monthly")
#: Frequencies whose batches are checked too.
PER_BATCH = ("per_batch", "per_delivery")


def _local(d: date, zone: tzinfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=zone)


def _periods(freq: str, year: int) -> list[tuple[str, date, date, FindingKind]]:
    """(label, first day, day after, kind) of the periods a frequency is checked by."""
    if freq in MONTHLY:
        return [(f"{year}-{m:02d}", date(year, m, 1), date(year + (m == 12), m % 12 + 1, 1), "missing_month")
                for m in range(1, 13)]
    if freq == "quarterly":
        return [(f"{year}-Q{q}", date(year, 3 * q - 2, 1), date(year + (q == 4), (3 * q) % 12 + 1, 1), "missing_quarter")
                for q in range(1, 5)]
    return [(f"{year}", date(year, 1, 1), date(year + 1, 1, 1), "missing_year")]


def _overlaps(r: LabResult, start: datetime, end: datetime) -> bool:
    """Whether a result's sampling window ``[from, to)`` overlaps ``[start, end)`` (a spot sample: its instant)."""
    if r.sampled_to == r.sampled_from:
        return start <= r.sampled_from < end
    return r.sampled_from < end and r.sampled_to > start


Active = Callable[[str, datetime, datetime], bool]
"""``active(source_stream, start, end)``: whether the stream had any activity (consumption) in ``[start, end)``."""


def _row_findings(plan: MonitoringPlan, row: PlanParameterRow, results: Sequence[LabResult], year: int,
                  zone: tzinfo, active: Active | None) -> list[FrequencyFinding]:
    lo = max(row.valid_from or plan.header.valid_from, date(year, 1, 1))
    hi = min(row.valid_to or date(year + 1, 1, 1), date(year + 1, 1, 1))
    if lo >= hi:
        return []
    mine = [r for r in results if r.point_id == row.ref and r.enterprise in ("", plan.enterprise)]
    of_analyte = [r for r in mine if r.analyte == row.parameter]
    out: list[FrequencyFinding] = []
    for label, p0, p1, kind in _periods(row.frequency, year):
        a, b = max(p0, lo), min(p1, hi)
        if a >= b:
            continue
        start, end = _local(a, zone), _local(b, zone)
        if any(_overlaps(r, start, end) for r in of_analyte):
            continue
        if active is not None and not active(row.source_stream, start, end):
            continue  # nothing delivered or burnt (a stop, a turnaround): nothing to sample
        out.append(FrequencyFinding(
            plan.enterprise, row.source_stream, row.ref, row.parameter, row.frequency, kind, label,
            f"{row.ref} {row.parameter} 在 {label} 无化验结果（计划频次 {row.frequency}）/ no result of {row.parameter} "
            f"at {row.ref} in {label} (the plan says {row.frequency}; checked {a.isoformat()} … {b.isoformat()})"))
    if row.frequency in PER_BATCH:
        start, end = _local(lo, zone), _local(hi, zone)
        batches = sorted({r.batch for r in mine if r.batch and _overlaps(r, start, end)})
        analysed = {r.batch for r in of_analyte if r.batch}
        for batch in batches:
            if batch not in analysed:
                out.append(FrequencyFinding(
                    plan.enterprise, row.source_stream, row.ref, row.parameter, row.frequency,
                    "batch_without_analysis", batch,
                    f"批次 {batch} 有其他化验结果但无 {row.parameter} / batch {batch} of {row.ref} has results but none "
                    f"of {row.parameter} (the plan says {row.frequency})"))
    return out


def frequency_findings(plan: MonitoringPlan, results: Sequence[LabResult], year: int, *,
                       time_zone: str = "Asia/Shanghai", active: Active | None = None) -> list[FrequencyFinding]:
    """Periods (and batches) of ``year`` in which a lab parameter of the plan has no result (pure).

    Parameters
    ----------
    plan : MonitoringPlan
        The enterprise's plan; its rows with ``source == "lab"`` whose ``parameter`` is an analyte
        (``ncv``, ``carbon_content``, ``moisture``) are checked, each within its validity (the row's
        ``valid_from``/``valid_to``, else from the plan's ``valid_from``).
    results : sequence of LabResult
        The enterprise's results (others are ignored).
    year : int
        Calendar year, cut in ``time_zone``.
    time_zone : str
        IANA zone of the months (local months, as readings are aggregated).
    active : callable, optional
        ``active(source_stream, start, end) -> bool``: whether the stream had activity in a period (e.g. its
        activity-data meter measured a consumption). A period without activity (the plant stopped) is not a
        finding. Default: every period is expected to have results.

    Returns
    -------
    list of FrequencyFinding
        ``missing_month`` for the frequencies at least as often as monthly (``per_batch``, ``daily``,
        ``monthly`` …), ``missing_quarter`` for ``quarterly``, ``missing_year`` for ``yearly``/``once``, and
        ``batch_without_analysis`` for ``per_batch``/``per_delivery`` rows: a batch named by other results of the
        point (another analyte) with no result of this one. A result counts for every period its sampling
        window overlaps.

    References
    ----------
    accounting_methods.md §2.1 (per batch or at least monthly for solid fuels, chemical guideline [M]);
    accounting_2025.md §2 (the data-quality control plan states method and frequency per parameter).
    """
    zone = ZoneInfo(time_zone)
    known = analytes()
    out: list[FrequencyFinding] = []
    for row in plan.parameters:
        if row.source == "lab" and row.parameter in known:
            out += _row_findings(plan, row, results, year, zone, active)
    return out
