"""Single-record writes and look-ups of the registry (登记变更), each change audited.

Every write compares the new content with the stored one, changes only what differs and appends an
audit entry (:func:`carbonmet.db.record`) in the caller's transaction. Bulk import of files is
:func:`carbonmet.registry.import_files`; this module is what it is built on, for tools and tests that
edit one record at a time:

- upserts from row models (:mod:`carbonmet.registry.rows`): :func:`upsert_organisation`, :func:`upsert_site`,
  :func:`upsert_point`, :func:`upsert_standard`, :func:`upsert_instrument`, :func:`upsert_certificate`;
- :func:`install` (an instrument at a point from a date), :func:`link_standards` (the standards a
  certificate was issued with), :func:`set_results` (its calibration points), :func:`record_incident`
  (a standard found out of tolerance: the start of a reverse trace), :func:`move_certificate`
  (a certificate to another instrument, with a reason);
- look-ups raising :class:`carbonmet.registry.NotFound` or a field error: :func:`find_instrument`,
  :func:`get_certificate`, :func:`get_standard`.
"""

from ._services import (
    find_instrument,
    get_certificate,
    get_standard,
    install,
    link_standards,
    move_certificate,
    record_incident,
    set_results,
    upsert_certificate,
    upsert_instrument,
    upsert_organisation,
    upsert_point,
    upsert_site,
    upsert_standard,
)

__all__ = [
    "find_instrument",
    "get_certificate",
    "get_standard",
    "install",
    "link_standards",
    "move_certificate",
    "record_incident",
    "set_results",
    "upsert_certificate",
    "upsert_instrument",
    "upsert_organisation",
    "upsert_point",
    "upsert_site",
    "upsert_standard",
]
