"""Probability distributions for input quantities (输入量的概率分布), public submodule.

The distribution classes (JCGM 101:2008 §6.4) and the ways to build one: from a parameter table
(:func:`distribution_from_params`, as in model files), from a value and a standard uncertainty of
a given shape (:func:`distribution_from_u`, what :meth:`InputSet.add_quantity
<carbonmet.uncertainty.InputSet.add_quantity>` uses), from a certificate
(:func:`normal_from_expanded`, :func:`rectangular_from_mpe`) or from repeated indications
(:func:`type_a`).
"""

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
    distribution_from_u,
    known_distributions,
    normal_from_expanded,
    rectangular_from_mpe,
    type_a,
)

__all__ = [
    "Arcsine",
    "Constant",
    "Distribution",
    "Exponential",
    "Lognormal",
    "Normal",
    "Rectangular",
    "StudentT",
    "Trapezoidal",
    "Triangular",
    "distribution_from_params",
    "distribution_from_u",
    "known_distributions",
    "normal_from_expanded",
    "rectangular_from_mpe",
    "type_a",
]
