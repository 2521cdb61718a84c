"""The product system as arrays (产品系统矩阵): technosphere and biosphere entries, parameters, characterisation.

Each matrix entry ``e`` is ``scale[e] · x[param[e]]``: the parameter ``x`` is one exchange as the data set
states it (with its distribution), the scale is 1 unless allocation split or moved the exchange. Several entries
may share a parameter (a partitioned multi-output activity keeps one draw for all its parts) and several entries
may fall on one matrix cell (they are summed).

Sign convention (as bw2calc and openLCA): technosphere outputs positive, inputs negative; biosphere amounts are
emissions (kg of the gas per unit of the activity's reference product), captured CO2 positive in its own flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ._errors import FootprintError
from ._spread import KIND_NAMES, NONE

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

CAPTURED_CO2 = "captured_CO2"
"""Name of the flow that carries CO2 captured for storage or use (CCS/CCU); characterised by 0, reported apart."""


@dataclass(frozen=True, eq=False)
class LcaMatrices:
    """A product system ready for the engine: square technosphere, biosphere, parameters, characterisation.

    Attributes
    ----------
    activities : tuple of str
        Activity names; activity ``j`` is column ``j`` and its reference product is row ``j``.
    products : tuple of str
        Reference product of each activity (unique).
    stages : tuple of str
        Life-cycle stage label of each activity (``"mining"``, ``"gasification"``, ``"grid"``, …).
    flows : tuple of str
        Elementary flows (gases, and :data:`CAPTURED_CO2`), the biosphere rows.
    characterisation : ndarray, shape (n_flows,)
        GWP100 of each flow [kg CO2e / kg]; 0 for captured CO2.
    tech_rows, tech_cols, tech_param : ndarray of int64
        Technosphere entries: product row, activity column, parameter index.
    tech_scale : ndarray
        Scale of each technosphere entry on its parameter [-].
    bio_rows, bio_cols, bio_param, bio_scale
        The same for biosphere entries (flow row).
    amount, kind, p1, p2 : ndarray
        Parameters: deterministic amount, distribution code, distribution parameters (see :class:`Spread`).
    param_names : tuple of str
        A label per parameter (``"activity <- product"`` or ``"activity -> gas"``), for budgets and errors.
    gwp_set : str
        IPCC set of the characterisation (``"AR6"``).
    allocation : str
        Allocation method used to make the technosphere square (``"none"`` if no multi-output activity).
    """

    activities: tuple[str, ...]
    products: tuple[str, ...]
    stages: tuple[str, ...]
    flows: tuple[str, ...]
    characterisation: Array
    tech_rows: IntArray
    tech_cols: IntArray
    tech_param: IntArray
    tech_scale: Array
    bio_rows: IntArray
    bio_cols: IntArray
    bio_param: IntArray
    bio_scale: Array
    amount: Array
    kind: NDArray[np.int8]
    p1: Array
    p2: Array
    param_names: tuple[str, ...] = ()
    gwp_set: str = ""
    allocation: str = "none"
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n, m, k = len(self.activities), len(self.flows), self.amount.size
        if len(self.products) != n or len(self.stages) != n:
            raise FootprintError(
                f"{n} activities but {len(self.products)} products and {len(self.stages)} stages"
            )
        if len(set(self.products)) != n:
            dup = sorted({p for p in self.products if self.products.count(p) > 1})
            raise FootprintError(f"products with more than one provider: {', '.join(dup[:10])}")
        if self.characterisation.shape != (m,):
            raise FootprintError(f"characterisation has shape {self.characterisation.shape}, expected ({m},)")
        for name, rows, cols, param, scale, nrow in (
            ("technosphere", self.tech_rows, self.tech_cols, self.tech_param, self.tech_scale, n),
            ("biosphere", self.bio_rows, self.bio_cols, self.bio_param, self.bio_scale, m),
        ):
            if not (rows.shape == cols.shape == param.shape == scale.shape):
                raise FootprintError(f"{name} entry arrays differ in length")
            if rows.size and (rows.min() < 0 or rows.max() >= nrow or cols.min() < 0 or cols.max() >= n):
                raise FootprintError(f"{name} entry index out of range")
            if param.size and (param.min() < 0 or param.max() >= k):
                raise FootprintError(f"{name} entry refers to a parameter that does not exist")
        if not (self.kind.shape == self.p1.shape == self.p2.shape == (k,)):
            raise FootprintError("parameter arrays differ in length")
        if not np.all(np.isfinite(self.amount)):
            bad = int(np.flatnonzero(~np.isfinite(self.amount))[0])
            raise FootprintError(f"parameter {self.param_label(bad)}: amount is not finite")

    @property
    def size(self) -> int:
        """Number of activities."""
        return len(self.activities)

    def param_label(self, i: int) -> str:
        """Readable label of parameter ``i``."""
        return self.param_names[i] if i < len(self.param_names) else f"parameter #{i}"

    @classmethod
    def from_arrays(
        cls,
        activities: Sequence[str],
        products: Sequence[str],
        stages: Sequence[str],
        flows: Sequence[str],
        characterisation: Sequence[float] | Array,
        technosphere: tuple[IntArray, IntArray, Array],
        biosphere: tuple[IntArray, IntArray, Array],
        *,
        tech_spread: tuple[Sequence[str] | NDArray[np.str_], Array, Array] | None = None,
        bio_spread: tuple[Sequence[str] | NDArray[np.str_], Array, Array] | None = None,
        gwp_set: str = "",
    ) -> LcaMatrices:
        """Build from plain COO arrays, one parameter per exchange (no allocation: the system is already square).

        Parameters
        ----------
        technosphere, biosphere : (rows, cols, amounts)
            Exchanges; technosphere outputs positive, inputs negative.
        tech_spread, bio_spread : (kind, p1, p2), optional
            Distribution per exchange: kind names (``"lognormal"`` …), ``p1`` = sigma (lognormal), sd (normal)
            or minimum (triangular, uniform), ``p2`` = maximum (triangular, uniform).
        """
        tr, tc, ta = (np.asarray(a) for a in technosphere)
        br, bc, ba = (np.asarray(a) for a in biosphere)
        nt = ta.size
        amount = np.concatenate([ta, ba]).astype(np.float64)

        def kinds(
            spread: tuple[object, Array, Array] | None, size: int
        ) -> tuple[NDArray[np.int8], Array, Array]:
            if spread is None:
                return np.zeros(size, np.int8), np.full(size, np.nan), np.full(size, np.nan)
            names, a, b = spread
            labels = np.asarray(names)
            uniq, inv = np.unique(labels, return_inverse=True)
            codes = {v: k for k, v in KIND_NAMES.items()}
            unknown = [str(u) for u in uniq if str(u) not in codes]
            if unknown:
                raise FootprintError(f"unknown distribution kind(s) {unknown}; known: {', '.join(codes)}")
            lut = np.array([codes[str(u)] for u in uniq], np.int8)
            return lut[inv].reshape(-1), np.asarray(a, np.float64), np.asarray(b, np.float64)

        k1, a1, b1 = kinds(tech_spread, nt)
        k2, a2, b2 = kinds(bio_spread, ba.size)
        return cls(
            activities=tuple(activities),
            products=tuple(products),
            stages=tuple(stages),
            flows=tuple(flows),
            characterisation=np.asarray(characterisation, np.float64),
            tech_rows=tr.astype(np.int64),
            tech_cols=tc.astype(np.int64),
            tech_param=np.arange(nt, dtype=np.int64),
            tech_scale=np.ones(nt),
            bio_rows=br.astype(np.int64),
            bio_cols=bc.astype(np.int64),
            bio_param=np.arange(nt, nt + ba.size, dtype=np.int64),
            bio_scale=np.ones(ba.size),
            amount=amount,
            kind=np.concatenate([k1, k2]),
            p1=np.concatenate([a1, a2]),
            p2=np.concatenate([b1, b2]),
            gwp_set=gwp_set,
        )

    @property
    def uncertain(self) -> NDArray[np.bool_]:
        """Mask of the parameters that carry a distribution."""
        return self.kind != NONE
