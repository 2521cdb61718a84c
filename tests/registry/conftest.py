"""A small sample registry: one enterprise, a three-level gas-flow traceability chain, five instruments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine

DATA = Path(__file__).parent / "data"
TABLES = ["organisations", "sites", "points", "standards", "instruments", "certificates"]


@pytest.fixture
def sample_files(tmp_path: Path) -> list[Path]:
    out = []
    for t in TABLES:
        dst = tmp_path / f"{t}.csv"
        shutil.copy(DATA / f"{t}.csv", dst)
        out.append(dst)
    return out


@pytest.fixture
def sample(engine: Engine, sample_files: list[Path]) -> Engine:
    from carbonmet.registry import import_files

    import_files(engine, sample_files, actor="test")
    return engine
