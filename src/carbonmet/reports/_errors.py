"""Errors of the reports package."""

from __future__ import annotations

from carbonmet.quantities import CarbonmetError


class ReportError(CarbonmetError, ValueError):
    """Report input that cannot be rendered (the message names the enterprise and the field)."""
