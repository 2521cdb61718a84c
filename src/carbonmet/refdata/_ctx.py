"""What every writing step of the generator needs, kept in one place instead of long argument lists."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ._constants import constants
from ._faults import month_starts, utc_chunks
from ._writers import write_parquet


class Ctx:
    """What every writing step needs (kept in one place instead of long argument lists)."""

    def __init__(self, out: Path, year: int, seed: int, resolution: str) -> None:
        self.out = out
        self.year = year
        self.seed = seed
        self.resolution = resolution
        self.step = 60 if resolution == "hour" else 1
        self.tz = constants()["time"]["tz_offset_hours"]
        t0 = datetime(year, 1, 1, tzinfo=timezone(timedelta(hours=self.tz)))
        self.t0_us = int(t0.timestamp()) * 1_000_000
        self.ms = month_starts(year, self.tz)  # local months: accounting periods of the truth files
        self.hours = int(self.ms[12])
        self.cb, self.cl = utc_chunks(year, self.tz)  # UTC months: partitions of the readings store
        self.batch = f"refdata-{seed}"
        self.n_readings = 0
        self.n_files = 0
        self.csv_handles: dict[Path, Any] = {}
        self.pool = ThreadPoolExecutor(max_workers=4)
        self.pending: list[Future[None]] = []

    def submit(self, table: Any, path: Path) -> None:
        """Write a Parquet file in the background (bounded queue; pyarrow releases the GIL)."""
        self.pending.append(self.pool.submit(write_parquet, table, path))
        if len(self.pending) > 16:
            self.pending.pop(0).result()

    def close(self) -> None:
        for f in self.pending:
            f.result()
        self.pending.clear()
        self.pool.shutdown(wait=True)
        for fh in self.csv_handles.values():
            fh.close()
        self.csv_handles.clear()

    def csv(self, path: Path) -> tuple[Any, bool]:
        fh = self.csv_handles.get(path)
        if fh is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = self.csv_handles[path] = path.open("wb")
            return fh, True
        return fh, False

    def ts_us(self, th: np.ndarray) -> np.ndarray:
        return self.t0_us + np.round(th * 3.6e9).astype(np.int64)

    def month_label(self, m: int) -> str:
        y = self.year + m // 12
        return f"{y}-{m % 12 + 1:02d}"

    def part_path(self, ent: str, pid: str, k: int) -> Path:
        """File of UTC-month chunk ``k`` of a point."""
        return self.out / "readings" / f"enterprise={ent}" / f"point={pid}" / f"month={self.cl[k]}" / \
            "part-refdata.parquet"

    def chunk_of(self, th: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.cb, th, side="right") - 1, 0, len(self.cl) - 1)
