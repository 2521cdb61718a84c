"""Results of the footprint engine (碳足迹结果): plain frozen dataclasses, units in the docstrings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from carbonmet.quantities import MeasuredQuantity, Provenance, Source

from ._errors import FootprintError

Array = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class FootprintResult:
    """The deterministic footprint of one demand (functional unit).

    Attributes
    ----------
    demand : dict
        Product → amount of the functional unit (in the product's unit).
    score : float
        Carbon footprint [kg CO2e per functional unit]: GWP100-weighted emissions, **captured CO2 not netted**.
    captured_co2 : float
        CO2 captured for storage or use in the system [kg CO2 per functional unit], ≥ 0 for capture; report it
        in its own field (PACT v3 ``ccsTechnologicalCO2Capture`` = −captured_co2).
    supply : ndarray
        Scaling (supply) vector s of A s = f, one entry per activity [activity reference-product units].
    activities, stages : tuple of str
        Activity names and their stage labels, aligned with ``supply`` and ``contribution``.
    contribution : ndarray
        Score contributed by each activity's own emissions [kg CO2e per functional unit]; sums to ``score``.
    by_stage : dict
        Contribution summed by stage label [kg CO2e per functional unit].
    inventory : dict
        Life-cycle inventory by gas [kg gas per functional unit] (captured CO2 not included).
    gwp_set : str
        IPCC assessment report of the GWP100 values.
    allocation : str
        Co-product allocation method the technosphere was built with.
    notes : tuple of str
        Allocation factors used and the GWP100 values with their source and evidence mark.
    """

    demand: dict[str, float]
    score: float
    captured_co2: float
    supply: Array
    activities: tuple[str, ...]
    stages: tuple[str, ...]
    contribution: Array
    by_stage: dict[str, float]
    inventory: dict[str, float]
    gwp_set: str
    allocation: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class McSummary:
    """Summary of Monte Carlo draws of one score or one difference [kg CO2e per functional unit].

    ``deterministic`` is the static result; with lognormal inputs (amount = median) the MC mean lies above it.
    """

    deterministic: float
    mean: float
    sd: float
    median: float
    p2_5: float
    p97_5: float
    iterations: int

    def quantity(self, name: str = "carbon footprint") -> MeasuredQuantity:
        """The static score as a measured quantity [kg CO2e per functional unit] with u = the Monte Carlo sd."""
        return MeasuredQuantity(
            value=self.deterministic,
            unit="kgCO2e",
            u=self.sd,
            name=name,
            provenance=Provenance(
                source=Source.CALCULATED,
                method=f"LCA Monte Carlo, {self.iterations} iterations (carbonmet.footprint)",
                note=f"MC mean {self.mean:.6g}, median {self.median:.6g}, 95 % [{self.p2_5:.6g}, {self.p97_5:.6g}]",
            ),
        )

    @classmethod
    def of(cls, draws: Array, deterministic: float) -> McSummary:
        """Summarise ``draws`` (1-D)."""
        lo, med, hi = np.percentile(draws, [2.5, 50.0, 97.5])
        return cls(
            float(deterministic),
            float(np.mean(draws)),
            float(np.std(draws, ddof=1)) if draws.size > 1 else float("nan"),
            float(med),
            float(lo),
            float(hi),
            int(draws.size),
        )


@dataclass(frozen=True, eq=False)
class MonteCarloResult:
    """Monte Carlo draws of the score of several demands.

    Attributes
    ----------
    labels : tuple of str
        Demand labels, one per column of ``scores``.
    scores : ndarray, shape (iterations, n_demands)
        Score per iteration and demand [kg CO2e per functional unit].
    captured_co2 : ndarray, shape (iterations, n_demands)
        Captured CO2 per iteration and demand [kg CO2 per functional unit].
    deterministic : ndarray, shape (n_demands,)
        Static scores.
    paired : bool
        True when one draw of every exchange served all demands in an iteration (common random numbers).
    seed : int or None
        Seed of the generator.
    """

    labels: tuple[str, ...]
    scores: Array
    captured_co2: Array
    deterministic: Array
    paired: bool
    seed: int | None
    notes: tuple[str, ...] = field(default=())

    def _col(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            raise FootprintError(f"no demand labelled {label!r}; known: {', '.join(self.labels)}") from None

    def summary(self, label: str) -> McSummary:
        """Mean, sd, median and 95 % interval of the score of demand ``label``."""
        j = self._col(label)
        return McSummary.of(self.scores[:, j], float(self.deterministic[j]))

    def difference(self, a: str, b: str) -> McSummary:
        """Distribution of score(a) − score(b), iteration by iteration (meaningful with paired draws)."""
        i, j = self._col(a), self._col(b)
        return McSummary.of(
            self.scores[:, i] - self.scores[:, j], float(self.deterministic[i] - self.deterministic[j])
        )


@dataclass(frozen=True, eq=False)
class LpuResult:
    """First-order (linear) propagation of exchange uncertainties to the score (一阶不确定度传播).

    Attributes
    ----------
    score : float
        Deterministic score [kg CO2e per functional unit].
    sd : float
        Standard uncertainty of the score under independent exchanges [kg CO2e per functional unit].
    sensitivity : ndarray
        ∂score/∂x for every parameter x [kg CO2e per functional unit per exchange unit].
    variance : ndarray
        Each parameter's share of the score variance, (∂score/∂x)² var(x) [(kg CO2e)²].
    param_names : tuple of str
        Parameter labels aligned with the arrays.
    """

    score: float
    sd: float
    sensitivity: Array
    variance: Array
    param_names: tuple[str, ...]

    def quantity(self, name: str = "carbon footprint") -> MeasuredQuantity:
        """The score as a measured quantity [kg CO2e per functional unit] with u from first-order propagation."""
        return MeasuredQuantity(
            value=self.score,
            unit="kgCO2e",
            u=self.sd,
            name=name,
            provenance=Provenance(
                source=Source.CALCULATED, method="LCA first-order propagation (carbonmet.footprint)"
            ),
        )

    def budget(self, top: int = 10) -> list[tuple[str, float, float]]:
        """The ``top`` parameters by variance share: ``(label, sensitivity, fraction of the variance)``."""
        total = float(self.variance.sum())
        order = np.argsort(self.variance)[::-1][:top]
        return [
            (
                self.param_names[i] if i < len(self.param_names) else f"parameter #{i}",
                float(self.sensitivity[i]),
                float(self.variance[i] / total) if total > 0 else 0.0,
            )
            for i in order
        ]


@dataclass(frozen=True)
class AllocationRow:
    """One line of the allocation sensitivity table: the footprint under one method.

    ``score`` is nan and ``note`` says why when the method cannot be applied (a missing property).
    ``relative_to_chosen`` is score / chosen score − 1.
    """

    method: str
    score: float
    captured_co2: float
    relative_to_chosen: float
    chosen: bool
    note: str = ""
