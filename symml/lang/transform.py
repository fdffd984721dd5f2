"""Parse tree -> :class:`Program`: SymPy objects built directly, never through eval.

Statements are processed in order (a definition is usable by later statements); each
expression subtree is turned into SymPy by :class:`ExprTransformer` (non-recursive, so long
inputs cannot overflow the stack). The arithmetic it dispatches to is in
:mod:`symml.lang.ops`, the function tables and calls in :mod:`symml.lang.builtins`.
"""

from __future__ import annotations

import math
from typing import Any

import sympy
from lark import Token, Transformer_NonRecursive, Tree, v_args
from lark.exceptions import VisitError

from .. import _limits
from .._limits import check, check_entries
from ..errors import (
    ArgumentError,
    LimitError,
    ParseError,
    ShapeError,
    SymmlError,
    UndefinedNameError,
)
from ..symbols import matrix, symbol, vector
from . import library as LIB
from . import matexpr as ME
from .builtins import (  # the function tables, re-exported for their users
    _ALGEBRA,
    _CALCULUS,
    _CONSTANTS,
    ELEMENTWISE,
    FUNCTION_NAMES,
    VECTOR_FUNCS,
    _arity,
    _calculus_call,
    _call_lambda,
    _Dist,
    _Keyword,
    _matexpr_call,
)
from .ops import (  # the arithmetic and its limits (the MAX_* limits re-exported)
    MAX_BITS,  # noqa: F401
    MAX_EXPONENT,  # noqa: F401
    MAX_EXPR_DEPTH,
    MAX_FACTORIAL,  # noqa: F401
    Matrix,
    _any_mat,
    _apply,
    _check_product,
    _coefficient,
    _is_mat,
    _mul_all,
    _number,
    _numeric_bits,
    _scalar,
    add,
    div,
    matmul,
    mul,
    power,
)
from .parser import caret_snippet, parse_tree, suggest
from .program import DataDecl, EvaluationRequest, Model, Output, ParamDecl, Program, VarDecl

__all__ = ["build_program", "build_expr", "FUNCTION_NAMES", "DISTRIBUTIONS"]

#: Distributions allowed on the right of ``~``, with their number of arguments.
DISTRIBUTIONS = {"Normal": 2, "Bernoulli": 1, "Poisson": 1, "Binomial": 2, "Exponential": 1}


class _Located(SymmlError):
    """Internal: an error raised inside a statement, before its position is attached."""


# ---------------------------------------------------------------------------------------
# the expression transformer


@v_args(inline=True)
class ExprTransformer(Transformer_NonRecursive):
    """Builds SymPy objects from expression subtrees, resolving names in ``scope``.

    Callbacks take a rule's children inline (``def pow(self, base, op, ex)``). Dispatch goes
    through a table of the plain functions built once per class (lark's per-call ``v_args``
    wrapping cost more than the math for long programs), tokens are not visited, and an
    error keeps the position of the innermost subtree that raised it.
    """

    __visit_tokens__ = False

    def __init__(self, scope: _Scope):
        super().__init__()
        self.scope = scope

    def _call_userfunc(self, tree, new_children=None):
        children = tree.children if new_children is None else new_children
        self._op = None
        check()  # the time budget, also where no signal can reach (threads)
        try:
            return _RULES[tree.data](self, *children)
        except SymmlError as exc:
            if getattr(exc, "_symml_pos", None) is None:
                op = self._op
                exc._symml_pos = (op.line, op.column) if op is not None else _position(tree)
            raise

    # atoms
    def number(self, tok):
        return _number(str(tok))

    def name(self, tok):
        return self.scope.lookup(str(tok))

    def array(self, *items):
        items = [i for i in items if i is not None]
        if not items:
            raise ShapeError("empty vector literal []")
        if all(_is_mat(i) and i.shape[1] == 1 for i in items):
            n = items[0].shape[0]
            check_entries(n * len(items), "this matrix literal")
            if any(i.shape[0] != n for i in items):
                raise ShapeError("rows of a matrix literal have different lengths")
            return Matrix([list(i) for i in items])
        if any(_is_mat(i) for i in items):
            raise ShapeError("a vector literal mixes scalars and vectors")
        check_entries(len(items), "this vector literal")
        for i in items:
            self.scope.need_value(i)
        return Matrix(items)

    # operators
    def sum(self, first, *rest):
        acc = self.scope.need_value(first)
        terms = [] if _any_mat(acc) else [acc]
        mats = acc if _any_mat(acc) else None
        for op, operand in zip(rest[::2], rest[1::2]):
            self._op = op  # an error here points at this operator
            operand = self.scope.need_value(operand)
            sign = 1 if str(op) == "+" else -1
            if mats is None and not _any_mat(operand):
                terms.append(operand if sign > 0 else -operand)
                continue
            if mats is None:
                mats = add(sympy.Add(*terms), operand, sign)
                terms = []
            else:
                mats = add(mats, operand, sign)
        if mats is None:
            return sympy.Add(*terms)
        return mats

    def product(self, first, *rest):
        # Scalar factors are collected and multiplied in one sympy.Mul, as SymPy itself
        # stores them: folding left to right would let 2*(x + y) distribute before /x,
        # so that printed SymPy products would not parse back to themselves.
        acc = self.scope.need_value(first)
        factors = None if _any_mat(acc) else [acc]
        num = acc if factors is not None else sympy.Integer(1)  # for the size guard
        for op, operand in zip(rest[::2], rest[1::2]):
            self._op = op  # an error here points at this operator
            operand = self.scope.need_value(operand)
            op = str(op)
            if factors is not None and op != "@" and not _any_mat(operand):
                if op == "/":
                    div(1, operand)  # checks division by zero
                    operand = sympy.Pow(operand, -1)
                _check_product(num, operand)
                num = sympy.Mul(num, operand) if isinstance(operand, sympy.Rational) else num
                if not isinstance(operand, sympy.Rational) and _numeric_bits(operand):
                    num = sympy.Mul(num, _coefficient(operand))
                factors.append(operand)
                continue
            if factors is not None:
                acc, factors = _mul_all(factors), None
            acc = mul(acc, operand) if op == "*" else div(acc, operand) if op == "/" else matmul(acc, operand)
        return _mul_all(factors) if factors is not None else acc

    def neg(self, x):
        x = self.scope.need_value(x)
        return Matrix(-x) if _is_mat(x) else ME.neg(x)

    def pos(self, x):
        return self.scope.need_value(x)

    def pow(self, base, op, ex):
        self._op = op
        return power(self.scope.need_value(base), self.scope.need_value(ex))

    def relation(self, lhs, op, rhs):
        lhs, rhs = self.scope.need_value(lhs), self.scope.need_value(rhs)
        lhs, rhs = ME.scalar(lhs), ME.scalar(rhs)
        if _any_mat(lhs) or _any_mat(rhs):
            raise ShapeError("relations compare scalars; compare vector entries one by one")
        if _is_mat(lhs) or _is_mat(rhs):
            raise ShapeError("relations compare scalars; compare vector entries one by one")
        op = str(op)
        cls = {"==": sympy.Eq, "<=": sympy.Le, ">=": sympy.Ge, "<": sympy.Lt, ">": sympy.Gt,
               "!=": sympy.Ne}[op]
        return cls(lhs, rhs, evaluate=False)

    def keyword_arg(self, key, value):
        return _Keyword(key, self.scope.need_value(value))

    def transpose(self, x):
        x = self.scope.need_value(x)
        if ME.is_matexpr(x):
            return ME.transpose(x)
        return Matrix(x).T if _is_mat(x) else x

    def subscript(self, base, *indices):
        base = self.scope.need_value(base)
        if ME.is_matexpr(base):
            return ME.element(base, [self._index(i) for i in indices])
        if not _is_mat(base):
            raise ShapeError(f"cannot index the scalar {base}; only vectors and matrices have entries")
        idx = []
        for i in indices:
            if not (isinstance(i, sympy.Integer)):
                raise ArgumentError(f"an index must be a whole number (0-based), got {i}")
            idx.append(int(i))
        rows, cols = base.shape
        if len(idx) == 1:
            n = rows * cols if 1 in (rows, cols) else rows
            if not 0 <= idx[0] < n and not -n <= idx[0] < 0:
                raise ShapeError(f"index {idx[0]} out of range for length {n} (indices start at 0)")
            if cols == 1 or rows == 1:
                return list(base)[idx[0]]
            return Matrix(base[idx[0], :]).T
        if len(idx) == 2:
            i, j = idx
            if not (-rows <= i < rows and -cols <= j < cols):
                raise ShapeError(f"index [{i}, {j}] out of range for shape {base.shape}")
            return base[i, j]
        raise ShapeError("at most two indices")

    @staticmethod
    def _index(i):
        if not isinstance(i, sympy.Integer):
            raise ArgumentError(f"an index must be a whole number (0-based), got {i}")
        return int(i)

    def call(self, fname, *args):
        name = str(fname)
        args = [a for a in args if a is not None] if not (len(args) == 1 and args[0] is None) else []
        return self.scope.call(name, args)


def _rule_table(cls) -> dict:
    """Rule name -> plain function (``v_args`` unwrapped) for every transformer callback."""
    table = {}
    for name, attr in vars(cls).items():
        if name.startswith("_") or not callable(attr):
            continue
        table[name] = getattr(attr, "base_func", attr)
    return table


_RULES = _rule_table(ExprTransformer)


def _position(tree) -> tuple[int, int] | None:
    """(line, column) of a subtree: its meta, else its first token (iteratively)."""
    meta = getattr(tree, "_meta", None)
    if meta is not None and getattr(meta, "line", None):
        return meta.line, meta.column
    node = tree
    while isinstance(node, Tree):
        kids = [c for c in node.children if c is not None]
        if not kids:
            return None
        node = kids[0]
    if isinstance(node, Token) and node.line:
        return node.line, node.column
    return None


# ---------------------------------------------------------------------------------------
# scopes


class _Scope:
    """Name resolution for one statement: locals, program bindings, declarations."""

    def __init__(self, program: Program, lenient: bool = True, locals_=None, namespace=None):
        self.program = program
        self.lenient = lenient
        self.locals = locals_ or {}
        self.namespace = namespace or {}
        self.implicit: dict[str, sympy.Symbol] = program.__dict__.setdefault("_implicit", {})

    def need_value(self, v):
        if isinstance(v, _Keyword):
            raise ArgumentError("'name = value' is only allowed as a function argument")
        if isinstance(v, _Dist):
            raise ArgumentError(
                f"{v.name}(...) is a distribution; it can only appear on the right of '~'"
            )
        if isinstance(v, sympy.Lambda):
            raise ArgumentError("a function must be called with arguments")
        return v

    def lookup(self, name: str):
        p = self.program
        for table in (self.locals, p.bindings, p.constants, self.namespace):
            if name in table:
                return table[name]
        for table in (p.vars, p.params, p.data_decls):
            if name in table:
                return table[name].symbols
        for table in (p.matrix_symbols, p.sizes):
            if name in table:
                return table[name]
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name in p.functions or name in FUNCTION_NAMES or name in DISTRIBUTIONS:
            raise ArgumentError(f"'{name}' is a function; call it with arguments, as {name}(...)")
        if name == "e":
            pass  # 'e' is an ordinary name; Euler's number is exp(1)
        if not self.lenient:
            known = list(p.bindings) + list(p.symbols) + list(p.constants)
            raise UndefinedNameError(
                f"'{name}' is not declared{suggest(name, known)}; declare it with var, "
                f"param or data, or define it with '{name} = ...'"
            )
        if name not in self.implicit:
            self.implicit[name] = symbol(name)
        return self.implicit[name]

    def call(self, name: str, args: list):
        p = self.program
        if name in p.functions:
            lam = p.functions[name]
            plain = [self.need_value(a) for a in args]
            if len(plain) != len(lam.variables):
                raise ArgumentError(
                    f"{name} takes {len(lam.variables)} argument(s), got {len(plain)}"
                )
            return _scalar(_call_lambda(lam, plain))
        if name in LIB.VALUE_DISTRIBUTIONS:
            plain = [self.need_value(a) for a in args]
            want = LIB.VALUE_DISTRIBUTIONS[name]
            if len(plain) != want:
                raise ArgumentError(f"{name} takes {want} argument(s), got {len(plain)}")
            return _Dist(name, tuple(plain))
        if name in ELEMENTWISE:
            fn, lo, hi = ELEMENTWISE[name]
            plain = [self.need_value(a) for a in args]
            _arity(name, plain, lo, hi)
            return _apply(fn, *plain)
        if name in LIB.DIST_FUNCS and len(args) == 1 and isinstance(args[0], _Dist):
            return LIB.DIST_FUNCS[name](args[0])
        if name in LIB.LIBRARY:
            plain = [a if isinstance(a, _Dist) else self.need_value(a) for a in args]
            return LIB.call(name, plain)
        if name in VECTOR_FUNCS:
            fn, lo, hi = VECTOR_FUNCS[name]
            plain = [self.need_value(a) for a in args]
            _arity(name, plain, lo, hi)
            if any(ME.is_matexpr(a) for a in plain):
                return _matexpr_call(name, plain)
            return _scalar(fn(*plain))
        if name in _CALCULUS or name in _ALGEBRA:
            return _calculus_call(name, args, self)
        candidates = FUNCTION_NAMES + list(p.functions) + list(LIB.VALUE_DISTRIBUTIONS)
        raise UndefinedNameError(
            f"unknown function '{name}'{suggest(name, candidates)}"
            + ("" if suggest(name, candidates) else "; define it first with "
               f"'{name}(a) = ...' or see docs/language.md for the built-in functions")
        )


# ---------------------------------------------------------------------------------------
# statements


def _tok(t) -> str:
    return str(t)


class _Builder:
    def __init__(self, source: str, lenient: bool, namespace=None):
        self.source = source
        self.program = Program(source=source)
        self.lenient = lenient
        self.namespace = namespace or {}
        self._transformer = ExprTransformer(None)
        self._measured: dict = {}  # node -> (tree size, depth), shared by all statements

    def expr(self, tree, locals_=None):
        # one transformer per program (creating one per statement dominated long files)
        self._transformer.scope = _Scope(self.program, self.lenient, locals_, self.namespace)
        if isinstance(tree, Token):
            tree = Tree("name" if tree.type == "NAME" else "number", [tree])
        try:
            return self._transformer.transform(tree)
        except VisitError as exc:  # lark wraps errors raised in callbacks: unwrap ours
            if isinstance(exc.orig_exc, (SymmlError, RecursionError)):
                raise exc.orig_exc from None
            raise

    def measure(self, v) -> None:
        """Refuse a statement's value that is too big (``max_size`` nodes) or too deeply
        nested (MAX_EXPR_DEPTH) to print or differentiate: chains of definitions such as
        ``a2 = a1*x + 2`` nest without bound. Sizes are memoized over the shared DAG, so
        each statement costs only its new nodes."""
        if not isinstance(v, sympy.Basic):
            return
        limit = _limits.get_limits().max_size
        memo = self._measured
        stack = [v]
        while stack:
            node = stack[-1]
            if node in memo:
                stack.pop()
                continue
            pending = [a for a in node.args if a not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            size, depth = 1, 0
            for a in node.args:
                sa, da = memo[a]
                size += sa
                depth = max(depth, da)
            memo[node] = (size, depth + 1)
        size, depth = memo[v]
        if depth > MAX_EXPR_DEPTH:
            raise LimitError(
                f"this expression is nested {depth:,} levels deep through its definitions (limit "
                f"{MAX_EXPR_DEPTH:,}); simplify or expand an intermediate definition"
            )
        if size > limit:
            raise LimitError(
                f"this expression has {size:,} nodes, more than the limit of {limit:,}; "
                "simplify it, or raise the limit with symml.set_limits(max_size=...)"
            )

    def value(self, tree, locals_=None):
        v = self.expr(tree, locals_)
        if isinstance(v, (_Keyword, _Dist)):
            _Scope(self.program).need_value(v)
        return v

    def run(self, tree: Tree) -> Program:
        for stmt in tree.children:
            try:
                check()
                getattr(self, "stmt_" + stmt.data)(stmt)
            except ParseError:
                raise
            except SymmlError as exc:
                raise _locate(exc, stmt, self.source) from None
            except RecursionError:
                raise LimitError(
                    f"line {stmt.meta.line}: expression too deeply nested to evaluate; "
                    "split it into named parts"
                ) from None
            except MemoryError:
                raise LimitError(
                    f"line {stmt.meta.line}: out of memory evaluating this statement; "
                    "simplify it or split it into named parts"
                ) from None
            except Exception as exc:  # SymPy failing on odd input: still a SymmlError
                raise _locate(
                    SymmlError(
                        f"cannot evaluate this statement ({type(exc).__name__}: {exc}); "
                        "rewrite the formula"
                    ),
                    stmt,
                    self.source,
                ) from exc
        self.program.__dict__.pop("_implicit", None)
        return self.program

    # -- declarations
    def _declared(self, name, meta):
        p = self.program
        if (name in p.symbols or name in p.bindings or name in p.constants or name in p.functions
                or name in p.matrix_symbols or name in p.sizes):
            raise ArgumentError(f"'{name}' is already defined")
        if name in FUNCTION_NAMES or name in DISTRIBUTIONS or name in _CONSTANTS:
            raise ArgumentError(f"'{name}' is a built-in name; choose another name")

    def _symbols(self, name, shape_tree, assumption):
        assumptions = {}
        if assumption is not None:
            op, rhs = assumption.children
            bound = self.value(rhs)
            if bound != 0:
                raise ArgumentError(
                    f"sign assumptions compare with 0 ('{name} > 0'), got {op} {bound}; "
                    "for bounds on a parameter write 'param s = 1 in [low, high]'"
                )
            assumptions = {">": {"positive": True}, ">=": {"nonnegative": True},
                           "<": {"negative": True}, "<=": {"nonpositive": True},
                           "!=": {"nonzero": True}}.get(str(op))
            if assumptions is None:
                raise ArgumentError(f"unsupported assumption '{op} 0'")
            assumptions = dict(assumptions, real=True)
        if shape_tree is None:
            return symbol(name, **assumptions), ()
        dims = tuple(int(t) for t in shape_tree.children if t is not None)
        if any(d <= 0 for d in dims):
            raise ArgumentError(f"shape {list(dims)} of '{name}' must be positive")
        check_entries(math.prod(dims), f"the declaration of '{name}'")
        if len(dims) == 1:
            return vector(name, dims[0], **assumptions), dims
        return matrix(name, dims[0], dims[1], **assumptions), dims

    def _plain_decl(self, stmt, table, cls):
        """``var`` and ``data``: names with an optional shape and sign assumption."""
        for item in stmt.children:
            name_tok, shape, assumption = item.children
            name = _tok(name_tok)
            self._declared(name, item.meta)
            syms, dims = self._symbols(name, shape, assumption)
            table[name] = cls(name, syms, dims)

    def stmt_var_decl(self, stmt):
        self._plain_decl(stmt, self.program.vars, VarDecl)

    def stmt_data_decl(self, stmt):
        self._plain_decl(stmt, self.program.data_decls, DataDecl)

    def stmt_matrix_decl(self, stmt, kind="matrix"):
        """``matrix A[n, m]`` / ``vector x[n]``: MatrixSymbols whose sizes may be names."""
        for item in stmt.children:
            name_tok, *dim_toks, sym_tok = item.children
            name = _tok(name_tok)
            self._declared(name, item.meta)
            dims = tuple(self._size(t, name) for t in dim_toks)
            self.program.matrix_symbols[name] = ME.declare(
                name, dims, kind, symmetric=sym_tok is not None
            )

    def stmt_vector_decl(self, stmt):
        self.stmt_matrix_decl(stmt, kind="vector")

    def _size(self, tok, owner):
        """One size of a matrix symbol: a whole number, or a name (a positive integer)."""
        p = self.program
        if tok.type == "INT":
            n = int(tok)
            if n <= 0:
                raise ArgumentError(f"the sizes of '{owner}' must be positive, got {n}")
            return sympy.Integer(n)
        name = _tok(tok)
        if name in p.sizes:
            return p.sizes[name]
        if name in p.constants:
            c = p.constants[name]
            if isinstance(c, sympy.Integer) and c > 0:
                return c
            raise ArgumentError(f"the size '{name}' of '{owner}' must be a positive whole number, got {c}")
        if name in p.__dict__.get("_implicit", {}):
            raise ArgumentError(
                f"'{name}' is used as a size of '{owner}' after it was used as an ordinary "
                "name; declare matrix and vector symbols before the formulas that use their sizes"
            )
        self._declared(name, None)
        p.sizes[name] = ME.size_symbol(name)
        return p.sizes[name]

    def stmt_param_decl(self, stmt):
        for item in stmt.children:
            name_tok, shape, assumption, init_tree, lo_tree, hi_tree = item.children
            name = _tok(name_tok)
            self._declared(name, item.meta)
            syms, dims = self._symbols(name, shape, assumption)
            lo = hi = None
            if lo_tree is not None:
                lo, hi = self._bound(lo_tree), self._bound(hi_tree)
                if lo is not None and hi is not None and lo > hi:
                    raise ArgumentError(f"bounds of '{name}': lower {lo} exceeds upper {hi}")
            if assumption is not None and lo is None and hi is None:
                op = str(assumption.children[0])
                lo, hi = {">": (0.0, None), ">=": (0.0, None), "<": (None, 0.0),
                          "<=": (None, 0.0)}.get(op, (None, None))
            init = self._init(name, init_tree, dims, lo, hi)
            self.program.params[name] = ParamDecl(name, syms, dims, init, (lo, hi))

    def _bound(self, tree):
        v = self.value(tree)
        if v in (sympy.oo, -sympy.oo):
            return None
        if not (isinstance(v, sympy.Expr) and v.is_number and v.is_real):
            raise ArgumentError(f"a bound must be a real number or ±inf, got {v}")
        return float(v)

    def _init(self, name, tree, dims, lo, hi):
        import numpy as np  # only programs with parameters need it (keeps start-up short)

        if tree is None:
            val = 0.0
            if lo is not None and hi is not None:
                val = (lo + hi) / 2
            elif lo is not None:
                val = lo + 1.0 if lo >= 0 else max(lo, 0.0)
            elif hi is not None:
                val = min(hi - 1.0, 0.0)
            return np.full(dims, val) if dims else val
        v = self.value(tree)
        if _is_mat(v):
            arr = np.array(v.tolist(), dtype=object)
            if not all(e.is_number for e in v):
                raise ArgumentError(f"initial value of '{name}' must be numbers")
            arr = np.array([[float(e) for e in row] for row in v.tolist()])
            if len(dims) == 1:
                arr = arr.reshape(-1)
            if arr.shape != tuple(dims):
                raise ShapeError(f"initial value of '{name}' has shape {arr.shape}, declared {tuple(dims)}")
            return arr
        if not (isinstance(v, sympy.Expr) and v.is_number and v.is_real):
            raise ArgumentError(f"initial value of '{name}' must be a real number, got {v}")
        return np.full(dims, float(v)) if dims else float(v)

    def stmt_const_decl(self, stmt):
        kids = stmt.children
        for name_tok, tree in zip(kids[::2], kids[1::2]):
            name = _tok(name_tok)
            self._declared(name, stmt.meta)
            v = self.value(tree)
            ok = (_is_mat(v) and all(e.is_number for e in v)) or (
                isinstance(v, sympy.Expr) and v.is_number
            )
            if not ok:
                raise ArgumentError(f"const {name} must be a number, got {v}; use '{name} = ...' for formulas")
            self.program.constants[name] = v

    def stmt_assign(self, stmt):
        lhs, rhs = stmt.children
        if isinstance(lhs, Token) and lhs.type == "NAME" or isinstance(lhs, Tree) and lhs.data == "name":
            name = _tok(lhs if isinstance(lhs, Token) else lhs.children[0])
            self._check_redefine(name)
            v = self.value(rhs)
            if isinstance(v, EvaluationRequest):
                raise ArgumentError("evaluate(...) prints a number; it cannot be assigned")
            if isinstance(v, sympy.Basic) or _is_mat(v):
                for e in v if _is_mat(v) else [v]:
                    self.measure(e)
                self.program.bindings[name] = v
                return
            raise ArgumentError(f"cannot assign {v!r}")
        if isinstance(lhs, Tree) and lhs.data == "call":
            fname = _tok(lhs.children[0])
            params = []
            for a in lhs.children[1:]:
                if a is None:
                    continue
                if not (isinstance(a, Tree) and a.data == "name"):
                    raise ArgumentError(
                        f"the parameters of a function definition must be names: {fname}(a, b) = ..."
                    )
                params.append(_tok(a.children[0]))
            if len(set(params)) != len(params):
                raise ArgumentError(f"repeated parameter name in {fname}(...)")
            self._check_redefine(fname, function=True)
            if fname in FUNCTION_NAMES or fname in DISTRIBUTIONS:
                raise ArgumentError(f"'{fname}' is a built-in function; choose another name")
            dummies = {p: sympy.Dummy(p, real=True) for p in params}
            body = self.value(rhs, locals_=dummies)
            if _is_mat(body):
                raise ArgumentError("a function definition must give a scalar")
            self.program.functions[fname] = sympy.Lambda(tuple(dummies.values()), body)
            return
        raise ArgumentError(
            "the left side of '=' must be a name (x = ...) or a function head (f(a, b) = ...); "
            "write '==' for an equation"
        )

    def _check_redefine(self, name, function=False):
        """A definition may replace an earlier definition of the same kind, nothing else."""
        p = self.program
        if name in p.symbols or name in p.matrix_symbols or name in p.sizes:
            raise ArgumentError(
                f"'{name}' is declared (var/param/data); it cannot be redefined"
            )
        if name in p.constants:
            raise ArgumentError(f"'{name}' is a constant (const); it cannot be redefined")
        if function and name in p.bindings:
            raise ArgumentError(
                f"'{name}' is already defined as a value; choose another name for the function"
            )
        if not function and name in p.functions:
            raise ArgumentError(
                f"'{name}' is already defined as a function {name}(...); choose another name"
            )
        if name in FUNCTION_NAMES or name in DISTRIBUTIONS or name in _CONSTANTS:
            raise ArgumentError(f"'{name}' is a built-in name; choose another name")

    def stmt_model(self, stmt):
        lhs_tree, rhs_tree = stmt.children
        lhs = self.value(lhs_tree)
        rhs = self.expr(rhs_tree)
        text = _statement_text(self.source, stmt)
        if isinstance(rhs, _Dist) and rhs.name not in DISTRIBUTIONS:
            raise ArgumentError(
                f"'y ~ {rhs.name}(...)': fitting knows the likelihoods of "
                f"{', '.join(DISTRIBUTIONS)}; {rhs.name} can be used in pdf, cdf, mean, kl..."
            )
        if isinstance(rhs, _Dist):
            self.program.models.append(Model(lhs, None, rhs.name, rhs.args, text, stmt.meta.line))
        else:
            rhs = _Scope(self.program).need_value(rhs)
            self.program.models.append(Model(lhs, rhs, None, (), text, stmt.meta.line))

    def stmt_expr_stmt(self, stmt):
        (tree,) = stmt.children
        v = self.expr(tree)
        if isinstance(v, _Keyword):
            raise ArgumentError("'name = value' is only allowed as a function argument")
        if isinstance(v, _Dist):
            _Scope(self.program).need_value(v)
        for e in v if _is_mat(v) else [getattr(v, "expr", v)]:
            self.measure(e)
        self.program.outputs.append(Output(_statement_text(self.source, stmt), stmt.meta.line, v))


def _statement_text(source: str, tree: Tree) -> str:
    m = tree.meta
    try:
        return source[m.start_pos : m.end_pos].strip()
    except Exception:  # pragma: no cover
        return ""


def _locate(exc: SymmlError, stmt: Tree, source: str) -> SymmlError:
    """Prefix the position to an error raised while building a statement.

    The position is that of the innermost subexpression that raised (e.g. the call
    ``sinn(x)`` inside a longer formula), else the statement's start. The new error carries
    ``line`` and ``column`` attributes like :class:`ParseError`.
    """
    pos = getattr(exc, "_symml_pos", None) or _position(stmt)
    line, col = pos if pos else (0, 0)
    if not line or str(exc).startswith("line "):
        return exc
    msg = f"line {line}, column {col}: {exc}\n{caret_snippet(source, line, col)}"
    new = type(exc)(msg)
    new.line, new.column = line, col
    return new


def build_program(source: str, lenient: bool = True, namespace=None) -> Program:
    """Parse and build a whole program."""
    tree = parse_tree(source)
    return _Builder(source, lenient, namespace).run(tree)


def build_expr(source: str, namespace=None) -> Any:
    """Parse one expression (or relation); undeclared names become real symbols."""
    prog = build_program(source, lenient=True, namespace=namespace)
    if prog.bindings or prog.params or prog.vars or prog.data_decls or prog.models:
        raise ParseError(
            "expected one expression, got statements (declarations, definitions or '~'); "
            "use symml.parse for programs"
        )
    if len(prog.outputs) != 1:
        raise ParseError(f"expected one expression, got {len(prog.outputs)}")
    v = prog.outputs[0].value
    if isinstance(v, EvaluationRequest):
        raise ArgumentError("evaluate(...) is a statement of symml run, not an expression")
    return v
