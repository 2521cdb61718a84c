"""Hostile registry import files (issue 10): refused whole with file, row and field; nothing imported."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, func, select

from carbonmet.db import session_scope
from carbonmet.registry import ImportRejected, import_file
from carbonmet.registry.models import Certificate, Organisation

DATA = Path(__file__).parent / "data"
ORG_HEAD = "org_code,name,kind,region,industry"
ORGS = ["NIM,中国计量科学研究院,metrology_institute,北京市,", "ORD,鄂尔多斯市计量检测中心,metrology_institute,内蒙古自治区,"]


def _count(engine: Engine, model: type) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _certs_with(tmp_path: Path, extra_header: str, extra_cell: str) -> Path:
    lines = (DATA / "certificates.csv").read_text(encoding="utf-8").splitlines()
    out = [f"{lines[0]},{extra_header}"] + [f"{line},{extra_cell}" for line in lines[1:] if line.strip()]
    p = tmp_path / "certificates.csv"
    p.write_text("\n".join(out) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("second", ["valid_until", "有效期至"])
def test_D9_csv_duplicated_header_is_refused_not_last_wins(sample: Engine, tmp_path: Path, second: str) -> None:
    before = _count(sample, Certificate)
    path = _certs_with(tmp_path, second, "2099-12-31")
    with pytest.raises(ImportRejected, match=r"certificates\.csv:1:(valid_until|有效期至): .*valid_until"):
        import_file(sample, path)
    assert _count(sample, Certificate) == before
    with session_scope(sample) as s:
        assert not s.scalars(select(Certificate).where(Certificate.valid_until > date(2090, 1, 1))).first()


def test_D9_xlsx_duplicated_header_is_refused(engine: Engine, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "organisations"
    ws.append([*ORG_HEAD.split(","), "name"])
    ws.append(["NIM", "中国计量科学研究院", "metrology_institute", "北京市", None, "别的名称"])
    path = tmp_path / "orgs.xlsx"
    wb.save(path)
    with pytest.raises(ImportRejected, match=r"orgs\.xlsx\[organisations\]:1:name: .*columns 2 and 6"):
        import_file(engine, path)
    assert _count(engine, Organisation) == 0


def test_D12_truncated_xlsx_is_rejected_with_the_file_named(engine: Engine, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "organisations"
    ws.append(ORG_HEAD.split(","))
    good = tmp_path / "good.xlsx"
    wb.save(good)
    path = tmp_path / "organisations.xlsx"
    path.write_bytes(good.read_bytes()[:1500])
    with pytest.raises(ImportRejected, match=r"organisations\.xlsx:0:file: .*not a readable XLSX workbook") as e:
        import_file(engine, path)
    assert e.value.problems[0].field == "file"


def test_D2_registry_import_of_a_hostile_dimension_is_refused(engine: Engine, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "organisations"
    ws.append(ORG_HEAD.split(","))
    buf = io.BytesIO()
    wb.save(buf)
    zin = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    path = tmp_path / "organisations.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                x = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', data.decode())
                data = x.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>X</t>'
                                 "</is></c></row></sheetData>").encode()
            zout.writestr(item, data)
    with pytest.raises(ImportRejected, match=r"organisations\.xlsx\[organisations\]:1048576:limit"):
        import_file(engine, path)
    assert _count(engine, Organisation) == 0


def test_D23_gbk_csv_accepted_and_big5_refused_as_encoding(engine: Engine, tmp_path: Path) -> None:
    gbk = tmp_path / "organisations.csv"
    gbk.write_bytes(("\r\n".join([ORG_HEAD, *ORGS]) + "\r\n").encode("gbk"))
    assert import_file(engine, gbk).rows == 2
    big5 = tmp_path / "b" / "organisations.csv"
    big5.parent.mkdir()
    big5.write_bytes(f"{ORG_HEAD}\r\nTW1,計量測試儀表檢定單位,metrology_institute,臺灣,\r\n".encode("big5"))
    with pytest.raises(ImportRejected, match=r"organisations\.csv:0:encoding: .*Big5"):
        import_file(engine, big5)
    assert _count(engine, Organisation) == 2


def test_D24_surplus_cells_and_truncated_last_row_reject_the_file(engine: Engine, tmp_path: Path) -> None:
    p = tmp_path / "organisations.csv"
    p.write_text("\r\n".join([ORG_HEAD, ORGS[0] + ",stray", ORGS[1]]) + "\r\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match=r"organisations\.csv:2:column 6: surplus_cells"):
        import_file(engine, p)
    p.write_text("\r\n".join([ORG_HEAD, *ORGS])[:-8], encoding="utf-8")  # cut inside the last row
    with pytest.raises(ImportRejected, match=r"organisations\.csv:3:.*truncated_row"):
        import_file(engine, p)
    assert _count(engine, Organisation) == 0
