"""Missing-data substitution for hourly CEMS parameters, as selectable rule sets (缺失数据处理).

The rule sets are data (``data/substitution.csv``): HJ/T 75-2007 (verified), HJ 75-2017 (its > 24 h rule is still
open, marked ``?``) and 40 CFR Part 75 §75.33 (structure verified, values secondary). Plant-stopped hours are
neither valid nor substituted (the source emits nothing); every other hour without a valid value belongs to a
gap, and every hour of a gap gets the gap's substitute, the rule row (clause, evidence) that chose it and a
standard uncertainty: the standard deviation of the valid hours of the look-back (an assumption, marked A:
the substitute is one plausible level of the process, and the look-back spread is how far from it the truth
may lie). The hours of one gap share one error (they use one substitute).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from ._errors import CemsError

#: Evidence mark of the substitution uncertainty rule (look-back standard deviation): a project assumption.
SUBSTITUTION_U_RULE = ("替代值的标准不确定度取回溯期有效小时值的标准差 [A] / the standard uncertainty of a substitute is the "
                       "standard deviation of the valid hours of the look-back [A]")


@dataclass(frozen=True, slots=True)
class SubstitutionRule:
    """One band of a rule set (a row of ``data/substitution.csv``)."""

    rule_set: str
    availability_min: float
    availability_max: float
    gap_min_h: float
    gap_max_h: float
    method: str
    percentile: float | None
    lookback_h: int
    clause: str
    source: str
    evidence: str

    def applies(self, availability: float, gap_h: int) -> bool:
        return (self.availability_min <= availability < self.availability_max
                and self.gap_min_h < gap_h <= self.gap_max_h)


@cache
def _rows() -> tuple[SubstitutionRule, ...]:
    text = resources.files("carbonmet.cems").joinpath("data/substitution.csv").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    out = []
    for r in csv.DictReader(lines):
        out.append(SubstitutionRule(
            r["rule_set"], float(r["availability_min"]), float(r["availability_max"]), float(r["gap_min_h"]),
            float(r["gap_max_h"]), r["method"], float(r["percentile"]) if r["percentile"] else None,
            int(r["lookback_h"]), r["clause"], r["source"], r["evidence"]))
    return tuple(out)


def rule_sets() -> list[str]:
    """Names of the substitution rule sets, in file order."""
    return list(dict.fromkeys(r.rule_set for r in _rows()))


def rules(rule_set: str) -> list[SubstitutionRule]:
    """The bands of ``rule_set``.

    Raises
    ------
    CemsError
        Unknown rule set (the message lists the known ones).
    """
    out = [r for r in _rows() if r.rule_set == rule_set]
    if not out:
        raise CemsError(f"未知的缺失数据替代规则 unknown substitution rule set {rule_set!r}; "
                        f"known: {', '.join(rule_sets())}")
    return out


@dataclass
class Filled:
    """An hourly series with its gaps substituted.

    Attributes
    ----------
    values : ndarray
        Valid measured values, substitutes in gaps, 0 where the plant was stopped [the series' unit].
    substituted : ndarray of bool
        Hours carrying a substitute.
    stopped : ndarray of bool
        Plant-stopped hours.
    u : ndarray
        Standard uncertainty of each hour's substitute [unit] (0 where measured or stopped).
    gap : ndarray of int
        Index into ``gaps`` of each substituted hour (-1 elsewhere); hours of one gap share one error.
    gaps : list of dict
        ``start`` (hour index), ``hours``, ``value``, ``u``, ``method``, ``clause``, ``evidence``, ``availability``.
    """

    values: np.ndarray
    substituted: np.ndarray
    stopped: np.ndarray
    u: np.ndarray
    gap: np.ndarray
    gaps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def valid_hours(self) -> int:
        return int((~self.substituted & ~self.stopped).sum())


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of the runs of True in ``mask``."""
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def substitute(values: np.ndarray, stopped: np.ndarray | None, rule_set: str = "hjt75_2007") -> Filled:
    """Fill the gaps of an hourly series by the rule set's bands.

    Parameters
    ----------
    values : ndarray
        Hourly valid means; ``nan`` where the hour is not valid (HJ 76-2017 App. B: < 45 valid minutes, flags
        C/M/D …) or missing.
    stopped : ndarray of bool, optional
        Plant-stopped hours (flag F): not substituted, emission 0.
    rule_set : str
        A rule set of ``data/substitution.csv`` (:func:`rule_sets`).

    Returns
    -------
    Filled

    Notes
    -----
    Availability (Part 75 PMA) is the share of valid hours among the operating hours before the gap (at most
    8 760 of them); a gap at the start of the data takes availability 1. ``hb_ha`` uses the valid hour before
    and after the gap (one of them when the gap touches the end of the data). The look-back is the last
    ``lookback_h`` valid hours before the gap (the first ones after it when there are none before).
    """
    bands = rules(rule_set)
    x = np.asarray(values, dtype=float)
    stp = np.zeros(x.size, dtype=bool) if stopped is None else np.asarray(stopped, dtype=bool).copy()
    stp &= ~np.isfinite(x)
    valid = np.isfinite(x) & ~stp
    out = np.where(valid, x, 0.0)
    sub = np.zeros(x.size, dtype=bool)
    u = np.zeros(x.size)
    gap_of = np.full(x.size, -1, dtype=np.int64)
    gaps: list[dict[str, Any]] = []
    vidx = np.flatnonzero(valid)
    if vidx.size == 0:
        return Filled(out, sub, stp, u, gap_of, gaps)
    for a, b in _runs(~valid & ~stp):
        n = b - a
        k = int(np.searchsorted(vidx, a))  # valid hours before the gap: vidx[:k]
        if k > 0:
            ops = np.flatnonzero(~stp[:a])[-8760:]  # the last operating hours before the gap
            availability = float(valid[ops].mean()) if ops.size else 1.0
        else:
            availability = 1.0
        band = next((r for r in bands if r.applies(min(availability, 1.0), n)), bands[-1])
        L = band.lookback_h
        look = x[vidx[max(0, k - L):k]] if k > 0 else x[vidx[:L]]
        hb = x[vidx[k - 1]] if k > 0 else math.nan
        ha = x[vidx[k]] if k < vidx.size else math.nan
        hbha = float(np.nanmean([hb, ha]))
        if band.method == "hb_ha":
            value = hbha
        elif band.method == "lookback_max":
            value = float(look.max())
        elif band.method == "lookback_mean":
            value = float(look.mean())
        elif band.method == "lookback_pct":
            value = max(hbha, float(np.percentile(look, band.percentile or 90.0)))
        else:  # pragma: no cover - the data file is checked by a test
            raise CemsError(f"substitution.csv: unknown method {band.method!r} in rule set {rule_set!r}")
        su = float(look.std()) if look.size > 1 else abs(value) * 0.1
        out[a:b] = value
        sub[a:b] = True
        u[a:b] = su
        gap_of[a:b] = len(gaps)
        gaps.append({"start": a, "hours": n, "value": value, "u": su, "method": band.method, "clause": band.clause,
                     "evidence": band.evidence, "availability": round(availability, 4)})
    return Filled(out, sub, stp, u, gap_of, gaps)
