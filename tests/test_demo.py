"""`make demo` runs the main job end to end (generate → registry → ingest → due/trace → uncertainty → audit)."""

from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from carbonmet import demo

    monkeypatch.chdir(tmp_path)
    assert demo.main(tmp_path / "demo-out") == 0
    assert (tmp_path / "demo-out" / "registry.db").stat().st_size > 0
    assert any((tmp_path / "demo-out" / "store" / "readings").rglob("*.parquet"))
