"""D21: ``carbonmet uncertainty evaluate`` refuses a bad ``--k`` or ``--plot`` with a clear error and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbonmet.cli import app

runner = CliRunner()

MODEL = """
[model]
output = "E"
expression = "AD * EF"
unit = "t"

[inputs.AD]
distribution = "rectangular"
value = 1000.0
mpe = 5.0
unit = "t"

[inputs.EF]
distribution = "normal"
value = 2.0
U = 0.04
k = 2
unit = ""
"""


@pytest.fixture
def model(tmp_path: Path) -> Path:
    p = tmp_path / "model.toml"
    p.write_text(MODEL, encoding="utf-8")
    return p


@pytest.mark.parametrize("k", ["nan", "inf", "-inf", "0", "-2"])
def test_D21_k_nan_or_not_positive_is_refused(model: Path, k: str) -> None:
    r = runner.invoke(app, ["uncertainty", "evaluate", str(model), "--method", "lpu", "--json", "--k", k])
    assert r.exit_code == 2, r.output
    assert "--k" in r.output and "Traceback" not in r.output


def test_D21_plot_to_a_directory_is_refused(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "plots"
    out.mkdir()
    r = runner.invoke(app, ["uncertainty", "evaluate", str(model), "--trials", "2000", "--seed", "1",
                            "--plot", str(out)])
    assert r.exit_code == 2, r.output
    assert "--plot" in r.output and "plots" in r.output.replace("\n", "")
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_D21_plot_into_a_missing_directory_is_refused(model: Path, tmp_path: Path) -> None:
    r = runner.invoke(app, ["uncertainty", "evaluate", str(model), "--trials", "2000", "--seed", "1",
                            "--plot", str(tmp_path / "no" / "such" / "h.png")])
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_D21_a_good_k_and_plot_still_work(model: Path, tmp_path: Path) -> None:
    png = tmp_path / "h.png"
    r = runner.invoke(app, ["uncertainty", "evaluate", str(model), "--trials", "2000", "--seed", "1",
                            "--k", "2", "--plot", str(png)])
    assert r.exit_code == 0, r.output
    assert png.stat().st_size > 0
