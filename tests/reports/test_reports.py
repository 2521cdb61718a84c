"""The accounting and review reports (碳排放核算报告, 计量审查报告) as PDF, XLSX and HTML, from a small generated
region (seed 7, two enterprises, hourly) through the command line, twice: the PDF holds the Chinese title and the
enterprise's name as text, the stamp is in the pages, the metadata and the workbook, and both runs give the
same bytes."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.reports import (
    Stamp,
    code_version,
    data_digest,
    render_pdf,
)
from carbonmet.services import (
    Scope,
    Workspace,
    account_enterprise,
    generate_region,
    import_lab,
    import_plan,
    import_registry,
    list_organisations,
    review_enterprise,
)
from carbonmet.tabular import workbook_bytes

YEAR = 2025
ON = date(2025, 12, 31)
TRIALS = 20_000


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("reports")
    reg = root / "region"
    db = f"sqlite:///{root / 'r.db'}"
    with Workspace(db, store_root=reg) as ws:
        generate_region(ws, Scope.nobody(), reg, enterprises=2, year=YEAR, seed=7, resolution="hour")
        c = Scope.centre()
        import_registry(ws, c, sorted((reg / "registry").glob("*.csv")))
        for f in sorted((reg / "plans").glob("*.toml")):
            import_plan(ws, c, f)
        import_lab(ws, c, [reg / "lab" / "lab.csv"])
        names = {o["org_code"]: o["name"] for o in list_organisations(ws, c)}
        account = account_enterprise(ws, c, "E01", YEAR, trials=TRIALS, seed=0)
        review = review_enterprise(ws, c, "E01", ON)
    runs: list[dict[str, Any]] = []
    for out in (root / "out1", root / "out2"):
        res = {}
        for kind, args in (("account", ["E01", "--year", str(YEAR), "--trials", str(TRIALS), "--store", str(reg)]),
                           ("review", ["E01", "--date", ON.isoformat()])):
            r = CliRunner().invoke(app, ["report", kind, *args, "--out", str(out), "--pdf", "--xlsx", "--html",
                                         "--db", db, "--json"])
            assert r.exit_code == 0, r.output
            res[kind] = json.loads(r.output)
        runs.append(res)
    yield {"names": names, "account": account, "review": review, "runs": runs}


def test_the_account_pdf_holds_the_chinese_title_the_enterprise_name_and_its_total(region: dict[str, Any]) -> None:
    res = region["runs"][0]["account"]
    assert set(res["files"]) == {"pdf", "xlsx", "html"}
    text = _text(Path(res["files"]["pdf"]).read_bytes())
    assert "碳排放核算报告" in text
    assert region["names"]["E01"] and region["names"]["E01"] in text
    total = region["account"].total
    assert f"{total['value']:,.0f}" in text and f"{total['U']:,.0f}" in text  # value and U = k·u, as printed
    assert "不确定度预算" in text and "数据来源" in text and "标记" in text


def test_the_review_pdf_holds_the_findings_by_instrument(region: dict[str, Any]) -> None:
    res = region["runs"][0]["review"]
    text = _text(Path(res["files"]["pdf"]).read_bytes())
    assert "计量审查报告" in text and region["names"]["E01"] in text
    joined = "".join(text.split())  # a table cell may break a long identifier over two lines
    findings = region["review"].findings
    assert findings and res["findings"] == len(findings)
    for f in findings:
        assert f.instrument in joined and f.rule_id in joined
        if f.certificate:
            assert f.certificate in joined


def test_two_runs_give_the_same_bytes(region: dict[str, Any]) -> None:
    a, b = region["runs"]
    for kind in ("account", "review"):
        assert a[kind]["stamp"] == b[kind]["stamp"]
        for fmt in ("pdf", "xlsx", "html"):
            pa, pb = Path(a[kind]["files"][fmt]), Path(b[kind]["files"][fmt])
            assert pa != pb and pa.read_bytes() == pb.read_bytes(), (kind, fmt)


def test_the_stamp_is_in_the_pages_the_metadata_and_the_workbook(region: dict[str, Any]) -> None:
    for kind, when in (("account", date(YEAR, 12, 31)), ("review", ON)):
        res = region["runs"][0][kind]
        st = res["stamp"]
        assert st["code_version"] == code_version() and st["generated_for"] == when.isoformat()
        assert st["data_version"].startswith("sha256:")
        pdf = Path(res["files"]["pdf"]).read_bytes()
        reader = PdfReader(io.BytesIO(pdf))
        for page in reader.pages:  # header and footer on every page
            t = page.extract_text()
            assert st["data_version"] in t and st["code_version"] in t and when.isoformat() in t
        meta = reader.metadata
        assert meta is not None
        stamp_day = when.strftime("D:%Y%m%d000000Z")
        assert meta["/CreationDate"] == stamp_day and meta["/ModDate"] == stamp_day  # the date, never the clock
        assert meta["/DataVersion"] == st["data_version"] and meta["/CodeVersion"] == st["code_version"]
        assert meta["/ProfileVersion"] == st["profile_version"]
        wb = load_workbook(res["files"]["xlsx"])
        rows = dict(wb["报告标识 stamp"].iter_rows(min_row=2, values_only=True))
        assert rows == st
        html = Path(res["files"]["html"]).read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>") and st["data_version"] in html


def test_the_account_stamp_names_the_profile_and_digests_the_account(region: dict[str, Any]) -> None:
    acc = region["account"]
    st = region["runs"][0]["account"]["stamp"]
    assert st["data_version"] == data_digest(acc.to_dict())
    prof = acc.provenance["profile"]
    assert st["profile_version"].startswith(f"{prof['name']}@{prof['version']}")
    wb = load_workbook(region["runs"][0]["account"]["files"]["xlsx"])
    summary = next(wb["汇总 summary"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert summary[1] == acc.to_dict()["total"]["value"]


def _stamp(**kw: Any) -> Stamp:
    base: dict[str, Any] = {"title": "测试报告 Test report", "subject": "E01 示例企业", "data_version": "sha256:0",
                            "profile_version": "p@1", "code_version": "0.0.0", "generated_for": date(2025, 12, 31)}
    return Stamp(**(base | kw))


PAGE = ('<!DOCTYPE html><html lang="zh-CN"><body><h1>碳排放核算报告</h1><p>甲煤化有限公司 · 排放总量 1,234 tCO2</p>'
        '<img src="http://127.0.0.1:9/not-fetched.png" alt="x"></body></html>')


def test_render_pdf_gives_the_same_bytes_and_the_stamp_decides_the_dates() -> None:
    a = render_pdf(PAGE, stamp=_stamp())
    assert a.startswith(b"%PDF-") and a == render_pdf(PAGE, stamp=_stamp())
    text = _text(a)
    assert "碳排放核算报告" in text and "甲煤化有限公司" in text
    b = render_pdf(PAGE, stamp=_stamp(generated_for=date(2026, 1, 31)))
    assert b != a
    meta = PdfReader(io.BytesIO(b)).metadata
    assert meta is not None and meta["/CreationDate"] == "D:20260131000000Z"
    c = render_pdf(PAGE, stamp=_stamp(data_version="sha256:1"))
    assert c != a and "sha256:1" in _text(c)


def test_a_workbook_written_twice_has_the_same_bytes_and_the_given_date() -> None:
    from datetime import datetime

    def book() -> Workbook:
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(["企业 enterprise", "排放量 tCO2"])
        ws.append(["E01", 1234.5])
        return wb

    when = datetime(2025, 12, 31)
    a, b = workbook_bytes(book(), when), workbook_bytes(book(), when)
    assert a == b
    wb = load_workbook(io.BytesIO(a))
    assert wb.properties.modified == when and wb.properties.created == when
    assert workbook_bytes(book(), datetime(2026, 1, 1)) != a
