"""Hostile input: HJ 212-2017 frames over a byte stream (issue 10 §4).

Valid frames (the standard's Appendix A example, real-time data, a split minute-data message) are
mutated at byte and field level — half of the mutated data segments re-framed with the right length
and CRC so that they reach the data-segment parser — and sent as one stream cut at random places.
For every case: the :class:`Framer` hands back every byte exactly once, :func:`decode` returns a packet
or raises :class:`DecodeError` with a reason, and decoded packets go through the :class:`Reassembler`
and :func:`to_raw_readings` raising nothing but :class:`DecodeError`. The slow run takes its example
count from ``CARBONMET_HOSTILE_EXAMPLES`` and runs only when it is set.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from carbonmet.metering.hj212 import (
    DecodeError,
    Framer,
    build,
    build_point_map,
    decode,
    encode,
    to_raw_readings,
)
from carbonmet.metering.hj212.protocol import Reassembler, frame_data
from carbonmet.sites import PointInfo

MN = "010000A8900016F000169DC0"
POINTS = [
    PointInfo("E01.STACK1.SO2", "E01", "mg/m3", "rate", hj212_mn=MN, hj212_code="a21026@2011"),
    PointInfo("E01.STACK1.O2", "E01", "%", "rate", hj212_mn=MN, hj212_code="a19001@2011"),
    PointInfo("E01.STACK1.SO2M", "E01", "kg", "total", hj212_mn=MN, hj212_code="a21026-Cou@2051"),
]
POINT_MAP = build_point_map(POINTS)
SEEDS = [
    (b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
    b"CP=&&RtdInterval=30&&1C80\r\n"),
    encode(build(
        {"QN": "20250301120000123", "ST": "31", "CN": "2011", "PW": "123456", "MN": MN, "Flag": 5},
        [{"DataTime": "20250301120000"}, {"a21026-Rtd": "35.2", "a21026-ZsRtd": "41.0", "a21026-Flag": "N"},
         {"a19001-Rtd": "8.9", "a19001-Flag": "N"}],
    )),
    *(encode(build(
        {"QN": "20250301130000001", "ST": "31", "CN": "2051", "PW": "123456", "MN": MN, "Flag": 7,
         "PNUM": 2, "PNO": k},
        [{"DataTime": "20250301120000"}, {"a21026-Cou": f"1.2{k}", "a21026-Avg": "35.0", "a21026-Flag": "N"}],
    )) for k in (1, 2)),
]
TOKENS = [b";", b"=", b",", b"&&", b"-", b"DataTime=99991231235959", b"DataTime=00000000000000",
          b"QN=", b"PNUM=0", b"PNO=99", b"Flag=255", b"1e999", b"-1e308", b"NaN", b"9" * 400,
          b"=cmd|' /C calc'!A0", b"../../etc/passwd", b"\\\\host\\share", b"\x00", b"\xff", b"\xe6\xb8\x85",
          b"##", b"\r\n", b"a21026-Rtd=", b"MN=" + b"0" * 24, b"CP=&&", b"x" * 900]

EXAMPLES = int(os.environ.get("CARBONMET_HOSTILE_EXAMPLES", "0") or 0)
slow_opt_in = pytest.mark.skipif(EXAMPLES <= 0, reason="set CARBONMET_HOSTILE_EXAMPLES to run the long harness")
FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=max(EXAMPLES, 1), deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@st.composite
def mutated_frame(draw: st.DrawFn) -> bytes:
    seed = draw(st.sampled_from(SEEDS))
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return seed
    reframe = choice >= 5
    b = bytearray(seed[6:-6] if reframe else seed)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.integers(0, 6))
        pos = draw(st.integers(0, len(b)))
        if op == 0 and b:
            b[min(pos, len(b) - 1)] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:
            b[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == 2:
            del b[pos : pos + draw(st.integers(1, 8))]
        elif op == 3 and draw(st.booleans()):
            del b[pos:]
        elif op == 4 and b:
            j = draw(st.integers(0, len(b) - 1))
            b[pos:pos] = b[j : j + draw(st.integers(1, 30))]
        elif op == 5:  # swap two ';'-separated fields
            parts = bytes(b).split(b";")
            if len(parts) > 1:
                i, j = draw(st.integers(0, len(parts) - 1)), draw(st.integers(0, len(parts) - 1))
                parts[i], parts[j] = parts[j], parts[i]
                b = bytearray(b";".join(parts))
        elif b:
            b[min(pos, len(b) - 1)] = draw(st.integers(0, 255))
    return frame_data(bytes(b)) if reframe else bytes(b)


@st.composite
def stream(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    frames = draw(st.lists(mutated_frame(), min_size=1, max_size=6))
    data = b"".join(frames)
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=5)))
    return data, cuts


def _check(case: tuple[bytes, list[int]]) -> None:
    data, cuts = case
    framer = Framer()
    pieces: list[tuple[bytes, str | None]] = []
    prev = 0
    for c in [*cuts, len(data)]:
        pieces += framer.feed(data[prev:c])
        prev = c
    pieces += framer.close()
    assert b"".join(raw for raw, _ in pieces) == data  # nothing lost, nothing invented
    reasm = Reassembler(max_open=4)
    refused = 0
    for raw, reason in pieces:
        if reason is not None:
            assert reason
            refused += 1
            continue
        try:
            packet = decode(raw)
            for message in reasm.add(packet):
                for r in to_raw_readings(message, POINT_MAP):
                    assert r.origin.startswith("hj212:")
        except DecodeError as exc:
            assert exc.reason and exc.kind != "invalid", (raw, exc)
            refused += 1
    event("refused" if refused else "read")  # a stream with any frame refused counts as refused


def test_the_seeds_decode_and_map() -> None:
    data = b"".join(SEEDS)
    assert [r for r, _ in Framer().feed(data)] == SEEDS
    readings = [r for s in SEEDS[1:] for m in Reassembler().add(decode(s)) for r in to_raw_readings(m, POINT_MAP)]
    assert {r.point_id for r in readings} >= {"E01.STACK1.SO2", "E01.STACK1.O2"}


@given(stream())
@FAST
def test_mutated_streams_frame_decode_and_map_without_traceback(case: tuple[bytes, list[int]]) -> None:
    _check(case)


@pytest.mark.slow
@slow_opt_in
@given(stream())
@SLOW
def test_mutated_streams_long_run(case: tuple[bytes, list[int]]) -> None:
    _check(case)
