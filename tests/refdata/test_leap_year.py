"""A leap year (2028, 8784 h): drift windows run to the end of the year and the data drift as the manifest says."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from carbonmet.refdata import generate

YEAR = 2028  # leap year: 366 days = 8784 h


@pytest.fixture(scope="module")
def leap(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("leap")
    manifest = generate(out, enterprises=1, year=YEAR, seed=3, resolution="hour")
    return out, {"faults": manifest.faults}


def _expected_error(inst: dict, th: np.ndarray, hours: int) -> np.ndarray:
    """Relative error [%] of a drifting instrument at hour positions ``th`` (δ + rate·(th − start)/hours)."""
    t0 = datetime.fromisoformat(f"{YEAR}-01-01T00:00:00+08:00")
    s = (datetime.fromisoformat(inst["drift_from"]) - t0).total_seconds() / 3600.0
    return float(inst["systematic_rel_pct"]) + np.clip(th - s, 0.0, None) / hours * float(inst["drift_rel_pct_per_year"])


def test_leap_year_drift_windows_end_at_year_end_and_match_the_data(leap: tuple[Path, dict]) -> None:
    root, man = leap
    t0 = datetime.fromisoformat(f"{YEAR}-01-01T00:00:00+08:00")
    t_end = datetime.fromisoformat(f"{YEAR + 1}-01-01T00:00:00+08:00")
    hours = int((t_end - t0).total_seconds() // 3600)
    assert hours == 8784
    drifts = [f for f in man["faults"] if f["kind"] == "drift"]
    assert len(drifts) == 2  # one CEMS flow monitor, one belt scale
    inst = {r["instrument_id"]: r for r in csv.DictReader((root / "truth/instrument_errors.csv").open(encoding="utf-8"))}
    kinds = {r["point_id"]: r["reading_kind"] for r in csv.DictReader((root / "registry/points.csv").open(encoding="utf-8"))}
    con = duckdb.connect()
    for f in drifts:
        assert datetime.fromisoformat(f["end"]) == t_end, f
        i = inst[f["instrument_id"]]
        assert i["error_model"] == "drift" and datetime.fromisoformat(i["drift_from"]) == datetime.fromisoformat(f["start"])
        s_h = (datetime.fromisoformat(f["start"]) - t0).total_seconds() / 3600.0
        rate = float(i["drift_rel_pct_per_year"])
        # the detail's "% at year end" is the drift accumulated over the actual hours of the year
        at_end = float(f["detail"].split(",")[1].split("%")[0])
        assert at_end == pytest.approx(rate * (hours - s_h) / hours, abs=0.006)
        pid = f["point_id"]
        rows = con.execute(f"""
            select epoch_us(m.ts) as t, m.value, tr.true_value, m.flag::varchar as flag
            from read_parquet('{root}/readings/*/*/*/*.parquet', hive_partitioning = true) m
            join read_parquet('{root}/truth/points_hourly.parquet') tr
              on tr.point_id::varchar = m.point and tr.ts = m.ts
            where m.point = ? order by t""", [pid]).fetchall()
        t = np.array([r[0] for r in rows], dtype=float)
        th = (t / 1e6 - t0.timestamp()) / 3600.0
        v = np.array([r[1] for r in rows])
        tv = np.array([r[2] for r in rows])
        ok = np.array([r[3] == "N" for r in rows])
        # 31 December (local), the day the 8760-h drift window left out
        last_day = th >= hours - 24
        if kinds[pid] == "rate":
            sel = last_day & ok & (tv > 0)
            assert sel.sum() >= 12, pid
            observed = 100.0 * (v[sel] / tv[sel] - 1.0)
            expected = _expected_error(i, th[sel], hours)
            assert float(np.median(observed - expected)) == pytest.approx(0.0, abs=0.3), pid
            # and not the error without drift: the window really covers the data drifting on that day
            assert abs(float(np.median(expected)) - float(i["systematic_rel_pct"])) > 1.0
        else:
            # totaliser: the counter increase over the last day (closing reading at the year end) against the truth
            a = int(np.searchsorted(th, hours - 24))
            assert th[-1] == pytest.approx(hours) and a < th.size - 1
            observed = 100.0 * ((v[-1] - v[a]) / (tv[-1] - tv[a]) - 1.0)
            expected = float(np.mean(_expected_error(i, np.arange(th[a], hours, 1 / 60), hours)))
            assert observed == pytest.approx(expected, abs=0.3), pid
