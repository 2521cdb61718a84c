"""Errors of the reference-dataset generator."""

from __future__ import annotations

from ..quantities import CarbonmetError


class RefdataError(CarbonmetError):
    """The reference dataset cannot be generated or read (bad parameters, bad constants, bad manifest)."""
