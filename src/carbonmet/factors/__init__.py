"""Default values (缺省值), GWP sets and grid/heat factors as named, versioned profiles.

Every default the accounting engine may use is data with a source: ``data/profiles.toml`` declares the profiles
(``GB/T 32151.10-2023`` — the default —, ``GB/T 32151.10-2015``, ``NDRC-2013-化工``, the disputed
``unattributed-A``, ``MEE/grid`` and the IPCC GWP sets), and the CSV tables beside it hold fuels, product carbon
contents, heat, grid and GWP values, each row with its source, clause and evidence mark, and the documented default
uncertainty of each class of value. A value comes back as a :class:`FactorValue` that names its profile and turns
into a :class:`~carbonmet.quantities.MeasuredQuantity` with default provenance.

The emission-factor database (排放因子库) shares that store: :class:`FactorRecord` (key, value, unit, basis measured |
default | literature, distribution, pedigree, evidence, version), append-only audited versions in the registry
database (:func:`save_factors`), one query API over stored and packaged factors (:func:`find`, :func:`get_factor`),
imports from CSV/XLSX (:func:`read_factor_file`) and olca-schema JSON-LD (:mod:`carbonmet.factors.olca`), the
pedigree matrix → lognormal (:func:`pedigree_sigma`, :mod:`carbonmet.factors.pedigree`) and the comparison of one
product across regions against a measured factor (:func:`measured_factor`, :func:`compare_regions`); the rest of the
database's names are in :mod:`carbonmet.factors.database`. See ``docs/factors.md``.

Example
-------
>>> from carbonmet.factors import default_profile, resolve
>>> coal = default_profile().fuel("烟煤")
>>> round(coal.emission_factor()[0], 4), coal.emission_factor()[1]
(1.7405, 'tCO2/t')
>>> resolve("MEE/grid/emission_factor/national").value
0.5703
"""

from carbonmet.quantities import CO2_PER_C as CO2_PER_C

from . import _reconcile as _reconcile  # registers the emission_factor reconciler
from ._compare import compare_regions, measured_factor
from ._data import CO2_PER_C_PRINTED, data_version
from ._errors import FactorError
from ._import import FactorImportError, read_factor_file
from ._pedigree import pedigree_sigma
from ._profiles import Profile, check_data, default_profile, grid_factor, gwp, load_profile, profiles, resolve
from ._records import Distribution, FactorRecord
from ._store import find, get_factor, save_factors
from ._types import (
    EVIDENCE_MARKS,
    FLAG_BORROWED,
    FLAG_CARRIED_FORWARD,
    FLAG_DERIVED,
    FLAG_DISPUTED,
    FLAG_SUBJECT_ALIAS,
    FactorValue,
    FuelDefaults,
)

__all__ = [
    "CO2_PER_C",
    "CO2_PER_C_PRINTED",
    "EVIDENCE_MARKS",
    "FLAG_BORROWED",
    "FLAG_CARRIED_FORWARD",
    "FLAG_DERIVED",
    "FLAG_DISPUTED",
    "FLAG_SUBJECT_ALIAS",
    "Distribution",
    "FactorError",
    "FactorImportError",
    "FactorRecord",
    "FactorValue",
    "FuelDefaults",
    "Profile",
    "check_data",
    "compare_regions",
    "data_version",
    "default_profile",
    "find",
    "get_factor",
    "grid_factor",
    "gwp",
    "load_profile",
    "measured_factor",
    "pedigree_sigma",
    "profiles",
    "read_factor_file",
    "resolve",
    "save_factors",
]
