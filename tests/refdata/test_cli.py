"""``carbonmet refdata generate`` end to end (real files, no mocks)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.refdata import Manifest


def test_cli_generates_and_refuses_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "rd"
    res = runner.invoke(app, ["refdata", "generate", "--enterprises", "1", "--seed", "5", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["counts"]["readings"] > 100_000 and info["seed"] == 5
    m = Manifest.read(out / "manifest.json")
    assert m.enterprises == 1 and m.resolution == "hour" and m.counts == info["counts"]
    again = runner.invoke(app, ["refdata", "generate", "--enterprises", "1", "--out", str(out)])
    assert again.exit_code == 1 and "not empty" in again.output
    bad = runner.invoke(app, ["refdata", "generate", "--out", str(out), "--resolution", "second"])
    assert bad.exit_code != 0
