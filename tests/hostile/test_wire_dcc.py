"""Hostile input: DCC XML (数字校准证书, PTB schema 3.x) (issue 10 §4).

The valid examples in ``tests/data/dcc`` are mutated at byte, line and markup level (lines deleted,
duplicated or swapped; bytes flipped; truncation; re-encoding; entity and DOCTYPE injection; extreme
numbers and dates; formula-looking and path-like text); :func:`read_dcc` returns a certificate or raises
:class:`DccError` with a reason and the line or element path (never another exception). The slow run takes its example count from
``CARBONMET_HOSTILE_EXAMPLES`` and runs only when it is set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from carbonmet.registry.dcc import DccError, read_dcc

DATA = Path(__file__).resolve().parents[1] / "data" / "dcc"
SEEDS = [p.read_bytes() for p in sorted(DATA.glob("*.xml"))]
TOKENS = [b"&xxe;", b"<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>", b"<![CDATA[x]]>",
          b"1e999", b"-1e308", b"NaN", b"-INF", b"9999-12-31", b"0000-00-00", b"=HYPERLINK(\"http://x\")",
          b"../../etc/passwd", b"C:\\Windows\\x", b"<si:real>", b"</si:real>", b"<", b">", b"&", b"\"",
          b"\xff\xfe", b"\x00", b"\\metre", b"\\kilo\\kilo\\metre", b"\\percent\\tothe{1e9}",
          b"A" * 10_000, b"<!-- -->", b"<?xml version=\"1.0\"?>", b"xmlns:si=\"urn:other\""]
ENCODINGS = ["utf-16", "gb18030", "latin-1", "utf-8-sig", "ascii"]

EXAMPLES = int(os.environ.get("CARBONMET_HOSTILE_EXAMPLES", "0") or 0)
slow_opt_in = pytest.mark.skipif(EXAMPLES <= 0, reason="set CARBONMET_HOSTILE_EXAMPLES to run the long harness")
FAST = settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=max(EXAMPLES, 1), deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid DCC with 1–4 line/byte/markup mutations, or re-encoded."""
    seed = draw(st.sampled_from(SEEDS))
    if draw(st.integers(0, 14)) == 0:
        return seed.decode("utf-8").encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    lines = seed.split(b"\n")
    for _ in range(draw(st.integers(0, 2))):  # line-level
        op = draw(st.integers(0, 2))
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[j])
        else:
            lines[i], lines[j] = lines[j], lines[i]
    b = bytearray(b"\n".join(lines))
    for _ in range(draw(st.integers(0, 3))):  # byte-level
        op = draw(st.integers(0, 5))
        pos = draw(st.integers(0, len(b)))
        if op == 0 and b:
            b[min(pos, len(b) - 1)] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:
            b[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == 2:
            del b[pos : pos + draw(st.integers(1, 64))]
        elif op == 3 and draw(st.integers(0, 3)) == 0:
            del b[pos:]
        elif op == 4:  # replace the text of an element by a hostile token
            k = b.find(b">", pos)
            e = b.find(b"<", k + 1) if k >= 0 else -1
            if k >= 0 and e > k:
                b[k + 1 : e] = draw(st.sampled_from(TOKENS))
        else:
            b[min(pos, len(b) - 1) if b else 0 : min(pos, len(b) - 1) + 1 if b else 0] = bytes(
                [draw(st.integers(0, 255))])
    return bytes(b)


def _check(data: bytes) -> None:
    try:
        cert = read_dcc(data)
    except DccError as exc:
        assert exc.reason, data[:200]
        assert exc.line or exc.path, exc  # names where in the document
        event("refused")
        return
    assert cert.raw == data  # the source kept unchanged
    event("read")


def test_the_seeds_are_valid() -> None:
    assert len(SEEDS) >= 2
    for s in SEEDS:
        assert read_dcc(s).raw == s


@given(mutated())
@FAST
def test_mutated_dcc_reads_or_raises_dcc_error(data: bytes) -> None:
    _check(data)


@pytest.mark.slow
@slow_opt_in
@given(mutated())
@SLOW
def test_mutated_dcc_long_run(data: bytes) -> None:
    _check(data)
