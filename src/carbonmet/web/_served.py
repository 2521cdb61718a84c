"""Use cases called from the event loop when their results are cached, from a worker thread otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from carbonmet.services.cache import CacheMiss, cache_only

P = ParamSpec("P")
T = TypeVar("T")


async def served(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` on the event loop while every result it needs is in the services' caches (and a
    rendering in :func:`json_of`'s), else in the thread pool.

    A cached answer costs its keys (the audit log's head: one indexed query, as the caller check on every request
    already makes; the store journal's stamp) and look-ups: less than the trip to a worker thread and back, which
    on a busy machine waits for the worker to be scheduled and for the GIL. Anything to compute (an account after
    a change of data, a first listing) goes to a worker thread and leaves the loop serving the others. ``fn`` runs
    twice on a miss: it must be a read (it is: a read use case and its rendering).
    """
    try:
        with cache_only():
            return fn(*args, **kwargs)
    except CacheMiss:
        pass
    return await run_in_threadpool(fn, *args, **kwargs)
