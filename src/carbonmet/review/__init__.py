"""Metrology review (碳计量审查): decision rules with uncertainty and rules-as-data reviews of instruments.

Public API:

- decision rules (JJF 1094 / ILAC-G8 style, pure functions): :func:`decide`, :func:`decide_mpe` → :class:`Decision`
  (pass, fail or inconclusive, and which rule and guard band decided);
- review rules as data: :func:`load_rules` (a shipped profile, default ``gb17167_ccm``, plus a local rule set
  given by path), :func:`read_rule_file`, :func:`profile_names`, :class:`RuleSet`, :class:`ReviewRule`;
- the review: :func:`review_instruments` (one enterprise on a date) → :class:`ReviewResult` of :class:`Finding`;
- errors: :class:`ReviewError`, :class:`RuleFileError` (file, row and field of a bad rule file).

The certificate rules (when a certificate counts and covers, 强制检定) are the registry's
(:mod:`carbonmet.registry.rules`, :func:`carbonmet.registry.instrument_states`); reverse traceability is
:func:`carbonmet.registry.trace_back`.
"""

from ._decision import RULES, Decision, decide, decide_mpe
from ._engine import Finding, ReviewResult, class_mpe, review_instruments
from ._errors import ReviewError, RuleFileError
from ._rules import CHECKS, ReviewRule, RuleSet, load_rules, profile_names, read_rule_file

__all__ = [
    "CHECKS",
    "RULES",
    "Decision",
    "Finding",
    "ReviewError",
    "ReviewResult",
    "ReviewRule",
    "RuleFileError",
    "RuleSet",
    "class_mpe",
    "decide",
    "decide_mpe",
    "load_rules",
    "profile_names",
    "read_rule_file",
    "review_instruments",
]
