"""Errors of the review package (计量审查)."""

from __future__ import annotations

from ..quantities import CarbonmetError


class ReviewError(CarbonmetError):
    """A review could not be run (unknown profile, bad arguments)."""


class RuleFileError(ReviewError, ValueError):
    """A rule file is malformed: ``file``, ``row`` (header = 1; None for the file as a whole), ``field`` and
    ``reason`` say where and what."""

    def __init__(self, file: str, row: int | None, field: str, reason: str) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.reason = reason
        where = file if row is None else f"{file}:{row}"
        super().__init__(f"{where}:{field}: {reason}")


class ReportFileError(ReviewError, ValueError):
    """An emission report file (企业排放报告) is malformed or does not fit the platform's account: ``file``,
    ``row`` (header = 1; None for the file as a whole), ``field`` and ``reason`` say where and what."""

    def __init__(self, file: str, row: int | None, field: str, reason: str) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.reason = reason
        where = file if row is None else f"{file}:{row}"
        super().__init__(f"{where}:{field}: {reason}")
