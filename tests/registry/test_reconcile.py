"""Reconciliation (对账): the registry tables against the last state the audit log records for each row.

A row edited, inserted or deleted with raw SQL (bypassing the audited services) is found with its table,
key and field; a registry written only through the services reconciles with no finding.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text
from typer.testing import CliRunner

from carbonmet.db import AuditEntry, Base, Discrepancy, make_engine, migrate, reconcile, session_scope, verify
from carbonmet.db.audit import GENESIS, canonical_json, entry_hash
from carbonmet.registry import import_dcc, import_files
from carbonmet.registry.models import MeasurementPoint
from carbonmet.registry.rows import InstrumentRow, OrganisationRow, StandardRow
from carbonmet.registry.write import (
    find_instrument,
    install,
    record_incident,
    upsert_instrument,
    upsert_organisation,
    upsert_standard,
)

FOREIGN_DCC = Path(__file__).parents[1] / "data" / "dcc" / "gas_flow_meter_v3.3.0.xml"


def _point(s: Any, code: str) -> MeasurementPoint:
    from sqlalchemy import select

    p: MeasurementPoint = s.scalar(select(MeasurementPoint).where(MeasurementPoint.code == code))
    return p


def _enrich(engine: Engine) -> None:
    """Every audited entity kind: a DCC (results, links, blob), a move away and back, an incident."""
    with session_scope(engine) as s:
        upsert_organisation(s, OrganisationRow(org_code="PROV-LAB", name="示例省计量测试研究院",
                                               kind="metrology_institute"))
        upsert_instrument(s, InstrumentRow(serial="TB2301-0457", instrument_id="FT-NG-01", org_code="E01",
                                           type="gas_flow_meter", point_id="E01.NG_IN",
                                           installed_from=date(2025, 3, 20)))
        upsert_standard(s, StandardRow(standard_code="STD-GF-01", name="音速喷嘴法气体流量标准装置",
                                       holder_org="PROV-LAB", level="primary"))
    with session_scope(engine) as s:
        import_dcc(s, FOREIGN_DCC.read_bytes())
    with session_scope(engine) as s:  # FM2 goes to another point and comes back: two rows, one key
        fm2 = find_instrument(s, "FM2")
        install(s, fm2, _point(s, "E01.STEAM"), date(2025, 1, 1))
        install(s, fm2, _point(s, "E01.CO2_VENT"), date(2025, 2, 1))
        install(s, fm2, _point(s, "E01.CO2_VENT"), date(2025, 2, 2))  # correction of the start: an update
        record_incident(s, "WRK-FLOW", date(2024, 1, 1), date(2024, 6, 1), "first")
        record_incident(s, "WRK-FLOW", date(2025, 1, 1), date(2025, 6, 1), "second")


@pytest.fixture
def registry(sample: Engine) -> Engine:
    _enrich(sample)
    return sample


def _sql(engine: Engine, stmt: str, **params: Any) -> None:
    with engine.begin() as c:
        c.execute(text(stmt), params)


def _findings(engine: Engine) -> list[Discrepancy]:
    with session_scope(engine) as s:
        return list(reconcile(s).discrepancies)


def test_clean_registry_has_no_findings(registry: Engine, sample_files: list[Path]) -> None:
    with session_scope(registry) as s:
        rep = reconcile(s)
    assert rep.ok, rep.discrepancies[:5]
    assert rep.unchecked == {}
    assert rep.rows["certificate"] == 14 and rep.rows["instrument"] == 6 and rep.rows["installation"] == 7
    assert rep.rows["certificate_standard"] >= 14 and rep.rows["certificate_result"] == 19
    assert rep.rows["standard_incident"] == 2
    assert rep.entries > 50
    # a re-import (updates only where something changed) still reconciles
    import_files(registry, sample_files, actor="test")
    assert _findings(registry) == []


def test_raw_update_of_a_certificate_field(registry: Engine) -> None:
    _sql(registry, "UPDATE certificate SET expanded_u = 0.05, valid_until = :d WHERE cert_no = 'ORD-2024-FM2'",
         d=date(2026, 7, 14))
    found = _findings(registry)
    assert [(d.kind, d.table, d.key, d.field) for d in found] == [
        ("changed", "certificate", "ORD-2024-FM2", "expanded_u"),
        ("changed", "certificate", "ORD-2024-FM2", "valid_until"),
    ]
    assert (found[0].logged, found[0].current) == (0.6, 0.05)
    assert (found[1].logged, found[1].current) == (None, "2026-07-14")
    assert found[0].seq is not None


def test_raw_update_of_a_dcc_document_and_a_result(registry: Engine) -> None:
    _sql(registry, "UPDATE certificate SET dcc_xml = :b WHERE dcc_xml IS NOT NULL", b=b"<forged/>")
    _sql(registry, "UPDATE certificate_result SET value = 0.1 WHERE position = 6")
    found = [(d.kind, d.table, d.key.split("#")[-1], d.field) for d in _findings(registry)]
    assert found == [("changed", "certificate", found[0][2], "dcc_xml"),
                     ("changed", "certificate_result", "6", "value")]


def test_raw_insert_of_an_instrument(registry: Engine) -> None:
    _sql(registry, "INSERT INTO instrument (code, serial, org_id, type, status) SELECT 'GHOST-1', 'G-1', id, "
                   "'belt_scale', 'in_service' FROM organisation WHERE code = 'E01'")
    found = _findings(registry)
    assert [(d.kind, d.table, d.key, d.field) for d in found] == [("unlogged", "instrument", "GHOST-1", None)]
    assert found[0].current["serial"] == "G-1" and found[0].seq is None


def test_raw_delete_of_a_link_and_of_a_certificate(registry: Engine) -> None:
    _sql(registry, "DELETE FROM certificate_standard WHERE certificate_id = "
                   "(SELECT id FROM certificate WHERE cert_no = 'ORD-2023-FM1')")
    found = _findings(registry)
    assert [(d.kind, d.table, d.key) for d in found] == [("missing", "certificate_standard",
                                                           "ORD-2023-FM1/WRK-FLOW")]
    _sql(registry, "DELETE FROM certificate WHERE cert_no = 'ORD-2023-FM1'")
    found = _findings(registry)
    assert [(d.kind, d.table, d.key) for d in found] == [
        ("missing", "certificate", "ORD-2023-FM1"),
        ("missing", "certificate_standard", "ORD-2023-FM1/WRK-FLOW"),
    ]
    assert found[0].logged["cert_no"] == "ORD-2023-FM1"


def test_raw_changes_of_rows_without_a_unique_key(registry: Engine) -> None:
    """Installations (FM2 is twice at the same point) and incidents are told apart by the logged row id."""
    _sql(registry, "UPDATE installation SET installed_to = :d WHERE installed_to IS NULL AND instrument_id = "
                   "(SELECT id FROM instrument WHERE code = 'FM2')", d=date(2025, 3, 1))
    _sql(registry, "DELETE FROM standard_incident WHERE description = 'first'")
    found = [(d.kind, d.table, d.key, d.field, d.current) for d in _findings(registry)]
    assert found == [("changed", "installation", "FM2@E01.CO2_VENT", "installed_to", "2025-03-01"),
                     ("missing", "standard_incident", "WRK-FLOW", None, None)]


def _copy_with_log_before_row_ids(src: Engine, dst: Engine) -> int:
    """Copy every table of ``src`` into the empty ``dst``, the audit log as it was before the row id was
    logged: each entry's ``id`` left out and the chain hashed anew, so it is a valid log of that age.
    Returns the number of entries that had a row id."""
    dropped = 0
    with src.connect() as a, dst.begin() as b:
        for table in Base.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in a.execute(select(table).order_by(*table.primary_key.columns))]
            if table.name == AuditEntry.__tablename__:
                prev = GENESIS
                for r in rows:
                    data = json.loads(r["data"])
                    dropped += data.pop("id", None) is not None
                    r["data"] = canonical_json(data)
                    r["prev_hash"], r["hash"] = prev, entry_hash(
                        prev, r["seq"], r["ts"], r["actor"], r["action"], r["entity"], r["entity_key"], r["data"])
                    prev = r["hash"]
            if rows:
                b.execute(insert(table), rows)
    return dropped


def test_entries_without_row_ids_still_reconcile(engine: Engine, sample_files: list[Path], tmp_path: Path) -> None:
    """Entries written before the row id was logged: rows without a unique key are matched by content."""
    old = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(old)
    import_files(old, sample_files, actor="old")
    _enrich(old)
    assert _copy_with_log_before_row_ids(old, engine) > 0
    old.dispose()
    with session_scope(engine) as s:
        assert verify(s).ok
    assert _findings(engine) == []
    _sql(engine, "UPDATE installation SET installed_from = :d WHERE installed_from = :old",
         d=date(2024, 12, 1), old=date(2025, 1, 1))
    found = [(d.kind, d.table, d.key, d.field) for d in _findings(engine)]
    assert found == [("changed", "installation", "FM2@E01.STEAM", "installed_from")]


# --- the command -------------------------------------------------------------------------------------
runner = CliRunner()


def _verify(engine: Engine, *args: str) -> tuple[int, str]:
    from carbonmet.cli import app

    url = engine.url.render_as_string(hide_password=False)
    r = runner.invoke(app, ["audit", "verify", *args, "--db", url])
    return r.exit_code, r.output


def test_cli_verify_reconciles(registry: Engine) -> None:
    code, out = _verify(registry, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True and doc["chain_ok"] is True
    assert doc["reconcile"]["ok"] is True and doc["reconcile"]["discrepancies"] == []

    _sql(registry, "UPDATE certificate SET conclusion = 'conforms', valid_until = :d WHERE cert_no = "
                   "'ORD-JD-2024-BS1'", d=date(2026, 7, 31))
    code, out = _verify(registry, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["chain_ok"] is True  # the log itself is intact
    assert doc["reconcile"]["counts"] == {"changed": 1}
    (d,) = doc["reconcile"]["discrepancies"]
    assert (d["table"], d["key"], d["field"], d["logged"], d["current"]) == (
        "certificate", "ORD-JD-2024-BS1", "valid_until", "2025-07-31", "2026-07-31")

    code, out = _verify(registry)
    assert code == 1
    assert "改动未经审计" in out and "changed outside the services" in out
    assert "certificate" in out and "ORD-JD-2024-BS1" in out and "valid_until" in out
    assert out.index("登记表与审计日志不符") < out.index("registry differs from the audit log")

    code, out = _verify(registry, "--chain-only", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
