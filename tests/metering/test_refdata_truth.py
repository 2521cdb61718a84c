"""Against the reference dataset's ground truth: readings written by ``carbonmet.refdata`` straight into
the store layout (no journal), catalog from its registry files, annual totals compared with the true
amounts and the instruments' known systematic errors (truth/instrument_errors.csv)."""

from __future__ import annotations

import csv
import math
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from carbonmet.metering import Store, activity_data
from carbonmet.registry import catalog_from_files

refdata = pytest.importorskip("carbonmet.refdata")


def test_annual_totals_match_truth_within_the_instrument_error(tmp_path: Path) -> None:
    refdata.generate(tmp_path, enterprises=1)
    reg = tmp_path / "registry"
    cat = catalog_from_files(reg / "points.csv", reg / "instruments.csv", reg / "certificates.csv", reg / "sites.csv")
    st_ = Store(tmp_path)
    z = ZoneInfo("Asia/Shanghai")
    s, e = datetime(2025, 1, 1, tzinfo=z), datetime(2026, 1, 1, tzinfo=z)
    truth = pq.read_table(tmp_path / "truth" / "points_hourly.parquet")
    with (tmp_path / "truth" / "instrument_errors.csv").open(encoding="utf-8") as fh:
        errs = {r["point_id"]: r for r in csv.DictReader(fh)}
    checked = {"interval": 0, "total": 0}
    for pid, info in cat.items():
        err = errs.get(pid)
        if info.reading_kind not in checked or err is None or not st_.files([pid]):
            continue
        if float(err["drift_rel_pct_per_year"] or 0) != 0 or err["bias_windows"]:
            continue  # the simple expectation below holds for a constant systematic error only
        t = truth.filter(pc.equal(truth["point_id"].cast("string"), pid)).sort_by("ts")
        tv = t.column("true_value").to_pylist()
        # interval points: truth is the amount per weighing; totalisers: truth is the register
        true_amount = sum(tv) if info.reading_kind == "interval" else tv[-1] - tv[0]
        act = activity_data(st_, cat, pid, s, e)
        expected = true_amount * (1 + float(err["systematic_rel_pct"]) / 100)
        assert act.measured.value == pytest.approx(expected, rel=2e-3), pid
        assert act.measured.provenance.instruments, pid
        assert act.substituted is None
        if info.reading_kind == "total":
            assert act.completeness > 0.99
        else:
            assert math.isnan(act.completeness)  # irregular weighings: coverage not evaluated
        checked[info.reading_kind] += 1
    assert checked["interval"] >= 2 and checked["total"] >= 2
