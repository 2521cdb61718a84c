"""Per-process caches of read results keyed by the data version (读取缓存).

Every write that changes what a read use case answers — registry, certificates, users and assignments, plans, lab
results, factors — appends to the hash-chained audit log in the same transaction, so the head of the log (its
last sequence number and hash) names the registry's state: :func:`registry_version` reads it with one indexed
query (~0.1–0.3 ms), and a result cached under it is the one a fresh computation would give for as long as the
head is unchanged. The head is read *before* the result is computed, so a result is never older than its key.
Readings are not in the audit log: results that depend on the store add its journal generation to the key
(``_accounting._data_version``). What the key cannot see: rows written into the database bypassing the services
(by hand, with SQL); restart the server after doing that.

Cached values are shared between requests and threads: treat them as read-only.

Within :func:`cache_only` a look-up that would compute raises :class:`CacheMiss` instead: a caller on an event
loop answers from the caches there and sends only a miss to a worker thread (the web layer's ``served``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from ._workspace import Workspace

V = TypeVar("V")

_HEAD = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"

_only: ContextVar[bool] = ContextVar("carbonmet_cache_only", default=False)


class CacheMiss(Exception):
    """Raised within :func:`cache_only` where a cached result is absent and would have to be computed."""


@contextmanager
def cache_only() -> Iterator[None]:
    """Within the block (this thread or task, :mod:`contextvars`), a cache look-up that misses raises
    :class:`CacheMiss` instead of computing: the work done is the look-ups' keys (the data version: an indexed
    query, the store journal's stamp) and the hits."""
    token = _only.set(True)
    try:
        yield
    finally:
        _only.reset(token)


def cache_only_active() -> bool:
    """Whether the caller is within :func:`cache_only` (for caches of other layers that honour it)."""
    return _only.get()


class LRUCache(Generic[V]):
    """A bounded, thread-safe least-recently-used map with :meth:`get_or_compute`.

    Parameters
    ----------
    maxsize : int
        Entries kept; the least recently used leaves first.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be ≥ 1")
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value under ``key``; computed (outside the lock) and kept when absent. Two threads missing the same
        key at once compute it once each and keep the later: never a wrong value, at worst a duplicate effort.
        An exception from ``compute`` propagates and nothing is kept. Within :func:`cache_only`, absent raises
        :class:`CacheMiss`."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            if _only.get():
                raise CacheMiss(key)
            self.misses += 1
        value = compute()
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def registry_version(ws: Workspace) -> tuple[Any, ...]:
    """The registry's data version: its database URL (password hidden) and the audit log's head ``(seq, hash)``
    (``None`` for an empty log). Any audited write makes a new version."""
    engine = ws.engine
    # the driver's connection from the pool, not a SQLAlchemy Connection: ~0.1 ms instead of ~0.4 ms a call
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        try:
            cur.execute(_HEAD)
            head = cur.fetchone()
        finally:
            cur.close()
    finally:
        conn.close()  # back to the pool
    return (engine.url.render_as_string(hide_password=True), tuple(head) if head is not None else None)


def scope_key(scope: Any) -> tuple[Any, ...]:
    """What of a :class:`Scope` decides what a read returns (not the actor)."""
    return (scope.read, scope.all_access, scope.read_all)
