"""Product carbon footprint (产品碳足迹): product rules as data and PACT v3 documents.

Public submodules: :mod:`carbonmet.footprint.rules` (product rules, 产品种类规则) and :mod:`carbonmet.footprint.pact`
(PACT Technical Specifications v3.0.3 ``ProductFootprint``).
"""

from . import pact, rules
from .pact import PactError, PcfFigures, check_product_footprint, product_footprint
from .rules import ProductRule, RuleError, product_rule, product_rules

__all__ = [
    "PactError",
    "PcfFigures",
    "ProductRule",
    "RuleError",
    "check_product_footprint",
    "pact",
    "product_footprint",
    "product_rule",
    "product_rules",
    "rules",
]
