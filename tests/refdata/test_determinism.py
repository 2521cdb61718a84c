"""Same seed → byte-identical files (Parquet, CSV, XLSX, DCC, HJ 212 log, manifest); another seed → another region."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from carbonmet.refdata import RefdataError, generate


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_region(tmp_path: Path) -> None:
    m1 = generate(tmp_path / "a", enterprises=2, seed=3)
    m2 = generate(tmp_path / "b", enterprises=2, seed=3)
    h1, h2 = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert h1 == h2
    assert any(k.endswith(".parquet") for k in h1) and "registry/registry.xlsx" in h1
    assert any(k.startswith("registry/dcc/") for k in h1) and any(k.endswith(".log") for k in h1)
    assert m1.files == m2.files and len(m1.files) == len(h1) - 1  # every file but the manifest itself
    m3 = generate(tmp_path / "c", enterprises=2, seed=4)
    h3 = _hashes(tmp_path / "c")
    common = set(h1) & set(h3)
    assert sum(h1[k] != h3[k] for k in common) > 0.9 * len(common)
    for m in (m1, m3):  # both plausible
        for e in m.enterprises_list:
            lo, hi = e["target_direct"]
            assert lo <= e["intensity_direct_gross"] <= hi


def test_bad_parameters_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RefdataError, match="enterprises"):
        generate(tmp_path / "x", enterprises=0)
    with pytest.raises(RefdataError, match="resolution"):
        generate(tmp_path / "x", resolution="second")
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "keep.txt").write_text("user file")
    with pytest.raises(RefdataError, match="not empty"):
        generate(tmp_path / "y", enterprises=1)
    assert (tmp_path / "y" / "keep.txt").read_text() == "user file"
