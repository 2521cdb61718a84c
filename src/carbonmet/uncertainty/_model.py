"""Inputs, correlations and measurement models (输入量、相关性与测量模型).

A :class:`InputSet` holds named input quantities (each a distribution plus unit and a note)
and the correlation coefficients between them. Several :class:`Model` objects may share one
input set: a quantity used by two models (the same flow meter in a CEMS figure and in a
material balance) is then one input, and comparisons subtract the covariance it induces.

A model is either

* an **expression** (parsed by :mod:`._expr`, never ``eval``-ed): sensitivities by reverse-mode
  automatic differentiation on the tree, or
* a **Python callable** taking the inputs as keyword arguments and written with arithmetic
  operators and NumPy functions, so that it works on scalars and on arrays alike. Its
  sensitivities come from forward-mode dual numbers (:class:`Dual`), propagated through the
  callable in blocks of inputs — exact derivatives, no finite-difference step.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from carbonmet.quantities import MeasuredQuantity, Provenance, Shape

from ._distributions import Distribution, distribution_from_u
from ._errors import DistributionError, ExpressionError, ModelError
from ._expr import Affine, Expression

__all__ = ["Dual", "Input", "InputSet", "Model"]


@dataclass(frozen=True, slots=True)
class Input:
    """One input quantity X_i (输入量).

    Attributes
    ----------
    name : str
        Stable id, used in budgets, correlations and comparisons.
    distribution : Distribution
        State of knowledge about X_i.
    unit : str
        Unit text (informative; the engine does not convert units).
    description : str
        Free text (instrument, certificate, source of a default).
    provenance : Provenance or None
        Where the input comes from (instruments, certificates, data period, method) when it was
        added from a :class:`~carbonmet.quantities.MeasuredQuantity` (:meth:`InputSet.add_quantity`);
        budgets and results carry it on.
    """

    name: str
    distribution: Distribution
    unit: str = ""
    description: str = ""
    provenance: Provenance | None = None


@dataclass
class InputSet:
    """Named inputs and the correlations between them (shared by any number of models)."""

    inputs: dict[str, Input] = field(default_factory=dict)
    correlations: dict[tuple[str, str], float] = field(default_factory=dict)
    version: int = field(default=0, compare=False, repr=False)

    def add(self, name: str, distribution: Distribution, unit: str = "", description: str = "") -> Input:
        """Add an input; names must be unique identifiers."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ModelError(f"input name {name!r} is not a valid identifier")
        if name in self.inputs:
            raise ModelError(f"input '{name}' defined twice")
        if not isinstance(distribution, Distribution):
            raise ModelError(f"input '{name}': distribution must be a Distribution, got {distribution!r}")
        return self._put(Input(name, distribution, unit, description))

    def _put(self, inp: Input) -> Input:
        self.inputs[inp.name] = inp
        self.version += 1
        return inp

    def add_quantity(self, name: str, quantity: MeasuredQuantity, shape: Shape | str | None = None) -> Input:
        """Add a measured quantity as an input, keeping its unit and provenance (计量结果作输入量).

        The distribution follows from the quantity's standard uncertainty u and a shape
        (:func:`~carbonmet.uncertainty.distributions.distribution_from_u`):

        * ``shape`` if given, else the shape the quantity records (:func:`~carbonmet.quantities.from_mpe`
          and verification certificates → rectangular, :func:`~carbonmet.quantities.from_expanded` and
          calibration certificates → normal, :func:`~carbonmet.quantities.from_type_a` → t);
        * otherwise a t distribution when the quantity has finite degrees of freedom (JCGM 101
          §6.4.9.7), else normal.

        Rectangular means half-width √3·u (GUM §4.3.7), triangular half-width √6·u (GUM §4.3.9);
        u = 0 gives a constant.

        Parameters
        ----------
        name : str
            Input id (an identifier), used in expressions, budgets and correlations.
        quantity : MeasuredQuantity
            Value, unit, u, degrees of freedom and provenance.
        shape : Shape or str, optional
            ``"normal"``, ``"rectangular"``, ``"triangular"`` or ``"t"``; overrides the quantity's own.

        Returns
        -------
        Input
            The new input; its ``provenance`` is the quantity's.

        Raises
        ------
        ModelError
            The name is taken or not an identifier, the quantity's u is nan (not evaluated — never
            taken as zero) or not finite, or the shape is unknown.

        Examples
        --------
        >>> from carbonmet.quantities import from_certificate, from_type_a
        >>> inputs = InputSet()
        >>> _ = inputs.add_quantity("C_ar", from_type_a([0.536, 0.534, 0.538], "tC/t"))
        >>> d_an = from_certificate(0.0, "tC/t", kind="verification", mpe=0.002)
        >>> inputs.add_quantity("d_an", d_an).distribution.kind
        'rectangular'
        """
        if not isinstance(quantity, MeasuredQuantity):
            raise ModelError(f"input '{name}': expected a MeasuredQuantity, got {type(quantity).__name__}")
        if not isinstance(name, str) or not name.isidentifier():
            raise ModelError(f"input name {name!r} is not a valid identifier")
        if name in self.inputs:
            raise ModelError(f"input '{name}' defined twice")
        label = f"input '{name}'" + (
            f" (quantity '{quantity.name}')" if quantity.name and quantity.name != name else ""
        )
        if math.isnan(quantity.u):
            note = f"; {quantity.provenance.note}" if quantity.provenance.note else ""
            raise ModelError(
                f"{label}: 标准不确定度未评定 the standard uncertainty u is not evaluated (nan){note}; "
                "it is never taken as zero — give the certificate figure or a type A evaluation"
            )
        chosen = shape if shape is not None else quantity.shape
        if chosen is None:
            chosen = Shape.T if math.isfinite(quantity.dof) else Shape.NORMAL
        try:
            dist = distribution_from_u(quantity.value, quantity.u, str(chosen), quantity.dof)
        except DistributionError as exc:
            raise ModelError(f"{label}: {exc}") from None
        prov = quantity.provenance
        return self._put(Input(name, dist, quantity.unit, _describe_provenance(prov), prov))

    def correlate(self, a: str, b: str, r: float) -> None:
        """Declare the correlation coefficient r(a, b) ∈ [−1, 1] (GUM §5.2.2)."""
        for n in (a, b):
            if n not in self.inputs:
                raise ModelError(f"correlation names unknown input '{n}'")
        if a == b:
            raise ModelError(f"correlation of input '{a}' with itself")
        rv = float(r)
        if not (math.isfinite(rv) and -1.0 <= rv <= 1.0):
            raise ModelError(f"correlation r({a}, {b}) must lie in [-1, 1], got {r!r}")
        key = (a, b) if a < b else (b, a)
        self.correlations[key] = rv
        self.version += 1

    def set_correlation_matrix(self, names: Sequence[str], matrix: Any) -> None:
        """Declare correlations from a symmetric matrix over ``names``."""
        m = np.asarray(matrix, dtype=float)
        if m.shape != (len(names), len(names)):
            raise ModelError(f"correlation matrix must be {len(names)}×{len(names)}, got {m.shape}")
        if not np.allclose(m, m.T) or not np.allclose(np.diag(m), 1.0):
            raise ModelError("correlation matrix must be symmetric with a unit diagonal")
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                if m[i, j] != 0.0:
                    self.correlate(names[i], names[j], m[i, j])

    def __getitem__(self, name: str) -> Input:
        return self.inputs[name]

    def __contains__(self, name: object) -> bool:
        return name in self.inputs

    def __len__(self) -> int:
        return len(self.inputs)

    def pairs_among(self, names: Iterable[str]) -> list[tuple[str, str, float]]:
        """Correlations whose both inputs are in ``names``."""
        s = set(names)
        return [(a, b, r) for (a, b), r in self.correlations.items() if a in s and b in s]

    @classmethod
    def from_mapping(cls, inputs: Mapping[str, Distribution | Input | MeasuredQuantity]) -> InputSet:
        """Input set from ``{name: Distribution | Input | MeasuredQuantity}``."""
        out = cls()
        for name, d in inputs.items():
            if isinstance(d, Input):
                out.add(name, d.distribution, d.unit, d.description)
                out.inputs[name] = Input(name, d.distribution, d.unit, d.description, d.provenance)
            elif isinstance(d, MeasuredQuantity):
                out.add_quantity(name, d)
            else:
                out.add(name, d)
        return out


def _check_units(model: Model) -> None:
    """Walk the expression with pint quantities of magnitude 1 (see :meth:`Model.check_units`)."""
    from carbonmet.quantities import CarbonmetError, parse_unit, ureg

    from ._expr import CONSTANTS, Call, Neg, Num, Pow, Prod, Sum, Var

    assert model.expression is not None
    expr = model.expression
    where = f"{model._where()}model '{model.output}'"

    def unit_of(text: str, what: str) -> Any:
        try:
            return parse_unit(text)
        except (CarbonmetError, ValueError) as exc:
            raise ModelError(f"{where}: {what} has unit {text!r} that is not understood ({exc})") from None

    units: dict[str, Any] = {}
    for n in model.names:
        text = model.inputs[n].unit.strip()
        if not text:
            raise ModelError(f"{where}: input '{n}' has no unit; units are checked for this model")
        units[n] = ureg.Quantity(1.0, unit_of(text, f"input '{n}'"))
    if not model.unit.strip():
        raise ModelError(f"{where}: the output has no unit; units are checked for this model")
    out = ureg.Quantity(1.0, unit_of(model.unit, "the output"))
    one = ureg.Quantity(1.0, "")

    def show(node: Any) -> str:
        return f"'{expr.source(node)}' (position {node.start})"

    def dim(q: Any) -> str:
        d = str(q.dimensionality)
        return "dimensionless" if d == "dimensionless" else f"{q.units:~} [{d}]"

    def walk(node: Any) -> Any:
        t = type(node)
        if t is Var:
            return units[node.name]
        if t is Num:
            if node.name:
                return ureg.Quantity(1.0, CONSTANTS[node.name][1])
            return one
        if t is Neg:
            return walk(node.arg)
        if t is Sum:
            first = walk(node.terms[0])
            for term in node.terms[1:]:
                q = walk(term)
                if q.dimensionality != first.dimensionality:
                    raise ModelError(
                        f"{where}: term {show(term)} is {dim(q)} but term {show(node.terms[0])} is "
                        f"{dim(first)}; a sum needs one dimension"
                    )
            return first
        if t is Prod:
            acc = one
            for f, inv in zip(node.factors, node.inverse, strict=True):
                q = walk(f)
                acc = acc / q if inv else acc * q
            return acc
        if t is Pow:
            base, ex = walk(node.base), walk(node.exponent)
            if not ex.dimensionless:
                raise ModelError(
                    f"{where}: exponent {show(node.exponent)} is {dim(ex)}; it must be dimensionless"
                )
            if base.dimensionless:
                return one
            e = node.exponent
            val = -e.arg.value if isinstance(e, Neg) and isinstance(e.arg, Num) else getattr(e, "value", None)
            if not isinstance(e, (Num, Neg)) or val is None:
                raise ModelError(
                    f"{where}: {show(node)} raises {dim(base)} to a variable power; a dimensioned base needs "
                    "a constant exponent"
                )
            return base ** float(val)
        if t is Call:
            q = walk(node.arg)
            if node.fn == "sqrt":
                return q**0.5
            if node.fn == "abs":
                return q
            if not q.dimensionless:
                raise ModelError(
                    f"{where}: {node.fn}() of {show(node.arg)}, which is {dim(q)}; it needs a dimensionless argument"
                )
            return one
        raise TypeError(node)  # pragma: no cover

    got = walk(expr.root)
    if got.dimensionality != out.dimensionality:
        hint = ""
        if "carbon_mass" in str(got.dimensionality) and "co2" in str(out.dimensionality).lower():
            hint = "; carbon becomes CO2 only through the constant CO2_PER_C (a bare 44/12 is a pure number)"
        raise ModelError(f"{where}: the expression gives {dim(got)} but the output unit is {dim(out)}{hint}")


def _describe_provenance(p: Provenance) -> str:
    """One line naming instruments, certificates and the data period of a provenance."""
    parts = []
    if p.instruments:
        parts.append("instruments " + ", ".join(p.instruments))
    if p.certificates:
        parts.append("certificates " + ", ".join(p.certificates))
    if p.period:
        parts.append(f"period {p.period[0].isoformat()} – {p.period[1].isoformat()}")
    if p.method:
        parts.append(p.method)
    if p.reference:
        parts.append(p.reference)
    return "; ".join(parts)


# --- forward-mode dual numbers for Python-callable models ----------------------------------------


class Dual:
    """Scalar dual number v + Σ d_j ε_j with a gradient block ``d`` (forward-mode AD).

    Why forward mode exists next to the reverse mode of expressions: a model given as a Python
    callable (:meth:`Model.from_function`) has no tree to run a backward pass on — the only way
    to get exact sensitivities out of arbitrary Python code is to run it on numbers that carry
    their derivatives. Dual numbers do that with no tracing machinery, and a block of ε per call
    keeps the cost at ⌈N/block⌉ calls for N inputs. Expression models never use them.

    Supports + − * / **, comparisons (on the value) and the NumPy ufuncs exp, log, log10, log2,
    log1p, expm1, sqrt, square, reciprocal, sin, cos, tan, arctan, sinh, cosh, tanh, absolute.
    ``float(x)`` and ``math.*`` functions are deliberately unsupported: they would silently
    drop the derivative.
    """

    __slots__ = ("d", "v")
    __array_priority__ = 1000

    def __init__(self, v: float, d: np.ndarray | None) -> None:
        # IEEE arithmetic (np.float64): 0**−0.5 → inf, (−1)**0.5 → nan, 1/0 → inf instead of
        # Python's ZeroDivisionError/complex results; non-finite values and derivatives then take
        # the EvaluationError path of the LPU
        self.v = np.float64(v)
        self.d = d

    # helpers
    @staticmethod
    def _parts(o: Any) -> tuple[Any, np.ndarray | None]:
        if isinstance(o, Dual):
            return o.v, o.d
        if isinstance(o, (int, float, np.floating, np.integer)):
            return np.float64(o), None
        arr = np.asarray(o)
        if arr.ndim == 0 and arr.dtype.kind in "fiub":
            return np.float64(arr), None
        raise TypeError(f"dual numbers do not combine with {type(o).__name__}")

    @staticmethod
    def _add(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return b
        if b is None:
            return a
        return a + b

    @staticmethod
    def _scale(d: np.ndarray | None, f: Any) -> np.ndarray | None:
        return None if d is None else d * f

    def __add__(self, o: Any) -> Dual:
        v, d = self._parts(o)
        return Dual(self.v + v, self._add(self.d, d))

    __radd__ = __add__

    def __sub__(self, o: Any) -> Dual:
        v, d = self._parts(o)
        return Dual(self.v - v, self._add(self.d, self._scale(d, -1.0)))

    def __rsub__(self, o: Any) -> Dual:
        v, d = self._parts(o)
        return Dual(v - self.v, self._add(d, self._scale(self.d, -1.0)))

    def __mul__(self, o: Any) -> Dual:
        v, d = self._parts(o)
        return Dual(self.v * v, self._add(self._scale(self.d, v), self._scale(d, self.v)))

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Dual:
        v, d = self._parts(o)
        q = self.v / v
        return Dual(q, self._add(self._scale(self.d, 1.0 / v), self._scale(d, -q / v)))

    def __rtruediv__(self, o: Any) -> Dual:
        v, d = self._parts(o)
        q = v / self.v
        return Dual(q, self._add(self._scale(d, 1.0 / self.v), self._scale(self.d, -q / self.v)))

    def __pow__(self, o: Any) -> Dual:
        v, d = self._parts(o)
        y = np.power(self.v, v)
        dd = self._scale(self.d, v * np.power(self.v, v - 1.0)) if v != 0 else None
        if d is not None:
            # ∂/∂exponent = b**e·ln b, and 0 where b = 0 < e (0**e ≡ 0), not 0·(−inf) = NaN
            de = 0.0 if (self.v == 0 and v > 0) else y * np.log(self.v)
            dd = self._add(dd, d * de)
        return Dual(y, dd)

    def __rpow__(self, o: Any) -> Dual:
        v, d = self._parts(o)
        y = np.power(v, self.v)
        if v > 0:
            de = y * np.log(v)
        elif v == 0 and self.v > 0:
            de = np.float64(0.0)
        else:
            de = np.float64(np.nan)
        dd = self._scale(self.d, de)
        if d is not None:
            dd = self._add(dd, d * (0.0 if self.v == 0 else self.v * np.power(v, self.v - 1.0)))
        return Dual(y, dd)

    def __neg__(self) -> Dual:
        return Dual(-self.v, self._scale(self.d, -1.0))

    def __pos__(self) -> Dual:
        return self

    def __abs__(self) -> Dual:
        # |x| has no derivative at 0: NaN there, so the LPU refuses it as it refuses sqrt at 0
        return Dual(abs(self.v), self._scale(self.d, np.sign(self.v) if self.v != 0 else np.nan))

    def __lt__(self, o: Any) -> bool:
        return bool(self.v < self._parts(o)[0])

    def __le__(self, o: Any) -> bool:
        return bool(self.v <= self._parts(o)[0])

    def __gt__(self, o: Any) -> bool:
        return bool(self.v > self._parts(o)[0])

    def __ge__(self, o: Any) -> bool:
        return bool(self.v >= self._parts(o)[0])

    _UNARY: ClassVar[dict[str, Callable[[float, float], float]]] = {
        "exp": lambda x, y: y,
        "expm1": lambda x, y: y + 1.0,
        "log": lambda x, y: 1.0 / x,
        "log10": lambda x, y: 1.0 / (x * math.log(10.0)),
        "log2": lambda x, y: 1.0 / (x * math.log(2.0)),
        "log1p": lambda x, y: 1.0 / (1.0 + x),
        "sqrt": lambda x, y: 0.5 / y,
        "square": lambda x, y: 2.0 * x,
        "reciprocal": lambda x, y: -y * y,
        "sin": lambda x, y: math.cos(x),
        "cos": lambda x, y: -math.sin(x),
        "tan": lambda x, y: 1.0 / math.cos(x) ** 2,
        "arctan": lambda x, y: 1.0 / (1.0 + x * x),
        "sinh": lambda x, y: math.cosh(x),
        "cosh": lambda x, y: math.sinh(x),
        "tanh": lambda x, y: 1.0 - y * y,
        "absolute": lambda x, y: np.sign(x) if x != 0 else np.nan,
    }

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *args: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs:
            return NotImplemented
        name = ufunc.__name__
        if len(args) == 1 and name in self._UNARY:
            x = self.v
            with np.errstate(all="ignore"):
                y = np.float64(ufunc(x))
                return Dual(y, self._scale(self.d, np.float64(self._UNARY[name](x, y))))
        binary = {
            "add": lambda a, b: a + b,
            "subtract": lambda a, b: a - b,
            "multiply": lambda a, b: a * b,
            "true_divide": lambda a, b: a / b,
            "divide": lambda a, b: a / b,
            "power": lambda a, b: a**b,
        }
        if len(args) == 2 and name in binary:
            a, b = args
            a = a if isinstance(a, Dual) else Dual(*self._parts(a))
            return binary[name](a, b)
        if len(args) == 1 and name == "negative":
            return -self
        if len(args) == 1 and name == "positive":
            return self
        return NotImplemented

    def __repr__(self) -> str:
        return f"Dual({self.v!r}, d={self.d!r})"


# --- the model -----------------------------------------------------------------------------------


class Model:
    """A measurement model Y = f(X_1, …, X_N) over an :class:`InputSet` (测量模型).

    Use :meth:`from_expression` or :meth:`from_function`.

    Attributes
    ----------
    output : str
        Name of the output quantity (measurand).
    unit : str
        Unit of the output (informative).
    inputs : InputSet
        The input set (may be shared with other models).
    names : tuple of str
        Inputs the model uses, in evaluation order (row order of Monte Carlo samples).
    source : str
        Where the model came from (a file path for model files), used in error messages.
    """

    def __init__(
        self,
        inputs: InputSet,
        names: Sequence[str],
        *,
        output: str = "y",
        unit: str = "",
        expression: Expression | None = None,
        function: Callable[..., Any] | None = None,
        source: str = "",
        description: str = "",
    ) -> None:
        self.inputs = inputs
        self.names = tuple(names)
        self.output = output
        self.unit = unit
        self.expression = expression
        self.function = function
        self.source = source
        self.description = description
        self.index = {n: i for i, n in enumerate(self.names)}
        for n in self.names:
            if n not in inputs:
                raise ModelError(f"{self._where()}model uses unknown input '{n}'")

    def _where(self) -> str:
        return f"{self.source}: " if self.source else ""

    # --- constructors ----------------------------------------------------------------------------
    @classmethod
    def from_expression(
        cls,
        expression: str,
        inputs: InputSet | Mapping[str, Distribution | Input | MeasuredQuantity],
        *,
        output: str = "y",
        unit: str = "",
        source: str = "",
        description: str = "",
        check_units: bool | None = None,
    ) -> Model:
        """Model from a safe arithmetic expression over the input names.

        Parameters
        ----------
        expression : str
            Arithmetic over input names, numbers, the named constants ``CO2_PER_C``,
            ``MOLAR_MASS_C``, ``MOLAR_MASS_CO2`` and the functions of the expression language.
        inputs : InputSet or mapping
            The inputs (a mapping of name → Distribution, Input or MeasuredQuantity is turned into
            a new input set).
        output, unit : str
            Name and unit of the output quantity.
        source, description : str
            Where the model comes from (named in error messages) and free text.
        check_units : bool or None
            Check once, with pint, that the expression is dimensionally consistent
            (:meth:`check_units`): ``True`` always (every input and the output need a unit),
            ``None`` (the default, as for model files) when the output and every input it uses
            have a unit, ``False`` never.
        """
        iset = inputs if isinstance(inputs, InputSet) else InputSet.from_mapping(inputs)
        expr = Expression(expression)
        used = set(expr.names)
        # rows in the input set's declared order: keeps same-kind inputs contiguous, so that
        # sampling and vectorised sums work on slices instead of gathered copies
        names = [n for n in iset.inputs if n in used] + [n for n in expr.names if n not in iset]
        order = {n: i for i, n in enumerate(names)}
        try:
            for v in expr.names:
                if v not in iset:
                    raise ExpressionError(
                        f"unknown name '{v}' in the expression of '{output}' "
                        f"(not a defined input; known inputs: {', '.join(sorted(iset.inputs)[:20])})",
                        token=v,
                    )
            expr.bind(order)
        except ExpressionError as exc:
            if source:
                raise ExpressionError(f"{source}: {exc}", exc.position, exc.token) from None
            raise
        model = cls(
            iset, names, output=output, unit=unit, expression=expr, source=source, description=description
        )
        if check_units or (check_units is None and unit and all(iset[n].unit.strip() for n in model.names)):
            model.check_units()
        return model

    def check_units(self) -> None:
        """Check that the expression is dimensionally consistent with its inputs' and output's units.

        Every input's unit and the output unit are parsed with pint
        (:func:`carbonmet.quantities.parse_unit`); the expression is then walked once: terms of a
        sum must share one dimension, functions other than ``sqrt``/``abs`` take dimensionless
        arguments, a dimensioned base needs a constant exponent, and the result must have the output
        unit's dimension. Carbon and CO₂ masses are different dimensions (quantities/units.txt):
        ``tC × 44/12`` stays tC, only ``tC × CO2_PER_C`` (unit tCO2/tC) gives tCO2. Only dimensions
        are checked, not scale factors (an input in % divided by 100 in the expression is fine).

        Raises
        ------
        ModelError
            A unit is missing or unknown, or the dimensions do not match; the message names the
            input or the term (with its position in the expression).
        """
        if self.expression is None:
            raise ModelError(f"{self._where()}only expression models can be checked for units")
        _check_units(self)

    @classmethod
    def from_function(
        cls,
        function: Callable[..., Any],
        inputs: InputSet | Mapping[str, Distribution | Input | MeasuredQuantity],
        *,
        names: Sequence[str] | None = None,
        output: str = "y",
        unit: str = "",
        description: str = "",
    ) -> Model:
        """Model from a Python callable ``f(**inputs)`` that works on floats and NumPy arrays.

        ``names`` defaults to the callable's parameter names. The callable is called with
        :class:`Dual` numbers for sensitivities (so use operators and ``np.*`` functions, not
        ``math.*``) and with 1-D arrays of trials for the Monte Carlo method.
        """
        iset = inputs if isinstance(inputs, InputSet) else InputSet.from_mapping(inputs)
        if names is None:
            sig = inspect.signature(function)
            names = [
                p.name for p in sig.parameters.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            ]
            if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
                names = list(names) + [n for n in iset.inputs if n not in names]
        return cls(iset, names, output=output, unit=unit, function=function, description=description)

    # --- views -----------------------------------------------------------------------------------
    def _cached(self) -> dict[str, Any]:
        c = getattr(self, "_cache", None)
        if c is None or c["version"] != self.inputs.version:
            dists = [self.inputs[n].distribution for n in self.names]
            c = {
                "version": self.inputs.version,
                "dists": dists,
                "x": np.array([d.mean for d in dists], dtype=float),
                "u": np.array([d.u for d in dists], dtype=float),
                "dof": np.array([d.dof for d in dists], dtype=float),
                "pairs": [
                    (self.index[a], self.index[b], r) for a, b, r in self.inputs.pairs_among(self.names)
                ],
            }
            self._cache = c
        return c

    @property
    def distributions(self) -> list[Distribution]:
        return list(self._cached()["dists"])

    def estimates(self) -> np.ndarray:
        """x_i, the expectations of the inputs (row order)."""
        return self._cached()["x"].copy()

    def standard_uncertainties(self) -> np.ndarray:
        """u(x_i) as the law of propagation uses them (row order)."""
        return self._cached()["u"].copy()

    def degrees_of_freedom(self) -> np.ndarray:
        return self._cached()["dof"].copy()

    def correlation_pairs(self) -> list[tuple[int, int, float]]:
        """Correlations among this model's inputs as (row i, row j, r)."""
        return list(self._cached()["pairs"])

    # --- evaluation ------------------------------------------------------------------------------
    def evaluate(self, X: np.ndarray) -> np.ndarray:
        """Model values for trials ``X`` (rows = inputs in :attr:`names`, columns = trials)."""
        if self.expression is not None:
            y = self.expression.evaluate(X)
        else:
            assert self.function is not None
            with np.errstate(all="ignore"):
                y = self.function(**{n: X[i] for i, n in enumerate(self.names)})
        y = np.asarray(y, dtype=float)
        if X.ndim == 2 and y.shape != (X.shape[1],):
            y = np.broadcast_to(y, (X.shape[1],)).copy()
        return y

    def monte_carlo_program(
        self, marginalize: bool = True
    ) -> tuple[Callable[..., np.ndarray], set[int], int]:
        """How the Monte Carlo method evaluates this model.

        Returns ``(evaluate(X, Z, aff, scratch=None), marginalised rows, number of Z rows)``; ``aff``
        describes the rows of X the sampler left in standard form
        (:class:`~carbonmet.uncertainty._expr.Affine`), ``scratch`` is an optional work array.
        With ``marginalize``, independent Gaussian inputs that enter a sum linearly are integrated
        analytically (exact, see :class:`~carbonmet.uncertainty._expr.Marg`); their rows of X are
        then not sampled.
        """
        if self.expression is None:
            return (
                (lambda X, Z, aff, scratch=None: self.evaluate(X if aff is None else aff.materialise(X))),
                set(),
                0,
            )
        expr = self.expression
        root, nz = expr.root, 0
        used: set[int] = set()
        if marginalize:
            c = self._cached()
            corr = {i for i, j, r in c["pairs"] if r != 0.0} | {j for i, j, r in c["pairs"] if r != 0.0}
            eligible = {i for i, d in enumerate(c["dists"]) if type(d).__name__ == "Normal" and i not in corr}
            stds = np.array([d.std for d in c["dists"]])
            root, used, nz = expr.monte_carlo_program(eligible, c["x"], stds)

        def run(X: np.ndarray, Z: Any, aff: Affine | None, scratch: np.ndarray | None = None) -> np.ndarray:
            y = np.asarray(expr.evaluate_program(root, X, Z, aff, scratch), dtype=float)
            if y.shape != (X.shape[1],):
                y = np.broadcast_to(y, (X.shape[1],)).copy()
            return y

        return run, used, nz

    def value_and_gradient(self, x: np.ndarray, block: int = 2048) -> tuple[float, np.ndarray]:
        """f(x) and all sensitivity coefficients c_i = ∂f/∂x_i at x (exact AD)."""
        x = np.asarray(x, dtype=float)
        if self.expression is not None:
            return self.expression.value_and_gradient(x)
        assert self.function is not None
        n = len(self.names)
        grad = np.zeros(n)
        value = math.nan
        for start in range(0, max(n, 1), block):
            stop = min(n, start + block)
            eye = np.eye(stop - start)
            args: dict[str, Any] = {}
            for i, name in enumerate(self.names):
                args[name] = Dual(float(x[i]), eye[i - start]) if start <= i < stop else float(x[i])
            try:
                with np.errstate(all="ignore"):
                    y = self.function(**args)
            except TypeError as exc:
                raise ModelError(
                    f"model function for '{self.output}' cannot be differentiated automatically ({exc}); "
                    "write it with arithmetic operators and numpy functions (np.exp, np.log, …), "
                    "not math.* or float()"
                ) from exc
            if isinstance(y, Dual):
                value = float(y.v)
                if y.d is not None:
                    grad[start:stop] = y.d
            else:
                value = float(np.asarray(y))
        return value, grad
