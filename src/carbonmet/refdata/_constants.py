"""Read the generator's constants table (``constants.toml``): every number with its source and evidence."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

from ._errors import RefdataError


@lru_cache(maxsize=1)
def constants() -> dict[str, Any]:
    """Return the parsed ``constants.toml`` of the package (cached, treat as read-only)."""
    try:
        raw = resources.files(__package__).joinpath("constants.toml").read_bytes()
        return tomllib.loads(raw.decode("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:  # pragma: no cover - packaging error
        raise RefdataError(f"constants.toml of carbonmet.refdata cannot be read: {exc}") from exc


def value(entry: Any) -> float:
    """Numeric value of a constant that is either a bare number or ``{value=…, source=…, evidence=…}``."""
    if isinstance(entry, dict):
        return float(entry["value"])
    return float(entry)


def sourced(entry: Any) -> dict[str, Any]:
    """A constant as ``{"value", "source", "evidence"}`` (bare numbers get empty source)."""
    if isinstance(entry, dict):
        return {"value": entry["value"], "source": entry.get("source", ""), "evidence": entry.get("evidence", "")}
    return {"value": entry, "source": "", "evidence": ""}
