"""The point catalog the store validates against (re-exported from :mod:`carbonmet.sites`).

Build one from the registry: :func:`carbonmet.registry.catalog_from_registry` (database) or
:func:`carbonmet.registry.catalog_from_files` (registry import files); both apply the same
certificate rules. Any ``Mapping[str, PointInfo]`` works too.
"""

from __future__ import annotations

from carbonmet.sites import Catalog, as_catalog

__all__ = ["Catalog", "as_catalog"]
