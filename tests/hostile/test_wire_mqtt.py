"""Hostile input: MQTT payloads (issue 10 §4).

Valid payloads of the scheme are mutated at byte, line and JSON-token level; for every case
:func:`parse_payload` returns readings or raises :class:`PayloadError` (never another exception), and
through the store ``received == stored + quarantined + duplicates`` with what was stored before unchanged.
The slow run takes its example count from ``CARBONMET_HOSTILE_EXAMPLES`` and runs only when it is set.
"""

from __future__ import annotations

import os
from datetime import date

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from carbonmet.metering import Catalog, Store
from carbonmet.metering.mqtt import Incoming, PayloadError, ingest_messages, parse_payload, reading_payload
from carbonmet.sites import InstrumentPeriod, PointInfo

TOPIC = "carbonmet/v1/readings/E01/dev1"
SEEDS = [
    reading_payload("dev-1", [{"point_id": "E01.GAS", "ts": "2025-01-01T08:00:00+08:00", "value": 1000.5,
                               "unit": "Nm3/h"}]),
    reading_payload("dev-2", [
        {"point_id": "E01.GAS", "ts": "2025-01-01T08:01:00+08:00", "value": 1001.0, "flag": "N"},
        {"point_id": "E01.COAL", "ts": "2025-01-01T08:01:00+08:00", "value": 12.25, "unit": "t"},
    ]),
    b'{"msg_id":"x","point_id":"E01.GAS","ts":"2025-01-01T08:00:00+08:00","value":3.5}',
]
TOKENS = [b"null", b"true", b"1e999", b"-1e308", b"NaN", b"Infinity", b"\"=cmd|' /C calc'!A0\"",
          b"\"../../etc/passwd\"", b"\"9999-12-31T23:59:59Z\"", b"\"0001-01-01T00:00:00\"", b"[", b"]",
          b"{", b"}", b",", b":", b"\"\\ud800\"", b"\"" + b"A" * 5000 + b"\"", b"1" * 400, b"\xff\xfe",
          b"\"E02.GAS\"", b"\"msg_id\"", b"\"value\"", b"0", b"-0", b"\"\"", b"\x00"]
ENCODINGS = ["utf-16", "utf-16-le", "gb18030", "latin-1", "utf-8-sig"]

EXAMPLES = int(os.environ.get("CARBONMET_HOSTILE_EXAMPLES", "0") or 0)
slow_opt_in = pytest.mark.skipif(EXAMPLES <= 0, reason="set CARBONMET_HOSTILE_EXAMPLES to run the long harness")
FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=max(EXAMPLES, 1), deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A seed payload with 1–4 byte/token/structure mutations, or re-encoded."""
    b = bytearray(draw(st.sampled_from(SEEDS)))
    if draw(st.integers(0, 9)) == 0:
        text = bytes(b).decode("utf-8")
        return text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.integers(0, 7))
        pos = draw(st.integers(0, len(b)))
        if op == 0 and b:  # flip a bit
            i = min(pos, len(b) - 1)
            b[i] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:  # insert a hostile token
            b[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == 2:  # delete a run
            del b[pos : pos + draw(st.integers(1, 16))]
        elif op == 3:  # truncate
            del b[pos:]
        elif op == 4 and b:  # duplicate a slice
            j = draw(st.integers(0, len(b) - 1))
            b[pos:pos] = b[j : j + draw(st.integers(1, 40))]
        elif op == 5 and b:  # overwrite with any byte
            b[min(pos, len(b) - 1)] = draw(st.integers(0, 255))
        elif op == 6:  # replace a number by an extreme one
            for n in (b"1000.5", b"1001.0", b"12.25", b"3.5"):
                k = b.find(n)
                if k >= 0:
                    b[k : k + len(n)] = draw(st.sampled_from(TOKENS[:6] + [b"1" * 400, b"-5"]))
                    break
        else:  # swap two bytes
            if len(b) > 1:
                i, j = draw(st.integers(0, len(b) - 1)), draw(st.integers(0, len(b) - 1))
                b[i], b[j] = b[j], b[i]
    return bytes(b)


def _check_parse(payload: bytes) -> None:
    try:
        key, readings = parse_payload(TOPIC, payload)
    except PayloadError as exc:
        assert str(exc).startswith(f"mqtt:{TOPIC}"), exc  # names the source (topic), then the reading and field
        event("refused")
        return
    assert key
    event("read")
    for r in readings:  # a reading without a point is left to the store to quarantine; it keeps its origin
        assert r.origin.startswith(f"mqtt:{TOPIC}")


@given(mutated())
@FAST
def test_mutated_payloads_parse_or_raise_payload_error(payload: bytes) -> None:
    _check_parse(payload)


@pytest.mark.slow
@slow_opt_in
@given(mutated())
@SLOW
def test_mutated_payloads_long_run(payload: bytes) -> None:
    _check_parse(payload)


def _catalog() -> Catalog:
    inst = (InstrumentPeriod("FM-1", "FM-1", date(2024, 1, 1), None, 0, 5000, "Nm3/h", 1.0, ()),)
    return Catalog({
        "E01.GAS": PointInfo("E01.GAS", "E01", "Nm3/h", "rate", quantity="normal_volume_flow",
                             carrier="natural_gas", instruments=inst),
        "E01.COAL": PointInfo("E01.COAL", "E01", "t", "total", quantity="mass", carrier="raw_coal"),
    })


@given(st.lists(mutated(), min_size=1, max_size=6))
@settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_through_the_store_counts_add_up_and_stored_data_unchanged(tmp_path_factory: pytest.TempPathFactory,
                                                                 payloads: list[bytes]) -> None:
    cat = _catalog()
    store = Store(tmp_path_factory.mktemp("mqtt"))
    first = ingest_messages(store, cat, [Incoming(TOPIC, SEEDS[0])])
    assert (first.received, first.stored) == (1, 1)
    before = {p: store.readings(p).to_pylist() for p in cat}
    rep = ingest_messages(store, cat, [Incoming(TOPIC, p) for p in payloads])
    # counted per reading, an undecodable message as one record
    assert rep.received >= len(payloads)
    assert rep.received == rep.stored + rep.quarantined + rep.duplicates
    after = {p: store.readings(p).to_pylist() for p in cat}
    for p, rows in before.items():  # nothing valid already stored changed (mutations may add rows)
        kept = [r for r in after[p] if r["batch"] == rows[0]["batch"]] if rows else []
        assert kept == rows
