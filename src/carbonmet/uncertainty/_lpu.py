"""GUM uncertainty framework: law of propagation of uncertainty (不确定度传播律, LPU/GUF).

References
----------
JCGM 100:2008 (GUM) §5.1 (uncorrelated), §5.2 (correlated), §6 (expanded uncertainty), Annex G
(Welch–Satterthwaite, G.4.1; coverage factor from the t-distribution, G.3); JJF 1059.1-2012 §5–§6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from scipy import stats

from carbonmet.quantities import MeasuredQuantity, Provenance, Source

from ._errors import EvaluationError, UncertaintyError
from ._model import InputSet, Model

__all__ = ["BudgetRow", "LpuResult", "coverage_factor", "lpu", "welch_satterthwaite"]


@dataclass(frozen=True, slots=True)
class BudgetRow:
    """One line of an uncertainty budget (不确定度分量一览表).

    Attributes
    ----------
    input : str
        Input id.
    distribution : str
        Distribution with parameters, e.g. ``normal(mean=1, std=0.1)``.
    estimate : float
        x_i [unit of the input].
    u : float
        u(x_i) [unit of the input].
    dof : float
        ν_i (inf for type B with full knowledge).
    sensitivity : float
        c_i = ∂f/∂x_i at the estimates [output unit / input unit].
    u_contribution : float
        u_i(y) = |c_i|·u(x_i) [output unit].
    variance_share : float
        (c_i u(x_i))² / u_c²(y) [-]; shares sum to 1 when there are no correlations (the
        covariance part is reported separately in :attr:`LpuResult.u_covariance_part`).
    provenance : Provenance or None
        Instruments, certificates and period the input came from (inputs added with
        :meth:`InputSet.add_quantity`), else ``None``.
    """

    input: str
    distribution: str
    estimate: float
    u: float
    dof: float
    sensitivity: float
    u_contribution: float
    variance_share: float
    provenance: Provenance | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {
            "input": self.input,
            "distribution": self.distribution,
            "estimate": self.estimate,
            "u": self.u,
            "dof": None if math.isinf(self.dof) else self.dof,
            "sensitivity": self.sensitivity,
            "u_contribution": self.u_contribution,
            "variance_share": self.variance_share,
        }
        if self.provenance is not None:
            d["provenance"] = self.provenance.to_dict()
        return d


@dataclass(frozen=True)
class LpuResult:
    """Result of the GUM uncertainty framework for one output.

    Attributes
    ----------
    output, unit : str
        Measurand name and unit.
    value : float
        y = f(x) at the input estimates.
    u : float
        Combined standard uncertainty u_c(y) (合成标准不确定度).
    k : float
        Coverage factor (包含因子) for ``coverage``.
    U : float
        Expanded uncertainty U = k·u_c (扩展不确定度).
    dof : float
        Effective degrees of freedom ν_eff, truncated to an integer as GUM G.4.1 prescribes
        (inf when every contributing input has infinite dof).
    dof_raw : float
        ν_eff before truncation.
    coverage : float
        Coverage probability p.
    inputs : tuple of str
        Input ids in budget order.
    sensitivities, u_inputs, estimates, dof_inputs : ndarray
        Per input, aligned with ``inputs``.
    correlations : tuple of (str, str, float)
        Correlations among the inputs that entered u_c.
    budget : list of BudgetRow
    u_covariance_part : float
        2 Σ_{i<j} c_i c_j u_i u_j r_ij (may be negative).
    notes : list of str
        Caveats (e.g. correlated inputs with finite dof for Welch–Satterthwaite).
    input_set : InputSet or None
        The input set the model was evaluated over; :func:`~carbonmet.uncertainty.compare` reads
        correlations between inputs of *different* models sharing it from here.
    """

    output: str
    unit: str
    value: float
    u: float
    k: float
    U: float
    dof: float
    dof_raw: float
    coverage: float
    inputs: tuple[str, ...]
    sensitivities: np.ndarray = field(repr=False)
    u_inputs: np.ndarray = field(repr=False)
    estimates: np.ndarray = field(repr=False)
    dof_inputs: np.ndarray = field(repr=False)
    correlations: tuple[tuple[str, str, float], ...] = ()
    u_covariance_part: float = 0.0
    notes: list[str] = field(default_factory=list)
    distributions: tuple[str, ...] | None = field(default=None, repr=False)
    _describe: Any = field(default=None, repr=False, compare=False)
    input_set: InputSet | None = field(default=None, repr=False, compare=False)

    @cached_property
    def budget(self) -> list[BudgetRow]:
        """Per-input budget rows (built on first access; model input order)."""
        var = self.u**2
        contrib = np.abs(self.sensitivities) * self.u_inputs
        shares = contrib**2 / var if var > 0 else np.zeros_like(contrib)
        descr = self.distributions or (self._describe() if self._describe else ("",) * len(self.inputs))
        iset = self.input_set
        return [
            BudgetRow(
                input=name,
                distribution=descr[i],
                estimate=float(self.estimates[i]),
                u=float(self.u_inputs[i]),
                dof=float(self.dof_inputs[i]),
                sensitivity=float(self.sensitivities[i]),
                u_contribution=float(contrib[i]),
                variance_share=float(shares[i]),
                provenance=iset[name].provenance if iset is not None and name in iset else None,
            )
            for i, name in enumerate(self.inputs)
        ]

    @property
    def interval(self) -> tuple[float, float]:
        """Coverage interval y ± U."""
        return (self.value - self.U, self.value + self.U)

    def to_dict(self) -> dict[str, Any]:
        """The ``lpu`` object of the CLI JSON (inf dof as ``null``)."""
        return {
            "output": self.output,
            "unit": self.unit,
            "value": self.value,
            "u": self.u,
            "U": self.U,
            "k": self.k,
            "dof": None if math.isinf(self.dof) else self.dof,
            "coverage": self.coverage,
            "interval": list(self.interval),
        }

    def to_measured_quantity(self, provenance: Provenance | None = None) -> MeasuredQuantity:
        """The result as a :class:`~carbonmet.quantities.MeasuredQuantity` (source: calculated).

        Unless ``provenance`` is given, the instruments and certificates of the inputs that came
        from measured quantities are carried on (in input order, each once).
        """
        instruments: dict[str, None] = {}
        certificates: dict[str, None] = {}
        if self.input_set is not None:
            for name in self.inputs:
                p = self.input_set[name].provenance if name in self.input_set else None
                if p is not None:
                    instruments.update(dict.fromkeys(p.instruments))
                    certificates.update(dict.fromkeys(p.certificates))
        prov = provenance or Provenance(
            source=Source.CALCULATED,
            instruments=tuple(instruments),
            certificates=tuple(certificates),
            method="GUM law of propagation (JCGM 100:2008 §5; JJF 1059.1-2012)",
            inputs=self.inputs,
        )
        return MeasuredQuantity(
            value=self.value,
            unit=self.unit or "",
            u=self.u,
            dof=self.dof if self.dof > 0 else math.inf,
            provenance=prov,
            name=self.output,
        )


def welch_satterthwaite(contributions: np.ndarray, dofs: np.ndarray, u_c: float) -> float:
    """Effective degrees of freedom (有效自由度), GUM G.4.1 / JJF 1059.1-2012 §6.3.

    .. math:: \\nu_{eff} = \\frac{u_c^4(y)}{\\sum_i u_i^4(y)/\\nu_i}

    Parameters
    ----------
    contributions : ndarray
        u_i(y) = |c_i| u(x_i) [output unit].
    dofs : ndarray
        ν_i; infinite entries drop out.
    u_c : float
        Combined standard uncertainty [output unit].

    Returns
    -------
    float
        ν_eff (not truncated); ``inf`` when no finite-dof input contributes.
    """
    finite = np.isfinite(dofs) & (contributions > 0)
    if u_c <= 0 or not np.any(finite):
        return math.inf
    den = float(np.sum(contributions[finite] ** 4 / dofs[finite]))
    if den <= 0:
        return math.inf
    return u_c**4 / den


def coverage_factor(coverage: float, dof: float = math.inf) -> float:
    """k_p = t_p(ν) for a two-sided coverage probability p (GUM G.3.4, table G.2).

    ``dof`` is used as given (pass the truncated ν_eff); ``inf`` gives the normal quantile.
    """
    if not 0.0 < coverage < 1.0:
        raise UncertaintyError(f"coverage probability must lie in (0, 1), got {coverage}")
    q = 0.5 * (1.0 + coverage)
    if math.isinf(dof):
        return float(stats.norm.ppf(q))
    return float(stats.t.ppf(q, max(dof, 1.0)))


def lpu(model: Model, coverage: float = 0.95, k: float | None = None) -> LpuResult:
    """Evaluate a model by the GUM law of propagation of uncertainty.

    Parameters
    ----------
    model : Model
        The measurement model.
    coverage : float
        Coverage probability p [-] (default 0.95).
    k : float, optional
        Fixed coverage factor (e.g. 2 as JJF 1059.1 usually reports); by default
        k = t_p(ν_eff) with ν_eff truncated to an integer (GUM G.4.1, G.6.4).

    Returns
    -------
    LpuResult

    Notes
    -----
    .. math:: u_c^2(y) = \\sum_i c_i^2 u^2(x_i) + 2\\sum_{i<j} c_i c_j u(x_i) u(x_j) r(x_i, x_j)

    with c_i = ∂f/∂x_i evaluated exactly by automatic differentiation at the estimates
    (GUM §5.1.2, §5.2.2). First-order only: for strongly non-linear models use the Monte Carlo
    method and :func:`~carbonmet.uncertainty.validate_lpu` (JCGM 101 §8).
    """
    if not 0.0 < coverage < 1.0:
        raise UncertaintyError(f"coverage probability must lie in (0, 1), got {coverage}")
    x = model.estimates()
    u_in = model.standard_uncertainties()
    nu = model.degrees_of_freedom()
    y, c = model.value_and_gradient(x)
    if not math.isfinite(y):
        where = model.source + ": " if model.source else ""
        detail = ""
        if model.expression is not None:
            diag = model.expression.diagnose(x)
            if diag:
                detail = f"; first non-finite at '{diag[0]}' (position {diag[1]})"
        raise EvaluationError(f"{where}model '{model.output}' is not finite at the input estimates{detail}")
    bad = ~np.isfinite(c) & (u_in > 0)
    if np.any(bad):
        names = [model.names[i] for i in np.flatnonzero(bad)[:5]]
        raise EvaluationError(
            f"sensitivity coefficient of '{model.output}' to {', '.join(names)} is not finite at the estimates "
            "(model not differentiable there; use the Monte Carlo method)"
        )
    c = np.where(np.isfinite(c), c, 0.0)
    contrib = np.abs(c) * u_in
    with np.errstate(over="ignore"):  # an overflow is reported below as a non-finite u_c
        var_diag = float(np.sum(contrib**2))
    cov_part = 0.0
    pairs = model.correlation_pairs()
    for i, j, r in pairs:
        cov_part += 2.0 * c[i] * c[j] * u_in[i] * u_in[j] * r
    var = var_diag + cov_part
    if var < 0 and var > -1e-12 * max(var_diag, 1e-300):
        var = 0.0
    if var < 0:
        raise UncertaintyError(
            f"combined variance of '{model.output}' is negative ({var:.3g}): the correlation matrix is not "
            "positive semi-definite"
        )
    u_c = math.sqrt(var)
    if not math.isfinite(u_c):
        where = model.source + ": " if model.source else ""
        big = [model.names[i] for i in np.argsort(-np.abs(contrib))[:3] if not contrib[i] < 1e154]
        raise EvaluationError(
            f"{where}combined standard uncertainty of '{model.output}' is not finite (overflow"
            + (f" in the contribution of {', '.join(big)}" if big else "")
            + "); rescale the model or use the Monte Carlo method"
        )
    notes: list[str] = []
    dof_raw = welch_satterthwaite(contrib, nu, u_c)
    if pairs and any(math.isfinite(nu[i]) or math.isfinite(nu[j]) for i, j, _ in pairs):
        notes.append(
            "Welch–Satterthwaite (GUM G.4.1) assumes independent inputs; some correlated inputs have "
            "finite degrees of freedom, so ν_eff is approximate."
        )
    zero = np.flatnonzero((c == 0.0) & (u_in > 0))
    if zero.size:
        zero_names = ", ".join(model.names[i] for i in zero[:5]) + (", …" if zero.size > 5 else "")
        notes.append(
            f"sensitivity coefficient of '{model.output}' to {zero_names} is zero at the estimates although the "
            "input is uncertain (a stationary point, e.g. x**2 at x = 0); the first-order law of propagation "
            "leaves out its contribution (GUM §5.1.2 note: higher-order terms). Use the Monte Carlo method "
            "(JCGM 101). / 灵敏系数为零但输入量有不确定度，一阶传播律忽略其贡献，请用蒙特卡洛法。"
        )
    dof = math.inf if math.isinf(dof_raw) else float(max(1, math.floor(dof_raw)))
    kk = float(k) if k is not None else coverage_factor(coverage, dof)
    if kk <= 0:
        raise UncertaintyError(f"coverage factor must be > 0, got {k}")
    return LpuResult(
        output=model.output,
        unit=model.unit,
        value=float(y),
        u=u_c,
        k=kk,
        U=kk * u_c,
        dof=dof,
        dof_raw=dof_raw,
        coverage=coverage,
        inputs=model.names,
        sensitivities=c,
        u_inputs=u_in,
        estimates=x,
        dof_inputs=nu,
        correlations=tuple((model.names[i], model.names[j], r) for i, j, r in pairs),
        u_covariance_part=cov_part,
        notes=notes,
        _describe=lambda: tuple(d.describe() for d in model.distributions),
        input_set=model.inputs,
    )
