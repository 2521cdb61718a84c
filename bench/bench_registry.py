"""Registry at regional scale: 10 enterprises × 2,000 instruments × 5 years of certificates.

Measures, on SQLite and on PostgreSQL: bulk load, the due list, reverse traceability from a
working standard and from the national standard (the worst case: every certificate downstream),
and a point's coverage query. Baselines in the same run: the same questions as one hand-written
SQL statement on the raw DB-API connection (no ORM), so the ratio shows what our layer costs.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import create_engine, insert, text

from carbonmet.db import make_engine, migrate, session_scope
from carbonmet.registry import due_list, period_coverage, trace_back
from carbonmet.registry.models import (
    Certificate,
    CertificateStandard,
    Installation,
    Instrument,
    MeasurementPoint,
    MeasurementStandard,
    Organisation,
    Site,
)

PG_ADMIN = os.environ.get("CARBONMET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TYPES = ["belt_scale", "weighbridge", "gas_flow_meter", "steam_flow_meter", "electricity_meter", "cems_gas_analyser"]


def _populate(engine: Any, n_ent: int, n_inst: int, years: int, seed: int = 1) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    start_year = 2021
    with engine.begin() as c:
        orgs = [{"id": 1, "code": "NIM", "name": "national institute", "kind": "metrology_institute"},
                {"id": 2, "code": "PROV", "name": "provincial institute", "kind": "metrology_institute"}]
        orgs += [{"id": 10 + e, "code": f"E{e:02d}", "name": f"enterprise {e}", "kind": "enterprise"}
                 for e in range(n_ent)]
        c.execute(insert(Organisation), orgs)
        c.execute(insert(Site), [{"id": 10 + e, "code": f"E{e:02d}-S", "org_id": 10 + e, "name": "site"}
                                 for e in range(n_ent)])
        # standards: 1 national, 3 primary, 4 working per enterprise
        stds = [{"id": 1, "code": "NAT", "name": "national", "holder_org_id": 1, "level": "national"}]
        stds += [{"id": 2 + p, "code": f"PRI{p}", "name": "primary", "holder_org_id": 2, "level": "primary"}
                 for p in range(3)]
        work_ids = []
        for e in range(n_ent):
            for w in range(4):
                sid = 100 + e * 4 + w
                work_ids.append(sid)
                stds.append({"id": sid, "code": f"WRK{e:02d}{w}", "name": "working", "holder_org_id": 2,
                             "level": "working"})
        c.execute(insert(MeasurementStandard), stds)
        certs: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        cid = 0
        std_cert: dict[tuple[int, int], int] = {}
        for y in range(years):
            for p in range(3):
                cid += 1
                certs.append({"id": cid, "cert_no": f"P{p}-{y}", "kind": "calibration", "standard_id": 2 + p,
                              "issuer_org_id": 1, "calibration_date": date(start_year + y, 2, 1), "expanded_u": 0.1,
                              "coverage_factor": 2.0, "origin": "bench"})
                links.append({"certificate_id": cid, "standard_id": 1, "standard_certificate_id": None})
                std_cert[(2 + p, y)] = cid
            for sid in work_ids:
                cid += 1
                certs.append({"id": cid, "cert_no": f"W{sid}-{y}", "kind": "calibration", "standard_id": sid,
                              "issuer_org_id": 2, "calibration_date": date(start_year + y, 4, 1), "expanded_u": 0.2,
                              "coverage_factor": 2.0, "origin": "bench"})
                p = sid % 3
                links.append({"certificate_id": cid, "standard_id": 2 + p, "standard_certificate_id": std_cert[(2 + p, y)]})
        points, insts, installs = [], [], []
        iid = 0
        for e in range(n_ent):
            for i in range(n_inst):
                iid += 1
                points.append({"id": iid, "code": f"E{e:02d}.P{i:05d}", "site_id": 10 + e, "name": "p",
                               "quantity": "mass", "carrier": "raw_coal", "unit": "t", "reading_kind": "total"})
                insts.append({"id": iid, "code": f"E{e:02d}-I{i:05d}", "serial": f"S{iid:07d}", "org_id": 10 + e,
                              "type": TYPES[i % len(TYPES)], "status": "in_service", "mpe_rel": 0.5})
                installs.append({"instrument_id": iid, "point_id": iid, "installed_from": date(start_year, 1, 1),
                                 "installed_to": None})
        c.execute(insert(MeasurementPoint), points)
        c.execute(insert(Instrument), insts)
        c.execute(insert(Installation), installs)
        offsets = rng.integers(0, 365, size=iid)
        for y in range(years):
            for k in range(iid):
                cid += 1
                d = date(start_year + y, 5, 1) + timedelta(days=int(offsets[k]) % 200)
                e = (k // n_inst)
                sid = work_ids[e * 4 + (k % 4)]
                certs.append({"id": cid, "cert_no": f"C{k}-{y}", "kind": "verification", "instrument_id": k + 1,
                              "issuer_org_id": 2, "calibration_date": d, "valid_until": d + timedelta(days=364),
                              "conclusion": "conforms", "origin": "bench"})
                links.append({"certificate_id": cid, "standard_id": sid, "standard_certificate_id": None})
        keys = sorted({k for cert in certs for k in cert})
        certs = [{k: cert.get(k) for k in keys} for cert in certs]
        for i in range(0, len(certs), 20000):
            c.execute(insert(Certificate), certs[i : i + 20000])
        for i in range(0, len(links), 20000):
            c.execute(insert(CertificateStandard), links[i : i + 20000])
    return {"instruments": iid, "certificates": len(certs), "standards": len(stds)}


RAW_TRACE = """
WITH RECURSIVE affected(cert_id, std_id, w_from, w_to, depth) AS (
    SELECT c.id, c.standard_id, c.calibration_date, NULL, 1
    FROM certificate c JOIN certificate_standard l ON l.certificate_id = c.id
    WHERE l.standard_id = :root AND c.calibration_date BETWEEN :d0 AND :d1
  UNION ALL
    SELECT c.id, c.standard_id, c.calibration_date, NULL, a.depth + 1
    FROM affected a
    JOIN certificate_standard l ON l.standard_id = a.std_id
    JOIN certificate c ON c.id = l.certificate_id
    WHERE a.std_id IS NOT NULL AND a.depth < 25
      AND c.calibration_date >= a.w_from
      AND c.calibration_date < COALESCE((SELECT MIN(n.calibration_date) FROM certificate n
                                         WHERE n.standard_id = a.std_id AND n.calibration_date > a.w_from),
                                        :far_future)
)
SELECT COUNT(DISTINCT cert_id) FROM affected
"""

RAW_DUE = """
SELECT i.code, c.cert_no, c.valid_until FROM instrument i
LEFT JOIN certificate c ON c.id = (SELECT c2.id FROM certificate c2 WHERE c2.instrument_id = i.id
                                   ORDER BY c2.calibration_date DESC, c2.id DESC LIMIT 1)
WHERE i.status = 'in_service' AND (c.valid_until IS NULL OR c.valid_until <= :horizon)
"""


def _best(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _measure(url: str, n_ent: int, n_inst: int, years: int) -> dict[str, Any]:
    engine = make_engine(url)
    migrate(engine)
    t0 = time.perf_counter()
    sizes = _populate(engine, n_ent, n_inst, years)
    load_s = time.perf_counter() - t0
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.execute(text("ANALYZE"))
    today = date(2026, 6, 1)
    d0, d1 = date(2023, 1, 1), date(2023, 6, 30)

    def ours_due() -> int:
        with session_scope(engine) as s:
            return len(due_list(s, today, 30))

    def raw_due() -> int:
        with engine.connect() as c:
            return len(c.execute(text(RAW_DUE), {"horizon": today + timedelta(days=30)}).all())

    def ours_trace(std: str) -> Any:
        def f() -> int:
            with session_scope(engine) as s:
                r = trace_back(s, std, d0, d1)
            return len(r.certificates)
        return f

    def raw_trace(root_id: int) -> Any:
        def f() -> int:
            with engine.connect() as c:
                return int(c.execute(text(RAW_TRACE), {"root": root_id, "d0": d0, "d1": d1, "far_future": date(9999, 12, 31)}).scalar() or 0)
        return f

    def coverage() -> bool:
        with session_scope(engine) as s:
            return period_coverage(s, "E00.P00007", date(2022, 1, 1), date(2025, 1, 1)).covered

    out: dict[str, Any] = {"dialect": engine.dialect.name, **sizes, "bulk_load_s": round(load_s, 3)}
    t_due, n_due = _best(ours_due)
    t_raw_due, n_raw_due = _best(raw_due)
    out["due_list"] = {"seconds": round(t_due, 4), "items": n_due, "raw_sql_seconds": round(t_raw_due, 4),
                       "raw_sql_rows": n_raw_due, "ratio_to_raw_sql": round(t_due / t_raw_due, 2)}
    for label, code, sid in (("trace_working_standard", "WRK000", 100), ("trace_national_standard", "NAT", 1)):
        t_ours, n_ours = _best(ours_trace(code), repeat=2)
        t_raw, n_raw = _best(raw_trace(sid), repeat=2)
        out[label] = {"seconds": round(t_ours, 4), "certificates": n_ours, "raw_recursive_cte_seconds": round(t_raw, 4),
                      "raw_cte_certificates": n_raw, "ratio_to_raw_sql": round(t_ours / t_raw, 2),
                      "note": "ours also returns instruments and data periods; the CTE only counts certificates"}
    t_cov, _ = _best(coverage)
    out["coverage_query_seconds"] = round(t_cov, 4)
    engine.dispose()
    return out


def run(quick: bool = False) -> dict[str, Any]:
    n_ent, n_inst, years = (2, 200, 5) if quick else (10, 2000, 5)
    import tempfile

    results: dict[str, Any] = {"size": {"enterprises": n_ent, "instruments_per_enterprise": n_inst, "years": years}}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = _measure(f"sqlite:///{tmp}/bench.db", n_ent, n_inst, years)
    name = f"cm_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        results["postgresql"] = _measure(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", n_ent, n_inst, years)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return results
