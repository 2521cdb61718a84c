"""JJF 1356-2012 review items as data: the 52 items of Appendix C, the items the automated checks decide, and the
9.7.2 conclusion at its boundaries (0, 5 and 6 non-conforming items; undecided while items are open)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from carbonmet.review import Finding, ReviewError, ReviewResult, RuleFileError
from carbonmet.review.items import assess_items, load_items


def _result(*checks: str, severity: str = "major") -> ReviewResult:
    res = ReviewResult("E01", date(2025, 12, 31), "gb17167_ccm", "v", ("gb17167_ccm.csv",), 1)
    res.findings = [Finding(f"R-{c}", c, severity, "I-1", "P-1", "", "", "GB 17167-2006 x", "V-std", "m", "", "f:2")
                    for c in checks]
    return res


def _on_site(verdict: str = "conforms", **overrides: str) -> dict[int, str]:
    items, _ = load_items()
    out = {i.item: verdict for i in items if not i.checks}
    out.update({int(k[1:]): v for k, v in overrides.items()})
    return out


def test_the_shipped_items_are_jjf_1356_appendix_c() -> None:
    items, rule = load_items()
    assert [i.item for i in items] == list(range(1, 53))  # 9.7.1: 52 items
    by = {i.item: i for i in items}
    assert (by[19].clause, by[32].clause, by[37].clause, by[52].clause) == ("6.1.2.1", "6.4.1", "7.1.1", "8.2")
    assert by[32].checks == ("overdue",) and "fitout_rate" in by[19].checks
    assert {i.evidence for i in items} == {"V-std"}
    assert [r[0] for r in rule] == [0, 5, 52] and "9.7.2" in rule[0][3]


def test_a_review_without_non_conformities_conforms_once_the_site_items_are_assessed() -> None:
    open_ = assess_items(_result())
    assert (open_.nonconforming, open_.to_assess, open_.conclusion_zh) == (0, 46, None)  # 6 items automated: 19, 29, 31, 32, 36, 37
    done = assess_items(_result(), on_site=_on_site())
    assert (done.nonconforming, done.to_assess, done.conclusion_zh) == (0, 0, "符合规范要求")


def test_five_non_conforming_items_largely_conform_and_six_do_not() -> None:
    # overdue → 6.4.1 (32), does_not_conform → 6.4.5 (36), completeness → 7.1.1 (37): 3 items from the review
    three = ("overdue", "does_not_conform", "completeness")
    five = assess_items(_result(*three), on_site=_on_site(i2="does_not_conform", i3="does_not_conform"))
    assert (five.nonconforming, five.conclusion_zh) == (5, "基本符合规范要求，需要整改")
    six = assess_items(_result(*three, "fitout_rate"), on_site=_on_site(i2="does_not_conform", i3="does_not_conform"))
    assert (six.nonconforming, six.conclusion_zh, six.conclusion_en) == (6, "不符合规范要求",
                                                                      "does not conform to the specification")
    (item19,) = [r for r in six.items if r.item.item == 19]
    assert (item19.verdict, item19.findings) == ("does_not_conform", ("R-fitout_rate",))


def test_the_conclusion_waits_for_open_items_unless_they_cannot_change_it() -> None:
    one = assess_items(_result("overdue"))  # 1 bad, 46 open: anything from 基本符合 to 不符合 is still possible
    assert one.conclusion_zh is None and one.nonconforming == 1
    many = assess_items(_result("overdue", "does_not_conform", "completeness", "fitout_rate", "traceability_oot",
                                "calibrated_not_verified"))
    assert (many.nonconforming, many.to_assess, many.conclusion_zh) == (6, 46, "不符合规范要求")


def test_observations_do_not_make_an_item_non_conforming() -> None:
    res = assess_items(_result("certificate_error", severity="info"), on_site=_on_site())
    assert res.nonconforming == 0 and res.conclusion_zh == "符合规范要求"


def test_a_local_items_file_and_bad_items_files(tmp_path: Path) -> None:
    head = "item,clause,topic_zh,topic_en,checks,standard,evidence\n"
    (tmp_path / "local.csv").write_text(head + "1,6.4.1,在用器具有效,valid,overdue,JJF(皖)218-2025,V\n", encoding="utf-8")
    (tmp_path / "local_conclusion.csv").write_text(
        "max_nonconforming,conclusion_zh,conclusion_en,standard,clause,evidence\n0,通过,pass,本地,1,A\n1,不通过,fail,本地,1,A\n",
        encoding="utf-8")
    assert assess_items(_result("overdue"), tmp_path / "local.csv").conclusion_zh == "不通过"
    assert assess_items(_result(), tmp_path / "local.csv").conclusion_zh == "通过"
    (tmp_path / "bad.csv").write_text(head + "1,6.4.1,x,x,overdue|nonsense,S,V\n", encoding="utf-8")
    (tmp_path / "bad_conclusion.csv").write_text((tmp_path / "local_conclusion.csv").read_text(encoding="utf-8"),
                                                 encoding="utf-8")
    with pytest.raises(RuleFileError, match="unknown check 'nonsense'") as ei:
        load_items(tmp_path / "bad.csv")
    assert (ei.value.row, ei.value.field) == (2, "checks")
    with pytest.raises(ReviewError, match="unknown review items"):
        load_items("nope")
