"""``carbonmet registry …`` and ``carbonmet audit …`` — the instrument & calibration registry."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from ._common import DbOpt, JsonOpt, OrgOpt, console, fail, print_json, scope, use_case, workspace

app = typer.Typer(help="计量器具与证书登记 instrument, standard and certificate registry", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志 audit log", no_args_is_help=True)

#: Table names of the import format (``carbonmet.services.REGISTRY_TABLES``; written out here so that
#: ``--help`` does not import the services).
TABLES = ("organisations", "sites", "points", "standards", "instruments", "certificates")


def parse_date(text: str, option: str) -> date:
    """An ISO date from an option, or a clear usage error."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"日期格式应为 YYYY-MM-DD expected YYYY-MM-DD, got {text!r}", param_hint=option) from None


def parse_days(text: str) -> int:
    """``30d``, ``6w``, ``3m`` (30-day months) or a plain number of days."""
    m = re.fullmatch(r"\s*(\d+)\s*([dwm]?)\s*", text)
    if not m:
        raise typer.BadParameter(f"期限格式 expected e.g. 30d, 6w, 3m; got {text!r}")
    n, unit = int(m.group(1)), m.group(2) or "d"
    return n * {"d": 1, "w": 7, "m": 30}[unit]


@app.command("import")
def import_cmd(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="CSV/XLSX 台账文件"),
    actor: str = typer.Option("cli", help="操作人 who is importing (audit log)"),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """导入台账 Import organisations, points, instruments, standards, certificates (all or nothing per file)."""
    from carbonmet.services import CarbonmetError, ImportRejected, import_registry

    try:
        with workspace(db) as ws:
            reports = import_registry(ws, scope(org, actor), files, each_file=True)
    except ImportRejected as exc:
        done = [r.to_dict() for r in exc.imported]
        if as_json:
            print_json({"ok": False, "file": exc.file, "problems": [asdict(p) for p in exc.problems],
                        "imported_before": done})
            raise typer.Exit(1) from None
        for r in done:
            console.print(f"[green]已导入 imported[/] {r['file']}: {r['rows']} 行 rows")
        fail(str(exc) + ("\n其后的文件未处理 files after it were not processed" if len(files) > len(done) + 1 else ""))
    except CarbonmetError as exc:
        fail(str(exc))
    if as_json:
        print_json({"ok": True, "files": [r.to_dict() for r in reports]})
        return
    t = Table(title="导入完成 import done")
    t.add_column("文件 file")
    t.add_column("表 tables")
    t.add_column("行 rows", justify="right")
    for r in reports:
        t.add_row(r.file, ", ".join(f"{k}={v}" for k, v in r.tables.items()), str(r.rows))
    console.print(t)


@app.command("list")
def list_cmd(
    table: str = typer.Option("instruments", "--table", "-t", help=f"表 one of {', '.join(TABLES)}"),
    limit: int = typer.Option(50, help="最多显示行数 rows to show (0 = all)"),
    db: str | None = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """列出登记记录 List registry records (the centre's view: every organisation)."""
    from carbonmet.services import registry_table

    if table not in TABLES:
        fail(f"未知表 unknown table {table!r}; choose from {', '.join(TABLES)}")
    cols, rows = use_case(db, None, registry_table, table, code=1)
    shown = rows if limit == 0 else rows[:limit]
    if as_json:
        print_json([{c: (v.isoformat() if isinstance(v, date) else v) for c, v in zip(cols, r, strict=True)}
                    for r in shown])
        return
    t = Table(title=f"{table} ({len(rows)})")
    for c in cols:
        t.add_column(c, overflow="fold")
    for r in shown:
        t.add_row(*["" if v is None else str(v) for v in r])
    console.print(t)


_STATUS_ZH = {"failed": "不合格", "never_calibrated": "未检定/校准", "overdue": "超期", "due": "即将到期", "ok": "有效"}


@app.command("due")
def due_cmd(
    within: str = typer.Option("30d", "--within", help="到期期限 horizon, e.g. 30d, 8w, 3m"),
    today: str | None = typer.Option(None, help="基准日期 reference date (default: today), YYYY-MM-DD"),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """待检/超期器具 Instruments due or overdue for verification/calibration."""
    from carbonmet.services import due_items

    ref = parse_date(today, "--today") if today else date.today()
    days = parse_days(within)
    with workspace(db) as ws:
        items = due_items(ws, scope(org), ref, days)
    if as_json:
        print_json([i.to_dict() for i in items])
        return
    t = Table(title=f"到期清单 due list — {ref.isoformat()} + {within}")
    for c in ("器具 instrument", "出厂编号 serial", "类型 type", "单位 org", "计量点 point", "最近证书 last cert",
              "到期 due", "状态 status"):
        t.add_column(c)
    for i in items:
        style = {"failed": "red", "overdue": "red", "never_calibrated": "magenta", "due": "yellow"}.get(i.status, "")
        t.add_row(i.instrument, i.serial, i.type, i.org, i.point or "", i.last_certificate or "",
                  i.due.isoformat() if i.due else "", f"[{style}]{_STATUS_ZH[i.status]} {i.status}[/]")
    console.print(t)
    for i in items:
        if i.reason:
            console.print(f"  {i.instrument}: {i.reason}")
        for f in i.signature_flags:
            console.print(escape(f"  ⚠ {i.instrument}: {f}"), style="red", soft_wrap=True)
    console.print(f"共 {len(items)} 台 / {len(items)} instrument(s)")


@app.command("trace-back")
def trace_back_cmd(
    standard: str = typer.Argument(..., help="超差的计量标准编号 standard found out of tolerance"),
    date_from: str = typer.Option(..., "--from", help="最后一次确认合格日期 last known good, YYYY-MM-DD"),
    date_to: str = typer.Option(..., "--to", help="发现超差日期 found out of tolerance, YYYY-MM-DD"),
    depth: int = typer.Option(25, help="最大追溯层级 levels to follow"),
    record: bool = typer.Option(False, help="同时登记超差事件 also record the incident in the registry"),
    year: int | None = typer.Option(None, "--year", help="追溯到该年度核算 also list the affected accounts of this year"),
    error: float = typer.Option(1.0, "--error", help="标准的示值误差 [%] the standard's as-found error, for --year"),
    store: Path | None = typer.Option(None, "--store", help="数据存储目录 readings store (for --year)"),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """超差反向追溯 Reverse traceability: certificates, instruments, data periods — and, with --year, tonnes."""
    from carbonmet.services import CarbonmetError, record_incident, trace_accounts, trace_standard

    d0, d1 = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    if d1 < d0:
        raise typer.BadParameter("--to 早于 --from: the date found out of tolerance is before the last good date",
                                 param_hint="--to")
    acc: dict | None = None
    try:
        with workspace(db, store) as ws:
            if record:  # the standard's holder must be in the scope's write scope
                record_incident(ws, scope(org), standard, d0, d1, "recorded by trace-back")
            r = trace_standard(ws, scope(org), standard, d0, d1, max_depth=depth)
            if year is not None:
                acc = trace_accounts(ws, scope(org), standard, d0, d1, year, error / 100.0, max_depth=depth)
    except CarbonmetError as exc:
        fail(str(exc))
    if as_json:
        print_json(r.to_dict() if acc is None else acc)
        return
    t = Table(title=f"受影响证书 affected certificates — {standard} {d0}…{d1}")
    for c in ("层级 depth", "证书 certificate", "对象 subject", "日期 date", "经由 via"):
        t.add_column(c)
    for ac in r.certificates:
        t.add_row(str(ac.depth), ac.cert_no, f"{ac.subject} ({ac.subject_kind})", ac.calibration_date.isoformat(),
                  ac.via_standard)
    console.print(t)
    t2 = Table(title="受影响数据期间 affected data periods")
    for c in ("计量点 point", "器具 instrument", "自 from", "至 to", "证书 certificate"):
        t2.add_column(c)
    for p in r.data_periods:
        t2.add_row(p.point, p.instrument, p.start.isoformat(), p.end.isoformat() if p.end else "至今 until now",
                   p.certificate)
    console.print(t2)
    if acc is not None:
        t3 = Table(title=f"受影响核算 affected accounts {year} (标准误差 error {error:g} %)")
        for c in ("企业 enterprise", "源流 stream", "器具 instrument", "受影响 t", "值变化 t", "u 前 before", "u 后 after",
                  "总 u 前", "总 u 后"):
            t3.add_column(c)
        for a in acc["accounts"]:
            t3.add_row(a["enterprise"], a["stream"], a["instrument"], f"{a['affected_t']:,.0f}",
                       f"{a['value_move_t']:+,.0f}", f"{a['stream_u_before_t']:,.0f}", f"{a['stream_u_after_t']:,.0f}",
                       f"{a['total_u_before_t']:,.0f}", f"{a['total_u_after_t']:,.0f}")
        console.print(t3)
        for n in acc["not_accounted"]:
            console.print(f"  {n['point']} ({n['instrument']}): {n['reason']}")
    if r.max_depth_reached:
        console.print("[yellow]已达最大层级 max depth reached: raise --depth[/]")


@app.command("coverage")
def coverage_cmd(
    point: str = typer.Argument(..., help="计量点 point id"),
    start: str = typer.Option(..., "--from", help="YYYY-MM-DD"),
    end: str = typer.Option(..., "--to", help="YYYY-MM-DD (exclusive)"),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """数据期间是否有有效证书覆盖 Is a point's data period covered by valid certificates?"""
    from carbonmet.services import point_coverage

    d0, d1 = parse_date(start, "--from"), parse_date(end, "--to")
    cov = use_case(db, org, point_coverage, point, d0, d1, code=1)
    if as_json:
        print_json(cov.to_dict())
        return
    mark = "[green]已覆盖 covered[/]" if cov.covered else "[red]存在未覆盖期间 not covered[/]"
    console.print(f"{point} {start}…{end}: {mark}; 证书 certificates: {', '.join(cov.certificates) or '—'}")
    for g in cov.gaps:
        console.print(f"  缺口 gap: {g.start} … {g.end}")
    for n in cov.notes:
        console.print(f"  未计入 not counted: {n}")
    for f in cov.signature_flags:
        console.print(escape(f"  ⚠ {f}"), style="red", soft_wrap=True)


@app.command("export")
def export_cmd(
    out: Path = typer.Argument(..., help="输出 XLSX 文件 output workbook"),
    db: str | None = DbOpt,
) -> None:
    """导出台账 Export every table to one XLSX workbook (re-importable)."""
    from carbonmet.services import export_registry

    counts = use_case(db, None, export_registry, out, code=1)
    console.print(f"已导出 exported {out}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


_FINDING = {
    "changed": "改动未经审计 changed outside the services",
    "unlogged": "无审计记录 row without any audit entry",
    "missing": "记录已被删除 deleted though the log says it exists",
    "unreadable": "日志内容无法解析 audit entry unreadable",
}


def _short(value: Any) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


KeyOpt = typer.Option(None, "--key", help="审计密钥文件 audit key file (default: $CARBONMET_AUDIT_KEY)")


def _audit_workspace(db: str | None, key: Path | None) -> Any:
    ws = workspace(db)
    if key is not None:
        ws.audit_key = key
    return ws


@audit_app.command("keygen")
def audit_keygen_cmd(
    path: Path | None = typer.Argument(None, help="私钥文件 private key file (default: $CARBONMET_AUDIT_KEY)"),
) -> None:
    """生成审计签名密钥 Create the operator's Ed25519 key that signs the audit chain's head (never overwrites).

    Writes PATH (private, mode 0600: keep it away from the database host's other users) and PATH.pub
    (public: give it to whoever verifies). Then set CARBONMET_AUDIT_KEY=PATH.
    """
    from carbonmet.db import AuditKeyError, Settings, generate_key
    from carbonmet.db.audit import key_id

    target = path if path is not None else Settings().audit_key
    if target is None:
        fail("请给出密钥文件路径 give the key file path (or set CARBONMET_AUDIT_KEY)", 2)
    try:
        pub = generate_key(target)
    except AuditKeyError as exc:
        fail(str(exc), 2)
    except OSError as exc:
        fail(f"无法写入 cannot write {target}: {exc.strerror or exc}", 2)
    console.print(f"[green]已生成审计密钥 audit key created[/]: {target} (公钥 public {target}.pub, "
                  f"key id {key_id(pub)})\n请设置 set CARBONMET_AUDIT_KEY={target}")


@audit_app.command("sign")
def audit_sign_cmd(key: Path | None = KeyOpt, db: str | None = DbOpt, as_json: bool = JsonOpt) -> None:
    """签署当前链头 Sign the audit chain's current head (for a log written before the key was set; verify first)."""
    from carbonmet.services import CarbonmetError, sign_audit_head

    try:
        with _audit_workspace(db, key) as ws:
            doc = sign_audit_head(ws, scope())
    except CarbonmetError as exc:
        fail(str(exc), 2)
    if as_json:
        print_json(doc)
        return
    console.print(f"已签署链头 signed head #{doc['seq']} {doc['head_hash']}")


@audit_app.command("export-head")
def audit_export_head_cmd(
    out: Path = typer.Argument(..., dir_okay=False, help="输出文件 signed head file (JSON) to write"),
    key: Path | None = KeyOpt,
    db: str | None = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """导出签名链头 Write the last signed head to a small file for a regulator to keep outside the database.

    Later, `carbonmet audit verify --signed-head FILE` finds entries appended, removed or rewritten since.
    """
    from carbonmet.services import CarbonmetError, export_audit_head

    try:
        with _audit_workspace(db, key) as ws:
            doc = export_audit_head(ws, scope(), out)
    except CarbonmetError as exc:
        fail(str(exc), 2)
    if as_json:
        print_json(doc)
        return
    console.print(f"已导出签名链头 exported signed head #{doc['seq']} {doc['head_hash']} → {out}")


@audit_app.command("verify")
def audit_verify_cmd(
    expected_head: str | None = typer.Option(None, help="此前记录的链头哈希 head hash recorded earlier"),
    signed_head: Path | None = typer.Option(
        None, "--signed-head", dir_okay=False, help="此前导出的签名链头文件 signed head file exported earlier"
    ),
    key: Path | None = KeyOpt,
    chain_only: bool = typer.Option(False, "--chain-only", help="只校验哈希链，不对账 verify the chain only"),
    limit: int = typer.Option(50, help="最多列出的不符项 discrepancies to list (0 = all; --json lists all)"),
    db: str | None = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """校验审计链并对账 Verify the audit log's hash chain and reconcile the tables with it (exit 1 if either fails).

    对账：把日志重放到每条记录最后登记的状态，与当前表中的行逐字段比较，找出绕过服务直接改库的行。
    Reconciliation replays the log to each record's last logged state and compares it field by field with
    the current row: changes made with raw SQL, bypassing the audited services, are found.
    """
    from carbonmet.services import CarbonmetError, verify_audit_log

    try:
        with _audit_workspace(db, key) as ws:
            doc = verify_audit_log(ws, scope(), expected_head, chain_only=chain_only, signed_head=signed_head)
    except CarbonmetError as exc:
        fail(str(exc), 2)
    ok = bool(doc["ok"])
    if as_json:
        print_json(doc)
        if not ok:
            raise typer.Exit(1)
        return
    rec = doc.get("reconcile")
    if doc["chain_ok"]:
        console.print(f"[green]审计链完整 audit chain intact[/]: {doc['entries']} 条 entries, head {doc['head_hash']}\n"
                      "（校验的是日志本身未被改动；请保存链头哈希，下次用 --expected-head 核对 / this proves the log "
                      "itself was not altered; keep the head hash and pass it as --expected-head next time）")
    else:
        console.print(f"[red]审计链被篡改 audit chain BROKEN[/] at entry {doc['first_bad_seq']}: {doc['reason']}")
    sig = doc["signatures"]
    if not sig["checked"]:
        console.print("[yellow]未校验签名 signatures not checked[/]: 没有审计密钥或签名链头文件 no audit key "
                      "(CARBONMET_AUDIT_KEY / --key) and no --signed-head")
    elif sig["ok"]:
        console.print(f"[green]链头签名有效 signed heads valid[/]: {sig['signatures']} 个签名 signatures, "
                      f"最后签名 last signed #{sig['last_signed_seq']} (key {sig['key_id'][:16]}…)")
    else:
        console.print("[red]链头签名校验失败 signed heads do NOT verify[/]:")
        for p in sig["problems"]:
            console.print(escape(f"  {p}"), soft_wrap=True)
    if rec is not None:
        rows = sum(rec["rows"].values())
        found = rec["discrepancies"]
        if rec["ok"]:
            console.print(f"[green]登记表与审计日志一致 registry matches the audit log[/]: 已对账 {rows} 行 rows "
                          f"in {len(rec['rows'])} 张表 tables")
        else:
            counts = ", ".join(f"{_FINDING[k]}: {n}" for k, n in rec["counts"].items())
            console.print(f"[red]登记表与审计日志不符 registry differs from the audit log[/]: "
                          f"{len(found)} 处 findings ({counts})")
            shown = found if limit == 0 else found[:limit]
            for d in shown:
                where = f"{d['table']} {d['key']}" + (f" 字段 field {d['field']}" if d["field"] else "")
                line = f"  {_FINDING[d['kind']]}: {where}"
                if d["kind"] == "changed":
                    line += f": 日志 logged {_short(d['logged'])} → 当前 current {_short(d['current'])}"
                if d["seq"] is not None:
                    line += f" (日志条目 entry #{d['seq']})"
                console.print(escape(line), soft_wrap=True)
            if len(shown) < len(found):
                console.print(f"另有 {len(found) - len(shown)} 处未列出 / {len(found) - len(shown)} "
                              "more not listed (--limit 0 or --json for all)")
        for entity, n in rec["unchecked"].items():
            console.print(f"[yellow]未对账 not reconciled[/]: {entity} ({n} 条 entries; 本版本不认识此类记录 "
                          "this version does not know this kind)")
    if not ok:
        raise typer.Exit(1)


dcc_app = typer.Typer(help="数字校准证书 Digital Calibration Certificates (PTB DCC XML)", no_args_is_help=True)


@dcc_app.command("import")
def dcc_import_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="DCC XML 文件"),
    instrument: str | None = typer.Option(None, help="被校器具编号/出厂编号 instrument (default: from the item's ids)"),
    issuer: str | None = typer.Option(None, help="出具单位代码 issuing organisation (default: from the lab)"),
    accept_invalid_signature: str | None = typer.Option(
        None, "--accept-invalid-signature", metavar="REASON",
        help="签名校验未通过（无效/签名人不受信任/已吊销）仍接受，须写明理由；将被审计并持续标记 / accept a DCC whose "
             "signature check failed, with the reason (audited; the certificate stays flagged)"),
    actor: str = typer.Option("cli", help="操作人 who is importing (audit log)"),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """导入 DCC 校准证书 Import a DCC XML file as a calibration certificate.

    XML 签名按 CARBONMET_DCC_TRUST_DIR 中的 CA 证书与吊销列表校验 / the XML signature is checked against the CA
    certificates and revocation lists in CARBONMET_DCC_TRUST_DIR; a failed check refuses the import unless
    --accept-invalid-signature gives a reason.
    """
    from carbonmet.services import CarbonmetError, import_dcc_certificate

    try:
        with workspace(db) as ws:
            out: dict[str, Any] = import_dcc_certificate(ws, scope(org, actor), file.read_bytes(),
                                                         instrument=instrument, issuer=issuer,
                                                         accept_invalid_signature=accept_invalid_signature)
    except CarbonmetError as exc:
        fail(f"{file}: {exc}")
    standards = out["standards"]
    notes = [n for n in out["notes"] if not n.startswith("not read: ")]
    if as_json:
        print_json(out)
        return
    console.print(escape(f"已导入 imported {out['cert_no']} → {out['instrument']} ({out['calibration_date']}), "
                         f"U={out['U']} {out['unit_display']} k={out['k']}, {out['results']} 个校准点 points, "
                         f"标准 standards: {', '.join(standards) or '—'}"), soft_wrap=True)
    sig = out["signature"] or {}
    colour = {"valid": "green", "unsigned": "yellow"}.get(sig.get("status", ""), "red")
    console.print(f"[{colour}]签名 signature: {sig.get('status')}[/] — " + escape(sig.get("reason") or ""),
                  soft_wrap=True)
    if sig.get("flag"):
        console.print(escape(f"⚠ {sig['flag']}"), style="red", soft_wrap=True)
    for n in notes:
        console.print(escape(f"注意 note: {n}"), style="yellow", soft_wrap=True)
    if out["not_read"]:
        console.print(f"未读取 {len(out['not_read'])} 处 / {len(out['not_read'])} element(s) not read:")
        for n in out["not_read"]:
            console.print(escape(f"  {n}"), soft_wrap=True)


@dcc_app.command("recheck")
def dcc_recheck_cmd(
    actor: str = typer.Option("cli", help="操作人 who re-checks (audit log)"),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """复核已导入 DCC 的签名 Check the signatures of stored DCCs again (after a CRL or trust anchor update).

    签名人证书此后被吊销的证书改为 signer_revoked 并持续标记（审计）/ a signer revoked since import turns the
    certificate signer_revoked, flagged from then on (audited).
    """
    from carbonmet.services import recheck_dcc_signatures

    rows = use_case(db, scope(org, actor), recheck_dcc_signatures, code=1)
    if as_json:
        print_json(rows)
        return
    changed = [r for r in rows if r["changed"]]
    for r in changed:
        console.print(escape(f"{r['cert_no']}: {r['before']} → {r['status']}"), style="red" if r["flag"] else "green")
    console.print(f"已复核 {len(rows)} 份 DCC，{len(changed)} 份状态改变 / {len(rows)} DCC(s) re-checked, "
                  f"{len(changed)} changed")


@dcc_app.command("export")
def dcc_export_cmd(
    cert_no: str = typer.Argument(..., help="证书编号 certificate number"),
    out: Path | None = typer.Option(None, "--out", "-o", help="输出文件 output file (default: stdout)"),
    signer: str | None = typer.Option(None, help="签发人 name of the signatory to write"),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
) -> None:
    """导出 DCC Export a calibration certificate as DCC XML."""
    from carbonmet.services import export_dcc_certificate

    xml = use_case(db, org, export_dcc_certificate, cert_no, signer=signer, code=1)
    if out is None:
        import sys

        sys.stdout.buffer.write(xml)
    else:
        out.write_bytes(xml)
        console.print(f"已导出 exported {cert_no} → {out} ({len(xml)} bytes)")


certificates_app = typer.Typer(help="证书 certificates (检定/校准证书)", no_args_is_help=True)


@certificates_app.command("move")
def certificates_move_cmd(
    cert_no: str = typer.Argument(..., help="证书编号 certificate number"),
    to: str = typer.Option(..., "--to", help="目标器具编号/出厂编号 instrument to move it to"),
    reason: str = typer.Option(..., "--reason", help="理由（写入审计日志）why (kept in the audit log)"),
    actor: str = typer.Option("cli", help="操作人 who moves it (audit log)"),
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """证书改挂到另一器具 Move a certificate to another instrument (audited, with the reason).

    重新导入不会改变证书所属器具；登记错了器具时用本命令 / a re-import never changes the instrument a certificate
    belongs to; use this when it was registered against the wrong instrument.
    """
    from carbonmet.services import move_certificate

    out = use_case(db, scope(org, actor), move_certificate, cert_no, to, reason, code=1)
    if as_json:
        print_json(out)
        return
    console.print(escape(f"已改挂 moved {out['cert_no']}: {out['from']} → {out['to']} (理由 reason: {out['reason']})"),
                  soft_wrap=True)
