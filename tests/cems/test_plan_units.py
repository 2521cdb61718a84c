"""The CEMS leg reads the monitoring plan: flows and concentrations on the basis the chain takes, or a clear error
naming the plan, stream, parameter and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonmet.cems import CemsError, cems_points, cems_streams
from carbonmet.refdata import generate
from carbonmet.sites import read_plan


@pytest.fixture(scope="module")
def plan_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("r")
    generate(out, enterprises=2, year=2025, seed=7, resolution="hour")
    return (out / "plans" / "E02.toml").read_text(encoding="utf-8")


def _plan(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    p = tmp_path / "E02.toml"
    p.write_text(text, encoding="utf-8")
    return read_plan(p)


def test_the_region_plan_gives_every_stack_vent_and_regenerator(plan_text: str, tmp_path: Path) -> None:
    got, other = cems_streams(_plan(tmp_path, plan_text))
    assert {s.stream for s in got} == {"rectisol_vent", "boiler_stack_1", "boiler_stack_2", "mto_regenerator"}
    assert all(s.flow_unit == "Nm3/h" and s.conc_unit == "%" for s in got)
    assert [o["stream"] for o in other] == ["flare"]  # metered for volume only
    assert "E02.FLARE" in cems_points(_plan(tmp_path, plan_text))


def test_a_flow_at_actual_conditions_is_refused_naming_the_row(plan_text: str, tmp_path: Path) -> None:
    text = plan_text.replace('unit = "Nm3/h"\nsource = "point"\nref = "E02.STACK1.FLOW"',
                             'unit = "m3/h"\nsource = "point"\nref = "E02.STACK1.FLOW"')
    assert text != plan_text
    with pytest.raises(CemsError, match=r"stream boiler_stack_1, parameter flow, field unit: 'm3/h'.*HJ 75"):
        cems_streams(_plan(tmp_path, text))


def test_a_concentration_not_in_volume_percent_is_refused(plan_text: str, tmp_path: Path) -> None:
    text = plan_text.replace('unit = "%"\nsource = "point"\nref = "E02.STACK2.CO2"',
                             'unit = "mg/m3"\nsource = "point"\nref = "E02.STACK2.CO2"')
    assert text != plan_text
    with pytest.raises(CemsError, match=r"stream boiler_stack_2, parameter concentration, field unit: 'mg/m3'"):
        cems_streams(_plan(tmp_path, text))
