"""``carbonmet review …`` and ``carbonmet validate review`` — metrology review (碳计量审查).

Thin: parse, call :mod:`carbonmet.services`, render.
"""

from __future__ import annotations

from datetime import date
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
    workspace,
)

_SEV_STYLE = {"critical": "bold red", "major": "red", "minor": "yellow", "info": "cyan"}


def register(app_: typer.Typer, validate_app: typer.Typer) -> None:
    """Add ``review`` to the ``carbonmet`` command and ``review`` to ``validate``."""
    app_.command("review")(review_cmd)
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
    try:
        with workspace(db) as ws:
            res = review_enterprise(ws, scope(org), enterprise, day, profile=profile, local_rules=local_rules)
    except CarbonmetError as exc:
        fail(str(exc), 2)
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
