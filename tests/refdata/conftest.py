"""A small region generated once per test module that needs it (4 enterprises: one of each route)."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonmet.refdata import Manifest, generate


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("region")
    manifest = generate(out, enterprises=4, year=2025, seed=11, resolution="hour")
    return out, manifest
