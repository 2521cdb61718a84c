"""Point catalogue from registry import files: instruments, installation periods, certificates, errors
(read with the importer's row models; the same rules as the catalogue from the database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from carbonmet.registry import ImportRejected, catalog_from_files

POINTS = ("point_id,site_code,name,quantity,carrier,unit,reading_kind,hj212_mn,hj212_code\n"
          "E01.GAS,S1,gas,normal_volume_flow,natural_gas,Nm3/h,rate,,\n"
          "E01.CO2,S1,co2,concentration,flue_gas,%,rate,MN1,a05001\n")
INSTR = ("serial,instrument_id,org_code,type,range_low,range_high,unit,mpe_rel,point_id,installed_from\n"
         "FM-1,,E01,gas_flow_meter,0,5000,Nm3/h,1.0,E01.GAS,2024-01-01\n"
         "FM-2,I-2,E01,gas_flow_meter,0,8000,Nm3/h,1.5,E01.GAS,2025-03-01\n"
         "SP-9,,E01,other,,,,,,\n")
CERTS = ("cert_no,kind,subject,issuer_org,calibration_date,valid_until,conclusion\n"
         "C1,verification,FM-1,M1,2024-01-05,2025-01-05,conforms\n"
         "C2,verification,I-2,M1,2025-02-20,2026-02-20,conforms\n")


def _w(d: Path, name: str, text: str) -> Path:
    p = d / name
    p.write_text(text, encoding="utf-8")
    return p


def test_catalog_from_files(tmp_path: Path) -> None:
    cat = catalog_from_files(_w(tmp_path, "points.csv", POINTS), _w(tmp_path, "instruments.csv", INSTR),
                       _w(tmp_path, "certificates.csv", CERTS),
                       _w(tmp_path, "sites.csv", "site_code,org_code,name\nS1,E01,plant\n"))
    gas = cat["E01.GAS"]
    assert gas.enterprise == "E01" and gas.reading_kind == "rate"
    fm1, fm2 = gas.instruments
    assert fm1.installed_to == date(2025, 3, 1) and fm2.installed_to is None  # next installation ends it
    assert fm1.certificates == (("C1", date(2024, 1, 5), date(2025, 1, 5)),)
    assert fm2.instrument_id == "I-2" and fm2.certificates[0][0] == "C2"
    assert cat.resolve_serial("FM-1", date(2025, 2, 28)) == "E01.GAS"
    assert cat.resolve_serial("FM-1", date(2025, 3, 1)) is None
    assert cat.resolve_serial("I-2", date(2025, 3, 1)) == "E01.GAS"
    assert cat["E01.CO2"].hj212_code == "a05001"


@pytest.mark.parametrize(
    ("points", "match"),
    [
        (POINTS.replace("Nm3/h,rate", "bogus_unit,rate"), r"points\.csv:2:unit"),
        (POINTS.replace("%,rate", "%,ratee"), r"points\.csv:3:reading_kind"),
        (POINTS.replace("E01.CO2,S1", "E01.GAS,S1"), r"points\.csv:3:point_id: duplicate"),
        (POINTS.replace("E01.GAS,S1", ",S1"), r"points\.csv:2:point_id: Field required"),
    ],
)
def test_bad_points_file_names_line_and_field(tmp_path: Path, points: str, match: str) -> None:
    with pytest.raises(ImportRejected, match=match):
        catalog_from_files(_w(tmp_path, "points.csv", points))


def test_bad_instrument_row(tmp_path: Path) -> None:
    p = _w(tmp_path, "points.csv", POINTS)
    with pytest.raises(ImportRejected, match=r"instruments\.csv:2:range_high: Input should be a valid number"):
        catalog_from_files(p, _w(tmp_path, "instruments.csv", INSTR.replace("0,5000", "0,5k")))
    with pytest.raises(ImportRejected, match="not in"):
        catalog_from_files(p, _w(tmp_path, "instruments.csv", INSTR.replace("E01.GAS,2025", "E09.X,2025")))
