"""``carbonmet units`` — unit conversion for people checking a figure by hand."""

from __future__ import annotations

import typer

from ._common import console, fail, print_json, scope

app = typer.Typer(help="单位换算 unit conversion (t, Nm³, 万Nm³, GJ, MWh, tce, tC, tCO2 …)", no_args_is_help=True)


@app.command("convert")
def convert_cmd(
    value: float = typer.Argument(..., help="数值 value"),
    from_unit: str = typer.Argument(..., help="原单位 from unit, e.g. 万Nm3"),
    to_unit: str = typer.Argument(..., help="目标单位 to unit, e.g. Nm3"),
    as_json: bool = typer.Option(False, "--json", help="机器可读输出 machine-readable output"),
) -> None:
    """换算一个量值 Convert one value between units."""
    from carbonmet.services import CarbonmetError, Workspace, convert_units

    try:
        out, unit = convert_units(Workspace(), scope(), value, from_unit, to_unit)
    except CarbonmetError as exc:
        fail(str(exc))
    if as_json:
        print_json({"value": out, "unit": unit, "from": {"value": value, "unit": from_unit}})
    else:
        console.print(f"{value:g} {from_unit} = [bold]{out:.10g}[/] {to_unit}")
