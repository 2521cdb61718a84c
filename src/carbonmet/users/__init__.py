"""Users, roles and tenancy grants (用户、角色与租户): who signs in and which organisations that gives.

Four roles: ``regulator`` (主管部门, reads every enterprise, writes nothing), ``centre`` (计量中心, everything),
``verifier`` (核查机构, reads the enterprises assigned to it) and ``enterprise`` (企业, its own data, read and
write). Passwords are kept as Argon2id hashes, API keys as the SHA-256 of their random secret (shown once).
Every change is audited in the hash-chained log and reconciled. The service layer turns a :class:`Grant`
into its ``Scope``; this package knows nothing of services or the web.
"""

from ._errors import AuthenticationFailed, UserError
from ._models import ROLES, ApiKey, User, VerifierAssignment
from ._store import (
    Grant,
    active_grant,
    add_api_key,
    add_user,
    assign,
    find_api_key,
    find_user,
    revoke_api_key,
    set_active,
    user_rows,
    verify_api_key,
    verify_password,
)

__all__ = [
    "ROLES",
    "ApiKey",
    "AuthenticationFailed",
    "Grant",
    "User",
    "UserError",
    "VerifierAssignment",
    "active_grant",
    "add_api_key",
    "add_user",
    "assign",
    "find_api_key",
    "find_user",
    "revoke_api_key",
    "set_active",
    "user_rows",
    "verify_api_key",
    "verify_password",
]
