"""Model files (TOML) and the ``carbonmet uncertainty evaluate`` command: output and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.uncertainty import ModelFileError, load_model

runner = CliRunner()

GOOD = """
[model]
output = "E"
expression = "AD * NCV * CC * OF * CO2_PER_C"
unit = "tCO2"
description = "coal combustion, GB/T 32151 style"

[inputs.AD]
distribution = "rectangular"
value = 1.0e5
mpe = 2.0e3
unit = "t"

[inputs.NCV]
distribution = "normal"
value = 20.9
U = 0.4
k = 2
unit = "GJ/t"

[inputs.CC]
distribution = "t"
data = [0.0260, 0.0262, 0.0259, 0.0263, 0.0261]
unit = "tC/GJ"

[inputs.OF]
distribution = "triangular"
low = 0.96
high = 1.0
mode = 0.98
unit = "1"

[[correlations]]
a = "NCV"
b = "CC"
r = -0.3
"""


def write(tmp_path: Path, text: str, name: str = "model.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_load_good_model(tmp_path: Path) -> None:
    m = load_model(write(tmp_path, GOOD))
    assert m.output == "E" and m.unit == "tCO2"
    assert set(m.names) == {"AD", "NCV", "CC", "OF"}
    assert m.inputs["NCV"].distribution.u == pytest.approx(0.2)
    assert m.inputs["CC"].distribution.dof == 4
    assert m.inputs.correlations == {("CC", "NCV"): -0.3}


def test_cli_json_both_methods(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD)
    res = runner.invoke(
        app, ["uncertainty", "evaluate", str(p), "--trials", "50000", "--seed", "1", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for key in ("value", "u", "U", "k", "dof", "interval"):
        assert key in out["lpu"]
    for key in ("value", "u", "interval", "shortest_interval", "trials"):
        assert key in out["mcm"]
    for key in ("agrees", "d_low", "d_high", "delta"):
        assert key in out["validation"]
    assert {b["input"] for b in out["budget"]} == {"AD", "NCV", "CC", "OF"}
    assert out["mcm"]["trials"] == 50000
    assert out["lpu"]["dof"] is not None  # type A input with ν = 4 makes ν_eff finite
    lo, hi = out["lpu"]["interval"]
    assert lo < out["lpu"]["value"] < hi
    assert sum(b["variance_share"] for b in out["budget"]) == pytest.approx(
        1.0, abs=0.2
    )  # shares exclude the (small, negative) covariance term


def test_cli_adaptive_human_output_and_plot(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD)
    png = tmp_path / "hist.png"
    res = runner.invoke(
        app,
        ["uncertainty", "evaluate", str(p), "--adaptive", "--ndig", "1", "--seed", "3", "--plot", str(png)],
    )
    assert res.exit_code == 0, res.output
    assert "不确定度分量一览表" in res.stdout and "MCM" in res.stdout and "adaptive" in res.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_cli_lpu_only(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD)
    res = runner.invoke(app, ["uncertainty", "evaluate", str(p), "--method", "lpu", "--json", "--k", "2"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["mcm"] is None and out["validation"] is None and out["lpu"]["k"] == 2.0


BAD_CASES = [
    # (replacement applied to GOOD, expected fragments of the error message)
    (
        ('distribution = "triangular"', 'distribution = "weibull"'),
        ["[inputs.OF]", "unknown distribution 'weibull'"],
    ),
    (("value = 20.9\nU = 0.4", "U = 0.4"), ["[inputs.NCV]", "missing parameter 'value'"]),
    (
        ('expression = "AD * NCV * CC * OF * CO2_PER_C"', 'expression = "AD * NCV * CC * OX"'),
        ["OX", "unknown name"],
    ),
    (("mode = 0.98", "mode = 0.98\nstd = -1"), ["[inputs.OF]", "unexpected parameter 'std'"]),
    (("low = 0.96\nhigh = 1.0", "low = 1.0\nhigh = 0.96"), ["[inputs.OF]", "'low' must be < 'high'"]),
    (
        ('expression = "AD * NCV * CC * OF * CO2_PER_C"', 'expression = "__import__(os)"'),
        ["unknown function '__import__'"],
    ),
    (
        ('expression = "AD * NCV * CC * OF * CO2_PER_C"', "expression = \"open('x')\""),
        ["unexpected character", "position 5"],
    ),
    (('expression = "AD * NCV * CC * OF * CO2_PER_C"', 'expression = "AD * (NCV"'), ["expression", "')'"]),
    (
        ('expression = "AD * NCV * CC * OF * CO2_PER_C"', 'expression = "AD * NCV * CC * OF * 44 / 12"'),
        ["[model] units", "carbon_mass", "CO2_PER_C"],
    ),
    (("r = -0.3", "r = -1.3"), ["[[correlations]] #1", "[-1, 1]"]),
    (('b = "CC"', 'b = "XX"'), ["[[correlations]] #1", "unknown input 'XX'"]),
    (('[model]\noutput = "E"', '[model]\noutputs = "E"'), ["[model]", "outputs"]),
    (("value = 1.0e5\nmpe = 2.0e3", 'value = 1.0e5\nmpe = "big"'), ["[inputs.AD]", "'mpe' must be a number"]),
]


@pytest.mark.parametrize(("change", "fragments"), BAD_CASES)
def test_bad_model_files_name_file_and_field(
    tmp_path: Path, change: tuple[str, str], fragments: list[str]
) -> None:
    assert change[0] in GOOD
    p = write(tmp_path, GOOD.replace(change[0], change[1], 1), "bad.toml")
    with pytest.raises(ModelFileError) as exc:
        load_model(p)
    msg = str(exc.value)
    assert str(p) in msg
    for f in fragments:
        assert f in msg, msg
    res = runner.invoke(app, ["uncertainty", "evaluate", str(p)])
    assert res.exit_code == 1
    flat = "".join(res.output.split())  # rich wraps long paths, at a space or inside a word: compare without whitespace
    assert "bad.toml" in flat
    for f in fragments:  # markup-like text ([inputs.AD]) must survive the console
        assert "".join(f.split()) in flat, flat


def test_negative_std_is_named(tmp_path: Path) -> None:
    text = GOOD.replace("value = 20.9\nU = 0.4\nk = 2", "mean = 20.9\nstd = -0.2")
    with pytest.raises(ModelFileError, match=r"\[inputs\.NCV\].*'std' must be ≥ 0"):
        load_model(write(tmp_path, text))


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="invalid TOML"):
        load_model(write(tmp_path, "[model\noutput = 1"))
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model(tmp_path / "nope.toml")
    with pytest.raises(ModelFileError, match="missing field 'expression'"):
        load_model(
            write(tmp_path, '[model]\noutput = "y"\n[inputs.x]\ndistribution = "constant"\nvalue = 1\n')
        )


def test_model_yielding_nan_for_some_trials(tmp_path: Path) -> None:
    text = """
[model]
output = "q"
expression = "K * sqrt(dp - 0.5)"

[inputs.K]
distribution = "normal"
mean = 10
std = 0.1

[inputs.dp]
distribution = "rectangular"
low = 0.4
high = 1.6
"""
    p = write(tmp_path, text, "nan.toml")
    res = runner.invoke(app, ["uncertainty", "evaluate", str(p), "--trials", "20000", "--seed", "1"])
    assert res.exit_code == 1
    out = res.output.replace("\n", "")
    assert "nan.toml" in out and "sqrt(dp - 0.5)" in out and "dp" in out and "NaN" in out


def test_docs_examples_are_valid(tmp_path: Path) -> None:
    """Every ```toml block in docs/uncertainty.md loads and evaluates by LPU."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "uncertainty.md"
    blocks = doc.read_text(encoding="utf-8").split("```toml")[1:]
    assert blocks
    for n, blk in enumerate(blocks):
        p = write(tmp_path, blk.split("```")[0], f"doc{n}.toml")
        res = runner.invoke(app, ["uncertainty", "evaluate", str(p), "--method", "lpu", "--json"])
        assert res.exit_code == 0, (n, res.output)
