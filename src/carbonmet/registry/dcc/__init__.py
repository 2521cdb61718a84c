"""PTB Digital Calibration Certificate (DCC, 数字校准证书) import and export.

Pure functions over bytes and plain dataclasses; no database.

- :func:`read_dcc` reads DCC 3.x XML (units in D-SI 2.x) into a frozen :class:`DccCertificate`
  that keeps the source bytes in ``raw``.
- :func:`write_dcc` writes a :class:`DccCertificate` as DCC 3.3.0 XML.
- :func:`parse_dsi`, :func:`dsi_to_pint` and :func:`to_dsi` handle D-SI unit strings
  (``\\kilo\\watt\\hour`` ⇄ ``kWh``).
- :func:`verify_dcc_signature` checks the document's XML signature (XMLDSig/XAdES, with ``signxml``) against a
  :class:`TrustStore` of CA certificates and revocation lists read by :func:`load_trust_store`.

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
from ._signature import (
    FLAGGED_STATUSES,
    SIGNATURE_STATUSES,
    STATUS_TEXT,
    DccTrustError,
    SignatureCheck,
    TrustStore,
    load_trust_store,
    verify_dcc_signature,
)
from ._writer import WRITE_SCHEMA_VERSION, write_dcc
from ._xml import DCC_NS, SI_NS

__all__ = [
    "CONFORMITY",
    "DCC_NS",
    "FLAGGED_STATUSES",
    "ISSUERS",
    "PERFORMANCE_LOCATIONS",
    "SIGNATURE_STATUSES",
    "SI_NS",
    "STATUS_TEXT",
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
    "DccTrustError",
    "DsiTerm",
    "DsiUnit",
    "DsiUnitError",
    "SignatureCheck",
    "TrustStore",
    "dsi_to_pint",
    "format_dsi",
    "load_trust_store",
    "parse_dsi",
    "read_dcc",
    "to_dsi",
    "verify_dcc_signature",
    "write_dcc",
]
