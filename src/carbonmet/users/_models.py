"""The identity tables (用户、角色与核查分配), on :class:`carbonmet.db.Base`.

``app_user`` holds one row per user (the password only as an Argon2id hash), ``verifier_assignment`` one row per
enterprise assigned to a verifier (key ``<verifier>/<org>``), ``api_key`` one row per key (only the SHA-256 of the
secret; the key is shown once). Every change is logged in the audit chain under the table's name and the row's key,
and reconciled (:func:`carbonmet.db.reconcile`).
"""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, KeyedReconciler, register_reconciler

USER, ASSIGNMENT, API_KEY = "app_user", "verifier_assignment", "api_key"
#: The four roles (角色): 主管部门, 计量中心, 核查机构, 企业.
ROLES = ("regulator", "centre", "verifier", "enterprise")


class User(Base):
    """A person or service account that signs in (用户)."""

    __tablename__ = USER
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    org_code: Mapped[str | None] = mapped_column(String(64))  # the enterprise of an enterprise user
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[str] = mapped_column(String(40))
    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="ck_app_user_role"),)


class VerifierAssignment(Base):
    """An enterprise a verifier (核查机构) may read (核查分配)."""

    __tablename__ = ASSIGNMENT
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_key: Mapped[str] = mapped_column(String(140), unique=True)  # "<verifier>/<org>"
    username: Mapped[str] = mapped_column(String(64), index=True)
    org_code: Mapped[str] = mapped_column(String(64))


class ApiKey(Base):
    """A key for a device or a script, acting as its user (接口密钥); only the secret's SHA-256 is kept."""

    __tablename__ = API_KEY
    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(128))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(40))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


register_reconciler(USER, lambda: KeyedReconciler(User, "username"))
register_reconciler(ASSIGNMENT, lambda: KeyedReconciler(VerifierAssignment, "assignment_key"))
register_reconciler(API_KEY, lambda: KeyedReconciler(ApiKey, "key_id"))
