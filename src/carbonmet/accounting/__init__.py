"""Emission accounting (碳核算) for coal-chemical enterprises, with uncertainty that starts at the instruments.

Two ways in:

* :func:`read_inventory` + :func:`account_inventory` — a stand-alone inventory file (TOML, docs/inventory.md):
  annual figures and the accuracy of the instruments that measured them;
* :func:`gather` (or :func:`gather_many` for many enterprises at once) + :func:`account_from_data` — the
  enterprise's monitoring plan over the metering store, the
  laboratory results and the registry: hourly amounts, analyses weighted by the lot each stands for,
  certificates by instrument and month.

Either way every source stream (fuel burned per heat or per mass, carbon balance of a process, CO2 recovered,
purchased/exported electricity and heat) is written as contributions times shared relative error terms — one
per instrument, analyser and default — so a systematic error stays correlated over every period and sample it
touched (:mod:`._core`); the total is evaluated by LPU and MCM through :mod:`carbonmet.uncertainty`. The result
(:class:`Account`) carries the budget down to instrument and certificate, the tier each activity datum achieves,
flags for instruments out of their legal state (with the widening rule :data:`LEGAL_STATE_RULE`), the
control-plan view and a ranked list of what to improve. Pure formulas: :mod:`carbonmet.accounting.formulas`.
"""

from . import formulas
from ._account import Account, affected_tonnes, finish, tier_of
from ._core import Noise, Part, StreamCalc, Term
from ._fromfile import account_inventory
from ._fromplan import Hourly, LabRecord, PlanData, account_from_data
from ._gather import gather, gather_many, months, plan_data_from_table, plan_points
from ._inventory import STREAM_KINDS, Inventory, InventoryError, inventory_from_dict, read_inventory
from ._items import AMOUNT_TERM_KINDS, ActivityItem, activity_items
from ._terms import LEGAL_STATE_RULE, InstrumentFigure
from ._xlsx import write_xlsx

__all__ = [
    "AMOUNT_TERM_KINDS",
    "LEGAL_STATE_RULE",
    "STREAM_KINDS",
    "Account",
    "ActivityItem",
    "Hourly",
    "InstrumentFigure",
    "Inventory",
    "InventoryError",
    "LabRecord",
    "Noise",
    "Part",
    "PlanData",
    "StreamCalc",
    "Term",
    "account_from_data",
    "account_inventory",
    "activity_items",
    "affected_tonnes",
    "finish",
    "formulas",
    "gather",
    "gather_many",
    "inventory_from_dict",
    "months",
    "plan_data_from_table",
    "plan_points",
    "read_inventory",
    "tier_of",
    "write_xlsx",
]
