"""Validation rules of the readings (校验规则), data with a source.

:func:`default_rules` reads the packaged ``rules.toml`` and ``flags.csv``; :func:`parse_rules` reads your own;
both give :class:`Rules`. :func:`is_rollover` is the totaliser rollover rule that validation and
aggregation share.
"""

from ._rules import Rules, default_rules, parse_rules
from ._validate import is_rollover

__all__ = [
    "Rules",
    "default_rules",
    "is_rollover",
    "parse_rules",
]
