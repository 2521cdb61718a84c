"""The registry of use cases: each public service function declares how tenancy applies to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

F = TypeVar("F", bound=Callable[..., object])

Tenancy = Literal["read", "write", "centre", "none"]
"""``read``: results filtered to the read scope; ``write``: every change checked against the write
scope; ``centre``: all-access scope only; ``none``: touches no organisation's data."""

USE_CASES: dict[str, Tenancy] = {}
"""Name of every use case → its :data:`Tenancy` (filled by :func:`use_case`)."""


def use_case(tenancy: Tenancy) -> Callable[[F], F]:
    """Register a service function as a use case with its tenancy kind."""

    def mark(fn: F) -> F:
        USE_CASES[fn.__name__] = tenancy
        return fn

    return mark
