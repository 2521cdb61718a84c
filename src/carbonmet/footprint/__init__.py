"""Product carbon footprint engine (产品碳足迹, LCA): sparse matrices, allocation, LPU and Monte Carlo.

A pure engine over arrays — no database, no files. Describe a product system with :class:`ProductSystem`
(activities with a reference product and a stage label, co-products, inputs, emissions by gas, captured CO2,
each exchange optionally with a :class:`Spread`), resolve co-products with an allocation method into
:class:`LcaMatrices`, and solve with :class:`Lca`: one factorisation of the technosphere, then any number of
demands, the first-order uncertainty (:meth:`Lca.lpu`) and a paired Monte Carlo (:meth:`Lca.monte_carlo`).

score = c · B · s with A s = f (kg CO2e per functional unit, GWP100 from ``carbonmet.factors``). Captured CO2
(CCS/CCU) is its own flow, reported in ``FootprintResult.captured_co2`` and never netted into the score.
See ``docs/footprint.md``.

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

from ._engine import Lca, block_triangular_order, footprint
from ._errors import FootprintError, SingularTechnosphereError
from ._matrices import CAPTURED_CO2, LcaMatrices
from ._results import AllocationRow, FootprintResult, LpuResult, McSummary, MonteCarloResult
from ._spread import Spread
from ._system import ALLOCATION_METHODS, ProductSystem

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
    "ProductSystem",
    "SingularTechnosphereError",
    "Spread",
    "block_triangular_order",
    "footprint",
]
