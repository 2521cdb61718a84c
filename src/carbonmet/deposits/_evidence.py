"""Content-addressed store of evidence files (支撑材料存储): the bytes of every deposited file, by SHA-256.

A file whose SHA-256 is ``ab12…`` is kept as ``<root>/ab/ab12…``: the same bytes deposited twice are kept
once, a stored file is never replaced, and anyone can re-hash a kept file against the hash a deposit (and its
audit entry) names. The services put the store under the workspace's home (``<home>/evidence``).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_HEX = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


def file_sha256(path: str | os.PathLike[str]) -> tuple[str, int]:
    """SHA-256 (hex) and size [bytes] of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


class EvidenceStore:
    """Evidence files by content (SHA-256) under ``root``.

    Parameters
    ----------
    root : path
        Directory of the store (created on the first :meth:`put`).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the bytes with this SHA-256 are (or would be) kept.

        Raises
        ------
        ValueError
            ``sha256`` is not 64 lower-case hex digits (so a hash can never name a path outside the store).
        """
        if not _HEX.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        """Whether the store keeps bytes under this hash."""
        return self.path(sha256).is_file()

    def put(self, source: str | os.PathLike[str], sha256: str | None = None) -> str:
        """Copy a file into the store (nothing when its bytes are kept already); return its SHA-256.

        The copy is written to a temporary file beside its place, re-hashed and renamed into place, so a
        half-written file is never found under a hash. ``sha256``, when given, must be the file's hash (the file
        changed since it was read otherwise).

        Raises
        ------
        ValueError
            The file's bytes do not hash to ``sha256``.
        """
        src = Path(source)
        if sha256 is not None and self.has(sha256):
            return sha256
        self.root.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = h.hexdigest()
            if sha256 is not None and digest != sha256:
                raise ValueError(f"{src}: 文件在读取后被改动 / the file changed after it was read (SHA-256 {digest} "
                                 f"instead of {sha256})")
            dest = self.path(digest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                os.unlink(tmp)
            else:
                os.replace(tmp, dest)
                os.chmod(dest, 0o444)
            return digest
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def check(self, sha256: str) -> bool | None:
        """Re-hash the kept bytes: True when they still hash to ``sha256``, False when changed, None when absent."""
        p = self.path(sha256)
        if not p.is_file():
            return None
        return file_sha256(p)[0] == sha256
