"""Tabular files: one bounded header/row reader for CSV and XLSX (表格文件读取).

Used by readings ingest (:mod:`carbonmet.metering`), registry import (:mod:`carbonmet.registry`) and
monitoring-plan files (:mod:`carbonmet.sites`) so that they agree on the rules:

- one encoding rule (:func:`detect_encoding`): UTF-8 with or without BOM, UTF-16 with its BOM, GB18030/GBK
  for simplified Chinese; anything else refused with a message naming the file;
- a duplicate column name is refused everywhere (:func:`check_header`, naming both columns);
- bounded bytes, rows, cells, field length and time (:class:`Limits`, defaults documented there and in
  docs/formats/readings.md); an XLSX's declared dimension is not trusted; a file over the byte limit is
  refused before it is read (:func:`read_limited`);
- row-level problems (:class:`RowIssue`: surplus cells, a truncated last row) are reported, never dropped;
- every error (:class:`TabularError`) names file, row and field.

And one writer rule: a workbook written with :func:`save_workbook` (:func:`workbook_bytes`) has its dates pinned,
so the same content gives the same bytes.

This package sits at the bottom layer beside :mod:`carbonmet.quantities` and imports no other
carbonmet package.
"""

from ._errors import Limits, RowIssue, TabularError
from ._reader import (
    DEFAULT_LIMITS,
    Sheet,
    check_header,
    decode_text,
    detect_encoding,
    read_csv,
    read_limited,
    read_table,
    read_xlsx,
)
from ._writer import save_workbook, workbook_bytes

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "RowIssue",
    "Sheet",
    "TabularError",
    "check_header",
    "decode_text",
    "detect_encoding",
    "read_csv",
    "read_limited",
    "read_table",
    "read_xlsx",
    "save_workbook",
    "workbook_bytes",
]
