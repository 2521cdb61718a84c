"""Errors of the identity package."""

from __future__ import annotations

from carbonmet.quantities import CarbonmetError


class UserError(CarbonmetError):
    """A user, assignment or key could not be created as asked; ``field`` names the bad input."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class AuthenticationFailed(CarbonmetError):
    """Wrong user name or password, unknown or revoked key, or an inactive user (the same message for all)."""

    def __init__(self) -> None:
        super().__init__("用户名、口令或密钥无效 / invalid user name, password or key")
