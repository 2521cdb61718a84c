"""Reference-dataset generation: the default region (12 enterprises, one year, hourly) and the minute run.

Each generation runs in its own process so that its peak RSS (``resource.getrusage``) is its own. The
baseline, measured in the same run, is raw NumPy generation of the same number of rows (ts, value,
flag, source, batch) written with pyarrow in the same schema and the same number of Parquet files:
what it costs just to put that many readings on this disk. ``ratio`` = generator time ÷ baseline time.

Size: ``REFDATA_BENCH_MINUTE_ENTERPRISES`` (default 12; 0 skips the minute run). ``quick=True`` runs
2 enterprises hourly and 1 enterprise at minute resolution.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

_CHILD_GEN = r"""
import json, resource, sys, time
from carbonmet.refdata import generate
out, n, res = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
m = generate(out, enterprises=n, year=2025, seed=7, resolution=res)
secs = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": secs, "cpu_seconds": ru.ru_utime + ru.ru_stime, "peak_rss_mb": ru.ru_maxrss / 1024,
                  "readings": m.counts["readings"], "parquet_files": m.counts["parquet_files"]}))
"""

_CHILD_BASE = r"""
import json, resource, sys, time
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
from pathlib import Path
from carbonmet.metering.schemas import READINGS_SCHEMA
out, rows, files = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
rng = np.random.default_rng(0)
per = rows // files
flags = pa.array(["N", "F", "M", "S", "D", "C", "T", "B"])
src = pa.array(["measured", "substituted"])
for i in range(files):
    n = per + (rows - per * files if i == files - 1 else 0)
    ts = pa.array(1_735_660_800_000_000 + np.arange(n, dtype=np.int64) * 60_000_000, type=pa.timestamp("us", tz="UTC"))
    val = pa.array(rng.normal(100.0, 1.0, n))
    fl = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int8)), flags)
    so = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int8)), src)
    b = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int8)), pa.array(["x"])).cast(pa.string())
    t = pa.Table.from_arrays([ts, val, fl, so, b], schema=READINGS_SCHEMA)
    p = out / f"e={i % 12}" / f"p={i // 12}" / f"m={i % 13}"
    p.mkdir(parents=True, exist_ok=True)
    pq.write_table(t, p / "part.parquet", compression="zstd")
secs = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": secs, "cpu_seconds": ru.ru_utime + ru.ru_stime, "peak_rss_mb": ru.ru_maxrss / 1024}))
"""


def _child(code: str, *args: str) -> dict[str, Any]:
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _case(tmp: Path, name: str, enterprises: int, resolution: str) -> dict[str, Any]:
    out = tmp / name
    gen = _child(_CHILD_GEN, str(out), str(enterprises), resolution)
    gen["bytes_on_disk"] = _size(out)
    shutil.rmtree(out, ignore_errors=True)
    base_dir = tmp / f"{name}-baseline"
    base = _child(_CHILD_BASE, str(base_dir), str(gen["readings"]), str(gen["parquet_files"]))
    base["bytes_on_disk"] = _size(base_dir)
    shutil.rmtree(base_dir, ignore_errors=True)
    return {
        "enterprises": enterprises,
        "resolution": resolution,
        "generate": {k: round(v, 3) if isinstance(v, float) else v for k, v in gen.items()},
        "baseline_numpy_pyarrow_write": {k: round(v, 3) if isinstance(v, float) else v for k, v in base.items()},
        "ratio": round(gen["seconds"] / base["seconds"], 3),
        "readings_per_second": round(gen["readings"] / gen["seconds"]),
    }


def run(quick: bool = False) -> dict[str, Any]:
    n_hour = 2 if quick else 12
    n_min = 1 if quick else int(os.environ.get("REFDATA_BENCH_MINUTE_ENTERPRISES", "12"))
    with tempfile.TemporaryDirectory(prefix="refdata-bench-") as d:
        tmp = Path(d)
        result: dict[str, Any] = {"hourly": _case(tmp, "hour", n_hour, "hour")}
        result["hourly"]["target_seconds"] = 30
        if n_min > 0:
            result["minute"] = _case(tmp, "minute", n_min, "minute")
    result["load_average_1min"] = os.getloadavg()[0]
    result["note"] = ("generator: truth + registry + readings + lab + CEMS + HJ 212 log + truth files + manifest "
                      "(with file hashes for hourly); baseline: the same number of readings and Parquet files only")
    return result
