"""The campaign summary (批量审查汇总) from reviews written out by hand, and a campaign over the hand-built registry
of tests/review (every rule type) agreeing with the one-enterprise review."""

from __future__ import annotations

from datetime import date

from carbonmet.review import Finding, ReviewResult, load_rules
from carbonmet.review.campaign import summarise_campaign
from carbonmet.services import Scope, Workspace, review_campaign, review_enterprise

ON = date(2025, 6, 1)


def _f(rule_id: str, check: str, severity: str, instrument: str, certificate: str = "") -> Finding:
    return Finding(rule_id, check, severity, instrument, f"{instrument}.P", certificate, "", "GB 17167-2006 5.3.6",
                   "V-std", f"{rule_id} {instrument}", f"rec {instrument}", f"gb17167_ccm.csv:{rule_id}")


def _results() -> dict[str, ReviewResult]:
    rs = load_rules()
    a = ReviewResult("EA", ON, rs.profile, rs.version, rs.files, 10, [
        _f("CCM-CAL-01", "overdue", "major", "A1", "C1"),
        _f("CCM-CAL-01", "overdue", "major", "A2", "C2"),
        _f("CCM-ACC-01", "accuracy_class", "major", "A3"),
        _f("CCM-ERR-01", "certificate_error", "info", "A4", "C4"),  # an observation, not a problem
    ])
    b = ReviewResult("EB", ON, rs.profile, rs.version, rs.files, 5, [
        _f("CCM-CAL-01", "overdue", "major", "B1", "C5"),
        _f("CCM-CAL-03", "does_not_conform", "critical", "B2", "C6"),
        _f("CCM-TRC-01", "traceability_oot", "major", "B2", "C7"),
    ])
    return {"EB": b, "EA": a}


def test_the_summary_counts_per_enterprise_and_in_total() -> None:
    s = summarise_campaign(ON, load_rules(), _results(), {"EC": "ReviewError: unknown"})
    assert [e.enterprise for e in s.enterprises] == ["EA", "EB", "EC"]
    ea, eb, ec = s.enterprises
    # EA: 4 findings (3 major, 1 info) on 4 instruments, of which 3 carry a non-conformity
    assert (ea.instruments_reviewed, ea.findings, ea.by_severity, ea.instruments_with_findings) == (
        10, 4, {"major": 3, "info": 1}, 3)
    assert ea.by_check == {"overdue": 2, "accuracy_class": 1, "certificate_error": 1}
    # EB: B2 has two findings, one instrument
    assert (eb.findings, eb.by_severity, eb.instruments_with_findings) == (3, {"major": 2, "critical": 1}, 2)
    assert (ec.reviewed, ec.findings, ec.error) == (False, 0, "ReviewError: unknown")
    t = s.totals()
    assert (t["enterprises"], t["reviewed"], t["failed"], t["instruments_reviewed"], t["findings"]) == (3, 2, 1, 15, 7)
    assert list(t["by_severity"].items()) == [("critical", 1), ("major", 5), ("info", 1)]  # most severe first
    assert t["by_check"]["overdue"] == 3


def test_problems_are_ranked_by_count_then_severity_with_the_rules_recommendation() -> None:
    s = summarise_campaign(ON, load_rules(), _results())
    assert [(p.rule_id, p.findings, p.instruments, p.enterprises) for p in s.problems] == [
        ("CCM-CAL-01", 3, 3, 2),  # three findings
        ("CCM-CAL-03", 1, 1, 1),  # one each: critical before major, then by rule id
        ("CCM-ACC-01", 1, 1, 1),
        ("CCM-TRC-01", 1, 1, 1),
    ]
    assert "CCM-ERR-01" not in s.recommendations  # observations are not problems
    rules = {r.rule_id: r for r in load_rules().rules}
    acc = next(p for p in s.problems if p.rule_id == "CCM-ACC-01")
    # the rule's text with its limit (0.5) filled in, not the first finding's instrument-specific text
    assert acc.recommendation == (rules["CCM-ACC-01"].recommendation_zh.replace("{limit}", "0.5") + " / "
                                  + rules["CCM-ACC-01"].recommendation_en.replace("{limit}", "0.5"))
    assert [p.rule_id for p in summarise_campaign(ON, load_rules(), _results(), top=2).problems] == [
        "CCM-CAL-01", "CCM-CAL-03"]


def test_a_campaign_over_the_hand_built_registry_is_the_one_enterprise_review(hand_ws: Workspace) -> None:
    on = date(2025, 6, 1)
    res = review_campaign(hand_ws, Scope.centre(), "all", on, top=None)
    one = review_enterprise(hand_ws, Scope.centre(), "E01", on)
    assert list(res.results) == ["E01"] and res.results["E01"].to_dict() == one.to_dict()
    [e] = res.enterprises
    assert e.findings == len(one.findings) and e.instruments_reviewed == one.instruments_reviewed
    assert sum(p.findings for p in res.problems) == sum(1 for f in one.findings if f.severity != "info")
