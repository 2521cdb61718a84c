r"""Carbon-balance data reconciliation (碳平衡数据协调) by weighted least squares, with gross-error tests.

The engine works over arrays only (no database, no files). A balance network is a set of nodes (process
units: gasification, synthesis, boiler …) and streams (carbon flows, e.g. in tC per period) between them or
across the plant boundary. Its incidence matrix :math:`A` (nodes × streams) holds :math:`+1` where a stream
enters a node and :math:`-1` where it leaves one; the true flows :math:`\mu` satisfy :math:`A\mu = 0`.

Measured streams :math:`x` (covariance :math:`\Sigma`, correlated meters allowed) and unmeasured streams
:math:`y` split the constraints into :math:`A_x x + A_y y = 0`. The unmeasured streams are removed by a
projection (Crowe et al. 1983): with :math:`P` an orthonormal basis of the left null space of :math:`A_y`
(from a pivoted QR decomposition), the reduced constraints :math:`B x = 0`, :math:`B = P A_x`, involve the
measured streams only; :math:`B` is reduced to full row rank :math:`k` (its SVD), the number of degrees of
freedom of the balance. Then (VDI 2048 Part 1 §7; Narasimhan & Jordache 2000, ch. 3):

.. math::

    r = B x,\qquad V = B\Sigma B^T,\qquad
    \hat x = x - \Sigma B^T V^{-1} r,\qquad
    \hat\Sigma = \Sigma - \Sigma B^T V^{-1} B \Sigma,

the global test :math:`\chi^2 = r^T V^{-1} r` with :math:`k` degrees of freedom, and the unmeasured streams
:math:`\hat y = -A_y^{+} A_x \hat x` where they are observable.

A measured stream is *redundant* when its column of :math:`B` is not zero: only then do the constraints
say anything about it, and only then can its meter be tested. The gross-error test for meter :math:`i` is
the generalised likelihood ratio (GLR) of "meter :math:`i` reads :math:`x_i = \mu_i + b`" against "no gross
error"; with the signature :math:`f_i = B e_i`,

.. math::

    T_i = \frac{(f_i^T V^{-1} r)^2}{f_i^T V^{-1} f_i} \sim \chi^2_1,\qquad
    \hat b_i = \frac{f_i^T V^{-1} r}{f_i^T V^{-1} f_i},\qquad u(\hat b_i) = (f_i^T V^{-1} f_i)^{-1/2}

(the maximum-power measurement test; it equals the squared standardised adjustment of VDI 2048 when
:math:`\Sigma` is diagonal). Meters whose signatures are parallel have identical statistics: the network
cannot tell them apart and they form an *equivalence set* (all meters of a single-node balance form one).
Identification is serial elimination: the meter with the largest :math:`T_i` above the Šidák-corrected
critical value is reported (named when its equivalence set has one member, otherwise the set is reported),
treated as unmeasured, and the test repeated.

References
----------
.. [1] VDI 2048 Blatt 1:2017, Control and quality improvement of process data and their uncertainties by
   means of correction calculation for operation and acceptance tests (Ausgleichsrechnung), §7–§8.
.. [2] S. Narasimhan, C. Jordache, *Data Reconciliation and Gross Error Detection*, Gulf Publishing, 2000,
   ch. 3 (linear reconciliation, projection), ch. 7 (GLR, measurement test, serial elimination, equivalent
   sets of gross errors).
.. [3] C. M. Crowe, Y. A. Garcia Campos, A. Hrymak, "Reconciliation of process flow rates by matrix
   projection. Part I: linear case", *AIChE J.* 29 (1983) 881–888.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ._balance_errors import BalanceError

__all__ = [
    "BalanceNetwork",
    "Closure",
    "GrossError",
    "PeriodReconciliation",
    "PersistentBias",
    "Reconciliation",
    "SankeyFlow",
    "Stream",
    "reconcile",
    "reconcile_periods",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_TOL = 1e-9  # rank and zero tolerance on matrices built from ±1 incidence entries (dimensionless)
_PARALLEL = 1e-9  # two signatures are parallel when 1 − |cos| is below this


# ----------------------------------------------------------------------------------------------- network


@dataclass(frozen=True)
class Stream:
    """One carbon stream of a balance network.

    Parameters
    ----------
    name : str
        Unique name of the stream (e.g. ``"feed_coal"``).
    source : str or None
        Node the stream leaves; ``None`` when it comes from outside the balance boundary (a plant input).
    target : str or None
        Node the stream enters; ``None`` when it leaves the balance boundary (a product, vent, stack …).
    measured : bool
        Whether the stream has a meter (measured value and uncertainty given to :func:`reconcile`).
    """

    name: str
    source: str | None
    target: str | None
    measured: bool = True


@dataclass(frozen=True, eq=False)
class BalanceNetwork:
    """Nodes and streams of a carbon balance (碳平衡网络) and their incidence matrix.

    Parameters
    ----------
    nodes : tuple of str
        Balance nodes (process units), in the order of the rows of :attr:`incidence`.
    streams : tuple of Stream
        Streams, in the order of the columns of :attr:`incidence`. Measured values are given in the order
        of :attr:`measured_names`.

    Raises
    ------
    BalanceError
        A duplicate node or stream name, a stream naming an unknown node, a stream with neither source nor
        target, or one whose source is its target.
    """

    nodes: tuple[str, ...]
    streams: tuple[Stream, ...]

    def __post_init__(self) -> None:
        nodes, streams = tuple(self.nodes), tuple(self.streams)
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "streams", streams)
        if not nodes:
            raise BalanceError("平衡网络没有节点 / network: the balance has no node")
        for kind, names in (("node", nodes), ("stream", tuple(s.name for s in streams))):
            seen: set[str] = set()
            for i, n in enumerate(names):
                if not isinstance(n, str) or not n:
                    raise BalanceError(f"{kind} 名称无效 / network: {kind} #{i} has no name (got {n!r})")
                if n in seen:
                    raise BalanceError(f"{kind} 名称重复 / network: {kind} name {n!r} appears twice (#{i})")
                seen.add(n)
        known = set(nodes)
        for i, s in enumerate(streams):
            if s.source is None and s.target is None:
                raise BalanceError(f"物流既无来源也无去向 / network: stream {s.name!r} (#{i}) touches no node")
            if s.source is not None and s.source == s.target:
                raise BalanceError(f"物流来源与去向相同 / network: stream {s.name!r} (#{i}) leaves and enters "
                                   f"node {s.source!r}")
            for end in ("source", "target"):
                node = getattr(s, end)
                if node is not None and node not in known:
                    raise BalanceError(f"未知节点 / network: stream {s.name!r} (#{i}) {end} {node!r} is not a "
                                       f"node of the network {list(nodes)}")

    @classmethod
    def from_incidence(cls, nodes: Sequence[str], names: Sequence[str], incidence: ArrayLike,
                       measured: Sequence[bool] | None = None) -> BalanceNetwork:
        """Build a network from an incidence matrix (+1 into a node, −1 out of it, at most one of each a column).

        Raises
        ------
        BalanceError
            The matrix has the wrong shape or a column that is not a stream between at most two nodes.
        """
        a = np.asarray(incidence, dtype=float)
        if a.shape != (len(nodes), len(names)):
            raise BalanceError(f"关联矩阵形状不符 / incidence: shape {a.shape}, expected "
                               f"({len(nodes)} nodes, {len(names)} streams)")
        flags = [True] * len(names) if measured is None else list(measured)
        if len(flags) != len(names):
            raise BalanceError(f"measured 长度不符 / measured: {len(flags)} flags for {len(names)} streams")
        streams = []
        for j, name in enumerate(names):
            col = a[:, j]
            ins, outs = np.flatnonzero(col == 1.0), np.flatnonzero(col == -1.0)
            if len(ins) + len(outs) != np.count_nonzero(col) or len(ins) > 1 or len(outs) > 1:
                raise BalanceError(f"关联矩阵列无效 / incidence: column {j} (stream {name!r}) must hold at most "
                                   f"one +1 and one −1, got {col.tolist()}")
            streams.append(Stream(name, nodes[outs[0]] if len(outs) else None,
                                  nodes[ins[0]] if len(ins) else None, bool(flags[j])))
        return cls(tuple(nodes), tuple(streams))

    @property
    def names(self) -> tuple[str, ...]:
        """Names of all streams, in column order."""
        return tuple(s.name for s in self.streams)

    @cached_property
    def measured(self) -> BoolArray:
        """Boolean mask over the streams: True where the stream is measured."""
        return np.array([s.measured for s in self.streams], dtype=bool)

    @property
    def measured_names(self) -> tuple[str, ...]:
        """Names of the measured streams: the order of ``x`` and ``cov`` in :func:`reconcile`."""
        return tuple(s.name for s in self.streams if s.measured)

    @cached_property
    def incidence(self) -> FloatArray:
        """Incidence matrix :math:`A` (nodes × streams): +1 where a stream enters a node, −1 where it leaves."""
        a = np.zeros((len(self.nodes), len(self.streams)))
        row = {n: i for i, n in enumerate(self.nodes)}
        for j, s in enumerate(self.streams):
            if s.target is not None:
                a[row[s.target], j] = 1.0
            if s.source is not None:
                a[row[s.source], j] = -1.0
        return a


# ------------------------------------------------------------------------------------ projection (Crowe)


@dataclass(frozen=True)
class _Reduction:
    """The measured-only constraints of a network with some streams unmeasured."""

    measured: BoolArray  # over all streams
    b: FloatArray  # k × n_measured, full row rank
    g: FloatArray  # p × n_measured: unmeasured estimate ŷ = G x̂ (observable rows only meaningful)
    observable: BoolArray  # p
    redundant: BoolArray  # n_measured
    classes: tuple[tuple[int, ...], ...]  # equivalence classes among redundant meters (indices into measured)


def _reduce(a: FloatArray, measured: BoolArray) -> _Reduction:
    """Project the unmeasured streams out of :math:`A` (pivoted QR, Crowe et al. 1983) and reduce to full rank."""
    ax, ay = a[:, measured], a[:, ~measured]
    m = a.shape[0]
    if ay.shape[1]:
        q, rr, _ = scipy.linalg.qr(ay, pivoting=True)
        d = np.abs(np.diag(rr)) if rr.size else np.zeros(0)
        rank_y = int(np.sum(d > _TOL * max(1.0, d.max(initial=0.0))))
        p = q[:, rank_y:].T
        # observability of the unmeasured streams: unique iff the null space of A_y has no component there
        _, sy, vty = np.linalg.svd(ay)
        null = vty[int(np.sum(sy > _TOL * max(1.0, sy.max(initial=0.0)))):].T
        observable = np.linalg.norm(null, axis=1) < 1e-7 if null.size else np.ones(ay.shape[1], dtype=bool)
        g = -np.linalg.pinv(ay) @ ax
    else:
        p = np.eye(m)
        observable = np.zeros(0, dtype=bool)
        g = np.zeros((0, ax.shape[1]))
    b0 = p @ ax
    if b0.size:
        u, s, _ = np.linalg.svd(b0, full_matrices=False)
        k = int(np.sum(s > _TOL * max(1.0, s.max(initial=0.0))))
        b = u[:, :k].T @ b0
    else:
        b = np.zeros((0, ax.shape[1]))
    b[np.abs(b) < _TOL] = 0.0
    norms = np.linalg.norm(b, axis=0)
    redundant = norms > 1e-7
    classes: list[tuple[int, ...]] = []
    idx = np.flatnonzero(redundant)
    if idx.size:
        unit = b[:, idx] / norms[idx]
        parallel = np.abs(unit.T @ unit) >= 1.0 - _PARALLEL
        done = np.zeros(idx.size, dtype=bool)
        for j in range(idx.size):
            if not done[j]:
                members = np.flatnonzero(parallel[j] & ~done)
                done[members] = True
                classes.append(tuple(int(idx[i]) for i in members))
    return _Reduction(measured.copy(), b, g, observable, redundant, tuple(classes))


# ----------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class GrossError:
    """One step of the serial-elimination gross-error identification (过失误差识别).

    Attributes
    ----------
    step : int
        1 for the first meter eliminated, 2 for the next …
    candidates : tuple of str
        The equivalence set of the meter with the largest statistic: meters the network cannot tell apart.
    named : str or None
        The meter at fault when the set has a single member; ``None`` when the network cannot distinguish.
    statistic : float
        GLR statistic :math:`T` (χ² with 1 degree of freedom under "no gross error").
    critical : float
        Critical value at the family-wise level ``alpha`` (Šidák over the distinct tests of that step).
    p_value : float
        Family-wise p-value, :math:`1-(1-p_1)^{n}` with :math:`p_1` the χ²₁ tail and :math:`n` the tests.
    bias : float
        Estimated gross error of each candidate (measured minus true), in flow units, same order as
        ``candidates``.
    u_bias : float
        Standard uncertainty of ``bias``, same order.
    """

    step: int
    candidates: tuple[str, ...]
    named: str | None
    statistic: float
    critical: float
    p_value: float
    bias: tuple[float, ...]
    u_bias: tuple[float, ...]

    @property
    def message(self) -> str:
        """Finding in Chinese first, English second."""
        if self.named is not None:
            return (f"第{self.step}步: 计量点 {self.named} 最可能存在过失误差 (偏差 {self.bias[0]:.4g} ± "
                    f"{self.u_bias[0]:.2g}, T = {self.statistic:.2f} > {self.critical:.2f}) / step {self.step}: "
                    f"meter {self.named} most likely at fault (bias {self.bias[0]:.4g} ± {self.u_bias[0]:.2g}, "
                    f"T = {self.statistic:.2f} > {self.critical:.2f})")
        names = ", ".join(self.candidates)
        return (f"第{self.step}步: 存在过失误差, 但本网络无法区分以下计量点: {names} (T = {self.statistic:.2f} > "
                f"{self.critical:.2f}) / step {self.step}: a gross error, but the network cannot tell apart "
                f"the meters {names} (T = {self.statistic:.2f} > {self.critical:.2f})")


@dataclass(frozen=True)
class SankeyFlow:
    """One end of a reconciled flow, for the carbon-flow diagram (碳流图).

    Attributes
    ----------
    name : str
        Stream name; the same name ``"out"`` of one node and ``"in"`` to another is an internal link.
    node : str
        The node at this end.
    direction : str
        ``"in"`` (enters ``node``) or ``"out"`` (leaves ``node``).
    value : float
        Reconciled flow [unit of the diagram, e.g. tC].
    u : float
        Its standard uncertainty [same unit].
    label_zh : str or None
        Chinese label, used when a CJK font is present.
    """

    name: str
    node: str
    direction: str
    value: float
    u: float
    label_zh: str | None = None


@dataclass(frozen=True, eq=False)
class Reconciliation:
    """Result of :func:`reconcile` for one period. Arrays run over all streams of the network.

    Attributes
    ----------
    network : BalanceNetwork
    value : ndarray
        Reconciled measured flows :math:`\\hat x` and estimated unmeasured ones (NaN when unobservable).
    u : ndarray
        Standard uncertainties of ``value`` (sqrt of the diagonal of :attr:`covariance`).
    covariance : ndarray
        Covariance of ``value`` (streams × streams); NaN rows/columns for unobservable streams.
    raw, raw_u : ndarray
        Measured values and their standard uncertainties (NaN for unmeasured streams).
    adjustment : ndarray
        :math:`\\hat x - x` (NaN for unmeasured streams).
    standardized_adjustment : ndarray
        Adjustment over its own standard uncertainty, :math:`v_i/\\sqrt{(\\Sigma-\\hat\\Sigma)_{ii}}`
        (VDI 2048 individual test quantity); NaN for streams that cannot be tested.
    glr : ndarray
        GLR statistic :math:`T_i` (χ²₁) of a bias in meter *i*; NaN where not testable.
    bias, u_bias : ndarray
        GLR estimate of the bias of each meter alone (measured − true) and its standard uncertainty.
    minimum_detectable_bias : ndarray
        Smallest bias of that meter the test finds with 80 % power at level ``alpha`` [flow units].
    redundant : ndarray of bool
        Measured streams the constraints can check (testable); False for unmeasured streams.
    observable : ndarray of bool
        Streams whose value is determined (all measured ones; unmeasured ones the balance fixes).
    chi2, dof, p_value : float, int, float
        Global test :math:`\\chi^2 = r^T V^{-1} r` on ``dof`` = rank of the reduced constraints.
    alpha : float
        Significance level of the tests.
    equivalence_sets : tuple of tuple of str
        Sets (of two or more meters) whose gross-error tests cannot be told apart on this network.
    gross_errors : tuple of GrossError
        Serial-elimination findings (empty when no meter is above the critical value).
    node_imbalance, node_imbalance_u : ndarray
        Raw imbalance in − out of each node and its standard uncertainty (NaN when an unmeasured stream
        touches the node).
    """

    network: BalanceNetwork
    value: FloatArray
    u: FloatArray
    covariance: FloatArray
    raw: FloatArray
    raw_u: FloatArray
    adjustment: FloatArray
    standardized_adjustment: FloatArray
    glr: FloatArray
    bias: FloatArray
    u_bias: FloatArray
    minimum_detectable_bias: FloatArray
    redundant: BoolArray
    observable: BoolArray
    chi2: float
    dof: int
    p_value: float
    alpha: float
    equivalence_sets: tuple[tuple[str, ...], ...]
    gross_errors: tuple[GrossError, ...]
    node_imbalance: FloatArray
    node_imbalance_u: FloatArray

    @property
    def names(self) -> tuple[str, ...]:
        """Stream names, the order of every array."""
        return self.network.names

    @property
    def passed(self) -> bool:
        """Global test passed: :math:`p \\ge \\alpha` (no dof → True, nothing to test)."""
        return bool(self.dof == 0 or self.p_value >= self.alpha)

    @property
    def not_testable(self) -> tuple[str, ...]:
        """Measured streams that are not redundant: their meters cannot be checked by this balance."""
        return tuple(n for n, m, r in zip(self.names, self.network.measured, self.redundant, strict=True)
                     if m and not r)

    def flows(self, labels_zh: dict[str, str] | None = None) -> tuple[SankeyFlow, ...]:
        """The reconciled flows as :class:`SankeyFlow` ends (unobservable streams left out)."""
        out = []
        for j, s in enumerate(self.network.streams):
            if not np.isfinite(self.value[j]):
                continue
            zh = (labels_zh or {}).get(s.name)
            if s.source is not None:
                out.append(SankeyFlow(s.name, s.source, "out", float(self.value[j]), float(self.u[j]), zh))
            if s.target is not None:
                out.append(SankeyFlow(s.name, s.target, "in", float(self.value[j]), float(self.u[j]), zh))
        return tuple(out)


@dataclass(frozen=True, eq=False)
class Closure:
    """Closure statistics of a balance per period (平衡闭合度).

    Attributes
    ----------
    node_imbalance, node_imbalance_u : ndarray
        (periods × nodes) raw in − out of each node and its standard uncertainty; NaN when an unmeasured
        stream touches the node.
    plant_imbalance, plant_imbalance_u : ndarray
        (periods,) raw in − out over the plant boundary (all nodes together: internal streams cancel) and its
        standard uncertainty; NaN when an unmeasured stream crosses the boundary.
    plant_input : ndarray
        (periods,) raw carbon entering the boundary.
    relative_closure : ndarray
        (periods,) ``plant_imbalance / plant_input`` (dimensionless; 0 = perfect closure).
    """

    node_imbalance: FloatArray
    node_imbalance_u: FloatArray
    plant_imbalance: FloatArray
    plant_imbalance_u: FloatArray
    plant_input: FloatArray
    relative_closure: FloatArray


@dataclass(frozen=True, eq=False)
class PersistentBias:
    """Persistent relative-bias test over all periods (持续性相对偏差检验).

    For each testable meter *i*, the hypothesis "meter *i* reads :math:`(1+b_i)` × the truth in every period"
    gives the residuals :math:`r_t = B x_t` the mean :math:`\\beta_i x_{t,i} f_i` with
    :math:`\\beta_i = b_i/(1+b_i)`; the weighted least-squares estimate over all periods and its GLR are

    .. math::

        \\hat\\beta_i = \\frac{\\sum_t x_{t,i}\\, f_i^T V_t^{-1} r_t - c_i}{\\sum_t x_{t,i}^2\\, f_i^T V_t^{-1} f_i},
        \\qquad T_i = \\frac{\\left(\\sum_t x_{t,i}\\, f_i^T V_t^{-1} r_t - c_i\\right)^2}
        {\\sum_t x_{t,i}^2\\, f_i^T V_t^{-1} f_i}

    where :math:`c_i = \\sum_t (B^T V_t^{-1} B \\Sigma_t)_{ii}` removes the expected product of the meter's
    own noise in the regressor and in the residual. :math:`\\hat b_i = \\hat\\beta_i/(1-\\hat\\beta_i)`.
    Because the flow profiles differ over time, meters with parallel signatures in one period may be
    separable here; :attr:`correlation` is the cosine between two candidates' stacked signatures (±1: never
    separable).

    Attributes
    ----------
    statistic : ndarray
        :math:`T_i` per stream (NaN where not testable or unmeasured).
    bias, u_bias : ndarray
        :math:`\\hat b_i` and its standard uncertainty (dimensionless, relative).
    minimum_detectable_bias : ndarray
        Smallest relative bias found with 80 % power at level ``alpha`` (dimensionless).
    correlation : ndarray
        (streams × streams) cosine of the stacked signatures of two meters.
    critical : float
        Critical value of the largest :math:`T_i` (Šidák over the testable meters at level ``alpha``).
    candidates : tuple of str
        Empty when no meter is above the critical value; else the best meter and every meter whose statistic
        is within ``separation_ratio`` of it.
    named : str or None
        The meter at fault when it is the only candidate.
    ratio : float
        Best plausible statistic over the second best (inf when only one meter is testable).
    max_relative_bias : float
        Bound on :math:`|\\hat b_i|` for a candidate.
    implausible : tuple of str
        Meters above the critical value whose estimated bias exceeds ``max_relative_bias`` (not candidates).
    """

    names: tuple[str, ...]
    statistic: FloatArray
    bias: FloatArray
    u_bias: FloatArray
    minimum_detectable_bias: FloatArray
    correlation: FloatArray
    alpha: float
    critical: float
    separation_ratio: float
    candidates: tuple[str, ...]
    named: str | None
    ratio: float
    max_relative_bias: float = 0.5
    implausible: tuple[str, ...] = ()

    @property
    def detected(self) -> bool:
        """A persistent bias was found (some meter is above the critical value)."""
        return bool(self.candidates)

    @property
    def message(self) -> str:
        """Finding in Chinese first, English second."""
        if not self.candidates:
            return (f"未发现持续性偏差 (最大 T 低于临界值 {self.critical:.2f}) / no persistent bias "
                    f"(largest T below the critical value {self.critical:.2f})")
        idx = [self.names.index(c) for c in self.candidates]
        parts = ", ".join(f"{self.names[i]}: b = {self.bias[i]:+.2%} ± {self.u_bias[i]:.2%}, "
                          f"T = {self.statistic[i]:.1f}" for i in idx)
        if self.named is not None:
            return f"计量点 {self.named} 存在持续性偏差 / meter {self.named} reads with a persistent bias ({parts})"
        return (f"存在持续性偏差, 但以下计量点无法区分 (T 比值 {self.ratio:.2f} < {self.separation_ratio}) / a "
                f"persistent bias, but these meters are not separable (ratio {self.ratio:.2f}): {parts}")


@dataclass(frozen=True, eq=False)
class PeriodReconciliation:
    """Result of :func:`reconcile_periods`: one reconciliation a period and the tests across periods.

    Arrays are (periods × streams) unless said otherwise; their meaning is that of :class:`Reconciliation`.
    ``chi2``, ``p_value`` are per period; ``chi2_total`` with ``dof_total`` = periods × ``dof`` tests all
    periods at once. ``gross_errors`` holds the serial-elimination findings of each period.
    """

    network: BalanceNetwork
    periods: tuple[str, ...]
    value: FloatArray
    u: FloatArray
    covariance: FloatArray
    raw: FloatArray
    adjustment: FloatArray
    standardized_adjustment: FloatArray
    glr: FloatArray
    redundant: BoolArray
    observable: BoolArray
    chi2: FloatArray
    dof: int
    p_value: FloatArray
    alpha: float
    equivalence_sets: tuple[tuple[str, ...], ...]
    gross_errors: tuple[tuple[GrossError, ...], ...]
    closure: Closure
    persistent: PersistentBias
    chi2_total: float = field(default=float("nan"))
    dof_total: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        """Stream names, the order of every array's last axis."""
        return self.network.names

    @property
    def passed(self) -> BoolArray:
        """Global test passed, per period."""
        return np.asarray((self.dof == 0) | (self.p_value >= self.alpha), dtype=bool)

    @property
    def p_value_total(self) -> float:
        """p-value of ``chi2_total`` on ``dof_total``."""
        return float(stats.chi2.sf(self.chi2_total, self.dof_total)) if self.dof_total else 1.0


# ---------------------------------------------------------------------------------------------- the maths


def _check(network: BalanceNetwork, x: ArrayLike, cov: ArrayLike, periods: int | None) -> tuple[FloatArray,
                                                                                                FloatArray]:
    """Shape, finiteness, symmetry and positive definiteness of x (T×n) and Σ (T×n×n)."""
    if not isinstance(network, BalanceNetwork):
        raise BalanceError(f"network 须为 BalanceNetwork / network: expected a BalanceNetwork, got "
                           f"{type(network).__name__}")
    names = network.measured_names
    n = len(names)
    xa = np.array(x, dtype=float)
    ca = np.array(cov, dtype=float)
    if periods is None:
        if xa.shape != (n,):
            raise BalanceError(f"x 形状不符 / x: shape {xa.shape}, expected ({n},) for the measured streams "
                               f"{list(names)}")
        if ca.shape != (n, n):
            raise BalanceError(f"cov 形状不符 / cov: shape {ca.shape}, expected ({n}, {n})")
        xa, ca = xa[None], ca[None]
    else:
        if xa.ndim != 2 or xa.shape[1] != n:
            raise BalanceError(f"x 形状不符 / x: shape {xa.shape}, expected (periods, {n}) for the measured "
                               f"streams {list(names)}")
        if ca.shape == (n, n):
            ca = np.broadcast_to(ca, (xa.shape[0], n, n)).copy()
        if ca.shape != (xa.shape[0], n, n):
            raise BalanceError(f"cov 形状不符 / cov: shape {ca.shape}, expected ({n}, {n}) or "
                               f"({xa.shape[0]}, {n}, {n})")
    where = "" if periods is None else "period {t}, "
    bad = np.argwhere(~np.isfinite(xa))
    if bad.size:
        t, i = bad[0]
        raise BalanceError(f"测量值非有限数 / x: {where.format(t=t)}stream {names[i]!r} (#{i}) is {xa[t, i]}")
    bad = np.argwhere(~np.isfinite(ca))
    if bad.size:
        t, i, j = bad[0]
        raise BalanceError(f"协方差非有限数 / cov: {where.format(t=t)}entry [{i}, {j}] is {ca[t, i, j]}")
    diag = np.diagonal(ca, axis1=1, axis2=2)
    bad = np.argwhere(diag <= 0)
    if bad.size:
        t, i = bad[0]
        raise BalanceError(f"方差须为正 / cov: {where.format(t=t)}variance of stream {names[i]!r} (#{i}) is "
                           f"{diag[t, i]}, must be > 0")
    scale = np.sqrt(diag[:, :, None] * diag[:, None, :])
    asym = np.abs(ca - np.swapaxes(ca, 1, 2)) > 1e-9 * scale
    bad = np.argwhere(asym)
    if bad.size:
        t, i, j = bad[0]
        raise BalanceError(f"协方差矩阵不对称 / cov: {where.format(t=t)}entries [{i}, {j}] = {ca[t, i, j]} and "
                           f"[{j}, {i}] = {ca[t, j, i]} differ")
    corr = ca / scale
    low = np.linalg.eigvalsh(corr)[:, 0]
    neg = np.flatnonzero(low < -1e-10)
    if neg.size:
        t = int(neg[0])
        raise BalanceError(f"协方差矩阵非半正定 / cov: {where.format(t=t)}not positive semi-definite (smallest "
                           f"eigenvalue of the correlation matrix {low[t]:.3g})")
    return xa, ca


@dataclass(frozen=True)
class _Core:
    r: FloatArray  # T × k
    vinv_r: FloatArray  # T × k
    h: FloatArray  # T × n × n   Bᵀ V⁻¹ B
    q: FloatArray  # T × n       Bᵀ V⁻¹ r
    xhat: FloatArray  # T × n
    shat: FloatArray  # T × n × n
    cov_adj: FloatArray  # T × n × n  Σ − Σ̂
    chi2: FloatArray  # T


def _core(b: FloatArray, x: FloatArray, s: FloatArray) -> _Core:
    """Weighted least squares on the reduced constraints, vectorised over periods (x: T×n, Σ: T×n×n)."""
    t, n = x.shape
    k = b.shape[0]
    if k == 0:
        z = np.zeros((t, n, n))
        return _Core(np.zeros((t, 0)), np.zeros((t, 0)), z, np.zeros((t, n)), x.copy(), s.copy(), z,
                     np.zeros(t))
    bs = np.einsum("kn,tnm->tkm", b, s)  # B Σ
    v = np.einsum("tkm,lm->tkl", bs, b)  # B Σ Bᵀ
    r = x @ b.T
    try:
        np.linalg.cholesky(v)
    except np.linalg.LinAlgError as exc:
        raise BalanceError("约束协方差 BΣBᵀ 奇异: 冗余计量点的方差不能为零 / cov: B Σ Bᵀ is singular (the "
                           "redundant meters' covariance is degenerate)") from exc
    rhs = np.concatenate([r[:, :, None], bs, np.broadcast_to(b, (t, k, n))], axis=2)
    sol = np.linalg.solve(v, rhs)
    vinv_r, vinv_bs, vinv_b = sol[:, :, 0], sol[:, :, 1:n + 1], sol[:, :, n + 1:]
    adj = np.einsum("tkn,tk->tn", bs, vinv_r)
    cov_adj = np.einsum("tkn,tkm->tnm", bs, vinv_bs)
    cov_adj = 0.5 * (cov_adj + np.swapaxes(cov_adj, 1, 2))
    h = np.einsum("kn,tkm->tnm", b, vinv_b)
    q = vinv_r @ b
    chi2 = np.einsum("tk,tk->t", r, vinv_r)
    return _Core(r, vinv_r, h, q, x - adj, s - cov_adj, cov_adj, chi2)


def _sidak(alpha: float, n: int) -> float:
    """Per-test level that keeps the family-wise level ``alpha`` over ``n`` independent tests (Šidák)."""
    return 1.0 - (1.0 - alpha) ** (1.0 / max(n, 1))


def _power_lambda(alpha_one: float, power: float = 0.8) -> float:
    """Non-centrality a two-sided z-test at level ``alpha_one`` needs to reach ``power`` (Baarda's λ₀)."""
    return float((stats.norm.isf(alpha_one / 2.0) + stats.norm.ppf(power)) ** 2)


def _identify(a: FloatArray, measured: BoolArray, x: FloatArray, s: FloatArray, names: tuple[str, ...],
              alpha: float, max_steps: int | None) -> tuple[GrossError, ...]:
    """Serial elimination with the GLR / measurement test (Narasimhan & Jordache 2000, §7.3).

    ``x`` and ``s`` run over the measured streams of ``measured`` (all streams' mask).
    """
    mask = measured.copy()
    col = np.flatnonzero(measured)  # stream index of each entry of x
    keep = np.ones(col.size, dtype=bool)  # entries still measured
    found: list[GrossError] = []
    steps = max_steps if max_steps is not None else col.size
    for step in range(1, steps + 1):
        red = _reduce(a, mask)
        if red.b.shape[0] == 0:
            break
        sel = np.flatnonzero(keep)
        core = _core(red.b, x[None, sel], s[np.ix_(sel, sel)][None])
        hd = np.diagonal(core.h[0])
        tests = np.full(sel.size, -np.inf)
        tests[red.redundant] = core.q[0, red.redundant] ** 2 / hd[red.redundant]
        n_tests = len(red.classes)
        crit = float(stats.chi2.isf(_sidak(alpha, n_tests), 1))
        best = int(np.argmax(tests))
        if not tests[best] > crit:
            break
        cls = next(c for c in red.classes if best in c)
        p1 = float(stats.chi2.sf(tests[best], 1))
        found.append(GrossError(
            step=step,
            candidates=tuple(names[col[sel[i]]] for i in cls),
            named=names[col[sel[best]]] if len(cls) == 1 else None,
            statistic=float(tests[best]),
            critical=crit,
            p_value=float(-np.expm1(n_tests * np.log1p(-p1))),
            bias=tuple(float(core.q[0, i] / hd[i]) for i in cls),
            u_bias=tuple(float(1.0 / np.sqrt(hd[i])) for i in cls),
        ))
        # eliminate the best meter: any member of its set gives the same remaining constraints (parallel
        # signatures project out the same direction)
        keep[sel[best]] = False
        mask[col[sel[best]]] = False
    return tuple(found)


def _expand(network: BalanceNetwork, red: _Reduction, core: _Core) -> dict[str, FloatArray]:
    """Values and covariances over all streams (unmeasured from ŷ = G x̂), vectorised over periods."""
    t = core.xhat.shape[0]
    meas = network.measured
    ns = meas.size
    im, iu = np.flatnonzero(meas), np.flatnonzero(~meas)
    value = np.full((t, ns), np.nan)
    cov = np.full((t, ns, ns), np.nan)
    value[:, im] = core.xhat
    cov[:, im[:, None], im[None, :]] = core.shat
    if iu.size:
        g = red.g
        yhat = core.xhat @ g.T
        cxy = core.shat @ g.T  # T × n × p
        cyy = np.einsum("pn,tnm,qm->tpq", g, core.shat, g)
        obs = red.observable
        yhat[:, ~obs] = np.nan
        cxy[:, :, ~obs] = np.nan
        cyy[:, ~obs, :] = np.nan
        cyy[:, :, ~obs] = np.nan
        value[:, iu] = yhat
        cov[:, iu[:, None], iu[None, :]] = cyy
        cov[:, im[:, None], iu[None, :]] = cxy
        cov[:, iu[:, None], im[None, :]] = np.swapaxes(cxy, 1, 2)
    u = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0.0, None))
    return {"value": value, "cov": cov, "u": u}


def _per_meter(network: BalanceNetwork, red: _Reduction, core: _Core, xm: FloatArray,
               alpha: float) -> dict[str, FloatArray]:
    """Adjustments and per-meter test quantities over all streams (NaN where not defined)."""
    t = xm.shape[0]
    meas = network.measured
    im = np.flatnonzero(meas)
    ns = meas.size
    out = {k: np.full((t, ns), np.nan) for k in ("raw", "adj", "z", "glr", "bias", "u_bias", "mdb")}
    out["raw"][:, im] = xm
    out["adj"][:, im] = core.xhat - xm
    red_idx = np.flatnonzero(red.redundant)
    if red_idx.size:
        var_adj = np.diagonal(core.cov_adj, axis1=1, axis2=2)[:, red_idx]
        hd = np.diagonal(core.h, axis1=1, axis2=2)[:, red_idx]
        cols = im[red_idx]
        out["z"][:, cols] = (core.xhat - xm)[:, red_idx] / np.sqrt(var_adj)
        out["glr"][:, cols] = core.q[:, red_idx] ** 2 / hd
        out["bias"][:, cols] = core.q[:, red_idx] / hd
        out["u_bias"][:, cols] = 1.0 / np.sqrt(hd)
        lam = _power_lambda(_sidak(alpha, len(red.classes)))
        out["mdb"][:, cols] = np.sqrt(lam / hd)
    return out


def _node_imbalance(network: BalanceNetwork, xm: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray]:
    a = network.incidence
    meas = network.measured
    ax = a[:, meas]
    closed = ~np.any(a[:, ~meas] != 0, axis=1)
    imb = xm @ ax.T
    u = np.sqrt(np.einsum("kn,tnm,km->tk", ax, s, ax))
    imb[:, ~closed] = np.nan
    u[:, ~closed] = np.nan
    return imb, u


def _named_sets(network: BalanceNetwork, red: _Reduction) -> tuple[tuple[str, ...], ...]:
    names = network.measured_names
    return tuple(tuple(names[i] for i in c) for c in red.classes if len(c) > 1)


def _alpha(alpha: float) -> float:
    if not 0.0 < alpha < 1.0:
        raise BalanceError(f"显著性水平须在 (0, 1) 内 / alpha: {alpha} is not in (0, 1)")
    return float(alpha)


def reconcile(network: BalanceNetwork, x: ArrayLike, cov: ArrayLike, *, alpha: float = 0.05,
              max_eliminations: int | None = None) -> Reconciliation:
    r"""Reconcile one period's measured carbon flows over a balance network (碳平衡数据协调).

    Parameters
    ----------
    network : BalanceNetwork
        Nodes and streams; unmeasured streams are solved by projection where observable.
    x : array_like, shape (n,)
        Measured flows [any one flow unit, e.g. tC], in the order of ``network.measured_names``.
    cov : array_like, shape (n, n)
        Their covariance [unit²]: the full matrix, so meters sharing a weighbridge or a lab's carbon content
        are correlated. Must be symmetric positive semi-definite with positive variances.
    alpha : float
        Level of the global test and (family-wise, Šidák) of the gross-error tests.
    max_eliminations : int, optional
        Most steps of serial elimination (default: until the test passes or no redundancy is left).

    Returns
    -------
    Reconciliation
        :math:`\hat x = x - \Sigma B^T (B\Sigma B^T)^{-1} B x`,
        :math:`\hat\Sigma = \Sigma - \Sigma B^T (B\Sigma B^T)^{-1} B \Sigma`, the global test
        :math:`\chi^2 = r^T (B\Sigma B^T)^{-1} r` on ``dof`` = rank :math:`B`, per-meter tests and the
        serial-elimination findings. All figures refer to the reconciliation with every meter kept.

    Raises
    ------
    BalanceError
        Wrong shapes, non-finite values, a covariance that is not symmetric positive semi-definite, or a
        singular :math:`B\Sigma B^T`.

    References
    ----------
    VDI 2048 Blatt 1:2017 §7 (Ausgleichsrechnung, quality control); Narasimhan & Jordache (2000) §3.2, §3.4
    (projection), §7.2–7.3 (GLR, serial elimination); Crowe et al. (1983).
    """
    alpha = _alpha(alpha)
    xa, ca = _check(network, x, cov, None)
    red = _reduce(network.incidence, network.measured)
    core = _core(red.b, xa, ca)
    full = _expand(network, red, core)
    per = _per_meter(network, red, core, xa, alpha)
    imb, imb_u = _node_imbalance(network, xa, ca)
    dof = int(red.b.shape[0])
    chi2 = float(core.chi2[0])
    raw_u = np.full(network.measured.size, np.nan)
    raw_u[network.measured] = np.sqrt(np.diagonal(ca[0]))
    observable = network.measured.copy()
    observable[~network.measured] = red.observable
    redundant = np.zeros(network.measured.size, dtype=bool)
    redundant[network.measured] = red.redundant
    return Reconciliation(
        network=network, value=full["value"][0], u=full["u"][0], covariance=full["cov"][0],
        raw=per["raw"][0], raw_u=raw_u, adjustment=per["adj"][0], standardized_adjustment=per["z"][0],
        glr=per["glr"][0], bias=per["bias"][0], u_bias=per["u_bias"][0],
        minimum_detectable_bias=per["mdb"][0], redundant=redundant, observable=observable,
        chi2=chi2, dof=dof, p_value=float(stats.chi2.sf(chi2, dof)) if dof else 1.0, alpha=alpha,
        equivalence_sets=_named_sets(network, red),
        gross_errors=_identify(network.incidence, network.measured, xa[0], ca[0], network.names, alpha,
                               max_eliminations),
        node_imbalance=imb[0], node_imbalance_u=imb_u[0],
    )


def _persistent(network: BalanceNetwork, red: _Reduction, core: _Core, xm: FloatArray, s: FloatArray,
                alpha: float, separation_ratio: float, max_relative_bias: float) -> PersistentBias:
    """Relative-bias GLR of each meter over all periods (see :class:`PersistentBias`)."""
    ns = network.measured.size
    im = np.flatnonzero(network.measured)
    stat = np.full(ns, np.nan)
    bias = np.full(ns, np.nan)
    u_bias = np.full(ns, np.nan)
    mdb = np.full(ns, np.nan)
    corr = np.full((ns, ns), np.nan)
    idx = np.flatnonzero(red.redundant)
    names = network.names
    if idx.size == 0:
        return PersistentBias(names, stat, bias, u_bias, mdb, corr, alpha, float("nan"), separation_ratio, (),
                              None, float("nan"), max_relative_bias, ())
    hs = np.einsum("tnm,tmk->tnk", core.h, s)  # Bᵀ V⁻¹ B Σ
    c = np.diagonal(hs, axis1=1, axis2=2).sum(axis=0)[idx]
    xi = xm[:, idx]
    num = np.einsum("ti,ti->i", xi, core.q[:, idx]) - c
    hsub = core.h[:, idx[:, None], idx[None, :]]  # T × r × r
    gram = np.einsum("ti,tij,tj->ij", xi, hsub, xi)  # stacked-signature Gram matrix
    den = np.diagonal(gram).copy()
    beta = num / den
    u_beta = 1.0 / np.sqrt(den)
    tstat = num**2 / den
    cols = im[idx]
    stat[cols] = tstat
    bias[cols] = beta / (1.0 - beta)
    u_bias[cols] = u_beta / (1.0 - beta) ** 2
    lam = _power_lambda(_sidak(alpha, idx.size))
    mdb[cols] = np.sqrt(lam) * u_beta
    corr[np.ix_(cols, cols)] = gram / np.sqrt(np.outer(den, den))
    crit = float(stats.chi2.isf(_sidak(alpha, idx.size), 1))
    plausible = np.abs(bias[cols]) <= max_relative_bias
    order = [int(i) for i in np.argsort(-tstat) if plausible[i]]
    over = [int(i) for i in np.argsort(-tstat) if not plausible[i] and tstat[i] > crit]
    implausible = tuple(names[cols[i]] for i in over)
    if not order:
        return PersistentBias(names, stat, bias, u_bias, mdb, corr, alpha, crit, separation_ratio, (), None,
                              float("nan"), max_relative_bias, implausible)
    best = tstat[order[0]]
    ratio = float(best / tstat[order[1]]) if len(order) > 1 and tstat[order[1]] > 0 else float("inf")
    cand = tuple(names[cols[i]] for i in order if tstat[i] * separation_ratio >= best) if best > crit else ()
    named = cand[0] if len(cand) == 1 else None
    return PersistentBias(names, stat, bias, u_bias, mdb, corr, alpha, crit, separation_ratio, cand, named,
                          ratio, max_relative_bias, implausible)


def reconcile_periods(network: BalanceNetwork, x: ArrayLike, cov: ArrayLike, *,
                      periods: Sequence[str] | None = None, alpha: float = 0.05, separation_ratio: float = 1.5,
                      max_relative_bias: float = 0.5, max_eliminations: int | None = None) -> PeriodReconciliation:
    r"""Reconcile the same network over many periods (months, days) and test for persistent meter biases.

    Parameters
    ----------
    network : BalanceNetwork
    x : array_like, shape (T, n)
        Measured flows per period [flow unit, e.g. tC/month], columns in ``network.measured_names`` order.
    cov : array_like, shape (T, n, n) or (n, n)
        Covariance per period [unit²] (one matrix is used for every period).
    periods : sequence of str, optional
        Period labels (default ``"0"``, ``"1"`` …).
    alpha : float
        Level of every test (global per period; family-wise for the gross-error and persistent-bias tests).
    separation_ratio : float
        Meters whose persistent-bias statistic is within this factor of the best one are reported together
        as not separable (``T_best / T_i < separation_ratio``). The default 1.5 keeps the wrong naming of
        a meter whose signature is close to the faulty one's rare (a few per mille at T ≈ 50).
    max_relative_bias : float
        Candidates whose estimated relative bias exceeds this in magnitude are set aside as implausible
        (:attr:`PersistentBias.implausible`): a small stream "explaining" an imbalance by reading 150 % off
        would be caught by range and plausibility checks long before a balance test.
    max_eliminations : int, optional
        Most serial-elimination steps per period.

    Returns
    -------
    PeriodReconciliation
        Per-period reconciled flows and tests (vectorised: one batched solve for all periods), the closure
        statistics (:class:`Closure`) and the persistent relative-bias test (:class:`PersistentBias`).

    Raises
    ------
    BalanceError
        As :func:`reconcile`, naming the period; a ``separation_ratio`` below 1; labels of the wrong number.

    References
    ----------
    VDI 2048 Blatt 1:2017 §7–§8; Narasimhan & Jordache (2000) §7.3 and ch. 8 (bias over time).
    """
    alpha = _alpha(alpha)
    if not separation_ratio >= 1.0:
        raise BalanceError(f"separation_ratio 须 ≥ 1 / separation_ratio: {separation_ratio} is below 1")
    if not max_relative_bias > 0.0:
        raise BalanceError(f"max_relative_bias 须 > 0 / max_relative_bias: {max_relative_bias} is not positive")
    xa, ca = _check(network, x, cov, 0)
    t = xa.shape[0]
    labels = tuple(str(p) for p in periods) if periods is not None else tuple(str(i) for i in range(t))
    if len(labels) != t:
        raise BalanceError(f"周期标签数量不符 / periods: {len(labels)} labels for {t} periods")
    red = _reduce(network.incidence, network.measured)
    core = _core(red.b, xa, ca)
    full = _expand(network, red, core)
    per = _per_meter(network, red, core, xa, alpha)
    imb, imb_u = _node_imbalance(network, xa, ca)
    dof = int(red.b.shape[0])
    # plant boundary: sum of all node rows (internal streams cancel)
    srow = network.incidence.sum(axis=0)
    meas = network.measured
    if np.all(srow[~meas] == 0):
        sx = srow[meas]
        plant = xa @ sx
        plant_u = np.sqrt(np.einsum("n,tnm,m->t", sx, ca, sx))
        plant_in = xa[:, sx > 0].sum(axis=1)
        rel = plant / np.where(plant_in != 0, plant_in, np.nan)
    else:
        plant = plant_u = plant_in = rel = np.full(t, np.nan)
    crit = float(stats.chi2.isf(_sidak(alpha, len(red.classes)), 1)) if red.classes else np.inf
    periods_ge: list[tuple[GrossError, ...]] = []
    glr_max = np.nanmax(per["glr"], axis=1, initial=-np.inf)
    for k in range(t):
        if glr_max[k] > crit:  # serial elimination only where the first step finds something
            periods_ge.append(_identify(network.incidence, meas, xa[k], ca[k], network.names, alpha,
                                        max_eliminations))
        else:
            periods_ge.append(())
    observable = meas.copy()
    observable[~meas] = red.observable
    redundant = np.zeros(meas.size, dtype=bool)
    redundant[meas] = red.redundant
    chi2 = core.chi2
    return PeriodReconciliation(
        network=network, periods=labels, value=full["value"], u=full["u"], covariance=full["cov"],
        raw=per["raw"], adjustment=per["adj"], standardized_adjustment=per["z"], glr=per["glr"],
        redundant=redundant, observable=observable, chi2=chi2, dof=dof,
        p_value=stats.chi2.sf(chi2, dof) if dof else np.ones(t), alpha=alpha,
        equivalence_sets=_named_sets(network, red), gross_errors=tuple(periods_ge),
        closure=Closure(imb, imb_u, plant, plant_u, plant_in, rel),
        persistent=_persistent(network, red, core, xa, ca, alpha, separation_ratio, max_relative_bias),
        chi2_total=float(chi2.sum()), dof_total=dof * t,
    )
