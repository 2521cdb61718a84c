"""Product system builder and co-product allocation (产品系统与共生产品分配).

A :class:`ProductSystem` holds activities (each with a reference product and a stage label), their co-products,
technosphere inputs, emissions by gas and captured CO2, each exchange optionally with a :class:`Spread`.
:meth:`ProductSystem.matrices` resolves multi-output activities by one of the ISO 14044 §4.3.4 procedures and
returns the square :class:`LcaMatrices` the engine solves:

* ``"substitution"`` (system expansion, ISO 14044 §4.3.4.2 step 1): the activity keeps all its inputs and
  emissions; each co-product is credited as an avoided supply of a named product (its provider's output is
  reduced by the co-product amount).
* ``"mass"``, ``"energy"`` (physical partitioning, step 2) and ``"economic"`` (step 3): the activity is split into
  one activity per product, each taking the share a_i·q_i / Σ a_k·q_k of every input and emission, where q is the
  product's ``mass`` [kg/unit], ``energy`` [MJ/unit] or ``price`` [currency/unit] property.

The split activities keep one parameter per original exchange, so a Monte Carlo draw moves all parts together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from carbonmet.factors import FactorError, gwp

from ._engine import Demand, Lca
from ._errors import FootprintError
from ._matrices import CAPTURED_CO2, LcaMatrices
from ._results import AllocationRow, FootprintResult
from ._spread import Spread

ALLOCATION_METHODS = ("substitution", "mass", "energy", "economic")
"""Allocation methods in the order of the ISO 14044 §4.3.4 hierarchy."""
_PROPERTY = {"mass": "mass", "energy": "energy", "economic": "price"}


@dataclass
class _Activity:
    name: str
    product: str
    amount: float
    stage: str
    properties: dict[str, float]
    coproducts: list[_Coproduct] = field(default_factory=list)


@dataclass
class _Coproduct:
    product: str
    amount: float
    properties: dict[str, float]
    avoids: str | None


@dataclass
class _Exchange:
    activity: str
    kind: str  # "input" | "emission"
    target: str  # product or gas (CAPTURED_CO2 for capture)
    amount: float
    spread: Spread


def _finite(value: float, where: str) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise FootprintError(f"{where}: amount is not finite ({value!r})")
    return v


class ProductSystem:
    """A product system being described: activities, co-products, inputs, emissions, captured CO2.

    Parameters
    ----------
    gwp_set : str
        IPCC set of the GWP100 values (``"AR6"`` default, ``"AR5"``), read from ``carbonmet.factors``.
    """

    def __init__(self, gwp_set: str = "AR6") -> None:
        self.gwp_set = gwp_set
        self._activities: dict[str, _Activity] = {}
        self._exchanges: list[_Exchange] = []

    # ---- description ----------------------------------------------------------------------------------
    def add_activity(
        self,
        name: str,
        product: str,
        *,
        stage: str,
        amount: float = 1.0,
        properties: Mapping[str, float] | None = None,
    ) -> None:
        """Add an activity producing ``amount`` of its reference ``product`` (stage: ``"mining"``, ``"grid"``…).

        ``properties`` of the reference product per unit: ``mass`` [kg], ``energy`` [MJ], ``price`` [currency],
        used by partitioning when the activity has co-products.
        """
        if name in self._activities:
            raise FootprintError(f"activity {name!r} is described twice")
        amount = _finite(amount, f"activity {name!r}, reference product {product!r}")
        if amount == 0.0:
            raise FootprintError(f"activity {name!r}: the reference product amount cannot be 0")
        self._activities[name] = _Activity(name, product, amount, stage, dict(properties or {}))

    def _activity(self, name: str) -> _Activity:
        try:
            return self._activities[name]
        except KeyError:
            raise FootprintError(f"no activity named {name!r}; add it with add_activity first") from None

    def add_coproduct(
        self,
        activity: str,
        product: str,
        amount: float,
        *,
        properties: Mapping[str, float] | None = None,
        avoids: str | None = None,
    ) -> None:
        """Declare a co-product of ``activity`` (多产品过程的共生产品).

        ``properties`` per unit as for :meth:`add_activity`; ``avoids`` names the product whose supply the
        co-product replaces under system expansion.
        """
        act = self._activity(activity)
        amount = _finite(amount, f"activity {activity!r}, co-product {product!r}")
        if amount <= 0.0:
            raise FootprintError(f"activity {activity!r}, co-product {product!r}: amount must be > 0")
        if product == act.product or any(c.product == product for c in act.coproducts):
            raise FootprintError(f"activity {activity!r} already outputs {product!r}")
        act.coproducts.append(_Coproduct(product, amount, dict(properties or {}), avoids))

    def add_input(self, activity: str, product: str, amount: float, spread: Spread | None = None) -> None:
        """``activity`` consumes ``amount`` of ``product`` per its reference amount (a technosphere input)."""
        self._activity(activity)
        amount = _finite(amount, f"activity {activity!r}, input {product!r}")
        self._exchanges.append(_Exchange(activity, "input", product, amount, spread or Spread()))

    def add_emission(self, activity: str, gas: str, amount: float, spread: Spread | None = None) -> None:
        """``activity`` emits ``amount`` kg of ``gas`` (``"CO2"``, ``"CH4"``, ``"CH4_fossil"``, ``"N2O"``…)."""
        self._activity(activity)
        if gas == CAPTURED_CO2:
            raise FootprintError(
                f"activity {activity!r}: record captured CO2 with add_capture, not as an emission"
            )
        amount = _finite(amount, f"activity {activity!r}, emission {gas!r}")
        self._exchanges.append(_Exchange(activity, "emission", gas, amount, spread or Spread()))

    def add_capture(self, activity: str, amount: float, spread: Spread | None = None) -> None:
        """``activity`` captures ``amount`` kg CO2 for storage or use (CCS/CCU): reported in its own field.

        The vented CO2 is what :meth:`add_emission` records; the captured amount is never subtracted from the score.
        """
        self._activity(activity)
        amount = _finite(amount, f"activity {activity!r}, captured CO2")
        if amount < 0.0:
            raise FootprintError(f"activity {activity!r}: captured CO2 must be ≥ 0 kg, got {amount!r}")
        self._exchanges.append(_Exchange(activity, "emission", CAPTURED_CO2, amount, spread or Spread()))

    # ---- resolution ----------------------------------------------------------------------------------------
    @property
    def multi_output(self) -> tuple[str, ...]:
        """Activities with co-products."""
        return tuple(a.name for a in self._activities.values() if a.coproducts)

    def _factors(self, act: _Activity, method: str) -> list[float]:
        key = _PROPERTY[method]
        outs = [(act.product, act.amount, act.properties)] + [
            (c.product, c.amount, c.properties) for c in act.coproducts
        ]
        weights = []
        for product, amount, props in outs:
            if key not in props:
                raise FootprintError(
                    f"activity {act.name!r}: {method} allocation needs property {key!r} of "
                    f"product {product!r}"
                )
            q = float(props[key])
            if not (math.isfinite(q) and q >= 0.0):
                raise FootprintError(
                    f"activity {act.name!r}, product {product!r}: property {key!r} = {q!r} "
                    "must be finite and ≥ 0"
                )
            weights.append(amount * q)
        total = sum(weights)
        if total <= 0.0:
            raise FootprintError(f"activity {act.name!r}: the {method} allocation weights sum to 0")
        return [wt / total for wt in weights]

    def matrices(self, allocation: str = "substitution") -> LcaMatrices:
        """Resolve co-products with ``allocation`` and return the square system for :class:`Lca`.

        Parameters
        ----------
        allocation : str
            ``"substitution"``, ``"mass"``, ``"energy"`` or ``"economic"``; ignored (recorded as ``"none"``)
            when no activity has co-products.
        """
        if allocation not in ALLOCATION_METHODS:
            raise FootprintError(
                f"unknown allocation method {allocation!r}; known: {', '.join(ALLOCATION_METHODS)}"
            )
        method = allocation if self.multi_output else "none"
        # columns: one per activity, plus one per co-product under partitioning
        names: list[str] = []
        products: list[str] = []
        stages: list[str] = []
        parts: dict[str, list[tuple[int, float]]] = {}  # activity -> [(column, share)]
        amount: list[float] = []
        kind: list[int] = []
        p1: list[float] = []
        p2: list[float] = []
        labels: list[str] = []
        t_rows: list[int] = []
        t_cols: list[int] = []
        t_par: list[int] = []
        t_scale: list[float] = []
        notes: list[str] = []
        deferred: list[tuple[str, int, int]] = []  # (avoided product, column, parameter) for substitution

        def param(value: float, spread: Spread, label: str) -> int:
            code, a, b = spread.params(value, label)
            amount.append(value)
            kind.append(code)
            p1.append(a)
            p2.append(b)
            labels.append(label)
            return len(amount) - 1

        for act in self._activities.values():
            outs = [(act.name, act.product, act.amount)]
            shares = [1.0]
            if act.coproducts and method in _PROPERTY:
                outs += [(f"{act.name} [{c.product}]", c.product, c.amount) for c in act.coproducts]
                shares = self._factors(act, method)
                notes.append(
                    f"{act.name}: {method} allocation "
                    + ", ".join(f"{p} {s:.6g}" for (_, p, _), s in zip(outs, shares, strict=True))
                )
            parts[act.name] = []
            for (col_name, product, amt), share in zip(outs, shares, strict=True):
                col = len(names)
                names.append(col_name)
                products.append(product)
                stages.append(act.stage)
                parts[act.name].append((col, share))
                p = param(amt, Spread(), f"{col_name} -> {product}")
                t_rows.append(col)
                t_cols.append(col)
                t_par.append(p)
                t_scale.append(1.0)
            if act.coproducts and method == "substitution":
                for c in act.coproducts:
                    if not c.avoids:
                        raise FootprintError(
                            f"activity {act.name!r}: substitution needs the product co-product "
                            f"{c.product!r} avoids (add_coproduct(..., avoids=...))"
                        )
                    p = param(c.amount, Spread(), f"{act.name} -> {c.product} (avoids {c.avoids})")
                    deferred.append((c.avoids, parts[act.name][0][0], p))
                    notes.append(f"{act.name}: co-product {c.product} credited as avoided {c.avoids}")
        if len(set(products)) != len(products):
            dup = sorted({p for p in products if products.count(p) > 1})
            raise FootprintError(
                f"product(s) {', '.join(dup)} have more than one provider; name co-products apart "
                "from the products they avoid"
            )
        row = {p: i for i, p in enumerate(products)}
        for avoided, col, p in deferred:
            if avoided not in row:
                raise FootprintError(f"avoided product {avoided!r} has no provider in the product system")
            t_rows.append(row[avoided])
            t_cols.append(col)
            t_par.append(p)
            t_scale.append(1.0)

        flows: list[str] = []
        flow_row: dict[str, int] = {}
        b_rows: list[int] = []
        b_cols: list[int] = []
        b_par: list[int] = []
        b_scale: list[float] = []
        for ex in self._exchanges:
            if ex.kind == "input":
                label = f"{ex.activity} <- {ex.target}"
                if ex.target not in row:
                    raise FootprintError(
                        f"activity {ex.activity!r} takes product {ex.target!r}, which no activity "
                        "provides"
                        + (
                            " (a co-product under substitution is credited, not supplied)"
                            if method == "substitution"
                            else ""
                        )
                    )
                p = param(ex.amount, ex.spread, label)
                for col, share in parts[ex.activity]:
                    t_rows.append(row[ex.target])
                    t_cols.append(col)
                    t_par.append(p)
                    t_scale.append(-share)
            else:
                label = f"{ex.activity} -> {ex.target}"
                p = param(ex.amount, ex.spread, label)
                if ex.target not in flow_row:
                    flow_row[ex.target] = len(flows)
                    flows.append(ex.target)
                for col, share in parts[ex.activity]:
                    b_rows.append(flow_row[ex.target])
                    b_cols.append(col)
                    b_par.append(p)
                    b_scale.append(share)
        char = []
        for gas in flows:
            if gas == CAPTURED_CO2:
                char.append(0.0)
                continue
            try:
                fv = gwp(gas, self.gwp_set)
            except FactorError as exc:
                raise FootprintError(
                    f"emission of {gas!r}: no GWP100 in set {self.gwp_set!r} ({exc})"
                ) from None
            char.append(fv.value)
            notes.append(
                f"GWP100 {self.gwp_set} {gas} = {fv.value:g} ({fv.clause}; evidence {fv.evidence}"
                + (", unverified" if fv.unverified else "")
                + ")"
            )

        def ints(v: list[int]) -> np.ndarray:
            return np.asarray(v, np.int64)

        return LcaMatrices(
            activities=tuple(names),
            products=tuple(products),
            stages=tuple(stages),
            flows=tuple(flows),
            characterisation=np.asarray(char, np.float64),
            tech_rows=ints(t_rows),
            tech_cols=ints(t_cols),
            tech_param=ints(t_par),
            tech_scale=np.asarray(t_scale, np.float64),
            bio_rows=ints(b_rows),
            bio_cols=ints(b_cols),
            bio_param=ints(b_par),
            bio_scale=np.asarray(b_scale, np.float64),
            amount=np.asarray(amount, np.float64),
            kind=np.asarray(kind, np.int8),
            p1=np.asarray(p1, np.float64),
            p2=np.asarray(p2, np.float64),
            param_names=tuple(labels),
            gwp_set=self.gwp_set,
            allocation=method,
            notes=tuple(notes),
        )

    def footprint(self, demand: Demand, allocation: str = "substitution") -> FootprintResult:
        """Footprint of ``demand`` with co-products resolved by ``allocation``."""
        return Lca(self.matrices(allocation)).solve(demand)

    def allocation_sensitivity(self, demand: Demand, chosen: str = "substitution") -> list[AllocationRow]:
        """The footprint of ``demand`` under every allocation method, against the ``chosen`` one.

        ISO 14044 §4.3.4.1 asks for a sensitivity analysis when several allocation procedures seem applicable.
        A method whose properties are missing gives a row with score nan and a note.
        """
        if chosen not in ALLOCATION_METHODS:
            raise FootprintError(
                f"unknown allocation method {chosen!r}; known: {', '.join(ALLOCATION_METHODS)}"
            )
        base = self.footprint(demand, chosen)
        rows = []
        for method in ALLOCATION_METHODS:
            try:
                r = base if method == chosen else self.footprint(demand, method)
            except FootprintError as exc:
                if method == chosen:
                    raise
                rows.append(AllocationRow(method, math.nan, math.nan, math.nan, False, str(exc)))
                continue
            rel = r.score / base.score - 1.0 if base.score != 0.0 else math.nan
            rows.append(AllocationRow(method, r.score, r.captured_co2, rel, method == chosen))
        return rows
