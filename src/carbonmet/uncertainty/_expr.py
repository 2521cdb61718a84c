"""Safe arithmetic expressions for measurement models (测量模型表达式).

The text is parsed by Python's own parser (:func:`ast.parse`, which builds a syntax tree and
runs nothing) and the tree is converted into our small node types through an explicit
whitelist; nothing is ever handed to ``eval``/``exec``/``compile``. Accepted::

    numbers     ASCII decimal literals: 12, 1.5, .5, 2.5e-3
    names       input names (identifiers) and the named constants of CONSTANTS
                (CO2_PER_C [tCO2/tC], MOLAR_MASS_C, MOLAR_MASS_CO2 [g/mol]), which are numbers
                that carry a unit for Model.check_units
    operators   + - * / ** and unary + -  (Python precedence: ** binds tighter than unary minus,
                and is right-associative)
    calls       exp | log | log10 | sqrt | sin | cos | tan | abs, one positional argument

Everything else Python would accept — attributes, subscripts, lambdas, comprehensions,
comparisons, strings, other operators, keywords — is refused with an :class:`ExpressionError`
naming its position; text Python itself refuses is scanned token by token to name the offending
token (``'^'``, an unclosed ``(``, two operands in a row …).

The same tree is evaluated on scalars (estimates, for the law of propagation) and on NumPy
arrays (Monte Carlo trials, one row per input). Sums are flattened into n-ary nodes; terms of a
long sum that have the same shape (e.g. the 1 000 products ``a_i*b_i`` of an emission total)
are grouped and evaluated as one vectorised operation on stacked rows. Derivatives are exact,
by reverse-mode automatic differentiation on the tree: one backward pass gives every
sensitivity coefficient ∂f/∂x_i (GUM §5.1.3), however many inputs there are.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from carbonmet.quantities import CO2_PER_C, MOLAR_MASS_C, MOLAR_MASS_CO2

from ._errors import ExpressionError

__all__ = ["CONSTANTS", "FUNCTIONS", "Affine", "Expression", "parse"]

MAX_DEPTH = 100
#: Longest expression accepted [characters]: ~10 000 terms such as ``AD1234 * EF1234`` (a 1 000-stream
#: sum is ~16 000 characters); bounds the parse time (about 1 s per 200 000 characters on one core).
MAX_LENGTH = 200_000
MIN_GROUP = 4  # terms of identical shape needed before a sum is vectorised

_LN10 = math.log(10.0)

FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "exp": np.exp,
    "log": np.log,
    "log10": np.log10,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "abs": np.abs,
}

#: Named constants usable in expressions: value and unit. ``CO2_PER_C`` is the one way to turn tC
#: into tCO2 (a bare 44/12 is a pure number and leaves the carbon dimension as it is).
CONSTANTS: dict[str, tuple[float, str]] = {
    "CO2_PER_C": (CO2_PER_C, "tCO2/tC"),
    "MOLAR_MASS_C": (MOLAR_MASS_C, "g/mol"),
    "MOLAR_MASS_CO2": (MOLAR_MASS_CO2, "g/mol"),
}

_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[^\W\d]\w*)"
    r"|(?P<op>\*\*|[-+*/()])"
    r"|(?P<bad>.)",
    re.UNICODE | re.DOTALL,
)


class Token(NamedTuple):
    kind: str  # 'num' | 'name' | 'op' | 'end'
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens; any other character is an :class:`ExpressionError`.

    Used to name the offending token of a text Python's parser refused, and to find the top-level
    sums and the parentheses of long texts (see :func:`_parse_long`).
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is {len(text):,} characters long, more than the {MAX_LENGTH:,} allowed; "
            "split the model (e.g. sum sub-totals as separate models) or use Model.from_function",
            position=MAX_LENGTH,
        )
    out: list[Token] = []
    append = out.append
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "ws":
            continue
        tok, i = m.group(), m.start()
        if kind == "bad":
            if tok == "^":
                raise ExpressionError(
                    f"'^' at position {i} is not an operator; write '**' for powers", i, tok
                )
            if tok == ",":
                raise ExpressionError(f"',' at position {i}: functions take exactly one argument", i, tok)
            raise ExpressionError(f"unexpected character {tok!r} at position {i}", position=i, token=tok)
        append(Token(kind, tok, i))  # type: ignore[arg-type]
    out.append(Token("end", "", len(text)))
    return out


# --- nodes ---------------------------------------------------------------------------------------


class Node:
    __slots__ = ("end", "start")

    start: int
    end: int

    def children(self) -> tuple[Node, ...]:
        return ()


class Num(Node):
    """A number; ``name`` is set for a named constant (:data:`CONSTANTS`), which carries a unit."""

    __slots__ = ("name", "value")

    def __init__(self, value: float, start: int, end: int, name: str = "") -> None:
        # a NumPy scalar, so that constant arithmetic follows IEEE rules (1/0 → inf) like arrays do
        self.value, self.start, self.end, self.name = np.float64(value), start, end, name


class Var(Node):
    __slots__ = ("index", "name")

    def __init__(self, name: str, start: int, end: int) -> None:
        self.name, self.start, self.end = name, start, end
        self.index = -1


class Slot(Node):
    """Placeholder leaf of a group template (k-th leaf of the term shape)."""

    __slots__ = ("is_var", "k")

    def __init__(self, k: int, is_var: bool) -> None:
        self.k, self.is_var, self.start, self.end = k, is_var, 0, 0


class Neg(Node):
    __slots__ = ("arg",)

    def __init__(self, arg: Node, start: int, end: int) -> None:
        self.arg, self.start, self.end = arg, start, end

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


class Sum(Node):
    __slots__ = ("groups", "signs", "singles", "terms")

    def __init__(self, terms: list[Node], signs: list[float], start: int, end: int) -> None:
        self.terms, self.signs, self.start, self.end = terms, signs, start, end
        self.singles: list[tuple[Node, float]] = list(zip(terms, signs, strict=True))
        self.groups: list[_Group] = []

    def children(self) -> tuple[Node, ...]:
        return tuple(self.terms)


class Prod(Node):
    __slots__ = ("factors", "inverse")

    def __init__(self, factors: list[Node], inverse: list[bool], start: int, end: int) -> None:
        self.factors, self.inverse, self.start, self.end = factors, inverse, start, end

    def children(self) -> tuple[Node, ...]:
        return tuple(self.factors)


class Pow(Node):
    __slots__ = ("base", "exponent")

    def __init__(self, base: Node, exponent: Node, start: int, end: int) -> None:
        self.base, self.exponent, self.start, self.end = base, exponent, start, end

    def children(self) -> tuple[Node, ...]:
        return (self.base, self.exponent)


class Call(Node):
    __slots__ = ("arg", "fn")

    def __init__(self, fn: str, arg: Node, start: int, end: int) -> None:
        self.fn, self.arg, self.start, self.end = fn, arg, start, end

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


class _Group:
    """Terms of a sum sharing one shape, evaluated together on stacked leaves."""

    __slots__ = ("all_plus", "lin", "rest", "same_rows", "signs", "slots", "template", "terms", "weights")

    def __init__(self, template: Node, slots: list[Any], signs: np.ndarray, terms: list[Node]) -> None:
        self.template = template
        # per slot: ('var', index array, slice-or-None) or ('const', values array)
        self.slots = slots
        self.signs = signs
        self.all_plus = bool(np.all(signs == 1.0))
        self.terms = terms
        # fast path Σ_t s_t·c_t·rest_t = (s∘c)·rest: one BLAS matrix–vector product, no temporaries
        self.weights: np.ndarray | None = None
        self.rest: Node | None = None
        if isinstance(template, Prod):
            for k, (f, inv) in enumerate(zip(template.factors, template.inverse, strict=True)):
                if not inv and isinstance(f, Slot) and not f.is_var:
                    others = [
                        (g, i)
                        for j, (g, i) in enumerate(zip(template.factors, template.inverse, strict=True))
                        if j != k
                    ]
                    self.weights = signs * slots[f.k][1]
                    if len(others) == 1 and not others[0][1]:
                        self.rest = others[0][0]
                    else:
                        self.rest = Prod([g for g, _ in others], [i for _, i in others], 0, 0)
                    break
        # (weight ×) one input or (weight ×) a product of two inputs: a matrix–vector product over
        # the rows, which may be held in standard form (see Affine) and are not materialised
        self.lin: tuple[int, ...] | None = None
        if self.rest is None and _var_slots(template) is not None:
            self.weights, self.rest = signs, template
        if self.rest is not None:
            self.lin = _var_slots(self.rest)
        # a product of an input with itself, term by term (x·x): one linear term after folding
        self.same_rows = (
            self.lin is not None
            and len(self.lin) == 2
            and bool(np.array_equal(slots[self.lin[0]][1], slots[self.lin[1]][1]))
        )


def _var_slots(node: Node) -> tuple[int, ...] | None:
    """Slot numbers if ``node`` is one input slot or the product of two (else None)."""
    if isinstance(node, Slot) and node.is_var:
        return (node.k,)
    if (
        isinstance(node, Prod)
        and len(node.factors) == 2
        and not any(node.inverse)
        and all(isinstance(f, Slot) and f.is_var for f in node.factors)
    ):
        return tuple(f.k for f in node.factors)  # type: ignore[attr-defined]
    return None


class Marg(Node):
    """Monte Carlo only: a sum whose independent normal inputs, each entering one term linearly,
    are integrated analytically. Given all other inputs, Σ_t s_t·g_t·X_t with X_t ~ N(μ_t, σ_t²)
    independent is exactly N(Σ s_t g_t μ_t, Σ g_t² σ_t²), so one standard normal z per trial
    replaces all the X_t: value = rest + mean + √var · z.
    """

    __slots__ = ("k", "mean", "rest", "var")

    def __init__(self, rest: Node, mean: Node, var: Node, k: int) -> None:
        self.rest, self.mean, self.var, self.k, self.start, self.end = rest, mean, var, k, 0, 0

    def children(self) -> tuple[Node, ...]:
        return (self.rest, self.mean, self.var)


# --- parser: Python's ast with a node whitelist ----------------------------------------------------
#
# The text is parsed by ``ast.parse(mode="eval")`` (a parser only: nothing is compiled or run) and
# the tree is converted node by node; every node type not in the whitelist below is refused with
# its position. Whitelist: numbers (ASCII decimal literals), names, + − × ÷ **, unary ±, and calls
# of a FUNCTIONS entry with one positional argument.
#
# Python builds a chain a + b + c + … as a left-nested tree whose depth is the number of terms,
# and its AST construction stops at a recursion limit (about 3 000 terms). Texts it refuses so are
# then cut at top-level + and − into chunks parsed one by one, and a long parenthesised
# group is parsed on its own first and masked by a placeholder name of the same length, so
# positions stay those of the original text.

_NUM_TEXT = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME_TEXT = re.compile(r"[^\W\d]\w*")
_CHUNK_OPS = 400  # top-level + and − per chunk of a long text
_GROUP_TOKENS = 1_000  # a parenthesised group with more tokens is parsed on its own

_BINOPS: dict[type, str] = {
    ast.BitXor: "^",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
}
_REFUSED: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript",
    ast.Slice: "slice",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
    ast.Compare: "comparison",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "conditional 'if … else'",
    ast.NamedExpr: "assignment ':='",
    ast.Starred: "starred argument",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Set: "set",
    ast.Dict: "dict",
    ast.JoinedStr: "f-string",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}


def _refuse(what: str, pos: int, token: str) -> ExpressionError:
    return ExpressionError(
        f"{what} at position {pos} is not allowed in a model expression (numbers, input names, "
        f"+ - * / **, unary minus and the functions {', '.join(FUNCTIONS)} only)",
        position=pos,
        token=token,
    )


class _Converter:
    """ast → expression nodes for one parsed span of the text (whitelist; positions in characters)."""

    def __init__(self, text: str, span: str, offset: int, placeholders: Mapping[int, Node]) -> None:
        self.text, self.offset, self.placeholders = text, offset, placeholders
        self.depth = 0
        if span.isascii():
            self.b2c: list[int] | None = None
        else:  # ast offsets are UTF-8 byte offsets
            b2c = []
            for i, ch in enumerate(span):
                b2c.extend([i] * len(ch.encode("utf-8")))
            b2c.append(len(span))
            self.b2c = b2c

    def pos(self, col: int | None) -> int:
        c = col or 0
        return self.offset + (c if self.b2c is None else self.b2c[c])

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.pos(getattr(node, "col_offset", 0)), self.pos(getattr(node, "end_col_offset", 0))

    def convert(self, node: ast.expr) -> Node:
        self.depth += 1
        if self.depth > 2 * MAX_DEPTH:
            s = self.span(node)[0]
            raise ExpressionError(
                f"expression nested more than {MAX_DEPTH} levels deep at position {s}",
                s,
                self.text[s : s + 1],
            )
        try:
            return self._convert(node)
        finally:
            self.depth -= 1

    def _convert(self, node: ast.expr) -> Node:
        start, end = self.span(node)
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op in (ast.Add, ast.Sub):
                terms: list[Node] = []
                signs: list[float] = []
                self.add_terms(node, 1.0, terms, signs)
                return Sum(terms, signs, start, end)
            if op in (ast.Mult, ast.Div):
                return self.product(node, start, end)
            if op is ast.Pow:
                return Pow(self.convert(node.left), self.convert(node.right), start, end)
            sym = _BINOPS.get(op, "?")
            at = self.text.find(sym, self.span(node.left)[1], self.span(node.right)[0])
            at = start if at < 0 else at
            if sym == "^":
                raise ExpressionError(
                    f"'^' at position {at} is not an operator; write '**' for powers", at, sym
                )
            raise _refuse(f"operator '{sym}'", at, sym)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return self.convert(node.operand)
            if isinstance(node.op, ast.USub):
                arg = self.convert(node.operand)
                if isinstance(arg, Num):
                    return Num(-arg.value, start, arg.end, arg.name)
                return Neg(arg, start, arg.end)
            word = "not" if isinstance(node.op, ast.Not) else "~"
            raise _refuse(f"operator '{word}'", start, word)
        if isinstance(node, ast.Name):
            if start in self.placeholders:
                return self.placeholders[start]
            name = self.text[start:end]
            if name != node.id or not _NAME_TEXT.fullmatch(name):
                raise ExpressionError(f"unexpected token {name!r} at position {start}", start, name)
            if name in FUNCTIONS:
                raise ExpressionError(
                    f"function '{name}' at position {start} must be followed by '('",
                    position=start,
                    token=name,
                )
            if name in CONSTANTS:
                return Num(CONSTANTS[name][0], start, end, name)
            return Var(name, start, end)
        if isinstance(node, ast.Constant):
            literal = self.text[start:end]
            if isinstance(node.value, (str, bytes)):
                raise ExpressionError(
                    f"unexpected character {literal[:1]!r} at position {start}: text strings are not "
                    "allowed in a model expression",
                    position=start,
                    token=literal[:1],
                )
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise _refuse(f"constant {literal!r}", start, literal)
            if not _NUM_TEXT.fullmatch(literal):
                raise ExpressionError(
                    f"unexpected token {literal!r} at position {start}: write numbers as 12, 1.5 or 2.5e-3",
                    position=start,
                    token=literal,
                )
            v = float(literal)
            if not math.isfinite(v):
                raise ExpressionError(
                    f"number out of range at position {start} ({literal!r})", start, literal
                )
            return Num(v, start, end)
        if isinstance(node, ast.Call):
            return self.call(node, start, end)
        what = _REFUSED.get(type(node), type(node).__name__)
        raise _refuse(what, start, self.text[start:end][:20])

    def add_terms(self, node: ast.expr, sign: float, terms: list[Node], signs: list[float]) -> None:
        """Flatten a chain of + and − (iteratively: chains may be thousands of terms long)."""
        for operand, s in _sum_chain(node):
            sub = self.convert(operand)
            if isinstance(sub, Sum):  # (a + b) + c: one flat sum
                terms.extend(sub.terms)
                signs.extend(sign * s * t for t in sub.signs)
            else:
                terms.append(sub)
                signs.append(sign * s)

    def product(self, node: ast.BinOp, start: int, end: int) -> Node:
        chain: list[tuple[ast.expr, bool]] = []
        cur: ast.expr = node
        while isinstance(cur, ast.BinOp) and isinstance(cur.op, (ast.Mult, ast.Div)):
            chain.append((cur.right, isinstance(cur.op, ast.Div)))
            cur = cur.left
        chain.append((cur, False))
        factors: list[Node] = []
        inverse: list[bool] = []
        for operand, inv in reversed(chain):
            f = self.convert(operand)
            if isinstance(f, Prod) and not inv:  # a*(b*c), (a/b)*c: flat; a/(b*c) keeps its group
                factors.extend(f.factors)
                inverse.extend(f.inverse)
            else:
                factors.append(f)
                inverse.append(inv)
        return Prod(factors, inverse, start, end)

    def call(self, node: ast.Call, start: int, end: int) -> Node:
        if not isinstance(node.func, ast.Name):
            fs = self.span(node.func)[0]
            raise _refuse("call of a computed function", fs, self.text[fs:end][:20])
        fn = node.func.id
        for a in node.args:  # arguments first: the offending part of open('x') is the string
            if not isinstance(a, ast.Starred):
                self.convert(a)
        if fn not in FUNCTIONS or self.text[start : start + len(fn)] != fn:
            raise ExpressionError(
                f"unknown function '{fn}' at position {start}; allowed: " + ", ".join(FUNCTIONS),
                position=start,
                token=fn,
            )
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            after = self.span(node.args[0])[1] if node.args else start + len(fn)
            comma = self.text.find(",", after, end)
            at = comma if comma >= 0 else start
            raise ExpressionError(
                f"',' at position {at}: functions take exactly one argument ({fn}(x))",
                position=at,
                token="," if comma >= 0 else fn,
            )
        arg = self.convert(node.args[0])
        return Call(fn, arg, start, end)


def _sum_chain(node: ast.expr) -> list[tuple[ast.expr, float]]:
    """Operands of a chain a ± b ± c … with their signs, left to right (iterative)."""
    chain: list[tuple[ast.expr, float]] = []
    while isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        chain.append((node.right, 1.0 if isinstance(node.op, ast.Add) else -1.0))
        node = node.left
    chain.append((node, 1.0))
    chain.reverse()
    return chain


def _syntax_error(text: str, exc: SyntaxError | None = None, offset: int = 0) -> ExpressionError:
    """Name the offending token of a text Python's parser refused (token scan of the grammar)."""
    toks = tokenize(text)  # lexical errors ('^', ',', '$', …) are raised here
    if len(toks) == 1:
        return ExpressionError("empty expression", position=0)

    def at(t: Token, msg: str) -> ExpressionError:
        shown = t.text or "end of expression"
        return ExpressionError(f"{msg} at position {t.pos} ({shown!r})", position=t.pos, token=t.text)

    operand, depth = True, 0
    for i, t in enumerate(toks):
        if operand:
            if t.kind == "op" and t.text in ("+", "-"):
                continue
            if t.kind == "num":
                operand = False
            elif t.kind == "name":
                nxt = toks[i + 1]
                opens = nxt.kind == "op" and nxt.text == "("
                if keyword.iskeyword(t.text):
                    return at(t, f"'{t.text}' is a reserved word, not a name")
                if t.text in FUNCTIONS and not opens:
                    return ExpressionError(
                        f"function '{t.text}' at position {t.pos} must be followed by '('", t.pos, t.text
                    )
                if opens and t.text not in FUNCTIONS:
                    return ExpressionError(
                        f"unknown function '{t.text}' at position {t.pos}; allowed: " + ", ".join(FUNCTIONS),
                        position=t.pos,
                        token=t.text,
                    )
                operand = opens
            elif t.kind == "op" and t.text == "(":
                depth += 1
                if depth > MAX_DEPTH:
                    return at(t, f"expression nested more than {MAX_DEPTH} levels deep")
            elif t.kind == "end":
                return at(t, "expression ends too early")
            else:
                return at(t, "unexpected token")
        elif t.kind == "end":
            if depth:
                return at(t, "expected ')'")
            break
        elif t.kind == "op" and t.text == ")":
            if depth == 0:
                return at(t, "unexpected token")
            depth -= 1
        elif t.kind == "op" and t.text != "(":
            operand = True
        else:
            return at(t, "unexpected token")
    pos = min(len(text), offset + max(0, (exc.offset or 1) - 1)) if exc is not None else offset
    msg = exc.msg if exc is not None else "invalid syntax"
    return ExpressionError(f"{msg} at position {pos}", position=pos, token=text[pos : pos + 1])


def _parse_span(text: str, span: str, offset: int, placeholders: Mapping[int, Node]) -> Node:
    """Parse ``span`` (= the text from ``offset``, long groups masked) into expression nodes."""
    try:
        tree = ast.parse(span, mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(text, exc, offset) from None
    except (ValueError, UnicodeError):  # NUL characters, lone surrogates
        raise _syntax_error(text, None, offset) from None
    except (RecursionError, MemoryError):
        raise _TooDeep from None
    return _Converter(text, span, offset, placeholders).convert(tree.body)


class _TooDeep(Exception):
    """Python's parser hit its recursion limit on a text (then parsed in pieces)."""


def _parse_long(text: str) -> Node:
    """Parse a long text: chunks of its top-level sum, long parenthesised groups first."""
    toks = tokenize(text)
    masked = list(text)
    placeholders: dict[int, Node] = {}
    match: dict[int, int] = {}
    stack: list[int] = []
    for i, t in enumerate(toks):
        if t.kind == "op" and t.text == "(":
            stack.append(i)
            if len(stack) > MAX_DEPTH:
                raise _syntax_error(text)
        elif t.kind == "op" and t.text == ")":
            if not stack:
                raise _syntax_error(text)
            match[stack.pop()] = i
    if stack:
        raise _syntax_error(text)

    def build(i0: int, i1: int) -> Node:
        """Node for tokens [i0, i1) (a whole group's content)."""
        cuts: list[int] = []  # token indices of top-level binary + and − where a chunk ends
        ops = 0
        i = i0
        while i < i1:
            t = toks[i]
            if t.kind == "op" and t.text == "(":
                j = match[i]
                if j - i > _GROUP_TOKENS:
                    lo, hi = toks[i + 1].pos, toks[j].pos
                    placeholders[lo] = build(i + 1, j)
                    masked[lo:hi] = "_" * (hi - lo)
                i = j + 1
                continue
            if (
                t.kind == "op"
                and t.text in ("+", "-")
                and i > i0
                and (toks[i - 1].kind in ("num", "name") or toks[i - 1].text == ")")
            ):
                ops += 1
                if ops >= _CHUNK_OPS:
                    cuts.append(i)
                    ops = 0
            i += 1
        if i1 <= i0:
            raise _syntax_error(text)
        end = toks[i1].pos if i1 < len(toks) else len(text)
        bounds = [i0, *cuts]
        terms: list[Node] = []
        signs: list[float] = []
        for k, b in enumerate(bounds):
            hi = toks[bounds[k + 1]].pos if k + 1 < len(bounds) else end
            if k == 0:
                offset = toks[i0].pos
                span = "".join(masked[offset:hi])
            else:
                # "_ - a*b + c …": a dummy first operand keeps the cut's sign on the chunk's first
                # term only (ast does not record parentheses, so the first term cannot be told
                # apart from a parenthesised sum otherwise); positions shift by the dummy's one
                offset = toks[b].pos - 1
                span = "_" + "".join(masked[offset + 1 : hi])
            try:
                tree = ast.parse(span, mode="eval")
            except (SyntaxError, ValueError, UnicodeError):
                raise _syntax_error(text) from None
            except (RecursionError, MemoryError):
                raise ExpressionError(
                    f"expression nested too deeply near position {offset}; split long products or powers",
                    position=offset,
                ) from None
            conv = _Converter(text, span, offset, placeholders)
            chain = _sum_chain(tree.body)
            for operand, sgn in chain[1:] if k else chain:
                sub = conv.convert(operand)
                if isinstance(sub, Sum):
                    terms.extend(sub.terms)
                    signs.extend(sgn * x for x in sub.signs)
                else:
                    terms.append(sub)
                    signs.append(sgn)
        if len(terms) == 1 and signs[0] == 1.0:
            return terms[0]
        return Sum(terms, signs, toks[i0].pos, end)

    return build(0, len(toks) - 1)


_LEADING_ZEROS = re.compile(r"(?<![\w.])0+(?=[0-9])")


def _parse(text: str) -> Node:
    """Parse a whole expression text into nodes (no evaluation, no code execution)."""
    if not isinstance(text, str):
        raise ExpressionError(f"expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is {len(text):,} characters long, more than the {MAX_LENGTH:,} allowed; "
            "split the model (e.g. sum sub-totals as separate models) or use Model.from_function",
            position=MAX_LENGTH,
        )
    if not text.strip():
        raise ExpressionError("empty expression", position=0)
    # one line, same character positions: every whitespace character becomes a space
    src = _WS.sub(" ", text)
    for ch in ("#", "\\"):
        i = src.find(ch)
        if i >= 0:
            raise ExpressionError(f"unexpected character {ch!r} at position {i}", position=i, token=ch)
    # Python refuses leading zeros in a decimal integer ("007"); the grammar here takes them as a number
    # does: they become spaces, so every character keeps its position
    src = _LEADING_ZEROS.sub(lambda m: " " * len(m.group(0)), src)
    body = src.lstrip(" ")  # eval mode refuses a leading indent
    try:
        return _parse_span(src, body, len(src) - len(body), {})
    except _TooDeep:
        # Python's AST construction stops at its recursion limit (a chain of ~3 000 terms)
        return _parse_long(src)


_WS = re.compile(r"\s", re.UNICODE)


# --- evaluation ----------------------------------------------------------------------------------


class Affine:
    """Rows of a Monte Carlo sample matrix held in standard form: value = offset + scale · s.

    The sampler writes standard normal or standard uniform draws s and leaves the scaling to the
    evaluation, where sums of weighted inputs fold it into their weights (no pass over the rows).
    Rows outside ``mask`` hold values (offset 0, scale 1).

    Parameters
    ----------
    offset, scale : ndarray
        One entry per input row.
    mask : ndarray of bool
        Rows held in standard form.
    """

    __slots__ = ("_folds", "mask", "offset", "scale")

    def __init__(self, offset: np.ndarray, scale: np.ndarray, mask: np.ndarray) -> None:
        self.offset, self.scale, self.mask = offset, scale, mask
        self._folds: dict[int, tuple[Any, ...]] = {}

    def fold(self, g: _Group) -> tuple[Any, ...]:
        """Weights of a group of weight × one input or weight × two inputs on standard-form rows.

        Σ w x = Σ w a + Σ (w b) s;  Σ w x x′ = Σ w a a′ + Σ (w b b′) s s′ + Σ (w a′ b) s + Σ (w a b′) s′
        (for x·x the two linear terms are one). Returns ``(constant, weights of the product or None,
        weights of s or None, weights of s′ or None)``, computed once per group.
        """
        hit = self._folds.get(id(g))
        if hit is not None:
            return hit
        assert g.weights is not None and g.lin is not None
        w = g.weights
        idx = [g.slots[k][1] for k in g.lin]
        a0, b0 = self.offset[idx[0]], self.scale[idx[0]]
        if len(idx) == 1:
            res: tuple[Any, ...] = (float(w @ a0), None, w * b0, None)
        else:
            a1, b1 = self.offset[idx[1]], self.scale[idx[1]]
            c0, c1 = w * a1 * b0, w * a0 * b1
            if g.same_rows:
                c0, c1 = c0 + c1, np.zeros_like(c1)
            res = (float(w @ (a0 * a1)), w * b0 * b1, c0 if c0.any() else None, c1 if c1.any() else None)
        self._folds[id(g)] = res
        return res

    def rows(self, X: np.ndarray, idx: Any, sel: Any) -> np.ndarray:
        """Values of rows ``idx`` (row indices) read as ``X[sel]``."""
        rows = X[sel]
        if not self.mask[idx].any():
            return rows
        return self.offset[idx, None] + self.scale[idx, None] * rows

    def materialise(self, X: np.ndarray) -> np.ndarray:
        """Turn every standard-form row of ``X`` into values, in place; returns ``X``."""
        for i in np.flatnonzero(self.mask):
            X[i] *= self.scale[i]
            X[i] += self.offset[i]
        return X


class _Ctx:
    """Evaluation context: the input values (1-D estimates or 2-D rows × trials) and slots."""

    __slots__ = ("X", "Z", "aff", "cache", "grad", "scratch", "slot_adj", "slots", "trailing")

    def __init__(
        self,
        X: np.ndarray,
        slots: list[Any] | None = None,
        Z: np.ndarray | None = None,
        aff: Affine | None = None,
        scratch: np.ndarray | None = None,
    ) -> None:
        self.X = X
        self.Z = Z
        self.aff = aff
        self.scratch = scratch  # flat work array for products consumed at once (_weighted_rows)
        self.slots = slots
        self.cache: dict[int, Any] = {}
        self.grad: np.ndarray | None = None
        self.slot_adj: list[Any] | None = None
        self.trailing = (1,) * (X.ndim - 1)


def _stack(ctx: _Ctx, group: _Group) -> list[Any]:
    out: list[Any] = []
    for s in group.slots:
        if s[0] == "var":
            sel = s[2] if s[2] is not None else s[1]
            out.append(ctx.X[sel] if ctx.aff is None else ctx.aff.rows(ctx.X, s[1], sel))
        else:
            out.append(s[1].reshape((-1,) + ctx.trailing))
    return out


def _weighted_rows(ctx: _Ctx, g: _Group) -> Any:
    """Σ_t w_t·x_t or Σ_t w_t·x_t·x′_t over trials for a group of weight × one or two inputs.

    With rows in standard form x = a + b·s the scaling goes into the weights (see
    :meth:`Affine.fold`). The sums over rows are matrix–vector products (BLAS); the Monte Carlo
    method runs them with BLAS limited to one thread per worker (see ``mcm``), so the summation
    order does not depend on the number of threads.
    """
    assert g.weights is not None and g.lin is not None
    specs = [g.slots[k] for k in g.lin]
    rows = [ctx.X[s[2]] if s[2] is not None else ctx.X[s[1]] for s in specs]
    const: float
    c_prod: np.ndarray | None
    c0: np.ndarray | None
    c1: np.ndarray | None
    if ctx.aff is not None:
        const, c_prod, c0, c1 = ctx.aff.fold(g)
    elif len(rows) == 1:
        const, c_prod, c0, c1 = 0.0, None, g.weights, None
    else:
        const, c_prod, c0, c1 = 0.0, g.weights, None, None
    out: Any = const
    if c_prod is not None:
        sc = ctx.scratch
        buf = (
            sc[: rows[0].size].reshape(rows[0].shape) if sc is not None and sc.size >= rows[0].size else None
        )
        product = np.square(rows[0], out=buf) if g.same_rows else np.multiply(rows[0], rows[1], out=buf)
        out = out + c_prod @ product
    if c0 is not None:
        out = out + c0 @ rows[0]
    if c1 is not None:
        out = out + c1 @ rows[1]
    return out


def _ev(node: Node, ctx: _Ctx) -> Any:
    t = type(node)
    if t is Var:
        i = node.index  # type: ignore[attr-defined]
        return ctx.X[i] if ctx.aff is None else ctx.aff.rows(ctx.X, i, i)
    if t is Num:
        return node.value  # type: ignore[attr-defined]
    if t is Slot:
        return ctx.slots[node.k]  # type: ignore[index,attr-defined]
    if t is Sum:
        acc: Any = 0.0
        for term, sign in node.singles:  # type: ignore[attr-defined]
            v = _ev(term, ctx)
            acc = acc + v if sign == 1.0 else acc - v if sign == -1.0 else acc + sign * v
        for g in node.groups:  # type: ignore[attr-defined]
            if g.lin is not None and ctx.X.ndim == 2:
                acc = acc + _weighted_rows(ctx, g)
                continue
            sub = _Ctx(ctx.X, _stack(ctx, g))
            if g.rest is not None:
                # weighted sums with einsum (see _weighted_rows)
                r = g.rest
                if isinstance(r, Prod) and len(r.factors) == 2 and not any(r.inverse):
                    a = np.asarray(_ev(r.factors[0], sub))
                    b = np.asarray(_ev(r.factors[1], sub))
                    if a.ndim == 2 and b.ndim == 2 and a.shape == b.shape:
                        acc = acc + np.einsum("i,ij,ij->j", g.weights, a, b)
                        continue
                    vals = a * b
                else:
                    vals = np.asarray(_ev(r, sub))
                if vals.ndim == 2:
                    acc = acc + np.einsum("i,ij->j", g.weights, vals)
                elif vals.ndim == 1:
                    acc = acc + float(g.weights @ vals)
                else:
                    acc = acc + g.weights.sum() * vals
                continue
            vals = np.asarray(_ev(g.template, sub))
            if g.all_plus:
                acc = acc + vals.sum(axis=0)
            elif vals.ndim == 2:
                acc = acc + np.einsum("i,ij->j", g.signs, vals)
            else:
                acc = acc + np.tensordot(g.signs, vals, axes=1)
        return acc
    if t is Marg:
        return (
            _ev(node.rest, ctx)  # type: ignore[attr-defined]
            + _ev(node.mean, ctx)  # type: ignore[attr-defined]
            + np.sqrt(_ev(node.var, ctx)) * ctx.Z[node.k]  # type: ignore[attr-defined,index]
        )
    if t is Prod:
        num: Any = None
        den: Any = None
        for f, inv in zip(node.factors, node.inverse, strict=True):  # type: ignore[attr-defined]
            v = _ev(f, ctx)
            if inv:
                den = v if den is None else den * v
            else:
                num = v if num is None else num * v
        if den is None:
            return num
        return (1.0 if num is None else num) / den
    if t is Pow:
        return np.power(_ev(node.base, ctx), _ev(node.exponent, ctx))  # type: ignore[attr-defined]
    if t is Neg:
        return -_ev(node.arg, ctx)  # type: ignore[attr-defined]
    if t is Call:
        return FUNCTIONS[node.fn](_ev(node.arg, ctx))  # type: ignore[attr-defined]
    raise TypeError(f"not an expression node: {node!r}")  # pragma: no cover


def _fw(node: Node, ctx: _Ctx) -> Any:
    """Forward pass that caches every node value (for the reverse pass)."""
    t = type(node)
    if t is Var:
        v = ctx.X[node.index]  # type: ignore[attr-defined]
    elif t is Num:
        v = node.value  # type: ignore[attr-defined]
    elif t is Slot:
        v = ctx.slots[node.k]  # type: ignore[index,attr-defined]
    elif t is Sum:
        acc: Any = 0.0
        for term, sign in node.singles:  # type: ignore[attr-defined]
            acc = acc + sign * _fw(term, ctx)
        for g in node.groups:  # type: ignore[attr-defined]
            sub = _Ctx(ctx.X, _stack(ctx, g))
            vals = np.broadcast_to(np.asarray(_fw(g.template, sub), dtype=float), (g.signs.shape[0],))
            ctx.cache[id(g)] = sub
            acc = acc + float(g.signs @ vals)
        v = acc
    elif t is Prod:
        fvals = [_fw(f, ctx) for f in node.factors]  # type: ignore[attr-defined]
        num: Any = 1.0
        den: Any = 1.0
        for val, inv in zip(fvals, node.inverse, strict=True):  # type: ignore[attr-defined]
            if inv:
                den = den * val
            else:
                num = num * val
        v = num / den
    elif t is Pow:
        v = np.power(_fw(node.base, ctx), _fw(node.exponent, ctx))  # type: ignore[attr-defined]
    elif t is Neg:
        v = -_fw(node.arg, ctx)  # type: ignore[attr-defined]
    elif t is Call:
        v = FUNCTIONS[node.fn](_fw(node.arg, ctx))  # type: ignore[attr-defined]
    else:  # pragma: no cover
        raise TypeError(f"not an expression node: {node!r}")
    ctx.cache[id(node)] = v
    return v


def _is_const(node: Node) -> bool:
    """Cheap test for a constant leaf (a number, a constant slot, or minus one of those)."""
    if isinstance(node, Neg):
        node = node.arg
    if isinstance(node, Num):
        return True
    return isinstance(node, Slot) and not node.is_var


def _bw(node: Node, ctx: _Ctx, adj: Any) -> None:
    """Reverse pass: accumulate ∂y/∂leaf·adj into ctx.grad (Var) or ctx.slot_adj (Slot)."""
    t = type(node)
    if t is Var:
        ctx.grad[node.index] += adj  # type: ignore[index,attr-defined]
    elif t is Slot:
        if node.is_var:  # type: ignore[attr-defined]
            ctx.slot_adj[node.k] = ctx.slot_adj[node.k] + adj  # type: ignore[index,attr-defined]
    elif t is Num:
        return
    elif t is Sum:
        for term, sign in node.singles:  # type: ignore[attr-defined]
            _bw(term, ctx, sign * adj)
        for g in node.groups:  # type: ignore[attr-defined]
            sub: _Ctx = ctx.cache[id(g)]
            sub.slot_adj = [0.0] * len(g.slots)
            _bw(g.template, sub, g.signs * adj)
            for s, a in zip(g.slots, sub.slot_adj, strict=True):
                if s[0] == "var":
                    np.add.at(ctx.grad, s[1], np.broadcast_to(a, s[1].shape))  # type: ignore[arg-type]
    elif t is Prod:
        factors, inverse = node.factors, node.inverse  # type: ignore[attr-defined]
        vals = [ctx.cache[id(f)] for f in factors]
        y = ctx.cache[id(node)]
        num_idx = [k for k, inv in enumerate(inverse) if not inv]
        den: Any = 1.0
        for k, inv in enumerate(inverse):
            if inv:
                den = den * vals[k]
        # numerator factors: product of the other numerators / den (robust to zeros)
        n = len(num_idx)
        prefix: list[Any] = [1.0] * (n + 1)
        for j, k in enumerate(num_idx):
            prefix[j + 1] = prefix[j] * vals[k]
        suffix: Any = 1.0
        for j in range(n - 1, -1, -1):
            k = num_idx[j]
            if not _is_const(factors[k]):
                _bw(factors[k], ctx, adj * prefix[j] * suffix / den)
            suffix = suffix * vals[k]
        for k, inv in enumerate(inverse):
            if inv and not _is_const(factors[k]):
                _bw(factors[k], ctx, -adj * y / vals[k])
    elif t is Pow:
        b, e = node.base, node.exponent  # type: ignore[attr-defined]
        bv, ev, y = ctx.cache[id(b)], ctx.cache[id(e)], ctx.cache[id(node)]
        if not _is_const(b):
            # ∂(b**e)/∂b = e·b**(e−1); 0 where e = 0 (b**0 = 1 is constant, also at b = 0)
            _bw(b, ctx, adj * np.where(ev == 0, 0.0, ev * np.power(bv, ev - 1.0)))
        if not _is_const(e):
            # ∂(b**e)/∂e = b**e·ln b; 0 where b = 0 < e (0**e = 0 for all e > 0, not 0·(−inf) = NaN)
            _bw(e, ctx, adj * np.where((bv == 0) & (ev > 0), 0.0, y * np.log(bv)))
    elif t is Neg:
        _bw(node.arg, ctx, -adj)  # type: ignore[attr-defined]
    elif t is Call:
        x = ctx.cache[id(node.arg)]  # type: ignore[attr-defined]
        y = ctx.cache[id(node)]
        fn = node.fn  # type: ignore[attr-defined]
        if fn == "exp":
            d = y
        elif fn == "log":
            d = 1.0 / x
        elif fn == "log10":
            d = 1.0 / (x * _LN10)
        elif fn == "sqrt":
            d = 0.5 / y
        elif fn == "sin":
            d = np.cos(x)
        elif fn == "cos":
            d = -np.sin(x)
        elif fn == "tan":
            d = 1.0 / np.cos(x) ** 2
        else:  # abs: not differentiable at 0 (NaN → "use the Monte Carlo method"), as sqrt at 0
            d = np.where((x == 0) & (adj != 0), np.nan, np.sign(x))
        _bw(node.arg, ctx, adj * d)  # type: ignore[attr-defined]


# --- grouping of long sums -----------------------------------------------------------------------


def _signature(node: Node) -> tuple[Any, ...]:
    if isinstance(node, Var):
        return ("v",)
    if isinstance(node, Num):
        return ("n",)
    if isinstance(node, Neg):
        return ("neg", _signature(node.arg))
    if isinstance(node, Prod):
        return ("prod", tuple(node.inverse), tuple(_signature(f) for f in node.factors))
    if isinstance(node, Pow):
        return ("pow", _signature(node.base), _signature(node.exponent))
    if isinstance(node, Call):
        return ("call", node.fn, _signature(node.arg))
    if isinstance(node, Sum):
        return ("sum", tuple(node.signs), tuple(_signature(t) for t in node.terms))
    if isinstance(node, Marg):
        return ("marg", id(node))  # never grouped
    raise TypeError(node)  # pragma: no cover


def _leaves(node: Node, out: list[Node]) -> list[Node]:
    if isinstance(node, (Var, Num)):
        out.append(node)
    else:
        for c in node.children():
            _leaves(c, out)
    return out


def _template(node: Node, counter: list[int]) -> Node:
    if isinstance(node, (Var, Num)):
        k = counter[0]
        counter[0] += 1
        return Slot(k, isinstance(node, Var))
    if isinstance(node, Neg):
        return Neg(_template(node.arg, counter), 0, 0)
    if isinstance(node, Prod):
        return Prod([_template(f, counter) for f in node.factors], list(node.inverse), 0, 0)
    if isinstance(node, Pow):
        return Pow(_template(node.base, counter), _template(node.exponent, counter), 0, 0)
    if isinstance(node, Call):
        return Call(node.fn, _template(node.arg, counter), 0, 0)
    if isinstance(node, Sum):
        return Sum([_template(t, counter) for t in node.terms], list(node.signs), 0, 0)
    raise TypeError(node)  # pragma: no cover


def _contiguous(idx: np.ndarray) -> slice | None:
    if idx.size and idx[-1] - idx[0] == idx.size - 1 and np.all(np.diff(idx) == 1):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return None


def _build_groups(node: Node) -> None:
    for c in node.children():
        _build_groups(c)
    if not isinstance(node, Sum) or len(node.terms) < MIN_GROUP:
        return
    by_sig: dict[tuple[Any, ...], list[int]] = {}
    for k, term in enumerate(node.terms):
        if isinstance(term, (Var, Num)):
            continue  # single leaves: grouped below as 'var' shape anyway
        by_sig.setdefault(_signature(term), []).append(k)
    var_terms = [k for k, term in enumerate(node.terms) if isinstance(term, Var)]
    if len(var_terms) >= MIN_GROUP:
        by_sig[("v",)] = var_terms
    grouped: set[int] = set()
    groups: list[_Group] = []
    for members in by_sig.values():
        if len(members) < MIN_GROUP:
            continue
        first = node.terms[members[0]]
        template = _template(first, [0])
        leaf_lists = [_leaves(node.terms[k], []) for k in members]
        slots: list[Any] = []
        for s in range(len(leaf_lists[0])):
            leaves = [ll[s] for ll in leaf_lists]
            if isinstance(leaves[0], Var):
                idx = np.fromiter((lf.index for lf in leaves), dtype=np.intp, count=len(leaves))  # type: ignore[attr-defined]
                slots.append(("var", idx, _contiguous(idx)))
            else:
                cvals = np.array([lf.value for lf in leaves], dtype=np.float64)  # type: ignore[attr-defined]
                slots.append(("const", cvals))
        signs = np.array([node.signs[k] for k in members], dtype=float)
        groups.append(_Group(template, slots, signs, [node.terms[k] for k in members]))
        grouped.update(members)
    node.groups = groups
    node.singles = [
        (t, s) for k, (t, s) in enumerate(zip(node.terms, node.signs, strict=True)) if k not in grouped
    ]


# --- public object -------------------------------------------------------------------------------


def _walk(node: Node) -> list[Node]:
    out: list[Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(n.children()))
    return out


class Expression:
    """A parsed, bound measurement-model expression.

    Parameters
    ----------
    text : str
        The expression (see module docstring for the grammar).

    Attributes
    ----------
    names : tuple of str
        Input names used, in order of first appearance.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.root = _parse(text)
        names: list[str] = []
        seen: set[str] = set()
        self._vars: list[Var] = []
        for n in _walk(self.root):
            if isinstance(n, Var):
                self._vars.append(n)
                if n.name not in seen:
                    seen.add(n.name)
                    names.append(n.name)
        self.names: tuple[str, ...] = tuple(names)
        self._bound = False

    def bind(self, order: Mapping[str, int]) -> None:
        """Fix the row index of every input name; unknown names raise :class:`ExpressionError`."""
        for v in self._vars:
            if v.name not in order:
                raise ExpressionError(
                    f"unknown name '{v.name}' at position {v.start} of the expression "
                    f"(not an input; functions need parentheses)",
                    position=v.start,
                    token=v.name,
                )
            v.index = order[v.name]
        _build_groups(self.root)
        self._bound = True

    def _check(self) -> None:
        if not self._bound:
            raise ExpressionError("expression not bound to inputs; call bind() first")

    def evaluate(self, X: np.ndarray) -> Any:
        """Value at estimates (X 1-D, one entry per input) or for trials (X 2-D, rows = inputs)."""
        self._check()
        with np.errstate(all="ignore"):
            return _ev(self.root, _Ctx(np.asarray(X)))

    def monte_carlo_program(
        self, eligible: set[int], means: np.ndarray, stds: np.ndarray
    ) -> tuple[Node, set[int], int]:
        """Tree for Monte Carlo with independent normal inputs integrated analytically where exact.

        ``eligible`` are row indices of independent (uncorrelated) Gaussian inputs. One of them is
        marginalised when it appears exactly once in the expression, as a non-divided factor of a
        term of a sum (or as the term itself), and at least two terms of that sum qualify.
        Returns (tree, marginalised rows, number of standard-normal rows Z the tree reads).
        """
        self._check()
        counts: dict[int, int] = {}
        for v in self._vars:
            counts[v.index] = counts.get(v.index, 0) + 1
        elig = {i for i in eligible if counts.get(i, 0) == 1}
        used: set[int] = set()
        nz = [0]

        def pick(term: Node) -> tuple[Var, list[tuple[Node, bool]]] | None:
            if isinstance(term, Var) and term.index in elig and term.index not in used:
                return term, []
            if isinstance(term, Prod):
                for k, (f, inv) in enumerate(zip(term.factors, term.inverse, strict=True)):
                    if not inv and isinstance(f, Var) and f.index in elig and f.index not in used:
                        return f, [
                            (g, i)
                            for j, (g, i) in enumerate(zip(term.factors, term.inverse, strict=True))
                            if j != k
                        ]
            return None

        def tr(node: Node) -> Node:
            if isinstance(node, Sum):
                picks = [pick(t) for t in node.terms]
                if sum(p is not None for p in picks) < 2:
                    return Sum([tr(t) for t in node.terms], list(node.signs), node.start, node.end)
                rest_t: list[Node] = []
                rest_s: list[float] = []
                mean_t: list[Node] = []
                var_t: list[Node] = []
                c_mean = c_var = 0.0
                for term, sign, pk in zip(node.terms, node.signs, picks, strict=True):
                    if pk is None:
                        rest_t.append(tr(term))
                        rest_s.append(sign)
                        continue
                    v, others = pk
                    used.add(v.index)
                    mu, sd = float(means[v.index]), float(stds[v.index])
                    if not others:
                        c_mean += sign * mu
                        c_var += sd * sd
                        continue
                    fs, invs = [g for g, _ in others], [i for _, i in others]
                    g_node: Node = fs[0] if (len(fs) == 1 and not invs[0]) else Prod(fs, invs, 0, 0)
                    mean_t.append(Prod([g_node, Num(sign * mu, 0, 0)], [False, False], 0, 0))
                    # g·g·σ² (not g**2: a product vectorises better than a power with an array exponent)
                    var_t.append(Prod([g_node, g_node, Num(sd * sd, 0, 0)], [False, False, False], 0, 0))
                if c_mean:
                    rest_t.append(Num(c_mean, 0, 0))
                    rest_s.append(1.0)
                if c_var:
                    var_t.append(Num(c_var, 0, 0))
                rest: Node = Sum(rest_t, rest_s, 0, 0) if rest_t else Num(0.0, 0, 0)
                mean: Node = Sum(mean_t, [1.0] * len(mean_t), 0, 0) if mean_t else Num(0.0, 0, 0)
                var: Node = Sum(var_t, [1.0] * len(var_t), 0, 0)
                m = Marg(rest, mean, var, nz[0])
                nz[0] += 1
                return m
            if isinstance(node, Prod):
                return Prod([tr(f) for f in node.factors], list(node.inverse), node.start, node.end)
            if isinstance(node, Pow):
                return Pow(tr(node.base), tr(node.exponent), node.start, node.end)
            if isinstance(node, Neg):
                return Neg(tr(node.arg), node.start, node.end)
            if isinstance(node, Call):
                return Call(node.fn, tr(node.arg), node.start, node.end)
            return node

        root = tr(self.root)
        if not used:
            return self.root, set(), 0
        _build_groups(root)
        return root, used, nz[0]

    def evaluate_program(
        self,
        root: Node,
        X: np.ndarray,
        Z: np.ndarray | None,
        aff: Affine | None = None,
        scratch: np.ndarray | None = None,
    ) -> Any:
        """Evaluate a tree from :meth:`monte_carlo_program` on trials X (and normal rows Z).

        ``aff`` describes rows of X held in standard form (see :class:`Affine`); ``scratch`` is
        an optional flat float array of X's size the evaluation may overwrite.
        """
        with np.errstate(all="ignore"):
            return _ev(root, _Ctx(np.asarray(X), None, Z, aff, scratch))

    def value_and_gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """f(x) and ∂f/∂x_i for all inputs by one reverse-mode pass (x 1-D)."""
        self._check()
        x = np.asarray(x, dtype=float)
        ctx = _Ctx(x)
        ctx.grad = np.zeros(x.shape[0])
        with np.errstate(all="ignore"):
            y = float(_fw(self.root, ctx))
            _bw(self.root, ctx, 1.0)
        return y, ctx.grad

    def source(self, node: Node) -> str:
        return self.text[node.start : node.end]

    def diagnose(self, X: np.ndarray) -> tuple[str, int, int] | None:
        """Find the first sub-expression that turns finite inputs into NaN/inf.

        Returns ``(sub-expression text, position, number of bad trials)`` or ``None``.
        """
        self._check()
        found: list[tuple[str, int, int]] = []
        ctx = _Ctx(np.asarray(X))

        def rec(node: Node) -> Any:
            kids = [rec(c) for c in node.children()]
            if isinstance(node, Sum):
                v: Any = 0.0
                for kv, s in zip(kids, node.signs, strict=True):
                    v = v + s * kv
            elif isinstance(node, Prod):
                v = 1.0
                for kv, inv in zip(kids, node.inverse, strict=True):
                    v = v / kv if inv else v * kv
            elif isinstance(node, Pow):
                v = np.power(kids[0], kids[1])
            elif isinstance(node, Neg):
                v = -kids[0]
            elif isinstance(node, Call):
                v = FUNCTIONS[node.fn](kids[0])
            else:
                v = _ev(node, ctx)
            if not found and not isinstance(node, (Var, Num)):
                bad = ~np.isfinite(v)
                for kv in kids:
                    bad = bad & np.isfinite(kv)
                nbad = int(np.count_nonzero(bad))
                if nbad:
                    found.append((self.source(node), node.start, nbad))
            return v

        with np.errstate(all="ignore"):
            rec(self.root)
        return found[0] if found else None


def parse(text: str) -> Expression:
    """Parse an expression (no evaluation, no code execution)."""
    return Expression(text)


def is_node(obj: object) -> bool:
    return isinstance(obj, Node)


_ALL_NODE_TYPES: Sequence[type] = (Num, Var, Neg, Sum, Prod, Pow, Call)
