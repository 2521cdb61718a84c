"""Registry on SQLite and PostgreSQL: migrations, import, due list, coverage, reverse traceability."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select, text

from carbonmet.db import alembic_config, make_engine, migrate, session_scope, verify
from carbonmet.registry import (
    ImportRejected,
    catalog_from_registry,
    due_list,
    export_xlsx,
    import_file,
    import_files,
    period_coverage,
    trace_back,
)
from carbonmet.registry.models import Certificate, Instrument


def test_migrations_from_empty(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert {"organisation", "instrument", "certificate", "certificate_standard", "audit_log", "alembic_version"} <= names
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == ScriptDirectory.from_config(
            alembic_config()).get_current_head()  # 0001 (registry) is below later packages' revisions
    migrate(engine)  # idempotent


def test_import_counts_and_audit(sample: Engine) -> None:
    with session_scope(sample) as s:
        assert s.scalar(select(func.count()).select_from(Instrument)) == 5
        assert s.scalar(select(func.count()).select_from(Certificate)) == 13
        rep = verify(s)
    assert rep.ok and rep.entries > 13


def test_reimport_is_idempotent(sample: Engine, sample_files: list[Path]) -> None:
    with session_scope(sample) as s:
        before = verify(s).entries
    import_files(sample, sample_files)
    with session_scope(sample) as s:
        assert verify(s).entries == before  # nothing changed, nothing logged


def test_reverse_trace_three_levels(sample: Engine) -> None:
    # national standard found out of tolerance on 2024-05-01, last good 2024-01-01
    with session_scope(sample) as s:
        r = trace_back(s, "NAT-FLOW", date(2024, 1, 1), date(2024, 5, 1))
    certs = {(c.cert_no, c.depth) for c in r.certificates}
    assert certs == {("NIM-2024-01", 1), ("IM-2024-06", 2), ("ORD-2024-FM1", 3), ("ORD-2024-FM2", 3)}
    uses = {(u.subject, u.start, u.end) for u in r.instruments}
    assert uses == {("FM1", date(2024, 9, 1), date(2025, 9, 1)), ("FM2", date(2024, 7, 15), None)}
    periods = {(p.point, p.instrument, p.start, p.end) for p in r.data_periods}
    assert periods == {
        ("E01.NG_IN", "FM1", date(2024, 9, 1), date(2025, 9, 1)),
        ("E01.CO2_VENT", "FM2", date(2024, 7, 15), None),
    }
    assert not r.max_depth_reached
    # a window before any use finds nothing; FM3 and BS1 never appear
    with session_scope(sample) as s:
        empty = trace_back(s, "NAT-FLOW", date(2022, 1, 1), date(2022, 12, 31))
        r2 = trace_back(s, "WRK-FLOW", date(2025, 6, 1), date(2025, 12, 31))
    assert empty.certificates == []
    assert {c.cert_no for c in r2.certificates} == {"ORD-2025-FM1", "ORD-2025-FM3"}


def test_reverse_trace_follows_moves(sample: Engine) -> None:
    from carbonmet.registry.models import MeasurementPoint
    from carbonmet.registry.write import find_instrument, install

    with session_scope(sample) as s:
        fm2 = find_instrument(s, "FM2")
        steam = s.scalar(select(MeasurementPoint).where(MeasurementPoint.code == "E01.STEAM"))
        install(s, fm2, steam, date(2025, 1, 1))
    with session_scope(sample) as s:
        r = trace_back(s, "NAT-FLOW", date(2024, 1, 1), date(2024, 5, 1))
    periods = {(p.point, p.start, p.end) for p in r.data_periods if p.instrument == "FM2"}
    assert periods == {("E01.CO2_VENT", date(2024, 7, 15), date(2025, 1, 1)), ("E01.STEAM", date(2025, 1, 1), None)}


def test_due_list(sample: Engine) -> None:
    with session_scope(sample) as s:
        items = {i.instrument: i for i in due_list(s, today=date(2025, 10, 1), within_days=30, include_ok=True)}
    assert "SP1" not in items  # spares are not due
    assert items["BS1"].status == "overdue" and items["BS1"].due == date(2025, 7, 31)
    # FM2: calibration 2024-07-15 without valid_until; gas flow meter interval 24 months
    assert items["FM2"].due == date(2026, 7, 14) and items["FM2"].status == "ok"
    assert items["FM1"].status == "ok"
    with session_scope(sample) as s:
        soon = {i.instrument: i.status for i in due_list(s, today=date(2026, 8, 20), within_days=30)}
    assert soon["FM1"] == "due" and soon["FM2"] == "overdue"


def test_period_coverage(sample: Engine) -> None:
    with session_scope(sample) as s:
        cov = period_coverage(s, "E01.COAL_GAS", date(2025, 1, 1), date(2026, 1, 1))
        full = period_coverage(s, "E01.NG_IN", date(2024, 1, 1), date(2025, 1, 1))
    assert not cov.covered
    assert [(g.start, g.end) for g in cov.gaps] == [(date(2025, 8, 1), date(2026, 1, 1))]
    assert full.covered, full.gaps


def test_catalog_for_metering(sample: Engine) -> None:
    with session_scope(sample) as s:
        cat = catalog_from_registry(s)
    p = cat["E01.CO2_VENT"]
    assert p.enterprise == "E01" and p.reading_kind == "rate" and p.unit == "Nm3/h"
    assert p.hj212_mn == "88888880000001" and p.hj212_code == "a00000"
    (inst,) = p.instruments
    assert inst.serial == "FM-0002" and inst.range_high == 20000 and inst.certificates[0][0] == "ORD-2024-FM2"


def test_bad_rows_listed_nothing_committed(engine: Engine, sample_files: list[Path], tmp_path: Path) -> None:
    import_files(engine, sample_files[:5])  # everything but certificates
    bad = tmp_path / "bad-certificates.csv"
    bad.write_text(
        "cert_no,kind,subject,issuer_org,calibration_date,valid_until,conclusion,U,k\n"
        "C1,calibration,FM1,ORD,2025-01-01,,,0.5,2\n"  # good
        "C2,verification,FM1,ORD,2025-01-01,,,,\n"  # no conclusion
        "C3,calibration,NOPE,ORD,2025-01-01,,,0.5,2\n"  # unknown instrument
        "C4,calibration,FM1,ORD,2025-13-01,,,0.5,2\n"  # bad date
        "C5,calibration,FM1,XXX,2025-01-01,,,-1,2\n",  # bad org, negative U
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as ei:
        import_file(engine, bad)
    got = {(p.row, p.field) for p in ei.value.problems}
    assert (3, "row") in got  # verification without conclusion
    assert (4, "subject") in got
    assert (5, "calibration_date") in got
    assert (6, "U") in got  # negative U (the unknown issuer is reported once U is valid)
    assert all(p.file == str(bad) for p in ei.value.problems)
    assert "bad-certificates.csv:4:subject" in str(ei.value)
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 0  # C1 was not committed


def test_bad_xlsx_rows(engine: Engine, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "organisations"
    ws.append(["单位代码", "单位名称", "单位类型"])  # Chinese headers accepted
    ws.append(["A1", "甲公司", "enterprise"])
    ws.append(["A2", "", "enterprise"])
    ws.append(["A3", "丙公司", "factory"])
    path = tmp_path / "orgs.xlsx"
    wb.save(path)
    with pytest.raises(ImportRejected) as ei:
        import_file(engine, path)
    assert {(p.row, p.field) for p in ei.value.problems} == {(3, "name"), (4, "kind")}
    with session_scope(engine) as s:
        assert verify(s).entries == 0


def test_xlsx_export_reimports(sample: Engine, tmp_path: Path) -> None:
    from carbonmet.registry import export_rows

    path = tmp_path / "registry.xlsx"
    with session_scope(sample) as s:
        counts = export_xlsx(s, path)
        before = {t: export_rows(s, t) for t in counts}
    assert counts["certificates"] == 13
    other = make_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    migrate(other)
    import_file(other, path)
    with session_scope(other) as s:
        after = {t: export_rows(s, t) for t in counts}
    assert after == before


def test_failed_verification_ends_earlier_cover(sample: Engine) -> None:
    """Regression (review): BS1 conforms on 2024-08-01 (valid to 2025-07-31) but fails re-verification
    on 2025-01-15 — from that day its data are not covered, and the metering catalogue agrees."""
    from carbonmet.registry.rows import CertificateRow
    from carbonmet.registry.write import upsert_certificate

    with session_scope(sample) as s:
        upsert_certificate(s, CertificateRow(cert_no="TZ-2025-BS1", kind="verification", subject="BS1",
                                             issuer_org="ORD", calibration_date=date(2025, 1, 15),
                                             conclusion="does_not_conform"))
    with session_scope(sample) as s:
        cov = period_coverage(s, "E01.COAL_GAS", date(2024, 9, 1), date(2025, 7, 1))
        cat = catalog_from_registry(s)
    assert [(g.start, g.end) for g in cov.gaps] == [(date(2025, 1, 15), date(2025, 7, 1))]
    (inst,) = cat["E01.COAL_GAS"].instruments
    assert inst.certificates == (("ORD-JD-2024-BS1", date(2024, 8, 1), date(2025, 1, 14)),)


def test_same_day_recalibration_keeps_doubt_whatever_the_import_order(sample: Engine) -> None:
    """Regression (review): a second certificate of WRK-FLOW on the same day as the affected one
    (from an unaffected standard) must not end the doubt, and row order must not matter."""
    from carbonmet.registry.rows import CertificateRow
    from carbonmet.registry.write import link_standards, upsert_certificate

    with session_scope(sample) as s:
        c = upsert_certificate(s, CertificateRow(cert_no="X-2024-06", kind="calibration", subject="WRK-FLOW",
                                                 subject_kind="standard", issuer_org="NIM",
                                                 calibration_date=date(2024, 6, 1), U=0.2))
        link_standards(s, c, [])
    with session_scope(sample) as s:
        r = trace_back(s, "NAT-FLOW", date(2024, 1, 1), date(2024, 5, 1))
    assert {p.instrument for p in r.data_periods} == {"FM1", "FM2"}


def test_reimport_with_fewer_columns_keeps_stored_data(sample: Engine, tmp_path: Path) -> None:
    """Regression (review): a file without standards_used, or an instruments file with only the key
    columns, must not wipe traceability links, ranges, MPE or status."""
    from carbonmet.registry import export_rows

    with session_scope(sample) as s:
        before = {t: export_rows(s, t) for t in ("instruments", "certificates")}
    certs = tmp_path / "certificates.csv"
    certs.write_text("cert_no,kind,subject,issuer_org,calibration_date,U,k\n"
                     "ORD-2024-FM2,calibration,FM2,ORD,2024-07-15,0.6,2\n", encoding="utf-8")
    insts = tmp_path / "instruments.csv"
    insts.write_text("serial,instrument_id,org_code,type\nSP-0001,SP1,E01,gas_flow_meter\n", encoding="utf-8")
    import_file(sample, certs)
    import_file(sample, insts)
    with session_scope(sample) as s:
        after = {t: export_rows(s, t) for t in ("instruments", "certificates")}
        r = trace_back(s, "NAT-FLOW", date(2024, 1, 1), date(2024, 5, 1))
    assert after == before
    assert len(r.data_periods) == 2


def test_instrument_key_is_instrument_id(engine: Engine, sample_files: list[Path], tmp_path: Path) -> None:
    """Regression (review): two instruments may share a serial (different makers); two rows with the
    same instrument_id are a duplicate."""
    import_files(engine, sample_files[:3])
    ok = tmp_path / "instruments.csv"
    ok.write_text("serial,instrument_id,org_code,type\n001,A-1,E01,balance\n001,B-1,E01,balance\n", encoding="utf-8")
    assert import_file(engine, ok).rows == 2
    dup = tmp_path / "more-instruments.csv"
    dup.write_text("serial,instrument_id,org_code,type\n002,C-1,E01,balance\n003,C-1,E01,balance\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as ei:
        import_file(engine, dup)
    assert [(p.row, p.field) for p in ei.value.problems] == [(3, "instrument_id")]


def test_wide_trace_on_sqlite(tmp_path: Path) -> None:
    """Regression (review): more than 1,000 affected standard certificates at one level used to exceed
    SQLite's expression-depth limit."""
    from sqlalchemy import insert

    from carbonmet.registry.models import CertificateStandard, MeasurementStandard, Organisation

    n = 1100
    eng = make_engine(f"sqlite:///{tmp_path / 'wide.db'}")
    migrate(eng)
    with eng.begin() as c:  # bulk rows: this test is about the query, not the audited writes
        c.execute(insert(Organisation), [{"id": 1, "code": "L", "name": "lab", "kind": "metrology_institute"}])
        c.execute(insert(MeasurementStandard),
                  [{"id": 1, "code": "ROOT", "name": "root", "holder_org_id": 1, "level": "national"}]
                  + [{"id": i + 2, "code": f"W{i}", "name": "w", "holder_org_id": 1, "level": "working"}
                     for i in range(n)])
        c.execute(insert(Certificate),
                  [{"id": i + 1, "cert_no": f"C{i}", "kind": "calibration", "standard_id": i + 2, "issuer_org_id": 1,
                    "calibration_date": date(2024, 3, 1), "expanded_u": 0.1, "origin": "test"} for i in range(n)])
        c.execute(insert(CertificateStandard),
                  [{"certificate_id": i + 1, "standard_id": 1, "standard_certificate_id": None} for i in range(n)])
    with session_scope(eng) as s:
        r = trace_back(s, "ROOT", date(2024, 1, 1), date(2024, 6, 1))
    assert len(r.certificates) == n and len(r.standards) == n


def test_spreadsheet_cells_as_users_type_them(engine: Engine, sample_files: list[Path], tmp_path: Path) -> None:
    """Regression (review): a percent-formatted MPE, a numeric serial and a 2025/8/1 date."""
    from openpyxl import Workbook

    from carbonmet.registry import export_rows

    import_files(engine, sample_files[:3])
    wb = Workbook()
    ws = wb.active
    ws.title = "instruments"
    ws.append(["serial", "instrument_id", "org_code", "type", "mpe_rel", "point_id", "installed_from"])
    ws.append([123456, "N-1", "E01", "gas_flow_meter", 0.01, "E01.NG_IN", "2025/8/1"])
    ws["E2"].number_format = "0.0%"
    path = tmp_path / "inst.xlsx"
    wb.save(path)
    import_file(engine, path)
    with session_scope(engine) as s:
        cols, rows = export_rows(s, "instruments")
    row = dict(zip(cols, rows[0], strict=True))
    assert row["serial"] == "123456" and row["mpe_rel"] == pytest.approx(1.0)
    assert row["installed_from"] == date(2025, 8, 1)
