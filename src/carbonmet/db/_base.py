"""The one declarative base every package's tables are declared on."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

#: Constraint names: PostgreSQL's own default names, so that the tables created before the convention
#: (whose constraints PostgreSQL named itself) already follow it and Alembic can drop or alter them
#: by name on both PostgreSQL and SQLite (batch mode). Check constraints must be named explicitly
#: (``%(constraint_name)s`` makes an unnamed ``CheckConstraint`` an error); prefix them ``ck_``.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(constraint_name)s",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


class Base(DeclarativeBase):
    """Declarative base of all carbonmet tables (one ``MetaData``, one Alembic chain).

    A package declares its models on this base; their tables are created and changed only by
    revisions in ``carbonmet/db/migrations/versions`` (see ``docs/audit.md`` for adding one).
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
