"""The plant's carbon balance from the account and the CEMS leg (企业碳平衡), reconciled month by month.

Every flow of the balance is a contribution the two legs already compute — coal carbon in, product carbon out
(the account's carbon-balance and fuel streams), CO2 recovered, vents, flare, regenerator and stacks (the CEMS
leg) — expressed in tonnes of carbon. Because each contribution is ``c·Π(1+δ_k)`` over named terms, the
covariance of two flows in a period is ``Σ_k s_ik s_jk u_k²`` over the terms they share (the same belt scale,
the same coal analyser, the same default) plus the independent sampling and substitution noise of each: the
full input covariance the reconciliation needs.

Nodes: the account's carbon-balance group (``gasification``: raw materials in; products, by-products, wastes,
CO2 recovered and the process vents out) and ``combustion`` (fuels burned in; residues and the stacks of the
same emission source out), linked by the fuel gas the process fires in the boilers — a flow nobody meters,
solved as unmeasured.

With the plant's books (:class:`StockLedger`) a coal yard (煤场: weighbridge receipts in, the belt scale's coal
out to the plant, the stock change by the monthly survey 盘存) or a product tank (罐区: the Coriolis meter's
product in, weighbridge shipments and the gauged stock change out) becomes a node of its own: a second,
independent measurement of the big flows, which is what lets the gross-error test tell their meters apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from carbonmet.accounting import Account

from ._errors import CemsError
from ._reconcile import (
    BalanceNetwork,
    PeriodReconciliation,
    Reconciliation,
    Stream,
    _reduce,
    reconcile,
    reconcile_periods,
)

#: One-sided normal quantile for 95 % power of the minimum detectable bias [-].
_Z_POWER = 1.6448536269514722
#: tCO2 per tC (44.0095 / 12.011), accounting_methods.md §1.3 [V-calc].
CO2_PER_C = 3.664191
COMBUSTION = "combustion"
#: The unmeasured internal flow from the process to the boilers (purge, flash and tail gas fired).
FUEL_GAS = "fuel_gas_unmetered"


@dataclass
class PlantBalance:
    """A plant's carbon balance as measured, ready to reconcile.

    ``x`` (periods × measured flows) [tC] and ``cov`` (periods × n × n) [tC²] in ``network.measured_names``
    order; ``cov_year`` the covariance of the annual sums, where every term stays correlated across the months
    (sensitivities add before squaring) and noises add in quadrature; ``instruments`` of each flow (registry ids
    of the meters and analysers behind it).
    """

    enterprise: str
    year: int
    periods: list[str]
    network: BalanceNetwork
    x: np.ndarray
    cov: np.ndarray
    cov_year: np.ndarray
    sens: np.ndarray  # periods × n × terms: ∂x/∂δ_k [tC]
    u_terms: np.ndarray  # terms: u of each δ_k [-]
    term_keys: list[str]
    noise: np.ndarray  # periods × n: independent variance [tC²]
    instruments: dict[str, list[str]]
    labels: dict[str, str]
    labels_zh: dict[str, str] = field(default_factory=dict)  # Chinese names of ledger nodes and flows


@dataclass(frozen=True)
class StockLedger:
    """The books of one stored material: fence weighings and stock surveys (煤场/罐区台账).

    A coal yard (``side="in"``: received at the fence, stored, metered into the plant) or a product tank
    (``side="out"``: metered out of the plant, stored, shipped over the fence). Its node balance
    ``fence − meter − ΔS = 0`` (yard) or ``meter − fence − ΔS = 0`` (tank) holds in tonnes of material; it is
    carried in tonnes of carbon at each period's carbon content of the metered flow (the account's carbon over
    ``meter_mass``), so the node's constraint is the mass balance scaled and the carbon content's own
    uncertainty cancels in it.

    Attributes
    ----------
    stream : str
        The balance flow the ledger holds (``"gasifier_coal"``, ``"methanol"``).
    side : {"in", "out"}
    meter_mass : ndarray
        [t] per period of the account: the plant meter's mass (belt scale, Coriolis).
    meter_instruments : tuple of str
        Registry ids of the plant meter: terms naming them are the meter's, the others of the flow are its
        carbon content's.
    fence : ndarray
        [t] per period: receipts (yard) or shipments (tank) weighed at the fence.
    fence_key, fence_u : str, float
        Term key of the fence instrument's systematic error and its relative standard uncertainty [-].
    stock : ndarray
        [t] periods + 1 surveys: the opening stock, then the stock at each period's close.
    survey_key, survey_u : str, float
        Term key of the survey instrument's systematic error and its relative standard uncertainty [-].
    survey_repeatability : float
        Relative standard uncertainty of each survey's own error [-] (bulk density, pile shape; level, density
        sample), independent survey to survey.
    instruments : dict
        ``{"fence": [...], "stock": [...]}`` registry ids.
    labels_zh : dict
        Chinese names of the node and its flows.
    """

    stream: str
    side: Literal["in", "out"]
    meter_mass: np.ndarray
    meter_instruments: tuple[str, ...]
    fence: np.ndarray
    fence_key: str
    fence_u: float
    stock: np.ndarray
    survey_key: str
    survey_u: float
    survey_repeatability: float
    instruments: dict[str, list[str]] = field(default_factory=dict)
    labels_zh: dict[str, str] = field(default_factory=dict)

    @property
    def node(self) -> str:
        return f"{'coal_yard' if self.side == 'in' else 'tank'}:{self.stream}"

    @property
    def fence_flow(self) -> str:
        return f"{self.stream}.{'receipts' if self.side == 'in' else 'shipments'}"

    @property
    def stock_flow(self) -> str:
        return f"{self.stream}.stock_change"


@dataclass
class _Flow:
    name: str
    source: str | None
    target: str | None
    values: np.ndarray  # [tC] per period, positive
    sens: dict[str, np.ndarray]  # term → sensitivity per period [tC]
    noise_var: np.ndarray  # [tC²] per period


def _flows_of(acc: Account, which: list[Any], node_in: str | None, node_out: str | None) -> list[_Flow]:
    """Flows of ``acc``'s streams ``which``: positive contributions enter ``node_in``, negative leave ``node_out``."""
    n = acc.n
    by: dict[str, _Flow] = {}
    signed: dict[str, float] = {}
    for s in which:
        for p in s.parts:
            v = p.values / CO2_PER_C
            # one flow per material: the share measured while an instrument was out of its legal state is a
            # part of its own ("<what> (法定状态外 …)") but the same flow
            name = s.name if s.kind == "measured_emission" else p.what.split(" (")[0]
            f = by.get(name)
            if f is None:
                f = by[name] = _Flow(name, None, None, np.zeros(n), {}, np.zeros(n))
            signed[name] = signed.get(name, 0.0) + float(v.sum())
            f.values += np.abs(v)
            for k in p.terms:
                f.sens[k] = f.sens.get(k, np.zeros(n)) + np.abs(v)
        for z in s.noises:
            # noise keys name the stream they belong to: sampling:<part>.<parameter>, substitution:<stream>
            key = z.key.split(":", 1)[-1].split(".")[0]
            target = by.get(key) or (by.get(s.name) if s.kind == "measured_emission" else None)
            if target is None and len(s.parts) == 1:
                target = by.get(s.parts[0].what)
            if target is not None:
                target.noise_var += (z.u / CO2_PER_C) ** 2
    for name, f in by.items():
        # carbon in is a positive contribution, carbon out a negative one; emissions always leave the node
        into = signed[name] > 0 and not any(s.kind == "measured_emission" for s in which)
        f.source, f.target = (None, node_in) if into else (node_out, None)
    return list(by.values())


def survey_repeatability(instrument_type: str) -> float:
    """Relative standard uncertainty [-] of one stock survey by an instrument of ``instrument_type`` (its own
    error, independent survey to survey), from ``data/stock_surveys.csv`` (values [A]: no published figure).

    Raises
    ------
    CemsError
        The type has no row in the table.
    """
    import csv
    import io
    from importlib import resources

    text = resources.files(__package__).joinpath("data", "stock_surveys.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(io.StringIO(text)):
        if row["instrument_type"] == instrument_type:
            return float(row["repeatability_rel_pct"]) / 100.0
    raise CemsError(f"data/stock_surveys.csv: no survey repeatability for instrument type {instrument_type!r} / "
                    "无此类盘存器具的重复性")


def _ledger_flows(led: StockLedger, flow: _Flow, running: np.ndarray, terms: dict[str, Any],
                  extra: dict[str, tuple[float, tuple[str, ...]]]) -> list[_Flow]:
    """The fence and stock-change flows of ``led`` [tC], and ``flow`` moved onto the ledger's node.

    ``extra`` receives the u and instruments of the ledger's own terms (fence, survey, each survey's own
    error)."""
    n_all = led.meter_mass.size
    if led.fence.size != n_all or led.stock.size != n_all + 1:
        raise CemsError(f"{led.stream}: ledger periods do not match (fence {led.fence.size}, stock {led.stock.size}, "
                        f"meter {n_all}) / 台账期数不一致")
    mass = led.meter_mass[running]
    c = np.divide(flow.values, mass, out=np.zeros_like(flow.values), where=mass > 0)  # tC per t
    meter = set(led.meter_instruments)
    rel = {k: np.divide(v, flow.values, out=np.zeros_like(v), where=flow.values > 0) for k, v in flow.sens.items()
           if not meter & set(terms[k].instruments)}
    fence = led.fence[running] * c
    close, opening = led.stock[1:][running] * c, led.stock[:-1][running] * c
    ds = close - opening
    node = led.node
    if led.side == "in":
        flow.source = node
        fence_f = _Flow(led.fence_flow, None, node, fence, {}, np.zeros_like(fence))
    else:
        flow.target = node
        fence_f = _Flow(led.fence_flow, node, None, fence, {}, np.zeros_like(fence))
    stock_f = _Flow(led.stock_flow, node, None, ds, {}, np.zeros_like(ds))
    fence_f.sens = {led.fence_key: fence, **{k: r * fence for k, r in rel.items()}}
    stock_f.sens = {led.survey_key: ds, **{k: r * ds for k, r in rel.items()}}
    extra[led.fence_key] = (led.fence_u, tuple(led.instruments.get("fence", ())))
    extra[led.survey_key] = (led.survey_u, tuple(led.instruments.get("stock", ())))
    months = np.flatnonzero(running)
    for j in range(n_all + 1):  # survey j closes period j-1 and opens period j
        s = np.where(months == j - 1, close, 0.0) - np.where(months == j, opening, 0.0)
        if np.any(s != 0):
            key = f"survey:{led.stream}:{j}"
            stock_f.sens[key] = s
            extra[key] = (led.survey_repeatability, tuple(led.instruments.get("stock", ())))
    return [fence_f, stock_f]


def plant_balance(acc: Account, cems: Account, plan: Any, ledgers: Sequence[StockLedger] = ()) -> PlantBalance:
    """The carbon balance of ``plan``'s enterprise from its account ``acc`` and CEMS leg ``cems``, with a node
    for each of ``ledgers`` (coal yards, product tanks) whose stream is a flow of the balance.

    Raises
    ------
    CemsError
        The account has no carbon-balance stream (nothing to balance), the legs cover different periods, or a
        ledger's periods do not match the account's.
    """
    if list(acc.periods) != list(cems.periods) or acc.enterprise != cems.enterprise:
        raise CemsError(f"account {acc.enterprise} and CEMS leg {cems.enterprise} cover different enterprises or "
                        "periods / 核算与监测范围不一致")
    groups = [s for s in acc.streams if s.kind == "carbon_balance"]
    if not groups:
        raise CemsError(f"{acc.enterprise}: the account has no carbon-balance stream; nothing to balance / 无碳平衡源流")
    process = groups[0].name
    source_of = {r.source_stream: r.emission_source for r in plan.parameters}
    fuels = [s for s in acc.streams if s.kind == "fuel_combustion"]
    fuel_sources = {source_of.get(s.name) for s in fuels}
    flows = _flows_of(acc, groups, process, process)
    flows += _flows_of(acc, fuels, COMBUSTION, COMBUSTION)
    flows += _flows_of(acc, [s for s in acc.streams if s.kind == "co2_recovered"], process, process)
    for s in cems.streams:
        node = COMBUSTION if source_of.get(s.name) in fuel_sources else process
        flows += _flows_of(cems, [s], node, node)
    # a flow that carries no carbon all year (sulfur) adds nothing and cannot be tested: left out (listed in
    # ``labels``); a month in which every flow is zero (plant stopped) is left out; a flow at zero in some month
    # (a stack off, no flaring) is a measured zero, given a floor variance so the balance stays defined
    empty = [f.name for f in flows if not np.any(f.values > 0)]
    flows = [f for f in flows if np.any(f.values > 0)]
    if not flows:
        raise CemsError(f"{acc.enterprise}: no flow carries carbon in {acc.year} / 全年无碳流")
    running = np.any(np.stack([f.values for f in flows]) > 0, axis=0)
    periods = [p for p, on in zip(acc.periods, running, strict=True) if on]
    for f in flows:
        f.values, f.noise_var = f.values[running], f.noise_var[running]
        f.sens = {k: v[running] for k, v in f.sens.items()}
        floor = max(1e-3 * float(f.values.mean()), 1.0) ** 2
        f.noise_var = np.where(f.values > 0, f.noise_var, np.maximum(f.noise_var, floor))
    terms = {**acc.terms, **cems.terms}
    extra: dict[str, tuple[float, tuple[str, ...]]] = {}
    by_name = {f.name: f for f in flows}
    nodes: list[str] = [process, COMBUSTION]
    labels_zh: dict[str, str] = {}
    for led in ledgers:
        hit = by_name.get(led.stream)
        if hit is None or (led.side == "in") != (hit.source is None):
            continue  # the stream is not a flow of this balance in the ledger's direction
        flows += _ledger_flows(led, hit, running, terms, extra)
        nodes.append(led.node)
        labels_zh.update(led.labels_zh)
    n_t, names = len(periods), [f.name for f in flows]
    m = len(flows)
    x = np.stack([f.values for f in flows], axis=1)  # T × m
    keys = sorted({k for f in flows for k in f.sens})
    u = np.array([extra[k][0] if k in extra else terms[k].u for k in keys])
    sens = np.zeros((n_t, m, len(keys)))
    for i, f in enumerate(flows):
        for j, k in enumerate(keys):
            if k in f.sens:
                sens[:, i, j] = f.sens[k]
    noise = np.stack([f.noise_var for f in flows], axis=1)  # T × m
    su = sens * u
    cov = np.einsum("tik,tjk->tij", su, su)
    cov[:, np.arange(m), np.arange(m)] += noise
    sy = su.sum(axis=0)
    cov_year = sy @ sy.T + np.diag(noise.sum(axis=0))
    streams = [Stream(f.name, f.source, f.target) for f in flows]
    streams.append(Stream(FUEL_GAS, process, COMBUSTION, measured=False))
    net = BalanceNetwork(tuple(nodes), tuple(streams))
    order = [names.index(nm) for nm in net.measured_names]
    x, cov, cov_year = x[:, order], cov[:, order][:, :, order], cov_year[order][:, order]
    sens, noise = sens[:, order], noise[:, order]
    inst = {f.name: sorted({i for k in f.sens for i in (extra[k][1] if k in extra else terms[k].instruments)})
            for f in flows}
    return PlantBalance(acc.enterprise, acc.year, periods, net, x, cov, cov_year, sens, u, keys, noise, inst,
                        {nm: "无碳或有月份为零, 未参与平衡 / no carbon in some month: left out" for nm in empty},
                        labels_zh)


@dataclass
class PlantReconciliation:
    """Monthly and annual reconciliation of a plant's carbon balance.

    The engine's persistent-bias test (:attr:`PeriodReconciliation.persistent`) takes the periods as
    independent; in a plant balance every instrument's calibration error is the same in every month, so the
    plant's meters are judged by :func:`systematic_bias_test` instead, which keeps that correlation."""

    balance: PlantBalance
    monthly: PeriodReconciliation
    annual: Reconciliation

    def png(self, title: str | None = None) -> bytes:
        """The carbon-flow diagram (碳流图) of the annual reconciled flows, as PNG bytes."""
        from ._reconcile import SankeyFlow
        from ._sankey import sankey_png

        b = self.balance
        zh = title or f"{b.enterprise} {b.year} 碳流图 (协调后, tC)"
        # a stock that fell over the year is carbon entering its node: drawn in the opposite direction
        flows = [SankeyFlow(f.name, f.node, "in" if f.direction == "out" else "out", -f.value, f.u, f.label_zh)
                 if f.value < 0 else f for f in self.annual.flows()]
        return sankey_png(flows, zh, title_en=f"{b.enterprise} {b.year} carbon flows (reconciled, tC)",
                          node_labels_zh={b.network.nodes[0]: "气化及下游工艺", COMBUSTION: "锅炉燃烧",
                                          **{k: v for k, v in b.labels_zh.items() if k in b.network.nodes}})

    def to_dict(self) -> dict[str, Any]:
        b, mo, an = self.balance, self.monthly, self.annual
        names = list(an.names)

        def f(v: float) -> float | None:
            return float(round(float(v), 3)) if np.isfinite(v) else None

        flows = []
        for j, nm in enumerate(names):
            st = b.network.streams[j]
            k = list(b.network.measured_names).index(nm) if nm in b.network.measured_names else None
            flows.append({"flow": nm, "from": st.source, "to": st.target, "measured": st.measured,
                          "raw_tC": f(an.raw[k]) if k is not None else None,
                          "raw_u_tC": f(an.raw_u[k]) if k is not None else None,
                          "reconciled_tC": f(an.value[j]), "reconciled_u_tC": f(an.u[j]),
                          "instruments": b.instruments.get(nm, [])})
        return {
            "enterprise": b.enterprise, "year": b.year, "unit": "tC", "nodes": list(b.network.nodes),
            "flows": flows,
            "annual": {"chi2": f(an.chi2), "dof": an.dof, "p": f(an.p_value), "passed": bool(an.passed),
                       "gross_errors": [g.message for g in an.gross_errors],
                       "equivalence_sets": [list(s) for s in an.equivalence_sets],
                       "not_testable": list(an.not_testable)},
            "monthly": [{"period": p, "chi2": f(mo.chi2[t]), "p": f(mo.p_value[t]), "passed": bool(mo.passed[t]),
                         "plant_imbalance_tC": f(mo.closure.plant_imbalance[t]),
                         "relative_closure": f(mo.closure.relative_closure[t])} for t, p in enumerate(mo.periods)],
        }


def reconcile_plant(pb: PlantBalance, *, alpha: float = 0.05) -> PlantReconciliation:
    """Reconcile ``pb`` per month (closure, per-month tests, persistent-bias test) and for the year (with
    :attr:`PlantBalance.cov_year`)."""
    mo = reconcile_periods(pb.network, pb.x, pb.cov, periods=pb.periods, alpha=alpha)
    return PlantReconciliation(pb, mo, reconcile(pb.network, pb.x.sum(axis=0), pb.cov_year, alpha=alpha))


#: Gauss–Hermite nodes and weights (probabilists', normalised to a standard normal) for the naming power.
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(48)
_GH_W = _GH_W / _GH_W.sum()


def _naming_miss(delta: np.ndarray, rho: np.ndarray, crit: float) -> np.ndarray:
    r"""Probability that meter *i*, biased by ``delta`` of its own standard uncertainty, does **not** lead meter
    *j* (whitened signatures correlated by ``rho``) by the critical value: :math:`P(T_i - T_j < c)`.

    With :math:`z_i = \delta + e_i`, :math:`z_j = \rho\delta + e_j` (:math:`\operatorname{corr}(e_i, e_j) = \rho`)
    the lead :math:`T_i - T_j = z_i^2 - z_j^2 = A B` is the product of the independent normals
    :math:`A = z_i - z_j \sim N(\delta(1-\rho), 2(1-\rho))` and :math:`B = z_i + z_j \sim N(\delta(1+\rho),
    2(1+\rho))` (``rho`` taken as :math:`|\rho|`: the sign of a signature does not change :math:`T`); the
    probability is integrated over :math:`B` by Gauss–Hermite quadrature. Arrays broadcast; ``rho`` = 1 gives 1.
    """
    from scipy.special import ndtr

    r = np.clip(np.abs(rho), 0.0, 1.0)[..., None]
    d = np.asarray(delta, dtype=float)[..., None]
    sa, sb = np.sqrt(2.0 * (1.0 - r)), np.sqrt(2.0 * (1.0 + r))
    bb = d * (1.0 + r) + sb * _GH_X  # B at the nodes
    ma = d * (1.0 - r)
    with np.errstate(divide="ignore", invalid="ignore"):
        lim = crit / bb  # AB < c  ⇔  A < c/B (B > 0), A > c/B (B < 0)
        za = np.where(sa > 0, (lim - ma) / np.where(sa > 0, sa, 1.0), np.where(lim > ma, np.inf, -np.inf))
    p = np.where(bb > 0, ndtr(za), np.where(bb < 0, 1.0 - ndtr(za), 1.0))
    return np.asarray((p * _GH_W).sum(axis=-1))


def _minimum_nameable(u_b: np.ndarray, rho: np.ndarray, kappa: np.ndarray, ok: np.ndarray, crit: float,
                      max_relative_bias: float, power: float = 0.95) -> np.ndarray:
    r"""Smallest relative bias [-] of each meter that the naming rule of :func:`systematic_bias_test` names alone
    with probability ``power``: the bias :math:`b` at which

    .. math:: P(T_i \le c) + \sum_{j} P(T_i - T_j < c) = 1 - \text{power}

    over the competitors :math:`j` that are still plausible (:math:`\kappa_{ij} |b| \le` ``max_relative_bias``,
    :math:`\kappa_{ij}` the bias meter *j* would need to mimic meter *i*'s). The sum bounds the probability of
    any miss (Bonferroni), so the power is at least ``power``. Infinite when a competitor with the same
    signature (:math:`|\rho| = 1`) stays plausible at every size below ``max_relative_bias``'s reach.
    """
    from scipy.special import ndtr

    m = u_b.size
    comp = np.outer(ok, ok) & ~np.eye(m, dtype=bool)
    miss_target = 1.0 - power
    sc = np.sqrt(crit)
    ub = np.where(ok, u_b, 1.0)

    def miss(b: np.ndarray) -> np.ndarray:
        delta = b / ub
        det = ndtr(sc - delta) - ndtr(-sc - delta)
        active = comp & (kappa * b[:, None] <= max_relative_bias)
        pair = np.where(active, _naming_miss(np.broadcast_to(delta[:, None], rho.shape), rho, crit), 0.0)
        return np.asarray(det + pair.sum(axis=1))

    # the miss probability falls with b (each term falls, and competitors drop out): bisect in log b
    lo = np.full(m, 1e-6) * ub
    with np.errstate(divide="ignore"):
        drop = np.where(comp & (kappa > 0), max_relative_bias / np.where(kappa > 0, kappa, 1.0), 0.0)
    hi = np.maximum(np.maximum(drop.max(axis=1, initial=0.0), 1e3 * ub), lo * 2.0) * (1.0 + 1e-9)
    reach = miss(hi) <= miss_target
    for _ in range(80):
        mid = np.sqrt(lo * hi)
        good = miss(mid) <= miss_target
        hi = np.where(good, mid, hi)
        lo = np.where(good, lo, mid)
    return np.where(ok & reach, hi, np.inf)


@dataclass(frozen=True)
class _Stacked:
    """The stacked imbalances of all periods and their covariance without the unmodelled scatter."""

    r: np.ndarray  # T·k
    f: np.ndarray  # T·k × m: signature of a relative bias of each meter
    v_model: np.ndarray  # T·k × T·k
    modelled: np.ndarray  # k × k: mean modelled per-period covariance held by independent errors
    n_t: int
    k: int


def _stack(pb: PlantBalance, x: np.ndarray, bm: np.ndarray) -> _Stacked:
    n_t, m = x.shape
    k = bm.shape[0]
    r = (x @ bm.T).reshape(n_t * k)
    g = np.einsum("km,tmj->tkj", bm, pb.sens * pb.u_terms).reshape(n_t * k, -1)
    v = g @ g.T
    for t in range(n_t):
        v[t * k:(t + 1) * k, t * k:(t + 1) * k] += (bm * pb.noise[t]) @ bm.T
    # each stock survey's own error is scatter the model holds already (as a term: one survey closes a month and
    # opens the next)
    own = np.array([key.startswith("survey:") for key in pb.term_keys], dtype=bool)
    gs = g[:, own].reshape(n_t, k, -1) if own.any() else np.zeros((n_t, k, 0))
    modelled = np.mean([(bm * pb.noise[t]) @ bm.T + gs[t] @ gs[t].T for t in range(n_t)], axis=0)
    f = np.einsum("km,tm->tkm", bm, x).reshape(n_t * k, m)
    return _Stacked(r, f, v, modelled, n_t, k)


def _scatter(st: _Stacked, resid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of the stacked imbalances with the month-to-month scatter the model does not hold (timing
    between meters, stock, spikes the validation kept), estimated from ``resid`` (the imbalances less the
    hypothesised bias: their sample covariance about the mean, less the modelled noise) and added as independent
    noise of every period; returns ``(V, extra)``."""
    n_t, k = st.n_t, st.k
    v = st.v_model.copy()
    extra = np.zeros((k, k))
    if n_t > 2:
        sample = np.atleast_2d(np.cov(resid.reshape(n_t, k), rowvar=False))
        w, q = np.linalg.eigh(sample - st.modelled)
        extra = (q * np.clip(w, 0, None)) @ q.T
        for t in range(n_t):
            v[t * k:(t + 1) * k, t * k:(t + 1) * k] += extra
    return v, extra


@dataclass(frozen=True)
class _Glr:
    tst: np.ndarray  # GLR per meter (0 where not testable)
    b_hat: np.ndarray
    den: np.ndarray  # f_iᵀV⁻¹f_i
    num: np.ndarray
    gram: np.ndarray  # f_iᵀV⁻¹f_j
    chi2: float
    ok: np.ndarray


def _glr(st: _Stacked, v: np.ndarray) -> _Glr:
    lo = np.linalg.cholesky(v)
    rw = np.linalg.solve(lo, st.r)
    fw = np.linalg.solve(lo, st.f)
    den = (fw**2).sum(axis=0)
    num = fw.T @ rw
    ok = den > 0
    safe = np.where(ok, den, 1.0)
    return _Glr(np.where(ok, num**2 / safe, 0.0), np.where(ok, num / safe, np.nan), den, num, fw.T @ fw,
                float(rw @ rw), ok)


def systematic_bias_test(pb: PlantBalance, *, alpha: float = 0.05,
                         bias: dict[str, float] | None = None, max_relative_bias: float = 0.5) -> dict[str, Any]:
    r"""Which meter reads beyond its certificate? — the balance test over all periods at once (超差计量点识别).

    The imbalances of every period ``r_t = B x_t`` (``B``: the measured-only constraints, unmeasured flows
    projected out) are stacked into one vector whose covariance keeps each instrument's relative error
    correlated across the periods, as the account and the CEMS leg model it:

    .. math:: V = G\,\mathrm{diag}(u^2)\,G^T + \mathrm{blockdiag}_t(B N_t B^T + E),\qquad G_{t,:,k} = B\,S_{t,:,k}

    (``S``: sensitivities of the flows to the terms, ``N``: independent noise, ``E``: the month-to-month scatter
    the model does not hold, estimated from the imbalances). The global test is ``χ² = rᵀV⁻¹r`` on ``T·k``
    degrees of freedom. A meter ``i`` that reads ``(1+b)`` times the truth in every period adds ``b·f_i`` with
    ``f_{i,t} = B_{:,i} x_{i,t}``; its generalised likelihood ratio ``T_i = (f_iᵀV⁻¹r)² / (f_iᵀV⁻¹f_i)`` is χ²(1)
    under the null hypothesis — and because ``V`` already holds the meter's own calibration uncertainty in the
    direction ``f_i``, a bias inside what its certificate states is not called gross. Critical value ``c``:
    Bonferroni over the meters. Detection uses ``E`` estimated under the null hypothesis (all detected meters:
    ``T_i > c``).

    Which meter? A relative bias follows the flow, so it varies from month to month; estimated under the null
    hypothesis ``E`` would take that variation for scatter and blur exactly the direction that tells a meter
    from its twin (a product's Coriolis meter from the tank's shipments). So each detected meter ``h`` is judged
    with ``E_h`` estimated from the imbalances less its own fitted bias (the nuisance estimated under the
    hypothesis, as in a likelihood ratio): under ``V_h``, ``T_h − T_j`` is twice the log-likelihood ratio of
    "meter h is biased" against "meter j is biased". ``h`` *leads* when ``T_h > c`` and every other detected
    meter falls short of it by at least ``c`` under ``V_h``. The meter is named when it is the only one that
    leads (statistics under different ``V_h`` are not compared with each other: each hypothesis is judged by its own
    pairwise likelihood ratios); otherwise the meters within ``c`` of the best are reported together as candidates (an equivalence
    set when their signatures coincide).

    How far two meters can be told apart is fixed by the network: with ``ρ_ij`` the correlation of their
    whitened signatures and ``δ = b/u_b,i``, the lead is ``(z_i − z_j)(z_i + z_j)``, a product of two
    independent normals of means ``δ(1 ∓ ρ)`` and variances ``2(1 ∓ ρ)``. The **minimum nameable bias** is the
    size at which ``P(T_i ≤ c) + Σ_j P(T_i − T_j < c) = 5 %`` (named alone with at least 95 % power) —
    infinite when another meter has the same signature (``ρ = 1``: no redundancy tells them apart, the pair
    is reported as a set) — except that a competitor drops out once the bias it would need to mimic meter
    ``i`` (``κ_ij·b``, ``κ_ij = f_iᵀV⁻¹f_j / f_jᵀV⁻¹f_j``) exceeds ``max_relative_bias`` (set aside as
    implausible, as in the test).

    Parameters
    ----------
    pb : PlantBalance
    alpha : float
        Family-wise level.
    bias : dict, optional
        Relative bias to apply to named flows before testing (``{"methanol": 0.05}``): an injected gross
        error, for validation.
    max_relative_bias : float
        Meters whose estimated bias exceeds this in magnitude are set aside as implausible (listed).

    Returns
    -------
    dict
        ``chi2``, ``dof``, ``p``, ``critical``, ``detected``, ``named`` (or None), ``candidates``, ``meters``
        (per meter, largest ``T`` first — ``T`` and ``b`` under ``V_h`` of the best meter when something is
        detected, else under the null —: ``T``, ``b``, ``u_b``, ``minimum_detectable_bias`` — the relative bias
        detected with 95 % power, ``u_b·(√critical + 1.645)`` —, ``minimum_nameable_bias`` (None when
        infinite), the ``nearest`` meter (largest ``|ρ|``) and ``rho``, and its ``instruments``),
        ``implausible``, ``extra_scatter_tC``, ``rule``.

    References
    ----------
    Narasimhan & Jordache (2000) ch. 7 (GLR for a bias, equivalent sets), ch. 8 (over time);
    VDI 2048-1:2017 §8.
    """
    from scipy import stats

    names = list(pb.network.measured_names)
    x = pb.x.copy()
    for nm, b in (bias or {}).items():
        x[:, names.index(nm)] *= 1.0 + b
    red = _reduce(pb.network.incidence, pb.network.measured)
    bm = red.b  # k × m
    n_t, m = x.shape
    st = _stack(pb, x, bm)
    v0, extra = _scatter(st, st.r)
    g0 = _glr(st, v0)
    ok = g0.ok
    # a small flow "explaining" the imbalance by reading tens of per cent off is not a credible meter fault
    # (range and plausibility checks would have caught it): set aside and listed, never named
    implausible = ok & (np.abs(g0.b_hat) > max_relative_bias)
    tst = np.where(implausible, 0.0, g0.tst)
    crit = float(stats.chi2.ppf(1.0 - alpha / max(int(ok.sum()), 1), 1))
    pool = np.flatnonzero(tst > crit)
    detected = bool(pool.size)
    shown, b_shown = tst, g0.b_hat
    cands: list[str] = []
    if detected:
        # each detected meter under the scatter left once its own bias is removed
        lead: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for h in pool:
            gh = _glr(st, _scatter(st, st.r - g0.b_hat[h] * st.f[:, h])[0])
            lead[int(h)] = (np.where(ok & (np.abs(gh.b_hat) <= max_relative_bias), gh.tst, 0.0), gh.b_hat)
        best = max(lead, key=lambda h: lead[h][0][h])
        leaders = [h for h, (th, _) in lead.items()
                   if th[h] > crit and all(th[h] - th[j] >= crit for j in pool if j != h and th[j] > crit)]
        tb, b_shown = lead[best]
        shown = tb
        if len(leaders) == 1:
            cands = [names[leaders[0]]]
        else:
            near = [int(j) for j in pool if tb[j] > crit and tb[best] - tb[j] < crit]
            cands = [names[j] for j in sorted(set(near) | set(leaders) | {best}, key=lambda j: -tb[j])]
    nrm = np.sqrt(np.where(ok, g0.den, 1.0))  # the norm of each whitened signature
    u_b = np.where(ok, 1.0 / nrm, np.nan)
    # separability of each meter from the one whose signature is closest to its own (under the null scatter)
    rho = np.where(np.outer(ok, ok), g0.gram / np.outer(nrm, nrm), 0.0)
    np.fill_diagonal(rho, 0.0)
    nearest = np.argmax(np.abs(rho), axis=1)
    rho_max = np.clip(np.abs(rho[np.arange(m), nearest]), 0.0, 1.0)
    # meter j stops competing with i once the bias it would need to mimic i's (κ_ij·b) is implausible
    kappa = np.abs(g0.gram) / np.where(ok, g0.den, 1.0)[None, :]
    mnb = _minimum_nameable(u_b, rho, kappa, ok, crit, max_relative_bias)
    order = np.argsort(-shown)
    chi2 = g0.chi2
    dof = n_t * st.k
    return {
        "chi2": round(chi2, 3), "dof": dof, "p": float(stats.chi2.sf(chi2, dof)), "critical": round(crit, 3),
        "detected": detected, "named": cands[0] if len(cands) == 1 else None, "candidates": cands,
        "implausible": [names[j] for j in np.flatnonzero(implausible)],
        "extra_scatter_tC": [float(np.sqrt(max(extra[i, i], 0.0))) for i in range(st.k)],
        "meters": [{"flow": names[j], "T": round(float(shown[j]), 3), "b": round(float(b_shown[j]), 6),
                    "u_b": round(float(u_b[j]), 6),
                    "minimum_detectable_bias": round(float(u_b[j] * (np.sqrt(crit) + _Z_POWER)), 6),
                    "minimum_nameable_bias": round(float(mnb[j]), 6) if np.isfinite(mnb[j]) else None,
                    "nearest": names[int(nearest[j])], "rho": round(float(rho_max[j]), 6),
                    "instruments": pb.instruments.get(names[j], [])}
                   for j in order],
        "rule": "逐期不平衡量联合检验, 器具相对误差跨期相关; 单点偏差广义似然比, Bonferroni (α = 0.05); 各检出计量点在扣除其自身偏差后"
                "估计的残余离散下比较, T 领先其余检出计量点至少临界值且唯一时指认, 否则报告候选集 / stacked imbalances with each "
                "instrument's relative error correlated across periods; GLR of a relative bias per meter, "
                "Bonferroni-adjusted (α = 0.05); each detected meter judged with the scatter estimated once its own "
                "bias is removed; named when it alone leads every other detected meter by the critical value, "
                "else the candidate set is reported",
    }


def three_way(cmp: Any, rec: PlantReconciliation) -> dict[str, Any]:
    """CEMS ↔ accounting ↔ reconciled balance, per month and for the year (三方比对).

    The reconciled direct emissions are the sum of the reconciled emission flows of the balance (vents, flare,
    regenerator, stacks) [tCO2]; their u comes from the reconciled covariance. They are not independent of the
    two legs (the balance is built from both), so beside them stands the balance's own test: a reconciled
    figure is only worth signing when the balance passes (``balance_passed``).

    Parameters
    ----------
    cmp : Comparison
        The CEMS–accounting comparison (:func:`compare_accounts`).
    rec : PlantReconciliation
        The reconciled balance of the same enterprise-year.

    Returns
    -------
    dict
        ``periods``: per month then the year — ``cems``, ``accounting``, ``reconciled`` and their ``u``
        [tCO2], the relative deviations of CEMS and accounting from the reconciled figure [%], the CEMS–accounting
        ``En``, ``balance_p`` and ``balance_passed``; ``emission_flows``.
    """
    net = rec.balance.network
    cems_names = {s.name for s in (cmp.legs[0].streams if cmp.legs else [])}
    idx = [j for j, st in enumerate(net.streams) if st.name in cems_names and st.target is None]
    mo, an = rec.monthly, rec.annual
    rows = []
    by_period = {r["period"]: r for r in cmp.rows}

    def row(label: str, val: float, u: float, p: float, passed: bool) -> dict[str, Any]:
        r = by_period.get(label, {})
        c, a = r.get("cems"), r.get("accounting")
        rel = (lambda x: None if x is None or val == 0 else round(100 * (x - val) / val, 4))
        return {"period": label, "cems": c, "u_cems": r.get("u_cems"), "accounting": a,
                "u_accounting": r.get("u_accounting"), "reconciled": round(val, 4), "u_reconciled": round(u, 4),
                "cems_vs_reconciled_pct": rel(c), "accounting_vs_reconciled_pct": rel(a), "En": r.get("En"),
                "balance_p": round(p, 6), "balance_passed": passed}

    for t, label in enumerate(mo.periods):
        v = float(mo.value[t, idx].sum()) * CO2_PER_C
        u = float(np.sqrt(mo.covariance[t][np.ix_(idx, idx)].sum())) * CO2_PER_C
        rows.append(row(label, v, u, float(mo.p_value[t]), bool(mo.passed[t])))
    v = float(an.value[idx].sum()) * CO2_PER_C
    u = float(np.sqrt(an.covariance[np.ix_(idx, idx)].sum())) * CO2_PER_C
    rows.append(row(str(rec.balance.year), v, u, float(an.p_value), bool(an.passed)))
    return {"enterprise": rec.balance.enterprise, "year": rec.balance.year, "unit": "tCO2",
            "emission_flows": [net.streams[j].name for j in idx], "periods": rows}
