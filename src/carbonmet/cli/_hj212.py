"""``carbonmet hj212`` — decode, encode and receive HJ 212-2017 packets (for field engineers and servers)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from ._common import DbOpt, OrgOpt, console, fail, print_json, scope, workspace

if TYPE_CHECKING:  # the codec (and with it NumPy, Arrow, DuckDB) is imported when a command runs
    from carbonmet.metering.hj212 import Packet

#: The server's defaults (``carbonmet.metering.hj212.ServerLimits()``; HJ 212-2017 Table 1 for requests),
#: written out so that ``--help`` does not import the codec; tests/cli checks they are the same.
LIMIT_DEFAULTS: dict[str, Any] = {
    "idle_timeout": 900.0, "max_connections": 512, "frame_timeout": 60.0, "max_bad_bytes": 65536,
    "request_timeout": 10.0,
}

app = typer.Typer(
    help="HJ 212-2017 数据传输 — decode/encode packets, receive data loggers over TCP", no_args_is_help=True
)


def _frames_from_text(text: str) -> list[bytes]:
    """Frames from what a person pastes: real CR LF, or the literal characters ``\\r\\n``, or none at all."""
    raw = text.replace("\\r\\n", "\r\n").encode("utf-8")
    raw = raw.strip(b" \t")
    if raw.startswith(b"##") and not raw.endswith(b"\r\n"):
        raw = raw.rstrip(b"\r\n") + b"\r\n"
    return [raw]


def _packet_json(p: Packet) -> dict[str, Any]:
    from carbonmet.metering.hj212.protocol import crc16, data_segment

    return {
        "header": dict(p.header),
        "cp": [dict(item) for item in p.cp],
        "flag": {"value": p.flag, "ack": p.needs_ack, "split": p.is_split, "version": p.version},
        "pnum": p.pnum,
        "pno": p.pno,
        "crc": f"{crc16(data_segment(p).encode('utf-8')):04X}",
        "data_time": (dt.isoformat() if (dt := p.data_time()) is not None else None),
        "items": p.items(),
    }


def _show_packet(p: Packet) -> None:
    from carbonmet.metering.hj212 import answers_for, encode
    from carbonmet.metering.hj212.codes import (
        commands,
        data_flags_short,
        factor_codes,
        field_suffixes,
        system_codes,
    )

    cmd = commands().get((p.cn, "s2p")) or commands().get((p.cn, "p2s"))
    st_name = system_codes().get(p.st, "?")
    t = Table(title="数据段 data segment", show_header=True)
    t.add_column("字段 field")
    t.add_column("值 value")
    t.add_column("含义 meaning")
    meanings = {
        "QN": "请求编码 request id" + (f" = {p.qn_time()}" if p.qn else ""),
        "ST": f"系统编码 system: {st_name}",
        "CN": f"命令编码 command: {cmd.name_zh} {cmd.name_en}" if cmd else "命令编码 command: (not in Table 9)",
        "PW": "访问密码 password",
        "MN": "设备唯一标识 device id",
        "Flag": (
            f"A={int(p.needs_ack)} 应答 answer, D={int(p.is_split)} 拆分 split, "
            f"V={p.version} ({ {1: 'HJ 212-2017', 2: 'HJ 212-2025 [C]'}.get(p.version, 'HJ/T 212-2005')})"
        ),
        "PNUM": "总包数 parts",
        "PNO": "包号 part number",
    }
    for k, v in p.header:
        t.add_row(k, v, meanings.get(k, ""))
    console.print(t)
    plain = [(k, v) for k, v in p.cp_fields() if "-" not in k]
    if plain:
        console.print("CP: " + "; ".join(f"[bold]{k}[/]={v}" for k, v in plain))
    items = p.items()
    if items:
        present = {s for fields in items.values() for s in fields}
        order = list(field_suffixes())  # Table 4 order: Rtd Min Avg Max Zs… Cou Flag …
        suffixes = [s for s in order if s in present] + sorted(present - set(order))
        it = Table(title="监测因子 items", show_header=True)
        it.add_column("编码 code")
        it.add_column("名称 name")
        for s in suffixes:
            it.add_column(s, justify="right" if s not in ("Flag", "Info", "SN", "EFlag") else "left")
        codes = factor_codes()
        flags = data_flags_short()
        for code, fields in items.items():
            fc = codes.get(code)
            name = f"{fc.name_zh} {fc.name_en}" if fc else ""
            row = [code, name]
            for s in suffixes:
                v = fields.get(s, "")
                if s == "Flag" and v:
                    v = f"{v} {flags.get(v, '')}"
                row.append(v)
            it.add_row(*row)
        console.print(it)
    role = "platform" if (p.cn, "s2p") in commands() else "site"
    answers = answers_for(p, role=role)
    if answers:
        console.print("应答 answer: " + " ".join(encode(a).decode("utf-8").rstrip() for a in answers))


@app.command("decode")
def decode_cmd(
    frame: str | None = typer.Argument(
        None, help="报文 frame, e.g. '##0101QN=…&&1C80'; '-' 从标准输入读取 reads frames from standard input"
    ),
    file: Path | None = typer.Option(None, "--file", "-f", help="含一个或多个报文的文件 file with frames"),
    as_json: bool = typer.Option(False, "--json", help="机器可读输出 machine-readable output"),
    lenient: bool = typer.Option(False, "--lenient", help="宽松解析 accept 2005-style/oversize packets"),
) -> None:
    """解析报文并校验长度和 CRC  Decode frames, check length and CRC, show fields and items."""
    from carbonmet.metering.hj212 import DecodeError, Framer, decode
    from carbonmet.metering.hj212.errors import BadCRCError
    from carbonmet.metering.hj212.policy import assess

    source = "stdin" if frame == "-" and file is None else str(file)
    if file is not None or frame == "-":
        try:
            data = sys.stdin.buffer.read() if file is None else file.read_bytes()
        except OSError as exc:
            fail(f"无法读取 cannot read {source}: {exc}")
        data = data.replace(b"\\r\\n", b"\r\n")
        if b"\r\n" not in data:  # one frame per line with bare LF (or no) line ends
            data = b"".join(ln.strip() + b"\r\n" for ln in data.splitlines() if ln.strip())
        framer = Framer(9999 if lenient else 1024)
        chunks = [(r, why) for r, why in framer.feed(data) + framer.close() if why is None or r.strip()]
    elif frame is not None:
        chunks = [(f, None) for f in _frames_from_text(frame)]
    else:
        fail("请给出报文或 --file  give a FRAME or --file")
    results: list[dict[str, Any]] = []
    bad = 0
    for n, (raw, junk) in enumerate(chunks, start=1):
        where = f"{source}:frame {n}" if file is not None or frame == "-" else f"frame {n}"
        if junk is not None:
            bad += 1
            results.append({"frame": raw.decode("utf-8", "replace"), "ok": False, "error": junk, "where": where})
            if not as_json:
                console.print(f"[red]✗ {where}: {junk}[/] {raw[:80]!r}")
            continue
        found = assess(raw)
        try:
            try:
                p = decode(raw, strict=not lenient)
            except DecodeError:
                if not lenient or found.packet is None:  # e.g. a CRC in the CRC-16/MODBUS order: flagged, kept
                    raise
                p = found.packet
        except DecodeError as exc:
            bad += 1
            entry: dict[str, Any] = {
                "frame": raw.decode("utf-8", "replace"), "ok": False, "error": str(exc), "kind": exc.kind,
                "where": where,
                "accept_and_flag": list(found.deviations) if found.packet is not None else None,
            }
            if isinstance(exc, BadCRCError):
                entry["crc"] = {"expected": exc.expected, "actual": exc.actual}
            results.append(entry)
            if not as_json:
                console.print(f"[red]✗ {where}: {exc}[/]")
                if isinstance(exc, BadCRCError):
                    console.print(f"  CRC 校验错误 bad: 应为 expected [bold]{exc.expected}[/], 收到 got {exc.actual}")
                if found.packet is not None:
                    console.print("  接收并标记策略下可接收 accepted under the accept-and-flag policy (--lenient): "
                                  + ", ".join(found.deviations))
            continue
        results.append({"frame": raw.decode("utf-8"), "ok": True, "where": where, **_packet_json(p),
                        "deviations": list(found.deviations)})
        if not as_json:
            console.print(
                f"[green]✓ {where}: 长度 length {len(raw) - 12} ok, CRC {raw[-6:-2].decode()} ok[/]"
            )
            _show_packet(p)
            for line in found.details:
                console.print(f"[yellow]偏离 deviation:[/] {line}")
    if as_json:
        print_json(results if len(results) != 1 else results[0])
    if bad:
        raise typer.Exit(1)


@app.command("encode")
def encode_cmd(
    json_file: Path = typer.Option(..., "--json", help="JSON 文件 ('-' 为标准输入) {header:{…}, cp:[{…}, …]}"),
    do_split: bool = typer.Option(False, "--split", help="超过 1024 字节时拆分包 split when over 1024 bytes"),
    lenient: bool = typer.Option(False, "--lenient", help="宽松校验 lenient validation"),
) -> None:
    """由 JSON 生成报文  Encode a packet from JSON (the output of `decode --json` works as input)."""
    from carbonmet.metering.hj212 import DecodeError, build, encode, split

    try:
        text = sys.stdin.read() if str(json_file) == "-" else json_file.read_text(encoding="utf-8")
        doc = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"无法读取 JSON cannot read JSON {json_file}: {exc}")
    docs = doc if isinstance(doc, list) else [doc]
    out: list[bytes] = []
    for i, d in enumerate(docs):
        if not isinstance(d, dict) or "header" not in d:
            fail(f"{json_file}: entry {i}: 需要 needs an object with 'header' and 'cp'")
        try:
            p = build(d["header"], d.get("cp", []), strict=not lenient)
            parts = split(p) if do_split else [p]
            out.extend(encode(q) for q in parts)
        except DecodeError as exc:
            fail(f"{json_file}: entry {i}: {exc}")
        except (TypeError, AttributeError) as exc:
            fail(f"{json_file}: entry {i}: 格式错误 malformed: {exc}")
    sys.stdout.buffer.write(b"".join(out))
    sys.stdout.flush()


# ----------------------------------------------------------------------------------------------- serve


@app.command("serve")
def serve_cmd(
    port: int = typer.Option(..., "--port", help="TCP 端口 port (0 = any free port)"),
    host: str = typer.Option("0.0.0.0", "--host", help="监听地址 listen address"),
    store: Path | None = typer.Option(None, "--store", help="计量数据库目录 readings store directory"),
    out: Path | None = typer.Option(None, "--out", help="不用 --store 时: 接收数据 JSON lines accepted messages"),
    rejects: Path | None = typer.Option(None, "--rejects", help="不用 --store 时: 拒收报文 rejected frames (JSON lines)"),
    points: Path | None = typer.Option(
        None, "--points", help="计量点 CSV (hj212_mn, hj212_code) points CSV; default: the registry database"
    ),
    sites: Path | None = typer.Option(None, "--sites", help="sites.csv (site_code → org_code), with --store"),
    instruments: Path | None = typer.Option(
        None, "--instruments", help="与 --points 同用: 仪表 CSV (量程检查) instruments CSV, for the range check"
    ),
    certificates: Path | None = typer.Option(
        None, "--certificates", help="与 --points 同用: 证书 CSV certificates CSV (with --points)"
    ),
    no_password_check: bool = typer.Option(
        False, "--no-password-check",
        help="不校验访问密码 PW (仅限封闭测试网络) do not check PW: anyone reaching the port who knows an MN"
        " writes data (closed test networks only)",
    ),
    idle_timeout: float = typer.Option(LIMIT_DEFAULTS["idle_timeout"], "--idle-timeout", help="空闲断开秒数 idle timeout [s]"),
    max_connections: int = typer.Option(
        LIMIT_DEFAULTS["max_connections"], "--max-connections", min=1, help="最大连接数 connections open at once; more are closed on accept"
    ),
    frame_timeout: float = typer.Option(
        LIMIT_DEFAULTS["frame_timeout"], "--frame-timeout", min=0.001, help="单个报文须在此秒数内收完 a frame begun must complete within [s]"
    ),
    max_bad_bytes: int = typer.Option(
        LIMIT_DEFAULTS["max_bad_bytes"], "--max-bad-bytes", min=1,
        help="连续错误字节数上限, 超过则断开 disconnect after this many rejected bytes without a good frame",
    ),
    lenient: bool = typer.Option(
        False, "--lenient", help="(默认已是接收并标记 now the default) accept and flag 2005-style/oversize packets"
    ),
    strict: bool = typer.Option(
        False, "--strict",
        help="所有数采仪用严格策略: 偏离 HJ 212-2017 的报文拒收并隔离 every logger strict: refuse deviating packets",
    ),
    policy_file: Path | None = typer.Option(
        None, "--policy",
        help="接收策略文件 CSV match,value,policy (default|mn|enterprise, strict|flag): strict per logger or enterprise",
    ),
    backfill_hours: float = typer.Option(
        0.0, "--backfill-hours", min=0.0,
        help="补传: 数采仪连接时请求库中缺失的最近 N 小时历史数据 (needs --store) on connect, request the history"
        " periods of the last N hours missing in the store",
    ),
    request_timeout: float = typer.Option(
        LIMIT_DEFAULTS["request_timeout"], "--request-timeout", min=0.001,
        help="请求应答超时秒数 wait for 9011 and each data packet [s] (HJ 212-2017 Table 1: 10; ADSL 5)",
    ),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
) -> None:
    """接收数采仪数据  Receive data loggers over TCP; answer 9014 only after the data is durable.

    With --store the readings go to the readings store (raw frames archived, rejects quarantined);
    otherwise to --out / --rejects as JSON lines, fsynced before the answer. With --org, readings of
    other enterprises' points are quarantined (out_of_scope), not stored.

    Packets that deviate from HJ 212-2017 as installed loggers send them (14-character MN, 2005-style header,
    unknown codes …) are accepted and flagged by default: stored, each deviation counted (`readings
    quarantine` lists them). --strict, or a --policy file, refuses them per logger / enterprise with the reason.

    Every packet's PW is checked against the logger's password in the registry (`hj212 set-password`);
    a wrong or empty PW is answered 9011 QnRtn=3 and nothing is stored. The default --host 0.0.0.0
    listens on every interface: data loggers reach it over the network, and so can anyone else.
    """
    if (instruments is not None or certificates is not None) and points is None:
        fail("--instruments/--certificates 需与 --points 同用  need --points")
    if store is None and (out is None or rejects is None):
        fail("请给出 --store 或 --out 与 --rejects  give --store, or both --out and --rejects")
    if backfill_hours > 0 and store is None:
        fail("--backfill-hours 需要 --store  needs --store (to know what is missing)")
    from carbonmet.metering.hj212 import ServerLimits
    from carbonmet.metering.hj212.policy import AcceptancePolicy, PolicyFileError, load_policy
    from carbonmet.services import CarbonmetError, start_hj212_server

    if strict and lenient:
        fail("--strict 与 --lenient 不能同用  give one of --strict and --lenient")
    try:
        policy = load_policy(policy_file) if policy_file is not None else AcceptancePolicy()
    except PolicyFileError as exc:
        fail(str(exc))
    if strict:
        policy = AcceptancePolicy("strict", policy.by_mn, policy.by_enterprise)

    try:
        limits = ServerLimits().replace(
            idle_timeout=idle_timeout, max_connections=max_connections, frame_timeout=frame_timeout,
            max_bad_bytes=max_bad_bytes, request_timeout=request_timeout, exec_timeout=request_timeout,
            backfill_hours=backfill_hours,
        )
    except ValueError as exc:
        fail(str(exc))
    where = f"store={store}" if store is not None else f"out={out}  rejects={rejects}"
    ws = workspace(db, store, points=points, instruments=instruments, certificates=certificates, sites=sites)

    async def run() -> None:
        server = await start_hj212_server(ws, scope(org), host, port, out=out, rejects=rejects, policy=policy,
                                          limits=limits, check_passwords=not no_password_check)
        # plain echo (no rich wrapping): scripts read the port from this line
        typer.echo(f"HJ 212 服务 listening on {host}:{server.port} — {len(server.point_map)} mapped points")
        typer.echo(f"接收 {where}")
        named = len(policy.by_mn) + len(policy.by_enterprise)
        typer.echo(f"接收策略 policy: {policy.default}" + (f" (+{named} named in {policy_file})" if named else ""))
        if no_password_check:
            typer.echo("警告 WARNING: 未校验访问密码 PW is not checked (--no-password-check)", err=True)
        sys.stdout.flush()
        await server.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        console.print("已停止 stopped")
    except (OSError, ValueError, CarbonmetError) as exc:  # CatalogError, PointMapError are ValueErrors
        fail(str(exc))
    finally:
        ws.close()


@app.command("set-password")
def set_password_cmd(
    mn: str = typer.Argument(..., help="数采仪 MN (a measurement point's hj212_mn)"),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="含密码的文件 (首行) file whose first line is the password; default: prompt"
    ),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
) -> None:
    """设置数采仪访问密码  Set the HJ 212 access password (PW) of a data logger; stored hashed, audited."""
    from carbonmet.services import CarbonmetError, set_hj212_password

    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"无法读取 cannot read {password_file}: {exc}", 2)
        password = lines[0] if lines else ""
    else:
        password = typer.prompt("密码 password (1–6 printable ASCII)", hide_input=True, confirmation_prompt=True)
    ws = workspace(db)
    try:
        res = set_hj212_password(ws, scope(org), mn, password)
    except CarbonmetError as exc:
        fail(f"MN {mn}: {exc}", 2)
    finally:
        ws.close()
    console.print(f"已设置 password set for MN {res['mn']}")
