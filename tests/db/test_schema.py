"""The one Alembic chain: what it creates matches the models of every package, constraint names included."""

from __future__ import annotations

import ast
import importlib
import json
import os
import pkgutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    CheckConstraint,
    Column,
    Engine,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.exc import InvalidRequestError

import carbonmet
from carbonmet.db import NAMING_CONVENTION, Base, alembic_config, audited_tables, make_engine, migrate

#: The audit log's own tables (the log and the signatures of its head): verified, not reconciled.
LOG_TABLES = {"audit_log", "audit_head_signature"}


def _load_every_package() -> None:
    """Import every carbonmet package, so that every model is declared on Base."""
    for mod in pkgutil.iter_modules(carbonmet.__path__, "carbonmet."):
        if mod.ispkg:
            importlib.import_module(mod.name)


def _owners() -> dict[str, str]:
    """Table name → the package that declares it."""
    _load_every_package()
    out = {}
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if isinstance(table, Table) and table.metadata is Base.metadata:
            out[table.name] = ".".join(mapper.class_.__module__.split(".")[:2])
    return out


def test_existing_revision_ids_are_kept() -> None:
    """Databases migrated before the chain moved to carbonmet.db are at 0001 and must find it."""
    script = ScriptDirectory.from_config(alembic_config())
    revs = {r.revision for r in script.walk_revisions()}
    assert "0001" in revs
    assert len(script.get_heads()) == 1  # one chain, not one per package


def test_migrate_creates_every_table_and_is_repeatable(engine: Engine) -> None:
    owners = _owners()
    migrate(engine)  # a second run changes nothing
    with engine.connect() as c:
        head = c.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert head == ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert set(owners) <= set(inspect(engine).get_table_names())


def test_models_match_the_migrations(engine: Engine) -> None:
    """Nothing for autogenerate to do: every model's table, column, index and constraint is in the chain."""
    _load_every_package()
    with engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    assert diff == []


@pytest.mark.postgres
def test_postgresql_constraint_names_follow_the_convention(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL names its constraints; SQLite keeps them unnamed")
    _load_every_package()
    engine = make_engine(db_url)
    migrate(engine)
    insp = inspect(engine)
    for table in Base.metadata.sorted_tables:
        assert insp.get_pk_constraint(table.name)["name"] == table.primary_key.name
        want = {fk.name for fk in table.foreign_key_constraints}
        assert {fk["name"] for fk in insp.get_foreign_keys(table.name)} == want, table.name
        want_uq = {u.name for u in table.constraints if isinstance(u, UniqueConstraint)}
        assert {u["name"] for u in insp.get_unique_constraints(table.name)} == want_uq, table.name
    engine.dispose()


def test_naming_convention_names_constraints_like_postgresql() -> None:
    md = MetaData(naming_convention=NAMING_CONVENTION)
    parent = Table("parent", md, Column("id", Integer, primary_key=True))
    child = Table("child", md, Column("id", Integer, primary_key=True),
                  Column("code", Integer, unique=True), Column("parent_id", Integer, index=True),
                  CheckConstraint("code > 0", name="ck_child_code"))
    child.append_constraint(ForeignKeyConstraint(["parent_id"], [parent.c.id]))
    names = {c.name for c in child.constraints}
    assert names == {"child_pkey", "child_code_key", "child_parent_id_fkey", "ck_child_code"}
    assert {i.name for i in child.indexes} == {"ix_child_parent_id"}


def test_an_unnamed_check_constraint_is_an_error() -> None:
    """Check constraints have no columns to name them after: a model must name each one (``ck_…``)."""
    md = MetaData(naming_convention=NAMING_CONVENTION)
    with pytest.raises(InvalidRequestError, match="explicitly named"):
        Table("t", md, Column("id", Integer, primary_key=True), CheckConstraint("id > 0"))


def test_every_table_of_every_package_is_reconciled() -> None:
    """A package that adds a table registers its reconciler, or `audit verify` would not check that table."""
    owners = _owners()
    unaudited = sorted(t for t in owners if t not in LOG_TABLES and t not in audited_tables())
    assert unaudited == []


def test_audit_verify_in_a_fresh_process_reconciles_every_table(tmp_path: Path) -> None:
    """`carbonmet audit verify` loads every package with tables before it reconciles (a fresh interpreter)."""
    tables = {t for t in _owners() if t not in LOG_TABLES}
    env = {**os.environ, "CARBONMET_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    r = subprocess.run([sys.executable, "-m", "carbonmet", "audit", "verify", "--json"], check=False,
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert set(json.loads(r.stdout)["reconcile"]["rows"]) == tables


def test_every_package_with_tables_is_loaded_by_the_migration_env() -> None:
    owners = {p for t, p in _owners().items() if t not in LOG_TABLES}
    env = resources.files("carbonmet.db").joinpath("migrations", "env.py").read_text(encoding="utf-8")
    listed: set[str] = set()
    for node in ast.walk(ast.parse(env)):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "MODEL_MODULES" for t in node.targets):
            listed = set(ast.literal_eval(node.value))
    assert owners <= listed
