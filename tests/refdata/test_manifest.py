"""Reading a manifest: any bytes give either a Manifest or a RefdataError naming the file (hypothesis)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmet.refdata import Manifest, RefdataError


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=200),
                      st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=5), max_size=6)
                      .map(lambda d: json.dumps(d).encode())))
def test_manifest_read_never_crashes_otherwise(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "manifest.json"
    p.write_bytes(data)
    try:
        m = Manifest.read(p)
    except RefdataError as exc:
        assert str(p) in str(exc)
    else:
        assert isinstance(m, Manifest)


def test_manifest_round_trip(tmp_path: Path) -> None:
    m = Manifest(version="refdata-1.0", seed=1, year=2025, enterprises=1, resolution="hour", generator="x",
                 faults=[{"kind": "gap", "point_id": "E01.X"}], counts={"readings": 3})
    m.write(tmp_path / "manifest.json")
    assert Manifest.read(tmp_path) == m
    with pytest.raises(RefdataError, match="not a refdata manifest"):
        Manifest.read(tmp_path / "missing.json")
