"""LCA engine (carbonmet.footprint) against bw2calc 3.x on one synthetic ecoinvent-size system, same run.

System (seeded, ``synthetic_system``): 20 000 activities in 20 sector blocks of 1 000, each activity with a
Poisson(11) number of technosphere inputs drawn from (55 %) a nearby upstream activity of the same chain
(geometric distance, mean 40), (30 %) any upstream activity of its sector, (15 %) the first 2.5 % of activities
("core" supplies: energy, transport); on top, 75 short loops of 2–6 activities (≈ 1.5 % of activities in loops,
like an electricity market buying from plants that use electricity). Every supply chain is otherwise upstream
(acyclic by construction). Input amounts U(0.002, 0.06) per unit output, reference outputs 1. Biosphere: a
Poisson(24) number of exchanges per activity on 1 000 flows (heavy-tailed use), amounts lognormal; 30 flows carry
a GWP. ≈ 233 000 technosphere + 456 000 biosphere ≈ 690 000 exchanges (ecoinvent 3.10: 23 523 / 743 409).
Distributions: every off-diagonal technosphere exchange lognormal σ ∈ U(0.05, 0.4), every biosphere exchange
lognormal σ ∈ U(0.05, 0.6), the amount as median (stats_arrays id 2 with loc = ln|amount|).

Each engine runs in its own subprocess (its peak RSS is that process's ``ru_maxrss``):

* ``ours``: ``LcaMatrices.from_arrays`` + ``Lca`` (block-triangular ordering, SuperLU) + solve; Monte Carlo.
* ``bw2calc``: the datapackage built in memory with bw_processing, ``LCA(...).lci(); lcia()``; Monte Carlo by
  ``next(lca)``. bw2calc picks pypardiso (MKL) when it is importable — its recommended set-up on x86-64 — so it is
  run twice: with pypardiso, and with pypardiso hidden (SciPy SuperLU on Aᵀ, bw2calc's own fallback), the latter
  under a time limit.

Reported: solve time (build + factorise + solve, best of 3) ours / bw2calc, supply vectors and scores agreeing to
1e-9 relative, Monte Carlo iterations per second (same distributions; ours draws every exchange that can move the
score), fill-in nnz(L+U)/nnz(A) of our factorisation, peak RSS of each process.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
DEMANDS = (0.999, 0.6173, 0.31)  # demand for the activity at these fractions of the order


def synthetic_system(
    n: int = 20_000,
    seed: int = 14,
    tech_per: float = 11.0,
    bio_per: float = 24.0,
    n_flows: int = 1_000,
    loop_share: float = 0.015,
) -> dict[str, np.ndarray]:
    """COO arrays of the synthetic system (see the module docstring); activity ``i`` supplies product ``i``."""
    rng = np.random.default_rng(seed)
    size = max(n // 20, 1)
    core = max(n // 40, 1)
    k = rng.poisson(tech_per, n)
    k[0] = 0
    col = np.repeat(np.arange(n, dtype=np.int64), k)
    u = rng.random(col.size)
    near = np.maximum(col - 1 - rng.geometric(1 / 40, col.size), 0)
    start = (col // size) * size
    in_sector = np.minimum(
        start + (rng.random(col.size) * np.maximum(col - start, 1)).astype(np.int64), np.maximum(col - 1, 0)
    )
    in_core = np.minimum(
        (rng.random(col.size) * np.minimum(core, np.maximum(col, 1))).astype(np.int64), np.maximum(col - 1, 0)
    )
    row = np.where(u < 0.55, near, np.where(u < 0.85, in_sector, in_core))
    keep = row < col
    row, col = row[keep], col[keep]
    n_loops = int(loop_share * n / 4)
    bases = rng.choice(np.arange(core, n - 8, 8), n_loops, replace=False)
    lens = rng.integers(2, 7, n_loops)
    lr: list[int] = []
    lc: list[int] = []
    for b, length in zip(bases.tolist(), lens.tolist(), strict=True):
        lr += [b + t for t in range(length)]
        lc += [b + t + 1 for t in range(length - 1)] + [b]
    row = np.r_[row, lr]
    col = np.r_[col, lc]
    key = np.unique(col * n + row)
    row, col = key % n, key // n
    amount = -rng.uniform(0.002, 0.06, row.size)
    kb = rng.poisson(bio_per, n)
    bc = np.repeat(np.arange(n, dtype=np.int64), kb)
    br = (rng.pareto(0.8, bc.size) * 60).astype(np.int64) % n_flows
    key = np.unique(bc * n_flows + br)
    br, bc = key % n_flows, key // n_flows
    char = np.zeros(n_flows)
    char[:30] = rng.choice([1.0, 27.9, 273.0, 29.8, 1.0, 0.0, 7.38], 30)
    return {
        "tr": np.r_[np.arange(n), row],
        "tc": np.r_[np.arange(n), col],
        "ta": np.r_[np.ones(n), amount],
        "tsig": np.r_[np.zeros(n), rng.uniform(0.05, 0.4, row.size)],
        "br": br,
        "bc": bc,
        "ba": rng.lognormal(-3.0, 2.0, br.size),
        "bsig": rng.uniform(0.05, 0.6, br.size),
        "char": char,
        "n": np.array(n),
        "n_flows": np.array(n_flows),
    }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _best(f: Any, repeat: int) -> tuple[float, Any]:
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _demand_ids(n: int) -> list[int]:
    return [int(f * (n - 1)) for f in DEMANDS]


# ---- engines (each in its own process) ---------------------------------------------------------------------
def _ours(d: dict[str, np.ndarray], iterations: int, out: Path) -> dict[str, Any]:
    from carbonmet.footprint import Lca, LcaMatrices

    n, nf = int(d["n"]), int(d["n_flows"])
    ids = _demand_ids(n)

    def build() -> LcaMatrices:
        return LcaMatrices.from_arrays(
            [f"a{i}" for i in range(n)],
            [f"p{i}" for i in range(n)],
            ["s"] * n,
            [f"f{k}" for k in range(nf)],
            d["char"],
            (d["tr"], d["tc"], d["ta"]),
            (d["br"], d["bc"], d["ba"]),
            tech_spread=(
                np.where(d["tsig"] > 0, "lognormal", "none"),
                d["tsig"],
                np.full(d["tsig"].size, np.nan),
            ),
            bio_spread=(np.full(d["br"].size, "lognormal"), d["bsig"], np.full(d["br"].size, np.nan)),
        )

    def one() -> tuple[Any, Any]:
        lca = Lca(build())
        return lca, lca.solve({f"p{ids[0]}": 1.0})

    t_solve, (lca, r0) = _best(one, 3)
    t_next, _ = _best(lambda: lca.solve({f"p{ids[1]}": 1.0}), 3)
    supplies = [r0.supply] + [lca.solve({f"p{i}": 1.0}).supply for i in ids[1:]]
    scores = [r0.score] + [lca.solve({f"p{i}": 1.0}).score for i in ids[1:]]
    np.save(out / "ours_supply.npy", np.vstack(supplies))
    fill = lca.fill_in
    t0 = time.perf_counter()
    mc = lca.monte_carlo({"a": {f"p{ids[0]}": 1.0}}, iterations=iterations, seed=1)
    t_mc = time.perf_counter() - t0
    s = mc.summary("a")
    return {
        "solve_seconds_best_of_3 (arrays → matrices → factorise → solve)": t_solve,
        "next_demand_seconds (factorisation reused)": t_next,
        "scores": scores,
        "fill_in nnz(L+U)/nnz(A)": fill,
        "mc_iterations": iterations,
        "mc_seconds": t_mc,
        "mc_iterations_per_second": iterations / t_mc,
        "mc_summary": {
            "deterministic": s.deterministic,
            "mean": s.mean,
            "sd": s.sd,
            "p2_5": s.p2_5,
            "p97_5": s.p97_5,
        },
        "peak_rss_mb": _peak_rss_mb(),
    }


def _bw2calc(d: dict[str, np.ndarray], iterations: int, out: Path, pardiso: bool) -> dict[str, Any]:
    if not pardiso:
        sys.modules["pypardiso"] = None  # type: ignore[assignment]  # hide it: bw2calc falls back to SciPy
    import warnings

    warnings.simplefilter("ignore")
    import bw2calc as bc
    import bw_processing as bwp

    n = int(d["n"])
    ids = _demand_ids(n)
    flow0 = 1_000_000

    def datapackage() -> Any:
        dp = bwp.create_datapackage(sequential=False)
        tidx = np.empty(d["tr"].size, dtype=bwp.INDICES_DTYPE)
        tidx["row"], tidx["col"] = d["tr"], d["tc"]
        tdist = np.zeros(d["tr"].size, dtype=bwp.UNCERTAINTY_DTYPE)
        lognormal = d["tsig"] > 0
        tdist["uncertainty_type"] = np.where(lognormal, 2, 0)
        tdist["loc"] = np.where(lognormal, np.log(np.abs(d["ta"])), np.abs(d["ta"]))
        tdist["scale"] = np.where(lognormal, d["tsig"], np.nan)
        tdist["shape"] = tdist["minimum"] = tdist["maximum"] = np.nan
        dp.add_persistent_vector(
            matrix="technosphere_matrix",
            indices_array=tidx,
            data_array=np.abs(d["ta"]),
            flip_array=d["ta"] < 0,
            distributions_array=tdist,
            name="tech",
        )
        bidx = np.empty(d["br"].size, dtype=bwp.INDICES_DTYPE)
        bidx["row"], bidx["col"] = d["br"] + flow0, d["bc"]
        bdist = np.zeros(d["br"].size, dtype=bwp.UNCERTAINTY_DTYPE)
        bdist["uncertainty_type"] = 2
        bdist["loc"], bdist["scale"] = np.log(d["ba"]), d["bsig"]
        bdist["shape"] = bdist["minimum"] = bdist["maximum"] = np.nan
        dp.add_persistent_vector(
            matrix="biosphere_matrix",
            indices_array=bidx,
            data_array=d["ba"],
            distributions_array=bdist,
            name="bio",
        )
        nz = np.flatnonzero(d["char"])
        cidx = np.empty(nz.size, dtype=bwp.INDICES_DTYPE)
        cidx["row"], cidx["col"] = nz + flow0, nz + flow0
        dp.add_persistent_vector(
            matrix="characterization_matrix", indices_array=cidx, data_array=d["char"][nz], name="cf"
        )
        return dp

    def one() -> Any:
        lca = bc.LCA({ids[0]: 1.0}, data_objs=[datapackage()])
        lca.lci()
        lca.lcia()
        return lca

    repeat = 3 if pardiso else 1
    t_solve, lca = _best(one, repeat)
    supplies = [lca.supply_array[[lca.dicts.activity[i] for i in range(n)]]]
    scores = [float(lca.score)]
    t_next = math.nan
    for i in ids[1:]:
        t0 = time.perf_counter()
        lca.lci({i: 1.0})
        lca.lcia()
        t_next = time.perf_counter() - t0 if math.isnan(t_next) else t_next
        supplies.append(lca.supply_array[[lca.dicts.activity[j] for j in range(n)]])
        scores.append(float(lca.score))
    np.save(out / f"bw2calc_{'pardiso' if pardiso else 'scipy'}_supply.npy", np.vstack(supplies))
    result: dict[str, Any] = {
        "version": bc.__version__,
        "solver": "pypardiso (MKL PARDISO)" if bc.PYPARDISO else "SciPy SuperLU on Aᵀ",
        "solve_seconds (datapackage → matrices → solve)" + (" best of 3" if repeat > 1 else ""): t_solve,
        "next_demand_seconds": t_next,
        "scores": scores,
    }
    if iterations:
        mc = bc.LCA({ids[0]: 1.0}, data_objs=[datapackage()], use_distributions=True, seed_override=1)
        mc.lci()
        mc.lcia()
        draws = []
        t0 = time.perf_counter()
        for _ in range(iterations):
            next(mc)
            draws.append(float(mc.score))
        t_mc = time.perf_counter() - t0
        result.update(
            {
                "mc_iterations": iterations,
                "mc_seconds": t_mc,
                "mc_iterations_per_second": iterations / t_mc,
                "mc_mean": float(np.mean(draws)),
                "mc_sd": float(np.std(draws, ddof=1)),
            }
        )
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


def _child(engine: str, data: Path, iterations: int, out: Path) -> None:
    with np.load(data) as z:
        d = {k: z[k] for k in z.files}
    if engine == "ours":
        r = _ours(d, iterations, out)
    else:
        r = _bw2calc(d, iterations, out, pardiso=engine == "bw2calc_pardiso")
    print("RESULT " + json.dumps(r, default=float), flush=True)


def _spawn(engine: str, data: Path, iterations: int, out: Path, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.bench_lca", engine, str(data), str(iterations), str(out)]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        p = subprocess.run(
            cmd, check=False, cwd=HERE.parent, capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        return {"did_not_finish_within_seconds": timeout}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    if p.returncode != 0 or not lines:
        return {"failed": p.stderr[-2000:]}
    return dict(json.loads(lines[-1][len("RESULT ") :]))


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def run(quick: bool = False) -> dict[str, Any]:
    n = 2_000 if quick else 20_000
    with tempfile.TemporaryDirectory(prefix="bench_lca_") as tmp:
        out = Path(tmp)
        d = synthetic_system(n)
        np.savez(out / "system.npz", **d)
        from carbonmet.footprint import block_triangular_order

        _, labels = block_triangular_order(n, d["tr"], d["tc"])
        counts = np.bincount(labels)
        system = {
            "activities": n,
            "technosphere_exchanges": int(d["tr"].size),
            "biosphere_exchanges": int(d["br"].size),
            "exchanges": int(d["tr"].size + d["br"].size),
            "activities_in_loops": int(counts[counts > 1].sum()),
            "loops": int((counts > 1).sum()),
            "largest_loop": int(counts.max()),
            "flows": int(d["n_flows"]),
            "characterised_flows": int(np.count_nonzero(d["char"])),
            "draws_per_iteration_bw2calc (every uncertain exchange)": int(
                np.count_nonzero(d["tsig"]) + d["br"].size
            ),
            "draws_per_iteration_ours (those that can move the score)": int(
                np.count_nonzero(d["tsig"]) + np.count_nonzero(d["char"][d["br"]])
            ),
        }
        ours = _spawn("ours", out / "system.npz", 20 if quick else 200, out, 1800)
        bwp = _spawn("bw2calc_pardiso", out / "system.npz", 3 if quick else 10, out, 3600)
        bws = _spawn("bw2calc_scipy", out / "system.npz", 3 if quick else 10, out, 120 if quick else 900)
        res: dict[str, Any] = {"system": system, "ours": ours, "bw2calc_pypardiso": bwp, "bw2calc_scipy": bws}
        f_ours = out / "ours_supply.npy"
        for key, name in (("bw2calc_pypardiso", "pardiso"), ("bw2calc_scipy", "scipy")):
            f = out / f"bw2calc_{name}_supply.npy"
            if f.exists() and f_ours.exists():
                a, b = np.load(f_ours), np.load(f)
                sa, sb = np.array(ours["scores"]), np.array(res[key]["scores"])
                res[key]["max_rel_diff_supply_vs_ours"] = max(_rel(a[i], b[i]) for i in range(len(a)))
                res[key]["max_rel_diff_score_vs_ours"] = float(np.max(np.abs(sa - sb) / np.abs(sb)))
                res[key]["identical_1e-9"] = (
                    max(res[key]["max_rel_diff_supply_vs_ours"], res[key]["max_rel_diff_score_vs_ours"])
                    <= 1e-9
                )
                t_key = next(k for k in res[key] if k.startswith("solve_seconds"))
                t_ours = next(v for k, v in ours.items() if k.startswith("solve_seconds"))
                res[key]["ratio_solve_ours_vs_this"] = t_ours / res[key][t_key]
                if "mc_iterations_per_second" in res[key]:
                    res[key]["ratio_mc_iterations_per_second_ours_vs_this"] = (
                        ours["mc_iterations_per_second"] / res[key]["mc_iterations_per_second"]
                    )
        return res


if __name__ == "__main__":
    _child(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
