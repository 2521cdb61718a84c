"""Monte Carlo method: propagation of distributions (蒙特卡洛法), JCGM 101:2008 / JJF 1059.2-2012.

Design
------
* Trials are drawn in **chunks** (a few thousand trials × all inputs, bounded memory). Each
  chunk has its own random stream, ``SeedSequence(seed, spawn_key=(chunk_index,))``, so the
  result depends only on the seed and the chunk size — never on the number of threads.
* Chunks run on a thread pool (NumPy releases the GIL for bulk sampling and arithmetic).
* Independent normal and rectangular inputs are drawn as blocks (one call per chunk) and left in
  **standard form** s (standard normal; standard uniform), with x = offset + scale·s applied by the
  evaluation (sums of weighted inputs fold it into their weights, so no pass over the samples is
  spent on it). Other marginals are drawn by their own sampler (JCGM 101 §6.4 / Annex C).
* A standard uniform for a rectangular input takes 32 random bits (two per 64-bit output of the
  generator): s = (k + ½)·2⁻³², k = 0 … 2³² − 1, i.e. 2³² equally probable mid-points of (0, 1).
  The discretisation moves no quantile by more than 2⁻³³ of the interval width (1.2·10⁻¹⁰) and
  changes the variance by a relative 2⁻⁶⁴; it halves the generator's share of the run time.
* Correlated inputs: standard normals → Cholesky factor of the correlation matrix → each
  marginal's quantile function applied to Φ(z) (a **Gaussian copula**). For normal marginals
  this gives exactly the stated correlation (JCGM 101 §6.4.8); for non-normal marginals the
  stated r is the correlation of the normal scores, and the Pearson correlation of the inputs
  is slightly smaller in magnitude (e.g. 6/π·arcsin(r/2) for two rectangular inputs).
* Only the output values are kept (8 bytes per trial); they are sorted once for the
  probabilistically symmetric and the shortest coverage intervals (JCGM 101 §7.7).
* The adaptive procedure follows JCGM 101 §7.9 with blocks of max(J, 10⁴) trials,
  J = ⌈100/(1 − p)⌉, and stops when twice the standard deviation of the block means of
  y, u(y), y_low, y_high is at most the numerical tolerance δ of u(y) (§7.9.2).

Random numbers: NumPy ``Generator`` with the SFC64 bit generator by default (PCG64 and Philox
selectable). JCGM 101 Annex C recommends the enhanced Wichmann–Hill generator; any generator
passing the TestU01/PractRand batteries meets its requirements — SFC64 and PCG64 do.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from carbonmet.quantities import MeasuredQuantity, Provenance, Source

from ._distributions import Constant, Normal, Rectangular, StudentT
from ._errors import EvaluationError, ModelError, UncertaintyError
from ._expr import Affine
from ._model import InputSet, Model

__all__ = ["McmResult", "McmRunner", "coverage_intervals", "mcm", "numerical_tolerance"]

_TWO_M32 = 2.0**-32
#: elements (inputs × trials) of one chunk's sample matrix: 2¹⁹ doubles = 4 MiB (cache-friendly)
CHUNK_ELEMENTS = 1 << 19
MAX_CHUNK = 100_000
MIN_CHUNK = 256
BIT_GENERATORS = {
    "SFC64": np.random.SFC64,
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "Philox": np.random.Philox,
}


@dataclass(frozen=True)
class McmResult:
    """Result of the Monte Carlo method (JCGM 101 §7.6–7.7).

    Attributes
    ----------
    output, unit : str
    value : float
        Average of the model values ỹ (the estimate of Y), §7.6.
    u : float
        Standard deviation of the model values, u(ỹ) (divisor M − 1).
    coverage : float
        Coverage probability p.
    interval : tuple of float
        Probabilistically symmetric 100p % coverage interval (§7.7.2).
    shortest_interval : tuple of float
        Shortest 100p % coverage interval (§7.7.4).
    trials : int
        Number of trials M used.
    seed : int
        Seed used (reuse it to reproduce the run).
    adaptive : bool
        Whether M was chosen by the adaptive procedure (§7.9).
    ndig : int
        Significant decimal digits targeted by the adaptive procedure.
    converged : bool
        False if the adaptive procedure hit ``max_trials`` before stabilising.
    blocks : int
        Number of blocks h of the adaptive procedure (0 for fixed M).
    delta : float
        Numerical tolerance δ of u(ỹ) for ``ndig`` (§7.9.2).
    elapsed : float
        Wall time [s].
    marginalized : tuple of str
        Inputs integrated analytically instead of sampled (see ``marginalize`` of :func:`mcm`).
    samples : ndarray or None
        The sorted model values (discrete representation of the output distribution, §7.5).
    inputs : tuple of str
        Inputs of the model (what :func:`~carbonmet.uncertainty.compare` checks for sharing).
    input_set : InputSet or None
        The input set the model was evaluated over.
    """

    output: str
    unit: str
    value: float
    u: float
    coverage: float
    interval: tuple[float, float]
    shortest_interval: tuple[float, float]
    trials: int
    seed: int
    adaptive: bool = False
    ndig: int = 2
    converged: bool = True
    blocks: int = 0
    delta: float = math.nan
    elapsed: float = 0.0
    marginalized: tuple[str, ...] = ()
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)
    inputs: tuple[str, ...] = field(default=(), repr=False)
    input_set: InputSet | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The ``mcm`` object of the CLI JSON."""
        return {
            "output": self.output,
            "unit": self.unit,
            "value": self.value,
            "u": self.u,
            "coverage": self.coverage,
            "interval": list(self.interval),
            "shortest_interval": list(self.shortest_interval),
            "trials": self.trials,
            "seed": self.seed,
            "adaptive": self.adaptive,
            "converged": self.converged,
            "blocks": self.blocks,
            "elapsed_s": round(self.elapsed, 4),
            "marginalized_inputs": len(self.marginalized),
        }

    def to_measured_quantity(self, provenance: Provenance | None = None) -> MeasuredQuantity:
        """The result as a :class:`~carbonmet.quantities.MeasuredQuantity` (value ỹ, u = u(ỹ))."""
        prov = provenance or Provenance(
            source=Source.CALCULATED,
            method=f"Monte Carlo method, M = {self.trials} (JCGM 101:2008; JJF 1059.2-2012)",
        )
        return MeasuredQuantity(
            value=self.value, unit=self.unit or "", u=self.u, provenance=prov, name=self.output
        )


def numerical_tolerance(value: float, ndig: int) -> float:
    """Numerical tolerance δ of a value for n_dig significant digits (JCGM 101 §7.9.2).

    Write |value| = c × 10^l with c an n_dig-digit integer; δ = ½ × 10^l.
    """
    if ndig < 1:
        raise UncertaintyError(f"ndig must be ≥ 1, got {ndig}")
    v = abs(float(value))
    if v == 0 or not math.isfinite(v):
        return math.nan if not math.isfinite(v) else 0.0
    ell = math.floor(math.log10(v)) - ndig + 1
    if round(v / 10.0**ell) >= 10**ndig:  # rounding carried into one more digit
        ell += 1
    return 0.5 * 10.0**ell


def coverage_intervals(
    sorted_values: np.ndarray, coverage: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Probabilistically symmetric and shortest coverage intervals from sorted values (JCGM 101 §7.7).

    q = pM if integer, else ⌊pM + ½⌋. Symmetric: r = (M − q)/2 if integer else (M − q + 1)/2,
    interval [y_(r), y_(r+q)] (1-based). Shortest: the r* in 1…M − q minimising y_(r+q) − y_(r).
    """
    y = sorted_values
    m = y.shape[0]
    pm = coverage * m
    q = round(pm) if abs(pm - round(pm)) < 1e-9 else math.floor(pm + 0.5)
    if q >= m:
        return (float(y[0]), float(y[-1])), (float(y[0]), float(y[-1]))
    r = (m - q) // 2 if (m - q) % 2 == 0 else (m - q + 1) // 2
    r = max(r, 1)
    sym = (float(y[r - 1]), float(y[r + q - 1]))
    widths = y[q:] - y[: m - q]
    rs = int(np.argmin(widths))
    short = (float(y[rs]), float(y[rs + q]))
    return sym, short


# --- sampling plan ---------------------------------------------------------------------------------


class _Plan:
    """How to draw one chunk of input samples for a model (built once per model)."""

    def __init__(self, model: Model, skip: set[int] | None = None, n_z: int = 0) -> None:
        dists = model.distributions
        n = len(dists)
        self.n = n
        self.skip = skip or set()
        self.n_z = n_z
        pairs = model.correlation_pairs()
        # connected components of the correlation graph
        parent = list(range(n))

        def find(a: int) -> int:
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        for i, j, r in pairs:
            if r != 0.0:
                parent[find(i)] = find(j)
        comps: dict[int, list[int]] = {}
        for i in range(n):
            comps.setdefault(find(i), []).append(i)
        self.copulas: list[tuple[np.ndarray, np.ndarray, list[Any]]] = []
        correlated: set[int] = set()
        for members in comps.values():
            if len(members) < 2:
                continue
            pos = {m: k for k, m in enumerate(members)}
            R = np.eye(len(members))
            for i, j, r in pairs:
                if i in pos and j in pos:
                    R[pos[i], pos[j]] = R[pos[j], pos[i]] = r
            try:
                L = np.linalg.cholesky(R)
            except np.linalg.LinAlgError:
                w, V = np.linalg.eigh(R)
                if w.min() < -1e-10:
                    names = ", ".join(model.names[m] for m in members[:6])
                    raise ModelError(
                        f"correlation matrix of inputs {names} is not positive semi-definite "
                        f"(smallest eigenvalue {w.min():.3g})"
                    ) from None
                L = V * np.sqrt(np.clip(w, 0.0, None))  # PSD square root (singular, e.g. r = 1)
            idx = np.array(members, dtype=np.intp)
            self.copulas.append((idx, L, [dists[m] for m in members]))
            correlated.update(members)
        normal_idx, normal_mu, normal_sd = [], [], []
        rect_idx, rect_lo, rect_w = [], [], []
        self.constants: list[tuple[int, float]] = []
        self.others: list[tuple[int, Any]] = []
        for i, d in enumerate(dists):
            if i in correlated or i in self.skip:
                continue
            if isinstance(d, Normal) or (isinstance(d, StudentT) and math.isinf(d.dof)):
                normal_idx.append(i)
                normal_mu.append(d.mean)
                normal_sd.append(d.std if isinstance(d, Normal) else d.scale)
            elif isinstance(d, Rectangular):
                rect_idx.append(i)
                rect_lo.append(d.low)
                rect_w.append(d.high - d.low)
            elif isinstance(d, Constant):
                self.constants.append((i, d.value))
            else:
                self.others.append((i, d))
        self.normal = self._block(normal_idx)
        self.rect = self._block(rect_idx)
        # the two blocks stay in standard form: x = offset + scale·s
        offset, scale, mask = np.zeros(n), np.ones(n), np.zeros(n, dtype=bool)
        if normal_idx:
            offset[normal_idx], scale[normal_idx] = normal_mu, normal_sd
        if rect_idx:
            w = np.array(rect_w)
            offset[rect_idx] = np.array(rect_lo) + 0.5 * _TWO_M32 * w
            scale[rect_idx] = _TWO_M32 * w
        mask[normal_idx + rect_idx] = True
        self.affine = Affine(offset, scale, mask) if mask.any() else None

    @staticmethod
    def _block(idx: list[int]) -> Any:
        """Row selector of a block: a slice where the rows are contiguous, else an index array."""
        if not idx:
            return None
        arr = np.array(idx, dtype=np.intp)
        return slice(int(arr[0]), int(arr[-1]) + 1) if arr[-1] - arr[0] == arr.size - 1 else arr

    def draw(
        self, rng: np.random.Generator, size: int, buffer: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """One chunk: X (rows = inputs; the normal and rectangular blocks in standard form, see
        ``affine``) and the standard normal rows Z of marginalised sums. X is written into
        ``buffer`` (flat, at least n × size) when given."""
        if buffer is not None:
            X = buffer[: self.n * size].reshape(self.n, size)
        else:
            X = np.empty((self.n, size))
        if self.normal is not None:
            if isinstance(self.normal, slice):
                rng.standard_normal(out=X[self.normal])
            else:
                X[self.normal] = rng.standard_normal((self.normal.size, size))
        if self.rect is not None:
            rows = self.rect.stop - self.rect.start if isinstance(self.rect, slice) else self.rect.size
            k = rows * size
            bits = rng.bit_generator.random_raw((k + 1) // 2).view(np.uint32)[:k].reshape(rows, size)
            if isinstance(self.rect, slice):
                np.copyto(X[self.rect], bits, casting="unsafe")
            else:
                X[self.rect] = bits
        for i, v in self.constants:
            X[i] = v
        for i, d in self.others:
            X[i] = d.sample(rng, size)
        for idx, L, ds in self.copulas:
            Z = L @ rng.standard_normal((idx.size, size))
            for k, d in enumerate(ds):
                X[idx[k]] = d.from_standard_normal(Z[k])
        Zm = rng.standard_normal((self.n_z, size)) if self.n_z else None
        return X, Zm


def _one_blas_thread() -> Any:
    """BLAS limited to one thread while the chunks run: each worker thread calls BLAS itself, and a
    BLAS thread pool per call would oversubscribe the cores and make the summation order depend on
    how many threads BLAS picked. The controller (a scan of the loaded libraries, ~5 ms) is made once per
    process: many small models — an account per enterprise — would otherwise pay it on every run."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


_CONTROLLER: ThreadpoolController | None = None


def _chunk_size(n_inputs: int) -> int:
    return int(min(MAX_CHUNK, max(MIN_CHUNK, CHUNK_ELEMENTS // max(n_inputs, 1))))


class McmRunner:
    """The sampling engine of one model: draws inputs chunk by chunk and evaluates the model on them.

    ``plan`` draws the input samples (with the affine part of the model folded in when ``marginalize``),
    ``program`` evaluates the compiled model on them, ``marginalized`` lists the inputs integrated
    analytically; :meth:`chunk` gives the output samples of one chunk, reproducibly from
    ``(seed, index)``. :func:`mcm` runs it; it is public (in :mod:`carbonmet.uncertainty.montecarlo`) only so
    tests and reviewers can check the engine's steps against plain evaluation.
    """

    def __init__(self, model: Model, seed: int, bit_generator: str, marginalize: bool = True) -> None:
        if bit_generator not in BIT_GENERATORS:
            raise UncertaintyError(
                f"unknown bit generator '{bit_generator}'; use one of {', '.join(BIT_GENERATORS)}"
            )
        self.model = model
        self.program, self.marginalized, n_z = model.monte_carlo_program(marginalize)
        self.plan = _Plan(model, self.marginalized, n_z)
        self.seed = seed
        self.bg = BIT_GENERATORS[bit_generator]
        self._local = threading.local()

    def chunk(self, index: int, size: int) -> np.ndarray:
        ss = np.random.SeedSequence(self.seed, spawn_key=(index,))
        rng = np.random.Generator(self.bg(ss))
        need = self.plan.n * size
        work = getattr(self._local, "work", None)  # this thread's sample buffer and scratch
        if work is None or work[0].size < need:
            work = self._local.work = (np.empty(need), np.empty(need))
        X, Z = self.plan.draw(rng, size, work[0])
        y = self.program(X, Z, self.plan.affine, work[1])
        if np.may_share_memory(y, work[0]) or np.may_share_memory(y, work[1]):
            y = y.copy()  # e.g. a model that is one input: its row is overwritten by the next chunk
        if not np.all(np.isfinite(y)):
            if self.plan.affine is not None:
                self.plan.affine.materialise(X)
            self._fail(X, y)
        return y

    def _fail(self, X: np.ndarray, y: np.ndarray) -> None:
        m = self.model
        nbad = int(np.count_nonzero(~np.isfinite(y)))
        est = m.estimates()
        for i in self.marginalized:  # integrated analytically: show the diagnosis their estimates
            X[i] = est[i]
        where = f"{m.source}: " if m.source else ""
        detail = ""
        if m.expression is not None:
            diag = m.expression.diagnose(X)
            if diag:
                sub = diag[0]
                names = [n for n in m.names if n in _names_in(sub)]
                detail = f"; the sub-expression '{sub}' (position {diag[1]}) gives NaN/inf" + (
                    f" for values of input(s) {', '.join(names)} drawn from their distributions"
                    if names
                    else ""
                )
        raise EvaluationError(
            f"{where}model '{m.output}' yields NaN/inf in {nbad} of {y.size} Monte Carlo trials{detail}. "
            "Check the input distributions (e.g. a quantity that can become ≤ 0 under log or sqrt, or a "
            "divisor that can reach 0)."
        )


def _names_in(text: str) -> set[str]:
    import re

    return set(re.findall(r"[^\W\d]\w*", text))


def _chunks(total: int, size: int, first_index: int = 0) -> Iterator[tuple[int, int, int]]:
    """(chunk index, start offset, size) covering ``total`` trials."""
    for k, start in enumerate(range(0, total, size)):
        yield first_index + k, start, min(size, total - start)


def _summarise(
    values: np.ndarray, coverage: float
) -> tuple[float, float, tuple[float, float], tuple[float, float]]:
    values.sort()
    mean = float(np.mean(values))
    u = float(np.std(values, ddof=1)) if values.size > 1 else 0.0
    sym, short = coverage_intervals(values, coverage)
    return mean, u, sym, short


def mcm(
    model: Model,
    trials: int = 1_000_000,
    *,
    coverage: float = 0.95,
    seed: int | None = None,
    adaptive: bool = False,
    ndig: int = 2,
    max_trials: int = 10_000_000,
    workers: int | None = None,
    chunk_size: int | None = None,
    bit_generator: str = "SFC64",
    keep_samples: bool = True,
    marginalize: bool = True,
) -> McmResult:
    """Propagate the input distributions through the model by Monte Carlo (JCGM 101 §7).

    Parameters
    ----------
    model : Model
    trials : int
        Number of trials M for a fixed-M run (JCGM 101 §7.2 suggests 10⁶ for p = 0.95).
        Ignored when ``adaptive``.
    coverage : float
        Coverage probability p [-].
    seed : int, optional
        Seed of the random streams; drawn from OS entropy if omitted (and reported).
    adaptive : bool
        Use the adaptive procedure of §7.9 instead of a fixed M.
    ndig : int
        Significant decimal digits regarded as meaningful in u(y) (§7.9.2), 1 or 2 typical.
    max_trials : int
        Upper bound on M for the adaptive procedure.
    workers : int, optional
        Threads (default: number of CPUs, at most 2·cpus). Results do not depend on it.
    chunk_size : int, optional
        Trials per chunk (default from the number of sampled inputs, ≤ 4 MiB of samples per chunk). Part of the
        reproducibility key together with the seed.
    bit_generator : str
        'SFC64' (default), 'PCG64', 'PCG64DXSM' or 'Philox'.
    keep_samples : bool
        Keep the sorted model values in the result (for histograms).
    marginalize : bool
        Integrate analytically the independent Gaussian inputs that enter a sum linearly (each
        appearing once, as a factor of one term): given the other inputs their contribution is
        exactly Gaussian, so one standard normal per trial replaces them. The output distribution
        is the same as with plain sampling (a different but equally valid random sequence);
        ``False`` samples every input.

    Returns
    -------
    McmResult
    """
    if not 0.0 < coverage < 1.0:
        raise UncertaintyError(f"coverage probability must lie in (0, 1), got {coverage}")
    if seed is None:
        entropy = np.random.SeedSequence().entropy
        seed = int(entropy if isinstance(entropy, int) else 0) % (2**63)
    if seed < 0:
        raise UncertaintyError(f"seed must be ≥ 0, got {seed}")
    workers = workers or min(os.cpu_count() or 1, 8)
    runner = McmRunner(model, seed, bit_generator, marginalize)
    sampled_rows = len(model.names) - len(runner.marginalized) + runner.plan.n_z
    size = int(chunk_size or _chunk_size(sampled_rows))
    if size < 1:
        raise UncertaintyError(f"chunk_size must be ≥ 1, got {chunk_size}")
    t0 = time.perf_counter()
    J = math.ceil(100.0 / (1.0 - coverage))
    if not adaptive:
        M = int(trials)
        if M < J:
            raise UncertaintyError(
                f"M = {M} trials is too few for coverage {coverage}: JCGM 101 §7.2 needs M ≫ 1/(1 − p); use ≥ {J}"
            )
        out = np.empty(M)
        jobs = list(_chunks(M, size))
        with _one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
            for (_, start, n), y in zip(
                jobs, pool.map(lambda j: runner.chunk(j[0], j[2]), jobs), strict=True
            ):
                out[start : start + n] = y
        mean, u, sym, short = _summarise(out, coverage)
        return McmResult(
            output=model.output,
            unit=model.unit,
            value=mean,
            u=u,
            coverage=coverage,
            interval=sym,
            shortest_interval=short,
            trials=M,
            seed=seed,
            adaptive=False,
            ndig=ndig,
            delta=numerical_tolerance(u, ndig),
            elapsed=time.perf_counter() - t0,
            marginalized=tuple(model.names[i] for i in sorted(runner.marginalized)),
            samples=out if keep_samples else None,
            inputs=model.names,
            input_set=model.inputs,
        )

    # adaptive procedure, JCGM 101 §7.9.4
    block = max(J, 10_000)
    chunks_per_block = math.ceil(block / size)
    blocks: list[np.ndarray] = []
    stats_rows: list[tuple[float, float, float, float]] = []
    converged = False
    delta = math.nan
    h_stop = 0
    batch = max(1, workers)
    with _one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
        while not converged and (len(blocks) + 1) * block <= max_trials:
            first = len(blocks)
            n_new = min(batch, max_trials // block - first)
            ajobs: list[tuple[int, int, int, int]] = []
            for b in range(first, first + n_new):
                for ci, start, n in _chunks(block, size, b * chunks_per_block):
                    ajobs.append((b, ci, start, n))
            ys = list(pool.map(lambda j: runner.chunk(j[1], j[3]), ajobs))
            new_blocks = [np.empty(block) for _ in range(n_new)]
            for (b, _, start, n), y in zip(ajobs, ys, strict=True):
                new_blocks[b - first][start : start + n] = y
            for yb in new_blocks:  # apply the stopping rule block by block: independent of `workers`
                blocks.append(yb)
                srt = np.sort(yb)
                sym, _ = coverage_intervals(srt, coverage)
                stats_rows.append((float(yb.mean()), float(yb.std(ddof=1)), sym[0], sym[1]))
                h = len(blocks)
                if h < 2:
                    continue
                arr = np.array(stats_rows)
                s = arr.std(axis=0, ddof=1) / math.sqrt(h)
                u_all = float(np.concatenate(blocks).std(ddof=1)) if h <= 4 else _pooled_std(blocks)
                delta = numerical_tolerance(u_all, ndig)
                if np.all(2.0 * s <= delta):
                    converged = True
                    h_stop = h
                    break
    if converged:
        blocks = blocks[:h_stop]
    if not blocks:
        raise UncertaintyError(
            f"max_trials = {max_trials} is smaller than one adaptive block of {block} trials"
        )
    out = np.concatenate(blocks)
    mean, u, sym, short = _summarise(out, coverage)
    return McmResult(
        output=model.output,
        unit=model.unit,
        value=mean,
        u=u,
        coverage=coverage,
        interval=sym,
        shortest_interval=short,
        trials=int(out.size),
        seed=seed,
        adaptive=True,
        ndig=ndig,
        converged=converged,
        blocks=len(blocks),
        delta=numerical_tolerance(u, ndig),
        elapsed=time.perf_counter() - t0,
        marginalized=tuple(model.names[i] for i in sorted(runner.marginalized)),
        samples=out if keep_samples else None,
        inputs=model.names,
        input_set=model.inputs,
    )


def _pooled_std(blocks: list[np.ndarray]) -> float:
    """Standard deviation of all values of equal-size blocks without concatenating them."""
    n = sum(b.size for b in blocks)
    mean = sum(float(b.sum()) for b in blocks) / n
    ss = sum(float(np.sum((b - mean) ** 2)) for b in blocks)
    return math.sqrt(ss / (n - 1))
