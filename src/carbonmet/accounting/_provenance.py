"""What produced a result: data, profile and code versions (结果溯源), with no clock in it, so that the same
inputs give the same bytes."""

from __future__ import annotations

import functools
import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from carbonmet.factors import Profile, data_version


def file_digest(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def provenance(*, inputs: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """The provenance block of an account: inputs (with SHA-256 of files), profile, factor data and code versions."""
    ins: dict[str, Any] = {}
    for k, v in inputs.items():
        if isinstance(v, str | Path) and Path(v).is_file():
            ins[k] = {"file": Path(v).name, "sha256": file_digest(v)}
        else:
            ins[k] = v
    return {"inputs": ins, "profile": {"name": profile.name, "version": profile.version},
            "factors_data": _factors_version(), "code": f"carbonmet {_code_version()}"}


@functools.cache
def _factors_version() -> str:
    return data_version()  # a hash over the factor files: computed once per process


@functools.cache
def _code_version() -> str:
    try:
        return version("carbonmet")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without installation
        return "unknown"
