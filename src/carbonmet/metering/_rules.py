"""The validation rule table (``rules.toml``) and the HJ 212 flag table (``flags.csv``), read by small code."""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from carbonmet.quantities.rules import READINGS_WINDOW, TimeWindow

Action = Literal["quarantine", "flag"]


@dataclass(frozen=True, slots=True)
class FlagInfo:
    """One HJ 212 data flag (数据标记)."""

    flag: str
    meaning_zh: str
    meaning_en: str
    valid: bool  # counts as a valid value (HJ 75) in aggregation
    source: str  # "measured" or "substituted": the `source` column of stored readings
    reference: str


@dataclass(frozen=True, slots=True)
class Check:
    """One data-quality check of the rule table."""

    check: str
    kinds: tuple[str, ...]
    action: Action
    params: dict[str, float] = field(default_factory=dict)
    reference: str = ""


@dataclass(frozen=True, slots=True)
class Rules:
    """The whole rule table."""

    flags: dict[str, FlagInfo]
    checks: dict[str, Check]
    min_valid_minutes: int
    rollover_high: float
    rollover_low: float
    decrease_action: Action
    validity_reference: str
    #: plausibility window of reading timestamps (``[timestamps]``; default 1990-01-01 … now + 1 day)
    timestamps: TimeWindow = READINGS_WINDOW

    def check(self, name: str, kind: str) -> Check | None:
        """The check ``name`` if it applies to points of ``kind``."""
        c = self.checks.get(name)
        return c if c is not None and kind in c.kinds else None

    @property
    def valid_flags(self) -> tuple[str, ...]:
        return tuple(f for f, i in self.flags.items() if i.valid)

    @property
    def substituted_flags(self) -> tuple[str, ...]:
        return tuple(f for f, i in self.flags.items() if i.source == "substituted")


def _as_action(v: Any, where: str) -> Action:
    if v not in ("quarantine", "flag"):
        raise ValueError(f"rules.toml: {where}: action must be 'quarantine' or 'flag', got {v!r}")
    return v  # type: ignore[no-any-return]


def parse_rules(toml_text: str, flags_csv_text: str) -> Rules:
    """Build :class:`Rules` from the text of ``rules.toml`` and ``flags.csv``."""
    doc = tomllib.loads(toml_text)
    flags: dict[str, FlagInfo] = {}
    for row in csv.DictReader(flags_csv_text.splitlines()):
        flags[row["flag"]] = FlagInfo(
            flag=row["flag"],
            meaning_zh=row["meaning_zh"],
            meaning_en=row["meaning_en"],
            valid=row["valid"].strip().lower() == "true",
            source=row["source"],
            reference=row["reference"],
        )
    checks: dict[str, Check] = {}
    for i, c in enumerate(doc.get("checks", [])):
        params = {k: float(v) for k, v in c.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        checks[c["check"]] = Check(
            check=c["check"],
            kinds=tuple(c["kinds"]),
            action=_as_action(c["action"], f"checks[{i}]"),
            params=params,
            reference=c.get("reference", ""),
        )
    hv, tot = doc["hourly_validity"], doc["totaliser"]
    window = READINGS_WINDOW
    if "timestamps" in doc:
        ts = doc["timestamps"]
        try:
            earliest = ts.get("earliest", READINGS_WINDOW.earliest)
            window = TimeWindow(
                earliest if isinstance(earliest, date) else date.fromisoformat(str(earliest)),
                ahead=timedelta(hours=float(ts.get("max_ahead_hours", 24))),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"rules.toml: [timestamps]: {exc}") from None
    return Rules(
        flags=flags,
        checks=checks,
        min_valid_minutes=int(hv["min_valid_minutes"]),
        rollover_high=float(tot["rollover_high"]),
        rollover_low=float(tot["rollover_low"]),
        decrease_action=_as_action(tot["decrease_action"], "totaliser"),
        validity_reference=hv.get("reference", ""),
        timestamps=window,
    )


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    """The rule table shipped with carbonmet (``metering/rules.toml`` + ``metering/flags.csv``)."""
    pkg = resources.files(__package__)
    return parse_rules(
        pkg.joinpath("rules.toml").read_text(encoding="utf-8"),
        pkg.joinpath("flags.csv").read_text(encoding="utf-8"),
    )
