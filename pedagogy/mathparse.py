"""A small, safe parser for the arithmetic and algebra students type.

Student text must never reach ``eval`` (which is what ``sympy.parse_expr`` does underneath), so expressions are
tokenized and parsed here into a tiny tree that can be evaluated exactly with ``Fraction`` (calculator annotations,
arithmetic scaffolds) or converted to sympy (algebraic answers). The grammar covers school notation: ``+ - * / ^``,
the multiplication, division, middle-dot and minus signs, implicit multiplication (``2x``, ``3(x+1)``), parentheses,
a postfix ``%`` and a few functions. LaTeX input (``\\frac``, ``\\cdot``, ``\\sqrt``, ``^{...}``) is rewritten into
the same notation first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import sympy

MAX_TOKENS = 200
# A bound on integer exponents: "9^9^9" typed by a student must not make the server compute a huge power.
MAX_EXPONENT = 64
FUNCTIONS = frozenset({"sqrt", "sin", "cos", "tan", "log", "ln", "exp", "abs"})
CONSTANTS = frozenset({"pi"})


class ParseError(ValueError):
    """The text is not an expression this parser accepts."""


class UndefinedError(ParseError):
    """The expression has no value: a division by zero."""


@dataclass(frozen=True)
class Num:
    value: Fraction


@dataclass(frozen=True)
class Sym:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "%"
    arg: Node


@dataclass(frozen=True)
class Bin:
    op: str  # one of + - * / ^
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    func: str
    arg: Node


Node: TypeAlias = Num | Sym | Unary | Bin | Call

_OPERATOR_ALIASES = {
    "\u00d7": "*",  # multiplication sign
    "\u00b7": "*",  # middle dot
    "\u22c5": "*",  # dot operator
    "\u00f7": "/",  # division sign
    "\u2212": "-",  # minus sign
    "\u2013": "-",  # en dash
    "**": "^",
    "[": "(",
    "]": ")",
}
_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?|\.\d+)|(?P<name>[A-Za-z]+)|"
    r"(?P<op>\*\*|[-+*/^()%\u00d7\u00b7\u22c5\u00f7\u2212\u2013\[\]]))"
)


def latex_to_plain(text: str) -> str:
    """Rewrite the LaTeX students and authors write for school math into plain notation."""
    s = text.replace("$", "")
    s = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)\b", "", s)
    s = re.sub(r"\\[,;:! ]", " ", s)
    s = s.replace("\\cdot", "*").replace("\\times", "*").replace("\\div", "/").replace("\\pi", " pi ")
    s = _rewrite_frac(s)
    s = _rewrite_sqrt(s)
    s = re.sub(r"\\(sin|cos|tan|log|ln|exp)\b", r"\1", s)
    s = s.replace("\\{", "(").replace("\\}", ")")
    return s.replace("{", "(").replace("}", ")")


def _braced(s: str, start: int) -> tuple[str, int]:
    """Return the content of the brace group opening at ``start`` and the index after it."""
    if start >= len(s) or s[start] != "{":
        raise ParseError("expected a braced group")
    depth = 0
    for i in range(start, len(s)):
        if s[i] == "{":
            depth += 1
        elif s[i] == "}":
            depth -= 1
            if depth == 0:
                return s[start + 1 : i], i + 1
    raise ParseError("unbalanced braces")


def _rewrite_frac(s: str) -> str:
    pattern = re.compile(r"\\[dt]?frac\s*")
    while (m := pattern.search(s)) is not None:
        num, after = _braced(s, m.end())
        den, end = _braced(s, after)
        s = f"{s[: m.start()]}(({_rewrite_frac(num)})/({_rewrite_frac(den)})){s[end:]}"
    return s


def _rewrite_sqrt(s: str) -> str:
    pattern = re.compile(r"\\sqrt\s*")
    while (m := pattern.search(s)) is not None:
        pos = m.end()
        root = None
        if pos < len(s) and s[pos] == "[":
            close = s.find("]", pos)
            if close < 0:
                raise ParseError("unbalanced root index")
            root, pos = s[pos + 1 : close], close + 1
        body, end = _braced(s, pos)
        inner = _rewrite_sqrt(body)
        repl = f"sqrt({inner})" if root is None else f"(({inner})^(1/({root})))"
        s = f"{s[: m.start()]}{repl}{s[end:]}"
    return s


def tokenize(text: str) -> list[tuple[str, str]]:
    """Split plain notation into (kind, text) tokens; anything unrecognised is a ParseError."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN_RE.match(stripped, pos)
        if m is None:
            raise ParseError(f"unexpected character {stripped[pos:].strip()[:1]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "op":
            value = _OPERATOR_ALIASES.get(value, value)
        elif kind == "name":
            for name in _split_name(value):
                tokens.append(("name", name))
            continue
        tokens.append((kind, value))
        if len(tokens) > MAX_TOKENS:
            raise ParseError("expression too long")
    return tokens


def _split_name(word: str) -> list[str]:
    """Known function and constant names stay whole; other letter runs are products of one-letter variables."""
    lower = word.lower()
    if lower in FUNCTIONS or lower in CONSTANTS:
        return [lower]
    return list(word)


class _Parser:
    """Precedence climbing: + - (10) < * / and implicit products (20) < unary minus (25) < ^ (30, right)."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ParseError("unexpected end of expression")
        self.pos += 1
        return tok

    def parse(self) -> Node:
        if not self.tokens:
            raise ParseError("empty expression")
        node = self.expr(0)
        if self.peek() is not None:
            raise ParseError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def expr(self, min_prec: int) -> Node:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok is None:
                return left
            kind, text = tok
            if kind == "op" and text == "%":
                self.take()
                left = Unary("%", left)
                continue
            if kind == "op" and text in "+-*/^":
                prec = {"+": 10, "-": 10, "*": 20, "/": 20, "^": 30}[text]
                if prec < min_prec:
                    return left
                self.take()
                right = self.expr(prec if text == "^" else prec + 1)
                left = Bin(text, left, right)
                continue
            if kind in ("num", "name") or text == "(":
                # Implicit multiplication binds like "*".
                if min_prec > 20:
                    return left
                right = self.expr(21)
                left = Bin("*", left, right)
                continue
            return left

    def unary(self) -> Node:
        kind, text = self.take()
        if kind == "op" and text == "-":
            return Unary("-", self.expr(25))
        if kind == "op" and text == "+":
            return self.expr(25)
        if kind == "num":
            return Num(Fraction(text))
        if kind == "name":
            if text in FUNCTIONS:
                nxt = self.peek()
                if nxt is None or nxt[1] != "(":
                    raise ParseError(f"{text} needs parentheses")
                self.take()
                arg = self.expr(0)
                self.expect(")")
                return Call(text, arg)
            return Sym(text)
        if text == "(":
            inner = self.expr(0)
            self.expect(")")
            return inner
        raise ParseError(f"unexpected {text!r}")

    def expect(self, text: str) -> None:
        _, got = self.take()
        if got != text:
            raise ParseError(f"expected {text!r}, got {got!r}")


def parse(text: str, *, latex: bool = True) -> Node:
    """Parse an expression (no ``=``) into a tree. Raises ParseError."""
    plain = latex_to_plain(text) if latex else text
    return _Parser(tokenize(plain)).parse()


def evaluate(node: Node) -> Fraction:
    """Evaluate exactly. Symbols, functions and non-integer powers are a ParseError (not arithmetic)."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Unary):
        value = evaluate(node.arg)
        return -value if node.op == "-" else value / 100
    if isinstance(node, Bin):
        left, right = evaluate(node.left), evaluate(node.right)
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        if node.op == "/":
            if right == 0:
                raise UndefinedError("division by zero")
            return left / right
        if right.denominator != 1 or abs(right) > MAX_EXPONENT:
            raise ParseError("only small whole-number powers are evaluated exactly")
        if left == 0 and right < 0:
            raise UndefinedError("division by zero")
        return left ** int(right)
    raise ParseError("not plain arithmetic")


def to_sympy(node: Node) -> sympy.Expr:
    """Convert to a sympy expression (imported lazily: planning number answers never loads sympy)."""
    import sympy

    def conv(n: Node) -> sympy.Expr:
        if isinstance(n, Num):
            return sympy.Rational(n.value.numerator, n.value.denominator)
        if isinstance(n, Sym):
            return sympy.Symbol(n.name)
        if isinstance(n, Unary):
            arg = conv(n.arg)
            return -arg if n.op == "-" else arg / 100
        if isinstance(n, Call):
            arg = conv(n.arg)
            funcs = {
                "sqrt": sympy.sqrt,
                "sin": sympy.sin,
                "cos": sympy.cos,
                "tan": sympy.tan,
                "log": sympy.log,
                "ln": sympy.log,
                "exp": sympy.exp,
                "abs": sympy.Abs,
            }
            result: sympy.Expr = funcs[n.func](arg)
            return result
        left, right = conv(n.left), conv(n.right)
        if n.op == "+":
            return left + right
        if n.op == "-":
            return left - right
        if n.op == "*":
            return left * right
        if n.op == "/":
            return left / right
        if right.is_number and abs(right) > MAX_EXPONENT:
            raise ParseError("exponent too large")
        power: sympy.Expr = left**right
        return power

    def with_pi(n: Node) -> sympy.Expr:
        expr = conv(n)
        return expr.subs(sympy.Symbol("pi"), sympy.pi)

    return with_pi(node)


def binary_operations(node: Node) -> list[tuple[Fraction, str, Fraction, Fraction]]:
    """The binary operations of an arithmetic tree in evaluation order, as (left, op, right, result).

    This is how a multi-operation calculation such as ``100-50-30-15`` is broken into the one-operation
    scaffold questions a struggling student can answer one at a time.
    """
    ops: list[tuple[Fraction, str, Fraction, Fraction]] = []

    def walk(n: Node) -> Fraction:
        if isinstance(n, Bin):
            left, right = walk(n.left), walk(n.right)
            result = evaluate(Bin(n.op, Num(left), Num(right)))
            ops.append((left, n.op, right, result))
            return result
        if isinstance(n, Unary) and n.op == "%":
            value = walk(n.arg)
            result = value / 100
            ops.append((value, "/", Fraction(100), result))
            return result
        return evaluate(n)

    walk(node)
    return ops
