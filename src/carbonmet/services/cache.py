"""The services' per-process read caches, for callers that must not compute on their own thread (读取缓存).

:func:`cache_only` makes a use case answer from the caches or raise :class:`CacheMiss` without computing; the web
layer calls a use case that way on its event loop and, on a miss, again in a worker thread (docs/web.md).
"""

from ._cache import CacheMiss, cache_only, cache_only_active

__all__ = ["CacheMiss", "cache_only", "cache_only_active"]
