"""Pedigree matrix → lognormal: the ecoinvent v3 and the empirical (Ciroth 2016) tables, basic and pedigree apart."""

from __future__ import annotations

import math

import pytest
from numpy.testing import assert_allclose

from carbonmet.factors import FactorError, pedigree_sigma
from carbonmet.factors.pedigree import INDICATORS, basic_classes, basic_uncertainty, parse_dq_entry

#: ecoinvent v2 expert factors U (GSD²) per indicator and score (footprint_anchors §3.2); None = "n.a." in v2.
V2 = {
    "reliability": (1.00, 1.05, 1.10, 1.20, 1.50),
    "completeness": (1.00, 1.02, 1.05, 1.10, 1.20),
    "temporal": (1.00, 1.03, 1.10, 1.20, 1.50),
    "geographical": (1.00, 1.01, 1.02, None, 1.10),
    "technological": (1.00, None, 1.20, 1.50, 2.00),
}


def test_the_worked_example_of_a_gasifier_co2_exchange() -> None:
    # CO2 to air, process: basic U = 1.05 → σ_b² = (ln 1.05 / 2)² = 0.000595 (table value 0.0006).
    # Pedigree (1,2,1,1,3): completeness 2 → 0.0001, technological 3 → 0.008; the others 0.
    # σ² = 0.0006 + 0.0001 + 0.008 = 0.0087; σ = √0.0087 = 0.093274; GSD = e^σ = 1.09776; GSD² = 1.20508.
    r = pedigree_sigma((1, 2, 1, 1, 3), 0.0006)
    assert_allclose(r.pedigree_variance, 0.0081, rtol=1e-12)
    assert_allclose(r.basic_variance, 0.0006)
    assert_allclose(r.sigma, math.sqrt(0.0087), rtol=1e-12)
    assert_allclose((r.sigma, r.gsd, r.gsd2), (0.093274, 1.09776, 1.20508), rtol=1e-5)
    assert [v for _, _, v in r.by_indicator] == [0.0, 0.0001, 0.0, 0.0, 0.008]


def test_basic_and_pedigree_parts_are_reported_apart() -> None:
    basic = basic_uncertainty("co2_process")
    assert basic.factor == 1.05 and basic.evidence == "C-single"
    assert_allclose(basic.variance, (math.log(1.05) / 2) ** 2)
    r = pedigree_sigma((1, 2, 1, 1, 3), basic.variance)
    assert_allclose(r.sigma_basic**2 + r.sigma_pedigree**2, r.sigma**2, rtol=1e-12)
    assert r.to_dict()["basic_variance"] == basic.variance and r.table == "ecoinvent_v3"
    assert {"co2_combustion", "demand", "transport", "infrastructure"} <= set(basic_classes())


def test_the_empirical_table_by_hand() -> None:
    # Ciroth et al. 2016 factors: completeness 2 → U 1.03, technological 3 → U 1.65.
    # σ² = 0.0006 + (ln 1.03 / 2)² + (ln 1.65 / 2)² = 0.0006 + 0.00021843 + 0.06269397 = 0.06351240; σ = 0.252017.
    r = pedigree_sigma((1, 2, 1, 1, 3), 0.0006, table="ciroth_2016")
    assert_allclose(r.pedigree_variance, (math.log(1.03) / 2) ** 2 + (math.log(1.65) / 2) ** 2, rtol=1e-12)
    assert_allclose(r.sigma, 0.252017, rtol=1e-5)
    worst = pedigree_sigma((5, 5, 5, 5, 5), 0.0, table="ciroth_2016")
    expected = sum((math.log(u) / 2) ** 2 for u in (1.69, 1.08, 1.29, 1.11, 2.80))
    assert_allclose(worst.sigma**2, expected, rtol=1e-12)


@pytest.mark.parametrize("indicator", INDICATORS)
def test_the_v3_variances_are_the_v2_factors_as_ln_variance(indicator: str) -> None:
    for score, u in enumerate(V2[indicator], start=1):
        scores = [1] * 5
        scores[INDICATORS.index(indicator)] = score
        v3 = pedigree_sigma(tuple(scores), 0.0).pedigree_variance
        if u is None:  # the cells v2 left "n.a.": v3 gives 0.0006
            assert v3 == 0.0006
            continue
        exact = (math.log(u) / 2) ** 2
        # the table prints one or two significant figures
        assert v3 == pytest.approx(exact, rel=0.13, abs=1e-7), (indicator, score, v3, exact)


def test_worse_scores_never_lower_sigma() -> None:
    for table in ("ecoinvent_v3", "ciroth_2016"):
        for i in range(5):
            prev = -1.0
            for s in range(1, 6):
                scores = [1] * 5
                scores[i] = s
                sig = pedigree_sigma(tuple(scores), 0.0006, table=table).sigma
                assert sig >= prev
                prev = sig


def test_an_unassessed_indicator_is_taken_at_the_worst_score_and_named() -> None:
    r = pedigree_sigma(parse_dq_entry("(1;n.a.;1;1;1)"), 0.0)
    assert r.assumed_worst == ("completeness",) and r.pedigree_variance == 0.008


@pytest.mark.parametrize(
    "scores", [(-1, 1, 1, 1, 1), (0, 1, 1, 1, 1), (1, 1, 6, 1, 1), (1, 1, 1, 1), (1.5, 1, 1, 1, 1)]
)
def test_a_score_out_of_range_is_refused_naming_the_indicator(scores: tuple) -> None:
    with pytest.raises(FactorError, match="score|scores"):
        pedigree_sigma(scores, 0.0006)


def test_a_negative_basic_variance_or_an_unknown_table_is_refused() -> None:
    with pytest.raises(FactorError, match="basic variance"):
        pedigree_sigma((1, 1, 1, 1, 1), -0.1)
    with pytest.raises(FactorError, match="unknown pedigree table"):
        pedigree_sigma((1, 1, 1, 1, 1), 0.0, table="ecoinvent_v2")
    with pytest.raises(FactorError, match="unknown exchange class"):
        basic_uncertainty("co2_volcanic")


@pytest.mark.parametrize("text", ["(2;3;1;2)", "(2;3;x;2;5)", "(2;-3;1;2;5)", "", "(2;3;1;2;5;1)"])
def test_a_bad_dq_entry_is_refused(text: str) -> None:
    with pytest.raises(FactorError):
        parse_dq_entry(text)


def test_a_dq_entry_reads_with_or_without_brackets() -> None:
    assert parse_dq_entry("(2;3;1;2;5)") == parse_dq_entry("2;3;1;2;5") == (2, 3, 1, 2, 5)
