"""One call for both methods plus validation (what the CLI and the accounting engine use)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from ._lpu import LpuResult, lpu
from ._mcm import McmResult, mcm
from ._model import Model
from ._validate import Validation, validate_lpu

__all__ = ["Evaluation", "evaluate"]


@dataclass(frozen=True)
class Evaluation:
    """LPU and/or MCM results of one model and, when both ran, the JCGM 101 §8 validation."""

    model: Model = field(repr=False)
    lpu: LpuResult | None = None
    mcm: McmResult | None = None
    validation: Validation | None = None

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON object: lpu, mcm, validation, budget."""
        out: dict[str, Any] = {"output": self.model.output, "unit": self.model.unit}
        out["lpu"] = self.lpu.to_dict() if self.lpu else None
        out["mcm"] = self.mcm.to_dict() if self.mcm else None
        out["validation"] = self.validation.to_dict() if self.validation else None
        out["budget"] = (
            [
                {
                    "input": r.input,
                    "sensitivity": r.sensitivity,
                    "u_contribution": r.u_contribution,
                    "variance_share": r.variance_share,
                    "estimate": r.estimate,
                    "u": r.u,
                    "dof": None if math.isinf(r.dof) else r.dof,
                    "distribution": r.distribution,
                }
                for r in self.lpu.budget
            ]
            if self.lpu
            else []
        )
        if self.lpu and self.lpu.notes:
            out["notes"] = list(self.lpu.notes)
        return out


def evaluate(
    model: Model,
    method: Literal["lpu", "mcm", "both"] = "both",
    *,
    coverage: float = 0.95,
    trials: int = 1_000_000,
    adaptive: bool = False,
    ndig: int = 2,
    seed: int | None = None,
    workers: int | None = None,
    k: float | None = None,
) -> Evaluation:
    """Evaluate a model by the law of propagation, the Monte Carlo method, or both (+ validation)."""
    if method not in ("lpu", "mcm", "both"):
        raise ValueError(f"method must be 'lpu', 'mcm' or 'both', got {method!r}")
    r_lpu = lpu(model, coverage=coverage, k=k) if method in ("lpu", "both") else None
    r_mcm = (
        mcm(model, trials, coverage=coverage, seed=seed, adaptive=adaptive, ndig=ndig, workers=workers)
        if method in ("mcm", "both")
        else None
    )
    val = validate_lpu(r_lpu, r_mcm, ndig=ndig) if (r_lpu is not None and r_mcm is not None) else None
    return Evaluation(model=model, lpu=r_lpu, mcm=r_mcm, validation=val)
