"""``carbonmet factors …`` — the emission-factor database (排放因子库): list, show, compare, import.

Thin: parse, call :mod:`carbonmet.services`, render. Exit code 2 when an import file is refused (every problem named
with file, row and field; nothing stored).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from ._common import DbOpt, OrgOpt, console, fail, print_json, scope, use_case, workspace

app = typer.Typer(
    help="排放因子库 emission-factor database: list, show, compare, import", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable JSON")]


def register(app_: typer.Typer) -> None:
    """Add ``factors`` to the ``carbonmet`` command."""
    app_.add_typer(app, name="factors")


def _fmt(x: float | None, digits: int = 4) -> str:
    return "—" if x is None or math.isnan(x) else f"{x:.{digits}g}"


@app.command("list")
def list_cmd(
    product: Annotated[
        str | None, typer.Option("--product", help="产品/流 product or flow, e.g. methanol")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="地区 region, e.g. CN, north_china")] = None,
    year: Annotated[int | None, typer.Option("--year", help="数据年份 data year")] = None,
    basis: Annotated[str | None, typer.Option("--basis", help="measured | default | literature")] = None,
    gas: Annotated[str | None, typer.Option("--gas", help="CO2, CH4, N2O, CO2e …")] = None,
    all_versions: Annotated[
        bool, typer.Option("--all-versions", help="列出全部版本 every stored version")
    ] = False,
    as_json: JsonOpt = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """列出排放因子 Shared emission factors, stored and packaged, matching the filters."""
    from rich.table import Table

    from ..services import CarbonmetError, list_factors

    try:
        with workspace(db) as ws:
            rows = list_factors(
                ws,
                scope(org),
                product=product,
                region=region,
                year=year,
                basis=basis,
                gas=gas,
                all_versions=all_versions,
            )
    except CarbonmetError as exc:
        fail(str(exc))
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    t = Table(title=f"排放因子 emission factors ({len(rows)})")
    for col in (
        "引用 ref",
        "数值 value",
        "单位 unit",
        "u",
        "分布 distribution",
        "依据 basis",
        "证据 mark",
        "来源 source",
    ):
        t.add_column(col, overflow="fold")
    for r in rows:
        mark = f"[yellow]{r.evidence}[/]" if r.unverified else r.evidence
        t.add_row(
            r.ref, f"{r.value:.6g}", r.unit, _fmt(r.u), r.distribution.shape, r.basis, mark, r.source[:60]
        )
    console.print(t)


@app.command("show")
def show_cmd(
    ref: Annotated[
        str, typer.Argument(help="因子引用 factor ref: product/technology/region/year/gas/gwp_set[/vN]")
    ],
    as_json: JsonOpt = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """显示一个排放因子 One factor with its distribution, pedigree and every stored version."""
    from ..services import show_factor

    doc = use_case(db, org, show_factor, ref, code=1)
    if as_json:
        print_json(doc)
        return
    console.print(
        f"[bold]{doc['ref']}[/]  {doc['value']:.6g} {doc['unit']} (per {doc['flow_unit']}), "
        f"u = {_fmt(doc['u'])}, {doc['basis']}, [{doc['evidence']}]"
    )
    console.print(f"  来源 source: {doc['source']} {doc['source_version']}; {doc['clause']}")
    console.print(f"  分布 distribution: {doc['distribution']}")
    if doc.get("pedigree"):
        console.print(f"  谱系 pedigree: {doc['pedigree']} ({doc['pedigree_table']})")
    ps = doc.get("pedigree_sigma")
    if ps:
        console.print(
            f"  σ = {ps['sigma']:.4f} (基本 basic σ² {ps['basic_variance']:.6f} + 谱系 pedigree σ² "
            f"{ps['pedigree_variance']:.6f}), GSD² = {ps['gsd2']:.4f}"
        )
    if doc.get("note"):
        console.print(f"  注 note: {doc['note']}")
    for v in doc["versions"]:
        console.print(f"  版本 version {v['ref']}: {v['value']:.6g} {v['unit']}")


@app.command("compare")
def compare_cmd(
    product: Annotated[str, typer.Argument(help="产品 product, e.g. electricity")],
    regions: Annotated[list[str], typer.Argument(help="地区 regions (≥ 1)")],
    measured_owner: Annotated[
        str | None,
        typer.Option(
            "--measured-owner", help="企业 enterprise whose stored measured factor is the reference"
        ),
    ] = None,
    measured: Annotated[float | None, typer.Option("--measured", help="实测值 a measured value")] = None,
    u: Annotated[
        float | None, typer.Option("--u", help="实测值的标准不确定度 its standard uncertainty")
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="实测值单位 its unit, e.g. tCO2/MWh")] = None,
    source: Annotated[
        str, typer.Option("--source", help="实测值来源 where the measured value comes from")
    ] = "",
    measured_year: Annotated[
        int | None, typer.Option("--measured-year", help="实测数据年份 its data year")
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="区域因子年份 year of the regional factors")
    ] = None,
    technology: Annotated[str | None, typer.Option("--technology", help="路线 technology/route")] = None,
    gas: Annotated[str | None, typer.Option("--gas", help="CO2, CO2e …")] = None,
    as_json: JsonOpt = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """区域因子比对 One product's factor across regions against a measured value and each other (E_n, k = 2)."""
    from rich.table import Table

    from ..services import CarbonmetError, compare_factors

    mv = None
    if measured is not None:
        if u is None or unit is None:
            fail("--measured 需要 --u 和 --unit / --measured needs --u and --unit")
        mv = (measured, u, unit)
    try:
        with workspace(db) as ws:
            cmp = compare_factors(
                ws,
                scope(org),
                product,
                regions,
                measured_owner=measured_owner,
                measured_value=mv,
                measured_source=source,
                measured_year=measured_year,
                year=year,
                technology=technology,
                gas=gas,
            )
    except CarbonmetError as exc:
        fail(str(exc))
    if as_json:
        print_json(cmp.to_dict())
        return
    for title, diffs in (
        ("对实测 versus measured", cmp.versus_measured),
        ("区域之间 between regions", cmp.between_regions),
    ):
        if not diffs:
            continue
        t = Table(title=f"{cmp.product}: {title} ({cmp.unit}, k = {cmp.k:g})")
        for col in ("a", "b", "a − b", "相对 rel.", "U(a − b)", "E_n", "判定 verdict"):
            t.add_column(col, overflow="fold")
        for d in diffs:
            verdict = (
                "—"
                if d.satisfactory is None
                else "[green]|E_n| ≤ 1[/]"
                if d.satisfactory
                else "[red]|E_n| > 1[/]"
            )
            t.add_row(
                d.a,
                d.b,
                _fmt(d.difference),
                f"{d.relative:+.1%}" if not math.isnan(d.relative) else "—",
                _fmt(d.U_combined),
                _fmt(d.en, 3),
                verdict + (f" {d.reason}" if d.reason else ""),
            )
        console.print(t)


@app.command("import")
def import_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(
            exists=True,
            help="CSV/XLSX 因子文件 factor files, or olca-schema JSON-LD packages (zip or directory)",
        ),
    ],
    actor: Annotated[str, typer.Option(help="操作人 who imports (audit log)")] = "cli",
    as_json: JsonOpt = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """导入排放因子 Import factors (centre only; all or nothing; exit 2 when a file is refused)."""
    from ..factors import FactorImportError
    from ..services import CarbonmetError, import_factors

    try:
        with workspace(db) as ws:
            reps = import_factors(ws, scope(org, actor), paths)
    except FactorImportError as exc:
        if as_json:
            print_json({"ok": False, "file": exc.file, "problems": [p.to_dict() for p in exc.problems]})
            raise typer.Exit(2) from None
        fail(
            "\n".join(
                [f"{exc.file}: 导入被拒绝，未导入任何因子 / refused, nothing imported"]
                + [f"  {p}" for p in exc.problems]
            ),
            2,
        )
    except CarbonmetError as exc:
        fail(str(exc))
    if as_json:
        print_json({"ok": True, "files": [r.to_dict() for r in reps]})
        return
    for r in reps:
        if r.kind == "olca":
            pkg = r.package or {}
            console.print(
                f"{r.file}: olca-schema 包 package — 过程 processes {pkg.get('processes')}, 流 flows "
                f"{pkg.get('flows')}, 交换 exchanges {pkg.get('exchanges')} (已检查，未存储 checked, not stored)"
            )
            for line in pkg.get("not_read", []):
                console.print(f"  未读取 not read: {line}")
        else:
            console.print(
                f"{r.file}: [green]新版本 stored[/] {len(r.stored)}, 未变 unchanged {len(r.unchanged)} "
                f"(行 rows {r.rows})"
            )
            for ref in r.stored:
                console.print(f"  {ref}")
