"""Every registry error, importable by name (the ones callers usually catch are also in :mod:`carbonmet.registry`).

:class:`RegistryError` is the base; :class:`NotFound` (a look-up found nothing), :class:`FieldError` (one field
of one record is wrong), :class:`ImportRejected` (an import refused as a whole, with a :class:`RowProblem`
for each file, row and field), :class:`AuditChainBroken`, :class:`SignatureRefused` (a DCC
whose signature check failed, not accepted).
"""

from ._errors import (
    AuditChainBroken,
    FieldError,
    ImportRejected,
    NotFound,
    RegistryError,
    RowProblem,
    SignatureRefused,
)

__all__ = [
    "AuditChainBroken",
    "FieldError",
    "ImportRejected",
    "NotFound",
    "RegistryError",
    "RowProblem",
    "SignatureRefused",
]
