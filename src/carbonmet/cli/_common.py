"""Small helpers shared by the CLI modules: the workspace and scope of a command, JSON output, errors.

Nothing heavy is imported here (no services, NumPy, SQLAlchemy …): ``carbonmet --help`` stays fast.
Commands import :mod:`carbonmet.services` when they run.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from carbonmet.services import Scope, Workspace

console = Console()
err_console = Console(stderr=True)

DbOpt = typer.Option(None, "--db", help="数据库 URL database URL (default: $CARBONMET_DATABASE_URL or ./.carbonmet)")
JsonOpt = typer.Option(False, "--json", help="机器可读输出 machine-readable JSON")
OrgOpt = typer.Option(
    None, "--org", help="以企业身份运行 act as this enterprise (its data only; default: the centre, all data)"
)
# Annotated parameter types shared by several commands (one help text each)
AsJson = Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable JSON")]
StoreDir = Annotated[Path | None, typer.Option("--store", help="数据存储目录 readings store directory")]
Method = Annotated[str, typer.Option("--method", help="lpu | mcm | both")]
Trials = Annotated[int, typer.Option("--trials", help="蒙特卡洛次数 Monte Carlo trials")]


def print_json(obj: Any) -> None:
    """Print one JSON document to stdout (UTF-8, Chinese kept readable)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error (zh-CN first, English second where the caller gives both) and exit."""
    err_console.print(f"[bold red]错误 error:[/] {message}")
    raise typer.Exit(code)


def scope(org: str | None = None, actor: str = "cli") -> Scope:
    """The caller: the centre operator (all-access) unless ``--org`` names an enterprise."""
    from carbonmet.services import Scope

    return Scope.centre(actor) if org is None else Scope.enterprise(org, actor=actor)


def workspace(
    db: str | None = None,
    store: Path | None = None,
    *,
    time_zone: str | None = None,
    points: Path | None = None,
    instruments: Path | None = None,
    certificates: Path | None = None,
    sites: Path | None = None,
) -> Workspace:
    """The workspace of a command: the registry database (``--db``, ``$CARBONMET_DATABASE_URL`` or
    ``./.carbonmet``, opened on first use), the readings store (``--store``) and, with ``--points``, the
    point catalogue from registry import files instead of the database."""
    from carbonmet.services import CatalogFiles, Workspace

    files = CatalogFiles(points, instruments, certificates, sites) if points is not None else None
    return Workspace.from_settings(database_url=db, store_root=store, time_zone=time_zone, catalog_files=files)


_T = TypeVar("_T")


def use_case(db: str | None, caller: str | None | Scope, fn: Callable[..., _T], *args: Any, code: int = 2,
             store: Path | None = None, **kwargs: Any) -> _T:
    """``fn(ws, scope, *args, **kwargs)`` — a service use case run in the command's workspace (``store``: the
    readings store, default the configured one), as the centre, as the enterprise ``--org`` names, or as the
    :class:`Scope` given; a refused call (:class:`carbonmet.services.CarbonmetError`) prints its message and
    exits with ``code``."""
    from carbonmet.services import CarbonmetError, Scope

    who = caller if isinstance(caller, Scope) else scope(caller)
    try:
        with workspace(db, store) as ws:
            return fn(ws, who, *args, **kwargs)
    except CarbonmetError as exc:
        fail(str(exc), code)


#: ``--engine``: DuckDB on this machine or Apache Spark (``--master``; a cluster, or local[n] by default)
EngineOpt = Annotated[str, typer.Option("--engine", help="汇总引擎 aggregation engine: duckdb | spark")]
MasterOpt = Annotated[str, typer.Option("--master", help="Spark master (local[2], spark://host:7077, k8s://…)")]


# the options of the seeded validations (carbonmet validate …)
Runs = Annotated[int, typer.Option("--runs", help="生成区域数 regions to generate")]
Enterprises = Annotated[int, typer.Option("--enterprises", help="每区域企业数 enterprises per region")]
Seed = Annotated[int, typer.Option("--seed", help="首个区域种子 seed of the first region")]
OutJson = Annotated[Path | None, typer.Option("--out", help="写出 JSON write the result as JSON")]


def run_validation(label: str, call: Callable[[Workspace, Callable[[int, int], None]], Any], runs: int,
                   out: Path | None, as_json: bool, *, omit: tuple[str, ...] = ()) -> tuple[Any, dict[str, Any]] | None:
    """Run one seeded validation over ``runs`` generated regions with a progress bar; write the whole result to
    ``out`` as JSON when given. With ``as_json`` print it (without the keys in ``omit``) and return ``None``,
    otherwise return the result and its dictionary for the command's own summary."""
    from rich.progress import Progress

    if runs < 1:
        fail("--runs 须 ≥ 1 / --runs must be at least 1", 2)
    with Progress(console=console, transient=True) as bar, workspace() as ws:
        task = bar.add_task(label, total=runs)
        v = call(ws, lambda i, n: bar.update(task, completed=i))
    res: dict[str, Any] = v.to_dict()
    if out is not None:
        out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    if as_json:
        print_json({k: x for k, x in res.items() if k not in omit})
        return None
    return v, res


def print_seed_scores(seeds: list[dict[str, Any]]) -> None:
    """One line per seed of a precision/recall validation (review, verification)."""
    for s in seeds:
        console.print(f"seed {s['seed']}: 注入 injected {s['expected']}, 发现 found {s['found']}, 命中 true {s['tp']}, "
                      f"误报 false {s['fp']}, 漏报 missed {s['fn']} — precision {s['precision']:.3f}, "
                      f"recall {s['recall']:.3f}", highlight=False)
