r"""The account as a multilinear model over named error terms (核算模型与不确定度).

Every source stream's emissions are written as

.. math:: E = \sum_j c_j \prod_{k \in K_j} (1 + \delta_k) \; + \; \sum_m \varepsilon_m

where ``c_j`` [tCO2] is one signed contribution (coal carbon in, product carbon out, …) computed from the
measured values, ``δ_k`` are *relative* corrections shared by everything one cause touched — the
systematic error of one instrument (all periods it measured), of one laboratory analyser (all samples
it analysed), of one default factor — and ``ε_m`` are *absolute*, independent random terms (sample
repeatability, substitution of gaps). Because a term is one name, a belt scale's error is fully
correlated across the twelve months and an analyser's across every sample: no √n shrinkage of the
systematic part (the point of issue #11 §4).

The law of propagation is exact to first order and analytic for this form (∂E/∂δ_k = Σ_{j∋k} c_j);
the Monte Carlo method evaluates the same function through :mod:`carbonmet.uncertainty`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from carbonmet.quantities import MeasuredQuantity, Provenance, Shape, Source
from carbonmet.uncertainty import Evaluation, InputSet, Model, evaluate

TermKind = Literal["instrument", "analyser", "sampling", "default", "supplier", "substitution", "legal_state",
                   "estimate"]


@dataclass(frozen=True, slots=True)
class Term:
    """A relative correction δ shared by every contribution one cause touched (one input of the model).

    Attributes
    ----------
    key : str
        Unique id, e.g. ``"instrument:E01-I0003"``, ``"default:GB/T 32151.10-2023/oxidation_rate/natural_gas"``.
    u : float
        Standard uncertainty of δ [-] (relative).
    shape : {"normal", "rectangular"}
        Rectangular: half-width √3·u (检定 MPE); normal: 校准 U/k, type A, defaults.
    kind : TermKind
    label : str
        What it is, for budgets (zh-CN first, English second).
    instruments, certificates : tuple of str
        Where it comes from (registry ids and certificate numbers).
    evidence : str
        Evidence mark of a default ("" for measured terms).
    note : str
    """

    key: str
    u: float
    shape: Literal["normal", "rectangular"] = "normal"
    kind: TermKind = "instrument"
    label: str = ""
    instruments: tuple[str, ...] = ()
    certificates: tuple[str, ...] = ()
    evidence: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Part:
    """One signed contribution ``c·Π(1+δ_k)`` of a stream, per period [tCO2]."""

    what: str
    values: np.ndarray  # [tCO2] per period, signed
    terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Noise:
    """An independent, zero-mean absolute term per period [tCO2] (repeatability, substitution)."""

    key: str
    u: np.ndarray  # [tCO2] standard uncertainty per period
    kind: TermKind = "sampling"
    label: str = ""


@dataclass
class StreamCalc:
    """A source stream as contributions, noises and the facts reported about it."""

    name: str
    kind: str
    parts: list[Part] = field(default_factory=list)
    noises: list[Noise] = field(default_factory=list)
    activity: dict[str, Any] = field(default_factory=dict)
    factor: dict[str, Any] = field(default_factory=dict)
    data_source: dict[str, Any] = field(default_factory=dict)
    tier: dict[str, Any] = field(default_factory=dict)
    flags: list[dict[str, Any]] = field(default_factory=list)
    valid: bool = True
    scope: Literal["direct", "indirect"] = "direct"

    def values(self, n: int) -> np.ndarray:
        """Emissions per period [tCO2]."""
        out = np.zeros(n)
        for p in self.parts:
            out += p.values
        return out


def _periods(streams: Sequence[StreamCalc]) -> int:
    for s in streams:
        for p in s.parts:
            return int(p.values.size)
    return 1


def sensitivities(streams: Sequence[StreamCalc], n: int) -> dict[str, np.ndarray]:
    """∂E/∂δ_k per period [tCO2] for every term the streams use (E = their sum)."""
    out: dict[str, np.ndarray] = {}
    for s in streams:
        for p in s.parts:
            for k in p.terms:
                out[k] = out.get(k, np.zeros(n)) + p.values
    return out


def lpu_per_period(streams: Sequence[StreamCalc], terms: dict[str, Term], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Value and standard uncertainty of the sum of ``streams`` per period and for the whole range.

    Returns
    -------
    (values, u)
        Arrays of length ``n + 1``: the periods, then the total over them [tCO2]. The total's u keeps
        every term correlated across periods (sensitivities add before squaring); noises are
        independent across periods.
    """
    val = np.zeros(n)
    for s in streams:
        val += s.values(n)
    var = np.zeros(n)
    var_tot = 0.0
    for k, c in sensitivities(streams, n).items():
        uk = terms[k].u
        var += (c * uk) ** 2
        var_tot += (float(c.sum()) * uk) ** 2
    for s in streams:
        for z in s.noises:
            var += z.u**2
            var_tot += float((z.u**2).sum())
    return np.append(val, val.sum()), np.sqrt(np.append(var, var_tot))


def contributions(streams: Sequence[StreamCalc], terms: dict[str, Term], n: int) -> list[tuple[str, float, float]]:
    """(key, sensitivity over the range [tCO2], u contribution [tCO2]) of every term and noise, largest first."""
    rows = [(k, float(c.sum()), abs(float(c.sum())) * terms[k].u) for k, c in sensitivities(streams, n).items()]
    for s in streams:
        for z in s.noises:
            rows.append((z.key, 1.0, float(np.sqrt((z.u**2).sum()))))
    return sorted(rows, key=lambda r: -r[2])


@dataclass(frozen=True, slots=True)
class Engine:
    """The account's total as a :class:`carbonmet.uncertainty.Model` and its evaluation."""

    model: Model
    names: dict[str, str]  # input id → term/noise key
    evaluation: Evaluation


def _quantity(t: Term) -> MeasuredQuantity:
    src = {"default": Source.DEFAULT, "substitution": Source.SUBSTITUTED, "supplier": Source.DECLARED,
           "estimate": Source.DECLARED}.get(t.kind, Source.MEASURED)
    prov = Provenance(source=src, instruments=t.instruments, certificates=t.certificates, method=t.kind,
                      note=(t.label + ("; " + t.note if t.note else "")))
    return MeasuredQuantity(value=0.0, unit="1", u=t.u, provenance=prov, name=t.key,
                            shape=Shape.RECTANGULAR if t.shape == "rectangular" else Shape.NORMAL)


def engine(streams: Sequence[StreamCalc], terms: dict[str, Term], *, method: Literal["lpu", "mcm", "both"] = "both",
           trials: int = 100_000, seed: int | None = 0, output: str = "E", coverage: float = 0.95) -> Engine:
    """Evaluate the sum of ``streams`` over the whole range by the uncertainty engine (LPU, MCM or both).

    Inputs are the relative corrections δ_k (shape as the term says) and one normal input per noise key
    with the noise's u summed in quadrature over the periods. The model function is
    ``Σ_j C_j Π_{k∈K_j}(1 + δ_k) + Σ_m ε_m`` with ``C_j`` the contribution over the range [tCO2].
    """
    n = _periods(streams)
    inputs = InputSet()
    names: dict[str, str] = {}
    ids: dict[str, str] = {}
    used = sensitivities(streams, n)
    for i, k in enumerate(sorted(used)):
        t = terms[k]
        nm = f"d{i}"
        if t.u > 0:
            inputs.add_quantity(nm, _quantity(t))
        else:
            inputs.add_quantity(nm, _quantity(Term(t.key, 0.0, "normal", t.kind, t.label)))
        names[nm], ids[k] = k, nm
    noise_u: dict[str, float] = {}
    noise_meta: dict[str, Noise] = {}
    for s in streams:
        for z in s.noises:
            noise_u[z.key] = math.sqrt(noise_u.get(z.key, 0.0) ** 2 + float((z.u**2).sum()))
            noise_meta[z.key] = z
    for j, (k, u) in enumerate(sorted(noise_u.items())):
        nm = f"e{j}"
        z = noise_meta[k]
        q = MeasuredQuantity(value=0.0, unit="t", u=u, name=k, shape=Shape.NORMAL,
                             provenance=Provenance(source=Source.MEASURED, method=z.kind, note=z.label))
        inputs.add_quantity(nm, q)
        names[nm], ids[k] = k, nm
    coeffs: list[tuple[float, tuple[str, ...]]] = []
    for s in streams:
        for p in s.parts:
            coeffs.append((float(p.values.sum()), tuple(ids[k] for k in p.terms)))
    noise_ids = [ids[k] for k in sorted(noise_u)]
    order = list(names)

    def f(**x: Any) -> Any:
        total: Any = 0.0
        for c, ks in coeffs:
            term: Any = c
            for k in ks:
                term = term * (1.0 + x[k])
            total = total + term
        for k in noise_ids:
            total = total + x[k]
        return total

    model = Model.from_function(f, inputs, names=order, output=output, unit="t")
    ev = evaluate(model, method, trials=trials, seed=seed, coverage=coverage)
    return Engine(model, names, ev)


def merge_terms(*groups: Iterable[Term]) -> dict[str, Term]:
    """Terms by key; one key given twice must be the same term (else ValueError naming it)."""
    out: dict[str, Term] = {}
    for g in groups:
        for t in g:
            old = out.get(t.key)
            if old is not None and (old.u != t.u or old.shape != t.shape):
                raise ValueError(f"term {t.key!r} given twice with different uncertainty ({old.u} vs {t.u})")
            out[t.key] = t
    return out
