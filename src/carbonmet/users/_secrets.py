"""Password and API-key hashing (口令与密钥): Argon2id for passwords, SHA-256 for random API-key secrets.

A password is chosen by a person and may be weak, so it is stored as an Argon2id hash (RFC 9106; argon2-cffi's
defaults: t = 3, m = 64 MiB, p = 4). An API key is 32 random bytes made here, so a fast hash is enough: the key
``cmk_<key id>_<secret>`` is shown once, the row keeps the key id (to find it) and the secret's SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # Argon2id
KEY_PREFIX = "cmk_"
#: Shortest password accepted (NIST SP 800-63B §5.1.1.2: at least 8 characters).
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (PHC string format, salt included)."""
    return _HASHER.hash(password)


def check_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored Argon2id hash (False for a malformed hash)."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


#: A hash checked when a user does not exist, so a wrong user name costs the same time as a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def new_api_key() -> tuple[str, str, str]:
    """A new API key: ``(key, key_id, secret_sha256)``; only the last two are stored."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return f"{KEY_PREFIX}{key_id}_{secret}", key_id, hashlib.sha256(secret.encode()).hexdigest()


def split_api_key(key: str) -> tuple[str, str] | None:
    """``(key_id, secret_sha256)`` of a presented key, or None if it is not shaped like one."""
    if not key.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = key[len(KEY_PREFIX):].partition("_")
    if not sep or len(key_id) != 16 or not secret:
        return None
    return key_id, hashlib.sha256(secret.encode()).hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(a.encode(), b.encode())
