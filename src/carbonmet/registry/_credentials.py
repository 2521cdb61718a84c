"""HJ 212 access passwords of data loggers (数采仪访问密码), held as salted scrypt hashes.

A data logger (数采仪, identified by its MN) is registry equipment; its access password PW
(HJ 212-2017 clause 6.3.2 Table 3: up to 6 printable characters) is what the HJ 212 server checks
every packet against. Only a salted scrypt hash is stored (``scrypt$N$r$p$salt$hash``, hex), so the
database and its audit log never hold the password. Every change is audited
(:func:`carbonmet.db.record`, entity ``hj212_credential``, key the MN) and reconciled.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..db import Base, KeyedReconciler, record, register_reconciler
from ._errors import FieldError, NotFound
from ._models import MeasurementPoint

#: scrypt cost (RFC 7914): N = 2**14, r = 8, p = 1 (about 16 MiB and a few tens of ms per check).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_PW = re.compile(r"[!-~]{1,6}\Z")  # Table 3: printable ASCII, no space; empty is no password
_MN = re.compile(r"[0-9A-Za-z]{1,24}\Z")


class LoggerCredential(Base):
    """The access password hash of one data logger (MN)."""

    __tablename__ = "hj212_credential"
    id: Mapped[int] = mapped_column(primary_key=True)
    mn: Mapped[str] = mapped_column(String(24), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))


register_reconciler("hj212_credential", lambda: KeyedReconciler(LoggerCredential, "mn"))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password``: ``scrypt$N$r$p$<salt hex>$<hash hex>``."""
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def _matches(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = _derive(password, bytes.fromhex(salt), int(n), int(r), int(p))
        return hmac.compare_digest(got, bytes.fromhex(digest))
    except ValueError:  # a malformed stored hash refuses
        return False


def set_logger_password(session: Session, mn: str, password: str, actor: str = "system") -> LoggerCredential:
    """Set (or change) the HJ 212 access password of logger ``mn``; audited in the caller's transaction.

    Parameters
    ----------
    session : Session
        The registry session (committed by the caller).
    mn : str
        The logger's MN; some measurement point of the registry must carry it (``hj212_mn``).
    password : str
        PW as the logger sends it: 1 to 6 printable ASCII characters without spaces (Table 3).
    actor : str
        Who made the change (audit log).

    Raises
    ------
    FieldError
        ``mn`` or ``password`` malformed (field ``mn`` / ``password``).
    NotFound
        No measurement point has this MN.
    """
    if not _MN.match(mn):
        raise FieldError("mn", f"MN {mn!r} is not 1 to 24 letters or digits")
    if not _PW.match(password):
        raise FieldError("password", "密码须为 1–6 个可打印 ASCII 字符 PW must be 1 to 6 printable ASCII characters "
                                     "without spaces (HJ 212-2017 Table 3)")
    if session.scalar(select(MeasurementPoint.id).where(MeasurementPoint.hj212_mn == mn).limit(1)) is None:
        raise NotFound(f"没有计量点使用此数采仪 no measurement point has hj212_mn {mn!r}")
    obj = session.scalar(select(LoggerCredential).where(LoggerCredential.mn == mn))
    action = "update"
    if obj is None:
        obj = LoggerCredential(mn=mn, password_hash=hash_password(password))
        session.add(obj)
        action = "create"
    else:
        obj.password_hash = hash_password(password)
    session.flush()
    record(session, actor=actor, action=action, entity="hj212_credential", key=mn,
           data={"id": obj.id, "mn": obj.mn, "password_hash": obj.password_hash})
    return obj


def verify_logger_password(session: Session, mn: str, password: str) -> bool:
    """Whether ``password`` is the stored access password of logger ``mn`` (False if none is set or PW empty).

    The comparison is constant-time (:func:`hmac.compare_digest`) over the scrypt hashes.
    """
    if not password:
        return False
    stored = session.scalar(select(LoggerCredential.password_hash).where(LoggerCredential.mn == mn))
    return stored is not None and _matches(stored, password)


def loggers_with_password(session: Session) -> set[str]:
    """The MNs that have an access password set."""
    return set(session.scalars(select(LoggerCredential.mn)))
