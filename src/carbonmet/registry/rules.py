"""When a certificate counts and what it covers (证书有效性规则): the one place that decides.

The due list, the data-period coverage and the metering catalogue all apply these rules (the due list's
query has the same rule in SQL, guarded by a test against :func:`certificate_counts`):

- :func:`certificate_counts`: whether a certificate of a kind can stand for an instrument of a legal
  category at all (under mandatory verification, 强制检定, only a verification does; :data:`MANDATORY`);
- :func:`certificate_covers`: whether a certificate covers its instrument (a failed verification never does);
- :func:`certificate_valid_until` and :func:`add_months`: the validity end from the date and the interval;
- :func:`cover_periods` and :func:`instrument_interval`: the days each certificate of one instrument covers
  (what :func:`carbonmet.registry.instrument_uncertainty` and the point catalogue use), for a caller that checks
  many dates of one instrument at once (the lab results of a year);
- :func:`signature_flag`: whether a certificate is flagged because its DCC's signature check failed and an
  operator accepted it anyway (it still counts and covers, and every output that uses it says so);
- :func:`certificate_states`: what the rules above make of each instrument's certificates over periods
  (:func:`carbonmet.registry.instrument_states` without the reading, for a caller that holds the instruments and
  their certificates, e.g. from :func:`carbonmet.registry.instrument_certificates`).

References
----------
中华人民共和国计量法 第九条 (强制检定); GB 17167-2006 5.3.6; JJF 1356-2012.
"""

from ._queries import (
    MANDATORY,
    add_months,
    certificate_counts,
    certificate_covers,
    certificate_valid_until,
    cover_periods,
    instrument_interval,
    signature_flag,
)
from ._uncertainty import certificate_states

__all__ = [
    "MANDATORY",
    "add_months",
    "certificate_counts",
    "certificate_covers",
    "certificate_states",
    "certificate_valid_until",
    "cover_periods",
    "instrument_interval",
    "signature_flag",
]
