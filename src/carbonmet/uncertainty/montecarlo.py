"""The Monte Carlo engine's internals (蒙特卡洛法引擎), exposed for testing and verification.

:func:`carbonmet.uncertainty.mcm` and :func:`carbonmet.uncertainty.evaluate` are what users call
(JCGM 101:2008 / JJF 1059.2-2012). This module exposes the engine underneath so tests and reviewers can check
its steps: :class:`McmRunner` (the chunked sampler of one model, with the affine folding and the analytic
marginalisation of inputs that enter linearly) and the chunk sizing constants (:data:`CHUNK_ELEMENTS`,
:data:`MIN_CHUNK`, :data:`MAX_CHUNK`) and :data:`BIT_GENERATORS`. These may change with the engine; the
results of :func:`~carbonmet.uncertainty.mcm` are the stable contract.
"""

from ._mcm import BIT_GENERATORS, CHUNK_ELEMENTS, MAX_CHUNK, MIN_CHUNK, McmRunner

__all__ = ["BIT_GENERATORS", "CHUNK_ELEMENTS", "MAX_CHUNK", "MIN_CHUNK", "McmRunner"]
