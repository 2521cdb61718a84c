"""Gap recovery (补传): which periods of a data logger's points are missing, as few history requests as sensible.

Pure functions over timestamps; :func:`store_times` reads those timestamps from the readings store for
the server's ``backfill_hours`` option.

Periods follow the data command (Table 4, DataTime = start of the period): 2051 minute data every
``minute_interval`` (MinInterval, 1–30 min, a divisor of the hour), 2061 hourly, 2031/2041 daily; all
aligned to midnight China time (UTC+8, no daylight saving). A period is missing when any of the points
has no stored reading starting in it: the logger sends all its codes in one packet, so one request
serves every point.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from ._codec import CHINA_TZ
from ._errors import BadRequestError
from ._mapping import PointMap
from ._tables import request_flows

_STEPS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
#: Period of one packet of each history command — the precision column of request_flows.csv (2051: the
#: default minute interval, see :func:`infer_minute_interval`), shortest first: 2051, 2061, 2031, 2041.
PERIODS: dict[str, timedelta] = dict(
    sorted(
        ((cn, _STEPS[f.precision]) for cn, f in request_flows().items() if f.flow == "data"),
        key=lambda item: (item[1], item[0]),
    )
)
#: MinInterval values Table 4 allows [min].
MIN_INTERVALS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
#: Present periods between two gaps that are fetched again to save a request (they arrive as duplicates).
BRIDGE = 10
#: Periods per request at most (one day of 1-minute data; a request longer than this is split).
MAX_PERIODS = 1440

StoredTimes = Callable[[Sequence[str], datetime, datetime], Awaitable[Mapping[str, Sequence[datetime]]]]


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """One history request to send: ``cn`` with BeginTime ``begin`` and EndTime ``end`` (both period starts,
    both included, China time).

    Attributes
    ----------
    periods : int
        Periods from ``begin`` to ``end``.
    missing : int
        Of them, missing in the store (the others are bridged and come back as duplicates).
    """

    cn: str
    begin: datetime
    end: datetime
    periods: int
    missing: int


def _origin(t: datetime) -> datetime:
    c = t.astimezone(CHINA_TZ) if t.tzinfo is not None else t.replace(tzinfo=CHINA_TZ)
    return c.replace(hour=0, minute=0, second=0, microsecond=0)


def _check_step(step: timedelta) -> None:
    day = timedelta(days=1)
    if step <= timedelta(0) or day % step != timedelta(0):
        raise BadRequestError(f"周期 period {step} must divide a day (MinInterval 1–30 min, hour, day)")


def missing_periods(
    stored: Mapping[str, Iterable[datetime]], start: datetime, end: datetime, step: timedelta
) -> list[datetime]:
    """Starts of the periods lying wholly in ``[start, end)`` for which some point has no stored reading.

    Parameters
    ----------
    stored : mapping
        Point id → timestamps of its stored readings (aware; any zone). A point with none misses every
        period; an empty mapping (no points) misses nothing. Readings inside a period (not at its
        start) count for it.
    start, end : datetime
        The range [start, end): periods that start at or after ``start`` and have ended by ``end`` (a
        period still running at ``end`` is not complete yet). Naive times are China time.
    step : timedelta
        The period (:data:`PERIODS`; for 2051 the logger's minute interval).

    Returns
    -------
    list of datetime
        Aware (China time), ascending.
    """
    _check_step(step)
    origin = _origin(start)
    s = start if start.tzinfo is not None else start.replace(tzinfo=CHINA_TZ)
    e = end if end.tzinfo is not None else end.replace(tzinfo=CHINA_TZ)
    first = -((origin - s) // step)  # ceil: the first period starting at or after start
    last = (e - origin) // step  # periods k < last have ended by end
    if last <= first or not stored:  # no points: nothing to recover
        return []
    covered: set[int] | None = None
    for times in stored.values():
        ks = {k for t in times if first <= (k := (t - origin) // step) < last}
        covered = ks if covered is None else covered & ks
    assert covered is not None
    return [origin + k * step for k in range(first, last) if k not in covered]


def plan_requests(
    missing: Sequence[datetime], step: timedelta, cn: str, *, bridge: int = BRIDGE, max_periods: int = MAX_PERIODS
) -> list[HistoryRequest]:
    """Group missing periods into history requests.

    Runs of consecutive missing periods become one request; two runs separated by at most ``bridge``
    present periods are joined (a request costs a round trip, 9011 and 9012; a period fetched again comes
    back as a duplicate the store recognises). No request spans more than ``max_periods`` periods.

    Parameters
    ----------
    missing : sequence of datetime
        Period starts on the grid of ``step`` (:func:`missing_periods`).
    step : timedelta
        The period.
    cn : str
        The history command (2051, 2061, 2031, 2041).
    bridge, max_periods : int
        As above.

    Returns
    -------
    list of HistoryRequest
        In time order; ``sum(r.missing) == len(missing)``.
    """
    if max_periods < 1 or bridge < 0:
        raise BadRequestError("max_periods must be ≥ 1 and bridge ≥ 0")
    out: list[HistoryRequest] = []
    times = sorted(set(missing))
    i = 0
    while i < len(times):
        begin = times[i]
        n_missing = 1
        j = i + 1
        while j < len(times):
            gap = (times[j] - times[j - 1]) // step - 1
            if gap > bridge or (times[j] - begin) // step + 1 > max_periods:
                break
            n_missing += 1
            j += 1
        end = times[j - 1]
        out.append(HistoryRequest(cn, begin, end, (end - begin) // step + 1, n_missing))
        i = j
    return out


def infer_minute_interval(stored: Mapping[str, Iterable[datetime]], default: int = 1) -> timedelta:
    """The logger's minute-data interval (MinInterval, Table 4) from the spacing of stored 2051 readings.

    The most common difference between consecutive timestamps of a point, if it is one of the values
    Table 4 allows (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 min); else ``default`` minutes.
    """
    counts: dict[int, int] = {}
    for times in stored.values():
        ts = sorted(set(times))
        for a, b in pairwise(ts):
            d = b - a
            if d % timedelta(minutes=1) == timedelta(0):
                m = d // timedelta(minutes=1)
                counts[m] = counts.get(m, 0) + 1
    if counts:
        best = max(counts, key=lambda m: (counts[m], -m))
        if best in MIN_INTERVALS:
            return timedelta(minutes=best)
    return timedelta(minutes=default)


def plan_backfill(
    stored: Mapping[str, Iterable[datetime]],
    start: datetime,
    end: datetime,
    cn: str,
    *,
    step: timedelta | None = None,
    bridge: int = BRIDGE,
    max_periods: int = MAX_PERIODS,
) -> list[HistoryRequest]:
    """History requests that fetch every period of ``[start, end)`` missing for some point.

    Parameters
    ----------
    stored : mapping
        Point id → stored reading times of the points that take their values from ``cn``.
    start, end : datetime
        Range to check.
    cn : str
        2051, 2061, 2031 or 2041.
    step : timedelta, optional
        The period; default :data:`PERIODS`, for 2051 :func:`infer_minute_interval` of ``stored``.
    bridge, max_periods : int
        See :func:`plan_requests`.
    """
    if cn not in PERIODS:
        raise BadRequestError(f"CN={cn} 不是历史数据命令 is not a history data command ({', '.join(PERIODS)})")
    materialised = {k: list(v) for k, v in stored.items()}
    if step is None:
        step = infer_minute_interval(materialised) if cn == "2051" else PERIODS[cn]
    return plan_requests(missing_periods(materialised, start, end, step), step, cn, bridge=bridge,
                         max_periods=max_periods)


def logger_points(point_map: PointMap, mn: str) -> dict[str, list[str]]:
    """Point ids of one data logger per history command they take values from (2051, 2061, 2031, 2041)."""
    out: dict[str, list[str]] = {}
    for (m, _code), claims in point_map.by_code.items():
        if m != mn:
            continue
        for cn, pts in claims.mapped.items():
            if cn in PERIODS:
                out.setdefault(cn, []).extend(p.point_id for _, p in pts)
    return {cn: sorted(set(v)) for cn, v in out.items()}


def store_times(store: Any, catalog: Mapping[str, Any] | None = None) -> StoredTimes:
    """A :data:`StoredTimes` callable over a readings :class:`~carbonmet.metering.Store` (its ``readings``
    method, run in a worker thread)."""

    def read(points: Sequence[str], start: datetime, end: datetime) -> dict[str, list[datetime]]:
        out: dict[str, list[datetime]] = {}
        for p in points:
            t = store.readings(p, start, end, catalog)
            out[p] = t.column("ts").to_pylist()
        return out

    async def times(points: Sequence[str], start: datetime, end: datetime) -> Mapping[str, Sequence[datetime]]:
        return await asyncio.to_thread(read, points, start, end)

    return times
