"""Reconcilers (对账) of the plan tables: each version's rows against its audit entries.

================================ =================== ===============================================
entity (table)                   entity_key          data (the state as stored)
================================ =================== ===============================================
monitoring_plan                  ``E01@2``           every column of the header row (with its id)
monitoring_plan_parameter        ``E01@2``           ``rows``: every column of every parameter row
monitoring_plan_change           ``E01@2``           ``rows``: every column of every change row
monitoring_plan_stream           ``E01@2``           ``rows``: every column of every stream row (only
                                                     versions that have stream rows are logged)
================================ =================== ===============================================

A finding on a row names it ``E01@2#<position>``. Registered when :mod:`carbonmet.sites` is imported.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import Discrepancy, register_reconciler
from ..db.audit import diff_fields, loads, row_json, stream_rows
from ._store import (
    CHANGES,
    PARAMETERS,
    PLAN,
    STREAMS,
    PlanChangeRecord,
    PlanParameterRecord,
    PlanStreamRecord,
    PlanVersionRow,
    plan_key,
)


class _Logged:
    """The last entry of each plan version (versions are written once, so normally the only one)."""

    table = ""

    def __init__(self) -> None:
        self.logged: dict[str, tuple[int, str]] = {}

    def add(self, seq: int, action: str, key: str, data: str) -> None:
        if action == "delete":
            self.logged.pop(key, None)
        else:
            self.logged[key] = (seq, data)

    def _take(self, key: str, out: list[Discrepancy]) -> tuple[int | None, dict[str, Any] | None]:
        entry = self.logged.pop(key, None)
        if entry is None:
            return None, None
        data = loads(entry[1])
        if not isinstance(data, dict):
            out.append(Discrepancy("unreadable", self.table, key, seq=entry[0]))
            return entry[0], None
        return entry[0], data


class PlanHeaderReconciler(_Logged):
    """``monitoring_plan``: one header row per (enterprise, version)."""

    table = PLAN

    def check(self, session: Session) -> tuple[int, list[Discrepancy]]:
        out: list[Discrepancy] = []
        t = PlanVersionRow.__table__
        cols = [c.name for c in t.columns]
        n = 0
        for row in stream_rows(session, select(t).order_by(t.c.id)):
            n += 1
            cur = row._mapping
            key = plan_key(cur["enterprise"], cur["version"])
            was_logged = key in self.logged
            seq, data = self._take(key, out)
            if not was_logged:
                out.append(Discrepancy("unlogged", self.table, key, current=row_json(cur, cols)))
            elif data is not None:
                out.extend(diff_fields(self.table, key, seq, data, {c: cur[c] for c in cols}))
        for key, (seq, text) in self.logged.items():
            out.append(Discrepancy("missing", self.table, key, logged=loads(text), seq=seq))
        self.logged = {}
        return n, out


class PlanRowsReconciler(_Logged):
    """``monitoring_plan_parameter`` / ``monitoring_plan_change`` / ``monitoring_plan_stream``: a version's full
    list of rows (a version with no rows and no entry in a table is consistent)."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model
        self.table = model.__tablename__

    def check(self, session: Session) -> tuple[int, list[Discrepancy]]:
        out: list[Discrepancy] = []
        t = self.model.__table__
        h = PlanVersionRow.__table__
        cols = [c.name for c in t.columns]
        stmt = (select(h.c.enterprise.label("__e"), h.c.version.label("__v"), t)
                .join(h, h.c.id == t.c.plan_id).order_by(t.c.plan_id, t.c.position))
        n = 0
        for (ent, ver), group in groupby(stream_rows(session, stmt), key=lambda r: (r[0], r[1])):
            current = {}
            for r in group:
                n += 1
                m = r._mapping
                current[m["position"]] = {c: m[c] for c in cols}
            self._compare(plan_key(ent, ver), current, cols, out)
        for key in list(self.logged):
            self._compare(key, {}, cols, out)
        return n, out

    def _compare(self, key: str, current: dict[int, dict[str, Any]], cols: list[str],
                 out: list[Discrepancy]) -> None:
        was_logged = key in self.logged
        seq, data = self._take(key, out)
        if was_logged and data is None:
            return  # unreadable, reported
        want: dict[int, Any] = {r.get("position", i): r for i, r in enumerate((data or {}).get("rows", []))}
        for pos in sorted(want.keys() | current.keys()):
            k = f"{key}#{pos}"
            if pos not in want:
                out.append(Discrepancy("unlogged", self.table, k, current=row_json(current[pos], cols), seq=seq))
            elif pos not in current:
                out.append(Discrepancy("missing", self.table, k, logged=want[pos], seq=seq))
            else:
                logged = {c: want[pos].get(c) for c in cols}  # a column left out was stored as NULL
                out.extend(diff_fields(self.table, k, seq, logged, current[pos]))


def _register() -> None:
    register_reconciler(PLAN, PlanHeaderReconciler)
    register_reconciler(PARAMETERS, lambda: PlanRowsReconciler(PlanParameterRecord))
    register_reconciler(CHANGES, lambda: PlanRowsReconciler(PlanChangeRecord))
    register_reconciler(STREAMS, lambda: PlanRowsReconciler(PlanStreamRecord))


_register()
