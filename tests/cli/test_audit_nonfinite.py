"""D10 (must show): a clean registry whose float fields hold NaN or ±inf verifies clean on SQLite and PostgreSQL.

SQLite stores a NaN as NULL, PostgreSQL keeps it; both keep ±inf. The audit log's canonical form maps NaN to
null and ±inf to "Infinity"/"-Infinity" on the logged side and on the re-read side alike (docs/audit.md), so
the same history reconciles on both, while a real change of such a field is still found.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.db import AuditEntry, make_engine, reconcile, record, session_scope, verify
from carbonmet.db.audit import canonical_json, entry_hash, loads
from carbonmet.registry.models import Certificate, Instrument

DATA = Path(__file__).parents[1] / "registry" / "data"
FILES = [str(DATA / f"{t}.csv") for t in ("organisations", "sites", "points", "standards", "instruments", "certificates")]
runner = CliRunner()


def _columns(obj: Any) -> dict[str, object]:
    return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}


def _verify(db: str, *args: str) -> tuple[int, dict[str, Any]]:
    r = runner.invoke(app, ["audit", "verify", "--json", "--db", db, *args])
    return r.exit_code, json.loads(r.output)


@pytest.fixture
def nan_registry(db_url: str) -> tuple[str, str, str]:
    """The sample registry, then an instrument and a certificate given NaN/±inf through the ORM, logged the
    normal way (``record`` with every column, as the registry services do): (url, instrument, certificate)."""
    r = runner.invoke(app, ["registry", "import", *FILES, "--db", db_url, "--json"])
    assert r.exit_code == 0, r.output
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        inst = s.scalars(select(Instrument).order_by(Instrument.code).limit(1)).one()
        inst.mpe_rel, inst.range_low, inst.range_high = math.nan, -math.inf, math.inf
        s.flush()
        record(s, actor="test", action="update", entity="instrument", key=inst.code, data=_columns(inst))
        # a calibration must have its U (a CHECK constraint); its other float fields may be NaN
        cert = s.scalars(select(Certificate).order_by(Certificate.cert_no).limit(1)).one()
        cert.as_found_error, cert.as_left_error, cert.coverage_probability = math.nan, math.inf, math.nan
        if cert.kind != "calibration":
            cert.expanded_u = math.nan
        s.flush()
        record(s, actor="test", action="update", entity="certificate", key=cert.cert_no, data=_columns(cert))
        codes = (inst.code, cert.cert_no)
    engine.dispose()
    return db_url, *codes


def test_D10_nan_and_inf_bearing_registry_verifies_clean_on_both_databases(nan_registry: tuple[str, str, str]) -> None:
    db, inst_code, _cert_no = nan_registry
    engine = make_engine(db)
    with session_scope(engine) as s:
        stored = s.execute(text("SELECT mpe_rel, range_low, range_high FROM instrument WHERE code = :c"),
                           {"c": inst_code}).one()
        last = s.scalars(select(AuditEntry).where(AuditEntry.entity == "instrument")
                         .order_by(AuditEntry.seq.desc()).limit(1)).one()
    engine.dispose()
    # the databases really differ: SQLite lost the NaN, PostgreSQL kept it; both keep ±inf
    if engine.dialect.name == "sqlite":
        assert stored.mpe_rel is None
    else:
        assert math.isnan(stored.mpe_rel)
    assert (stored.range_low, stored.range_high) == (-math.inf, math.inf)
    # the logged text is strict JSON in the canonical form
    logged = json.loads(last.data, parse_constant=lambda c: pytest.fail(f"non-standard JSON literal {c}"))
    assert (logged["mpe_rel"], logged["range_low"], logged["range_high"]) == (None, "-Infinity", "Infinity")
    code, doc = _verify(db)
    assert code == 0 and doc["ok"] is True and doc["chain_ok"] is True, doc
    assert doc["reconcile"]["ok"] is True and doc["reconcile"]["rows"]["certificate"] > 0


def test_D10_a_raw_change_of_a_nan_or_inf_field_is_still_found(nan_registry: tuple[str, str, str]) -> None:
    db, inst_code, cert_no = nan_registry
    engine = make_engine(db)
    with engine.begin() as c:
        c.execute(text("UPDATE instrument SET mpe_rel = 0.5, range_high = NULL WHERE code = :c"), {"c": inst_code})
        c.execute(text("UPDATE certificate SET as_left_error = :v WHERE cert_no = :c"), {"v": -math.inf, "c": cert_no})
    engine.dispose()
    code, doc = _verify(db)
    assert code == 1 and doc["chain_ok"] is True
    found = {(d["table"], d["key"], d["field"]): (d["logged"], d["current"]) for d in doc["reconcile"]["discrepancies"]}
    assert found == {
        ("instrument", inst_code, "mpe_rel"): (None, 0.5),
        ("instrument", inst_code, "range_high"): ("Infinity", None),
        ("certificate", cert_no, "as_left_error"): ("Infinity", "-Infinity"),
    }


def test_D10_entries_logged_with_nan_literals_by_earlier_versions_still_reconcile(engine: Engine) -> None:
    """Before the canonical form was strict JSON, ``json.dumps`` wrote NaN/Infinity literals into the log.
    Those entries keep their hashes (the chain hashes the stored text) and read back in today's form."""
    from carbonmet.registry import import_files

    import_files(engine, [Path(f) for f in FILES], actor="test")
    with session_scope(engine) as s:
        inst = s.scalars(select(Instrument).order_by(Instrument.code).limit(1)).one()
        inst.mpe_rel, inst.range_high = math.nan, math.inf
        s.flush()
        head = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        old = json.dumps({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in _columns(inst).items()},
                         sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert "NaN" in old and "Infinity" in old and old != canonical_json(_columns(inst))
        seq, ts = head.seq + 1, "2025-01-01T00:00:00.000000+00:00"
        s.add(AuditEntry(seq=seq, ts=ts, actor="old", action="update", entity="instrument", entity_key=inst.code,
                         data=old, prev_hash=head.hash,
                         hash=entry_hash(head.hash, seq, ts, "old", "update", "instrument", inst.code, old)))
    assert loads('{"a":NaN,"b":Infinity,"c":-Infinity}') == {"a": None, "b": "Infinity", "c": "-Infinity"}
    with session_scope(engine) as s:
        assert verify(s).ok
        assert reconcile(s).ok, reconcile(s).discrepancies
