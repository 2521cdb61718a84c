"""Matrix building: random product systems solved by the engine agree with a dense solve (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmet.footprint import (
    FootprintError,
    Lca,
    LcaMatrices,
    SingularTechnosphereError,
    block_triangular_order,
)


@st.composite
def systems(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 4 * n + 1)
    rows, cols = rng.integers(0, n, k), rng.integers(0, n, k)
    if n == 1:
        k, rows, cols = 0, rows[:0], cols[:0]
    rows = np.where(
        rows == cols, (rows + 1) % n, rows
    )  # inputs off the diagonal (loops and duplicates allowed)
    per_col = np.bincount(cols, minlength=n)
    # each column's inputs sum to < 0.4 while its output is ≥ 0.5: diagonally dominant, so never singular
    amounts = -rng.uniform(0.0, 0.4, k) / np.maximum(per_col[cols], 1)
    tr = np.r_[np.arange(n), rows]
    tc = np.r_[np.arange(n), cols]
    ta = np.r_[rng.uniform(0.5, 2.0, n), amounts]  # duplicates (same cell twice) are summed
    br = rng.integers(0, 3, 2 * n)
    bc = rng.integers(0, n, 2 * n)
    ba = rng.uniform(0.0, 5.0, 2 * n)
    return n, tr, tc, ta, np.c_[br, bc].T, ba


@settings(max_examples=60, deadline=None)
@given(systems(), st.integers(0, 29))
def test_the_engine_solves_random_systems_like_a_dense_solver(system: tuple, which: int) -> None:
    n, tr, tc, ta, bio, ba = system
    c = np.array([1.0, 27.9, 273.0])
    m = LcaMatrices.from_arrays(
        [f"a{i}" for i in range(n)],
        [f"p{i}" for i in range(n)],
        ["s"] * n,
        ["CO2", "CH4", "N2O"],
        c,
        (tr, tc, ta),
        (bio[0], bio[1], ba),
    )
    a = np.zeros((n, n))
    np.add.at(a, (tr, tc), ta)
    b = np.zeros((3, n))
    np.add.at(b, (bio[0], bio[1]), ba)
    j = which % n
    f = np.zeros(n)
    f[j] = 1.0
    s = np.linalg.solve(a, f)
    r = Lca(m).solve({f"p{j}": 1.0})
    np.testing.assert_allclose(r.supply, s, rtol=1e-10, atol=1e-12)
    assert r.score == pytest.approx(float(c @ b @ s), rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(list(r.inventory.values()), b @ s, rtol=1e-10, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(systems())
def test_the_ordering_puts_suppliers_first_and_keeps_loops_together(system: tuple) -> None:
    n, tr, tc, *_ = system
    order, labels = block_triangular_order(n, tr, tc)
    assert sorted(order.tolist()) == list(range(n))
    pos = np.empty(n, int)
    pos[order] = np.arange(n)
    # an entry below the diagonal of the permuted matrix is only allowed inside one loop (component)
    below = pos[tr] > pos[tc]
    assert np.all(labels[tr[below]] == labels[tc[below]])
    # each component occupies a contiguous run of positions
    comp = labels[order]
    assert len(np.unique(comp)) == len([k for k in range(n) if k == 0 or comp[k] != comp[k - 1]])


def test_arrays_that_do_not_fit_are_refused_with_a_reason() -> None:
    with pytest.raises(FootprintError, match="out of range"):
        LcaMatrices.from_arrays(
            ["a"],
            ["p"],
            ["s"],
            ["CO2"],
            [1.0],
            (np.array([0, 1]), np.array([0, 0]), np.array([1.0, -0.1])),
            (np.array([0]), np.array([0]), np.array([1.0])),
        )
    with pytest.raises(FootprintError, match="more than one provider"):
        LcaMatrices.from_arrays(
            ["a", "b"],
            ["p", "p"],
            ["s", "s"],
            ["CO2"],
            [1.0],
            (np.array([0, 1]), np.array([0, 1]), np.array([1.0, 1.0])),
            (np.array([0]), np.array([0]), np.array([1.0])),
        )
    with pytest.raises(FootprintError, match="unknown distribution kind"):
        LcaMatrices.from_arrays(
            ["a"],
            ["p"],
            ["s"],
            ["CO2"],
            [1.0],
            (np.array([0]), np.array([0]), np.array([1.0])),
            (np.array([0]), np.array([0]), np.array([1.0])),
            bio_spread=(["gamma"], np.array([1.0]), np.array([np.nan])),
        )


def test_an_activity_without_its_reference_output_is_named_as_singular() -> None:
    # a0 supplies p0; a1 consumes p0 but its own output entry (row 1, column 1) is missing, a2 consumes p1
    m = LcaMatrices.from_arrays(
        ["a0", "a1", "a2"],
        ["p0", "p1", "p2"],
        ["s"] * 3,
        ["CO2"],
        [1.0],
        (np.array([0, 0, 2, 1]), np.array([0, 1, 2, 2]), np.array([1.0, -0.5, 1.0, -0.2])),
        (np.array([0]), np.array([1]), np.array([1.0])),
    )
    with pytest.raises(SingularTechnosphereError) as err:
        Lca(m)
    assert err.value.activities == ("a1",)
