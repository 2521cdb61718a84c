"""PTB Digital Calibration Certificate (DCC, 数字校准证书) import and export.

Pure functions over bytes and plain dataclasses; no database.

- :func:`read_dcc` reads DCC 3.x XML (units in D-SI 2.x) into a frozen :class:`DccCertificate`
  that keeps the source bytes in ``raw``.
- :func:`write_dcc` writes a :class:`DccCertificate` as DCC 3.3.0 XML.
- :func:`parse_dsi`, :func:`dsi_to_pint` and :func:`to_dsi` handle D-SI unit strings
  (``\\kilo\\watt\\hour`` ⇄ ``kWh``).

See ``docs/dcc.md`` for what is read, what is written and how it maps to the registry.
"""

from ._dsi import DsiTerm, DsiUnit, dsi_to_pint, format_dsi, parse_dsi, to_dsi
from ._errors import DccError, DsiUnitError
from ._model import (
    CONFORMITY,
    ISSUERS,
    PERFORMANCE_LOCATIONS,
    DccCertificate,
    DccCertificateRef,
    DccCondition,
    DccContact,
    DccEquipment,
    DccIdentification,
    DccItem,
    DccMethod,
    DccPerson,
    DccResult,
    DccStatement,
)
from ._reader import read_dcc
from ._writer import WRITE_SCHEMA_VERSION, write_dcc
from ._xml import DCC_NS, SI_NS

__all__ = [
    "CONFORMITY",
    "DCC_NS",
    "ISSUERS",
    "PERFORMANCE_LOCATIONS",
    "SI_NS",
    "WRITE_SCHEMA_VERSION",
    "DccCertificate",
    "DccCertificateRef",
    "DccCondition",
    "DccContact",
    "DccEquipment",
    "DccError",
    "DccIdentification",
    "DccItem",
    "DccMethod",
    "DccPerson",
    "DccResult",
    "DccStatement",
    "DsiTerm",
    "DsiUnit",
    "DsiUnitError",
    "dsi_to_pint",
    "format_dsi",
    "parse_dsi",
    "read_dcc",
    "to_dsi",
    "write_dcc",
]
