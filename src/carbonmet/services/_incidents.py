"""Out-of-tolerance incidents of measurement standards (计量标准超差记录): a registry write."""

from __future__ import annotations

from datetime import date
from typing import Any

from ._deps import register_incident
from ._guard import guarded_write
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace


@use_case("write")
def record_incident(
    ws: Workspace, scope: Scope, standard: str, last_good: date, found_on: date, description: str = ""
) -> dict[str, Any]:
    """Record that a measurement standard was found out of tolerance (超差) on ``found_on``.

    The incident belongs to the standard's holder organisation, which must be in the write scope
    (:class:`AccessDenied` naming it otherwise, and nothing is kept). Its consequences are asked
    with :func:`trace_standard` over ``[last_good, found_on]``.

    Returns
    -------
    dict
        ``standard``, ``last_good``, ``found_on`` (ISO dates) and ``description``.
    """
    with guarded_write(ws, scope, "record a standard incident 超差记录") as s:
        inc = register_incident(s, standard, last_good, found_on, description, actor=scope.actor)
        return {"standard": standard, "last_good": inc.last_good.isoformat(),
                "found_on": inc.found_on.isoformat(), "description": inc.description}
