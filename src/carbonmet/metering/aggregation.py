"""Period aggregation and activity data (数据汇总与活动水平数据), in full.

:func:`aggregate_table` / :func:`aggregate` → :class:`PeriodAggregate` (with :func:`integral_unit`, the unit
of a rate's time integral); :func:`activity_data` → :class:`ActivityData`, and the certificate coverage
of a point's instruments over a period (:func:`certificate_coverage` → :class:`CertificateCoverage`).
The common ones are also in :mod:`carbonmet.metering`.
"""

from ._activity import ActivityData, CertificateCoverage, activity_data, certificate_coverage
from ._aggregate import PeriodAggregate, aggregate, aggregate_table, integral_unit

__all__ = [
    "ActivityData",
    "CertificateCoverage",
    "PeriodAggregate",
    "activity_data",
    "aggregate",
    "aggregate_table",
    "certificate_coverage",
    "integral_unit",
]
