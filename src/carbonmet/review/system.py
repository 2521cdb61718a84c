"""The review's pure models of points (public submodule): the whole measuring system's MPE
(:func:`combine_mpe`, :data:`COMBINATIONS`), the GB 17167 fit-out rate (:func:`fitout_rate` →
:class:`FitOutRate`) and the Table 1/2 thresholds that make a unit or equipment "main" (:func:`is_main`)."""

from ._system import COMBINATIONS, FitOutRate, combine_mpe, fitout_rate, is_main

__all__ = ["COMBINATIONS", "FitOutRate", "combine_mpe", "fitout_rate", "is_main"]
