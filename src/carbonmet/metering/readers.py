"""Readers of metering files (读数文件读取): CSV/XLSX into input batches.

:func:`read_file` (CSV or XLSX by suffix, columns mapped with a :class:`ColumnMap`), :func:`read_csv_bytes`
(the same from bytes), :func:`readings_to_batch` (records → an Arrow batch in
:data:`carbonmet.metering.schemas.BATCH_SCHEMA`), :func:`file_batch_id` (the batch id of a file, from
its content) and :func:`zone` (a time zone by IANA name, for naive times). The common ones are also in
:mod:`carbonmet.metering`.
"""

from ._readers import ColumnMap, file_batch_id, read_csv_bytes, read_file, readings_to_batch, zone

__all__ = [
    "ColumnMap",
    "file_batch_id",
    "read_csv_bytes",
    "read_file",
    "readings_to_batch",
    "zone",
]
