"""``carbonmet cems …`` — CEMS QA (碳监测质量保证): the reference-method comparison (RATA) of a paired-run file.

Thin: parse, call :mod:`carbonmet.cems.qa` (pure, no database), render. ``cems rata`` exits 0 when the RATA of every
parameter in the file passes, 3 when one fails (the table or JSON says which, with rule set, clause and evidence
mark; a failed bias test alone is reported with its BAF, not an exit code), 2 on bad input (the error names
file, row and field).
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from ._common import AsJson, console, err_console, print_json

if TYPE_CHECKING:
    from ..cems.qa import BiasResult, RataResult

app = typer.Typer(help="碳监测 CEMS: QA tests (reference-method comparison / RATA)", no_args_is_help=True)

#: Exit code when a QA test fails (the input was good).
EXIT_FAILED = 3


@app.callback()
def _cems() -> None:
    """碳监测 CEMS quality assurance."""


def _bad(message: str) -> NoReturn:
    from rich.markup import escape

    err_console.print(f"[bold red]错误 error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(2)


def _when(text: str | None, what: str, zone: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        _bad(f"{what}: 不是 ISO 8601 时间 / not an ISO 8601 date-time: {text!r}")
    if t.tzinfo is None:
        if zone is None:
            _bad(f"{what}: 缺少时区 / {text!r} has no UTC offset (write +08:00, or give --tz)")
        from zoneinfo import ZoneInfo

        t = t.replace(tzinfo=ZoneInfo(zone or "UTC"))
    return t


def _num(x: float, digits: int = 4) -> str:
    return "—" if not math.isfinite(x) else f"{x:.{digits}g}" if abs(x) >= 1e4 else f"{x:.{digits}f}"


def _print(r: RataResult, b: BiasResult | None, bias_note: str, source: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=escape(f"{source} · {r.parameter} [{r.unit}] 参比方法比对 RATA ({r.n} runs)"))
    for col in ("比对 run", "参比 RM", "CEMS", "差值 d = RM − CEMS"):
        t.add_column(col, justify="right")
    for i, rid in enumerate(r.runs):
        t.add_row(rid, _num(r.reference[i]), _num(r.cems[i]), _num(r.d[i]))
    for rid in r.excluded:
        t.add_row(f"[dim]{rid}[/]", "", "", "[dim]剔除 excluded[/]")
    console.print(t)
    s = Table(show_header=True)
    s.add_column("量 quantity")
    s.add_column("值 value", justify="right")
    for name, v in (("参比均值 RM̄", r.rm_mean), ("CEMS 均值 CEM̄", r.cems_mean), ("平均差 d̄", r.d_mean),
                    ("差值标准差 S_d", r.s_d), ("t(0.975, n−1)", r.t_value), ("置信系数 cc", r.cc),
                    ("相对准确度 RA [%]", r.ra_pct), ("相对误差 relative error [%]", r.rel_error_pct)):
        s.add_row(name, _num(v))
    console.print(s)
    verdict = "[green]通过 PASS[/]" if r.passed else "[red]不通过 FAIL[/]"
    console.print(f"{verdict} — " + escape(f"规则集 rule set {r.rule_set}: {r.clause} [{r.evidence}] ({r.source})"),
                  highlight=False)
    if b is not None:
        bv = "[green]通过 pass[/]" if b.passed else "[red]不通过 fail[/]"
        baf = f", BAF = {b.baf:.4f}" if b.baf_applies and b.direction == "low" else ""
        console.print(f"偏差检验 bias test: {bv} — " + escape(f"direction {b.direction}{baf}; {b.rule_set}: "
                                                              f"{b.clause} [{b.evidence}]"), highlight=False)
    elif bias_note:
        console.print(f"[dim]偏差检验 bias test: {escape(bias_note)}[/]", highlight=False)


@app.command("rata")
def rata_cmd(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="比对数据文件 paired-run file (CSV, XLSX; "
                                                                 "docs/formats/rata.md)")],
    rule_set: Annotated[str | None, typer.Option("--rule-set", help="判据规则集 rule set: hj75_2017, ec_co2, "
                                                 "part75 (default: each parameter's; ec_co2 for CO2 and flow)")] = None,
    period_start: Annotated[str | None, typer.Option("--period-start", help="CEMS 数据期开始 start of the CEMS data "
                                                     "period (ISO 8601)")] = None,
    period_end: Annotated[str | None, typer.Option("--period-end", help="CEMS 数据期结束 end of the CEMS data period "
                                                   "(ISO 8601)")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="无时区时间的时区 zone for times without UTC offset, e.g. "
                                           "Asia/Shanghai")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="剔除的比对 run to reject (part75 only: up "
                                                      "to 3 of ≤ 12)")] = None,
    span: Annotated[float | None, typer.Option("--span", help="量程 full scale, for a bias limit in % of span")] = None,
    as_json: AsJson = False,
) -> None:
    """参比方法比对 Reference-method comparison (RATA) and bias test of a paired-run file, judged by a rule set."""
    from ..cems.qa import QAError, RataFileError, bias_test, rata, read_rata_file

    if (period_start is None) != (period_end is None):
        _bad("--period-start 与 --period-end 须同时给出 / give both --period-start and --period-end")
    t0, t1 = _when(period_start, "--period-start", tz), _when(period_end, "--period-end", tz)
    try:
        f = read_rata_file(file, period=None if t0 is None or t1 is None else (t0, t1), time_zone=tz)
    except RataFileError as exc:
        _bad(str(exc))
    out: list[dict[str, Any]] = []
    ok = True
    for series in f.series:
        try:
            r = rata(series, rule_set, exclude or ())
        except QAError as exc:
            _bad(f"{f.file}:{series.parameter}:{exc.field}: {exc.reason}")
            b: BiasResult | None
        try:
            b, note = bias_test(series, rule_set, span=span, exclude=exclude or ()), ""
        except QAError as exc:
            b, note = None, exc.reason
        ok = ok and r.passed
        out.append({"rata": r.to_dict(), "bias": None if b is None else b.to_dict(), "bias_note": note})
        if not as_json:
            _print(r, b, note, Path(f.file).name)
    if as_json:
        print_json({"file": f.file, "sha256": f.sha256, "passed": ok, "results": out})
    if not ok:
        raise typer.Exit(EXIT_FAILED)
