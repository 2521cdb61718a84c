"""The capability status report (全国煤化工行业碳排放计量能力现状和问题建议报告).

From a small generated region (seed 7, three enterprises, plans and lab imported, the out-of-tolerance standard
recorded) through the command line, twice, with the accounts' tiers: the same bytes both times, the Chinese title
and every enterprise in the PDF, the counts of the workbook equal to the campaign's. And, on reviews written out by
hand, the fit-out rates pooled by level and carrier and the gap list worked out by hand.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

import carbonmet.review
from carbonmet.cli import app
from carbonmet.reports.capability import (
    CapabilityData,
    capability_stamp,
    check_labels,
    render_capability_html,
    write_capability_xlsx,
)
from carbonmet.review import Finding, ReviewResult, load_rules
from carbonmet.review.campaign import summarise_campaign
from carbonmet.services import (
    Scope,
    Workspace,
    generate_region,
    import_lab,
    import_plan,
    import_registry,
    record_incident,
    review_campaign,
)

YEAR = 2025
ON = date(YEAR, 12, 31)


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("capability")
    reg = root / "region"
    db = f"sqlite:///{root / 'r.db'}"
    with Workspace(db, store_root=reg) as ws:
        generate_region(ws, Scope.nobody(), reg, enterprises=3, year=YEAR, seed=7, resolution="hour")
        manifest = json.loads((reg / "manifest.json").read_text(encoding="utf-8"))
        c = Scope.centre()
        import_registry(ws, c, sorted((reg / "registry").glob("*.csv")))
        for ev in manifest["out_of_tolerance"]:
            record_incident(ws, c, ev["standard_code"], date.fromisoformat(ev["window_from"]),
                            date.fromisoformat(ev["window_to"]))
        for f in sorted((reg / "plans").glob("*.toml")):
            import_plan(ws, c, f)
        import_lab(ws, c, [reg / "lab" / "lab.csv"])
        campaign = review_campaign(ws, c, "all", ON, top=None)
    runs = []
    for out in (root / "out1", root / "out2"):
        r = CliRunner().invoke(app, ["report", "capability", "--enterprises", "all", "--year", str(YEAR), "--out",
                                     str(out), "--pdf", "--xlsx", "--html", "--tiers", "--store", str(reg), "--db", db,
                                     "--json"])
        assert r.exit_code == 0, r.output
        runs.append(json.loads(r.stdout))
    yield {"campaign": campaign, "runs": runs, "manifest": manifest}


def test_two_runs_give_the_same_bytes(region: dict[str, Any]) -> None:
    a, b = region["runs"]
    assert a["stamp"] == b["stamp"] and set(a["files"]) == {"pdf", "xlsx", "html"}
    for fmt in ("pdf", "xlsx", "html"):
        pa, pb = Path(a["files"][fmt]), Path(b["files"][fmt])
        assert pa != pb and pa.read_bytes() == pb.read_bytes(), fmt


def test_the_pdf_holds_the_chinese_title_the_enterprises_and_the_stamp(region: dict[str, Any]) -> None:
    res = region["runs"][0]
    reader = PdfReader(io.BytesIO(Path(res["files"]["pdf"]).read_bytes()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    joined = "".join(text.split())
    assert "全国煤化工行业碳排放计量能力现状和问题建议报告" in joined
    for section in ("总体情况", "计量器具配备率", "准确度、检定校准与溯源", "不确定度层级", "主要问题与建议", "企业差距清单"):
        assert section in joined, section
    for e in region["campaign"].enterprises:
        assert e.enterprise in joined
    st = res["stamp"]
    assert st["generated_for"] == ON.isoformat() and st["data_version"] in text
    assert reader.metadata is not None and reader.metadata["/DataVersion"] == st["data_version"]


def test_the_counts_match_the_campaign(region: dict[str, Any]) -> None:
    camp, res = region["campaign"], region["runs"][0]
    t = camp.totals()
    assert res["totals"] == t and t["reviewed"] == 3 and t["findings"] > 0
    wb = load_workbook(res["files"]["xlsx"])
    rows = list(wb["企业 Enterprises"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [e.enterprise for e in camp.enterprises]
    for r, e in zip(rows, camp.enterprises, strict=True):
        assert r[3] == e.instruments_reviewed  # in-service instruments
        assert r[4] == sum(n for s, n in e.by_severity.items() if s != "info")  # non-conformities
        assert r[13] == e.by_check.get("overdue", 0) and r[17] == e.by_check.get("traceability_oot", 0)
        res_e = camp.results[e.enterprise]
        acc = {f.instrument for f in res_e.findings if f.check == "accuracy_class" and f.severity != "info"}
        assert r[9] == len(acc)
        assert r[10] == pytest.approx(100 * (e.instruments_reviewed - len(acc)) / e.instruments_reviewed)
    problems = list(wb["主要问题 Problems"].iter_rows(min_row=2, values_only=True))
    assert [(p[0], p[1]) for p in problems] == [(p.rule_id, p.findings) for p in camp.problems[:10]]
    findings = list(wb["发现 Findings"].iter_rows(min_row=2, values_only=True))
    assert len(findings) == t["findings"]
    # every injected non-compliance of these enterprises is a finding in the workbook
    injected = {(f["enterprise"], f["instrument_id"]) for f in region["manifest"]["noncompliance"]}
    assert injected and injected <= {(r[0], r[1]) for r in findings}
    gaps = list(wb["差距清单 Gaps"].iter_rows(min_row=2, values_only=True))
    assert sum(g[7] for g in gaps if g[2] == "rule") == sum(p.findings for p in camp.problems)


def test_the_tiers_of_every_account_stream_are_reported(region: dict[str, Any]) -> None:
    res = region["runs"][0]
    wb = load_workbook(res["files"]["xlsx"])
    rows = list(wb["层级 Tiers"].iter_rows(min_row=2, values_only=True))
    assert {r[0] for r in rows} == {e.enterprise for e in region["campaign"].enterprises}
    assert all(r[5] == "" or r[5] is None for r in rows)  # every account computed
    for r in rows:  # the tier is the highest whose threshold the stream's U_rel meets (0: none)
        if r[2] is not None and r[2] > 0:
            assert r[3] <= r[4]
    html = Path(res["files"]["html"]).read_text(encoding="utf-8")
    assert "不确定度层级" in html and "未计算核算层级" not in html


# --- fit-out rates and gaps on reviews written out by hand --------------------------------------------------------
@dataclass(frozen=True)
class _FitOut:
    """The shape of ``carbonmet.review``'s ``FitOutRate`` (rates in %), for a review package without it."""

    level: str
    carrier: str
    required_points: int
    equipped_points: int
    rate: float
    required_rate: float
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FitOut: Any = getattr(carbonmet.review, "FitOutRate", _FitOut)


def _hand() -> CapabilityData:
    rs = load_rules()
    f = Finding("CCM-CAL-01", "overdue", "major", "A1", "A.P1", "C1", "", "GB 17167-2006 5.3.6", "V-std", "m", "r",
                "gb17167_ccm.csv:2")
    a = ReviewResult("EA", ON, rs.profile, rs.version, rs.files, 4, [f])
    # the review's own finding for a failing fit-out rate names no instrument; the gap list shows the rates instead
    fit = Finding("CCM-FIT-L1", "fitout_rate", "major", "", "", "", "", "GB 17167-2006 4.3 表3", "V-std", "m", "r",
                  "local.csv:2")
    b = ReviewResult("EB", ON, rs.profile, rs.version, rs.files, 6, [fit])
    a.fitout = [FitOut("L1", "electricity", 4, 4, 100.0, 100.0, "pass"),
                FitOut("L2", "steam", 10, 8, 80.0, 80.0, "pass")]
    b.fitout = [FitOut("L1", "electricity", 5, 4, 80.0, 100.0, "fail"),
                FitOut("L2", "steam", 10, 7, 70.0, 80.0, "fail")]
    return CapabilityData(summarise_campaign(ON, rs, {"EA": a, "EB": b}), {"EA": "甲", "EB": "乙"})


def _sheets(data: CapabilityData, path: Path) -> dict[str, list[tuple[Any, ...]]]:
    write_capability_xlsx(data, path, stamp=capability_stamp(data, code="test"))
    wb = load_workbook(path)
    return {n: list(wb[n].iter_rows(min_row=2, values_only=True)) for n in wb.sheetnames}


def test_fit_out_rates_are_pooled_by_level_and_carrier(tmp_path: Path) -> None:
    fo = {r[0]: r for r in _sheets(_hand(), tmp_path / "h.xlsx")["配备率 Fit-out"]}
    assert list(fo) == ["L1 · electricity", "L2 · steam"]
    # L1 electricity: (4 + 4) of (4 + 5) points = 88.9 %, required 100 %, one enterprise of two meets it
    el, st = fo["L1 · electricity"], fo["L2 · steam"]
    assert el[1:5] == (2, 1, 9, 8)
    assert el[5] == pytest.approx(800 / 9) and el[6] == pytest.approx(100.0)
    # L2 steam: 15 of 20 = 75 %, required 80 %
    assert st[1:5] == (2, 1, 20, 15)
    assert st[5] == pytest.approx(75.0) and st[6] == pytest.approx(80.0)


def test_the_gap_list_names_the_failing_rules_and_fit_out_items(tmp_path: Path) -> None:
    gaps = _sheets(_hand(), tmp_path / "h.xlsx")["差距清单 Gaps"]
    # enterprise, kind, rule or item, count: EA one overdue instrument; EB misses one electricity point and three
    # steam points
    assert [(g[0], g[2], g[3], g[7]) for g in gaps] == [
        ("EA", "rule", "CCM-CAL-01", 1), ("EB", "fitout", "L1/electricity", 1), ("EB", "fitout", "L2/steam", 3)]
    assert "80.0 %" in gaps[1][9] and "100 %" in gaps[1][9]
    problems = {p[0]: p for p in _sheets(_hand(), tmp_path / "h3.xlsx")["主要问题 Problems"]}
    assert problems["CCM-FIT-L1"][1:4] == (1, 0, 1)  # one finding, no instrument, one enterprise
    ents = {r[0]: r for r in _sheets(_hand(), tmp_path / "h2.xlsx")["企业 Enterprises"]}
    assert (ents["EA"][18], ents["EA"][19], ents["EB"][18], ents["EB"][19]) == (2, 0, 2, 2)  # items, below rate


def test_the_hand_report_shows_the_pooled_rates_and_gives_the_same_bytes(tmp_path: Path) -> None:
    data = _hand()
    stamp = capability_stamp(data, code="test")
    html = render_capability_html(data, stamp=stamp)
    assert "88.9 %" in html and "75.0 %" in html and "甲" in html and "data:image/png;base64," in html
    assert html == render_capability_html(_hand(), stamp=capability_stamp(_hand(), code="test"))
    p1 = write_capability_xlsx(data, tmp_path / "a.xlsx", stamp=stamp)
    p2 = write_capability_xlsx(_hand(), tmp_path / "b.xlsx", stamp=stamp)
    assert p1.read_bytes() == p2.read_bytes()
    # another fit-out result is another data version
    other = _hand()
    other.campaign.results["EA"].fitout[0] = FitOut("L1", "electricity", 4, 3, 75.0, 100.0, "fail")
    assert capability_stamp(other, code="test").data_version != stamp.data_version


def test_every_check_of_the_review_rules_has_a_section() -> None:
    from carbonmet.review import CHECKS

    labels = check_labels()
    missing = [c for c in CHECKS if c not in labels]
    assert not missing, f"checks without a section in capability_checks.csv: {missing}"
