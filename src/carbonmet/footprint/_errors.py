"""Errors of the footprint engine (碳足迹计算错误)."""

from __future__ import annotations

from carbonmet.quantities import CarbonmetError


class FootprintError(CarbonmetError, ValueError):
    """A product system, demand, allocation or uncertainty specification is not usable.

    The message names the activity, product, gas or exchange concerned.
    """


class SingularTechnosphereError(FootprintError):
    """The technosphere matrix cannot be solved: some products have no unique supply.

    Attributes
    ----------
    activities : tuple of str
        The activities whose columns (or the loop they form) make the matrix singular.
    """

    def __init__(self, message: str, activities: tuple[str, ...]) -> None:
        super().__init__(message)
        self.activities = activities
