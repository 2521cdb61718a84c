"""Errors of the CEMS package."""

from __future__ import annotations

from carbonmet.quantities import CarbonmetError


class CemsError(CarbonmetError, ValueError):
    """A CEMS computation or input that cannot be used (the message names the file, row and field)."""
