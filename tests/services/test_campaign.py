"""Review campaigns (批量审查) over the two-enterprise region of tests/services (SQLite and PostgreSQL): the
belt scales' verifications ran out on 2025-01-20, so on 1 February each enterprise has exactly one overdue
instrument and on 15 January none; an unknown enterprise is recorded, not fatal; the command line shows the same."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.services import Scope, Workspace, review_campaign, review_enterprise


def test_a_campaign_over_the_region_counts_one_overdue_scale_per_enterprise(region: Workspace) -> None:
    seen: list[tuple[int, int, str]] = []
    res = review_campaign(region, Scope.centre(), "all", date(2025, 2, 1),
                          progress=lambda i, n, e: seen.append((i, n, e)))
    assert seen == [(1, 2, "E01"), (2, 2, "E02")]  # organisations of kind enterprise only (not the institute C01)
    assert [e.enterprise for e in res.enterprises] == ["E01", "E02"]
    for e in res.enterprises:
        assert (e.instruments_reviewed, e.by_severity, e.by_check, e.instruments_with_findings, e.error) == (
            1, {"major": 1}, {"overdue": 1}, 1, "")
    t = res.totals()
    assert (t["enterprises"], t["reviewed"], t["failed"], t["instruments_reviewed"], t["findings"]) == (2, 2, 0, 2, 2)
    [p] = res.problems
    assert (p.rule_id, p.check, p.severity, p.findings, p.instruments, p.enterprises) == (
        "CCM-CAL-01", "overdue", "major", 2, 2, 2)
    assert p.recommendation.startswith("立即停用或送检") and "take it out of use" in p.recommendation
    # the campaign's review of an enterprise is the one-enterprise review
    one = review_enterprise(region, Scope.centre(), "E01", date(2025, 2, 1))
    assert res.results["E01"].to_dict() == one.to_dict()


def test_before_the_certificates_run_out_the_campaign_finds_nothing(region: Workspace) -> None:
    res = review_campaign(region, Scope.centre(), ["E01", "E02"], date(2025, 1, 15))
    assert res.totals()["findings"] == 0 and res.problems == []
    assert [e.instruments_reviewed for e in res.enterprises] == [1, 1]


def test_an_enterprise_that_cannot_be_reviewed_is_recorded_and_the_campaign_goes_on(region: Workspace) -> None:
    res = review_campaign(region, Scope.centre(), "E02,E99,E01", date(2025, 2, 1))
    assert [e.enterprise for e in res.enterprises] == ["E01", "E02", "E99"]
    assert res.errors == {"E99": "ReviewError: 未知单位 unknown organisation 'E99'"}
    t = res.totals()
    assert (t["enterprises"], t["reviewed"], t["failed"], t["findings"]) == (3, 2, 1, 2)
    assert res.to_dict()["enterprises"][2] == {
        "enterprise": "E99", "reviewed": False, "instruments_reviewed": 0, "findings": 0, "by_severity": {},
        "by_check": {}, "instruments_with_findings": 0, "error": "ReviewError: 未知单位 unknown organisation 'E99'"}


def test_the_campaign_command_prints_json_and_a_table(region: Workspace, module_db_url: str) -> None:
    r = CliRunner().invoke(app, ["review", "campaign", "--enterprises", "all", "--date", "2025-02-01", "--json",
                                 "--db", module_db_url])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["totals"]["findings"] == 2 and [e["enterprise"] for e in d["enterprises"]] == ["E01", "E02"]
    assert d["problems"][0]["rule_id"] == "CCM-CAL-01" and d["problems"][0]["findings"] == 2
    r = CliRunner().invoke(app, ["review", "campaign", "--enterprises", "E01,E99", "--date", "2025-02-01",
                                 "--db", module_db_url])
    assert r.exit_code == 0, r.output
    assert "CCM-CAL-01" in r.output and "E99" in r.output and "unknown organisation" in r.output
    # the enterprise scope: its own enterprise only; another's is refused
    r = CliRunner().invoke(app, ["review", "campaign", "--date", "2025-02-01", "--json", "--org", "E02",
                                 "--db", module_db_url])
    assert r.exit_code == 0 and [e["enterprise"] for e in json.loads(r.stdout)["enterprises"]] == ["E02"]
    r = CliRunner().invoke(app, ["review", "campaign", "--enterprises", "E01", "--date", "2025-02-01",
                                 "--org", "E02", "--db", module_db_url])
    assert r.exit_code == 2 and "outside your read scope" in r.output
    # the one-enterprise review keeps its form
    r = CliRunner().invoke(app, ["review", "E01", "--date", "2025-02-01", "--json", "--db", module_db_url])
    assert r.exit_code == 0 and json.loads(r.stdout)["findings"][0]["rule_id"] == "CCM-CAL-01"


def test_the_capability_report_command(region: Workspace, module_db_url: str, tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["report", "capability", "--enterprises", "E01,E02", "--date", "2025-02-01", "--html",
                                 "--out", str(tmp_path), "--json", "--db", module_db_url])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert set(d["files"]) == {"html"} and d["on"] == "2025-02-01" and d["totals"]["findings"] == 2
    page = Path(d["files"]["html"]).read_text(encoding="utf-8")
    assert "全国煤化工行业碳排放计量能力现状和问题建议报告" in page and "BS-E01" in page and "BS-E02" in page
    r = CliRunner().invoke(app, ["report", "capability", "--out", str(tmp_path / "x"), "--db", module_db_url])
    assert r.exit_code == 2 and "--year" in r.output and not (tmp_path / "x").exists()
    r = CliRunner().invoke(app, ["report", "capability", "--year", "2025", "--enterprises", "E01", "--org", "E02",
                                 "--out", str(tmp_path / "y"), "--db", module_db_url])
    assert r.exit_code == 2 and "outside your read scope" in r.output and not (tmp_path / "y").exists()
