"""Default values (缺省值), GWP sets and grid/heat factors as named, versioned profiles.

Every default the accounting engine may use is data with a source: ``data/profiles.toml`` declares the profiles
(``GB/T 32151.10-2023`` — the default —, ``GB/T 32151.10-2015``, ``NDRC-2013-化工``, the disputed
``unattributed-A``, ``MEE/grid`` and the IPCC GWP sets), and the CSV tables beside it hold fuels, product carbon
contents, heat, grid and GWP values, each row with its source, clause and evidence mark, and the documented default
uncertainty of each class of value. A value comes back as a :class:`FactorValue` that names its profile and turns
into a :class:`~carbonmet.quantities.MeasuredQuantity` with default provenance. See ``docs/factors.md``.

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

from ._data import CO2_PER_C_PRINTED, data_version
from ._errors import FactorError
from ._profiles import Profile, check_data, default_profile, grid_factor, gwp, load_profile, profiles, resolve
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
    "FactorError",
    "FactorValue",
    "FuelDefaults",
    "Profile",
    "check_data",
    "data_version",
    "default_profile",
    "grid_factor",
    "gwp",
    "load_profile",
    "profiles",
    "resolve",
]
