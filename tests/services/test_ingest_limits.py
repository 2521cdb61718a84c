"""``ingest_files`` refuses a file over the size limit before reading it: the error names the file and the
limit, no memory is spent on it, and nothing of the call is stored."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from carbonmet.services import Scope, ServiceError, Workspace, ingest_files
from carbonmet.tabular import DEFAULT_LIMITS, TabularError, read_limited

LIMIT = DEFAULT_LIMITS.max_bytes


def _sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space (a hole), written in the first line like a CSV."""
    with path.open("wb") as fh:
        fh.write(b"point_id,ts,value\n")
        fh.truncate(size)
    return path


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    w = Workspace(f"sqlite:///{tmp_path / 'r.db'}", store_root=tmp_path / "store")
    yield w
    w.close()


def test_ingest_files_refuses_a_file_over_the_size_limit_before_reading_it(ws: Workspace, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("point_id,ts,value\nE01.X,2025-01-01T00:00:00+08:00,1\n", encoding="utf-8")
    big = _sparse(tmp_path / "huge.csv", LIMIT + 1)
    tracemalloc.start()
    try:
        with pytest.raises(ServiceError) as exc:
            ingest_files(ws, Scope.centre(), [good, big])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    msg = str(exc.value)
    assert str(big) in msg and f"{LIMIT + 1} bytes" in msg and f"limit of {LIMIT} bytes" in msg and "256 MiB" in msg
    assert peak < 8 * 2**20, f"{peak} bytes allocated while refusing a {LIMIT + 1}-byte file"
    # refused before anything was read or stored: not even the good file that came first
    store = tmp_path / "store"
    assert not list(store.rglob("*.parquet")) and not [p for p in store.rglob("*") if p.is_file()
                                                       and p.parent.name != store.name]


def test_read_limited_refuses_a_file_larger_than_its_size_says(tmp_path: Path) -> None:
    """A file whose size the file system does not know (a special file reads as size 0; a file that grows
    between the size check and the read is the same case) is read only up to the limit and refused."""
    from carbonmet.tabular import Limits

    small = Limits(max_bytes=4096)
    f = tmp_path / "over.csv"
    f.write_bytes(b"x" * 5000)
    with pytest.raises(TabularError) as exc:
        read_limited(f, small)
    assert exc.value.field == "limit" and "5000 bytes" in exc.value.reason and "4096" in exc.value.reason
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero here")
    assert zero.stat().st_size == 0
    with pytest.raises(TabularError) as exc:
        read_limited(zero, small)
    assert exc.value.field == "limit" and "more than 4096 bytes" in exc.value.reason
    assert read_limited(f) == b"x" * 5000
    with pytest.raises(TabularError) as exc:
        read_limited(tmp_path / "missing.csv")
    assert exc.value.field == "file" and "missing.csv" in str(exc.value)
