"""The emission-factor database (排放因子库): records, the append-only store, imports and comparisons, public API.

The most used names are also exported by the package root (:class:`FactorRecord`, :class:`Distribution`,
:func:`find`, :func:`get_factor`, :func:`save_factors`, :func:`read_factor_file`, :class:`FactorImportError`,
:func:`measured_factor`, :func:`compare_regions`).
"""

from ._compare import FactorDifference, RegionalComparison, compare_factors, compare_regions, measured_factor
from ._import import COLUMNS, REQUIRED, FactorFile, FactorImportError, ImportProblem, read_factor_file
from ._models import FACTOR, FactorRow
from ._records import KEY_MAX, Distribution, FactorRecord, gas_mass_unit, unit_fits
from ._store import SaveReport, find, get_factor, packaged_factors, save_factors

__all__ = [
    "COLUMNS",
    "FACTOR",
    "KEY_MAX",
    "REQUIRED",
    "Distribution",
    "FactorDifference",
    "FactorFile",
    "FactorImportError",
    "FactorRecord",
    "FactorRow",
    "ImportProblem",
    "RegionalComparison",
    "SaveReport",
    "compare_factors",
    "compare_regions",
    "find",
    "gas_mass_unit",
    "get_factor",
    "measured_factor",
    "packaged_factors",
    "read_factor_file",
    "save_factors",
    "unit_fits",
]
