"""The comparison pilot report (碳监测与碳核算比对验证试点报告) on the reference region (seed 7, 12 enterprises,
hourly) and on a hand-made comparison.

The region has a drifting stack flow monitor at E05 (STACK3, from April) and CEMS instruments at E12 calibrated
against the gas-flow standard later found out of tolerance (E12 STACK1 and the Rectisol vent, +3 % from their
calibration dates): E05 and E12 must come out flagged with findings that name instruments; E01 is healthy.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from matplotlib import image as mpimg
from openpyxl import load_workbook
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.reports import (
    MIN_ENTERPRISES,
    PilotData,
    PilotEnterprise,
    ReportError,
    finding_rules,
    pilot_chart_png,
    pilot_findings,
    render_pilot_html,
    write_pilot_xlsx,
)
from carbonmet.services import (
    Scope,
    Workspace,
    compare_enterprise,
    generate_region,
    import_lab,
    import_plan,
    import_registry,
    pilot_comparison,
    run_verify,
    verified_account,
)

YEAR = 2025
PILOT = ["E01", "E05", "E12"]
PNG = b"\x89PNG\r\n\x1a\n"
SHEETS = ["说明 Method", "汇总 Summary", "月度 Monthly", "碳平衡 Balance", "QA", "发现 Findings"]


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("pilot")
    reg = root / "region"
    db = f"sqlite:///{root / 'r.db'}"
    with Workspace(db, store_root=reg) as ws:
        generate_region(ws, Scope.nobody(), reg, enterprises=12, year=YEAR, seed=7, resolution="hour")
        c = Scope.centre()
        import_registry(ws, c, sorted((reg / "registry").glob("*.csv")))
        for f in sorted((reg / "plans").glob("*.toml")):
            import_plan(ws, c, f)
        import_lab(ws, c, [reg / "lab" / "lab.csv"])
        cmp = {e: compare_enterprise(ws, c, e, YEAR) for e in PILOT}
    args = ["--year", str(YEAR), "--db", db, "--store", str(reg), "--enterprises", ",".join(PILOT)]
    for f in sorted((reg / "cems").glob("rata-E0[15]-*.csv")):  # the region's December RATA campaign
        args += ["--rata", str(f)]
    runs = []
    for out in (root / "out1", root / "out2"):
        r = CliRunner().invoke(app, ["pilot", "comparison", *args, "--out", str(out), "--json"])
        assert r.exit_code == 0, r.output
        runs.append({"out": out, "summary": json.loads(r.output)})
    yield {"root": root, "region": reg, "db": db, "compare": cmp, "runs": runs}


def test_the_workbook_has_the_sheets_and_the_comparisons_numbers(pilot: dict[str, Any]) -> None:
    run = pilot["runs"][0]
    wb = load_workbook(run["out"] / f"pilot-{YEAR}.xlsx")
    assert wb.sheetnames == [*SHEETS, "报告标识 stamp"]  # the RATA files given → a QA sheet; the stamp last
    head = [c.value for c in wb["汇总 Summary"][1]]
    rows = {r[0]: dict(zip(head, r, strict=True)) for r in wb["汇总 Summary"].iter_rows(min_row=2, values_only=True)}
    assert list(rows) == PILOT
    for e in PILOT:
        y, s = pilot["compare"][e].year_row, rows[e]
        assert s["CEMS tCO2"] == y["cems"] and s["核算 accounting tCO2"] == y["accounting"]
        assert s["差值 D tCO2"] == y["difference"] and s["E_n"] == y["En"]
        assert s["相对偏差 D/E核算 %"] == y["relative_deviation_pct"]
        # U = k·u with k = 2, and D = E_CEMS − E_acc (the comparison rounds each to 1e-4 t)
        assert s["U CEMS tCO2"] == pytest.approx(2 * y["u_cems"], rel=1e-12)
        assert s["U(D) tCO2"] == pytest.approx(2 * y["u_difference"], rel=1e-12)
        assert s["差值 D tCO2"] == pytest.approx(s["CEMS tCO2"] - s["核算 accounting tCO2"], abs=2e-4)
        assert s["结论 verdict"] == y["verdict"]
        assert s["标记 flagged"] == ("是 yes" if pilot["compare"][e].flagged else "否 no")
        assert s["实测率 measured-parameter share"] == pytest.approx(pilot["compare"][e].measured_share, abs=1e-4)
    # E05 2025: CEMS 4,324,363 vs accounting 4,459,367 tCO2 → D = −135,005 t, E_n = −1.07: inconsistent
    assert rows["E05"]["E_n"] < -1 and rows["E05"]["结论 verdict"].startswith("不一致")
    monthly = list(wb["月度 Monthly"].iter_rows(min_row=2, values_only=True))
    assert len(monthly) == 3 * 12
    for e, period, cems, u_cems, acc, *_ in monthly:
        r = next(x for x in pilot["compare"][e].rows if x["period"] == period)
        assert (cems, u_cems, acc) == (r["cems"], r["u_cems"], r["accounting"])
    flows = list(wb["碳平衡 Balance"].iter_rows(min_row=2, values_only=True))
    assert {f[0] for f in flows} == set(PILOT) and all(f[7] is not None for f in flows)
    kinds = {(r[0], r[2]) for r in wb["发现 Findings"].iter_rows(min_row=2, values_only=True)}
    assert ("E05", "inconsistent_year") in kinds and ("E12", "step_at_recalibration") in kinds
    assert ("E01", "no_finding") in kinds


def test_running_twice_gives_the_same_bytes(pilot: dict[str, Any]) -> None:
    a, b = (r["out"] for r in pilot["runs"])
    assert (a / f"pilot-{YEAR}.xlsx").read_bytes() == (b / f"pilot-{YEAR}.xlsx").read_bytes()
    assert (a / f"pilot-{YEAR}.html").read_bytes() == (b / f"pilot-{YEAR}.html").read_bytes()
    assert (a / f"pilot-{YEAR}.pdf").read_bytes() == (b / f"pilot-{YEAR}.pdf").read_bytes()


def test_the_pdf_holds_the_chinese_title_every_enterprise_and_the_stamp(pilot: dict[str, Any]) -> None:
    from pypdf import PdfReader

    run = pilot["runs"][0]
    assert run["summary"]["pdf"] == str(run["out"] / f"pilot-{YEAR}.pdf")
    reader = PdfReader(run["out"] / f"pilot-{YEAR}.pdf")
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "碳监测与碳核算比对验证试点报告" in text
    for e in PILOT:
        assert e in text
    st = run["summary"]["stamp"]
    assert st["data_version"] in text and st["code_version"] in text
    assert reader.metadata is not None and reader.metadata["/CreationDate"] == f"D:{YEAR}1231000000Z"
    wb = load_workbook(run["out"] / f"pilot-{YEAR}.xlsx")
    assert dict(wb["报告标识 stamp"].iter_rows(min_row=2, values_only=True)) == st


def test_the_page_holds_every_enterprise_chart_verdict_and_the_flagged_findings(pilot: dict[str, Any]) -> None:
    html = (pilot["runs"][0]["out"] / f"pilot-{YEAR}.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in html
    assert "碳监测与碳核算比对验证试点报告" in html
    for e in PILOT:
        assert f'id="ent-{e}"' in html
        assert pilot["compare"][e].year_row["verdict"] in html
    imgs = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(imgs) == 2 * len(PILOT)  # monthly chart and 碳流图 per enterprise
    assert all(base64.b64decode(x).startswith(PNG) for x in imgs)
    assert "src=\"http" not in html and "<script" not in html  # self-contained, nothing to fetch or run
    sections = dict(zip(PILOT, re.split(r'<h2 id="ent-E\d\d">', html)[1:], strict=True))
    assert "[flag] inconsistent_year" in sections["E05"] and "[flag] unstable" in sections["E05"]
    # with the coal-yard and tank books (refdata 1.6) E05's annual balance passes: its drifting stack flow monitor
    # is below what the balance can detect on a stack (minimum detectable bias 20–50 %); no balance finding then
    assert "[flag] balance_failed" not in sections["E05"] and "[flag] balance_failed" not in sections["E01"]
    e12 = sections["E12"]
    assert "[flag] step_at_recalibration" in e12 and "E12-I0334" in e12 and "recalibrate E12-I0334" in e12
    assert "[flag]" not in sections["E01"] and "[ok] no_finding" in sections["E01"]


def test_the_summary_and_the_chart_files(pilot: dict[str, Any]) -> None:
    s = pilot["runs"][0]["summary"]
    assert [e["enterprise"] for e in s["enterprises"]] == PILOT
    by = {e["enterprise"]: e for e in s["enterprises"]}
    assert by["E05"]["flagged"] and not by["E05"]["consistent"] and by["E05"]["flagged_findings"] >= 3
    assert by["E12"]["flagged"] and "E12-I0334" in by["E12"]["suspects"]
    assert not by["E01"]["flagged"] and by["E01"]["flagged_findings"] == 0
    assert len(s["charts"]) == 6
    for p in map(Path, s["charts"]):
        assert p.read_bytes().startswith(PNG)
        img = mpimg.imread(p)
        assert img.ndim == 3 and img.shape[0] > 300 and img.shape[1] > 500


def test_fewer_than_three_enterprises_exit_2_saying_why(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["pilot", "comparison", "--enterprises", "E01,E05", "--year", str(YEAR),
                                 "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert f"至少需要 {MIN_ENTERPRISES} 家企业" in r.output and "got 2" in r.output
    assert not (tmp_path / "o").exists()


def test_an_enterprise_outside_the_scope_stops_the_pilot_before_anything_is_written(pilot: dict[str, Any],
                                                                                     tmp_path: Path) -> None:
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["pilot", "comparison", "--enterprises", ",".join(PILOT), "--year", str(YEAR),
                                 "--db", pilot["db"], "--store", str(pilot["region"]), "--org", "E01",
                                 "--out", str(out)])
    assert r.exit_code == 1 and "E05" in r.output
    assert not out.exists()


def test_the_page_escapes_what_it_is_given_and_works_without_a_balance(pilot: dict[str, Any]) -> None:
    hostile = '<script>alert("x")</script>'
    ents = [PilotEnterprise(e, pilot["compare"][e].to_dict(), {}, sources={"plan": hostile if e == "E01" else "p"})
            for e in PILOT]
    html = render_pilot_html(PilotData(YEAR, ents))
    assert "<script" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert len(re.findall(r"<img ", html)) == len(PILOT)  # no balance → no 碳流图
    assert "balance_failed" not in html


def _month_rows(rel: list[float], u_d: float = 3000.0) -> list[dict[str, Any]]:
    """Comparison rows of a hand-made year: accounting 100,000 t a month, CEMS off by ``rel`` [%]."""
    rows: list[dict[str, Any]] = []
    for m, x in enumerate(rel, start=1):
        acc = 100_000.0
        d = acc * x / 100
        en = d / (2 * u_d)
        rows.append({"period": f"{YEAR}-{m:02d}", "cems": acc + d, "u_cems": 2000.0, "accounting": acc,
                     "u_accounting": 1500.0, "difference": d, "relative_deviation_pct": x, "u_difference": u_d,
                     "u_difference_naive": u_d, "En": en, "En_naive": en, "consistent": abs(en) <= 1,
                     "verdict": "一致 (95 %) / consistent at 95 %" if abs(en) <= 1 else "不一致 (95 %) / inconsistent at 95 %"})
    d = sum(r["difference"] for r in rows)
    u = (12 * u_d**2) ** 0.5
    rows.append({"period": str(YEAR), "cems": 1_200_000.0 + d, "u_cems": 6928.2, "accounting": 1_200_000.0,
                 "u_accounting": 5196.2, "difference": d, "relative_deviation_pct": 100 * d / 1_200_000.0,
                 "u_difference": u, "u_difference_naive": u, "En": d / (2 * u), "En_naive": d / (2 * u),
                 "consistent": abs(d / (2 * u)) <= 1, "verdict": "x"})
    return rows


def _comparison(code: str, rel: list[float], *, steps: list[dict[str, Any]] | None = None,
                share: float = 0.95) -> dict[str, Any]:
    rows = _month_rows(rel)
    return {"enterprise": code, "year": YEAR, "k": 2.0, "consistent": rows[-1]["consistent"],
            "verdict": rows[-1]["verdict"], "months_inconsistent": [r["period"] for r in rows[:-1] if not r["consistent"]],
            "measured_parameter_share": share, "flagged": bool(steps), "stability": {"unstable": False, "p": 0.5},
            "steps": steps or [], "suspects": [s["instrument"] for s in steps or [] if s["significant"]],
            "periods": rows, "contributors": [{"term": "default:ncv", "kind": "default", "label": "NCV default",
                                               "variance_share": 0.4, "instruments": []}]}


def test_findings_worked_example() -> None:
    # A: −1 % every month → D = −12,000 t on 1,200,000 t; u(D) = √12 × 3,000 = 10,392 t; E_n = −12,000 /
    #    20,785 = −0.58: consistent, nothing flagged; measured share 95 % ≥ 90 %: no note.
    # B: +7 % in June only (D = 7,000 t, E_n = 7,000 / 6,000 = +1.17): one inconsistent month and ≥ 4 % alert.
    # C: a significant step at the recalibration of flow monitor C-I9 (certificate X-1), share 35 %.
    step = {"instrument": "C-I9", "point": "C.STACK1.FLOW", "date": f"{YEAR}-07-02", "certificate": "X-1",
            "before_pct": 0.1, "after_pct": 3.1, "step_pct": 3.0, "p_adjusted": 0.001, "significant": True}
    data = PilotData(YEAR, [
        PilotEnterprise("A", _comparison("A", [-1.0] * 12), {}),
        PilotEnterprise("B", _comparison("B", [0.0] * 5 + [7.0] + [0.0] * 6), {}),
        PilotEnterprise("C", _comparison("C", [0.1] * 6 + [3.1] * 6, steps=[step], share=0.35), {}),
    ])
    f = pilot_findings(data)
    by = {(x.enterprise, x.kind): x for x in f}
    assert {k for e, k in by if e == "A"} == {"no_finding"}
    assert "E_n = -0.58" in by[("A", "no_finding")].what_en
    b = by[("B", "inconsistent_months")]
    assert b.severity == "note" and b.numbers["months"] == [f"{YEAR}-06"] and "E_n = +1.17" in b.what_en
    assert by[("B", "monthly_deviation")].numbers["max_relative_deviation_pct"] == 7.0
    s = by[("C", "step_at_recalibration")]
    assert s.severity == "flag" and "C-I9" in s.where and "X-1" in s.where
    assert "recalibrate C-I9 (C.STACK1.FLOW)" in s.action_en and "2025-07" in s.action_en and "重新校准 C-I9" in s.action_zh
    share = by[("C", "measured_share_low")]
    rules = finding_rules()
    assert share.numbers["published_all_measured_pct"] == rules["published_difference_all_measured_pct"].value == 2.51
    assert share.numbers["published_all_defaults_pct"] == 19.62 and "NCV default" in share.action_en
    assert all(r.evidence in ("V", "C", "M", "?", "A") and r.source for r in rules.values())
    png = pilot_chart_png(data.enterprises[2].comparison)
    assert png.startswith(PNG) and mpimg.imread(io.BytesIO(png), format="png").shape[2] in (3, 4)


def test_the_workbook_of_a_hand_made_pilot_has_a_qa_sheet_and_the_same_bytes_twice(tmp_path: Path) -> None:
    qa = [{"enterprise": "A", "point": "A.STACK1.FLOW", "rata": {"parameter": "flow", "ra_pct": 12.5, "passed": False,
                                                                  "rule_set": "hj75_2017", "clause": "§x", "evidence": "C"},
           "bias": None}]
    data = PilotData(YEAR, [PilotEnterprise(c, _comparison(c, [0.5] * 12), {}) for c in "ABC"], qa=qa)
    a, b = write_pilot_xlsx(data, tmp_path / "a.xlsx"), write_pilot_xlsx(data, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    wb = load_workbook(a)
    assert wb.sheetnames == SHEETS
    assert next(wb["QA"].iter_rows(min_row=2, values_only=True))[4:9] == ("rata", "flow", 12.5, "%", "否 no")
    assert any(r[2] == "qa_failed" for r in wb["发现 Findings"].iter_rows(min_row=2, values_only=True))


@pytest.mark.parametrize("change, field", [
    (lambda d: d["enterprises"].pop(), "at least 3"),
    (lambda d: d["enterprises"][1].comparison.update(year=YEAR - 1), "comparison.year"),
    (lambda d: d["enterprises"][2].comparison.update(enterprise="Z"), "comparison.enterprise"),
    (lambda d: d["enterprises"].append(d["enterprises"][0]), "more than once"),
])
def test_bad_pilot_data_is_refused_naming_the_enterprise_and_field(change: Any, field: str) -> None:
    d = {"enterprises": [PilotEnterprise(c, _comparison(c, [0.5] * 12), {}) for c in "ABC"]}
    change(d)
    with pytest.raises(ReportError, match=field):
        PilotData(YEAR, d["enterprises"])


def test_the_rata_campaign_points_at_the_drifting_flow_monitor(pilot: dict[str, Any]) -> None:
    """The region's December reference-method comparisons go into the QA sheet; for E05 STACK3 — whose flow
    monitor drifts from April — the diagnosis names the flow monitor, and it becomes a finding."""
    out = pilot["runs"][0]["out"]
    wb = load_workbook(out / f"pilot-{YEAR}.xlsx", read_only=True)
    rows = list(wb["QA"].iter_rows(min_row=2, values_only=True))
    diag = [r for r in rows if r[4] == "diagnosis" and r[2] == "E05.STACK3"]
    assert len(diag) == 1 and diag[0][5] == "flow" and diag[0][8] == "否 no", diag
    assert sum(r[4] == "rata" for r in rows) >= 9
    html = (out / f"pilot-{YEAR}.html").read_text(encoding="utf-8")
    assert "E05.STACK3" in html


def test_a_stored_verification_puts_the_verified_account_beside_cems(pilot: dict[str, Any], tmp_path: Path) -> None:
    """碳监测与碳核查数据比对: once E05's verification of the year is stored, the pilot sets CEMS against the verified
    account on the comparison's boundary (sheet, HTML section, summary); the others say none is stored."""
    reg, e = pilot["region"], "E05"
    verifier = Scope.of(read=[e], actor="verifier-v")
    with Workspace(pilot["db"], store_root=reg) as ws:
        run_verify(ws, verifier, e, YEAR, reg / "reports" / f"{e}.csv")
        va = verified_account(ws, verifier, e, YEAR)
        res = pilot_comparison(ws, Scope.centre(), PILOT, YEAR, tmp_path, pdf=False)
    by = {x["enterprise"]: x for x in res["enterprises"]}
    assert by["E01"]["verified"] is None and by["E12"]["verified"] is None
    v = by[e]["verified"]
    y = pilot["compare"][e].year_row
    boundary = pilot["compare"][e].to_dict()["boundary"]["accounting_streams"]
    rows = [s for s in va.streams if s.stream in boundary]
    assert v["run_key"] == va.run_key and v["verified_by"] == "verifier-v" and v["missing"] == []
    assert v["streams"] == sorted(s.stream for s in rows) and rows
    # the process stream is not in the reported account the verification checks: taken from the platform's
    assert sorted(v["streams"] + v["from_platform"]) == sorted(boundary) and v["from_platform"] == ["gasification"]
    assert v["reported"] == pytest.approx(sum(s.reported_tco2 for s in rows), abs=1e-3)
    assert v["verified"] > sum(s.verified_tco2 for s in rows)  # plus the platform's gasification figure
    assert v["U_verified"] ** 2 > sum(s.U_tco2 ** 2 for s in rows) and v["cems"] == y["cems"]
    assert v["difference"] == pytest.approx(y["cems"] - v["verified"], abs=1e-3)
    assert v["En"] == pytest.approx(v["difference"] / (v["U_verified"] ** 2 + (2 * y["u_cems"]) ** 2) ** 0.5,
                                    abs=1e-3)
    assert v["consistent"] == (abs(v["En"]) <= 1)
    wb = load_workbook(tmp_path / f"pilot-{YEAR}.xlsx")
    assert "核查比对 Verified" in wb.sheetnames
    (row,) = list(wb["核查比对 Verified"].iter_rows(min_row=2, values_only=True))
    assert row[0] == e and row[1] == va.run_key and row[13] == v["En"]
    html = (tmp_path / f"pilot-{YEAR}.html").read_text(encoding="utf-8")
    assert "与核查后排放量比对" in html and va.run_key in html
