"""Framing a TCP byte stream: several frames per segment, frames split across segments, resync after junk."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmet.metering.hj212 import Framer, build, decode, encode

MN = "010000A8900016F000169DC0"


def _frame(i: int) -> bytes:
    return encode(
        build(
            {"QN": f"20250301120000{i % 1000:03d}", "ST": "31", "CN": "2011", "PW": "123456", "MN": MN, "Flag": 5},
            [{"DataTime": "20250301120000"}, {"a21026-Rtd": f"{i}.5", "a21026-Flag": "N"}],
        )
    )


FRAMES = [_frame(i) for i in range(20)]


def _feed_all(framer: Framer, stream: bytes, cuts: list[int]) -> list[tuple[bytes, str | None]]:
    out: list[tuple[bytes, str | None]] = []
    prev = 0
    for c in sorted(set(cuts)) + [len(stream)]:
        out += framer.feed(stream[prev:c])
        prev = c
    return out + framer.close()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=19), min_size=1, max_size=10),
    st.lists(st.integers(min_value=0, max_value=2000), max_size=15),
)
def test_any_segmentation_gives_the_same_frames(which: list[int], cuts: list[int]) -> None:
    frames = [FRAMES[i] for i in which]
    stream = b"".join(frames)
    out = _feed_all(Framer(), stream, [c for c in cuts if c < len(stream)])
    assert out == [(f, None) for f in frames]


_junk = st.binary(max_size=30).map(lambda b: b.replace(b"#", b"").replace(b"\r\n", b""))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_junk, st.integers(min_value=0, max_value=19)), min_size=1, max_size=8),
    st.lists(st.integers(min_value=0, max_value=2000), max_size=10),
)
def test_resync_after_junk_recovers_every_frame(chunks: list[tuple[bytes, int]], cuts: list[int]) -> None:
    stream = b"".join(j + FRAMES[i] for j, i in chunks)
    out = _feed_all(Framer(), stream, [c for c in cuts if c < len(stream)])
    assert b"".join(raw for raw, _ in out) == stream
    assert [raw for raw, why in out if why is None] == [FRAMES[i] for _, i in chunks]
    assert all(why for raw, why in out if raw not in FRAMES)


def test_wrong_length_in_header_is_cut_at_cr_lf_and_the_next_frame_survives() -> None:
    bad = b"##0999" + FRAMES[0][6:]  # length says 999, the frame ends sooner
    out = _feed_all(Framer(), bad + FRAMES[1], [])
    assert out == [(bad, None), (FRAMES[1], None)]
    assert decode(FRAMES[1]).items()["a21026"]["Rtd"] == "1.5"


def test_frame_without_cr_lf_is_cut_before_the_next_header() -> None:
    bad = FRAMES[0][:-2]
    out = _feed_all(Framer(), bad + FRAMES[1], [])
    assert out == [(bad, None), (FRAMES[1], None)]


def test_buffer_is_bounded() -> None:
    framer = Framer(max_data_len=1024)
    out = framer.feed(b"##0500" + b"x" * 5000)
    assert framer.pending == 0
    assert out and out[0][1] is not None and "no CR LF" in out[0][1]


def test_stray_hash_before_a_frame_is_cut_alone() -> None:
    out = _feed_all(Framer(), b"#" + FRAMES[2] + b"##xx\r\n" + FRAMES[3], [])
    assert out == [
        (b"#", "bad header: '##' is not followed by a 4-digit length"),
        (FRAMES[2], None),
        (b"##xx\r\n", "bad header: '##' is not followed by a 4-digit length"),
        (FRAMES[3], None),
    ]
