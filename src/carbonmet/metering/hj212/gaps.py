"""Gap recovery (补传): which history periods the store misses, planned as HJ 212 history requests.

:meth:`HJ212Server.backfill <carbonmet.metering.hj212.HJ212Server.backfill>` (and ``backfill_hours``) use
these; they are pure functions, usable on their own:

- :func:`missing_periods` — the periods of ``[start, end)`` some point has no reading for.
- :func:`plan_requests`, :func:`plan_backfill` — missing periods → :class:`HistoryRequest` (BeginTime/EndTime
  of 2051/2061/2031/2041, Tables C.20–C.23), nearby gaps bridged into one request.
- :func:`infer_minute_interval` — the minute-data interval a logger uses, from what is stored.
- :func:`logger_points` — a logger's points by history command.
- :func:`store_times` — a :data:`StoredTimes` callable over a readings store.
"""

from ._gaps import (
    HistoryRequest,
    StoredTimes,
    infer_minute_interval,
    logger_points,
    missing_periods,
    plan_backfill,
    plan_requests,
    store_times,
)

__all__ = [
    "HistoryRequest",
    "StoredTimes",
    "infer_minute_interval",
    "logger_points",
    "missing_periods",
    "plan_backfill",
    "plan_requests",
    "store_times",
]
