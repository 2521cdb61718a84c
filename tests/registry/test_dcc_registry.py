"""DCC certificates in the registry: our export re-imports to the same certificate; a DCC not written
by carbonmet (tests/data/dcc, hand-written from the PTB schema structure) imports correctly."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from carbonmet.db import make_engine, migrate, session_scope
from carbonmet.registry import export_dcc, import_dcc, import_file
from carbonmet.registry.dcc import DccError
from carbonmet.registry.models import Certificate
from carbonmet.registry.rows import OrganisationRow, StandardRow
from carbonmet.registry.write import upsert_organisation, upsert_standard

DATA = Path(__file__).parent / "data"
FOREIGN = Path(__file__).parents[1] / "data" / "dcc" / "gas_flow_meter_v3.3.0.xml"


def _fields(c: Certificate) -> dict[str, object]:
    return {
        "coverage_probability": c.coverage_probability,
        "kind": c.kind, "subject": c.instrument.code if c.instrument else None, "issuer": c.issuer.code,
        "calibration_date": c.calibration_date, "valid_until": c.valid_until, "conclusion": c.conclusion,
        "as_found_error": c.as_found_error, "as_left_error": c.as_left_error, "error_unit": c.error_unit,
        "U": c.expanded_u, "k": c.coverage_factor,
        "standards": sorted((u.standard.code, u.standard_certificate.cert_no if u.standard_certificate else None)
                            for u in c.standards_used),
    }


def _registry_without(tmp_path: Path, drop: set[str]) -> Engine:
    """A fresh SQLite registry with the sample data minus some instrument certificates."""
    eng = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(eng)
    for t in ("organisations", "sites", "points", "standards", "instruments"):
        import_file(eng, DATA / f"{t}.csv")
    with open(DATA / "certificates.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["cert_no"] not in drop]
    out = tmp_path / "certificates.csv"
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    import_file(eng, out)
    return eng


@pytest.mark.parametrize("cert_no", ["ORD-2024-FM1", "ORD-2024-FM2"])
def test_export_reimports_to_same_certificate(sample: Engine, tmp_path: Path, cert_no: str) -> None:
    with session_scope(sample) as s:
        xml = export_dcc(s, cert_no)
        before = _fields(s.scalar(select(Certificate).where(Certificate.cert_no == cert_no)))
    assert xml.startswith(b"<?xml") and b"https://ptb.de/dcc" in xml
    other = _registry_without(tmp_path, {cert_no})
    with session_scope(other) as s:
        cert, notes = import_dcc(s, xml)
        after = _fields(cert)
        assert cert.dcc_xml == xml and cert.origin == "dcc"
    assert notes == []
    assert after == before
    # only k was stated: the DCC carries the normal-distribution probability, marked as derived, and the
    # re-imported certificate does not store it as if the issuer had stated it
    assert b"carbonmet_derivedCoverageProbability" in xml and b"0.9545" in xml
    with session_scope(other) as s:
        assert s.scalar(select(Certificate.coverage_probability).where(Certificate.cert_no == cert_no)) is None
    # and exporting the re-imported certificate gives the same document again
    with session_scope(other) as s:
        assert export_dcc(s, cert_no) == xml


def test_foreign_dcc_imports(sample: Engine) -> None:
    from carbonmet.registry.rows import InstrumentRow
    from carbonmet.registry.write import upsert_instrument

    with session_scope(sample) as s:
        upsert_organisation(s, OrganisationRow(org_code="PROV-LAB", name="示例省计量测试研究院",
                                               kind="metrology_institute"))
        upsert_instrument(s, InstrumentRow(serial="TB2301-0457", instrument_id="FT-NG-01", org_code="E01",
                                           type="gas_flow_meter", point_id="E01.NG_IN",
                                           installed_from=date(2025, 3, 20)))
        upsert_standard(s, StandardRow(standard_code="STD-GF-01", name="音速喷嘴法气体流量标准装置",
                                       holder_org="PROV-LAB", level="primary"))
    with session_scope(sample) as s:
        cert, notes = import_dcc(s, FOREIGN.read_bytes())
        f = _fields(cert)
        results = [(r.name, r.value, r.unit, r.expanded_u) for r in cert.results]
    assert f["subject"] == "FT-NG-01" and f["issuer"] == "PROV-LAB" and f["kind"] == "calibration"
    assert f["calibration_date"] == date(2025, 3, 11)
    assert f["U"] == pytest.approx(0.32) and f["k"] == 2.0 and f["error_unit"] == "%"
    assert f["as_left_error"] == pytest.approx(0.62)  # largest error of indication, at 20 m³/h
    assert f["standards"] == [("STD-GF-01", None)]  # its own certificate is not registered
    assert any("数字压力计" in n for n in notes)
    assert len(results) == 19
    assert results[6] == ("示值误差[0]", 0.62, "%", 0.32)


def test_verification_certificate_is_not_a_dcc(sample: Engine) -> None:
    from carbonmet.registry.errors import FieldError

    with session_scope(sample) as s, pytest.raises(FieldError, match="verification"):
        export_dcc(s, "ORD-JD-2024-BS1")


def test_malformed_dcc_rejected(sample: Engine) -> None:
    with session_scope(sample) as s, pytest.raises(DccError):
        import_dcc(s, b"<not-a-dcc/>")
    bad_unit = FOREIGN.read_bytes().replace(b"\\percent", b"\\percentt", 1)
    with session_scope(sample) as s, pytest.raises(DccError, match="percentt"):
        import_dcc(s, bad_unit)


def test_ambiguous_instrument_refused(sample: Engine) -> None:
    """Regression (review): two instruments share the DCC item's serial — refuse rather than guess."""
    from carbonmet.registry.errors import FieldError
    from carbonmet.registry.rows import InstrumentRow
    from carbonmet.registry.write import upsert_instrument

    with session_scope(sample) as s:
        upsert_organisation(s, OrganisationRow(org_code="PROV-LAB", name="示例省计量测试研究院",
                                               kind="metrology_institute"))
        for code in ("FT-A", "FT-B"):
            upsert_instrument(s, InstrumentRow(serial="TB2301-0457", instrument_id=code, org_code="E01",
                                               type="gas_flow_meter"))
    with session_scope(sample) as s, pytest.raises(FieldError, match="several instruments"):
        import_dcc(s, FOREIGN.read_bytes())
    with session_scope(sample) as s:
        cert, _ = import_dcc(s, FOREIGN.read_bytes(), instrument="FT-B")
        assert cert.instrument is not None and cert.instrument.code == "FT-B"
