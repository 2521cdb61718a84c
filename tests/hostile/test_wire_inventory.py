"""Hostile input: inventory files (TOML) for ``carbonmet account --inventory`` (issue 10 §4, issue 11).

The worked-example inventory is mutated at byte and line level and at value level; reading it and accounting it
either gives an account with finite figures or raises :class:`InventoryError` naming the file — never another
exception. The slow run takes its example count from ``CARBONMET_HOSTILE_EXAMPLES``.
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from carbonmet.accounting import InventoryError, account_inventory, inventory_from_dict, read_inventory

GOOD = (Path(__file__).parents[2] / "examples" / "inventory-ctm.toml").read_bytes()
SEED = tomllib.loads(GOOD.decode())
TOKENS = [b"1e309", b"-1e308", b"nan", b"inf", b"-inf", b"0", b"-0.0", b"1" * 400, b"9" * 5000, b"\"=cmd|' /C calc'!A0\"",
          b"\"../../etc/passwd\"", b"[", b"]", b"=", b"\"", b"[[streams]]", b"[[instruments]]", b"\xff", b"\x00",
          b"\"" + b"x" * 5000 + b"\"", b"{}", b"[]", b"true", b"\"\"", b"\"%\"", b"\"GJ/t\"", b"\"Nm3\"", b"1e-300"]
VALUES: list[Any] = [1e308, -1e308, math.inf, math.nan, 0, -1, 10**400, 10**5000, "", "=1+1", "../../x", [], {},
                     True, None, "x" * 5000, "%", "kg", "t", "GJ/t", 150.0, 1e-300, "unobtainium", "per_mass",
                     "calibration", "overdue", "carbon_balance", "lab"]
EXAMPLES = int(os.environ.get("CARBONMET_HOSTILE_EXAMPLES", "0") or 0)
slow_opt_in = pytest.mark.skipif(EXAMPLES <= 0, reason="set CARBONMET_HOSTILE_EXAMPLES to run the long harness")
FAST = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=max(EXAMPLES, 1), deadline=None, database=None, suppress_health_check=list(HealthCheck))
TMP = Path(tempfile.mkdtemp(prefix="hostile-inventory-"))


@st.composite
def mutated_text(draw: st.DrawFn) -> bytes:
    lines = GOOD.split(b"\n")
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.integers(0, 2))
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[j])
        else:
            lines[i], lines[j] = lines[j], lines[i]
    b = bytearray(b"\n".join(lines))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.integers(0, 3))
        pos = draw(st.integers(0, len(b)))
        if op == 0 and b:
            b[min(pos, len(b) - 1)] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:
            b[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == 2:
            del b[pos : pos + draw(st.integers(1, 20))]
        else:
            k = b.find(b"= ", pos)
            e = b.find(b"\n", k) if k >= 0 else -1
            if k >= 0 and e > k:
                b[k + 2 : e] = draw(st.sampled_from(TOKENS))
    return bytes(b)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for k, v in items:
        out.append(path + (k,))
        out += _leaves(v, path + (k,))
    return out


@st.composite
def mutated_dict(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(SEED)
    for _ in range(draw(st.integers(1, 3))):
        leaves = _leaves(data)
        if not leaves:
            break
        path = draw(st.sampled_from(leaves))
        parent: Any = data
        for p in path[:-1]:
            parent = parent[p]
        key = path[-1]
        op = draw(st.integers(0, 2))
        if op == 0 and isinstance(parent, dict):
            del parent[key]
        elif op == 1 and isinstance(parent, dict):
            parent[str(key) + "_x"] = parent.pop(key)
        else:
            parent[key] = draw(st.sampled_from(VALUES))
    return data


def _account(inv: Any) -> None:
    acc = account_inventory(inv, method="lpu")
    tot = acc.total
    assert math.isfinite(tot["value"]) and math.isfinite(tot["u"]), tot


def _check_text(text: bytes) -> None:
    path = TMP / "inventory.toml"
    path.write_bytes(text)
    try:
        _account(read_inventory(path))
    except InventoryError as exc:
        assert str(path) in str(exc), exc
        assert exc.problems and all(len(p) == 4 for p in exc.problems)
        event("refused")
        return
    event("accounted")


def _check_dict(data: dict[str, Any]) -> None:
    try:
        _account(inventory_from_dict(data, "hostile.toml"))
    except InventoryError as exc:
        assert "hostile.toml" in str(exc), exc
        event("refused")
        return
    event("accounted")


def test_the_worked_example_is_accounted() -> None:
    _account(read_inventory(Path(__file__).parents[2] / "examples" / "inventory-ctm.toml"))
    _account(inventory_from_dict(copy.deepcopy(SEED), "seed"))


@FAST
@given(mutated_text())
def test_mutated_inventory_text(text: bytes) -> None:
    _check_text(text)


@FAST
@given(mutated_dict())
def test_mutated_inventory_values(data: dict[str, Any]) -> None:
    _check_dict(data)


@slow_opt_in
@pytest.mark.slow
@SLOW
@given(mutated_text())
def test_mutated_inventory_text_long(text: bytes) -> None:
    _check_text(text)


@slow_opt_in
@pytest.mark.slow
@SLOW
@given(mutated_dict())
def test_mutated_inventory_values_long(data: dict[str, Any]) -> None:
    _check_dict(data)
