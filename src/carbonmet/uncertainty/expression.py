"""Model expressions, public submodule (测量模型表达式).

:func:`parse` turns text into an :class:`Expression` (Python's ast behind a node whitelist; see
the grammar in :mod:`carbonmet.uncertainty._expr`), which evaluates on estimates and on Monte
Carlo trials and gives exact sensitivities by reverse-mode differentiation. :data:`FUNCTIONS`
and :data:`CONSTANTS` are what an expression may call and name besides inputs; :class:`Dual` is
the forward-mode number used for Python-callable models.
"""

from ._expr import _ALL_NODE_TYPES as NODE_TYPES
from ._expr import CONSTANTS, FUNCTIONS, MAX_LENGTH, Expression, Node, parse
from ._expr import _walk as walk
from ._model import Dual

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_LENGTH",
    "NODE_TYPES",
    "Dual",
    "Expression",
    "Node",
    "parse",
    "walk",
]
