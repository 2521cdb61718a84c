"""A cheap stamp of what a readings store holds, for caches (存储版本戳): read from the store's journal through a
kept read-only connection, without opening the store."""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class _Watch:
    """A read-only connection kept on one store's journal and the stamp last read through it."""

    pid: int
    ino: tuple[int, int]
    con: sqlite3.Connection
    version: int
    stamp: tuple[int, str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False


_WATCHED = 16  # journals watched per process (least recently used closed first)
_watches: dict[Path, _Watch] = {}
_watches_lock = threading.Lock()
_GENERATION = "SELECT count(*), max(finished) FROM batches WHERE state='done'"


def _drop(w: _Watch) -> None:
    """Close a watch no longer in the table (after any call using it returned; a forked child's copy is left)."""
    if w.pid == os.getpid():
        with w.lock:
            w.closed = True
            w.con.close()


def _watch(path: Path, ino: tuple[int, int]) -> _Watch | None:
    """The kept connection on the journal at ``path`` (opened when absent, reopened when the file was replaced or
    the process forked); ``None`` while the journal has no tables yet."""
    with _watches_lock:
        w = _watches.get(path)
        if w is not None and w.pid == os.getpid() and w.ino == ino:
            _watches[path] = _watches.pop(path)  # most recently used last
            return w
    con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    try:
        version = int(con.execute("PRAGMA data_version").fetchone()[0])
        n, last = con.execute(_GENERATION).fetchone()
    except sqlite3.OperationalError:  # created but its tables not yet: nothing committed
        con.close()
        return None
    except BaseException:
        con.close()
        raise
    w = _Watch(os.getpid(), ino, con, version, (int(n), str(last or "")))
    dropped = []
    with _watches_lock:
        old = _watches.pop(path, None)
        if old is not None:
            dropped.append(old)
        _watches[path] = w
        while len(_watches) > _WATCHED:
            dropped.append(_watches.pop(next(iter(_watches))))
    for d in dropped:
        _drop(d)
    return w


def store_generation(root: str | os.PathLike[str]) -> tuple[int, str]:
    """A cheap stamp of the readings committed to the store at ``root``: (committed batches, the last one's finish
    time), read from its journal without opening the store (no recovery, no locks).

    It changes whenever an ingest commits, in this process or another one on the same store; a compaction keeps
    the rows, so it keeps the stamp. Files written into the layout directly (the reference generator) are not
    in the journal. ``(0, "")`` for a store never opened.

    A read-only connection to the journal is kept per process (at most 16 journals): while SQLite's
    ``PRAGMA data_version`` on it is unchanged — no other connection, in any process, committed to the journal —
    the last stamp is returned without querying (~0.01 ms instead of ~0.5 ms for a new connection and the count).
    A journal file replaced by another (new inode) is reopened.
    """
    path = Path(root).absolute() / "journal.sqlite"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return 0, ""
    w = _watch(path, (st.st_dev, st.st_ino))
    if w is None:
        return 0, ""
    with w.lock:
        if w.closed:  # replaced by another thread in the meantime: ask again
            return store_generation(root)
        version = int(w.con.execute("PRAGMA data_version").fetchone()[0])
        if version != w.version:
            n, last = w.con.execute(_GENERATION).fetchone()
            w.version, w.stamp = version, (int(n), str(last or ""))
        return w.stamp
