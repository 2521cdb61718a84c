"""Alembic environment of the one migration chain: run on the connection handed over by carbonmet.db.migrate().

``target_metadata`` (used only by ``alembic revision --autogenerate``) is :class:`carbonmet.db.Base`'s
metadata with every package's models loaded: a package with tables adds its module to ``MODEL_MODULES``.
They are loaded only for the ``alembic`` command line; ``migrate()`` needs no models to upgrade.
"""

from importlib import import_module

from alembic import context

from carbonmet.db import Base, make_engine

#: Packages whose models are declared on carbonmet.db.Base (imported so that autogenerate sees them all).
MODEL_MODULES = ("carbonmet.registry", "carbonmet.sites", "carbonmet.lab", "carbonmet.deposits", "carbonmet.factors",
                 "carbonmet.users", "carbonmet.review")

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # `alembic` CLI use: URL from the ini or the environment
        for name in MODEL_MODULES:
            import_module(name)
        url = config.get_main_option("sqlalchemy.url")
        engine = make_engine(url) if url else make_engine()
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    context.run_migrations()


run()
