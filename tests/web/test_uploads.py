"""Uploads through the API answer with the use case's counts and reasons: readings as XLSX, laboratory results
(stored, and a bad row quarantined naming row and field), a DCC certificate."""

from __future__ import annotations

import io

from openpyxl import Workbook

from .conftest import DCC, Site, lab_csv


def test_a_readings_workbook_is_ingested_like_a_csv(site: Site) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["point_id", "ts", "value"])
    ws.append(["E02.COAL", "2025-06-01T00:00:00+08:00", 3_000_000.0])
    ws.append(["E02.COAL", "2025-06-01T01:00:00+08:00", 3_000_100.0])
    buf = io.BytesIO()
    wb.save(buf)
    r = site.client.post("/api/v1/readings", headers=site.headers["bob"], files={"files": ("june.xlsx", buf.getvalue())})
    assert r.status_code == 200, r.text
    assert (r.json()["received"], r.json()["stored"]) == (2, 2) and r.json()["files"][0]["origin"] == "june.xlsx"


def test_lab_results_are_stored_and_a_bad_row_is_quarantined_naming_row_and_field(site: Site) -> None:
    good = lab_csv("E01", "UP-1")
    bad = good.replace(b",22.7,", b",not-a-number,").replace(b"UP-1", b"UP-2")
    r = site.client.post("/api/v1/lab", headers=site.headers["alice"],
                         files=[("files", ("good.csv", good)), ("files", ("bad.csv", bad))])
    assert r.status_code == 200, r.text
    files = {f["file"]: f for f in r.json()["files"]}
    assert files["good.csv"]["stored"] == 1
    rejects = files["bad.csv"]["rejects"]
    assert [(x["row"], x["field"]) for x in rejects] == [(2, "value")] and rejects[0]["file"] == "bad.csv"
    assert "/tmp" not in r.text


def test_a_dcc_certificate_becomes_the_instruments_certificate(site: Site) -> None:
    xml = DCC.read_bytes().replace(b"LLJZ2025-03-0117", b"LLJZ-UPLOAD-1")
    r = site.client.post("/api/v1/certificates/dcc", headers=site.headers["alice"],
                         files={"file": ("cert.xml", xml)}, data={"instrument": "BS-E01", "issuer": "C01"})
    assert r.status_code == 201, r.text
    assert (r.json()["cert_no"], r.json()["instrument"]) == ("LLJZ-UPLOAD-1", "BS-E01") and r.json()["results"] > 0
    got = site.client.get("/api/v1/certificates/LLJZ-UPLOAD-1", headers=site.headers["reg"])
    assert got.status_code == 200 and got.json()["subject"] == "BS-E01"
    assert site.client.get("/api/v1/certificates/LLJZ-UPLOAD-1", headers=site.headers["bob"]).status_code == 404
