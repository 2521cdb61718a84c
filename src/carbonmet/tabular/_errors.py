"""Errors and limits of the tabular reader."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one CSV/XLSX file may make the reader do (读入上限).

    The defaults (docs/formats/readings.md, "Limits and encodings") are far above any real metering or
    registry file and far below what would exhaust a machine. A file over any of them is refused as a
    whole with a :class:`TabularError` naming the file, the row and the limit.

    Attributes
    ----------
    max_bytes : int
        Size of the file in bytes; for XLSX the total *uncompressed* size of its parts, so a small
        compressed file cannot expand into gigabytes. Default 256 MiB.
    max_rows : int
        Rows read (blank rows and the rows an XLSX skips count too). Default 2 000 000.
    max_columns : int
        Columns in the header or cells in any one row. Default 1 024.
    max_cells : int
        Cells read in the whole file. Default 50 000 000.
    max_field_chars : int
        Characters in one field (cell). Default 65 536.
    max_seconds : float
        Wall-clock time for reading one file. Default 300 s.
    """

    max_bytes: int = 256 * 1024 * 1024
    max_rows: int = 2_000_000
    max_columns: int = 1024
    max_cells: int = 50_000_000
    max_field_chars: int = 65_536
    max_seconds: float = 300.0


class TabularError(ValueError):
    """A CSV/XLSX file cannot be read as a table (表格文件无法读取).

    ``file``, ``row`` (header = 1; None for the file as a whole), ``field`` (a column name, ``header``,
    ``encoding``, ``file`` or ``limit``) and ``reason`` say what and where.
    """

    def __init__(self, file: str, row: int | None, field: str, reason: str) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.reason = reason
        where = file if row is None else f"{file}:{row}"
        super().__init__(f"{where}:{field}: {reason}")


@dataclass(frozen=True, slots=True)
class RowIssue:
    """A problem confined to one row (the rest of the file is usable); callers quarantine or refuse it.

    ``code`` is ``surplus_cells`` (cells beyond the header or under a blank header) or ``truncated_row``
    (the last row is not ended by a line break: the file was probably cut inside it).
    """

    row: int
    field: str
    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.row}:{self.field}: {self.code}: {self.detail}"
