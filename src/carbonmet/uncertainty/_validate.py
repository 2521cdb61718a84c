"""Validation of the GUM uncertainty framework by the Monte Carlo method (JCGM 101 §8)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ._lpu import LpuResult
from ._mcm import McmResult, numerical_tolerance

__all__ = ["Validation", "validate"]


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
    """

    agrees: bool
    d_low: float
    d_high: float
    delta: float
    ndig: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "agrees": self.agrees,
            "d_low": self.d_low,
            "d_high": self.d_high,
            "delta": self.delta,
            "ndig": self.ndig,
        }


def validate(lpu: LpuResult, mcm: McmResult, ndig: int = 2) -> Validation:
    """Validate the law of propagation against the Monte Carlo method (JCGM 101:2008 §8.2).

    Parameters
    ----------
    lpu : LpuResult
        GUF result with expanded uncertainty U_p for coverage p.
    mcm : McmResult
        MCM result for the same p; its probabilistically symmetric interval is used.
    ndig : int
        Significant digits of u(y) regarded as meaningful; δ is derived from the GUF u(y).

    Notes
    -----
    d_low = |y − U_p − y_low|, d_high = |y + U_p − y_high|; the GUF is validated if both are
    ≤ δ. JJF 1059.2-2012 §8 states the same rule.
    """
    if abs(lpu.coverage - mcm.coverage) > 1e-12:
        raise ValueError(f"coverage probabilities differ: LPU {lpu.coverage}, MCM {mcm.coverage}")
    delta = numerical_tolerance(lpu.u if lpu.u > 0 else mcm.u, ndig)
    lo, hi = mcm.interval
    d_low = abs(lpu.value - lpu.U - lo)
    d_high = abs(lpu.value + lpu.U - hi)
    ok = (not math.isnan(delta)) and d_low <= delta and d_high <= delta
    return Validation(agrees=bool(ok), d_low=d_low, d_high=d_high, delta=delta, ndig=ndig)
