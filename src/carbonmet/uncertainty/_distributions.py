"""Probability distributions assigned to input quantities (输入量的概率分布).

Each distribution knows

* its **estimate** ``mean`` (expectation, the value the law of propagation uses),
* its **standard uncertainty** ``u`` (what GUM/JJF 1059.1 propagates), which equals the
  standard deviation except for the scaled-shifted *t* of a type A evaluation where GUM takes
  u = s/√n and carries the ν = n − 1 degrees of freedom separately,
* its **degrees of freedom** ``dof`` (∞ for type B with full knowledge),
* how to draw samples for the Monte Carlo method (JCGM 101:2008 §6.4 and Annex C),
* its quantile function ``ppf`` (used for correlated non-normal inputs through a Gaussian
  copula, see :mod:`carbonmet.uncertainty._mcm`).

References
----------
JCGM 100:2008 (GUM) §4.2–4.3; JJF 1059.1-2012 §4.3; JCGM 101:2008 (GUM-S1) §6.4 (PDF
assignment table 1) and Annex C (sampling); JJF 1059.2-2012 (the Chinese adoption of GUM-S1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import special, stats

from carbonmet.quantities import mpe_standard_uncertainty

from ._errors import DistributionError

__all__ = [
    "Arcsine",
    "Constant",
    "Distribution",
    "Exponential",
    "Lognormal",
    "Normal",
    "Rectangular",
    "StudentT",
    "Trapezoidal",
    "Triangular",
    "distribution_from_params",
    "distribution_from_u",
    "normal_from_expanded",
    "rectangular_from_mpe",
    "type_a",
]


def _show(value: object) -> str:
    """``repr`` for an error message, shortened (an integer of thousands of digits has no usable repr)."""
    try:
        text = repr(value)
    except ValueError:
        return f"<{type(value).__name__} too long to show>"
    return text if len(text) <= 60 else f"{text[:40]}… ({len(text)} characters)"


def _finite(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DistributionError(f"parameter '{name}' must be a number, got {_show(value)}") from None
    except OverflowError:  # an integer beyond the float range
        raise DistributionError(f"parameter '{name}' must be finite, got {_show(value)}") from None
    if not math.isfinite(v):
        raise DistributionError(f"parameter '{name}' must be finite, got {_show(value)}")
    return v


def _check_dof(dof: float) -> float:
    try:
        d = float(dof)
    except OverflowError:  # an integer beyond the float range: as good as infinite
        d = math.inf if dof > 0 else -math.inf
    except (TypeError, ValueError):
        raise DistributionError(f"parameter 'dof' must be a number, got {_show(dof)}") from None
    if math.isnan(d) or d <= 0:
        raise DistributionError(f"parameter 'dof' must be > 0 (or inf), got {_show(dof)}")
    return d


def _bounds(low: float, high: float) -> tuple[float, float]:
    """Validated finite limits with low < high (every bounded distribution)."""
    a, b = _finite("low", low), _finite("high", high)
    if not a < b:
        raise DistributionError(f"'low' must be < 'high', got low={low!r}, high={high!r}")
    return a, b


class Distribution:
    """Base class. Subclasses are frozen dataclasses."""

    kind: ClassVar[str] = ""

    # --- moments ---------------------------------------------------------------------------
    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def std(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def u(self) -> float:
        """Standard uncertainty used by the law of propagation (GUM §5.1.2)."""
        return self.std

    @property
    def dof(self) -> float:
        return math.inf

    # --- sampling ----------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` independent values (JCGM 101 Annex C)."""
        raise NotImplementedError  # pragma: no cover

    def ppf(self, q: np.ndarray) -> np.ndarray:
        """Quantile function G⁻¹(q) for q in (0, 1)."""
        raise NotImplementedError  # pragma: no cover

    def from_standard_normal(self, z: np.ndarray) -> np.ndarray:
        """Map standard-normal scores to this distribution: G⁻¹(Φ(z)) (Gaussian copula)."""
        return self.ppf(special.ndtr(z))

    def params(self) -> dict[str, float]:
        """Parameters as written in a model file."""
        raise NotImplementedError  # pragma: no cover

    def describe(self) -> str:
        inner = ", ".join(f"{k}={v:.6g}" for k, v in self.params().items())
        return f"{self.kind}({inner})"


@dataclass(frozen=True, slots=True)
class Normal(Distribution):
    """Gaussian N(mean, std²) (正态分布), JCGM 101 §6.4.7.

    Parameters
    ----------
    mean : float
        Expectation [unit of the input].
    std : float
        Standard deviation = standard uncertainty [unit of the input], ≥ 0.
    dof : float
        Degrees of freedom of ``std`` for Welch–Satterthwaite (GUM G.4); ∞ by default. The Monte
        Carlo method samples the Gaussian regardless (use :class:`StudentT` for a type A mean).
    """

    kind: ClassVar[str] = "normal"
    mean_: float
    std_: float
    dof_: float = math.inf

    def __init__(self, mean: float, std: float, dof: float = math.inf) -> None:
        m, s = _finite("mean", mean), _finite("std", std)
        if s < 0:
            raise DistributionError(f"parameter 'std' must be ≥ 0, got {std!r}")
        object.__setattr__(self, "mean_", m)
        object.__setattr__(self, "std_", s)
        object.__setattr__(self, "dof_", _check_dof(dof))

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def std(self) -> float:
        return self.std_

    @property
    def dof(self) -> float:
        return self.dof_

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.mean_ + self.std_ * rng.standard_normal(size)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return self.mean_ + self.std_ * special.ndtri(q)

    def from_standard_normal(self, z: np.ndarray) -> np.ndarray:
        return self.mean_ + self.std_ * z

    def params(self) -> dict[str, float]:
        d = {"mean": self.mean_, "std": self.std_}
        if math.isfinite(self.dof_):
            d["dof"] = self.dof_
        return d


@dataclass(frozen=True, slots=True)
class Rectangular(Distribution):
    """Uniform on [low, high] (均匀分布/矩形分布), JCGM 101 §6.4.2; u = (high − low)/√12."""

    kind: ClassVar[str] = "rectangular"
    low: float
    high: float

    def __init__(self, low: float, high: float) -> None:
        a, b = _bounds(low, high)
        object.__setattr__(self, "low", a)
        object.__setattr__(self, "high", b)

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def std(self) -> float:
        return (self.high - self.low) / math.sqrt(12.0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.low + (self.high - self.low) * rng.random(size)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(q)

    def params(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high}


@dataclass(frozen=True, slots=True)
class Triangular(Distribution):
    """Triangular on [low, high] with peak at ``mode`` (三角分布), JCGM 101 §6.4.5 (symmetric case).

    u² = (a² + b² + c² − ab − ac − bc)/18; for the symmetric case u = (b − a)/√24.
    """

    kind: ClassVar[str] = "triangular"
    low: float
    high: float
    mode: float

    def __init__(self, low: float, high: float, mode: float | None = None) -> None:
        a, b = _bounds(low, high)
        c = 0.5 * (a + b) if mode is None else _finite("mode", mode)
        if not a <= c <= b:
            raise DistributionError(f"'mode' must lie in [low, high], got mode={mode!r}")
        object.__setattr__(self, "low", a)
        object.__setattr__(self, "high", b)
        object.__setattr__(self, "mode", c)

    @property
    def mean(self) -> float:
        return (self.low + self.high + self.mode) / 3.0

    @property
    def std(self) -> float:
        a, b, c = self.low, self.high, self.mode
        return math.sqrt(max(a * a + b * b + c * c - a * b - a * c - b * c, 0.0) / 18.0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, size)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        a, b, c = self.low, self.high, self.mode
        return stats.triang.ppf(q, (c - a) / (b - a), loc=a, scale=b - a)

    def params(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high, "mode": self.mode}


@dataclass(frozen=True, slots=True)
class Trapezoidal(Distribution):
    """Symmetric trapezoid on [low, high] with top/base width ratio ``beta`` (梯形分布).

    JCGM 101 §6.4.4: mean (a + b)/2, u² = (b − a)²(1 + β²)/24; β = 0 is triangular, β = 1
    rectangular. Sampling: a + (b − a)/2·[(1 + β)r₁ + (1 − β)r₂] with r₁, r₂ ~ U(0, 1)
    (JCGM 101 §6.4.4.4).
    """

    kind: ClassVar[str] = "trapezoidal"
    low: float
    high: float
    beta: float

    def __init__(self, low: float, high: float, beta: float) -> None:
        a, b, be = _finite("low", low), _finite("high", high), _finite("beta", beta)
        if not a < b:
            raise DistributionError(f"'low' must be < 'high', got low={low!r}, high={high!r}")
        if not 0.0 <= be <= 1.0:
            raise DistributionError(f"'beta' must lie in [0, 1], got {beta!r}")
        object.__setattr__(self, "low", a)
        object.__setattr__(self, "high", b)
        object.__setattr__(self, "beta", be)

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def std(self) -> float:
        return (self.high - self.low) * math.sqrt((1.0 + self.beta**2) / 24.0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        r = rng.random((2, size))
        half = 0.5 * (self.high - self.low)
        return self.low + half * ((1.0 + self.beta) * r[0] + (1.0 - self.beta) * r[1])

    def ppf(self, q: np.ndarray) -> np.ndarray:
        c, d = (1.0 - self.beta) / 2.0, (1.0 + self.beta) / 2.0
        return stats.trapezoid.ppf(q, c, d, loc=self.low, scale=self.high - self.low)

    def params(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high, "beta": self.beta}


@dataclass(frozen=True, slots=True)
class Arcsine(Distribution):
    """Arc-sine (U-shaped) on [low, high] (反正弦分布), JCGM 101 §6.4.6; u = (b − a)/√8.

    Sampling (JCGM 101 §6.4.6.4): (a + b)/2 + (b − a)/2·sin(2πr), r ~ U(0, 1).
    """

    kind: ClassVar[str] = "arcsine"
    low: float
    high: float

    def __init__(self, low: float, high: float) -> None:
        a, b = _bounds(low, high)
        object.__setattr__(self, "low", a)
        object.__setattr__(self, "high", b)

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def std(self) -> float:
        return (self.high - self.low) / math.sqrt(8.0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.mean + 0.5 * (self.high - self.low) * np.sin(2.0 * np.pi * rng.random(size))

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.sin(0.5 * np.pi * np.asarray(q)) ** 2

    def params(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high}


@dataclass(frozen=True, slots=True)
class StudentT(Distribution):
    """Scaled and shifted *t* for a type A evaluation (t 分布, A 类评定), JCGM 101 §6.4.9.

    Parameters
    ----------
    mean : float
        Location x̄ (arithmetic mean of n indications) [unit].
    scale : float
        s/√n, the GUM standard uncertainty of the mean [unit].
    dof : float
        ν = n − 1.

    Notes
    -----
    The law of propagation uses u = s/√n with ν degrees of freedom (GUM §4.2, G.4), while the
    distribution's own standard deviation is s/√n·√(ν/(ν − 2)) (infinite for ν ≤ 2; JCGM 101
    §6.4.9.4). Both views are kept: ``u`` vs ``std``.
    """

    kind: ClassVar[str] = "t"
    mean_: float
    scale: float
    dof_: float

    def __init__(self, mean: float, scale: float, dof: float) -> None:
        m, s = _finite("mean", mean), _finite("std", scale)
        if s < 0:
            raise DistributionError(f"parameter 'std' (scale s/√n) must be ≥ 0, got {scale!r}")
        d = _check_dof(dof)
        object.__setattr__(self, "mean_", m)
        object.__setattr__(self, "scale", s)
        object.__setattr__(self, "dof_", d)

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def u(self) -> float:
        return self.scale

    @property
    def std(self) -> float:
        if self.dof_ <= 2:
            return math.inf
        return self.scale * math.sqrt(self.dof_ / (self.dof_ - 2.0))

    @property
    def dof(self) -> float:
        return self.dof_

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if math.isinf(self.dof_):
            return self.mean_ + self.scale * rng.standard_normal(size)
        return self.mean_ + self.scale * rng.standard_t(self.dof_, size)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return self.mean_ + self.scale * stats.t.ppf(q, self.dof_)

    def params(self) -> dict[str, float]:
        return {"mean": self.mean_, "std": self.scale, "dof": self.dof_}


@dataclass(frozen=True, slots=True)
class Lognormal(Distribution):
    """Log-normal given the mean and standard deviation of the quantity itself (对数正态分布).

    .. math:: \\sigma_{\\ln}^2 = \\ln(1 + (s/m)^2), \\quad \\mu_{\\ln} = \\ln m - \\sigma_{\\ln}^2/2

    Commonly used for emission factors (IPCC 2006 Vol. 1 Ch. 3 §3.2.2); not in the JCGM 101
    table, which is why it is parameterised by the moments the GUF needs.
    """

    kind: ClassVar[str] = "lognormal"
    mean_: float
    std_: float

    def __init__(self, mean: float, std: float) -> None:
        m, s = _finite("mean", mean), _finite("std", std)
        if m <= 0:
            raise DistributionError(f"lognormal 'mean' must be > 0, got {mean!r}")
        if s < 0:
            raise DistributionError(f"parameter 'std' must be ≥ 0, got {std!r}")
        object.__setattr__(self, "mean_", m)
        object.__setattr__(self, "std_", s)

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def std(self) -> float:
        return self.std_

    @property
    def sigma_ln(self) -> float:
        return math.sqrt(math.log1p((self.std_ / self.mean_) ** 2))

    @property
    def mu_ln(self) -> float:
        return math.log(self.mean_) - 0.5 * self.sigma_ln**2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.exp(self.mu_ln + self.sigma_ln * rng.standard_normal(size))

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return np.exp(self.mu_ln + self.sigma_ln * special.ndtri(q))

    def from_standard_normal(self, z: np.ndarray) -> np.ndarray:
        return np.exp(self.mu_ln + self.sigma_ln * z)

    def params(self) -> dict[str, float]:
        return {"mean": self.mean_, "std": self.std_}


@dataclass(frozen=True, slots=True)
class Exponential(Distribution):
    """Exponential for a non-negative quantity of which only the mean is known (指数分布).

    JCGM 101 §6.4.10: u = mean; sampling −mean·ln r.
    """

    kind: ClassVar[str] = "exponential"
    mean_: float

    def __init__(self, mean: float) -> None:
        m = _finite("mean", mean)
        if m <= 0:
            raise DistributionError(f"exponential 'mean' must be > 0, got {mean!r}")
        object.__setattr__(self, "mean_", m)

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def std(self) -> float:
        return self.mean_

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.mean_ * rng.standard_exponential(size)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return -self.mean_ * np.log1p(-np.asarray(q))

    def params(self) -> dict[str, float]:
        return {"mean": self.mean_}


@dataclass(frozen=True, slots=True)
class Constant(Distribution):
    """An exactly known value (常数), u = 0."""

    kind: ClassVar[str] = "constant"
    value: float

    def __init__(self, value: float) -> None:
        object.__setattr__(self, "value", _finite("value", value))

    @property
    def mean(self) -> float:
        return self.value

    @property
    def std(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return np.full(np.shape(q), self.value)

    def params(self) -> dict[str, float]:
        return {"value": self.value}


# --- shorthands from certificates and data ------------------------------------------------------


def normal_from_expanded(value: float, U: float, k: float = 2.0, dof: float = math.inf) -> Normal:
    """Normal input from a certificate statement "U = …, k = …" (u = U/k).

    Parameters
    ----------
    value : float
        Certified value [unit].
    U : float
        Expanded uncertainty [unit], ≥ 0.
    k : float
        Coverage factor [-], > 0.
    dof : float
        Effective degrees of freedom if the certificate states them.

    References
    ----------
    GUM §6.2 / JJF 1059.1-2012 §4.3.3.2 (u = U/k for a normal distribution).
    """
    Uv, kv = _finite("U", U), _finite("k", k)
    if Uv < 0:
        raise DistributionError(f"parameter 'U' must be ≥ 0, got {U!r}")
    if kv <= 0:
        raise DistributionError(f"parameter 'k' must be > 0, got {k!r}")
    return Normal(value, Uv / kv, dof)


def rectangular_from_mpe(value: float, mpe: float) -> Rectangular:
    """Rectangular input from a maximum permissible error ±MPE (最大允许误差) around ``value``.

    u = :func:`carbonmet.quantities.mpe_standard_uncertainty` (MPE/√3, the one MPE rule;
    JJF 1059.1-2012 §4.3.3.4, GUM §4.3.7), then half-width √3·u.
    """
    _finite("value", value)
    a = _finite("mpe", mpe)
    if a <= 0:
        raise DistributionError(f"parameter 'mpe' must be > 0, got {mpe!r}")
    d = distribution_from_u(value, mpe_standard_uncertainty(a), "rectangular")
    assert isinstance(d, Rectangular)
    return d


_SQRT3, _SQRT6 = math.sqrt(3.0), math.sqrt(6.0)


def distribution_from_u(value: float, u: float, shape: str = "normal", dof: float = math.inf) -> Distribution:
    """Distribution with expectation ``value`` and standard uncertainty ``u`` of a given shape.

    The one place a (value, u, shape) triple — a :class:`carbonmet.quantities.MeasuredQuantity` —
    becomes a distribution:

    * ``"normal"``: N(value, u²), carrying ``dof`` for Welch–Satterthwaite (GUM §4.3.4);
    * ``"rectangular"``: uniform on value ± √3·u (GUM §4.3.7, JJF 1059.1-2012 §4.3.3.4);
    * ``"triangular"``: symmetric triangular on value ± √6·u (GUM §4.3.9);
    * ``"t"``: scaled and shifted t with scale u and ν = ``dof`` (JCGM 101 §6.4.9).

    A zero ``u`` gives a :class:`Constant` for every shape.

    Parameters
    ----------
    value : float
        Expectation [unit of the quantity].
    u : float
        Standard uncertainty [unit of the quantity], finite and ≥ 0.
    shape : str
        One of the shapes above (aliases of :func:`distribution_from_params` accepted).
    dof : float
        Degrees of freedom of ``u`` (∞ for full knowledge).

    Raises
    ------
    DistributionError
        ``u`` is nan, infinite or negative, or the shape is unknown.
    """
    v = _finite("value", value)
    uv = _finite("u", u)
    if uv < 0:
        raise DistributionError(f"parameter 'u' must be ≥ 0, got {u!r}")
    canon = _KINDS.get(str(shape).strip().lower())
    if canon not in ("normal", "rectangular", "triangular", "t"):
        raise DistributionError(f"shape {shape!r} is not one of normal, rectangular, triangular, t")
    if uv == 0.0:
        return Constant(v)
    if canon == "normal":
        return Normal(v, uv, dof)
    if canon == "rectangular":
        return Rectangular(v - _SQRT3 * uv, v + _SQRT3 * uv)
    if canon == "triangular":
        return Triangular(v - _SQRT6 * uv, v + _SQRT6 * uv)
    return StudentT(v, uv, dof)


def type_a(data: Sequence[float] | np.ndarray) -> StudentT:
    """Type A evaluation of the mean of n repeated indications (A 类评定).

    Returns the scaled-shifted t with location x̄, scale s/√n and ν = n − 1
    (GUM §4.2.3, JCGM 101 §6.4.9).
    """
    x = np.asarray(data, dtype=float)
    if x.ndim != 1 or x.size < 2:
        raise DistributionError(f"a type A evaluation needs at least 2 values, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise DistributionError("type A data contain non-finite values")
    n = x.size
    return StudentT(float(x.mean()), float(x.std(ddof=1) / math.sqrt(n)), n - 1)


# --- construction from a parameter table (model files, APIs) ------------------------------------

_KINDS: dict[str, str] = {
    "normal": "normal",
    "gaussian": "normal",
    "rectangular": "rectangular",
    "uniform": "rectangular",
    "triangular": "triangular",
    "trapezoidal": "trapezoidal",
    "arcsine": "arcsine",
    "u-shaped": "arcsine",
    "t": "t",
    "student_t": "t",
    "student-t": "t",
    "type_a": "t",
    "lognormal": "lognormal",
    "exponential": "exponential",
    "constant": "constant",
}

#: accepted parameter sets per distribution (first matching set wins)
PARAMETER_SETS: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {
    # (required, optional)
    "normal": [(("mean", "std"), ("dof",)), (("value", "U"), ("k", "dof"))],
    "rectangular": [(("low", "high"), ()), (("value", "mpe"), ()), (("value", "halfwidth"), ())],
    "triangular": [(("low", "high"), ("mode",))],
    "trapezoidal": [(("low", "high", "beta"), ())],
    "arcsine": [(("low", "high"), ())],
    "t": [(("mean", "std", "dof"), ()), (("data",), ())],
    "lognormal": [(("mean", "std"), ())],
    "exponential": [(("mean",), ())],
    "constant": [(("value",), ())],
}


def known_distributions() -> list[str]:
    """Names accepted by :func:`distribution_from_params` (including aliases)."""
    return sorted(_KINDS)


def distribution_from_params(kind: str, params: Mapping[str, Any]) -> Distribution:
    """Build a distribution from its name and a parameter mapping.

    Raises
    ------
    DistributionError
        Unknown distribution, missing or unexpected parameter, or impossible values; the message
        names the parameter.
    """
    canon = _KINDS.get(str(kind).strip().lower())
    if canon is None:
        raise DistributionError(
            f"unknown distribution '{kind}'; known: {', '.join(sorted(set(_KINDS.values())))}"
        )
    given = set(params)
    chosen: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    for required, optional in PARAMETER_SETS[canon]:
        if set(required) <= given:
            chosen = (required, optional)
            break
    if chosen is None:
        forms = " or ".join("/".join(r) for r, _ in PARAMETER_SETS[canon])
        # report against the parameter set the user evidently meant (largest overlap)
        best = max(PARAMETER_SETS[canon], key=lambda ro: len(given & (set(ro[0]) | set(ro[1]))))[0]
        missing = [p for p in best if p not in given]
        raise DistributionError(f"{canon} distribution: missing parameter '{missing[0]}' (give {forms})")
    required, optional = chosen
    extra = given - set(required) - set(optional)
    if extra:
        raise DistributionError(f"{canon} distribution: unexpected parameter '{min(extra)}'")
    p = dict(params)
    if canon == "normal":
        if "mean" in p:
            return Normal(p["mean"], p["std"], p.get("dof", math.inf))
        return normal_from_expanded(p["value"], p["U"], p.get("k", 2.0), p.get("dof", math.inf))
    if canon == "rectangular":
        if "low" in p:
            return Rectangular(p["low"], p["high"])
        if "mpe" in p:
            return rectangular_from_mpe(p["value"], p["mpe"])
        v, a = _finite("value", p["value"]), _finite("halfwidth", p["halfwidth"])
        if a <= 0:
            raise DistributionError(f"parameter 'halfwidth' must be > 0, got {p['halfwidth']!r}")
        return Rectangular(v - a, v + a)
    if canon == "triangular":
        return Triangular(p["low"], p["high"], p.get("mode"))
    if canon == "trapezoidal":
        return Trapezoidal(p["low"], p["high"], p["beta"])
    if canon == "arcsine":
        return Arcsine(p["low"], p["high"])
    if canon == "t":
        if "data" in p:
            if not isinstance(p["data"], (list, tuple)):
                raise DistributionError("parameter 'data' must be a list of numbers")
            return type_a([_finite("data", v) for v in p["data"]])
        return StudentT(p["mean"], p["std"], p["dof"])
    if canon == "lognormal":
        return Lognormal(p["mean"], p["std"])
    if canon == "exponential":
        return Exponential(p["mean"])
    return Constant(p["value"])
