"""The generator's internals behind the ground truth (真值), exposed for testing and verification.

:func:`carbonmet.refdata.generate` is what users call. This module exposes the steps it is built on so a
test or a reviewer can check the physics without writing a whole region: :func:`make_enterprises` (draw
the region's :class:`Enterprise` list from a seed), :func:`simulate` (one enterprise's true hourly process,
an :class:`EnterpriseTruth` with a closed carbon balance) and :func:`stack_names` (the stacks an enterprise
has). They may change with the generator; the files :func:`~carbonmet.refdata.generate` writes are the
stable contract (``docs/refdata.md``).
"""

from ._region import make_enterprises, stack_names
from ._truth import EnterpriseTruth, simulate
from ._types import Enterprise

__all__ = ["Enterprise", "EnterpriseTruth", "make_enterprises", "simulate", "stack_names"]
