"""``carbonmet review …`` and ``carbonmet validate review`` — metrology review (碳计量审查).

``carbonmet review ENTERPRISE --date D`` reviews one enterprise; ``carbonmet review campaign --enterprises all
--date D`` runs a campaign over many. ``review`` is a group whose first argument, when it is not one of its
commands, is the enterprise of the one-enterprise review (so both forms work).

Thin: parse, call :mod:`carbonmet.services`, render.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

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
#: the command ``carbonmet review X …`` runs when X is not a command of the group (an enterprise code)
DEFAULT_COMMAND = "enterprise"


class _ReviewGroup(TyperGroup):
    """A group whose first argument falls back to :data:`DEFAULT_COMMAND` when it names no command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(cls=_ReviewGroup, no_args_is_help=True,
                  help="计量审查 metrology review: `carbonmet review ENTERPRISE --date D` (one enterprise) or "
                       "`carbonmet review campaign --enterprises all --date D` (many)")


def register(app_: typer.Typer, validate_app: typer.Typer) -> None:
    """Add ``review`` (one enterprise, ``campaign``) to the ``carbonmet`` command and ``review`` to ``validate``."""
    app.command(DEFAULT_COMMAND)(review_cmd)
    app.command("campaign")(campaign_cmd)
    app_.add_typer(app, name="review")
    validate_app.command("review")(validate_review_cmd)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--date 须为 YYYY-MM-DD / --date must be YYYY-MM-DD, got {text!r}", 2)


def review_cmd(
    enterprise: Annotated[str, typer.Argument(help="企业 organisation code, e.g. E01")],
    on: Annotated[str, typer.Option("--date", help="审查日期 review date YYYY-MM-DD")],
    profile: Annotated[str, typer.Option("--profile", help="审查方案 review profile")] = "gb17167_ccm",
    local_rules: Annotated[Path | None, typer.Option("--rules", exists=True,
                                                     help="本地规则集 local rule set (directory or CSV file)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable JSON")] = False,
    record: Annotated[bool, typer.Option(
        "--record", help="保存审查记录 store the run and track its findings (the centre / a verifier)")] = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """计量审查 Review an enterprise's in-service instruments on a date against a rule profile (``--record``: store
    the run, its findings and their lifecycle; see ``carbonmet findings``)."""
    from ..services import CarbonmetError, review_enterprise, run_diff, run_review

    day = _date(on)
    if record:
        from ._findings import print_run

        try:
            with workspace(db) as ws:
                run = run_review(ws, scope(org), enterprise, day, profile=profile, local_rules=local_rules)
                diff = run_diff(ws, scope(org), enterprise, "review", run_id=run.id)
        except CarbonmetError as exc:
            fail(str(exc), 2)
        if as_json:
            print_json(diff.to_dict())
        else:
            print_run(run, diff)
        return
    res = use_case(db, org, review_enterprise, enterprise, day, profile=profile, local_rules=local_rules)
    if as_json:
        print_json(res.to_dict())
        return
    counts = res.counts()
    console.print(f"[bold]{res.enterprise}[/] 审查日 review date {res.on.isoformat()} · 方案 profile {res.profile} "
                  f"({res.profile_version}) · 在用器具 instruments in service {res.instruments_reviewed} · "
                  f"发现 findings {len(res.findings)} "
                  + " ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for f in res.findings:
        style = _SEV_STYLE.get(f.severity, "")
        console.print(f"[{style}]{f.severity:8}[/] {f.rule_id:11} {f.instrument:12} {f.point or '—':28} "
                      f"{f.certificate or '—'}", highlight=False)
        console.print(f"         {f.message}", highlight=False)
        console.print(f"         依据 basis: {f.clause} [{f.evidence}] · 建议 recommendation: {f.recommendation}",
                      highlight=False)


def campaign_cmd(
    on: Annotated[str, typer.Option("--date", help="审查日期 review date YYYY-MM-DD")],
    enterprises: Annotated[str, typer.Option("--enterprises", help="企业 all, or codes A,B,…")] = "all",
    profile: Annotated[str, typer.Option("--profile", help="审查方案 review profile")] = "gb17167_ccm",
    local_rules: Annotated[Path | None, typer.Option("--rules", exists=True,
                                                     help="本地规则集 local rule set (directory or CSV file)")] = None,
    top: Annotated[int, typer.Option("--top", help="列出的主要问题数 top problems listed")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable JSON")] = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """批量审查 Review many enterprises on a date with the same profile: findings per enterprise, totals and the
    top problems with counts and recommendations."""
    from rich.progress import Progress
    from rich.table import Table

    from ..services import CarbonmetError, review_campaign

    day = _date(on)
    try:
        with Progress(console=console, transient=True, disable=as_json) as bar, workspace(db) as ws:
            task = bar.add_task("批量审查 reviewing", total=None)
            res = review_campaign(ws, scope(org), enterprises, day, profile=profile, local_rules=local_rules,
                                  top=top, progress=lambda i, n, e: bar.update(task, completed=i, total=n,
                                                                               description=f"审查 reviewing {e}"))
    except CarbonmetError as exc:
        fail(str(exc), 2)
    if as_json:
        print_json(res.to_dict())
        return
    t = res.totals()
    console.print(f"审查日 review date {res.on.isoformat()} · 方案 profile {res.profile} ({res.profile_version}) · "
                  f"企业 enterprises {t['enterprises']} (已审查 reviewed {t['reviewed']}, 失败 failed {t['failed']}) · "
                  f"在用器具 instruments {t['instruments_reviewed']} · 发现 findings {t['findings']} "
                  + " ".join(f"{k} {v}" for k, v in t["by_severity"].items()), highlight=False)
    table = Table("企业 enterprise", "器具 instruments", "发现 findings", "critical", "major", "minor", "info")
    for e in res.enterprises:
        sev = e.by_severity
        table.add_row(e.enterprise, str(e.instruments_reviewed) if e.reviewed else "[red]—[/]", str(e.findings),
                      *(str(sev.get(s, 0)) for s in ("critical", "major", "minor", "info")))
    console.print(table)
    if t["by_check"]:
        console.print("按检查 by check: " + ", ".join(f"{k} {v}" for k, v in t["by_check"].items()), highlight=False)
    for e in res.enterprises:
        if e.error:
            console.print(f"[red]未能审查 not reviewed[/] {e.enterprise}: {e.error}", highlight=False)
    if res.problems:
        console.print("[bold]主要问题 top problems[/]")
    for p in res.problems:
        style = _SEV_STYLE.get(p.severity, "")
        console.print(f"[{style}]{p.severity:8}[/] {p.rule_id} {p.check}: 发现 findings {p.findings}, 器具 instruments "
                      f"{p.instruments}, 企业 enterprises {p.enterprises} · {p.clause}", highlight=False)
        console.print(f"         建议 recommendation: {p.recommendation}", highlight=False)


def validate_review_cmd(runs: Runs = 1, enterprises: Enterprises = 12, seed: Seed = 7,
                        profile: Annotated[str, typer.Option("--profile", help="审查方案 review profile")] = "gb17167_ccm",
                        out: OutJson = None, as_json: AsJson = False) -> None:
    """审查查准率与查全率 Precision and recall of the review against the non-compliances injected into
    generated regions (manifest.json)."""
    from ..services import Scope, validate_review

    got = run_validation("生成并审查 generate and review", lambda ws, progress: validate_review(
        ws, Scope.nobody(), runs, enterprises=enterprises, seed=seed, profile=profile), runs, out, as_json)
    if got is None:
        return
    v, _ = got
    print_seed_scores(v.seeds)
    console.print(f"合计 overall: precision {v.precision:.3f}, recall {v.recall:.3f}", highlight=False)
    for f in v.false_positives:
        console.print(f"[yellow]误报 false positive[/] seed {f['seed']} {f['enterprise']} {f['kind']} {f['instrument']}")
    for f in v.missed:
        console.print(f"[red]漏报 missed[/] seed {f['seed']} {f['enterprise']} {f['kind']} {f['instrument']}")
