"""D18: processes that migrate the same fresh database at once all succeed (the migration is serialised)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import inspect, text

from carbonmet.db import make_engine

#: Each process imports first, then waits for the same instant, so that their migrations overlap.
SCRIPT = """
import sys, time
from carbonmet.db import make_engine, migrate
engine = make_engine(sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
migrate(engine)
"""


def test_D18_two_processes_migrating_at_once(db_url: str) -> None:
    for _round in range(2):  # the second round: the database is at head, both must see that
        start = time.time() + 4.0
        procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, db_url, str(start)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
        results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
        for code, err in results:
            assert code == 0, err
            assert "Traceback" not in err
    engine = make_engine(db_url)
    try:
        with engine.connect() as c:
            versions = c.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert len(versions) == 1
        assert {"audit_log", "certificate", "monitoring_plan"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_D18_a_sqlite_connection_waits_for_another_writer_before_switching_to_wal(tmp_path: Path) -> None:
    """Why the processes above could fail: switching a fresh file to WAL while another connection holds its
    write lock made SQLite answer "database is locked" at once (it skips the busy handler where waiting could
    deadlock). The connection now tries again until the busy timeout."""
    db = tmp_path / "fresh.db"
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    released = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    released.start()
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1  # it waited for the commit
    finally:
        released.join()
        engine.dispose()
        other.close()
