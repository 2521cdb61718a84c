"""``carbonmet findings …`` — stored review/verification runs and their findings (审查/核查记录与发现闭环).

Thin: parse, call :mod:`carbonmet.services`, render. Runs are stored by ``carbonmet review … --record`` and
``carbonmet verify … --record``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._common import DbOpt, OrgOpt, console, print_json, use_case

if TYPE_CHECKING:
    from carbonmet.review.runs import RunDiff, RunRecord

app = typer.Typer(help="审查/核查发现 Findings of stored review and verification runs: list, acknowledge, close, "
                       "diff, runs, verified account.", no_args_is_help=True)

_STATUS_STYLE = {"open": "red", "reopened": "bold red", "acknowledged": "yellow", "closed": "cyan",
                 "fixed": "green"}
_SEV_STYLE = {"critical": "bold red", "major": "red", "minor": "yellow", "info": "cyan"}
AsJson = Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable JSON")]
Kind = Annotated[str, typer.Option("--kind", help="review（计量审查）| verify（碳核查）")]


def register(app_: typer.Typer) -> None:
    """Add ``findings`` to the ``carbonmet`` command."""
    app_.add_typer(app, name="findings")


def print_run(run: RunRecord, diff: RunDiff | None = None) -> None:
    """One stored run: its header, the diff against the series before it and its findings by change."""
    what = f"审查日 review date {run.on.isoformat()}" if run.on else f"核查年度 year {run.year}"
    console.print(f"[bold]已保存 stored run {run.run_key}[/] (id {run.id}) · {run.enterprise} · {what} · "
                  f"{run.actor} {run.created_at[:19]} · 方案 profile {run.profile} ({run.profile_version})",
                  highlight=False)
    for f in run.rule_files:
        console.print(f"  规则文件 rule file {f['file']} sha256 {f['sha256'][:16]}…", highlight=False)
    d = run.diff_counts
    console.print(f"  与上次比较 against {run.previous_run_key or '— (first run)'}: 新增 new {d.get('new', 0)} · "
                  f"持续 persisting {d.get('persisting', 0)} · 复现 reopened {d.get('reopened', 0)} · "
                  f"已整改 fixed {d.get('fixed', 0)}"
                  + (f" · 未检查 not checked {d['not_checked']}" if d.get("not_checked") else ""), highlight=False)
    if diff is None:
        return
    for label, rows in (("复现 reopened", diff.reopened), ("新增 new", diff.new), ("持续 persisting", diff.persisting)):
        for x in rows:
            style = _SEV_STYLE.get(x["severity"], "")
            subject = x["instrument"] or f"{x['stream']} {x['period']}".strip()
            console.print(f"  {label:16} [{style}]{x['severity']:8}[/] #{x['finding_id']:<5} {x['rule_id']:11} "
                          f"{subject}", highlight=False)
            console.print(f"                   {x['message']}", highlight=False)
    for x in diff.fixed:
        console.print(f"  [green]已整改 fixed[/]    #{x['id']:<5} {x['rule_id']:11} {x['subject']} {x['period']} — "
                      f"{x['note']}", highlight=False)


@app.command("list")
def list_cmd(
    enterprise: Annotated[str | None, typer.Option("--enterprise", help="企业 organisation code")] = None,
    status: Annotated[str | None, typer.Option("--status",
                                               help="open | acknowledged | closed | fixed | reopened")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="review | verify")] = None,
    history: Annotated[bool, typer.Option("--history", help="含处理记录 with each finding's events")] = False,
    as_json: AsJson = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """发现清单 Tracked findings (filter by enterprise, status, kind)."""
    from ..services import list_findings

    rows = use_case(db, org, list_findings, enterprise, status, kind, history=history)
    if as_json:
        print_json(rows)
        return
    console.print(f"发现 findings: {len(rows)}")
    for f in rows:
        st = _STATUS_STYLE.get(f["status"], "")
        console.print(f"#{f['id']:<5} [{st}]{f['status']:12}[/] {f['enterprise']:6} {f['kind']:6} "
                      f"{f['severity']:8} {f['rule_id']:11} {f['subject']} {f['period']}  "
                      f"(first {f['first_run']}, last {f['last_run']})", highlight=False)
        console.print(f"       {f['message']}", highlight=False)
        if f["closed_at"]:
            console.print(f"       关闭 closed {f['closed_at'][:19]} by {f['closed_by']}: {f['closure_evidence']}"
                          + (f" [{f['closure_reference']}]" if f["closure_reference"] else ""), highlight=False)
        for e in f.get("events", []):
            console.print(f"       · {e['at'][:19]} {e['actor']} {e['action']} {e['note'] or ''}"
                          + (f" evidence: {e['evidence']}" if e["evidence"] else "")
                          + (f" [{e['reference']}]" if e["reference"] else ""), highlight=False)


@app.command("ack")
def ack_cmd(
    finding_id: Annotated[str, typer.Argument(help="发现编号 finding id (as listed)")],
    note: Annotated[str, typer.Option("--note", help="说明 note")] = "",
    as_json: AsJson = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """确认发现 Acknowledge a finding (open or reopened → acknowledged)."""
    from ..services import acknowledge_finding

    f = use_case(db, org, acknowledge_finding, finding_id, note)
    if as_json:
        print_json(f)
        return
    console.print(f"#{f['id']} {f['status']} · {f['acknowledged_by']} {f['acknowledged_at'][:19]}", highlight=False)


@app.command("close")
def close_cmd(
    finding_id: Annotated[str, typer.Argument(help="发现编号 finding id (as listed)")],
    evidence: Annotated[str, typer.Option("--evidence", help="整改证据 what was done (required)")],
    reference: Annotated[str | None, typer.Option(
        "--reference", help="凭证编号 new certificate no., replacing instrument code or corrected record id")] = None,
    as_json: AsJson = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """关闭发现 Close a finding with evidence (the centre or the enterprise's verifier); the next run confirms it."""
    from ..services import close_finding

    f = use_case(db, org, close_finding, finding_id, evidence, reference)
    if as_json:
        print_json(f)
        return
    console.print(f"#{f['id']} {f['status']} · {f['closed_by']} {f['closed_at'][:19]} · {f['closure_evidence']}"
                  + (f" [{f['closure_reference']}]" if f["closure_reference"] else ""), highlight=False)


@app.command("diff")
def diff_cmd(
    enterprise: Annotated[str, typer.Argument(help="企业 organisation code")],
    kind: Kind = "review",
    year: Annotated[int | None, typer.Option("--year", help="核查年度 (verify) year")] = None,
    run_id: Annotated[int | None, typer.Option("--run", help="运行编号 run id (default: the newest)")] = None,
    as_json: AsJson = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """与上次比较 A stored run against the run before it: new, persisting, reopened, fixed."""
    from ..services import run_diff

    d = use_case(db, org, run_diff, enterprise, kind, run_id=run_id, year=year)
    if as_json:
        print_json(d.to_dict())
        return
    print_run(d.run, d)


@app.command("runs")
def runs_cmd(
    enterprise: Annotated[str | None, typer.Option("--enterprise", help="企业 organisation code")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="review | verify")] = None,
    as_json: AsJson = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """运行记录 Stored review and verification runs."""
    from ..services import list_runs

    runs = use_case(db, org, list_runs, enterprise, kind)
    if as_json:
        print_json([r.to_dict() for r in runs])
        return
    for r in runs:
        d = r.diff_counts
        console.print(f"{r.id:<5} {r.run_key:24} {r.on.isoformat() if r.on else r.year!s:10} {r.actor:14} "
                      f"{r.created_at[:19]} {r.profile}({r.profile_version}) findings {r.findings} · new "
                      f"{d.get('new', 0)} persisting {d.get('persisting', 0)} reopened {d.get('reopened', 0)} "
                      f"fixed {d.get('fixed', 0)}", highlight=False)


def _num(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.1f}"


@app.command("account")
def account_cmd(
    enterprise: Annotated[str, typer.Argument(help="企业 organisation code")],
    year: Annotated[int, typer.Option("--year", help="核查年度 year")],
    as_json: AsJson = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """核查后排放量 The verified account of an enterprise-year (its newest stored verification run)."""
    from ..services import verified_account

    acc = use_case(db, org, verified_account, enterprise, year)
    d: dict[str, Any] = acc.to_dict()
    if as_json:
        print_json(d)
        return
    console.print(f"[bold]{acc.enterprise} {acc.year}[/] · 核查记录 run {acc.run_key} · {acc.verified_by} "
                  f"{acc.verified_at[:19]} · 报告 report {acc.report_file}", highlight=False)
    for v in [*acc.streams, *([acc.total] if acc.total else [])]:
        console.print(f"  {v.stream:22} reported {_num(v.reported_tco2):>14} verified {_num(v.verified_tco2):>14} "
                      f"diff {_num(v.difference_tco2):>12} U {_num(v.U_tco2):>10} materiality "
                      f"{_num(v.materiality_tco2):>12} {v.verdict}", highlight=False)
