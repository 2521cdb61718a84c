"""The Arrow schemas of the metering data (数据表结构).

:data:`BATCH_SCHEMA` (an input batch, what readers produce and validation takes), :data:`READINGS_SCHEMA`
(the stored readings, partitioned Parquet) and :data:`QUARANTINE_SCHEMA` (rejected rows with their reason).
"""

from ._readers import BATCH_SCHEMA
from ._store import QUARANTINE_SCHEMA
from ._types import READINGS_SCHEMA

__all__ = [
    "BATCH_SCHEMA",
    "QUARANTINE_SCHEMA",
    "READINGS_SCHEMA",
]
