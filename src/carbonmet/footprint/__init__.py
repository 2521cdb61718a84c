"""Product carbon footprint (产品碳足迹): the LCA engine, product rules as data, PACT v3 documents.

A pure engine over arrays — no database, no files. Describe a product system with :class:`ProductSystem`
(activities with a reference product and a stage label, co-products, inputs, emissions by gas, captured CO2,
each exchange optionally with a :class:`Spread`), resolve co-products with an allocation method into
:class:`LcaMatrices`, and solve with :class:`Lca`: one factorisation of the technosphere, then any number of
demands, the first-order uncertainty (:meth:`Lca.lpu`) and a paired Monte Carlo (:meth:`Lca.monte_carlo`).

score = c · B · s with A s = f (kg CO2e per functional unit, GWP100 from ``carbonmet.factors``). Captured CO2
(CCS/CCU) is its own flow, reported in ``FootprintResult.captured_co2`` and never netted into the score.
Public submodules: :mod:`carbonmet.footprint.rules` (product rules, 产品种类规则) and
:mod:`carbonmet.footprint.pact` (PACT Technical Specifications v3.0.3 ``ProductFootprint``). See ``docs/footprint.md``.

Example
-------
>>> from carbonmet.footprint import ProductSystem
>>> ps = ProductSystem(gwp_set="AR6")
>>> ps.add_activity("grid", "electricity", stage="grid")
>>> ps.add_emission("grid", "CO2", 0.6)
>>> ps.add_activity("plant", "methanol", stage="synthesis")
>>> ps.add_input("plant", "electricity", 0.5)
>>> ps.add_emission("plant", "CO2", 2.0)
>>> round(ps.footprint({"methanol": 1.0}).score, 6)
2.3
"""

from . import olca, pact, plant, rules
from ._engine import Lca, block_triangular_order, footprint
from ._errors import FootprintError, SingularTechnosphereError
from ._matrices import CAPTURED_CO2, LcaMatrices
from ._results import AllocationRow, FootprintResult, LpuResult, McSummary, MonteCarloResult
from ._spread import Spread
from ._system import ALLOCATION_METHODS, ProductSystem
from .pact import PactError, PcfFigures, check_product_footprint, product_footprint
from .rules import ProductRule, RuleError, product_rule, product_rules

__all__ = [
    "ALLOCATION_METHODS",
    "CAPTURED_CO2",
    "AllocationRow",
    "FootprintError",
    "FootprintResult",
    "Lca",
    "LcaMatrices",
    "LpuResult",
    "McSummary",
    "MonteCarloResult",
    "PactError",
    "PcfFigures",
    "ProductRule",
    "ProductSystem",
    "RuleError",
    "SingularTechnosphereError",
    "Spread",
    "block_triangular_order",
    "check_product_footprint",
    "footprint",
    "olca",
    "pact",
    "plant",
    "product_footprint",
    "product_rule",
    "product_rules",
    "rules",
]
