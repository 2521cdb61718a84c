"""Errors of the quantities package."""


class CarbonmetError(Exception):
    """Base class of every error carbonmet raises on purpose."""


class UnitError(CarbonmetError, ValueError):
    """A unit string is unknown, or two units cannot be converted."""
