"""Carbon-balance reconciliation, public submodule (碳平衡数据协调与碳流图).

The plant's carbon balance (coal and gas in; products, by-products, slag, CO2 recovered, vents and stacks out)
reconciled by weighted least squares with the full input covariance (VDI 2048 Part 1), with the global χ²
test, per-meter GLR / measurement tests with serial elimination and equivalence sets (Narasimhan & Jordache
2000), unmeasured streams by projection (Crowe et al. 1983), a multi-period variant with closure statistics
and a persistent relative-bias test, and the carbon-flow diagram (碳流图) as PNG bytes.

Public API
----------
Network
    :class:`Stream`, :class:`BalanceNetwork` (from streams or :meth:`BalanceNetwork.from_incidence`).
One period
    :func:`reconcile` → :class:`Reconciliation` (with :class:`GrossError` findings).
Many periods
    :func:`reconcile_periods` → :class:`PeriodReconciliation` (with :class:`Closure` and
    :class:`PersistentBias`).
Diagram
    :func:`sankey_png` over :class:`SankeyFlow` ends (:meth:`Reconciliation.flows`); :func:`cjk_font`.
Errors
    :class:`BalanceError`.
"""

from ._balance_errors import BalanceError
from ._reconcile import (
    BalanceNetwork,
    Closure,
    GrossError,
    PeriodReconciliation,
    PersistentBias,
    Reconciliation,
    SankeyFlow,
    Stream,
    reconcile,
    reconcile_periods,
)
from ._sankey import cjk_font, sankey_png

__all__ = [
    "BalanceError",
    "BalanceNetwork",
    "Closure",
    "GrossError",
    "PeriodReconciliation",
    "PersistentBias",
    "Reconciliation",
    "SankeyFlow",
    "Stream",
    "cjk_font",
    "reconcile",
    "reconcile_periods",
    "sankey_png",
]
