"""Errors of the service layer: a read outside the caller's scope, a write it may not make."""

from __future__ import annotations

from carbonmet.quantities import CarbonmetError


class ServiceError(CarbonmetError):
    """A use case could not be carried out (bad input, missing workspace part)."""


class NotInScope(ServiceError, LookupError):
    """A named record does not exist, or it belongs to an organisation the caller may not read.

    The two cases give the same message on purpose: telling them apart would tell a caller that a
    record of another organisation exists.
    """

    def __init__(self, what: str, key: str) -> None:
        self.what = what
        self.key = key
        super().__init__(
            f"{what} {key!r} 不存在或不在读取范围内 / {what} {key!r} does not exist or is outside your read scope"
        )


class AccessDenied(ServiceError, PermissionError):
    """A write to an organisation outside the caller's write scope, or a centre-only use case."""

    def __init__(self, org: str | None, action: str) -> None:
        self.org = org
        self.action = action
        if org is None:
            msg = f"仅限中心（全部权限）调用：{action} / only the centre (all-access scope) may {action}"
        else:
            msg = (f"无权写入单位 {org}：{action} / no write access to organisation {org}: {action}")
        super().__init__(msg)
