"""Alembic environment: run on the connection handed over by carbonmet.registry.migrate()."""

from alembic import context

from carbonmet.registry._models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # `alembic` CLI use: URL from the ini or the environment
        from carbonmet.registry._db import make_engine

        url = config.get_main_option("sqlalchemy.url")
        engine = make_engine(url) if url else make_engine()
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    context.run_migrations()



run()
