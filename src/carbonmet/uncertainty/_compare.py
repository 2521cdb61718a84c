"""Comparison of two results: normalised error E_n and ζ score (比对: 归一化偏差 E_n, ζ 值).

When the two results share inputs (the same flow meter in a CEMS figure and in an accounting
figure), the difference's uncertainty must subtract their covariance; treating them as
independent overstates u(d). The covariance is computed from the sensitivity coefficients
and input uncertainties/correlations kept in each :class:`LpuResult`:

.. math:: \\mathrm{cov}(y_a, y_b) = \\sum_i \\sum_j c_{a,i}\\, c_{b,j}\\, u(x_i) u(x_j) r(x_i, x_j)

References
----------
ISO 13528:2022 §9.7 (E_n), §9.6 (ζ); JJF 1117-2010《计量比对》(归一化偏差 E_n); GUM §5.2 (covariance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from carbonmet.quantities import MeasuredQuantity

from ._errors import UncertaintyError
from ._lpu import LpuResult
from ._mcm import McmResult

__all__ = ["Comparison", "compare", "covariance", "en_score", "zeta_score"]


def en_score(x: float, U_x: float, y: float, U_y: float, U_cov: float = 0.0) -> float:
    """E_n = (x − y)/√(U_x² + U_y² − 2·U_cov) with **expanded** uncertainties [-].

    ``U_cov`` is k_x·k_y·cov(x, y) for correlated results. |E_n| ≤ 1 is satisfactory.
    """
    den = U_x**2 + U_y**2 - 2.0 * U_cov
    if den <= 0:
        raise UncertaintyError("E_n undefined: the difference has zero (or negative) expanded uncertainty")
    return (x - y) / math.sqrt(den)


def zeta_score(x: float, u_x: float, y: float, u_y: float, cov: float = 0.0) -> float:
    """ζ = (x − y)/√(u_x² + u_y² − 2·cov) with **standard** uncertainties [-].

    |ζ| ≤ 2 satisfactory, 2 < |ζ| < 3 warning, |ζ| ≥ 3 action (ISO 13528 §9.6).
    """
    den = u_x**2 + u_y**2 - 2.0 * cov
    if den <= 0:
        raise UncertaintyError("ζ undefined: the difference has zero (or negative) standard uncertainty")
    return (x - y) / math.sqrt(den)


def covariance(a: LpuResult, b: LpuResult) -> float:
    """cov(y_a, y_b) induced by the inputs the two results share (or that are correlated).

    When both results were evaluated over the same :class:`InputSet`, every correlation it
    declares among the union of their inputs counts — including one between an input used only
    by ``a`` and an input used only by ``b`` (GUM §5.2.2). Otherwise only the correlations each
    result carries are known.
    """
    ids = list(dict.fromkeys(a.inputs + b.inputs))
    pos = {n: i for i, n in enumerate(ids)}
    n = len(ids)
    ca, cb, u = np.zeros(n), np.zeros(n), np.full(n, np.nan)
    for res, c in ((a, ca), (b, cb)):
        for name, ci, ui in zip(res.inputs, res.sensitivities, res.u_inputs, strict=True):
            k = pos[name]
            c[k] = ci
            if not math.isnan(u[k]) and not math.isclose(u[k], ui, rel_tol=1e-12, abs_tol=0.0):
                raise UncertaintyError(
                    f"input '{name}' has u = {u[k]:.6g} in one result and {ui:.6g} in the other; "
                    "shared inputs must be the same quantity"
                )
            u[k] = ui
    cov = float(np.sum(ca * cb * u**2))
    # correlations between an input of one model and an input of the other live only in the
    # shared input set (each result's own list holds pairs inside its model)
    iset = a.input_set if (a.input_set is not None and a.input_set is b.input_set) else None
    pairs = list(iset.pairs_among(ids)) if iset is not None else list(a.correlations + b.correlations)
    seen: set[tuple[str, str]] = set()
    for p, q, r in pairs:
        key = (p, q) if p < q else (q, p)
        if key in seen:
            continue
        seen.add(key)
        i, j = pos[p], pos[q]
        cov += r * u[i] * u[j] * (ca[i] * cb[j] + ca[j] * cb[i])
    return cov


@dataclass(frozen=True, slots=True)
class Comparison:
    """E_n and ζ of result a against result b.

    Attributes
    ----------
    difference : float
        d = y_a − y_b.
    u_difference : float
        u(d) = √(u_a² + u_b² − 2 cov).
    covariance : float
        cov(y_a, y_b) from shared inputs (0 when nothing is shared).
    en : float
        E_n with expanded uncertainties U_a, U_b (and k_a k_b cov).
    zeta : float
        ζ with standard uncertainties.
    en_satisfactory : bool
        |E_n| ≤ 1.
    zeta_verdict : str
        'satisfactory' (|ζ| ≤ 2), 'warning' (2 < |ζ| < 3) or 'action' (|ζ| ≥ 3).
    """

    difference: float
    u_difference: float
    covariance: float
    en: float
    zeta: float
    en_satisfactory: bool
    zeta_verdict: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "difference": self.difference,
            "u_difference": self.u_difference,
            "covariance": self.covariance,
            "en": self.en,
            "zeta": self.zeta,
            "en_satisfactory": self.en_satisfactory,
            "zeta_verdict": self.zeta_verdict,
        }


def _parts(r: LpuResult | McmResult | MeasuredQuantity, k: float) -> tuple[float, float, float]:
    if isinstance(r, LpuResult):
        return r.value, r.u, r.k
    if isinstance(r, McmResult):
        return r.value, r.u, k
    if isinstance(r, MeasuredQuantity):
        return r.value, r.u, k
    raise TypeError(f"cannot compare {type(r).__name__}")


def _input_info(r: LpuResult | McmResult | MeasuredQuantity) -> tuple[tuple[str, ...], Any]:
    if isinstance(r, (LpuResult, McmResult)):
        return tuple(r.inputs), r.input_set
    prov = getattr(r, "provenance", None)
    return tuple(getattr(prov, "inputs", ()) or ()), None


def _linked_inputs(
    a: LpuResult | McmResult | MeasuredQuantity, b: LpuResult | McmResult | MeasuredQuantity
) -> list[str]:
    """Input names shared by a and b, or pairs correlated in an input set they share."""
    na, ia = _input_info(a)
    nb, ib = _input_info(b)
    sa, sb = set(na), set(nb)
    out = sorted(sa & sb)
    if ia is not None and ia is ib:
        for p, q, r in ia.pairs_among(sa | sb):
            if r != 0.0 and ((p in sa and q in sb) or (q in sa and p in sb)) and p not in out:
                out.append(f"r({p}, {q})")
    return out


def compare(
    a: LpuResult | McmResult | MeasuredQuantity,
    b: LpuResult | McmResult | MeasuredQuantity,
    k: float = 2.0,
    shared: bool = True,
) -> Comparison:
    """Compare two results by E_n and ζ, subtracting the covariance of shared inputs.

    Parameters
    ----------
    a, b : LpuResult, McmResult or MeasuredQuantity
        The two results (same unit). Covariance is only available between two LpuResults; with
        ``shared=True`` any other pair that shares an input (same name in ``inputs`` or in the
        provenance's inputs) or correlates inputs of one shared InputSet raises
        :class:`UncertaintyError` rather than silently treating them as independent.
    k : float
        Coverage factor for results that do not carry one (MCM results, measured quantities).
    shared : bool
        Subtract the covariance of shared/correlated inputs (default). ``False`` treats the two
        as independent.
    """
    xa, ua, ka = _parts(a, k)
    xb, ub, kb = _parts(b, k)
    if shared and isinstance(a, LpuResult) and isinstance(b, LpuResult):
        cov = covariance(a, b)
    else:
        cov = 0.0
        if shared:
            linked = _linked_inputs(a, b)
            if linked:
                raise UncertaintyError(
                    f"cannot compute the covariance of {type(a).__name__} and {type(b).__name__}: they share or "
                    f"correlate inputs ({', '.join(linked[:5])}), and only two LpuResults carry the sensitivities "
                    "it needs. Evaluate both by the law of propagation (lpu), or pass shared=False if the two "
                    "results are in fact independent. / 无法计算协方差：两结果共用或相关输入量。"
                )
    d = xa - xb
    var = ua**2 + ub**2 - 2.0 * cov
    u_d = math.sqrt(max(var, 0.0))
    en = en_score(xa, ka * ua, xb, kb * ub, ka * kb * cov)
    z = zeta_score(xa, ua, xb, ub, cov)
    az = abs(z)
    verdict = "satisfactory" if az <= 2 else "warning" if az < 3 else "action"
    return Comparison(d, u_d, cov, en, z, abs(en) <= 1.0, verdict)
