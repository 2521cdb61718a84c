"""The acceptance policy per data logger: HJ 212 as deployed (see :mod:`._policy` for the whole story).

- :func:`assess` (frame → :class:`Assessment`: the packet decoded as leniently as the codec allows and every
  deviation from HJ 212-2017 by its code), :func:`describe` (a deviation's names, clause and evidence mark),
  :func:`deviation_kinds` (deviations.csv), :func:`profile_2025` (what is known of HJ 212-2025, with evidence);
- :class:`AcceptancePolicy` (``flag`` accept-and-flag, the default; ``strict`` per MN or enterprise),
  :func:`parse_policy` / :func:`load_policy` (the policy file), :class:`PolicyFileError`.
"""

from ._policy import (
    POLICIES,
    AcceptancePolicy,
    Assessment,
    Policy,
    PolicyFileError,
    assess,
    describe,
    load_policy,
    parse_policy,
)
from ._tables import DeviationKind, deviation_kinds, profile_2025

__all__ = [
    "POLICIES",
    "AcceptancePolicy",
    "Assessment",
    "DeviationKind",
    "Policy",
    "PolicyFileError",
    "assess",
    "describe",
    "deviation_kinds",
    "load_policy",
    "parse_policy",
    "profile_2025",
]
