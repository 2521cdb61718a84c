"""Who is calling: the organisations a caller may read and those it may write (租户范围).

Every use case takes a :class:`Scope`; the few methods here are the only places where tenancy is
decided (:meth:`Scope.check_read`, :meth:`Scope.check_write`, :meth:`Scope.check_centre` and the query
filter :meth:`Scope.where`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ._errors import AccessDenied, NotInScope

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Scope:
    """The organisations (by org code) a caller may read and write.

    Parameters
    ----------
    read : frozenset of str
        Organisation codes whose records the caller may read.
    write : frozenset of str
        Organisation codes whose records the caller may create or change; must be a subset of ``read``.
    all_access : bool
        The centre (计量中心) or an administrator, and ``make demo``: every organisation, read and write,
        and the centre-only use cases (audit verification).
    actor : str
        Who is acting, as written to the audit log.
    read_all : bool
        The regulator (主管部门): reads the records of every organisation, writes none, and is not the
        centre (no centre-only use case, no record of no known organisation).

    Notes
    -----
    A caller with an empty scope reads nothing and writes nothing. Build scopes with
    :meth:`enterprise`, :meth:`of`, :meth:`centre`, :meth:`regulator` or :meth:`nobody`.
    """

    read: frozenset[str] = field(default_factory=frozenset)
    write: frozenset[str] = field(default_factory=frozenset)
    all_access: bool = False
    actor: str = "system"
    read_all: bool = False

    def __post_init__(self) -> None:
        if self.read_all and (self.write or self.all_access):
            raise ValueError("监管只读范围不能写入 a read-all (regulator) scope writes nothing")
        if not self.all_access and not self.write <= self.read:
            extra = ", ".join(sorted(self.write - self.read))
            raise ValueError(f"写入范围须在读取范围内 write scope must be within the read scope: {extra}")

    @classmethod
    def of(cls, read: Iterable[str] = (), write: Iterable[str] = (), *, actor: str = "system") -> Scope:
        """A scope reading ``read`` and writing ``write`` (the written ones are readable too)."""
        w = frozenset(write)
        return cls(frozenset(read) | w, w, False, actor)

    @classmethod
    def enterprise(cls, *orgs: str, actor: str | None = None) -> Scope:
        """An enterprise user: reads and writes its own organisation(s) only."""
        return cls.of(orgs, orgs, actor=actor or (orgs[0] if orgs else "system"))

    @classmethod
    def centre(cls, actor: str = "centre") -> Scope:
        """The centre, an administrator or ``make demo``: every organisation."""
        return cls(frozenset(), frozenset(), True, actor)

    @classmethod
    def regulator(cls, actor: str = "regulator") -> Scope:
        """The regulator (主管部门): reads every organisation's records, writes none, is not the centre."""
        return cls(frozenset(), frozenset(), False, actor, True)

    @classmethod
    def nobody(cls, actor: str = "anonymous") -> Scope:
        """A caller without any scope: reads nothing, writes nothing."""
        return cls(frozenset(), frozenset(), False, actor)

    # --- the decisions -----------------------------------------------------------------------------
    def can_read(self, org: str | None) -> bool:
        """Whether records of ``org`` may be read (a record of no known organisation: centre only)."""
        return self.all_access or (org is not None and (self.read_all or org in self.read))

    @property
    def reads_every_organisation(self) -> bool:
        """Whether every organisation's records are readable (the centre and the regulator)."""
        return self.all_access or self.read_all

    def can_write(self, org: str | None) -> bool:
        """Whether records of ``org`` may be created or changed."""
        return self.all_access or (org is not None and org in self.write)

    def check_read(self, org: str | None, what: str, key: str) -> None:
        """Raise :class:`NotInScope` unless ``org`` is readable (same message as a missing record)."""
        if not self.can_read(org):
            raise NotInScope(what, key)

    def check_write(self, org: str | None, action: str) -> None:
        """Raise :class:`AccessDenied` naming ``org`` unless it is writable."""
        if not self.can_write(org):
            raise AccessDenied(org if org is not None else "?", action)

    def check_centre(self, action: str) -> None:
        """Raise :class:`AccessDenied` unless this is the all-access (centre) scope."""
        if not self.all_access:
            raise AccessDenied(None, action)

    def where(self, stmt: S, org_code: Any) -> S:
        """``stmt`` (a SQLAlchemy select) filtered to rows whose ``org_code`` column is readable."""
        if self.all_access:
            return stmt
        if self.read_all:  # every organisation, but never a row of no organisation
            return stmt.where(org_code.is_not(None))  # type: ignore[attr-defined,no-any-return]
        return stmt.where(org_code.in_(sorted(self.read)))  # type: ignore[attr-defined,no-any-return]
