"""Missing-data substitution rule sets (缺失数据处理), worked by hand."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmet.cems import CemsError, rule_sets, rules, substitute


def _series() -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(100.0)  # hour h reads h
    x[10:14] = np.nan  # a 4-hour gap
    x[50:90] = np.nan  # a 40-hour gap
    stopped = np.zeros(100, dtype=bool)
    x[95:] = np.nan
    stopped[95:] = True  # the plant stopped for the last 5 hours
    return x, stopped


def test_short_gap_takes_the_mean_of_the_hours_before_and_after_in_every_rule_set() -> None:
    x, stp = _series()
    for rs in rule_sets():
        f = substitute(x, stp, rs)
        # hour before the gap reads 9, hour after reads 14: (9 + 14) / 2 = 11.5
        assert f.values[10:14] == pytest.approx([11.5] * 4), rs
        assert f.gaps[0]["method"] == "hb_ha" and f.gaps[0]["hours"] == 4


def test_long_gap_by_rule_set() -> None:
    x, stp = _series()
    # valid hours before hour 50: 0..9 and 14..49 (46 values); their mean = (45 + sum(14..49)) / 46
    mean_before = (sum(range(10)) + sum(range(14, 50))) / 46
    assert substitute(x, stp, "hjt75_2007").values[50] == pytest.approx(mean_before)  # look-back mean [A]
    assert substitute(x, stp, "hj75_2017").values[50] == pytest.approx(49.0)  # look-back maximum [?]
    # Part 75: availability before the gap 46/50 = 0.92 → band 90–95 %, gap 40 h > 8 h → greater of HB/HA
    # ((49 + 90) / 2 = 69.5) and the 95th percentile of the look-back (< 49) → 69.5
    f = substitute(x, stp, "part75")
    assert f.gaps[1]["availability"] == pytest.approx(0.92)
    assert f.values[50] == pytest.approx(69.5)


def test_stopped_hours_are_not_substituted_and_the_hours_add_up() -> None:
    x, stp = _series()
    f = substitute(x, stp, "hjt75_2007")
    assert not f.substituted[95:].any() and f.stopped[95:].all() and (f.values[95:] == 0).all()
    assert f.valid_hours + int(f.substituted.sum()) + int(f.stopped.sum()) == x.size
    assert (f.gap[f.substituted] >= 0).all() and (f.gap[~f.substituted] == -1).all()
    # the uncertainty of a substitute is the spread of its look-back (hours of one gap share it)
    assert f.u[50] == pytest.approx(np.std(np.r_[np.arange(10), np.arange(14, 50)]))


def test_unknown_rule_set_names_the_known_ones() -> None:
    with pytest.raises(CemsError, match="hjt75_2007"):
        rules("hj75_2099")


def test_the_rule_table_is_data_with_evidence_marks() -> None:
    text = resources.files("carbonmet.cems").joinpath("data/substitution.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(ln for ln in text.splitlines() if ln and not ln.startswith("#")))
    assert {r["rule_set"] for r in rows} == {"hjt75_2007", "hj75_2017", "part75"}
    assert all(r["evidence"] in {"V", "C", "M", "?", "A"} and r["clause"] and r["source"] for r in rows)
    assert {r["method"] for r in rows} <= {"hb_ha", "lookback_max", "lookback_mean", "lookback_pct"}
    # HJ 75-2017's > 24 h rule is still open: it must keep its mark
    assert [r["evidence"] for r in rows if r["rule_set"] == "hj75_2017" and r["method"] == "lookback_max"] == ["?"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(0, 1e4), st.none()), min_size=1, max_size=200),
       st.lists(st.booleans(), min_size=200, max_size=200), st.sampled_from(["hjt75_2007", "hj75_2017", "part75"]))
def test_any_series_is_filled_without_touching_valid_hours(vals: list, stop: list, rs: str) -> None:
    x = np.array([np.nan if v is None else v for v in vals])
    s = np.array(stop[: x.size])
    f = substitute(x, s, rs)
    ok = np.isfinite(x) & ~f.stopped
    assert np.array_equal(f.values[ok], x[ok])
    assert np.isfinite(f.values).all()
    assert f.valid_hours + int(f.substituted.sum()) + int(f.stopped.sum()) == x.size
    if ok.any():
        assert not (~ok & ~f.stopped & ~f.substituted).any()
        lo, hi = x[ok].min(), x[ok].max()
        assert ((f.values[f.substituted] >= lo - 1e-9) & (f.values[f.substituted] <= hi + 1e-9)).all()
