"""Validation of the GUM uncertainty framework by the Monte Carlo method (JCGM 101 §8)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ._lpu import LpuResult, coverage_factor
from ._mcm import McmResult, numerical_tolerance

__all__ = ["Validation", "validate_lpu"]


@dataclass(frozen=True, slots=True)
class Validation:
    """Outcome of comparing the GUF coverage interval with the MCM one (GUM 法的验证).

    Attributes
    ----------
    agrees : bool
        True when d_low ≤ δ and d_high ≤ δ: the GUF is validated for this model and p.
    d_low, d_high : float
        |y − U_p − y_low| and |y + U_p − y_high| [output unit] (JCGM 101 §8.2 c).
    delta : float
        Numerical tolerance δ of u(y) for ``ndig`` digits [output unit] (§7.9.2).
    ndig : int
    k_p : float
        Coverage factor the GUF interval was built with for the comparison: always
        k_p = t_p(ν_eff) for the coverage probability p of the MCM interval, even when the LPU
        result reports a fixed k (e.g. k = 2), whose interval y ± k·u has no stated p.
    """

    agrees: bool
    d_low: float
    d_high: float
    delta: float
    ndig: int
    k_p: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "agrees": self.agrees,
            "d_low": self.d_low,
            "d_high": self.d_high,
            "delta": self.delta,
            "ndig": self.ndig,
            "k_p": self.k_p,
        }


def validate_lpu(lpu: LpuResult, mcm: McmResult, ndig: int = 2) -> Validation:
    """Validate the law of propagation against the Monte Carlo method (JCGM 101:2008 §8.2).

    Parameters
    ----------
    lpu : LpuResult
        GUF result for coverage p. Its own ``U`` is not used: U_p = t_p(ν_eff)·u_c is rebuilt
        from ``lpu.coverage`` and ``lpu.dof``, so a result reported with a fixed k (k = 2) is
        still compared with the MCM interval for the same p.
    mcm : McmResult
        MCM result for the same p; its probabilistically symmetric interval is used.
    ndig : int
        Significant digits of u(y) regarded as meaningful; δ is derived from the GUF u(y).

    Notes
    -----
    d_low = |y − U_p − y_low|, d_high = |y + U_p − y_high| with U_p = k_p u_c(y),
    k_p = t_p(ν_eff) (GUM G.3, G.4.1); the GUF is validated if both are ≤ δ. JJF 1059.2-2012 §8 states the same rule.
    """
    if abs(lpu.coverage - mcm.coverage) > 1e-12:
        raise ValueError(f"coverage probabilities differ: LPU {lpu.coverage}, MCM {mcm.coverage}")
    delta = numerical_tolerance(lpu.u if lpu.u > 0 else mcm.u, ndig)
    k_p = coverage_factor(lpu.coverage, lpu.dof)
    U_p = k_p * lpu.u
    lo, hi = mcm.interval
    d_low = abs(lpu.value - U_p - lo)
    d_high = abs(lpu.value + U_p - hi)
    ok = (not math.isnan(delta)) and d_low <= delta and d_high <= delta
    return Validation(agrees=bool(ok), d_low=d_low, d_high=d_high, delta=delta, ndig=ndig, k_p=k_p)
