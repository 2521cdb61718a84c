"""``carbonmet refdata`` — generate the synthetic reference region (参考数据集) with its ground truth."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ._common import console, fail, print_json

app = typer.Typer(help="参考数据集 reference dataset: a synthetic coal-chemical region with ground truth",
                  no_args_is_help=True)


class _Resolution(str, Enum):
    hour = "hour"
    minute = "minute"


@app.command("generate")
def generate_cmd(
    out: Path = typer.Option(..., "--out", help="输出目录 output directory"),
    enterprises: int = typer.Option(12, "--enterprises",
                                     help="企业数 number of enterprises (1–9999; codes E01… up to 99, E0001… above)"),
    year: int = typer.Option(2025, "--year", help="数据年份 data year (local time UTC+8)"),
    seed: int = typer.Option(7, "--seed", help="随机种子 seed (same seed → same bytes)"),
    resolution: _Resolution = typer.Option(_Resolution.hour, "--resolution",
                                           help="读数步长 reading step: hour | minute (≥1e8 readings for 12)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="覆盖已有输出 replace earlier generator output"),
    as_json: bool = typer.Option(False, "--json", help="机器可读输出 machine-readable output"),
) -> None:
    """生成参考数据集 Generate registry files, readings, lab data, CEMS data, ground truth and a manifest."""
    from carbonmet.services import CarbonmetError, Scope, Workspace, generate_region

    t0 = time.perf_counter()
    options = {"enterprises": enterprises, "year": year, "seed": seed, "resolution": resolution.value,
               "overwrite": overwrite}
    ws = Workspace()  # files only: no database is opened
    try:
        if as_json:
            manifest = generate_region(ws, Scope.centre(), out, **options)
        else:
            with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                          transient=True) as bar:
                task = bar.add_task("生成 generating", total=1.0)

                def progress(stage: str, frac: float) -> None:
                    bar.update(task, completed=frac, description=f"生成 generating: {stage}")

                manifest = generate_region(ws, Scope.centre(), out, progress=progress, **options)
    except CarbonmetError as exc:
        fail(str(exc))
    secs = time.perf_counter() - t0
    kinds: dict[str, int] = {}
    for f in manifest.faults + manifest.noncompliance:
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    if as_json:
        print_json({"out": str(out), "seconds": round(secs, 2), "counts": manifest.counts, "faults": kinds,
                    "seed": seed, "version": manifest.version})
        return
    console.print(f"已生成 generated [bold]{out}[/] in {secs:.1f} s (seed {seed}, {manifest.version})")
    for k, v in manifest.counts.items():
        console.print(f"  {k}: {v:,}")
    console.print("  注入 injected: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    for e in manifest.enterprises_list:
        console.print(f"  {e['enterprise']} {e['route']:<4} {e['production_main_t'] / 1e3:8.0f} kt  "
                      f"{e['intensity_direct_gross']:.2f} tCO2/t direct  {e['name']}")
