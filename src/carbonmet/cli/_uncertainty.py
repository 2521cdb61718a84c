"""``carbonmet uncertainty`` — evaluate a measurement-model file by LPU and/or Monte Carlo."""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ._common import console, fail, print_json, scope

if TYPE_CHECKING:  # the engine (SciPy) is imported when a command runs, not for --help
    from carbonmet.uncertainty import Evaluation

app = typer.Typer(
    help="测量不确定度评定 uncertainty evaluation (GUM 传播律 / GUM-S1 蒙特卡洛法; JJF 1059.1 / 1059.2)",
    no_args_is_help=True,
)


class Method(StrEnum):
    lpu = "lpu"
    mcm = "mcm"
    both = "both"


def _g(x: float, digits: int = 6) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return f"{x:.{digits}g}"


def _render(ev: Evaluation) -> None:
    m = ev.model
    unit = f" {m.unit}" if m.unit else ""
    console.print(f"[bold]模型 model[/] {m.output} = {m.expression.text if m.expression else '<function>'}")
    if ev.lpu:
        r = ev.lpu
        t = Table(title="不确定度分量一览表 uncertainty budget (GUM §5, JJF 1059.1)", show_lines=False)
        for col, just in (
            ("输入 input", "left"),
            ("分布 distribution", "left"),
            ("估计值 x", "right"),
            ("u(x)", "right"),
            ("ν", "right"),
            ("灵敏系数 c", "right"),
            ("|c|·u(x)", "right"),
            ("方差占比 share", "right"),
        ):
            t.add_column(col, justify=just)  # type: ignore[arg-type]
        rows = sorted(r.budget, key=lambda b: -b.variance_share)
        for b in rows[:50]:
            t.add_row(
                b.input,
                b.distribution,
                _g(b.estimate),
                _g(b.u, 3),
                _g(b.dof, 3),
                _g(b.sensitivity, 4),
                _g(b.u_contribution, 3),
                f"{100 * b.variance_share:.1f} %",
            )
        if len(rows) > 50:
            t.add_row(f"… {len(rows) - 50} more", "", "", "", "", "", "", "")
        console.print(t)
        console.print(
            f"[bold]GUM (LPU)[/]  y = {_g(r.value, 8)}{unit}   u_c = {_g(r.u, 3)}{unit}   "
            f"ν_eff = {_g(r.dof, 4)}   k = {r.k:.3f}   U = {_g(r.U, 3)}{unit}   "
            f"{r.coverage:.0%} 区间 interval [{_g(r.interval[0], 8)}, {_g(r.interval[1], 8)}]"
        )
        if r.correlations:
            console.print(f"  相关项 covariance part of u_c²: {_g(r.u_covariance_part, 3)}")
        for note in r.notes:
            console.print(f"  [yellow]注 note:[/] {note}")
    if ev.mcm:
        s = ev.mcm
        mode = f"adaptive, n_dig = {s.ndig}, h = {s.blocks}" if s.adaptive else "fixed M"
        console.print(
            f"[bold]MCM[/]  y = {_g(s.value, 8)}{unit}   u = {_g(s.u, 3)}{unit}   M = {s.trials:,} ({mode}, "
            f"seed {s.seed})\n"
            f"  概率对称区间 symmetric [{_g(s.interval[0], 8)}, {_g(s.interval[1], 8)}]   "
            f"最短区间 shortest [{_g(s.shortest_interval[0], 8)}, {_g(s.shortest_interval[1], 8)}]"
        )
        if s.adaptive and not s.converged:
            console.print("  [yellow]注 note:[/] adaptive procedure stopped at max trials before stabilising")
    if ev.validation:
        v = ev.validation
        verdict = "[green]通过 validated[/]" if v.agrees else "[red]未通过 not validated[/]"
        console.print(
            f"[bold]GUM 法验证 validation (JCGM 101 §8)[/]: {verdict}   d_low = {_g(v.d_low, 3)}   "
            f"d_high = {_g(v.d_high, 3)}   δ = {_g(v.delta, 3)} (n_dig = {v.ndig})"
        )
        if ev.lpu is not None and not math.isclose(ev.lpu.k, v.k_p, rel_tol=1e-12):
            console.print(
                f"  注 note: 验证用 k_p = t_p(ν_eff) = {v.k_p:.3f}（报告的 U 用固定 k = {ev.lpu.k:.3g}） "
                f"validated with k_p = {v.k_p:.3f}; the reported U uses the fixed k = {ev.lpu.k:.3g}"
            )


@app.command("evaluate")
def evaluate_cmd(
    model_file: Annotated[Path, typer.Argument(help="模型文件 model file (TOML), see docs/uncertainty.md")],
    method: Annotated[Method, typer.Option("--method", help="评定方法 lpu | mcm | both")] = Method.both,
    trials: Annotated[
        int, typer.Option("--trials", min=1, help="蒙特卡洛试验次数 Monte Carlo trials M")
    ] = 1_000_000,
    adaptive: Annotated[
        bool, typer.Option("--adaptive", help="自适应蒙特卡洛 adaptive M (JCGM 101 §7.9)")
    ] = False,
    ndig: Annotated[
        int, typer.Option("--ndig", min=1, max=6, help="有效数字位数 significant digits n_dig")
    ] = 2,
    coverage: Annotated[float, typer.Option("--coverage", help="包含概率 coverage probability p")] = 0.95,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="随机种子 random seed (reproducible)")
    ] = None,
    k: Annotated[
        float | None, typer.Option("--k", help="固定包含因子 fixed coverage factor (default t_p(ν_eff))")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="直方图 PNG histogram of the MCM output")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable output")] = False,
) -> None:
    """评定一个测量模型 Evaluate a measurement model file by LPU and/or Monte Carlo."""
    if not 0.0 < coverage < 1.0:
        fail(f"包含概率须在 (0, 1) 内 coverage must lie in (0, 1), got {coverage}")
    if k is not None and not (math.isfinite(k) and k > 0):
        fail(f"--k 包含因子须为正的有限数 the coverage factor must be a finite number > 0, got {k}", 2)
    if plot is not None and method == Method.lpu:
        fail("--plot 需要蒙特卡洛 needs --method mcm or both")
    if plot is not None and plot.is_dir():
        fail(f"--plot 应为 PNG 文件路径而不是目录 expects a PNG file path, not a directory: {plot}", 2)
    if plot is not None and not plot.parent.is_dir():
        fail(f"--plot 的目录不存在 the directory of {plot} does not exist", 2)
    from carbonmet.services import CarbonmetError, Workspace, evaluate_model

    try:
        ev = evaluate_model(Workspace(), scope(), model_file, method.value, plot=plot, coverage=coverage,
                            trials=trials, adaptive=adaptive, ndig=ndig, seed=seed, k=k)
    except CarbonmetError as exc:
        fail(escape(str(exc)))  # messages contain [inputs.X] — not rich markup
    except OSError as exc:  # the histogram could not be written (permissions, a full disk …)
        fail(escape(f"--plot 无法写入 cannot write {plot}: {exc.strerror or exc}"), 2)
    if as_json:
        out = ev.to_dict()
        if plot is not None:
            out["plot"] = str(plot)
        print_json(out)
    else:
        _render(ev)
        if plot is not None:
            console.print(f"直方图 histogram → {plot}")
