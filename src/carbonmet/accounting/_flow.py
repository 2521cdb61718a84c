"""A flow per period with the relative terms that scale it and its independent noise (中间量).

Both ways into an account — annual figures from an inventory file and hourly data from the metering and
lab stores — end in :class:`Flow` objects (fuel heat, carbon in a material, MWh …), which the stream
builders multiply by factors and turn into :class:`~._core.Part` and :class:`~._core.Noise`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._core import Noise, Part, TermKind


@dataclass(frozen=True, slots=True)
class Flow:
    """Values per period in ``unit``, scaled by ``Π(1+δ_k)`` for ``terms``, plus independent noise."""

    what: str
    values: np.ndarray
    unit: str
    terms: tuple[str, ...] = ()
    noise: np.ndarray | None = None  # absolute standard uncertainty per period, in ``unit``
    noise_key: str = ""
    noise_kind: TermKind = "sampling"

    def times(self, factor: float, unit: str, terms: tuple[str, ...] = ()) -> Flow:
        """This flow multiplied by a constant ``factor`` carrying ``terms`` (a default OF, 44/12 …)."""
        return Flow(self.what, self.values * factor, unit, self.terms + tuple(t for t in terms if t),
                    None if self.noise is None else self.noise * abs(factor), self.noise_key, self.noise_kind)

    def scaled(self, other: np.ndarray, unit: str, terms: tuple[str, ...] = ()) -> Flow:
        """This flow multiplied period by period by ``other`` (e.g. a monthly purity)."""
        return Flow(self.what, self.values * other, unit, self.terms + tuple(t for t in terms if t),
                    None if self.noise is None else self.noise * np.abs(other), self.noise_key, self.noise_kind)

    def part(self, sign: float = 1.0, what: str = "") -> Part:
        """The flow as a signed contribution [its unit, tCO2 when it has been converted]."""
        return Part(what or self.what, sign * self.values, self.terms)

    def noises(self, label: str = "") -> list[Noise]:
        """Its noise as a :class:`Noise` (empty when it has none)."""
        if self.noise is None or not np.any(self.noise > 0):
            return []
        return [Noise(self.noise_key or f"noise:{self.what}", self.noise, self.noise_kind, label or self.what)]

    @property
    def total(self) -> float:
        return float(self.values.sum())
