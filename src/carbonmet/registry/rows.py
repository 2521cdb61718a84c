"""The registry's validated row models (行模型): one per import file, the single definition of each table.

The importer (:func:`carbonmet.registry.import_files`), the exporters, the CLI and the reference-region
writer (:mod:`carbonmet.refdata`) all use these; :data:`ROW_MODELS` maps each file's table name to its model.
"""

from ._rows import ROW_MODELS, CertificateRow, InstrumentRow, OrganisationRow, PointRow, SiteRow, StandardRow

__all__ = [
    "ROW_MODELS",
    "CertificateRow",
    "InstrumentRow",
    "OrganisationRow",
    "PointRow",
    "SiteRow",
    "StandardRow",
]
