"""Errors of the factors package (缺省值错误)."""

from __future__ import annotations

from carbonmet.quantities import CarbonmetError


class FactorError(CarbonmetError, ValueError):
    """A default value, profile or reference is unknown, or a data file is malformed.

    The message names what was asked (profile, parameter, subject or the whole ref) and offers close matches;
    for a malformed data file it names the file, the line and the field.
    """
