"""Stocks and shipments of one enterprise (refdata-1.6, wave 2): the redundancy a plant's books hold.

* **Coal yards** (煤场): the rail weighbridge weighs each delivery lot in over its first hours
  (:data:`model.lot_unloading_hours`), the belt scale weighs the coal out to the gasifier or the boilers hour by
  hour; the yard holds a safety stock ``S₀`` (``coal_yard_days`` of mean consumption) plus what is received and
  not yet burned: ``S(t) = S₀ + R(<t) − M(<t)``.
* **Product tanks** (成品罐区), for products metered by a Coriolis meter: daily shipments over the weighbridge
  pull the tank back towards its kept stock ``S₀`` (``tank_days`` of mean production),
  ``ship_d = max(0, P_d + k·(S_d − S₀) + σ·P̄·z)``, never below ``tank_min_fraction·S₀`` in the tank.
* **Surveys** (盘存, 罐存): the stock at the opening of the year (local 1 January 00:00) and at the close of every
  month (the last minute of its last day), 13 instants.

Draws come from their own random stream (``TAG_STOCK``), so no earlier draw of a seed moves.
"""

from __future__ import annotations

import numpy as np

from ._constants import constants
from ._measure import record_times
from ._region import TAG_STOCK, products, rng_for
from ._truth import EnterpriseTruth


def survey_hours(month_starts: np.ndarray) -> np.ndarray:
    """Survey instants [h from local 1 January 00:00]: the opening and the last minute of each month (13)."""
    return np.concatenate(([0.0], month_starts[1:].astype(float) - 1.0 / 60.0))


def _cum_at(hourly: np.ndarray, th: np.ndarray) -> np.ndarray:
    """Cumulative amount of an hourly series up to each instant ``th`` [h] (linear within an hour)."""
    cum = np.concatenate(([0.0], np.cumsum(hourly)))
    i = np.clip(np.floor(th).astype(np.int64), 0, hourly.size - 1)
    return cum[i] + (th - i) * hourly[i]


def _received_before(rec_th: np.ndarray, rec_t: np.ndarray, th: np.ndarray) -> np.ndarray:
    order = np.argsort(rec_th, kind="stable")
    cum = np.concatenate(([0.0], np.cumsum(rec_t[order])))
    return cum[np.searchsorted(rec_th[order], th, side="left")]


def simulate_stocks(tr: EnterpriseTruth, index: int, seed: int, month_starts: np.ndarray) -> dict[str, np.ndarray]:
    """True stock series and shipments of ``tr``'s enterprise (index ``index`` in the region); the returned
    signals are added to ``tr.signals``: ``<coal>.stock`` and ``<product>.stock`` (13 survey values [t]) and
    ``<product>.shipped`` (hourly [t/h], each day's shipment spread over the day)."""
    c = constants()
    md = c["model"]
    it = c["instrument_type"]
    rng = rng_for(seed, TAG_STOCK, index)
    hours = tr.hours
    th = survey_hours(month_starts)
    out: dict[str, np.ndarray] = {}
    for stream in ("gasifier_coal", "boiler_coal"):
        lots = tr.lots[stream]
        m = tr.signals[stream]
        s0 = float(rng.uniform(*md["coal_yard_days"])) * float(m.sum()) / (hours / 24.0)
        ends = np.minimum(lots.start_h + md["lot_unloading_hours"], hours)
        rec_th, rec_t = record_times(lots.start_h, ends, lots.mass, float(it["rail_weighbridge"]["load_t"]))
        out[f"{stream}.stock"] = s0 + _received_before(rec_th, rec_t, th) - _cum_at(m, th)
    days = hours // 24
    for p in products(tr.enterprise):
        if p["instrument"] == "weighbridge":
            continue
        prod = tr.production[p["name"]]
        daily = prod[: days * 24].reshape(days, 24).sum(axis=1)
        mean = float(daily.mean())
        s0 = float(rng.uniform(*md["tank_days"])) * mean
        z = rng.standard_normal(days)
        ship = np.zeros(days)
        s = s0
        for d in range(days):
            want = daily[d] + md["shipment_feedback_per_day"] * (s - s0) + md["shipment_day_sd"] * mean * z[d]
            ship[d] = float(np.clip(want, 0.0, max(0.0, s + daily[d] - md["tank_min_fraction"] * s0)))
            s += daily[d] - ship[d]
        hourly = np.repeat(ship / 24.0, 24)
        if hourly.size < hours:
            hourly = np.concatenate((hourly, np.zeros(hours - hourly.size)))
        starts = np.arange(days) * 24
        sh_th, sh_t = record_times(starts, starts + 24, ship, float(it["weighbridge"]["load_t"]))
        out[f"{p['name']}.shipped"] = hourly
        out[f"{p['name']}.stock"] = s0 + _cum_at(prod, th) - _received_before(sh_th, sh_t, th)
    return out
