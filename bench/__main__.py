"""Run every benchmark module (bench/bench_*.py) and write its result to bench/results/<name>.json.

Each module exposes ``run(quick: bool = False) -> dict``; the dict holds the measured figures, the
same-run baseline and their ratio. ``python -m bench NAME…`` runs only the named ones;
``--quick`` runs reduced sizes (for a smoke check, not for the record).
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    names = [a for a in argv if not a.startswith("--")]
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if names:
        modules = [m for m in modules if any(n in m for n in names)]
    RESULTS.mkdir(exist_ok=True)
    failed = 0
    for mod_name in modules:
        print(f"== {mod_name}", flush=True)
        t0 = time.perf_counter()
        try:
            mod = importlib.import_module(f"bench.{mod_name}")
            result = mod.run(quick=quick)
        except Exception as exc:  # noqa: BLE001 — a failing benchmark is reported, the others still run
            print(f"   FAILED: {exc!r}", flush=True)
            failed += 1
            continue
        result = {
            "benchmark": mod_name,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": quick,
            "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
            "wall_seconds": round(time.perf_counter() - t0, 3),
            **result,
        }
        out = RESULTS / f"{mod_name.removeprefix('bench_')}{'.quick' if quick else ''}.json"
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        print(json.dumps(result, indent=2, ensure_ascii=False, default=str), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
