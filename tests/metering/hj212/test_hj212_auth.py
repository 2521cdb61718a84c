"""Access passwords (HJ 212-2017 PW, Table 3; refusal QnRtn=3, Table 7) over real loopback sockets."""

from __future__ import annotations

import asyncio

from carbonmet.metering.hj212 import ServerLimits, build, build_point_map, decode, encode, start_server

from .test_hj212_server import MN, POINTS, Recorder, nothing_within, read_answers


def frame(qn_ms: int, pw: str, flag: int = 5) -> bytes:
    head = {"QN": f"20250301120000{qn_ms:03d}", "ST": "31", "CN": "2011", "PW": pw, "MN": MN, "Flag": flag}
    return encode(build(head, [{"DataTime": "20250301120000"}, {"a21026-Rtd": "35.2", "a21026-Flag": "N"}]))


def test_D7_hj212_wrong_password_is_refused() -> None:
    """D7: empty and wrong PW were answered 9014 and stored; now 9011 QnRtn=3, rejected, counted, not stored."""

    async def scenario() -> None:
        rec = Recorder()
        checked: list[tuple[str, str]] = []

        def check(mn: str, pw: str) -> bool:
            checked.append((mn, pw))
            return (mn, pw) == (MN, "s3cr3t")

        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS), reject=rec.reject,
                                    limits=ServerLimits(reject_window=0.0, max_auth_failures=5),
                                    check_password=check)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            bad_frames = [frame(1, ""), frame(2, "123456")]
            writer.write(b"".join(bad_frames))
            answers = await read_answers(reader, 2)
            for a, qn in zip(answers, ("001", "002"), strict=True):
                p = decode(a)
                assert (p.cn, p.st, p.qn[-3:], tuple(p.cp_fields())) == ("9011", "91", qn, (("QnRtn", "3"),))
            assert rec.messages == []
            assert [raw for raw, _ in rec.rejects] == bad_frames
            assert all(r.startswith("bad_password:") for _, r in rec.rejects)
            assert "empty" in rec.rejects[0][1] and "wrong" in rec.rejects[1][1]
            assert (server.stats.auth_failures, server.stats.messages, server.stats.readings) == (2, 0, 0)
            assert server.stats.reasons["bad_password"] == 2
            # a refused packet without Flag bit A gets no answer at all, and is counted too
            writer.write(frame(3, "nope", flag=4))
            assert await nothing_within(reader, 0.3)
            assert server.stats.auth_failures == 3 and rec.messages == []
            # the right password: 9014, stored; then checked once per connection and MN
            writer.write(frame(4, "s3cr3t") + frame(5, "s3cr3t"))
            answers = await read_answers(reader, 2)
            assert [decode(a).cn for a in answers] == ["9014", "9014"]
            assert len(rec.messages) == 2 and rec.messages[0][0][0].value == 35.2
            assert checked.count((MN, "s3cr3t")) == 1
        finally:
            writer.close()
            await server.close()

    asyncio.run(scenario())


def test_D7_hj212_repeated_wrong_passwords_close_the_connection() -> None:
    async def scenario() -> None:
        rec = Recorder()

        async def check(mn: str, pw: str) -> bool:  # an async checker is awaited
            return False

        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS), reject=rec.reject,
                                    limits=ServerLimits(max_auth_failures=2), check_password=check)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(frame(1, "a") + frame(2, "b"))
            await read_answers(reader, 2)
            async with asyncio.timeout(5):
                assert await reader.read() == b""  # closed by the server
            assert (server.stats.auth_failures, server.stats.closed_auth, len(rec.messages)) == (2, 1, 0)
        finally:
            writer.close()
            await server.close()

    asyncio.run(scenario())


def test_hj212_failing_password_checker_refuses() -> None:
    async def scenario() -> None:
        rec = Recorder()

        def check(mn: str, pw: str) -> bool:
            raise RuntimeError("database down")

        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS), reject=rec.reject,
                                    check_password=check)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(frame(1, "123456"))
            (a,) = await read_answers(reader, 1)
            assert tuple(decode(a).cp_fields()) == (("QnRtn", "3"),) and rec.messages == []
            assert server.stats.auth_failures == 1
        finally:
            writer.close()
            await server.close()

    asyncio.run(scenario())
