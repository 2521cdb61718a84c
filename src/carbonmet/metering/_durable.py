"""Durable file writes: temp file, fsync, rename, fsync of the directory.

A reader sees either the old state or the complete new file, never a partial one, and once a
function here has returned the data survives a crash or power loss of the machine (as far as the
file system honours fsync).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def fsync_dir(path: Path) -> None:
    """fsync a directory so that a rename or create inside it is durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


#: A temporary file of this module: ``.<name>.<pid>.tmp``.
_TMP = re.compile(r"^\..+\.(\d+)\.tmp$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_tmp(root: Path) -> list[Path]:
    """Remove the temporary files under ``root`` left by processes that no longer run (killed mid-write).

    A temporary file is never read (the rename publishes a complete file), so one whose process is gone
    is garbage. Files of running processes (this one included) are kept: they may still be renamed.

    Returns
    -------
    list of Path
        The files removed.
    """
    removed: list[Path] = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            m = _TMP.match(name)
            if m is None or _alive(int(m.group(1))):
                continue
            p = Path(dirpath) / name
            try:
                p.unlink()
            except FileNotFoundError:
                continue
            removed.append(p)
    return removed


def write_bytes_durable(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably."""
    makedirs_durable(path.parent)
    tmp = _tmp_name(path)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_parquet_durable(path: Path, table: pa.Table) -> None:
    """Write a Parquet file atomically and durably (zstd-compressed)."""
    makedirs_durable(path.parent)
    tmp = _tmp_name(path)
    with open(tmp, "wb") as fh:
        pq.write_table(table, fh, compression="zstd")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def makedirs_durable(path: Path) -> None:
    """Create ``path`` and parents, fsyncing each new directory's parent."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(exist_ok=True)
        fsync_dir(d.parent)


def write_parquet_many_durable(items: list[tuple[Path, pa.Table]], workers: int = 8) -> None:
    """Write several Parquet files durably, overlapping their writes and fsyncs in threads.

    Same guarantee as :func:`write_parquet_durable` for every file once this returns: each file is
    written to a temp name and fsynced, renamed into place, and each directory touched is fsynced.
    """
    from concurrent.futures import ThreadPoolExecutor

    if not items:
        return
    dirs = sorted({p.parent for p, _ in items})
    for d in dirs:
        makedirs_durable(d)

    def write_tmp(item: tuple[Path, pa.Table]) -> tuple[Path, Path]:
        path, table = item
        tmp = _tmp_name(path)
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh, compression="zstd")
            fh.flush()
            os.fsync(fh.fileno())
        return tmp, path

    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as ex:
        done = list(ex.map(write_tmp, items))
        for tmp, path in done:
            os.replace(tmp, path)
        list(ex.map(fsync_dir, dirs))
