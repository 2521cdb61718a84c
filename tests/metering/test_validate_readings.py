"""validate_readings (the metering name; uncertainty's LPU-vs-MCM check is validate_lpu): one batch in,
every row stored, quarantined with a reason, or counted as a duplicate of what is stored."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from carbonmet.metering import Catalog, RawReading, default_rules, readings_to_batch, validate_readings

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 1, 1, tzinfo=SH)


def test_validate_readings_sorts_every_row_into_one_place(catalog: Catalog) -> None:
    stored_ts = int(T0.timestamp() * 1e6)

    def existing(enterprise: str, point: str, month: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if point == "E01.GAS" and month == "2024-12":  # local 2025-01-01 00:00 is 2024-12-31 16:00 UTC
            return np.array([stored_ts], np.int64), np.array([1000.0]), np.array(["N"], object)
        return np.empty(0, np.int64), np.empty(0), np.empty(0, object)

    batch = readings_to_batch([
        RawReading(T0, 1000.0, "E01.GAS"),  # already stored: a duplicate
        RawReading(T0 + timedelta(minutes=1), 1001.0, "E01.GAS"),
        RawReading(T0 + timedelta(minutes=2), 1002.0, "E01.GAS"),
        RawReading(T0, 5.0, "E09.NOPE"),  # not in the catalog
    ])
    res = validate_readings(batch, catalog, default_rules(), existing)
    assert res.received == 4 and res.duplicates == 1
    assert res.accepted.column("value").to_pylist() == [1001.0, 1002.0]
    assert res.quarantined.column("reason").to_pylist() == ["unknown_point"]
