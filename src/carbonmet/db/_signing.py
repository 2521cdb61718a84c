"""Signed audit heads (审计链头签名): the operator's Ed25519 key vouches for the chain's head after each write.

The hash chain (:mod:`carbonmet.db._audit`) is computed over public fields: anyone with write access to
the database can append a correctly hashed entry, or rewrite the history and recompute every hash. A
signature by a key that only the operator holds closes that gap:

- after each audited write, the services sign the new head, ``(seq, hash)``, with the operator's key
  and store the signature in ``audit_head_signature`` in the same transaction (:func:`sign_head`);
- :func:`verify_signatures` checks every stored signature against a trusted public key, that each signed
  head is still the entry at that ``seq`` (a rewritten history changes it), and reports every entry after
  the last signed head (an appended entry has no signature, because its author has no key);
- :func:`export_head` gives a small signed file (JSON, :class:`SignedHead`) for a regulator to keep outside
  the database; verifying against it (``signed_head=``) also catches a history rewritten together with its
  stored signatures, and entries removed from the end.

The signed message is ``"carbonmet-audit-head/1" US seq US hash US signed_at`` (US = U+001F), UTF-8, signed
with Ed25519 (RFC 8032).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from carbonmet.quantities import CarbonmetError

from ._audit import AuditEntry, lock_chain
from ._base import Base

#: Format tag of the signed message and of the exported head file.
HEAD_FORMAT = "carbonmet-audit-head/1"


class AuditKeyError(CarbonmetError, ValueError):
    """An audit key or signed-head file is missing, unreadable or of the wrong kind (审计密钥错误)."""


class AuditHeadSignature(Base):
    """A signature of the audit chain's head at ``seq`` by the operator's key (审计链头签名)."""

    __tablename__ = "audit_head_signature"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))


def head_message(seq: int, head_hash: str, signed_at: str) -> bytes:
    """The bytes signed for a head: format tag, ``seq``, ``hash`` and time joined by U+001F."""
    return "\x1f".join((HEAD_FORMAT, str(seq), head_hash, signed_at)).encode("utf-8")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """The key's identifier: SHA-256 (hex) of its 32 raw public-key bytes."""
    return hashlib.sha256(_raw_public(key)).hexdigest()


def generate_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Write a new Ed25519 private key to ``path`` (PKCS#8 PEM, mode 0600) and its public key to ``path.pub``.

    Raises
    ------
    AuditKeyError
        ``path`` exists already (a key is never overwritten: signatures made with it would no longer verify).
    """
    p = Path(path)
    if p.exists():
        raise AuditKeyError(f"密钥文件已存在 key file exists, not overwritten: {p}")
    p.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub = key.public_key()
    Path(f"{p}.pub").write_bytes(
        pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return pub


def load_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey | Ed25519PublicKey:
    """Read an Ed25519 key file: a private key (to sign and verify) or a public key (to verify only).

    Raises
    ------
    AuditKeyError
        The file is missing, not PEM, or not an Ed25519 key (the message names the file).
    """
    return _load(Path(path))


def load_signing_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Read the operator's private Ed25519 key (to sign heads).

    Raises
    ------
    AuditKeyError
        As :func:`load_key`, or the file holds only a public key.
    """
    key = _load(Path(path))
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"审计密钥只有公钥，无法签名 the audit key {path} is a public key; signing needs the "
                            "operator's private key")
    return key


def _load(p: Path) -> Ed25519PrivateKey | Ed25519PublicKey:
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"无法读取审计密钥 cannot read audit key {p}: {exc.strerror or exc} "
                            "(carbonmet audit keygen creates one)") from None
    key: Any
    try:
        key = (serialization.load_pem_public_key(data) if b"PUBLIC KEY" in data
               else serialization.load_pem_private_key(data, password=None))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise AuditKeyError(f"审计密钥无法解析 audit key {p} is not an unencrypted PEM key") from None
    if not isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        raise AuditKeyError(f"审计密钥不是 Ed25519 audit key {p} is not an Ed25519 key ({type(key).__name__})")
    return key


def public_of(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    """The public half of ``key``."""
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def _head(session: Session) -> tuple[int, str] | None:
    row = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return (row.seq, row.hash) if row else None


def sign_head(session: Session, key: Ed25519PrivateKey) -> AuditHeadSignature | None:
    """Sign the chain's current head in the caller's transaction (so the write and its signature commit together).

    Returns
    -------
    AuditHeadSignature or None
        The stored signature; None when the log is empty. Signing a head already signed returns that row.
    """
    lock_chain(session)
    head = _head(session)
    if head is None:
        return None
    seq, h = head
    existing = session.get(AuditHeadSignature, seq)
    if existing is not None:
        if existing.head_hash == h:
            return existing
        raise AuditKeyError(f"链头 #{seq} 已有不同的签名 head #{seq} already carries a signature of another hash: "
                            "run carbonmet audit verify")
    ts = datetime.now(UTC).isoformat(timespec="microseconds")
    sig = AuditHeadSignature(seq=seq, head_hash=h, signed_at=ts, key_id=key_id(key.public_key()),
                             signature=key.sign(head_message(seq, h, ts)).hex())
    session.add(sig)
    session.flush()
    return sig


@dataclass(frozen=True, slots=True)
class SignedHead:
    """A signed head as exported for a regulator to keep (签名链头文件): JSON with these fields."""

    seq: int
    head_hash: str
    signed_at: str
    public_key: str  # 32 raw bytes, hex
    signature: str  # 64 bytes, hex

    @property
    def key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key))

    def check(self) -> bool:
        """True when ``signature`` is the embedded key's signature of this head."""
        try:
            self.key.verify(bytes.fromhex(self.signature), head_message(self.seq, self.head_hash, self.signed_at))
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {"format": HEAD_FORMAT, "seq": self.seq, "head_hash": self.head_hash, "signed_at": self.signed_at,
                "key_id": key_id(self.key), "public_key": self.public_key, "signature": self.signature}

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> SignedHead:
        """Read an exported head file.

        Raises
        ------
        AuditKeyError
            Unreadable, not JSON, another format or a field missing or malformed (named with the file).
        """
        p = Path(path)
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AuditKeyError(f"签名链头文件无法读取 cannot read signed head {p}: {exc}") from None
        if not isinstance(doc, dict) or doc.get("format") != HEAD_FORMAT:
            raise AuditKeyError(f"签名链头文件格式不对 {p} is not a {HEAD_FORMAT} file")
        try:
            head = cls(int(doc["seq"]), str(doc["head_hash"]), str(doc["signed_at"]), str(doc["public_key"]),
                       str(doc["signature"]))
            head.key  # noqa: B018 - the public key must parse
            bytes.fromhex(head.signature)
        except (KeyError, TypeError, ValueError) as exc:
            raise AuditKeyError(f"签名链头文件字段错误 {p}: field {exc}") from None
        return head


def export_head(session: Session, key: Ed25519PrivateKey | Ed25519PublicKey) -> SignedHead:
    """The last signed head, checked, for export (:meth:`SignedHead.to_dict` is the file's content).

    Raises
    ------
    AuditKeyError
        No signed head, the last signature does not verify with ``key``, or entries follow the last
        signed head (they must be verified and signed first: an exported head vouches for the whole log).
    """
    pub = public_of(key)
    row = session.scalars(select(AuditHeadSignature).order_by(AuditHeadSignature.seq.desc()).limit(1)).first()
    if row is None:
        raise AuditKeyError("没有签名的链头 no signed head yet (carbonmet audit sign)")
    head = SignedHead(row.seq, row.head_hash, row.signed_at, _raw_public(pub).hex(), row.signature)
    if not head.check():
        raise AuditKeyError(f"链头 #{row.seq} 的签名与此密钥不符 the signature of head #{row.seq} does not verify "
                            "with this key")
    entry_hash = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == row.seq))
    if entry_hash != row.head_hash:
        raise AuditKeyError(f"链头 #{row.seq} 已不是签名时的条目 entry #{row.seq} differs from its signed head")
    last = session.scalar(select(func.max(AuditEntry.seq))) or 0
    if last > row.seq:
        raise AuditKeyError(f"最后签名的链头之后还有 {last - row.seq} 条未签名条目 {last - row.seq} entries follow "
                            f"the last signed head #{row.seq}: run carbonmet audit verify")
    return head


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """Result of checking the signed heads (签名校验).

    ``checked`` is False when no trusted key was given (signatures cannot prove anything then).
    ``unsigned_after`` counts the entries after the last valid signed head (``last_signed_seq``).
    """

    ok: bool
    checked: bool
    key_id: str | None
    signatures: int
    last_signed_seq: int
    unsigned_after: int
    problems: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "key_id": self.key_id, "signatures": self.signatures,
                "last_signed_seq": self.last_signed_seq, "unsigned_after": self.unsigned_after,
                "problems": list(self.problems)}


def verify_signatures(
    session: Session,
    key: Ed25519PrivateKey | Ed25519PublicKey | None = None,
    *,
    signed_head: SignedHead | None = None,
) -> SignatureReport:
    """Check the stored signed heads against a trusted key and, optionally, an exported signed head.

    Parameters
    ----------
    session : Session
    key : Ed25519 key, optional
        The operator's key (private or public). Without it and without ``signed_head`` nothing is checked
        (``checked`` False, ``ok`` True): the signatures cannot be trusted without a key held elsewhere.
    signed_head : SignedHead, optional
        A head exported earlier and kept outside the database. Its own signature must verify, the entry
        at its ``seq`` must still have its hash (else the history was rewritten or cut), and its key is
        the trusted key (it must equal ``key`` when both are given).

    Returns
    -------
    SignatureReport
        Not ok when any signature fails, any signed head is no longer the entry at its ``seq``, or any
        entry follows the last valid signed head. The chain itself is checked by :func:`verify`.
    """
    problems: list[str] = []
    trusted = public_of(key) if key is not None else None
    if signed_head is not None:
        if not signed_head.check():
            problems.append("导出的链头签名无效 the exported head's signature does not verify")
        if trusted is not None and key_id(trusted) != key_id(signed_head.key):
            problems.append("导出的链头由另一把密钥签名 the exported head was signed by another key than the "
                            "configured one")
        trusted = signed_head.key
    last = session.scalar(select(func.max(AuditEntry.seq))) or 0
    if trusted is None:
        n = session.scalar(select(func.count()).select_from(AuditHeadSignature)) or 0
        return SignatureReport(True, False, None, n, 0, last)
    kid = key_id(trusted)
    last_signed = 0
    n = 0
    if signed_head is not None:
        h = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == signed_head.seq))
        if h is None:
            problems.append(f"导出的链头 #{signed_head.seq} 已不在日志中 the exported head #{signed_head.seq} is no "
                            "longer in the log: entries were removed")
        elif h != signed_head.head_hash:
            problems.append(f"条目 #{signed_head.seq} 与导出的链头不符 entry #{signed_head.seq} differs from the "
                            "exported signed head: the history was rewritten")
        elif not problems:
            last_signed = signed_head.seq
    rows = session.execute(
        select(AuditHeadSignature, AuditEntry.hash)
        .join(AuditEntry, AuditEntry.seq == AuditHeadSignature.seq, isouter=True)
        .order_by(AuditHeadSignature.seq)
    ).all()
    for sig, entry_hash in rows:
        n += 1
        try:
            trusted.verify(bytes.fromhex(sig.signature), head_message(sig.seq, sig.head_hash, sig.signed_at))
        except (InvalidSignature, ValueError):
            problems.append(f"链头 #{sig.seq} 的签名无效 the signature of head #{sig.seq} does not verify with key "
                            f"{kid[:16]}… (forged, or another key)")
            continue
        if entry_hash is None:
            problems.append(f"签名的链头 #{sig.seq} 已不在日志中 signed head #{sig.seq} is no longer in the log: "
                            "entries were removed")
        elif entry_hash != sig.head_hash:
            problems.append(f"条目 #{sig.seq} 与其签名的链头不符 entry #{sig.seq} differs from its signed head: "
                            "the history was rewritten")
        else:
            last_signed = max(last_signed, sig.seq)
    unsigned = last - last_signed
    if unsigned > 0:
        problems.append(f"最后签名的链头 #{last_signed} 之后有 {unsigned} 条未签名条目 {unsigned} entries after the "
                        f"last signed head #{last_signed} (#{last_signed + 1}–#{last}): appended without the key")
    return SignatureReport(not problems, True, kid, n, last_signed, unsigned, tuple(problems))
