"""Workbooks written with the same bytes for the same content (可复现的 XLSX)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl import Workbook

#: the zip entries' timestamp (the earliest a zip file can hold)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def workbook_bytes(wb: Workbook, when: datetime) -> bytes:
    """The XLSX bytes of ``wb`` with every date pinned: the document's created and modified dates are ``when``
    (naive, taken as UTC) and every zip entry carries the same fixed timestamp, so the same content gives the
    same bytes on any day.

    openpyxl writes the save time into ``docProps/core.xml`` whatever the properties say; that element is
    replaced by ``when`` here.
    """
    wb.properties.created = when
    wb.properties.modified = when
    buf = io.BytesIO()
    wb.save(buf)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            raw = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                raw = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", raw)
            zout.writestr(zi, raw)
    return out.getvalue()


def save_workbook(wb: Workbook, path: str | Path, when: datetime) -> Path:
    """Write :func:`workbook_bytes` of ``wb`` to ``path`` and return the path."""
    p = Path(path)
    p.write_bytes(workbook_bytes(wb, when))
    return p
