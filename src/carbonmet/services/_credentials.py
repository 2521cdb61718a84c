"""HJ 212 access passwords of data loggers (数采仪访问密码): setting one, and the server's check.

The password of a logger (MN) is held in the registry as a salted scrypt hash
(:func:`carbonmet.registry.set_logger_password`). Setting it is a write of the enterprise(s) whose
measurement points carry that MN: the write guard refuses it outside the caller's write scope.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ._deps import set_logger_password, verify_logger_password
from ._guard import guarded_write
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace


@use_case("write")
def set_hj212_password(ws: Workspace, scope: Scope, mn: str, password: str) -> dict[str, Any]:
    """Set (or change) the HJ 212 access password PW of data logger ``mn`` (设置数采仪密码).

    Parameters
    ----------
    mn : str
        The logger's MN, as carried by its measurement points (``hj212_mn``).
    password : str
        1 to 6 printable ASCII characters without spaces (HJ 212-2017 Table 3); stored only as a salted
        scrypt hash, the change audited.

    Returns
    -------
    dict
        ``mn`` and ``action`` (``set``).

    Raises
    ------
    AccessDenied
        A point carrying ``mn`` belongs to an enterprise outside the write scope (nothing is changed).
    carbonmet.registry.NotFound, carbonmet.registry.RegistryError
        No point carries ``mn``; ``mn`` or ``password`` malformed (the error names the field).
    """
    with guarded_write(ws, scope, "HJ 212 数采仪密码 logger password") as s:
        set_logger_password(s, mn, password, actor=scope.actor)
    return {"mn": mn, "action": "set"}


def password_checker(ws: Workspace) -> Any:
    """An async ``check_password(mn, pw) -> bool`` for the HJ 212 server over the workspace's registry.

    Each call reads the stored hash and runs scrypt in a worker thread (the event loop is not held);
    a logger without a stored password is refused.
    """

    def check(mn: str, pw: str) -> bool:
        with ws.session() as s:
            return verify_logger_password(s, mn, pw)

    async def check_password(mn: str, pw: str) -> bool:
        return await asyncio.to_thread(check, mn, pw)

    return check_password
