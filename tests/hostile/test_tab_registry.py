"""Hostile-input harness, registry import CSV and XLSX (issue 10 §4).

Every generated case (one of the sample registry tables, mutated) imported into a migrated SQLite
registry that already holds the sample is either committed or refused whole with
:class:`ImportRejected` — whose every problem names the file, a row and a field — and a refused file
leaves every table exactly as it was.
"""

from __future__ import annotations

import csv
import hashlib
import sqlite3
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import Engine

from carbonmet.db import make_engine, migrate
from carbonmet.registry import ImportRejected, import_file, import_files

from .tab_mutate import (
    damaged_xlsx,
    fast,
    mutated_bytes,
    mutated_rows,
    slow,
    slow_settings,
    to_csv,
    xlsx_bytes,
)

DATA = Path(__file__).parents[1] / "registry" / "data"
TABLES = ["organisations", "sites", "points", "standards", "instruments", "certificates"]


def _grid(table: str) -> list[list[str]]:
    with (DATA / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.reader(fh) if r]


GRIDS = {t: _grid(t) for t in TABLES}
EXTRA = ("E01", "NIM", "ORD", "FM1", "BS1", "E01.NG_IN", "E01-S1", "WRK-FLOW", "PRI-FLOW@NIM-2023-01",
         "2024-01-01", "2026-12-31", "9999-12-31", "calibration", "verification", "conforms", "instrument",
         "standard", "mandatory", "in_service", "retired", "%", "0.5", "2", "0.95", "-1", "t/h", "Nm3/h")


class Registry:
    """A SQLite registry with the sample imported.

    A refused file must leave every table as it was. Checked on every case by ``PRAGMA data_version`` of a
    second connection, which changes whenever any other connection commits (so it also catches a commit
    that changed nothing), and on every ``DEEP``-th case also by ``fingerprint``, a hash of every row of
    every table before and after (that costs milliseconds, and grows with the audit log).
    """

    DEEP = 50
    #: cases per registry: then a fresh copy of the sample registry (what committed cases add stays bounded)
    ROTATE = 1000

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db = root / "registry.db"
        self.engine: Engine = make_engine(f"sqlite:///{self.db}")
        migrate(self.engine)
        import_files(self.engine, [DATA / f"{t}.csv" for t in TABLES], actor="harness")
        self.engine.dispose()
        self.pristine = root / "pristine.db"
        with sqlite3.connect(self.db) as src, sqlite3.connect(self.pristine) as dst:
            src.backup(dst)
        self.watch = sqlite3.connect(self.db)
        self.n = 0

    def _rotate(self) -> None:
        self.engine.dispose()
        self.watch.close()
        with sqlite3.connect(self.pristine) as src, sqlite3.connect(self.db) as dst:
            src.backup(dst)
        self.engine = make_engine(f"sqlite:///{self.db}")
        self.watch = sqlite3.connect(self.db)

    def version(self) -> int:
        return int(self.watch.execute("PRAGMA data_version").fetchone()[0])

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        with sqlite3.connect(self.db) as con:
            names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
            for n in names:
                h.update(n.encode())
                for row in con.execute(f'SELECT * FROM "{n}" ORDER BY 1'):
                    h.update(repr(row).encode())
        return h.hexdigest()

    def check(self, path: Path) -> None:
        self.n += 1
        if self.n % self.ROTATE == 0:
            self._rotate()
        before = self.fingerprint() if self.n % self.DEEP == 0 else None
        version = self.version()
        try:
            import_file(self.engine, path, actor="harness")
        except ImportRejected as exc:
            assert exc.problems, f"{path.name}: refused without a problem"
            for p in exc.problems:
                assert path.name in p.file, f"problem does not name the file: {p}"
                assert p.field and isinstance(p.row, int), f"problem does not name row and field: {p}"
            assert self.version() == version, f"{path.name}: a refused file committed a change"
            if before is not None:
                assert self.fingerprint() == before, f"{path.name}: a refused file changed the registry"
            event("refused")
            return
        event("imported")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return Registry(tmp_path_factory.mktemp("hostile-registry"))


@st.composite
def hostile_csv_file(draw: st.DrawFn) -> tuple[str, bytes]:
    table = draw(st.sampled_from(TABLES))
    grid = GRIDS[table]
    raw = to_csv(draw(mutated_rows(grid[0], grid[1:], EXTRA))).encode("utf-8")
    return table, draw(st.one_of(st.just(raw), mutated_bytes(raw)))


@st.composite
def hostile_xlsx_file(draw: st.DrawFn) -> bytes:
    tables = draw(st.lists(st.sampled_from(TABLES), min_size=1, max_size=3, unique=True))
    sheets = {}
    for t in tables:
        g = GRIDS[t]
        sheets[t] = draw(mutated_rows(g[0], g[1:], EXTRA))
    return draw(damaged_xlsx(xlsx_bytes(sheets, draw(st.booleans()))))


def _check_csv(reg: Registry, d: Path, case: tuple[str, bytes]) -> None:
    table, data = case
    path = d / f"hostile-{table}.csv"
    path.write_bytes(data)
    reg.check(path)


def _check_xlsx(reg: Registry, d: Path, data: bytes) -> None:
    path = d / "hostile-registry.xlsx"
    path.write_bytes(data)
    reg.check(path)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-registry-cases")


def test_the_valid_files_import_again_with_no_row_changed(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    cases = tmp_path

    def rows() -> dict[str, list[tuple[object, ...]]]:
        with sqlite3.connect(registry.db) as con:
            return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
                    for t in ("organisation", "site", "measurement_point", "measurement_standard", "instrument")}

    before = rows()
    p = cases / "valid.xlsx"
    p.write_bytes(xlsx_bytes({t: GRIDS[t] for t in TABLES}, False))
    import_file(registry.engine, p, actor="harness")
    for t in TABLES:
        import_file(registry.engine, DATA / f"{t}.csv", actor="harness")
    assert rows() == before
    with sqlite3.connect(registry.db) as con:
        assert con.execute("SELECT count(*) FROM certificate").fetchone()[0] == len(GRIDS["certificates"]) - 1


@fast
@given(case=hostile_csv_file())
def test_hostile_registry_csv_is_imported_or_refused_whole(registry: Registry, cases: Path,
                                                           case: tuple[str, bytes]) -> None:
    _check_csv(registry, cases, case)


@fast
@given(data=hostile_xlsx_file())
def test_hostile_registry_xlsx_is_imported_or_refused_whole(registry: Registry, cases: Path, data: bytes) -> None:
    _check_xlsx(registry, cases, data)


@pytest.mark.slow
@slow
@slow_settings
@given(case=hostile_csv_file())
def test_slow_hostile_registry_csv(registry: Registry, cases: Path, case: tuple[str, bytes]) -> None:
    _check_csv(registry, cases, case)


@pytest.mark.slow
@slow
@slow_settings
@given(data=hostile_xlsx_file())
def test_slow_hostile_registry_xlsx(registry: Registry, cases: Path, data: bytes) -> None:
    _check_xlsx(registry, cases, data)


def test_the_commit_watch_sees_every_commit_of_another_connection(tmp_path: Path) -> None:
    """The oracle of the refused cases: ``PRAGMA data_version`` moves when an import commits a change."""
    reg = Registry(tmp_path)
    v = reg.version()
    f = tmp_path / "organisations.csv"
    f.write_text("org_code,name,kind\nE01,改名的企业,enterprise\n", encoding="utf-8")
    import_file(reg.engine, f, actor="harness")
    assert reg.version() != v
