"""``carbonmet ingest``, ``carbonmet mqtt listen``, ``carbonmet readings …`` — metering data (计量数据)."""

from __future__ import annotations

import asyncio
import json
import math
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ._common import (
    DbOpt,
    EngineOpt,
    MasterOpt,
    OrgOpt,
    console,
    fail,
    print_json,
    scope,
    use_case,
    workspace,
)

mqtt_app = typer.Typer(help="MQTT 订阅接入 — subscribe to readings over MQTT", no_args_is_help=True)
readings_app = typer.Typer(help="计量数据查询 — summaries and quarantine of stored readings", no_args_is_help=True)

_STORE = typer.Option(..., "--store", help="数据存储目录 readings store directory")
_POINTS = typer.Option(
    None, "--points", help="计量点 points.csv (registry import format); default: the registry database"
)
_INSTR = typer.Option(None, "--instruments", help="计量器具 instruments.csv (ranges, MPE, installation)")
_CERTS = typer.Option(None, "--certificates", help="证书 certificates.csv")
_SITES = typer.Option(None, "--sites", help="场所 sites.csv (site → enterprise)")


def _report_table(rep: dict[str, Any]) -> None:
    t = Table(title="导入结果 ingest result")
    t.add_column("项 item")
    t.add_column("数量 count", justify="right")
    for k, zh in (("received", "接收"), ("stored", "入库"), ("quarantined", "隔离"), ("duplicates", "重复")):
        t.add_row(f"{zh} {k}", str(rep[k]))
    console.print(t)
    if rep.get("deviations"):
        d = Table(title="接收并标记的偏离 deviations accepted and flagged")
        d.add_column("偏离 deviation")
        d.add_column("数量 count", justify="right")
        for k, v in sorted(rep["deviations"].items(), key=lambda kv: -kv[1]):
            d.add_row(k, str(v))
        console.print(d)
    if rep["by_reason"]:
        r = Table(title="隔离原因 quarantine reasons")
        r.add_column("原因 reason")
        r.add_column("数量 count", justify="right")
        for k, v in sorted(rep["by_reason"].items(), key=lambda kv: -kv[1]):
            r.add_row(k, str(v))
        console.print(r)


def ingest_cmd(
    files: list[Path] = typer.Argument(..., help="CSV/XLSX 文件 files"),
    store: Path = _STORE,
    points: Path | None = _POINTS,
    instruments: Path | None = _INSTR,
    certificates: Path | None = _CERTS,
    sites: Path | None = _SITES,
    mapping: list[str] = typer.Option([], "--map", help="列映射 column mapping FIELD=COLUMN, e.g. ts=时间"),
    default_tz: str | None = typer.Option(None, "--tz", help="无时区时间的默认时区 zone for naive times, e.g. Asia/Shanghai"),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = typer.Option(False, "--json", help="机器可读输出 machine-readable output"),
) -> None:
    """导入读数文件  Ingest CSV/XLSX readings: validate, store, quarantine; print the counts.

    With --org the rows of points of other enterprises are quarantined (out_of_scope), not stored.
    """
    from carbonmet.services import CarbonmetError, ingest_files

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, disable=as_json, transient=False) as progress:
        task = progress.add_task("导入 ingest", total=len(files))

        def on_file(f: Path, _rep: Any) -> None:
            progress.update(task, description=f"导入 ingest {f.name}", advance=1)

        try:
            with workspace(db, store, points=points, instruments=instruments, certificates=certificates,
                           sites=sites) as ws:
                total, reports = ingest_files(ws, scope(org), files, mapping=mapping, default_tz=default_tz,
                                              on_file=on_file)
        except CarbonmetError as exc:
            fail(str(exc))
    per_file = [r.to_dict() for r in reports]
    unreadable = sum(1 for r in reports if r.by_reason.get("unreadable_file"))
    out = total.to_dict()
    out["files"] = per_file
    if as_json:
        print_json(out)
    else:
        _report_table(out)
        for pf in per_file:
            if pf["already_ingested"]:
                console.print(f"[yellow]已导入过 already ingested:[/] {pf['origin']}")
        for n in total.notices[:20]:
            console.print(f"[cyan]提示 notice[/] {n.check} {n.point_id}: {n.detail}")
    if unreadable:
        raise typer.Exit(2)


@mqtt_app.command("listen")
def mqtt_listen(
    store: Path = _STORE,
    points: Path | None = _POINTS,
    instruments: Path | None = _INSTR,
    certificates: Path | None = _CERTS,
    sites: Path | None = _SITES,
    host: str = typer.Option("127.0.0.1", "--host", help="MQTT 服务器 broker host"),
    port: int = typer.Option(1883, "--port", help="端口 broker port"),
    topic: str = typer.Option("carbonmet/v1/readings/#", "--topic", help="订阅主题 subscription filter"),
    client_id: str = typer.Option("carbonmet-ingest", "--client-id", help="固定客户端标识 fixed client id (persistent session)"),
    max_batch: int = typer.Option(500, "--max-batch", help="每批消息数 messages per store batch"),
    max_messages: int | None = typer.Option(None, "--max-messages", help="处理后退出 stop after N messages"),
    compact_every: int = typer.Option(200, "--compact-every", help="每 N 批合并小文件 compact every N batches (0: never)"),
    username: str | None = typer.Option(None, "--username", help="代理用户名 broker user name"),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="代理密码文件 (首行) file whose first line is the broker password"
    ),
    tls_ca: Path | None = typer.Option(None, "--tls-ca", help="TLS: 代理的 CA 证书 the broker's CA certificate (turns TLS on)"),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="TLS: 客户端证书 client certificate (with --tls-ca)"),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="TLS: 客户端私钥 client key (with --tls-cert)"),
    no_acl: bool = typer.Option(
        False, "--no-acl", help="不检查主题单位是否拥有计量点 do not check that the topic's enterprise owns the point"
    ),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = typer.Option(False, "--json", help="每批输出 JSON 行 one JSON line per batch"),
) -> None:
    """订阅并入库  Subscribe (QoS 1, persistent session), store, then acknowledge.

    The topic's enterprise (carbonmet/v1/readings/<enterprise>/<device>) must own every point written,
    else the reading is quarantined (topic_acl). Give --username/--password-file and --tls-ca for a
    broker that is not on this machine: without TLS the password crosses the network in clear.
    """
    from carbonmet.metering.mqtt import BrokerRefused
    from carbonmet.services import CarbonmetError, mqtt_listener

    password: str | None = None
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"无法读取 cannot read {password_file}: {exc}", 2)
        password = lines[0] if lines else ""
    ws = workspace(db, store, points=points, instruments=instruments, certificates=certificates, sites=sites)
    try:
        listener = mqtt_listener(ws, scope(org), host, port, topic=topic, client_id=client_id, max_batch=max_batch,
                                 compact_every=compact_every, username=username, password=password,
                                 tls_ca=str(tls_ca) if tls_ca else None, tls_cert=str(tls_cert) if tls_cert else None,
                                 tls_key=str(tls_key) if tls_key else None, acl=not no_acl)
    except (CarbonmetError, ValueError) as exc:
        ws.close()
        fail(str(exc), 2)

    def on_report(rep: Any) -> None:
        d = rep.to_dict()
        if as_json:
            sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            console.print(f"批次 batch {d['batch_id'][:20]}: 接收 received {d['received']}, 入库 stored {d['stored']}, "
                          f"隔离 quarantined {d['quarantined']}, 重复 duplicates {d['duplicates']}")

    async def run() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if not as_json:
            console.print(f"MQTT 订阅 listening {host}:{port} {topic} as {client_id}")
        else:
            sys.stdout.write(json.dumps({"listening": f"{host}:{port}", "topic": topic}) + "\n")
            sys.stdout.flush()
        def on_subscribed() -> None:
            if as_json:
                sys.stdout.write(json.dumps({"subscribed": topic, "connection": listener.connections}) + "\n")
                sys.stdout.flush()
            else:
                console.print(f"已订阅 subscribed ({listener.connections})")

        return await listener.run(stop, on_report, max_messages, on_subscribed)

    try:
        totals = asyncio.run(run())
    except BrokerRefused as exc:
        fail(str(exc))
    finally:
        ws.close()
    if as_json:
        sys.stdout.write(json.dumps({"totals": totals.to_dict() | {"notices": []}}, ensure_ascii=False) + "\n")
    else:
        _report_table(totals.to_dict())


def _plausible_span(point: str, tbl: Any) -> tuple[tuple[datetime, datetime], str | None]:
    """First and last stored reading inside the readings plausibility window (UTC), and a notice naming how
    many lie outside it (stored before the window existed, or by a direct store call): those are left out of
    the default period, which would otherwise reach years such as 0001 or 9999 (see docs/input-rules.md)."""
    import pyarrow as pa

    from carbonmet.metering.rules import default_rules

    window = default_rules().timestamps
    lo, hi = window.bounds()
    us = tbl.column("ts").cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy()
    inside = us[(us >= round(lo.timestamp() * 1e6)) & (us <= round(hi.timestamp() * 1e6))]
    outside = len(us) - len(inside)
    where = f"{lo.date()} … {hi.date()}"
    if not len(inside):
        fail(f"无合理时间的数据 none of the {len(us)} readings of {point} lies inside the plausibility window "
             f"{where}; give --start and --end to summarise a period")
    epoch = datetime(1970, 1, 1, tzinfo=lo.tzinfo)
    span = (epoch + timedelta(microseconds=int(inside.min())), epoch + timedelta(microseconds=int(inside.max())))
    notice = None
    if outside:
        notice = (f"{outside} 条读数时间不在合理范围 {where} 内，未计入默认期间 / {outside} readings of {point} lie "
                  f"outside the plausibility window {where} and are left out of the default period "
                  "(give --start and --end to choose the period)")
    return span, notice


def _parse_when(text: str, tz: str, what: str) -> datetime:
    try:
        if len(text) == 7:  # YYYY-MM
            return datetime.fromisoformat(text + "-01").replace(tzinfo=ZoneInfo(tz))
        if len(text) == 4:
            return datetime(int(text), 1, 1, tzinfo=ZoneInfo(tz))
        t = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{what}: 不是日期 not an ISO 8601 date/time: {text!r}")
    return t if t.tzinfo else t.replace(tzinfo=ZoneInfo(tz))


@readings_app.command("summary")
def summary_cmd(
    point: str = typer.Argument(..., help="计量点 point id"),
    store: Path = _STORE,
    points: Path | None = _POINTS,
    instruments: Path | None = _INSTR,
    certificates: Path | None = _CERTS,
    sites: Path | None = _SITES,
    period: str = typer.Option("month", "--period", help="hour|day|month|year"),
    start: str | None = typer.Option(None, "--start", help="起 start (YYYY, YYYY-MM or ISO 8601)"),
    end: str | None = typer.Option(None, "--end", help="止 end, exclusive"),
    tz: str = typer.Option("Asia/Shanghai", "--tz", help="时区 zone of the periods"),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = typer.Option(False, "--json", help="机器可读输出 machine-readable output"),
) -> None:
    """按期汇总  Period totals (or means) of a point with completeness and validity."""
    from carbonmet.services import (
        CarbonmetError,
        list_deviations,
        point_activity,
        point_readings,
        readings_summary,
    )

    try:
        ZoneInfo(tz)
    except (ValueError, KeyError):
        fail(f"--tz: 未知时区 unknown time zone {tz!r}")
    who = scope(org)
    notices: list[str] = []
    try:
        with workspace(db, store, time_zone=tz, points=points, instruments=instruments, certificates=certificates,
                       sites=sites) as ws:
            if start is None or end is None:
                tbl = point_readings(ws, who, point)
                if tbl.num_rows == 0:
                    fail(f"无数据 no readings stored for {point}")
                z = ZoneInfo(tz)
                span, notice = _plausible_span(point, tbl)
                if notice:
                    notices.append(notice)
                first, last = (t.astimezone(z) for t in span)
                first, last = (t.replace(day=1, hour=0, minute=0, second=0, microsecond=0) for t in (first, last))
                s = _parse_when(start, tz, "--start") if start else first
                e = _parse_when(end, tz, "--end") if end else (last + timedelta(days=32)).replace(day=1)
            else:
                s, e = _parse_when(start, tz, "--start"), _parse_when(end, tz, "--end")
            rows = readings_summary(ws, who, point, s, e, period)  # type: ignore[arg-type]
            act = point_activity(ws, who, point, s, e)
            deviations: dict[str, int] = {}
            for b in list_deviations(ws, who):  # packets accepted with protocol deviations (accept-and-flag)
                if point in b["points"]:
                    for k, v in b["deviations"].items():
                        deviations[k] = deviations.get(k, 0) + v
    except CarbonmetError as exc:
        fail(str(exc))
    if as_json:
        print_json({"point": point, "periods": [r.to_dict() for r in rows], "total": act.total.to_dict(),
                    "measured": act.measured.to_dict(),
                    "substituted": act.substituted.to_dict() if act.substituted else None,
                    "completeness": act.completeness,
                    "certificate_coverage": [c.to_dict() for c in act.certificate_coverage],
                    "uncovered_share": None if math.isnan(act.uncovered_share) else act.uncovered_share,
                    "notices": notices, "deviations": dict(sorted(deviations.items()))})
        return
    for n in notices:
        console.print(f"[yellow]注意 notice:[/yellow] {n}")
    t = Table(title=f"{point} 按{period}汇总 per {period}")
    for c in ("期间 period", "量 kind", "实测 measured", "替代 substituted", "单位 unit", "有效时 valid h",
              "应有时 expected h", "完整率 completeness"):
        t.add_column(c, justify="right" if c[0] not in "期量单" else "left")
    for r in rows:
        t.add_row(r.period_start.strftime("%Y-%m-%d %H:%M"), r.kind, _fmt(r.value_measured), _fmt(r.value_substituted),
                  r.unit, f"{r.valid_hours:g}", f"{r.expected_hours:g}", _fmt(r.completeness, ".1%"))
    console.print(t)
    console.print(f"合计 total: {act.total}  完整率 completeness {act.completeness:.1%}")
    console.print(f"器具 instruments: {', '.join(act.total.provenance.instruments) or '-'}; "
                  f"证书 certificates: {', '.join(act.total.provenance.certificates) or '-'}")
    for cov in act.certificate_coverage:
        console.print(f"  {cov.instrument_id}: 证书覆盖 certificate coverage {cov.covered_days}/{cov.installed_days} d"
                      + (f" — {cov.uncovered_days} d 无有效证书 without a valid certificate"
                         if cov.uncovered_days else ""))
    if act.certificate_coverage:
        console.print(f"未覆盖比例 uncovered share of instrument-days: {act.uncovered_share:.1%}")
    if deviations:
        console.print("接收并标记 accepted with deviations (all periods of the store): "
                      + ", ".join(f"{k} ×{v}" for k, v in sorted(deviations.items())) + " — carbonmet readings quarantine")
    if math.isnan(act.total.u) and act.completeness < 1:
        console.print("u 未评定（期间未完整测量）not evaluated: the period is not fully measured — see provenance note")


def _fmt(v: float, spec: str = ".6g") -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


@readings_app.command("quarantine")
def quarantine_cmd(
    store: Path = _STORE,
    reason: str | None = typer.Option(None, "--reason", help="只看此原因 only this reason"),
    limit: int = typer.Option(50, "--limit", help="最多列出 rows to list"),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = typer.Option(False, "--json", help="机器可读输出 machine-readable output"),
) -> None:
    """隔离区  List quarantined records with their reasons (counts per reason first)."""
    from carbonmet.services import CarbonmetError, list_deviations, list_quarantine

    try:
        with workspace(db, store) as ws:
            rows = list_quarantine(ws, scope(org))
            flagged = list_deviations(ws, scope(org))
    except CarbonmetError as exc:
        fail(str(exc))
    dev_counts: dict[str, int] = {}
    for b in flagged:
        for k, v in b["deviations"].items():
            dev_counts[k] = dev_counts.get(k, 0) + v
    n_total = len(rows)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["reason"]] = counts.get(r["reason"], 0) + 1
    if reason:
        rows = [r for r in rows if r["reason"] == reason]
    if as_json:
        print_json({"total": n_total, "by_reason": counts, "records": rows[:limit],
                    "deviations": dict(sorted(dev_counts.items())), "deviation_batches": len(flagged),
                    "deviation_stored": sum(b["stored"] or 0 for b in flagged)})
        return
    c = Table(title=f"隔离记录 quarantined: {n_total}")
    c.add_column("原因 reason")
    c.add_column("数量 count", justify="right")
    for k, v in sorted(counts.items(), key=lambda kv: -kv[1]):
        c.add_row(k, str(v))
    console.print(c)
    t = Table(title="记录 records")
    for col in ("origin", "reason", "detail"):
        t.add_column(col)
    for r in rows[:limit]:
        t.add_row(str(r["origin"]), str(r["reason"]), str(r["detail"] or ""))
    console.print(t)
    if flagged:
        d = Table(title=f"接收并标记 accepted with deviations: {len(flagged)} 批 batches, "
                        f"{sum(b['stored'] or 0 for b in flagged)} 条读数已入库 readings stored")
        d.add_column("偏离 deviation")
        d.add_column("报文数 packets", justify="right")
        for k, v in sorted(dev_counts.items(), key=lambda kv: -kv[1]):
            d.add_row(k, str(v))
        console.print(d)


@readings_app.command("monthly")
def monthly_cmd(
    year: int = typer.Option(..., "--year", help="年度 calendar year (local time)"),
    store: Path = _STORE,
    point: list[str] | None = typer.Option(None, "--point", help="计量点 point id (repeatable); default: every point"),
    engine: EngineOpt = "duckdb",
    master: MasterOpt = "local[2]",
    out: Path | None = typer.Option(None, "--out", help="写出 write the table (.csv or .parquet)"),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = typer.Option(False, "--json", help="机器可读输出 machine-readable output"),
) -> None:
    """月度汇总  Monthly totals (or means) of every readable point for a year, on DuckDB or Spark."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from carbonmet.services import monthly_point_totals

    t = use_case(db, org, monthly_point_totals, year, points=point or None, engine=engine, master=master, code=1, store=store)
    if out is not None:
        if out.suffix == ".parquet":
            pq.write_table(t, out)
        else:
            pcsv.write_csv(t, out)
    if as_json:
        rows = t.to_pylist()
        for r in rows:
            r["period_start"], r["period_end"] = r["period_start"].isoformat(), r["period_end"].isoformat()
            for k, v in r.items():
                if isinstance(v, float) and math.isnan(v):
                    r[k] = None
        print_json({"year": year, "engine": engine, "rows": rows})
        return
    measured = sum(1 for v in t.column("value_measured").to_pylist() if not math.isnan(v))
    console.print(f"{t.num_rows} 点月 point-months ({measured} 有实测值 with a measured value), 引擎 engine {engine}"
                  + (f" → {out}" if out is not None else ""))


@readings_app.command("compact")
def compact_cmd(
    store: Path = _STORE,
    min_files: int = typer.Option(8, "--min-files", help="文件数达到此值才合并 merge partitions with at least N files"),
    as_json: bool = typer.Option(False, "--json", help="机器可读输出 machine-readable output"),
) -> None:
    """合并小文件  Merge the small files streaming ingest leaves in each partition (crash-safe)."""
    from carbonmet.services import compact_store

    with workspace(None, store) as ws:
        n = compact_store(ws, scope(), min_files)
    if as_json:
        print_json({"compacted_partitions": n})
    else:
        console.print(f"已合并分区 compacted partitions: {n}")


def register(app: typer.Typer) -> None:
    """Add the metering commands to the ``carbonmet`` app (top-level ``ingest``, ``mqtt``, ``readings``)."""
    app.command("ingest")(ingest_cmd)
    app.add_typer(mqtt_app, name="mqtt")
    app.add_typer(readings_app, name="readings")
