"""Deterministic writers: Parquet (readings store), CSV, XLSX (fixed metadata and zip times)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..metering.schemas import READINGS_SCHEMA
from ._measure import FLAGS

ROW_GROUP_SIZE = 1 << 20  # fixed, so the file layout does not depend on anything but the data
_FLAG_DICT = pa.array(list(FLAGS), type=pa.string())
_SOURCE_DICT = pa.array(["measured", "substituted"], type=pa.string())
FIXED_TIME = datetime(2025, 1, 1, 0, 0, 0)
_PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 3, "use_dictionary": True,
                                    "write_statistics": True, "version": "2.6"}


_BATCH_CACHE: dict[str, pa.Array] = {}


def _batch_column(batch: str, n: int) -> pa.Array:
    arr = _BATCH_CACHE.get(batch)
    if arr is None or len(arr) < n:
        size = max(n, 1 << 16)
        arr = pa.DictionaryArray.from_arrays(pa.array(np.zeros(size, dtype=np.int8), type=pa.int8()),
                                             pa.array([batch])).cast(pa.string())
        _BATCH_CACHE[batch] = arr
    return arr.slice(0, n)


def readings_table(ts_us: np.ndarray, values: np.ndarray, flags: np.ndarray, batch: str) -> pa.Table:
    """A table in :data:`carbonmet.metering.READINGS_SCHEMA` (source = measured)."""
    n = ts_us.size
    ts = pa.array(ts_us.astype(np.int64), type=pa.timestamp("us", tz="UTC"))
    val = pa.array(values.astype(np.float64), type=pa.float64())
    flag = pa.DictionaryArray.from_arrays(pa.array(flags.astype(np.int8), type=pa.int8()), _FLAG_DICT)
    source = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int8), type=pa.int8()), _SOURCE_DICT)
    b = _batch_column(batch, n)
    return pa.Table.from_arrays([ts, val, flag, source, b], schema=READINGS_SCHEMA)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write Parquet with fixed options (zstd, fixed row groups, statistics, no timestamps in metadata)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=ROW_GROUP_SIZE, **_PARQUET_OPTIONS)


def write_readings_csv(fh: Any, point_id: str, ts_us: np.ndarray, values: np.ndarray, unit: str, flags: np.ndarray,
                       header: bool, offset_hours: int = 8) -> None:
    """Append readings as CSV (``point_id,ts,value,unit,flag``; ts ISO 8601 local with offset) to a binary handle."""
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    n = ts_us.size
    local = ((ts_us + offset_hours * 3_600_000_000) // 1_000_000).astype("datetime64[s]")
    sign = "+" if offset_hours >= 0 else "-"
    ts = pc.binary_join_element_wise(pa.array(np.datetime_as_string(local, unit="s")),
                                     f"{sign}{abs(offset_hours):02d}:00", "")
    flag = pa.DictionaryArray.from_arrays(pa.array(flags.astype(np.int8), type=pa.int8()), _FLAG_DICT).cast(pa.string())
    const = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int8), type=pa.int8()),
                                           pa.array([point_id, unit]))
    pid = const.cast(pa.string())
    un = pa.DictionaryArray.from_arrays(pa.array(np.ones(n, dtype=np.int8), type=pa.int8()),
                                        pa.array([point_id, unit])).cast(pa.string())
    table = pa.table({"point_id": pid, "ts": ts, "value": pa.array(values, type=pa.float64()), "unit": un,
                      "flag": flag})
    if header:
        fh.write(b"point_id,ts,value,unit,flag\n")
    pcsv.write_csv(table, fh, pcsv.WriteOptions(include_header=False, quoting_style="none"))


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with CsvAppender(path, header) as w:
        w.add(rows)


class CsvAppender:
    """A CSV file written in parts (header first, then rows as they come): the bytes of :func:`write_csv`
    of all the rows at once, without holding them."""

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("w", encoding="utf-8", newline="")
        self._w = csv.writer(self._fh, lineterminator="\n")
        self._w.writerow(header)

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        for r in rows:
            self._w.writerow(["" if v is None else v for v in r])

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ParquetAppender:
    """A Parquet file written in row groups as rows come, with the options and the bytes of
    :func:`write_parquet` of the whole table (row groups of :data:`ROW_GROUP_SIZE` rows), holding at most one
    row group and one part."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path, self._schema = path, schema
        self._parts: list[pa.Table] = []
        self._n = 0
        self._writer: pq.ParquetWriter | None = None

    def add(self, table: pa.Table) -> None:
        self._parts.append(table)
        self._n += table.num_rows
        if self._n >= ROW_GROUP_SIZE:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        t = pa.concat_tables(self._parts).combine_chunks() if self._parts else self._schema.empty_table()
        k = t.num_rows if final else t.num_rows // ROW_GROUP_SIZE * ROW_GROUP_SIZE
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._path, self._schema, **_PARQUET_OPTIONS)
            if k == 0 and final:  # no rows at all: one empty row group, as write_table writes it
                self._writer.write_table(t, row_group_size=ROW_GROUP_SIZE)
        if k:
            self._writer.write_table(t.slice(0, k), row_group_size=ROW_GROUP_SIZE)
        self._parts = [t.slice(k)] if k < t.num_rows else []
        self._n = t.num_rows - k

    def close(self) -> None:
        self._flush(final=True)
        if self._writer is not None:
            self._writer.close()


def write_xlsx(path: Path, sheets: dict[str, tuple[Sequence[str], Sequence[Sequence[Any]]]]) -> None:
    """One workbook, one sheet per table, byte-identical for identical content (fixed times)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(title=name)
        ws.append(list(header))
        for r in rows:
            ws.append(["" if v is None else v for v in r])
    wb.properties.creator = "carbonmet.refdata"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    normalise_zip(buf.getvalue(), path)


def normalise_zip(data: bytes, path: Path) -> None:
    """Rewrite a zip (XLSX) with fixed entry times and fixed core-property timestamps."""
    src = zipfile.ZipFile(io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>2025-01-01T00:00:00Z\g<2>",
                                 content)
            zi = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, content)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
