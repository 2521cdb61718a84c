"""Uncertainty engine: GUM law of propagation and GUM-S1 Monte Carlo (测量不确定度评定).

Evaluate any measurement model two ways — the law of propagation of uncertainty with exact
(automatic-differentiation) sensitivity coefficients, Welch–Satterthwaite dof and t-based
coverage factor (JCGM 100 / JJF 1059.1), and the Monte Carlo method with fixed or adaptive M,
symmetric and shortest coverage intervals (JCGM 101 / JJF 1059.2) — then validate one against
the other (JCGM 101 §8), explain the result with a budget, and compare results (E_n, ζ).

Measured quantities enter a model with :meth:`InputSet.add_quantity` (distribution from u and
its shape, provenance kept). Public submodules: :mod:`.distributions` (distribution classes and
constructors), :mod:`.gum` (coverage factor, Welch–Satterthwaite, E_n, ζ, …),
:mod:`.expression` (the expression language) and :mod:`.montecarlo` (the MCM engine's internals,
for testing and verification).

Example
-------
>>> from carbonmet.uncertainty import InputSet, Model, evaluate
>>> from carbonmet.uncertainty.distributions import Normal, Rectangular
>>> inputs = InputSet()
>>> _ = inputs.add("AD", Rectangular(995.0, 1005.0), unit="TJ")
>>> _ = inputs.add("EF", Normal(56.1, 0.5), unit="t/TJ")
>>> model = Model.from_expression("AD * EF", inputs, output="E", unit="t")
>>> ev = evaluate(model, trials=100_000, seed=1)
>>> round(ev.lpu.value, 1)
56100.0
"""

# Names imported "as" themselves and not in __all__ stay importable from the package for existing
# callers; new code imports them from the public submodules .distributions, .gum and .expression.
from . import distributions, expression, gum
from ._compare import Comparison, compare
from ._compare import covariance as covariance
from ._compare import en_score as en_score
from ._compare import zeta_score as zeta_score
from ._distributions import Arcsine as Arcsine
from ._distributions import Constant as Constant
from ._distributions import Distribution as Distribution
from ._distributions import Exponential as Exponential
from ._distributions import Lognormal as Lognormal
from ._distributions import Normal as Normal
from ._distributions import Rectangular as Rectangular
from ._distributions import StudentT as StudentT
from ._distributions import Trapezoidal as Trapezoidal
from ._distributions import Triangular as Triangular
from ._distributions import distribution_from_params as distribution_from_params
from ._distributions import normal_from_expanded as normal_from_expanded
from ._distributions import rectangular_from_mpe as rectangular_from_mpe
from ._distributions import type_a as type_a
from ._errors import (
    DistributionError,
    EvaluationError,
    ExpressionError,
    ModelError,
    ModelFileError,
    UncertaintyError,
)
from ._evaluate import Evaluation, evaluate
from ._expr import Expression as Expression
from ._expr import parse as parse
from ._lpu import BudgetRow, LpuResult, lpu
from ._lpu import coverage_factor as coverage_factor
from ._lpu import welch_satterthwaite as welch_satterthwaite
from ._mcm import McmResult, mcm
from ._mcm import coverage_intervals as coverage_intervals
from ._mcm import numerical_tolerance as numerical_tolerance
from ._model import Dual as Dual
from ._model import Input, InputSet, Model
from ._modelfile import load_model, model_from_dict
from ._plot import plot_histogram
from ._validate import Validation, validate_lpu

__all__ = [
    "BudgetRow",
    "Comparison",
    "DistributionError",
    "Evaluation",
    "EvaluationError",
    "ExpressionError",
    "Input",
    "InputSet",
    "LpuResult",
    "McmResult",
    "Model",
    "ModelError",
    "ModelFileError",
    "UncertaintyError",
    "Validation",
    "compare",
    "distributions",
    "evaluate",
    "expression",
    "gum",
    "load_model",
    "lpu",
    "mcm",
    "model_from_dict",
    "plot_histogram",
    "validate_lpu",
]
