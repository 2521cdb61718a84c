"""Pedigree matrix → lognormal (数据质量谱系矩阵 → 对数正态分布): pure functions over the tables in ``data/``.

A value's uncertainty in an LCA database is a lognormal: the value is its median, σ the standard deviation of its
natural logarithm. σ² is the **basic** variance of the exchange's class (``data/basic_uncertainty.csv``) plus one
**additional** variance per data-quality indicator and score (``data/pedigree.csv``):

.. math:: \\sigma^2 = \\sigma_b^2 + \\sum_{i=1}^{5} \\sigma_i^2(s_i), \\qquad GSD = e^{\\sigma}

and the 95 % interval is [median / GSD², median · GSD²]. Two tables of σᵢ²: ``ecoinvent_v3`` (Weidema et al. 2013)
and ``ciroth_2016`` (the empirically based factors of Ciroth et al. 2016, stored as factors U with σᵢ² = (ln U / 2)²).
The basic and pedigree parts are kept apart in every result (:class:`PedigreeSigma`), as openLCA and bw2io #27 ask.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.abc import Traversable
from pathlib import Path

from ._data import _cited, _field, _rows, package_root
from ._errors import FactorError

#: Data-quality indicators in the order of a dqEntry ``(r;c;t;g;f)`` (ecoinvent v3 and openLCA's ecoinvent system).
INDICATORS: tuple[str, ...] = ("reliability", "completeness", "temporal", "geographical", "technological")
#: Pedigree tables in ``data/pedigree.csv``.
PEDIGREE_TABLES: tuple[str, ...] = ("ecoinvent_v3", "ciroth_2016")

_ENTRY = re.compile(r"^\(?\s*([^;()]*(?:;[^;()]*)*)\s*\)?$")


@dataclass(frozen=True, slots=True)
class PedigreeCell:
    """One cell of a pedigree table: the additional variance of ln for an indicator at a score, with its source."""

    table: str
    indicator: str
    score: int
    variance: float
    factor: float | None
    source: str
    evidence: str


@dataclass(frozen=True, slots=True)
class BasicUncertainty:
    """The basic uncertainty of one exchange class: factor U (GSD²) and the variance of ln (ln U / 2)²."""

    key: str
    description: str
    factor: float
    variance: float
    source: str
    evidence: str


@dataclass(frozen=True, slots=True)
class PedigreeSigma:
    """The lognormal σ of a value with its basic and pedigree parts kept apart.

    Attributes
    ----------
    sigma : float
        Total standard deviation of ln [-]: √(basic_variance + pedigree_variance).
    basic_variance : float
        σ_b² of the exchange class [-].
    pedigree_variance : float
        Σ σᵢ² over the five indicators [-].
    by_indicator : tuple of (str, int, float)
        (indicator, score, σᵢ²) for each indicator, in :data:`INDICATORS` order.
    table : str
        Pedigree table used.
    assumed_worst : tuple of str
        Indicators scored "n.a." and taken at score 5 (the conservative reading).
    """

    sigma: float
    basic_variance: float
    pedigree_variance: float
    by_indicator: tuple[tuple[str, int, float], ...]
    table: str
    assumed_worst: tuple[str, ...] = ()

    @property
    def gsd(self) -> float:
        """Geometric standard deviation exp(σ) [-]."""
        return math.exp(self.sigma)

    @property
    def gsd2(self) -> float:
        """The 95 % factor exp(2σ): the interval is median ×/÷ GSD² [-]."""
        return math.exp(2.0 * self.sigma)

    @property
    def sigma_basic(self) -> float:
        """√σ_b², the basic part alone [-]."""
        return math.sqrt(self.basic_variance)

    @property
    def sigma_pedigree(self) -> float:
        """√Σσᵢ², the pedigree part alone [-]."""
        return math.sqrt(self.pedigree_variance)

    def to_dict(self) -> dict[str, object]:
        return {
            "sigma": self.sigma,
            "gsd": self.gsd,
            "gsd2": self.gsd2,
            "basic_variance": self.basic_variance,
            "pedigree_variance": self.pedigree_variance,
            "table": self.table,
            "by_indicator": [{"indicator": i, "score": s, "variance": v} for i, s, v in self.by_indicator],
            "assumed_worst": list(self.assumed_worst),
        }


def _read_pedigree(root: Traversable) -> dict[tuple[str, str, int], PedigreeCell]:
    out: dict[tuple[str, str, int], PedigreeCell] = {}
    for where, row in _rows(
        root,
        "pedigree.csv",
        ("table", "indicator", "score", "factor", "variance", "source", "clause", "evidence"),
    ):
        table = _field(row, "table", where)
        if table not in PEDIGREE_TABLES:
            raise FactorError(
                f"{where}: field 'table' is {table!r}; expected one of {', '.join(PEDIGREE_TABLES)}"
            )
        ind = _field(row, "indicator", where)
        if ind not in INDICATORS:
            raise FactorError(
                f"{where}: field 'indicator' is {ind!r}; expected one of {', '.join(INDICATORS)}"
            )
        s = _field(row, "score", where)
        if s not in ("1", "2", "3", "4", "5"):
            raise FactorError(f"{where}: field 'score' must be 1 … 5, got {s!r}")
        cited = _cited(row, where)
        f_txt, v_txt = row.get("factor", ""), row.get("variance", "")
        if bool(f_txt) == bool(v_txt):
            raise FactorError(f"{where}: give exactly one of 'factor' and 'variance'")
        try:
            factor = float(f_txt) if f_txt else None
            var = float(v_txt) if v_txt else (math.log(factor) / 2.0) ** 2  # type: ignore[arg-type]
        except ValueError:
            raise FactorError(f"{where}: 'factor' or 'variance' is not a number") from None
        if factor is not None and not (math.isfinite(factor) and factor >= 1.0):
            raise FactorError(f"{where}: field 'factor' must be ≥ 1 (a GSD²), got {f_txt}")
        if not (math.isfinite(var) and var >= 0):
            raise FactorError(f"{where}: field 'variance' must be ≥ 0, got {v_txt}")
        key = (table, ind, int(s))
        if key in out:
            raise FactorError(f"{where}: repeats {table} {ind} score {s}")
        out[key] = PedigreeCell(table, ind, int(s), var, factor, cited.source, cited.evidence)
    for t in PEDIGREE_TABLES:
        for ind in INDICATORS:
            for s_ in range(1, 6):
                if (t, ind, s_) not in out:
                    raise FactorError(f"pedigree.csv: table {t} lacks {ind} score {s_}")
    return out


def _read_basic(root: Traversable) -> dict[str, BasicUncertainty]:
    out: dict[str, BasicUncertainty] = {}
    for where, row in _rows(
        root, "basic_uncertainty.csv", ("class", "description", "factor", "source", "clause", "evidence")
    ):
        key = _field(row, "class", where)
        cited = _cited(row, where)
        try:
            u = float(_field(row, "factor", where))
        except ValueError:
            raise FactorError(f"{where}: field 'factor' is not a number") from None
        if not (math.isfinite(u) and u >= 1.0):
            raise FactorError(f"{where}: field 'factor' must be ≥ 1 (a GSD²), got {u}")
        if key in out:
            raise FactorError(f"{where}: repeats class {key!r}")
        out[key] = BasicUncertainty(
            key, row.get("description", ""), u, (math.log(u) / 2.0) ** 2, cited.source, cited.evidence
        )
    return out


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[tuple[str, str, int], PedigreeCell], dict[str, BasicUncertainty]]:
    root = package_root()
    return _read_pedigree(root), _read_basic(root)


def check_pedigree_data(root: str | Path) -> int:
    """Check ``pedigree.csv`` and ``basic_uncertainty.csv`` of a data directory; the number of cells read."""
    r = Path(root)
    return len(_read_pedigree(r)) + len(_read_basic(r))


def pedigree_cell(table: str, indicator: str, score: int) -> PedigreeCell:
    """The cell of ``table`` for ``indicator`` at ``score`` (with its source and evidence mark)."""
    cells, _ = _tables()
    try:
        return cells[(table, indicator, score)]
    except KeyError:
        raise FactorError(
            f"no pedigree cell {table}/{indicator}/{score}; tables {', '.join(PEDIGREE_TABLES)}, "
            f"indicators {', '.join(INDICATORS)}, scores 1 … 5"
        ) from None


def basic_uncertainty(exchange_class: str) -> BasicUncertainty:
    """The basic uncertainty of an exchange class (``co2_combustion``, ``demand``, …)."""
    _, basic = _tables()
    try:
        return basic[exchange_class]
    except KeyError:
        raise FactorError(
            f"unknown exchange class {exchange_class!r} for the basic uncertainty; known: "
            f"{', '.join(sorted(basic))}"
        ) from None


def basic_classes() -> tuple[str, ...]:
    """The exchange classes of ``data/basic_uncertainty.csv``."""
    return tuple(sorted(_tables()[1]))


def check_scores(
    scores: tuple[int | None, ...] | list[int | None], what: str = "pedigree"
) -> tuple[int | None, ...]:
    """Five scores, each 1 … 5 or None ("n.a."); anything else raises :class:`FactorError` naming ``what``."""
    if len(scores) != len(INDICATORS):
        raise FactorError(
            f"{what}: {len(scores)} scores, expected {len(INDICATORS)} ({', '.join(INDICATORS)})"
        )
    out: list[int | None] = []
    for ind, s in zip(INDICATORS, scores, strict=True):
        if s is None:
            out.append(None)
            continue
        if isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= 5:
            raise FactorError(f"{what}: {ind} score {s!r} is out of range (1 … 5)")
        out.append(s)
    return tuple(out)


def parse_dq_entry(text: str, what: str = "dqEntry") -> tuple[int | None, ...]:
    """Read a data-quality entry like ``"(2;3;1;2;5)"`` (openLCA ``dqEntry``); ``n.a.`` → None.

    Raises
    ------
    FactorError
        Not five ``;``-separated scores, a score that is not an integer, or one outside 1 … 5 (e.g. ``-1``).
    """
    m = _ENTRY.match(text.strip())
    if not m or not text.strip():
        raise FactorError(f"{what}: {text!r} is not a data-quality entry like '(2;3;1;2;5)'")
    parts = [p.strip() for p in m.group(1).split(";")]
    scores: list[int | None] = []
    for p in parts:
        if p.lower() in ("n.a.", "na", "n.a", "-"):
            scores.append(None)
            continue
        try:
            scores.append(int(p))
        except ValueError:
            raise FactorError(f"{what}: score {p!r} in {text!r} is not an integer 1 … 5") from None
    return check_scores(scores, what)


def format_dq_entry(scores: tuple[int | None, ...]) -> str:
    """``(2;3;1;2;5)``; None → ``n.a.``."""
    return "(" + ";".join("n.a." if s is None else str(s) for s in scores) + ")"


def pedigree_sigma(
    scores: tuple[int | None, ...] | list[int | None], basic_var: float, *, table: str = "ecoinvent_v3"
) -> PedigreeSigma:
    """Total σ of ln of a value from its basic variance and its pedigree scores.

    .. math:: \\sigma = \\sqrt{\\sigma_b^2 + \\sum_i \\sigma_i^2(s_i)}

    Parameters
    ----------
    scores : sequence of 5 int or None
        Reliability, completeness, temporal, geographical, further technological correlation; each 1 … 5, None for
        "n.a." (taken at score 5 and named in ``assumed_worst``).
    basic_var : float
        Basic variance of ln σ_b² [-] (:func:`basic_uncertainty` ``.variance``); ≥ 0.
    table : str
        ``"ecoinvent_v3"`` (default) or ``"ciroth_2016"``.

    Returns
    -------
    PedigreeSigma
        σ with the basic and pedigree variances apart, and each indicator's σᵢ².

    Raises
    ------
    FactorError
        A score out of range (negative, 0, 6 …), a negative or non-finite basic variance, an unknown table.

    References
    ----------
    Weidema B. P. et al. (2013), *Overview and methodology. Data quality guideline for the ecoinvent database
    version 3*, ecoinvent report 1 (v3), §10 (additional variances); Ciroth A., Muller S., Weidema B., Lesage P.
    (2016), Int J LCA 21:1338–1348.
    """
    if table not in PEDIGREE_TABLES:
        raise FactorError(f"unknown pedigree table {table!r}; expected one of {', '.join(PEDIGREE_TABLES)}")
    if not (isinstance(basic_var, int | float) and math.isfinite(basic_var) and basic_var >= 0):
        raise FactorError(f"basic variance must be finite and ≥ 0, got {basic_var!r}")
    checked = check_scores(list(scores))
    parts: list[tuple[str, int, float]] = []
    worst: list[str] = []
    for ind, s in zip(INDICATORS, checked, strict=True):
        if s is None:
            worst.append(ind)
            s = 5
        parts.append((ind, s, pedigree_cell(table, ind, s).variance))
    ped = math.fsum(v for _, _, v in parts)
    return PedigreeSigma(math.sqrt(basic_var + ped), float(basic_var), ped, tuple(parts), table, tuple(worst))


def lognormal_u_rel(sigma: float) -> float:
    """Relative standard deviation of a lognormal about its median-valued figure: √(e^{σ²} − 1) [-].

    The coefficient of variation of a lognormal; ≈ σ for small σ. Used where a lognormal factor enters a
    comparison or a law-of-propagation model as a standard uncertainty.
    """
    if not (math.isfinite(sigma) and sigma >= 0):
        raise FactorError(f"sigma must be finite and ≥ 0, got {sigma!r}")
    return math.sqrt(math.expm1(sigma * sigma))
