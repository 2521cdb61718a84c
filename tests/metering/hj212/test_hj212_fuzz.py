"""Fuzz: 1e5 random and mutated frames never crash the decoder, and every rejection carries a reason.

Half the mutations are re-framed with the right length and CRC, so they reach the data-segment
parser instead of stopping at the CRC check.
"""

from __future__ import annotations

import random

import pytest

from carbonmet.metering.hj212 import DecodeError, Framer, build, decode, encode
from carbonmet.metering.hj212.protocol import frame_data, parse_data_segment, parse_data_segment_reference

MN = "010000A8900016F000169DC0"

SEEDS = [
    # HJ 212-2017 Appendix A example
    (
        b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
        b"CP=&&RtdInterval=30&&1C80\r\n"
    ),
    encode(
        build(
            {"QN": "20250301120000123", "ST": "31", "CN": "2011", "PW": "123456", "MN": MN, "Flag": 5},
            [
                {"DataTime": "20250301120000"},
                {"a21026-Rtd": "35.2", "a21026-ZsRtd": "41.0", "a21026-Flag": "N"},
                {"a21002-Rtd": "48.7", "a21002-Flag": "N"},
                {"a19001-Rtd": "8.9", "a19001-Flag": "N"},
                {"a00000-Rtd": "152.4", "a00000-Flag": "N"},
                {"a05001-Rtd": "212345.6", "a05001-Flag": "T"},
            ],
        )
    ),
    encode(
        build(
            {"QN": "20250301130000001", "ST": "31", "CN": "2061", "PW": "123456", "MN": MN, "Flag": 7,
             "PNUM": 2, "PNO": 1},
            [
                {"DataTime": "20250301120000"},
                {"a21026-Cou": "1.25", "a21026-Min": "30.1", "a21026-Avg": "35.0", "a21026-Max": "39.9",
                 "a21026-Flag": "N"},
                {"i11001-Info": "//清洗管路; 完成//"},
            ],
        )
    ),
]

_ALPHABET = b"##0123456789;=,&-.CPQNSTMWFlagRtdAvgDataTimeabcxyz\r\n\x00\xff\xe6"


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        pos = rng.randrange(len(b) + 1) if b else 0
        if op == 0 and b:  # flip a bit
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert a byte from a protocol-ish alphabet
            b[pos:pos] = bytes([rng.choice(_ALPHABET)])
        elif op == 2 and b:  # delete a run
            del b[pos : pos + rng.randint(1, 4)]
        elif op == 3:  # truncate
            del b[pos:]
        elif op == 4 and b:  # duplicate a slice
            j = rng.randrange(len(b))
            b[pos:pos] = b[j : j + rng.randint(1, 12)]
        elif op == 5 and b:  # overwrite with a random byte
            b[rng.randrange(len(b))] = rng.randrange(256)
        else:  # swap two bytes
            if len(b) > 1:
                i, j = rng.randrange(len(b)), rng.randrange(len(b))
                b[i], b[j] = b[j], b[i]
    return bytes(b)


@pytest.mark.slow
def test_100k_mutated_and_random_frames_never_crash() -> None:
    rng = random.Random(20170501)  # HJ 212-2017 took effect on 2017-05-01
    n = 100_000
    accepted = rejected = 0
    kinds: dict[str, int] = {}
    for i in range(n):
        seed = SEEDS[i % len(SEEDS)]
        r = i % 10
        if r == 0:
            candidate = bytes(rng.randrange(256) for _ in range(rng.randint(0, 60)))
        elif r < 5:
            candidate = _mutate(rng, seed)
        else:  # mutate the data segment, then frame it properly: exercises the parser
            candidate = frame_data(_mutate(rng, seed[6:-6]))
        try:
            p = decode(candidate)
        except DecodeError as exc:
            rejected += 1
            assert exc.reason and exc.kind != "invalid", (candidate, exc)
            kinds[exc.kind] = kinds.get(exc.kind, 0) + 1
        else:
            accepted += 1
            again = encode(p)
            assert again[:-6] == candidate[:-6] and int(again[-6:-2], 16) == int(candidate[-6:-2], 16)
    assert accepted + rejected == n
    # the parser was reached: rejections other than framing and CRC occurred
    assert {"bad_crc", "length_mismatch", "bad_header"} < set(kinds)
    assert sum(v for k, v in kinds.items() if k not in ("bad_crc", "length_mismatch", "bad_header")) > 10_000


def _outcome(fn, text: str, strict: bool) -> object:
    try:
        return fn(text, strict=strict)
    except DecodeError as exc:
        return (type(exc), exc.field)


@pytest.mark.slow
def test_fast_path_parses_exactly_as_the_full_parser() -> None:
    # the regex fast path is an optimisation only: same packet, or the same error, on 15 000 mutations
    rng = random.Random(95)
    for i in range(15_000):
        data = _mutate(rng, SEEDS[i % len(SEEDS)][6:-6])
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        for strict in (True, False):
            fast = _outcome(parse_data_segment, text, strict)
            slow = _outcome(parse_data_segment_reference, text, strict)
            if isinstance(fast, tuple) and isinstance(slow, tuple):
                assert fast[0] is slow[0], (text, fast, slow)
            else:
                assert fast == slow, (text, fast, slow)


@pytest.mark.slow
def test_stream_fuzz_every_byte_accounted_for() -> None:
    rng = random.Random(212)
    for _ in range(300):
        parts: list[bytes] = []
        for _ in range(rng.randint(1, 12)):
            x = rng.random()
            if x < 0.6:
                parts.append(SEEDS[rng.randrange(len(SEEDS))])
            elif x < 0.8:
                parts.append(_mutate(rng, SEEDS[rng.randrange(len(SEEDS))]))
            else:
                parts.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))))
        stream = b"".join(parts)
        framer = Framer()
        out: list[tuple[bytes, str | None]] = []
        pos = 0
        while pos < len(stream):
            step = rng.randint(1, 300)
            out += framer.feed(stream[pos : pos + step])
            pos += step
        out += framer.close()
        assert b"".join(raw for raw, _ in out) == stream  # nothing lost, nothing invented
        for raw, reason in out:
            if reason is None:
                try:
                    decode(raw)
                except DecodeError as exc:
                    assert exc.reason
            else:
                assert reason
