"""HJ 212-2017 codec: the standard's worked examples, rejections with reasons, round trips (hypothesis)."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmet.metering.hj212 import DecodeError, Packet, answers_for, build, decode, encode, split
from carbonmet.metering.hj212.codes import CHINA_TZ
from carbonmet.metering.hj212.errors import (
    BadCRCError,
    BadFieldError,
    BadHeaderError,
    BadTimestampError,
    BadValueError,
    LengthMismatchError,
    MissingFieldError,
    NonASCIIError,
    OversizeError,
    UnknownFlagError,
)
from carbonmet.metering.hj212.protocol import (
    Reassembler,
    crc16,
    crc16_reference,
    crc16_table,
    data_answer,
    data_segment,
    execution_result,
    frame_data,
    notice_answer,
    parse_data_segment,
    request_answer,
)
from carbonmet.quantities import CarbonmetError

# HJ 212-2017 Appendix A, the worked example (the text says "其中 1C08 为 CRC16 校验码" but the frame it
# prints ends 1C80, and 1C80 is what the algorithm of the same appendix gives; 1C08 is a typo).
EXAMPLE = (
    b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
    b"CP=&&RtdInterval=30&&1C80\r\n"
)
EXAMPLE_DATA = EXAMPLE[6:-6]
MN = "010000A8900016F000169DC0"

# Appendix C, Table C.16 (upload of minute data), the "…" of the printed example left out.
C16 = (
    "QN=20160801085000001;ST=32;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20160801084000;"
    "w00000-Cou=10.5,w00000-Min=16.4,w00000-Avg=17.5,w00000-Max=20.1,w00000-Flag=N;"
    "w01001-Min=7.1,w01001-Avg=7.5,w01001-Max=7.8,w01001-Flag=N;"
    "w01018-Cou=10.5,w01018-Min=40.1,w01018-Avg=40.1,w01018-Max=40.1,w01018-Flag=N&&"
)
# Table C.16: the platform's data answer.
C16_ANSWER = "QN=20160801085000001;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&"


def frame(data: str) -> bytes:
    return frame_data(data.encode("utf-8"))


def test_crc_of_the_standards_example() -> None:
    # HJ 212-2017 Appendix A: data segment of 101 characters → CRC16 1C80.
    assert len(EXAMPLE_DATA) == 101
    assert crc16(EXAMPLE_DATA) == 0x1C80
    assert crc16_reference(EXAMPLE_DATA) == 0x1C80


@settings(max_examples=300)
@given(st.binary(max_size=1100))
def test_fast_crc_equals_appendix_a_bit_by_bit(data: bytes) -> None:
    assert crc16(data) == crc16_table(data) == crc16_reference(data)


def test_example_frame_decodes_and_reencodes_byte_identically() -> None:
    p = decode(EXAMPLE)
    assert (p.qn, p.st, p.cn, p.pw, p.mn, p.flag) == ("20160801085857223", "32", "1062", "100000", MN, 5)
    assert p.needs_ack and not p.is_split and p.version == 1
    assert p.cp == ((("RtdInterval", "30"),),)
    assert p.raw == EXAMPLE
    assert encode(p) == EXAMPLE
    assert p.qn_time() == datetime(2016, 8, 1, 8, 58, 57, 223000, tzinfo=CHINA_TZ)


def test_minute_data_example_c16_and_its_answer() -> None:
    f = frame(C16)
    p = decode(f)
    assert encode(p) == f
    items = p.items()
    assert items["w00000"] == {"Cou": "10.5", "Min": "16.4", "Avg": "17.5", "Max": "20.1", "Flag": "N"}
    assert items["w01018"]["Avg"] == "40.1"
    assert p.data_time() == datetime(2016, 8, 1, 8, 40, tzinfo=CHINA_TZ)
    answers = answers_for(p)
    assert [data_segment(a) for a in answers] == [C16_ANSWER]


def test_request_answer_and_execution_result_as_table_c1() -> None:
    # Table C.1: request 1000 with Flag=5, the site answers 9011 QnRtn=1 then 9012 ExeRtn=1.
    req = decode(
        frame(
            "QN=20160801085857223;ST=32;CN=1000;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
            "CP=&&OverTime=5;ReCount=3&&"
        )
    )
    head = "QN=20160801085857223;ST=91;CN={};PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&{}&&"
    assert data_segment(request_answer(req, 1)) == head.format("9011", "QnRtn=1")
    assert data_segment(execution_result(req, 1)) == head.format("9012", "ExeRtn=1")
    assert [data_segment(a) for a in answers_for(req, role="site")] == [head.format("9011", "QnRtn=1")]
    # the platform does not take requests from a site: CN error (Table 7, QnRtn=8)
    assert [data_segment(a) for a in answers_for(req, role="platform")] == [head.format("9011", "QnRtn=8")]


def test_notice_answer_for_time_calibration_request_c4() -> None:
    p = decode(frame("QN=20160801085857223;ST=32;CN=1013;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&PolId=w01018&&"))
    assert [a.cn for a in answers_for(p)] == ["9013"]
    assert data_segment(notice_answer(p)).endswith("CN=9013;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&")


def test_no_answer_without_flag_a() -> None:
    p = decode(frame(C16.replace("Flag=5", "Flag=4")))
    assert answers_for(p) == []
    # answers themselves are never answered
    assert answers_for(data_answer(decode(frame(C16)))) == []


def test_split_parts_of_table_c50() -> None:
    part1 = (
        "QN=20160801085857534;ST=32;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=7;PNUM=2;PNO=1;"
        "CP=&&DataTime=20160801080000;w00000-Cou=63.0,w00000-Min=16.4,w00000-Avg=17.5,w00000-Max=20.1,"
        "w00000-Flag=N;w01001-Min=7.1,w01001-Avg=7.5,w01001-Max=7.8,w01001-Flag=N&&"
    )
    part2 = (
        "QN=20160801085857535;ST=32;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=7;PNUM=2;PNO=2;"
        "CP=&&DataTime=20160801080000;w01018-Cou=63.0,w01018-Min=40.1,w01018-Avg=40.1,w01018-Max=40.1,"
        "w01018-Flag=N&&"
    )
    p1, p2 = decode(frame(part1)), decode(frame(part2))
    assert (p1.is_split, p1.needs_ack, p1.pnum, p1.pno) == (True, True, 2, 1)
    # each part is answered with its own QN (Table C.50)
    assert [a.qn for a in answers_for(p1) + answers_for(p2)] == ["20160801085857534", "20160801085857535"]
    r = Reassembler()
    assert r.add(p2) == []  # out of order is fine
    (msg,) = r.add(p1)
    assert msg.complete and [p.pno for p in msg.parts] == [1, 2]


def test_split_builds_parts_that_fit_and_reassemble() -> None:
    items = [{"DataTime": "20250101080000"}] + [
        {f"a{21000 + i:05d}-Avg": f"{i}.25", f"a{21000 + i:05d}-Flag": "N"} for i in range(60)
    ]
    big = build(
        {"QN": "20250101080000001", "ST": "31", "CN": "2061", "PW": "123456", "MN": MN, "Flag": 5},
        items,
        strict=False,
    )
    parts = split(big)
    assert len(parts) > 1
    for k, p in enumerate(parts, start=1):
        f = encode(p)
        assert len(f) - 12 <= 1024
        q = decode(f)
        assert (q.pno, q.pnum, q.flag) == (k, len(parts), 7)
        assert q.get("DataTime") == "20250101080000"
    assert parts[1].qn == "20250101080000002"
    r = Reassembler()
    msgs = [m for p in parts for m in r.add(p)]
    assert len(msgs) == 1 and msgs[0].complete
    merged = {c: f for p in msgs[0].parts for c, f in p.items().items()}
    assert merged == big.items()


# ------------------------------------------------------------------------------------------ rejections

GOOD = frame(C16)


@pytest.mark.parametrize(
    ("bad", "error", "words"),
    [
        (GOOD[1:], BadHeaderError, "not '##'"),
        (b"##01a1" + GOOD[6:], BadHeaderError, "4 decimal digits"),
        (GOOD[:-2] + b"\n\n", BadHeaderError, "CR LF"),
        (b"##9" + GOOD[3:], LengthMismatchError, "header says"),
        (GOOD[:-6] + b"ABCD\r\n", BadCRCError, "frame says ABCD"),
        (GOOD[:-6] + b"XYZ!\r\n", BadHeaderError, "hex"),
        (b"##", BadHeaderError, "shorter"),
    ],
)
def test_frame_rejections_say_why(bad: bytes, error: type[DecodeError], words: str) -> None:
    with pytest.raises(error) as info:
        decode(bad)
    assert words in info.value.reason
    assert isinstance(info.value, CarbonmetError) and isinstance(info.value, ValueError)
    assert str(info.value).startswith(info.value.kind + ":")


def test_bad_crc_names_expected_and_actual() -> None:
    with pytest.raises(BadCRCError) as info:
        decode(EXAMPLE.replace(b"1C80", b"1C08"))  # the typo of Appendix A's text
    assert (info.value.expected, info.value.actual) == ("1C80", "1C08")


def test_length_mismatch_numbers() -> None:
    with pytest.raises(LengthMismatchError) as info:
        decode(b"##0102" + EXAMPLE[6:])
    assert (info.value.declared, info.value.actual) == (102, 101)


@pytest.mark.parametrize(
    ("data", "error", "field"),
    [
        (C16.replace("QN=20160801085000001;", ""), MissingFieldError, "QN"),
        (C16.replace("PW=123456;", ""), MissingFieldError, "PW"),
        (C16.replace(";CP=&&", ";XP=&&"), MissingFieldError, "CP"),
        (C16.replace("QN=20160801085000001", "QN=20161301085000001"), BadTimestampError, "QN"),
        (C16.replace("DataTime=20160801084000", "DataTime=20160801246000"), BadTimestampError, "DataTime"),
        (C16.replace("Flag=5", "Flag=9"), UnknownFlagError, "Flag"),  # version bits 000010
        (C16.replace("Flag=5", "Flag=1"), UnknownFlagError, "Flag"),  # HJ/T 212-2005 refused when strict
        (C16.replace("Flag=5", "Flag=x"), UnknownFlagError, "Flag"),
        (C16.replace("w01001-Flag=N", "w01001-Flag=X"), UnknownFlagError, "w01001-Flag"),
        (C16.replace("w00000-Avg=17.5", "w00000-Avg=1e5"), BadValueError, "w00000-Avg"),
        (C16.replace("w00000-Avg=17.5", "w00000-Avg="), BadValueError, "w00000-Avg"),
        (C16.replace("Flag=5", "Flag=7"), MissingFieldError, "PNUM"),
        (C16.replace("MN=010000A8900016F000169DC0", "MN=88888880000001"), BadFieldError, "MN"),
        (C16.replace("CN=2051", "CN=20511"), BadFieldError, "CN"),
        (C16.replace("ST=32", "ST=3"), BadFieldError, "ST"),
        (C16.replace("w01001-Min=7.1,", "w01001-Min=7.1,w01001-Min=7.1,"), BadFieldError, "w01001-Min"),
        (C16.replace("&&DataTime", "&&;DataTime"), BadFieldError, "CP"),
        (C16.replace("w01001-Min=7.1", "w01001-Min"), BadFieldError, "CP"),
        # Appendix C's own typos are rejected: Table C.19 "Flag=5CP=&&", Table C.48 "QN=…534,ST=32"
        (C16.replace("Flag=5;CP", "Flag=5CP"), BadFieldError, "CP"),
        (C16.replace("001;ST=32", "001,ST=32"), BadTimestampError, "QN"),
        (C16.replace("w01018-Flag=N", "w01018-Flag=N\x07"), BadFieldError, None),
        (C16.replace("w01018-Flag=N", "w01018-EFlag=Ä"), NonASCIIError, "w01018-EFlag"),
    ],
)
def test_data_segment_rejections_name_the_field(data: str, error: type[DecodeError], field: str | None) -> None:
    with pytest.raises(error) as info:
        decode(frame(data))
    assert info.value.field == field
    assert info.value.reason


def test_oversize_data_segment_rejected_when_strict() -> None:
    items = ",".join(f"a{21000 + i:05d}-Avg=1.0" for i in range(80))
    data = C16.replace("w01018-Flag=N&&", f"w01018-Flag=N;{items}&&")
    with pytest.raises(OversizeError):
        decode(frame(data))
    assert decode(frame(data), strict=False).items()["a21079"] == {"Avg": "1.0"}


def test_invalid_utf8_is_rejected() -> None:
    data = C16.encode().replace(b"w01018-Flag=N", b"w01018-EFlag=\xff")
    with pytest.raises(NonASCIIError) as info:
        decode(frame_data(data))
    assert "offset" in info.value.reason


def test_chinese_log_text_is_allowed_in_info() -> None:
    # Table C.40: a site log in Chinese between // and //, may hold ';' and ','
    data = (
        "QN=20160801085857223;ST=32;CN=3020;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
        "CP=&&DataTime=20100301145000;PolId=w01018;i11001-Info=//清洗管路; 反吹,完成//&&"
    )
    f = frame(data)
    p = decode(f)
    assert p.get("i11001-Info") == "//清洗管路; 反吹,完成//"
    assert encode(p) == f
    assert int(f[2:6]) == len(data.encode("utf-8"))  # length counts bytes (Table C.40 note 3: "890 个字节")


def test_lenient_accepts_a_2005_style_packet() -> None:
    data = "ST=32;CN=2011;MN=88888880000001;CP=&&DataTime=20160801085857;a21026-Rtd=12.3,a21026-Flag=N&&"
    with pytest.raises(MissingFieldError):
        decode(frame(data))
    p = decode(frame(data), strict=False)
    assert (p.qn, p.flag, p.mn) == ("", 0, "88888880000001")
    assert encode(p) == frame(data)


# ------------------------------------------------------------------------------------------ round trips

_number = st.from_regex(r"[+-]?([0-9]{1,6}(\.[0-9]{0,4})?|\.[0-9]{1,3})", fullmatch=True)
_code = st.sampled_from(["a21026", "a21002", "a19001", "a00000", "a01011", "a01012", "a01013", "a01014", "a05001"])
_suffix = st.sampled_from(["Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd", "ZsAvg"])
_flag = st.sampled_from(list("NFMSDCTB"))


@st.composite
def packets(draw: st.DrawFn) -> Packet:
    qn_t = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
    qn = qn_t.strftime("%Y%m%d%H%M%S") + f"{qn_t.microsecond // 1000:03d}"
    data_time = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
    header = {
        "QN": qn,
        "ST": draw(st.sampled_from(["31", "32", "51", "91", "22"])),
        "CN": draw(st.sampled_from(["2011", "2051", "2061", "2031", "1062", "9014"])),
        "PW": draw(st.from_regex(r"[0-9A-Za-z]{0,6}", fullmatch=True)),
        "MN": draw(st.from_regex(r"[0-9A-F]{24}", fullmatch=True)),
        "Flag": draw(st.sampled_from([4, 5])),
    }
    cp: list[dict[str, str]] = [{"DataTime": data_time.strftime("%Y%m%d%H%M%S")}]
    codes = draw(st.lists(_code, unique=True, max_size=6))
    for code in codes:
        sufs = draw(st.lists(_suffix, unique=True, min_size=1, max_size=4))
        item = {f"{code}-{s}": draw(_number) for s in sufs}
        if draw(st.booleans()):
            item[f"{code}-Flag"] = draw(_flag)
        cp.append(item)
    if draw(st.booleans()):
        cp.append({"i12001-Info": draw(st.sampled_from(["//运行, 正常;//", "0", "//a//"]))})
    return build(header, cp)


@settings(max_examples=150, deadline=None)
@given(packets())
def test_round_trip_encode_decode_encode(p: Packet) -> None:
    f = encode(p)
    q = decode(f)
    assert q == p
    assert encode(q) == f
    assert parse_data_segment(data_segment(q)) == p


@settings(max_examples=80, deadline=None)
@given(packets(), st.integers(min_value=200, max_value=1024))
def test_split_round_trip(p: Packet, limit: int) -> None:
    try:
        parts = split(p, limit)
    except OversizeError:
        return  # one item alone longer than the limit: refusing is the right answer
    got: dict[str, dict[str, str]] = {}
    for part in parts:
        q = decode(encode(part), strict=False)
        assert len(data_segment(q).encode()) <= limit or len(parts) == 1
        got.update(q.items())
    assert got == p.items()
