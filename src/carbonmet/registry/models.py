"""The registry's ORM classes (计量器具登记表), declared on :class:`carbonmet.db.Base`.

One table each: :class:`Organisation`, :class:`Site`, :class:`MeasurementPoint`, :class:`Instrument`,
:class:`Installation` (an instrument at a point over a period), :class:`MeasurementStandard` and its
:class:`StandardIncident`, :class:`Certificate` with its :class:`CertificateResult` rows and the standards
used (:class:`CertificateStandard`). Write them through :mod:`carbonmet.registry.write` (audited); reading
them with a session is fine.
"""

from ._models import (
    Certificate,
    CertificateResult,
    CertificateStandard,
    Installation,
    Instrument,
    MeasurementPoint,
    MeasurementStandard,
    Organisation,
    Site,
    StandardIncident,
)

__all__ = [
    "Certificate",
    "CertificateResult",
    "CertificateStandard",
    "Installation",
    "Instrument",
    "MeasurementPoint",
    "MeasurementStandard",
    "Organisation",
    "Site",
    "StandardIncident",
]
