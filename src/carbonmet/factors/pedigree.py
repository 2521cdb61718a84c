"""Pedigree matrix → lognormal (数据质量谱系矩阵): the tables' cells, basic uncertainties and σ, public API.

See :mod:`carbonmet.factors._pedigree` for the formula; :func:`pedigree_sigma` is also exported by the package root.
"""

from ._pedigree import (
    INDICATORS,
    PEDIGREE_TABLES,
    BasicUncertainty,
    PedigreeCell,
    PedigreeSigma,
    basic_classes,
    basic_uncertainty,
    check_pedigree_data,
    format_dq_entry,
    lognormal_u_rel,
    parse_dq_entry,
    pedigree_cell,
    pedigree_sigma,
)

__all__ = [
    "INDICATORS",
    "PEDIGREE_TABLES",
    "BasicUncertainty",
    "PedigreeCell",
    "PedigreeSigma",
    "basic_classes",
    "basic_uncertainty",
    "check_pedigree_data",
    "format_dq_entry",
    "lognormal_u_rel",
    "parse_dq_entry",
    "pedigree_cell",
    "pedigree_sigma",
]
