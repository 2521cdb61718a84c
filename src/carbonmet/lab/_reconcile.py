"""Reconcilers (对账) of the lab tables: each import's rows against its audit entries.

============== =========== ===============================================================
entity (table) entity_key  data (the state as stored)
============== =========== ===============================================================
lab_import     import id   every column of the import row (the file's bytes by SHA-256)
lab_result     import id   ``rows``: every column of every result the import stored
lab_quarantine import id   ``rows``: every column of every quarantined row of the import
============== =========== ===============================================================

A finding on a row names it ``<import id>#<row id>``. Registered when :mod:`carbonmet.lab` is imported.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import Discrepancy, KeyedReconciler, register_reconciler
from ..db.audit import diff_fields, loads, row_json, stream_rows
from ._models import IMPORT, QUARANTINE, RESULT, LabImportRow, LabQuarantineRow, LabResultRow


class ImportRowsReconciler:
    """``lab_result`` / ``lab_quarantine``: the rows one import wrote, logged as one list per import."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.table: str = model.__tablename__
        self.logged: dict[str, tuple[int, str]] = {}

    def add(self, seq: int, action: str, key: str, data: str) -> None:
        if action == "delete":
            self.logged.pop(key, None)
        else:
            self.logged[key] = (seq, data)

    def check(self, session: Session) -> tuple[int, list[Discrepancy]]:
        out: list[Discrepancy] = []
        t = self.model.__table__
        cols = [c.name for c in t.columns]
        n = 0
        for import_id, group in groupby(stream_rows(session, select(t).order_by(t.c.import_id, t.c.id)),
                                        key=lambda r: r._mapping["import_id"]):
            current = {}
            for r in group:
                n += 1
                m = r._mapping
                current[m["id"]] = {c: m[c] for c in cols}
            self._compare(str(import_id), current, cols, out)
        for key in list(self.logged):
            self._compare(key, {}, cols, out)
        return n, out

    def _compare(self, key: str, current: dict[Any, dict[str, Any]], cols: list[str], out: list[Discrepancy]) -> None:
        entry = self.logged.pop(key, None)
        want: dict[Any, Any] = {}
        seq = None
        if entry is not None:
            seq, text = entry
            data = loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
                out.append(Discrepancy("unreadable", self.table, key, seq=seq))
                return
            want = {r.get("id"): r for r in data["rows"] if isinstance(r, dict)}
        for rid in sorted(want.keys() | current.keys(), key=lambda x: (str(type(x)), x)):
            k = f"{key}#{rid}"
            if rid not in want:
                out.append(Discrepancy("unlogged", self.table, k, current=row_json(current[rid], cols), seq=seq))
            elif rid not in current:
                out.append(Discrepancy("missing", self.table, k, logged=want[rid], seq=seq))
            else:
                logged = {c: want[rid].get(c) for c in cols}  # a column left out was stored as NULL
                out.extend(diff_fields(self.table, k, seq, logged, current[rid]))


def _register() -> None:
    register_reconciler(IMPORT, lambda: KeyedReconciler(LabImportRow, "id"))
    register_reconciler(RESULT, lambda: ImportRowsReconciler(LabResultRow))
    register_reconciler(QUARANTINE, lambda: ImportRowsReconciler(LabQuarantineRow))


_register()
