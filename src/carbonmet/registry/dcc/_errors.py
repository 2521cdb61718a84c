"""Errors of the DCC reader and writer."""

from __future__ import annotations

from carbonmet.quantities import CarbonmetError, UnitError


class DccError(CarbonmetError, ValueError):
    """A DCC document (数字校准证书) cannot be read or written.

    Attributes
    ----------
    path : str
        Element path inside the document (``dcc:measurementResults/…/si:unit``), or ``""``.
    line : int or None
        Source line of that element, when known.
    token : str
        The offending token or text, when one can be named.
    source : str
        File name of the document, when read from a file.
    """

    def __init__(
        self, message: str, *, path: str = "", line: int | None = None, token: str = "", source: str = ""
    ) -> None:
        self.reason = message
        self.path = path
        self.line = line
        self.token = token
        self.source = source
        where = ": ".join(x for x in (source, path) if x)
        if line:
            where = f"{where} (line {line})" if where else f"line {line}"
        super().__init__(f"{where}: {message}" if where else message)


class DsiUnitError(DccError, UnitError):
    """A D-SI unit string (``\\kilogram\\metre\\tothe{-3}``) is malformed or cannot be converted."""
