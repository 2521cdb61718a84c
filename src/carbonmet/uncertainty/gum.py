"""Formulas of the GUM and its supplement, public submodule (不确定度评定公式).

Coverage factor from the t-distribution and Welch–Satterthwaite degrees of freedom (JCGM 100
G.3, G.4), Monte Carlo coverage intervals and the numerical tolerance of JCGM 101 §7.9 and §8,
and the comparison scores E_n and ζ with the covariance of shared inputs.
"""

from ._compare import covariance, en_score, zeta_score
from ._lpu import coverage_factor, welch_satterthwaite
from ._mcm import coverage_intervals, numerical_tolerance

__all__ = [
    "covariance",
    "coverage_factor",
    "coverage_intervals",
    "en_score",
    "numerical_tolerance",
    "welch_satterthwaite",
    "zeta_score",
]
