"""One definition of the registry import format: the reference region's registry files are written from
the row models the importer reads, and the point catalogue built from those files equals the one built
from the database after importing them (certificate rules included), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Engine

from carbonmet.db import session_scope
from carbonmet.refdata import Manifest
from carbonmet.registry import catalog_from_files, catalog_from_registry, import_files
from carbonmet.registry.rows import ROW_MODELS


def _catalog_files(reg: Path) -> tuple[Path, Path, Path, Path]:
    return reg / "points.csv", reg / "instruments.csv", reg / "certificates.csv", reg / "sites.csv"


def test_registry_files_have_the_importers_columns_and_rows(region: tuple[Path, Manifest]) -> None:
    root, _ = region
    reg = root / "registry"
    wb = load_workbook(reg / "registry.xlsx", read_only=True)
    try:
        for table, model in ROW_MODELS.items():
            with (reg / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
                rows = list(csv.reader(fh))
            assert rows[0] == list(model.model_fields), table
            assert len(rows) > 1, table
            for r in rows[1:]:  # every row is one the importer's model accepts, unchanged in meaning
                model.model_validate({k: v for k, v in zip(rows[0], r, strict=True) if v != ""})
            sheet = [tuple(c for c in row) for row in wb[table].iter_rows(values_only=True)]
            assert list(sheet[0]) == rows[0] and len(sheet) == len(rows), table
    finally:
        wb.close()


def test_file_and_database_catalogues_are_equal(region: tuple[Path, Manifest], engine: Engine) -> None:
    root, manifest = region
    reg = root / "registry"
    from_files = catalog_from_files(*_catalog_files(reg))
    import_files(engine, sorted(reg.glob("*.csv")))
    with session_scope(engine) as s:
        from_db = catalog_from_registry(s)
    assert dict(from_files) == dict(from_db)
    assert len(from_db) == manifest.counts["points"]
    # the certificate rules are in what is compared: a mandatory instrument with only calibrations has no cover
    found = [f for f in manifest.noncompliance if f["kind"] == "calibrated_not_verified"]
    assert found
    for f in found:
        (ip,) = from_files[f["point_id"]].instruments
        assert ip.instrument_id == f["instrument_id"] and ip.certificates == ()
    assert sum(bool(ip.certificates) for p in from_db.values() for ip in p.instruments) > 0.8 * sum(
        len(p.instruments) for p in from_db.values())
