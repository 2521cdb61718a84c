"""Uncertainty engine vs peer libraries and a plain NumPy Monte Carlo, measured in the same run.

Model (an emission total): E = Σ_i AD_i · EF_i, i = 1 … N (N = 1 000 → 2 000 inputs). AD_i are
activity data from meters with a ±√3 % MPE (rectangular, u = 1 %), EF_i are emission factors
from lab analyses (normal, u = 2 %); the nominal values are drawn once from U(1, 2) and U(10, 20).

(a) LPU: ``carbonmet.uncertainty.lpu`` (exact reverse-mode sensitivities on the parsed expression)
    against ``uncertainties`` 3.x (ufloat objects, Python ``sum``) and GTC (``ureal`` running sum),
    all in this run; u must agree to 1e-9 relative (and with the closed form).
(b) MCM, M = 10⁶ trials × 2 000 inputs: ``carbonmet.uncertainty.mcm`` (chunks, threads, exact
    Gaussian marginalisation of the EF_i — and, reported separately, with every input sampled) against
    three plain NumPy baselines, single-threaded, default_rng (PCG64):
      * "per-trial loop": JCGM 101 §7's procedure written literally — for each trial draw the
        2 000 inputs (two NumPy calls) and evaluate the model (a dot product). Its cost per trial
        is constant, so it is timed on a subset and extrapolated linearly in M (stated in the JSON);
      * "full matrix": ``A = rng.uniform(lo, hi, (M, N)); B = rng.normal(mu, sd, (M, N));
        y = (A*B).sum(1)``. At M = 10⁶ it needs 3 × 8 GB, more than this machine should give one
        benchmark, so it is also timed on a subset and extrapolated;
      * "loop over inputs": for each input draw a vector of M trials and accumulate — the fastest
        plain NumPy we could write (scalar distribution parameters take NumPy's fast path); timed at
        full M. This is the hardest baseline and the one the goal is judged against.
    The machine is a shared VM whose speed drifts by ±20 % within minutes, so carbonmet and the
    loop over inputs are timed alternately (ours, loop, ours, loop, ours) and each keeps its best
    time. The 95 % intervals must agree to 2 significant digits (of the half-widths y − y_low,
    y_high − y).
(c) Adaptive MCM (JCGM 101 §7.9, n_dig = 2) on the same model: trials used and time.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np

from carbonmet.uncertainty import InputSet, Model, lpu, mcm
from carbonmet.uncertainty.distributions import Normal, Rectangular

_CPU: dict[int, float] = {}


def _best(f: Any, repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs; the CPU time (all threads) of that run goes to ``_CPU``."""
    best, out, cpu = math.inf, None, math.nan
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = f()
        wall, c = time.perf_counter() - t0, time.process_time() - c0
        if wall < best:
            best, cpu = wall, c
    _CPU[id(out)] = cpu
    return best, out


def _cpu(out: Any) -> float:
    return _CPU.get(id(out), math.nan)


def _sig2(x: float) -> float:
    return float(f"{x:.2g}")


def _problem(n: int) -> dict[str, Any]:
    rng = np.random.default_rng(2026)
    ad = rng.uniform(1.0, 2.0, n)
    ef = rng.uniform(10.0, 20.0, n)
    half = math.sqrt(3.0) * 0.01 * ad  # rectangular half-width giving u = 1 %
    return {"ad": ad, "ef": ef, "half": half, "u_ad": 0.01 * ad, "u_ef": 0.02 * ef}


def _model(p: dict[str, Any]) -> Model:
    n = p["ad"].size
    iset = InputSet()
    for i in range(n):
        iset.add(f"AD{i}", Rectangular(p["ad"][i] - p["half"][i], p["ad"][i] + p["half"][i]))
    for i in range(n):
        iset.add(f"EF{i}", Normal(p["ef"][i], p["u_ef"][i]))
    expr = " + ".join(f"AD{i} * EF{i}" for i in range(n))
    return Model.from_expression(expr, iset, output="E", unit="tCO2")


def _lpu_part(p: dict[str, Any], repeat: int) -> dict[str, Any]:
    import GTC
    import uncertainties as unc

    n = p["ad"].size
    exact = float(np.sqrt(np.sum((p["ef"] * p["u_ad"]) ** 2 + (p["ad"] * p["u_ef"]) ** 2)))
    t_build, model = _best(lambda: _model(p), repeat)
    t_lpu, r = _best(lambda: lpu(model), repeat)
    _ = r.budget  # budget rows on demand, timed separately
    t_budget, _ = _best(lambda: lpu(model).budget, repeat)

    names_a = [f"AD{i}" for i in range(n)]
    names_e = [f"EF{i}" for i in range(n)]

    def f(**x: Any) -> Any:  # the same model as a Python callable
        total: Any = 0.0
        for a, e in zip(names_a, names_e, strict=True):
            total = total + x[a] * x[e]
        return total

    fmodel = Model.from_function(f, model.inputs)
    t_fun, r_fun = _best(lambda: lpu(fmodel), repeat)

    def run_unc() -> float:
        a = [unc.ufloat(x, s) for x, s in zip(p["ad"], p["u_ad"], strict=True)]
        b = [unc.ufloat(x, s) for x, s in zip(p["ef"], p["u_ef"], strict=True)]
        return float(sum(x * y for x, y in zip(a, b, strict=True)).std_dev)

    t_unc, u_unc = _best(run_unc, repeat)

    def run_gtc() -> float:
        a = [GTC.ureal(x, s) for x, s in zip(p["ad"], p["u_ad"], strict=True)]
        b = [GTC.ureal(x, s) for x, s in zip(p["ef"], p["u_ef"], strict=True)]
        y = a[0] * b[0]
        for x, z in zip(a[1:], b[1:], strict=True):
            y = y + x * z
        return float(GTC.uncertainty(y))

    t_gtc, u_gtc = _best(run_gtc, max(1, repeat // 2))
    rel = lambda x: abs(x - exact) / exact
    return {
        "inputs": 2 * n,
        "u_exact_closed_form": exact,
        "carbonmet": {
            "u": r.u,
            "lpu_seconds": t_lpu,
            "model_build_seconds (parse + bind the expression string)": t_build,
            "budget_rows_seconds": t_budget,
            "rel_diff_to_exact": rel(r.u),
        },
        "carbonmet_callable_model": {
            "description": "Model.from_function(f) with f(**inputs) a Python loop; exact forward-mode dual numbers "
            f"carrying all {2 * n} derivatives in one pass",
            "u": r_fun.u,
            "lpu_seconds": t_fun,
            "rel_diff_to_exact": rel(r_fun.u),
        },
        "uncertainties": {
            "version": unc.__version__,
            "u": u_unc,
            "seconds": t_unc,
            "rel_diff_to_exact": rel(u_unc),
        },
        "gtc": {
            "version": GTC.version,
            "u": u_gtc,
            "seconds": t_gtc,
            "rel_diff_to_exact": rel(u_gtc),
            "note": "running sum y = y + a*b (GTC's propagation re-merges component vectors: O(N²))",
        },
        "ratio_lpu_vs_uncertainties": t_lpu / t_unc,
        "ratio_build_plus_lpu_vs_uncertainties": (t_build + t_lpu) / t_unc,
        "ratio_lpu_vs_gtc": t_lpu / t_gtc,
        "goal_lpu_at_most_one_fifth_of_uncertainties": t_lpu <= t_unc / 5,
        "ratio_callable_lpu_vs_uncertainties": t_fun / t_unc,
        "identical_u_1e-9": max(rel(r.u), rel(r_fun.u), rel(u_unc), rel(u_gtc)) <= 1e-9,
    }


def _intervals(y: np.ndarray) -> tuple[float, float, float, float]:
    y.sort()
    m = y.size
    q = math.floor(0.95 * m + 0.5)
    r = (m - q) // 2 if (m - q) % 2 == 0 else (m - q + 1) // 2
    return float(y.mean()), float(y.std(ddof=1)), float(y[r - 1]), float(y[r + q - 1])


def _baseline_full_matrix(p: dict[str, Any], m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lo, hi = p["ad"] - p["half"], p["ad"] + p["half"]
    A = rng.uniform(lo, hi, size=(m, lo.size))
    B = rng.normal(p["ef"], p["u_ef"], size=(m, lo.size))
    return (A * B).sum(axis=1)


def _baseline_per_trial(p: dict[str, Any], m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lo, hi = p["ad"] - p["half"], p["ad"] + p["half"]
    y = np.empty(m)
    for r in range(m):
        y[r] = rng.uniform(lo, hi) @ rng.normal(p["ef"], p["u_ef"])
    return y


def _baseline_loop_inputs(p: dict[str, Any], m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.zeros(m)
    for i in range(p["ad"].size):
        a = rng.uniform(p["ad"][i] - p["half"][i], p["ad"][i] + p["half"][i], m)
        b = rng.normal(p["ef"][i], p["u_ef"][i], m)
        y += a * b
    return y


def _mcm_part(p: dict[str, Any], trials: int, subset: int) -> dict[str, Any]:
    model = _model(p)
    n_in = 2 * p["ad"].size
    workers = min(2, os.cpu_count() or 1)

    def run_ours() -> Any:
        return mcm(model, trials, seed=1, workers=workers, keep_samples=False)

    times_ours: list[float] = []
    times_loop: list[float] = []
    t_ours, r = _best(run_ours, 1)
    times_ours.append(t_ours)
    for _ in range(2):  # alternate with the loop baseline (see module docstring)
        t, y_loop = _best(lambda: _baseline_loop_inputs(p, trials, 3), 1)
        times_loop.append(t)
        t, r = _best(run_ours, 1)
        times_ours.append(t)
    t_ours, t_loop = min(times_ours), min(times_loop)
    t_plain, r_plain = _best(
        lambda: mcm(model, trials, seed=1, workers=workers, keep_samples=False, marginalize=False), 1
    )
    t_sub, y_sub = _best(lambda: _baseline_full_matrix(p, subset, 2), 1)
    t_full_est = t_sub * trials / subset
    per_trial_subset = max(1_000, subset * 2)
    t_pt, y_pt = _best(lambda: _baseline_per_trial(p, per_trial_subset, 4), 1)
    t_pt_est = t_pt * trials / per_trial_subset
    mean_b, u_b, lo_b, hi_b = _intervals(y_loop)
    _, _, lo_s, hi_s = _intervals(y_sub)
    half_ours = (r.value - r.interval[0], r.interval[1] - r.value)
    half_base = (mean_b - lo_b, hi_b - mean_b)
    same2 = all(_sig2(a) == _sig2(b) for a, b in zip(half_ours, half_base, strict=True))
    full_bytes = 3 * 8 * trials * p["ad"].size
    return {
        "trials": trials,
        "inputs": n_in,
        "workers": workers,
        "carbonmet": {
            "seconds": t_ours,
            "value": r.value,
            "u": r.u,
            "interval": list(r.interval),
            "shortest_interval": list(r.shortest_interval),
            "bit_generator": "SFC64",
            "marginalized_inputs": len(r.marginalized),
            "note": "default mcm(): the 1 000 independent normal EF_i enter the sum linearly, so given the "
            "AD_i their contribution is exactly N(Σ AD_i μ_i, Σ AD_i² σ_i²) and is drawn with one standard "
            "normal per trial (exact Gaussian marginalisation; same output distribution). AD_i are sampled.",
            "ns_per_input_and_trial": t_ours / (trials * n_in) * 1e9,
            "cpu_seconds_all_threads": _cpu(r),
            "all_timings_seconds": times_ours,
            "sampling": "normal and rectangular inputs drawn in standard form; a rectangular input's "
            "uniform takes 32 random bits (two per 64-bit generator output); sums of weighted inputs "
            "fold the scaling into their weights and run as BLAS matrix–vector products (1 BLAS thread "
            "per worker)",
        },
        "carbonmet_plain_sampling": {
            "description": "mcm(..., marginalize=False): every one of the 2 000 inputs drawn for every trial",
            "seconds": t_plain,
            "u": r_plain.u,
            "interval": list(r_plain.interval),
            "ns_per_input_and_trial": t_plain / (trials * n_in) * 1e9,
            "cpu_seconds_all_threads": _cpu(r_plain),
        },
        "baseline_full_matrix": {
            "description": "rng = np.random.default_rng(); A = rng.uniform(lo, hi, (M, N)); "
            "B = rng.normal(mu, sd, (M, N)); y = (A*B).sum(1); single thread, float64",
            "memory_needed_at_full_M_GB": full_bytes / 1e9,
            "timed_on_subset_trials": subset,
            "subset_seconds": t_sub,
            "subset_cpu_seconds": _cpu(y_sub),
            "extrapolated_seconds_at_full_M (linear in M)": t_full_est,
            "subset_interval": [lo_s, hi_s],
        },
        "baseline_per_trial_loop": {
            "description": "for each trial: a = rng.uniform(lo, hi); b = rng.normal(mu, sd); y[r] = a @ b "
            "(JCGM 101 §7 written literally); single thread",
            "timed_on_subset_trials": per_trial_subset,
            "subset_seconds": t_pt,
            "extrapolated_seconds_at_full_M (linear in M)": t_pt_est,
            "subset_interval": list(_intervals(y_pt)[2:]),
        },
        "baseline_loop_over_inputs": {
            "description": "for each input: draw M trials (default_rng), accumulate y += a*b; single thread",
            "seconds": t_loop,
            "all_timings_seconds": times_loop,
            "cpu_seconds": _cpu(y_loop),
            "value": mean_b,
            "u": u_b,
            "interval": [lo_b, hi_b],
        },
        "interval_half_widths_carbonmet": list(half_ours),
        "interval_half_widths_baseline": list(half_base),
        "same_interval_2_significant_digits": same2,
        "speedup_vs_per_trial_loop_extrapolated": t_pt_est / t_ours,
        "speedup_vs_full_matrix_extrapolated": t_full_est / t_ours,
        "speedup_vs_loop_over_inputs": t_loop / t_ours,
        "speedup_vs_loop_over_inputs_median_times": float(np.median(times_loop) / np.median(times_ours)),
        "cpu_time_ratio_loop_baseline_over_carbonmet": _cpu(y_loop) / _cpu(r),
        "load_average_1min_at_end": os.getloadavg()[0],
        "plain_sampling_speedup_vs_full_matrix_extrapolated": t_full_est / t_plain,
        "plain_sampling_speedup_vs_loop_over_inputs": t_loop / t_plain,
        "goal_10x_vs_per_trial_loop": t_pt_est / t_ours >= 10,
        "goal_10x_vs_full_matrix_baseline": t_full_est / t_ours >= 10,
        "goal_10x_vs_loop_over_inputs_baseline": t_loop / t_ours >= 10,
    }


def _adaptive_part(p: dict[str, Any]) -> dict[str, Any]:
    model = _model(p)
    t, r = _best(lambda: mcm(model, adaptive=True, ndig=2, seed=4, keep_samples=False), 1)
    return {
        "ndig": 2,
        "trials_used": r.trials,
        "blocks": r.blocks,
        "converged": r.converged,
        "seconds": t,
        "u": r.u,
        "delta": r.delta,
        "interval": list(r.interval),
    }


def run(quick: bool = False) -> dict[str, Any]:
    n = 50 if quick else 1000
    p = _problem(n)
    out: dict[str, Any] = {"model": f"E = sum of {n} products AD_i*EF_i ({2 * n} inputs)"}
    out["lpu"] = _lpu_part(p, repeat=3 if quick else 5)
    out["mcm"] = _mcm_part(p, trials=20_000 if quick else 1_000_000, subset=5_000 if quick else 50_000)
    out["adaptive"] = _adaptive_part(p)
    out["summary"] = {
        "lpu_ratio_vs_uncertainties": out["lpu"]["ratio_lpu_vs_uncertainties"],
        "lpu_ratio_vs_gtc": out["lpu"]["ratio_lpu_vs_gtc"],
        "mcm_speedup_vs_per_trial_loop_extrapolated": out["mcm"]["speedup_vs_per_trial_loop_extrapolated"],
        "mcm_speedup_vs_full_matrix_extrapolated": out["mcm"]["speedup_vs_full_matrix_extrapolated"],
        "mcm_speedup_vs_loop_over_inputs": out["mcm"]["speedup_vs_loop_over_inputs"],
        "mcm_plain_sampling_speedup_vs_full_matrix_extrapolated": out["mcm"][
            "plain_sampling_speedup_vs_full_matrix_extrapolated"
        ],
        "mcm_plain_sampling_speedup_vs_loop_over_inputs": out["mcm"][
            "plain_sampling_speedup_vs_loop_over_inputs"
        ],
        "adaptive_trials": out["adaptive"]["trials_used"],
        "adaptive_seconds": out["adaptive"]["seconds"],
    }
    return out
