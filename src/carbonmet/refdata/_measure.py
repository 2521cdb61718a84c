"""Measured data = truth + instrument error consistent with each certificate, plus injected faults.

Error model per instrument (relative, in % of the true value): a systematic error ``δ`` drawn once from
what its certificate states (rectangular within ±MPE for a verification certificate, normal with
``u = U/k`` for a calibration certificate), plus drift and out-of-tolerance bias windows where injected,
plus repeatability noise (stated per one-minute reading; an hourly value averages 60 of them, so its
noise is ``σ_min/√60``), then quantisation to the instrument's resolution.

* ``total`` points (totalisers, 累计值): measured increments ``Δ·(1+δ)(1+ε)`` summed into a counter that
  starts at a random value; the reading at ``ts`` is the counter at that instant (floored to resolution).
* ``rate`` points: the mean over ``[ts, ts+step)``: ``x·(1+δ) + noise``.
* ``interval`` points (weighings): one record per day or per delivery lot, ``m·(1+δ)(1+ε)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._errors import RefdataError
from ._types import Fault, Instrument, Point

FLAGS = ("N", "F", "M", "S", "D", "C", "T", "B")
FLAG_INDEX = {f: i for i, f in enumerate(FLAGS)}


@dataclass
class Chunk:
    hours_from: float  # hour index (float) of each reading, from the start of the year (local)
    values: np.ndarray
    flags: np.ndarray  # int8 index into FLAGS
    true_values: np.ndarray


def quantise(values: np.ndarray, res: float, floor: bool = False) -> np.ndarray:
    """Round (or floor, for counters) to the resolution and to its decimals, so the text form is short."""
    q = (np.floor(values / res) if floor else np.round(values / res)) * res
    nd = max(0, int(np.ceil(-np.log10(res) - 1e-9)))
    return np.round(q, nd)


def relative_error(inst: Instrument, th: np.ndarray, bias: list[tuple[int, int, float]]) -> np.ndarray:
    """Systematic relative error [%] at hour positions ``th``: δ + drift + bias windows."""
    err = np.full(th.shape, inst.systematic_rel)
    if inst.drift_start_h >= 0 and inst.drift_rel_per_year:
        if inst.drift_year_hours <= 0:
            raise RefdataError(f"{inst.instrument_id}: drift without the hours of its year")
        err += np.clip(th - inst.drift_start_h, 0.0, None) / float(inst.drift_year_hours) * inst.drift_rel_per_year
    for s, e, b in bias:
        err += b * ((th >= s) & (th < e))
    return err


def clock_chunk(point: Point, inst: Instrument, x: np.ndarray, h0: int, h1: int, step_min: int,
                rng: np.random.Generator, counter: float, true_counter: float, faults: list[Fault],
                off: np.ndarray | None, bias: list[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                                      np.ndarray, float, float]:
    """Readings of a ``total`` or ``rate`` point for hours ``[h0, h1)`` at ``step_min`` minutes.

    Returns
    -------
    th, values, flags, truth, counter, true_counter
        Hour positions of the readings, measured values [point unit], flag indices, true values,
        and the totaliser states after the chunk (measured, true).
    """
    k = 60 // step_min
    n = (h1 - h0) * k
    th = h0 + np.arange(n) / k
    tr = np.repeat(x[h0:h1], k)
    err = relative_error(inst, th, bias) / 100.0
    res = inst.resolution
    if point.reading_kind == "total":
        inc = tr / k
        sd = inst.noise_rel / 100.0 / np.sqrt(step_min)
        meas_inc = np.maximum(inc * (1.0 + err) * (1.0 + sd * rng.standard_normal(n)), 0.0)
        cum = np.cumsum(meas_inc)
        tcum = np.cumsum(inc)
        before = counter + np.concatenate(([0.0], cum[:-1]))
        tbefore = true_counter + np.concatenate(([0.0], tcum[:-1]))
        values = quantise(before, res, floor=True)
        truth = tbefore
        counter += float(cum[-1]) if n else 0.0
        true_counter += float(tcum[-1]) if n else 0.0
    else:
        noise = rng.standard_normal(n)
        if inst.noise_abs:
            values = tr * (1.0 + err) + inst.noise_abs / np.sqrt(step_min) * noise
        else:
            values = tr * (1.0 + err) + tr * (inst.noise_rel / 100.0 / np.sqrt(step_min)) * noise
        values = quantise(values, res)
        truth = tr
    flags = np.zeros(n, dtype=np.int8)
    if off is not None:
        flags[np.repeat(off[h0:h1], k)] = FLAG_INDEX["F"]
        if step_min == 1:  # daily automatic zero/span calibration 03:00–03:05 (HJ 75 §…, 24 h)
            hod = th % 24.0
            flags[(hod >= 3.0) & (hod < 3.0 + 5 / 60)] = FLAG_INDEX["C"]
    keep = np.ones(n, dtype=bool)
    for f in faults:
        w = (th >= f.start_h) & (th < f.end_h)
        if not w.any():
            continue
        if f.kind == "gap":
            keep &= ~w
        elif f.kind == "stuck":
            i0 = int(np.argmax(w))
            values[w] = values[i0]
        elif f.kind == "spike":
            i0 = int(np.argmax(w))
            values[i0] = values[i0] * f.factor
        elif f.kind == "maintenance":
            flags[w] = FLAG_INDEX["M"]
    if not keep.all():
        th, values, flags, truth = th[keep], values[keep], flags[keep], truth[keep]
    return th, values, flags, truth, counter, true_counter


def record_times(starts_h: np.ndarray, ends_h: np.ndarray, amounts: np.ndarray,
                 load_t: float) -> tuple[np.ndarray, np.ndarray]:
    """Times [h, whole minutes] and true masses [t] of the weighings (loads of about ``load_t``) that spread
    each period's amount evenly over ``[start, end)`` (no random draw: the truth of a stock at any instant
    follows from them)."""
    keep = amounts > 0
    s, e, a = starts_h[keep].astype(float), ends_h[keep].astype(float), amounts[keep]
    n = np.maximum(1, np.ceil(a / load_t)).astype(np.int64)
    per = np.repeat(a / n, n)
    first = np.repeat(np.cumsum(n) - n, n)
    j = np.arange(per.size) - first
    th = np.repeat(s, n) + (j + 0.5) * np.repeat((e - s) / n, n)
    th = np.floor(th * 60.0) / 60.0  # whole minutes
    return th, per


def interval_records(inst: Instrument, starts_h: np.ndarray, ends_h: np.ndarray, amounts: np.ndarray, load_t: float,
                     rng: np.random.Generator, bias: list[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray,
                                                                                           np.ndarray]:
    """Individual weighings (trucks or wagons of about ``load_t``) spreading each period's amount evenly
    over ``[start, end)``; returns hour positions, measured and true masses."""
    th, per = record_times(starts_h, ends_h, amounts, load_t)
    err = relative_error(inst, th, bias) / 100.0
    vals = per * (1.0 + err) * (1.0 + inst.noise_rel / 100.0 * rng.standard_normal(th.size))
    vals = quantise(vals, inst.resolution)
    return th, vals, per
