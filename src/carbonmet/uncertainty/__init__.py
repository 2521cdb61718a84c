"""Uncertainty engine: GUM law of propagation and GUM-S1 Monte Carlo (测量不确定度评定).

Evaluate any measurement model two ways — the law of propagation of uncertainty with exact
(automatic-differentiation) sensitivity coefficients, Welch–Satterthwaite dof and t-based
coverage factor (JCGM 100 / JJF 1059.1), and the Monte Carlo method with fixed or adaptive M,
symmetric and shortest coverage intervals (JCGM 101 / JJF 1059.2) — then validate one against
the other (JCGM 101 §8), explain the result with a budget, and compare results (E_n, ζ).

Example
-------
>>> from carbonmet.uncertainty import InputSet, Model, Normal, Rectangular, evaluate
>>> inputs = InputSet()
>>> _ = inputs.add("AD", Rectangular(995.0, 1005.0), unit="TJ")
>>> _ = inputs.add("EF", Normal(56.1, 0.5), unit="t/TJ")
>>> model = Model.from_expression("AD * EF", inputs, output="E", unit="t")
>>> ev = evaluate(model, trials=100_000, seed=1)
>>> round(ev.lpu.value, 1)
56100.0
"""

from ._compare import Comparison, compare, covariance, en_score, zeta_score
from ._distributions import (
    Arcsine,
    Constant,
    Distribution,
    Exponential,
    Lognormal,
    Normal,
    Rectangular,
    StudentT,
    Trapezoidal,
    Triangular,
    distribution_from_params,
    normal_from_expanded,
    rectangular_from_mpe,
    type_a,
)
from ._errors import (
    DistributionError,
    EvaluationError,
    ExpressionError,
    ModelError,
    ModelFileError,
    UncertaintyError,
)
from ._evaluate import Evaluation, evaluate
from ._expr import Expression, parse
from ._lpu import BudgetRow, LpuResult, coverage_factor, lpu, welch_satterthwaite
from ._mcm import McmResult, coverage_intervals, mcm, numerical_tolerance
from ._model import Dual, Input, InputSet, Model
from ._modelfile import load_model, model_from_dict
from ._plot import plot_histogram
from ._validate import Validation, validate_lpu

__all__ = [
    "Arcsine",
    "BudgetRow",
    "Comparison",
    "Constant",
    "Distribution",
    "DistributionError",
    "Dual",
    "Evaluation",
    "EvaluationError",
    "Exponential",
    "Expression",
    "ExpressionError",
    "Input",
    "InputSet",
    "Lognormal",
    "LpuResult",
    "McmResult",
    "Model",
    "ModelError",
    "ModelFileError",
    "Normal",
    "Rectangular",
    "StudentT",
    "Trapezoidal",
    "Triangular",
    "UncertaintyError",
    "Validation",
    "compare",
    "covariance",
    "coverage_factor",
    "coverage_intervals",
    "distribution_from_params",
    "en_score",
    "evaluate",
    "load_model",
    "lpu",
    "mcm",
    "model_from_dict",
    "normal_from_expanded",
    "numerical_tolerance",
    "parse",
    "plot_histogram",
    "rectangular_from_mpe",
    "type_a",
    "validate_lpu",
    "welch_satterthwaite",
    "zeta_score",
]
