"""Review campaign at regional scale: 10 enterprises × 2,000 instruments × 5 years of certificates.

The registry of ``bench_registry`` (same generator, same sizes) with one incident recorded on a working standard,
reviewed on 2026-06-01 by :func:`carbonmet.services.review_campaign` (every enterprise, profile ``gb17167_ccm``:
certificate state, accuracy class, indication error, reverse traceability), on SQLite and on PostgreSQL.

Baseline in the same run: the due-list part of the review (in-service instruments whose newest certificate ran
out before the review date, or that have none) as one hand-written SQL statement per enterprise on the raw
connection; the ratio says what the whole review costs against that one question. Goal: ≤ 2 s per enterprise.
Wall-clock and this process's CPU time are both recorded (with the load average): on a shared machine the CPU
time is the steadier figure.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import date
from typing import Any

from sqlalchemy import create_engine, insert, select, text

from carbonmet.db import make_engine, migrate
from carbonmet.registry.models import MeasurementStandard, StandardIncident
from carbonmet.services import Scope, Workspace, review_campaign

from .bench_registry import PG_ADMIN, _populate

ON = date(2026, 6, 1)
GOAL_S_PER_ENTERPRISE = 2.0

#: the due-list part of the review for one enterprise: in service, newest certificate issued by the review date
#: expired before it (or none at all)
RAW_DUE = """
SELECT i.code, c.cert_no, c.valid_until FROM instrument i
JOIN organisation o ON o.id = i.org_id
LEFT JOIN certificate c ON c.id = (SELECT c2.id FROM certificate c2
                                   WHERE c2.instrument_id = i.id AND c2.calibration_date <= :on
                                   ORDER BY c2.calibration_date DESC, c2.id DESC LIMIT 1)
WHERE o.code = :org AND i.status = 'in_service' AND (c.valid_until IS NULL OR c.valid_until < :on)
"""


def _incident(engine: Any) -> None:
    """The working standard WRK000 found out of tolerance on 2023-06-30, last good on 2023-01-01."""
    with engine.begin() as c:
        sid = c.execute(select(MeasurementStandard.id).where(MeasurementStandard.code == "WRK000")).scalar_one()
        c.execute(insert(StandardIncident), [{"standard_id": sid, "last_good": date(2023, 1, 1),
                                              "found_on": date(2023, 6, 30), "description": "bench"}])


def _measure(url: str, n_ent: int, n_inst: int, years: int, repeat: int) -> dict[str, Any]:
    engine = make_engine(url)
    migrate(engine)
    sizes = _populate(engine, n_ent, n_inst, years)
    _incident(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.execute(text("ANALYZE"))
    codes = [f"E{e:02d}" for e in range(n_ent)]
    out: dict[str, Any] = {"dialect": engine.dialect.name, **sizes}
    with Workspace(engine=engine) as ws:
        review_campaign(ws, Scope.centre(), codes[:1], ON)  # warm: imports, rule files, connection pool
        best, best_cpu, res = float("inf"), float("inf"), None
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            res = review_campaign(ws, Scope.centre(), "all", ON)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
    assert res is not None
    t = res.totals()
    due_checks = ("overdue", "never_certified", "calibrated_not_verified", "does_not_conform")
    review_due = sum(n for k, n in t["by_check"].items() if k in due_checks)

    def raw() -> int:
        n = 0
        with engine.connect() as c:
            for code in codes:
                n += len(c.execute(text(RAW_DUE), {"org": code, "on": ON}).all())
        return n

    raw()
    best_raw, raw_rows = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        raw_rows = raw()
        best_raw = min(best_raw, time.perf_counter() - t0)
    per_ent = best / n_ent
    out["campaign"] = {
        "seconds": round(best, 3), "seconds_per_enterprise": round(per_ent, 4),
        "process_cpu_seconds": round(best_cpu, 3), "process_cpu_seconds_per_enterprise": round(best_cpu / n_ent, 4),
        "goal_seconds_per_enterprise": GOAL_S_PER_ENTERPRISE, "meets_goal": per_ent <= GOAL_S_PER_ENTERPRISE,
        "enterprises": t["enterprises"], "reviewed": t["reviewed"], "failed": t["failed"],
        "instruments_reviewed": t["instruments_reviewed"], "findings": t["findings"], "by_check": t["by_check"],
        "due_findings": review_due,
    }
    out["raw_sql_due_list"] = {
        "seconds": round(best_raw, 4), "seconds_per_enterprise": round(best_raw / n_ent, 5), "rows": raw_rows,
        "note": "only the due-list part (newest certificate expired or none), one statement per enterprise",
    }
    out["ratio_campaign_to_raw_due_sql"] = round(best / best_raw, 1)
    out["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    out["same_due_instruments"] = raw_rows == review_due
    engine.dispose()
    return out


def run(quick: bool = False) -> dict[str, Any]:
    n_ent, n_inst, years, repeat = (2, 200, 5, 1) if quick else (10, 2000, 5, 3)
    import tempfile

    results: dict[str, Any] = {"size": {"enterprises": n_ent, "instruments_per_enterprise": n_inst, "years": years},
                               "review_date": ON.isoformat(), "profile": "gb17167_ccm"}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = _measure(f"sqlite:///{tmp}/bench.db", n_ent, n_inst, years, repeat)
    name = f"cm_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        results["postgresql"] = _measure(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", n_ent, n_inst, years, repeat)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return results
