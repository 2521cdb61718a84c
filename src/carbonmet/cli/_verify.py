"""``carbonmet verify …`` and ``carbonmet validate verify`` — verification (碳核查) of a reported account.

Thin: parse, call :mod:`carbonmet.services`, render.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from ._common import (
    AsJson,
    DbOpt,
    Enterprises,
    OrgOpt,
    OutJson,
    Runs,
    Seed,
    console,
    fail,
    print_json,
    print_seed_scores,
    run_validation,
    scope,
    use_case,
    workspace,
)

_SEV_STYLE = {"critical": "bold red", "major": "red", "minor": "yellow", "info": "cyan"}
_VERDICT = {"pass": "合格 pass", "fail": "实质性错报 material", "inconclusive": "待定 inconclusive"}


def register(app_: typer.Typer, validate_app: typer.Typer) -> None:
    """Add ``verify`` to the ``carbonmet`` command and ``verify`` to ``validate``."""
    app_.command("verify")(verify_cmd)
    validate_app.command("verify")(validate_verify_cmd)


def _num(x: float | None, nd: int = 1) -> str:
    return "—" if x is None or math.isnan(x) else f"{x:,.{nd}f}"


def verify_cmd(
    enterprise: Annotated[str, typer.Argument(help="企业 organisation code, e.g. E01")],
    year: Annotated[int, typer.Option("--year", help="核查年度 reporting year")],
    report: Annotated[Path, typer.Option("--report", exists=True, dir_okay=False,
                                         help="企业排放报告 the enterprise's report (CSV/XLSX, docs/formats/report.md)")],
    profile: Annotated[str, typer.Option("--profile", help="核查方案 verification rule set")] = "cn_ets",
    local_rules: Annotated[Path | None, typer.Option("--rules", exists=True,
                                                     help="本地规则集 local rule set (directory or CSV file)")] = None,
    store: Annotated[Path | None, typer.Option("--store", help="数据存储目录 readings store directory")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable JSON")] = False,
    record: Annotated[bool, typer.Option(
        "--record", help="保存核查记录 store the run, its findings and the verified account (the centre / a "
                         "verifier)")] = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """碳核查 Verify an enterprise's reported account against the platform's meters, lab results and plan
    (``--record``: store the run, its findings and the verified account; see ``carbonmet findings``)."""
    from ..services import CarbonmetError, run_diff, run_verify, verified_account, verify_enterprise

    if record:
        from ._findings import print_run

        try:
            with workspace(db, store) as ws:
                run = run_verify(ws, scope(org), enterprise, year, report, profile=profile, local_rules=local_rules)
                diff = run_diff(ws, scope(org), enterprise, "verify", run_id=run.id)
                acc = verified_account(ws, scope(org), enterprise, year)
        except CarbonmetError as exc:
            fail(str(exc), 2)
        if as_json:
            print_json({**diff.to_dict(), "verified_account": acc.to_dict()})
            return
        print_run(run, diff)
        console.print("[bold]核查后排放量 verified account[/] (tCO2)")
        for v in [*acc.streams, *([acc.total] if acc.total else [])]:
            console.print(f"  {v.stream:22} {_num(v.reported_tco2):>14} {_num(v.verified_tco2):>14} "
                          f"{_num(v.difference_tco2):>12} {_num(v.difference_pct, 3):>8} {_num(v.U_tco2):>10} "
                          f"{_num(v.materiality_tco2):>12}  {_VERDICT.get(v.verdict, v.verdict)}", highlight=False)
        return
    res = use_case(db, org, verify_enterprise, enterprise, year, report, profile=profile, local_rules=local_rules, store=store)
    if as_json:
        print_json(res.to_dict())
        return
    m = res.materiality
    console.print(f"[bold]{res.enterprise}[/] {res.year} · 报告 report {res.report_file} · 方案 profile {res.profile} "
                  f"({res.profile_version}) · 实质性 materiality total {m['total_pct']:g} %, stream "
                  f"{m['stream_pct']:g} %", highlight=False)
    console.print("[bold]抽样计划 sampling plan[/]")
    for s in res.sampling:
        months = ", ".join(x[5:] for x in s.get("months", []))
        console.print(f"  {s['stream']:22} {months:40} {s['reason']}", highlight=False)
    console.print("[bold]核查后排放量 verified account[/] (tCO2)")
    console.print(f"  {'stream':22} {'reported':>14} {'verified':>14} {'difference':>12} {'%':>8} {'U':>10} "
                  f"{'materiality':>12}  verdict", highlight=False)
    for v in [*res.streams, *([res.total] if res.total else [])]:
        console.print(f"  {v.stream:22} {_num(v.reported_tco2):>14} {_num(v.verified_tco2):>14} "
                      f"{_num(v.difference_tco2):>12} {_num(v.difference_pct, 3):>8} {_num(v.U_tco2):>10} "
                      f"{_num(v.materiality_tco2):>12}  {_VERDICT.get(v.verdict, v.verdict)}", highlight=False)
    counts = res.counts()
    console.print(f"[bold]发现 findings[/] {len(res.findings)} " + " ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for f in res.findings:
        style = _SEV_STYLE.get(f.severity, "")
        console.print(f"[{style}]{f.severity:8}[/] {f.rule_id:10} {f.stream:20} {f.period or '—':8} {f.evidence}",
                      highlight=False)
        console.print(f"         {f.message}", highlight=False)
        console.print(f"         依据 basis: {f.clause} [{f.evidence_mark}] · 建议 recommendation: {f.recommendation}",
                      highlight=False)


def validate_verify_cmd(runs: Runs = 1, enterprises: Enterprises = 12, seed: Seed = 7,
                        profile: Annotated[str, typer.Option("--profile", help="核查方案 verification rule set")] = "cn_ets",
                        out: OutJson = None, as_json: AsJson = False) -> None:
    """核查查准率与查全率 Precision and recall of the verification against the misstatements injected into
    generated regions' reports (manifest.json)."""
    from ..services import Scope, validate_verify

    got = run_validation("生成并核查 generate and verify", lambda ws, progress: validate_verify(
        ws, Scope.nobody(), runs, enterprises=enterprises, seed=seed, profile=profile), runs, out, as_json)
    if got is None:
        return
    v, _ = got
    print_seed_scores(v.seeds)
    console.print(f"合计 overall: precision {v.precision:.3f}, recall {v.recall:.3f}; 无错报企业 clean enterprises "
                  f"{v.clean_enterprises}, 其中被标记 flagged {v.clean_flagged}", highlight=False)
    for f in v.false_positives:
        console.print(f"[yellow]误报 false positive[/] seed {f['seed']} {f['enterprise']} {f['check']} {f['stream']} "
                      f"{f['month']}", highlight=False)
    for f in v.missed:
        console.print(f"[red]漏报 missed[/] seed {f['seed']} {f['enterprise']} {f['check']} {f['stream']} {f['month']}",
                      highlight=False)
