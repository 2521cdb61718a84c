"""Errors of the registry package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..quantities import CarbonmetError


class RegistryError(CarbonmetError):
    """A registry operation was refused (unknown key, inconsistent data)."""


class NotFound(RegistryError, LookupError):
    """A record named by its key does not exist."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One bad field of one row of an import file."""

    file: str
    row: int  # spreadsheet row number: the header is row 1
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.field}: {self.reason}"


class ImportRejected(RegistryError):
    """An import file had bad rows; nothing of it was committed. ``problems`` lists every one."""

    def __init__(self, file: str, problems: list[RowProblem]) -> None:
        self.file = file
        self.problems = problems
        self.imported: list[Any] = []  # reports of files committed before this one (import_files)
        lines = "\n".join(f"  {p}" for p in problems[:200])
        more = f"\n  … and {len(problems) - 200} more" if len(problems) > 200 else ""
        super().__init__(
            f"{file}: {len(problems)} 处错误，未导入任何记录 / {len(problems)} problem(s), nothing imported:\n{lines}{more}"
        )


class AuditChainBroken(RegistryError):
    """The audit log's hash chain does not verify."""


class FieldError(RegistryError):
    """A field refers to something that does not exist or conflicts with stored data."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class SignatureRefused(FieldError):
    """A DCC whose XML signature check failed (invalid, signer untrusted or revoked) and was not accepted.

    ``check`` is the :class:`carbonmet.registry.dcc.SignatureCheck`; ``cert_no`` the certificate number.
    """

    def __init__(self, cert_no: str, check: Any) -> None:
        self.cert_no = cert_no
        self.check = check
        super().__init__(
            "ds:Signature",
            f"证书 {cert_no} 拒绝导入：{check.reason} / certificate {cert_no!r} refused: signature status "
            f"{check.status}. 如确需接受，请用 --accept-invalid-signature 说明理由（将被审计并持续标记）/ to accept it "
            "anyway give --accept-invalid-signature with a reason (audited; the certificate stays flagged)")
