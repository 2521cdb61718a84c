"""Distributions of exchange amounts (交换量的概率分布) and their vectorised sampling.

An exchange amount may carry one of four distributions, the ones LCA data sets use (olca-schema
``UncertaintyType``; ecoinvent / stats_arrays ids 2–5):

* ``lognormal``: the amount is the **median** (ecoinvent convention), ``sigma`` the standard deviation of
  ``ln|x|`` (σ = ln GSD); the sign of the amount is kept.
* ``normal``: mean = amount, ``sd`` absolute.
* ``triangular``: mode = amount, ``minimum`` / ``maximum`` absolute.
* ``uniform``: ``minimum`` / ``maximum`` absolute (the deterministic value stays the amount).

Pedigree scores are turned into a ``sigma`` elsewhere (``carbonmet.factors``); this module takes the sigma.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._errors import FootprintError

NONE, LOGNORMAL, NORMAL, TRIANGULAR, UNIFORM = 0, 1, 2, 3, 4
KIND_NAMES = {
    NONE: "none",
    LOGNORMAL: "lognormal",
    NORMAL: "normal",
    TRIANGULAR: "triangular",
    UNIFORM: "uniform",
}


@dataclass(frozen=True)
class Spread:
    """The distribution of one exchange amount (不确定度分布), relative to the amount it is attached to.

    Build one with :meth:`lognormal`, :meth:`normal`, :meth:`triangular` or :meth:`uniform`; ``Spread()``
    (kind ``"none"``) is a fixed amount.

    Attributes
    ----------
    kind : str
        ``"none"``, ``"lognormal"``, ``"normal"``, ``"triangular"`` or ``"uniform"``.
    sigma : float
        Lognormal: standard deviation of ln|x| [-].
    sd : float
        Normal: standard deviation, in the exchange's unit.
    minimum, maximum : float
        Triangular / uniform bounds, in the exchange's unit.
    """

    kind: str = "none"
    sigma: float = math.nan
    sd: float = math.nan
    minimum: float = math.nan
    maximum: float = math.nan

    @classmethod
    def lognormal(cls, sigma: float | None = None, *, gsd: float | None = None) -> Spread:
        """Lognormal with the amount as median; give ``sigma`` (sd of ln) or ``gsd`` (geometric sd, σ = ln GSD)."""
        if (sigma is None) == (gsd is None):
            raise FootprintError("lognormal: give exactly one of sigma (sd of ln) and gsd (geometric sd)")
        if gsd is not None:
            if not gsd >= 1.0:
                raise FootprintError(f"lognormal: gsd must be ≥ 1, got {gsd!r}")
            sigma = math.log(gsd)
        assert sigma is not None
        if not (math.isfinite(sigma) and sigma >= 0.0):
            raise FootprintError(f"lognormal: sigma must be finite and ≥ 0, got {sigma!r}")
        return cls("lognormal", sigma=float(sigma))

    @classmethod
    def normal(cls, sd: float) -> Spread:
        """Normal with the amount as mean and standard deviation ``sd`` (exchange unit)."""
        if not (math.isfinite(sd) and sd >= 0.0):
            raise FootprintError(f"normal: sd must be finite and ≥ 0, got {sd!r}")
        return cls("normal", sd=float(sd))

    @classmethod
    def triangular(cls, minimum: float, maximum: float) -> Spread:
        """Triangular with the amount as mode, between ``minimum`` and ``maximum`` (exchange unit)."""
        if not (math.isfinite(minimum) and math.isfinite(maximum) and minimum < maximum):
            raise FootprintError(f"triangular: need finite minimum < maximum, got {minimum!r}, {maximum!r}")
        return cls("triangular", minimum=float(minimum), maximum=float(maximum))

    @classmethod
    def uniform(cls, minimum: float, maximum: float) -> Spread:
        """Uniform between ``minimum`` and ``maximum`` (exchange unit)."""
        if not (math.isfinite(minimum) and math.isfinite(maximum) and minimum < maximum):
            raise FootprintError(f"uniform: need finite minimum < maximum, got {minimum!r}, {maximum!r}")
        return cls("uniform", minimum=float(minimum), maximum=float(maximum))

    def code(self) -> int:
        """Integer kind code used in the parameter arrays."""
        for k, v in KIND_NAMES.items():
            if v == self.kind:
                return k
        raise FootprintError(
            f"unknown distribution kind {self.kind!r}; known: {', '.join(KIND_NAMES.values())}"
        )

    def params(self, amount: float, where: str) -> tuple[int, float, float]:
        """``(code, p1, p2)`` for the parameter arrays, checked against ``amount``; ``where`` names the exchange."""
        code = self.code()
        if code == LOGNORMAL:
            if amount == 0.0 and self.sigma > 0:
                raise FootprintError(f"{where}: a lognormal amount (the median) cannot be 0")
            return code, self.sigma, math.nan
        if code == NORMAL:
            return code, self.sd, math.nan
        if code == TRIANGULAR and not self.minimum <= amount <= self.maximum:
            raise FootprintError(
                f"{where}: triangular mode (the amount {amount!r}) lies outside [{self.minimum!r}, {self.maximum!r}]"
            )
        if code in (TRIANGULAR, UNIFORM):
            return code, self.minimum, self.maximum
        return NONE, math.nan, math.nan


Array = NDArray[np.float64]


def sample(
    kind: NDArray[np.int8], amount: Array, p1: Array, p2: Array, size: int, rng: np.random.Generator
) -> Array:
    """Draw ``size`` values of every parameter at once, shape ``(size, n)``; columns of kind none repeat the amount.

    Parameters
    ----------
    kind : ndarray of int8, shape (n,)
        Distribution codes.
    amount : ndarray, shape (n,)
        Deterministic amounts (median / mean / mode).
    p1, p2 : ndarray, shape (n,)
        Distribution parameters (see :meth:`Spread.params`).
    size : int
        Number of iterations to draw.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    ndarray, shape (size, n)
    """
    out = np.empty((size, amount.size))
    for code in (NONE, LOGNORMAL, NORMAL, UNIFORM, TRIANGULAR):
        idx = np.flatnonzero(kind == code)
        if not idx.size:
            continue
        # parameters sorted by kind (as the engine passes them) make each kind one slice: no gather copies
        sel: slice | NDArray[np.intp] = (
            slice(idx[0], idx[-1] + 1) if idx[-1] - idx[0] + 1 == idx.size else idx
        )
        a, b, c = amount[sel], p1[sel], p2[sel]
        if code == NONE:
            block = np.broadcast_to(a, (size, a.size))
        elif code == LOGNORMAL:
            block = rng.standard_normal((size, a.size))
            block *= b
            np.exp(block, out=block)
            block *= a
        elif code == NORMAL:
            block = rng.standard_normal((size, a.size))
            block *= b
            block += a
        elif code == UNIFORM:
            block = rng.random((size, a.size))
            block *= c - b
            block += b
        else:
            lo, mode, hi = b, a, c
            u = rng.random((size, a.size))
            fc = (mode - lo) / (hi - lo)
            left = lo + np.sqrt(u * (hi - lo) * (mode - lo))
            right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - mode))
            block = np.where(u < fc, left, right)
        out[:, sel] = block
    return out


def variance(kind: NDArray[np.int8], amount: Array, p1: Array, p2: Array) -> Array:
    """Variance of every parameter's distribution, in the squared exchange unit (0 for kind none).

    Lognormal: m² e^{σ²}(e^{σ²} − 1) with m the median; normal: sd²; uniform: (b − a)²/12;
    triangular: (a² + b² + c² − ab − ac − bc)/18 with c the mode.
    """
    var = np.zeros(amount.size)
    m = kind == LOGNORMAL
    s2 = p1[m] ** 2
    var[m] = amount[m] ** 2 * np.exp(s2) * np.expm1(s2)
    m = kind == NORMAL
    var[m] = p1[m] ** 2
    m = kind == UNIFORM
    var[m] = (p2[m] - p1[m]) ** 2 / 12.0
    m = kind == TRIANGULAR
    a, b, c = p1[m], p2[m], amount[m]
    var[m] = (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0
    return var
