"""Plan of injected data faults (gaps, stuck values, spikes, maintenance, drift), drawn from the seed.

Fault windows stay inside one calendar month so that month-chunked generation needs no state.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

import numpy as np

from ._region import TAG_FAULTS, rng_for, stack_names
from ._truth import EnterpriseTruth
from ._types import Enterprise, Fault, Instrument, Point


@lru_cache(maxsize=65536)
def hour_iso(year: int, h: float, offset_hours: int = 8) -> str:
    tz = timezone(timedelta(hours=offset_hours))
    return (datetime(year, 1, 1, tzinfo=tz) + timedelta(hours=float(h))).isoformat()


def month_starts(year: int, offset_hours: int = 8) -> np.ndarray:
    """Hour index of the start of each local month (13 values, the last = end of the year)."""
    return np.array([(datetime(year + (m // 12), m % 12 + 1, 1) - datetime(year, 1, 1)).days * 24 for m in range(13)])


def utc_chunks(year: int, offset_hours: int = 8) -> tuple[np.ndarray, list[str]]:
    """Hour bounds and labels of the UTC months covering the local year (the store partitions by UTC month).

    Returns
    -------
    bounds, labels
        ``bounds[k]``–``bounds[k+1]`` [h from local 1 January 00:00] is UTC month ``labels[k]`` (``YYYY-MM``).
    """
    tz = timezone(timedelta(hours=offset_hours))
    t0 = datetime(year, 1, 1, tzinfo=tz)
    t_end = datetime(year + 1, 1, 1, tzinfo=tz)
    hours = int((t_end - t0).total_seconds() // 3600)
    cur = t0.astimezone(UTC)
    bounds = [0]
    labels = []
    while True:
        labels.append(f"{cur.year}-{cur.month:02d}")
        nxt = datetime(cur.year + (cur.month == 12), cur.month % 12 + 1, 1, tzinfo=UTC)
        if nxt >= t_end:
            bounds.append(hours)
            break
        bounds.append(int((nxt - t0).total_seconds() // 3600))
        cur = nxt
    return np.array(bounds), labels


def _window(rng: np.random.Generator, ms: np.ndarray, lo: int, hi: int) -> tuple[int, int]:
    """A window of ``lo``–``hi`` hours inside one of the chunks ``ms`` long enough to hold it."""
    ok = [k for k in range(len(ms) - 1) if ms[k + 1] - ms[k] > hi + 1]
    m = ok[int(rng.integers(0, len(ok)))]
    dur = int(rng.integers(lo, hi + 1))
    s = int(rng.integers(ms[m], max(ms[m] + 1, ms[m + 1] - dur)))
    return s, min(s + dur, int(ms[m + 1]))


def plan_faults(e: Enterprise, index: int, truth: EnterpriseTruth, points: list[Point], seed: int,
                year: int) -> list[Fault]:
    """Gaps, a stuck value, spikes and a CEMS maintenance period for one enterprise (on its wave-0 points, so
    that points added by a later dataset version leave a seed's faults where they were)."""
    rng = rng_for(seed, TAG_FAULTS, index)
    ms, _ = utc_chunks(year)
    clock = [p for p in points if p.schedule == "clock" and p.instrument_type and p.wave == 0]
    rate = [p for p in clock if p.reading_kind == "rate" and truth.signals[p.signal].max() > 0
            and p.instrument_type not in ("thermometer", "moisture_meter", "o2_analyser")]
    out: list[Fault] = []

    def add(kind: str, p: Point, s: int, en: int, detail: str, factor: float = 0.0) -> None:
        out.append(Fault(kind, e.code, p.point_id, "", hour_iso(year, s), hour_iso(year, en), detail, "", s, en, factor))

    for _ in range(2):
        p = clock[int(rng.integers(len(clock)))]
        s, en = _window(rng, ms, 6, 72)
        add("gap", p, s, en, "no readings (data-logger or network outage)")
    p = rate[int(rng.integers(len(rate)))]
    s, en = _window(rng, ms, 12, 48)
    add("stuck", p, s, en, "value frozen at the first reading of the window, flag N")
    p = rate[int(rng.integers(len(rate)))]
    sig = truth.signals[p.signal]
    on = np.flatnonzero(sig > 0)
    for h in np.sort(rng.choice(on, size=3, replace=False)):
        f = float(rng.uniform(3.0, 10.0))
        add("spike", p, int(h), int(h) + 1, f"one reading multiplied by {f:.2f}, flag N", f)
    stacks = stack_names(e)
    st = stacks[int(rng.integers(len(stacks)))]
    s, en = _window(rng, ms, 4, 24)
    for p in points:
        if p.point_id.startswith(f"{e.code}.{st}."):
            add("maintenance", p, s, en, "CEMS maintenance, flag M")
    return out


def inject_drifts(instruments: list[Instrument], points: dict[str, Point], seed: int, year: int, hours: int) -> tuple[
        list[Instrument], list[Fault]]:
    """One drifting CEMS flow monitor and one drifting belt scale in the region.

    ``hours`` is the length of the local year [h] (8760, or 8784 in a leap year): the drift runs from its start
    to the end of the year at ``rate`` % per ``hours``.
    """
    rng = rng_for(seed, TAG_FAULTS, 10_000)
    out = list(instruments)
    faults: list[Fault] = []
    for type_key, start_range, per_year in (("cems_flow_monitor", (2000, 5000), (6.0, 10.0)),
                                            ("belt_scale", (0, 1), (1.0, 2.0))):
        idx = [i for i, x in enumerate(out) if x.type_key == type_key and x.error_model in ("normal", "rectangular")]
        idx = idx or [i for i, x in enumerate(out) if x.type_key == type_key and x.error_model != "drift"]
        if not idx:
            continue
        i = idx[int(rng.integers(len(idx)))]
        s = int(rng.integers(*start_range))
        rate = float(rng.uniform(*per_year)) * float(np.sign(rng.normal()) if type_key == "belt_scale" else 1.0)
        total = rate * (hours - s) / hours
        out[i] = replace(out[i], drift_start_h=s, drift_rel_per_year=rate, drift_year_hours=hours,
                         error_model="drift")
        p = points[out[i].point_id]
        faults.append(Fault("drift", p.enterprise, p.point_id, out[i].instrument_id, hour_iso(year, s),
                            hour_iso(year, hours), f"linear drift {rate:+.2f} %/a from the start, {total:+.2f} % at year end",
                            "", s, hours, rate))
    return out, faults
