"""Units and the measured-quantity type (计量单位与计量结果).

Public API: the unit registry :data:`ureg`, :func:`parse_unit`, :func:`convert`,
:func:`conversion_factor`, :func:`display_unit` (derived SI units by their names: Ω, Pa, W …),
:func:`carbon_to_co2`, :func:`to_normal_volume`, and
:class:`MeasuredQuantity` with its :class:`Provenance` and :class:`Shape`, built from a certificate
by :func:`from_certificate` (the one certificate → u rule), :func:`from_expanded`, :func:`from_mpe`
or :func:`from_type_a`.
"""

from ._display import display_unit
from ._errors import CarbonmetError, UnitError
from ._measured import (
    CertificateKind,
    Evidence,
    MeasuredQuantity,
    Provenance,
    QuantityError,
    Shape,
    Source,
    from_certificate,
    from_expanded,
    from_mpe,
    from_type_a,
    mpe_standard_uncertainty,
)
from ._units import (
    CO2_PER_C,
    MOLAR_MASS_C,
    MOLAR_MASS_CO2,
    Q_,
    carbon_to_co2,
    conversion_factor,
    convert,
    format_unit,
    is_convertible,
    parse_unit,
    to_normal_volume,
    ureg,
)

__all__ = [
    "CO2_PER_C",
    "MOLAR_MASS_C",
    "MOLAR_MASS_CO2",
    "Q_",
    "CarbonmetError",
    "CertificateKind",
    "Evidence",
    "MeasuredQuantity",
    "Provenance",
    "QuantityError",
    "Shape",
    "Source",
    "UnitError",
    "carbon_to_co2",
    "conversion_factor",
    "convert",
    "display_unit",
    "format_unit",
    "from_certificate",
    "from_expanded",
    "from_mpe",
    "from_type_a",
    "is_convertible",
    "mpe_standard_uncertainty",
    "parse_unit",
    "to_normal_volume",
    "ureg",
]
