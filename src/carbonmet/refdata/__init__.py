"""The reference dataset (参考数据集): a synthetic but physically consistent coal-chemical region with ground truth.

Public API: :func:`generate` writes registry import files, readings (Parquet store and CSV input), lab
analyses, CEMS minute data and an HJ 212-2017 packet log, ground-truth files and a :class:`Manifest`
listing every injected fault and non-compliance. Same seed, same bytes. Format: ``docs/refdata.md``.
:func:`constants` is the parsed ``constants.toml`` the generator draws from; :mod:`carbonmet.refdata.truth`
exposes the generator's true-process steps for testing and verification.
"""

from ._constants import constants
from ._errors import RefdataError
from ._generate import generate
from ._types import Manifest

__all__ = ["Manifest", "RefdataError", "constants", "generate"]
