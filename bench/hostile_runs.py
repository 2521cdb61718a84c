"""Long runs of the hostile-input harness (tests/hostile), one format at a time, into bench/results/hostile.json.

Each format's slow test runs in its own ``pytest`` process with ``CARBONMET_HOSTILE_EXAMPLES=N`` (default
100 000) under ``nice -n 19``, with hypothesis's statistics on. From them the record of the format is taken:
``cases`` (generated cases that ran to the end), ``seconds`` (wall time of the process), ``tracebacks``
(failing cases: any exception the harness does not expect, or an assertion of it; hypothesis stops at the
first), ``rejects`` (cases refused with the format's own error naming where), ``invalid`` (draws hypothesis
discarded), the date and the commit. A format's record replaces its earlier one; the others are kept.

Not part of ``python -m bench`` (the full set takes hours on two cores)::

    python -m bench.hostile_runs                      # every format, 100 000 cases each
    python -m bench.hostile_runs registry_xlsx plan_csv --examples 20000
    python -m bench.hostile_runs --list               # the formats and their tests

``--results PATH`` writes elsewhere than bench/results/hostile.json and ``--commit SHA`` names the commit
when the run is made from an exported copy of the tree (so that commits made meanwhile do not change the
code under test); ``--nice 0`` runs at normal priority.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).parents[1]
RESULTS = ROOT / "bench" / "results" / "hostile.json"
H = "tests/hostile/"

#: format → the slow test of it (ordered cheapest first, so the first records come in soon)
FORMATS: dict[str, str] = {
    "mqtt_payload": H + "test_wire_mqtt.py::test_mutated_payloads_long_run",
    "dcc_xml": H + "test_wire_dcc.py::test_mutated_dcc_long_run",
    "model_toml_tables": H + "test_wire_model_toml.py::test_mutated_model_tables_long_run",
    "readings_csv": H + "test_tab_readings.py::test_slow_hostile_readings_csv_parser",
    "model_toml": H + "test_wire_model_toml.py::test_mutated_model_files_long_run",
    "plan_toml": H + "test_tab_plan.py::test_slow_hostile_plan_toml",
    "plan_csv": H + "test_tab_plan.py::test_slow_hostile_plan_csv",
    "registry_csv": H + "test_tab_registry.py::test_slow_hostile_registry_csv",
    "hj212_frames": H + "test_wire_hj212.py::test_mutated_streams_long_run",
    "readings_xlsx": H + "test_tab_readings.py::test_slow_hostile_readings_xlsx_parser",
    "plan_xlsx": H + "test_tab_plan.py::test_slow_hostile_plan_xlsx",
    "registry_xlsx": H + "test_tab_registry.py::test_slow_hostile_registry_xlsx",
    "readings_csv_store": H + "test_tab_readings.py::test_slow_hostile_readings_csv_through_the_store",
    "lab_csv": H + "test_tab_lab.py::test_slow_hostile_lab_csv",
    "lab_xlsx": H + "test_tab_lab.py::test_slow_hostile_lab_xlsx",
    "inventory_toml": H + "test_wire_inventory.py::test_mutated_inventory_text_long",
    "inventory_values": H + "test_wire_inventory.py::test_mutated_inventory_values_long",
}
#: the event a harness records for a case refused with the format's own error
REFUSED = "refused"


def parse_statistics(output: str) -> dict[str, int | float]:
    """Counts from pytest's ``--hypothesis-show-statistics`` block of one test (its generate phase)."""
    m = re.search(r"during generate phase \(([\d.]+) seconds\):(.*?)(?:\n\s*\n\s*- (?:during|Stopped)|\Z)",
                  output, re.DOTALL)
    if m is None:
        return {}
    block = m.group(2)

    def count(word: str) -> int:
        c = re.search(rf"(\d+) {word}", block)
        return int(c.group(1)) if c else 0

    passing, failing, invalid = count("passing"), count("failing"), count("invalid")
    total = passing + failing + invalid
    events = {name.strip(): float(pct) for pct, name in re.findall(r"\*\s*([\d.]+)%,\s*(.+)", block)}
    return {
        "generate_seconds": float(m.group(1)),
        "cases": passing,
        "failing": failing,
        "invalid": invalid,
        "rejects": round(events.get(REFUSED, 0.0) / 100 * total),
    }


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def run_format(name: str, examples: int, nice: int = 19, commit: str | None = None) -> dict[str, object]:
    """Run one format's slow test; return its record."""
    node = FORMATS[name]
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-m", "slow",
           "--hypothesis-show-statistics", node]
    if nice and shutil.which("nice"):
        cmd = ["nice", "-n", str(nice), *cmd]
    env = {**os.environ, "CARBONMET_HOSTILE_EXAMPLES": str(examples)}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    stats = parse_statistics(out)
    failed = proc.returncode != 0
    record: dict[str, object] = {
        "format": name,
        "test": node,
        "examples_asked": examples,
        "cases": stats.get("cases", 0),
        "seconds": round(seconds, 1),
        "generate_seconds": stats.get("generate_seconds"),
        "ms_per_case": round(1000 * seconds / stats["cases"], 2) if stats.get("cases") else None,
        "tracebacks": max(int(stats.get("failing", 0)), 1 if failed else 0),
        "rejects": stats.get("rejects", 0),
        "invalid": stats.get("invalid", 0),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit or _commit(),
        "pytest_exit": proc.returncode,
    }
    if failed:
        record["failure"] = out[-4000:]
    return record


def save(record: dict[str, object], path: Path = RESULTS) -> None:
    """Replace the format's record in the results file, keeping the others (in :data:`FORMATS` order)."""
    earlier: list[object] = []
    if path.exists():
        earlier = list(json.loads(path.read_text(encoding="utf-8")).get("runs", []))
    runs = [r for r in earlier if isinstance(r, dict) and r.get("format") != record["format"]]
    runs.append(record)
    order = list(FORMATS)
    runs.sort(key=lambda r: order.index(str(r["format"])) if r["format"] in order else len(order))
    doc = {
        "about": "hostile-input harness long runs (python -m bench.hostile_runs); cases = generated cases run "
                 "to the end, tracebacks = failing cases (0: every case was read/stored or refused naming where)",
        "runs": runs,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if "--list" in argv:
        for name, node in FORMATS.items():
            print(f"{name:20s} {node}")
        return 0
    examples = 100_000
    if "--examples" in argv:
        examples = int(argv[argv.index("--examples") + 1])
    nice = 19
    if "--nice" in argv:
        nice = int(argv[argv.index("--nice") + 1])
    results = Path(argv[argv.index("--results") + 1]) if "--results" in argv else RESULTS
    commit = argv[argv.index("--commit") + 1] if "--commit" in argv else None
    options = ("--examples", "--nice", "--results", "--commit")
    skip = {argv[i + 1] for i, a in enumerate(argv) if a in options and i + 1 < len(argv)}
    names = [a for a in argv if not a.startswith("--") and a not in skip]
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        print(f"unknown format(s) {unknown}; known: {', '.join(FORMATS)}", file=sys.stderr)
        return 2
    failed = 0
    for name in names or list(FORMATS):
        print(f"== {name}: {examples} cases ({FORMATS[name]})", flush=True)
        record = run_format(name, examples, nice, commit)
        save(record, results)
        failed += bool(record["tracebacks"])
        shown = {k: v for k, v in record.items() if k != "failure"}
        print(json.dumps(shown, ensure_ascii=False), flush=True)
        if "failure" in record:
            print(record["failure"], flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
