"""SPDX expressions and ScanCode categories, from the index that ``license-expression`` bundles.

One lazily built, in-memory view of the vendored ScanCode LicenseDB index serves both halves
of the licence check: parsing (which ids exist, which are exceptions, which deprecated SPDX
ids mean what) and judging (each id's ScanCode ``category``). It is built on first use, never
at import, because loading it costs tens of milliseconds that commands without a ``licenses``
section should not pay; nothing is written to disk.

Parsing is strict on purpose. The library's own alias table also maps non-SPDX spellings
("GPL" to GPL-1.0-or-later, "BSD-2", "LicenseRef-MIT-Bootstrap" to MIT...) and its default
tokenizer matches multi-word names inside free text. Both are guesses a promotion gate must
not make, so expressions are tokenized on whitespace and parentheses only, every token must be
an SPDX id (current or deprecated), an SPDX exception after ``WITH``, or a ``LicenseRef-``
reference, and only ScanCode aliases that are themselves deprecated SPDX ids are honoured
("GPL-2.0" means GPL-2.0-only, "GPL-2.0+" GPL-2.0-or-later, as SPDX itself defines them).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

# The ScanCode license categories, as the vendored index spells them. Static so that the policy
# schema can offer them without loading the index; a test keeps it equal to the index.
CATEGORIES: frozenset[str] = frozenset({
    "CLA",
    "Commercial",
    "Copyleft",
    "Copyleft Limited",
    "Free Restricted",
    "Patent License",
    "Permissive",
    "Proprietary Free",
    "Public Domain",
    "Source-available",
    "Unstated License",
})

# Longer than any real declaration (numpy's five-licence expression is 50 characters); bounds the
# parser's work on hostile metadata and the memory the parse cache can hold.
MAX_EXPRESSION_LENGTH = 2000

# ScanCode lists these as alternative SPDX keys, but SPDX has no such ids: "GPL" (no version;
# ScanCode reads it as GPL-1.0-or-later) and "BSD-2". Ids with spaces or a LicenseRef- prefix
# are dropped by rule (see _aliases), these two by name.
_NOT_SPDX_ALIASES = frozenset({"gpl", "bsd-2"})
_ID_SYNTAX = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]*\+?\Z")
# A package's own reference (PEP 639 allows them); its meaning is the package's, so it is kept
# verbatim and has no category. DocumentRef- forms are not accepted.
_LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.\-]+\Z", re.IGNORECASE)
_TOKEN = re.compile(r"[()]|[^\s()]+")
_OPERATORS = frozenset({"and", "or", "with"})


class InvalidExpression(ValueError):
    """The text is not a valid SPDX licence expression; the message says why."""


@dataclass(frozen=True, slots=True)
class Term:
    """One licence, with the exception it is granted ``WITH``, if any."""

    license: str
    exception: str | None = None

    def __str__(self) -> str:
        return self.license if self.exception is None else f"{self.license} WITH {self.exception}"


@dataclass(frozen=True, slots=True)
class AllOf:
    """``A AND B``: every part applies."""

    terms: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """``A OR B``: the licensee may choose any one part."""

    terms: tuple[Node, ...]


Node = Term | AllOf | AnyOf


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed, valid expression: its normalised text and its tree."""

    text: str
    tree: Node

    @property
    def terms(self) -> tuple[Term, ...]:
        """Every licence term, in written order (repeats included)."""
        return tuple(_walk(self.tree))


@dataclass(frozen=True, slots=True)
class _Index:
    licensing: Any  # license_expression.Licensing over the canonical SPDX ids
    with_exception: type[Any]  # license_expression.LicenseWithExceptionSymbol
    symbol: type[Any]  # license_expression.LicenseSymbol
    parse_errors: tuple[type[Exception], ...]
    tokens: dict[str, str]  # lower-cased SPDX id or deprecated SPDX id -> canonical id
    categories: dict[str, str]  # canonical id -> ScanCode category
    exceptions: frozenset[str]  # canonical ids of licence exceptions


def _aliases(entry: dict[str, Any]) -> list[str]:
    """The alternative keys of an index entry that are (deprecated) SPDX ids, see the module doc."""
    kept = []
    for alias in entry.get("other_spdx_license_keys") or ():
        if not isinstance(alias, str) or not _ID_SYNTAX.match(alias):
            continue
        if alias.lower().startswith("licenseref-") or alias.lower() in _NOT_SPDX_ALIASES:
            continue
        kept.append(alias)
    return kept


@functools.cache
def _index() -> _Index:
    """Load the vendored index once per process (see the module doc for why lazily)."""
    import license_expression

    entries: list[dict[str, Any]] = license_expression.get_license_index()
    tokens: dict[str, str] = {}
    categories: dict[str, str] = {}
    exceptions: set[str] = set()
    symbols = []
    for entry in entries:
        key = entry.get("spdx_license_key")
        if not key:  # deprecated ScanCode keys carry none
            continue
        symbols.append(license_expression.LicenseSymbol(key=key, is_exception=bool(entry.get("is_exception"))))
        tokens[key.lower()] = key
        categories[key] = entry["category"]
        if entry.get("is_exception"):
            exceptions.add(key)
    for entry in entries:
        key = entry.get("spdx_license_key")
        if key:
            for alias in _aliases(entry):
                tokens.setdefault(alias.lower(), key)  # a canonical id always wins over an alias
    return _Index(
        licensing=license_expression.Licensing(symbols),
        with_exception=license_expression.LicenseWithExceptionSymbol,
        symbol=license_expression.LicenseSymbol,
        parse_errors=(license_expression.ExpressionError, license_expression.ParseError),
        tokens=tokens,
        categories=categories,
        exceptions=frozenset(exceptions),
    )


def _canonical_tokens(text: str, index: _Index) -> list[str]:
    """Map every id to its canonical spelling and operators to upper case, token by token."""
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        lowered = token.lower()
        if lowered in _OPERATORS:
            out.append(lowered.upper())
        elif token in "()":
            out.append(token)
        else:
            out.append(index.tokens.get(lowered, token))
    return out


class _Syntax:
    """A recursive-descent check of the SPDX grammar, run before the library parses.

    The library (boolean.py underneath) fails on some malformed input with IndexError or
    AssertionError (gone under ``python -O``), so only well-formed token sequences reach it:
    ``expr := and (OR and)*``, ``and := term (AND term)*``, ``term := "(" expr ")" | id [WITH id]``.
    Nesting is bounded so that hostile input cannot exhaust the stack."""

    MAX_DEPTH = 32

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0

    def check(self) -> None:
        self._expression(0)
        if self.position < len(self.tokens):
            raise InvalidExpression(f"unexpected {self.tokens[self.position]!r} after a complete expression")

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _expression(self, depth: int) -> None:
        if depth > self.MAX_DEPTH:
            raise InvalidExpression(f"parentheses nested deeper than {self.MAX_DEPTH}")
        self._conjunction(depth)
        while self._peek() == "OR":
            self.position += 1
            self._conjunction(depth)

    def _conjunction(self, depth: int) -> None:
        self._term(depth)
        while self._peek() == "AND":
            self.position += 1
            self._term(depth)

    def _term(self, depth: int) -> None:
        token = self._peek()
        if token == "(":
            self.position += 1
            self._expression(depth + 1)
            if self._peek() != ")":
                raise InvalidExpression(f"expected ')', found {self._describe()}")
            self.position += 1
            return
        self._identifier()
        if self._peek() == "WITH":
            self.position += 1
            self._identifier()

    def _identifier(self) -> None:
        token = self._peek()
        if token is None or token in ("(", ")", "AND", "OR", "WITH"):
            raise InvalidExpression(f"expected a licence id, found {self._describe()}")
        self.position += 1

    def _describe(self) -> str:
        token = self._peek()
        return "the end" if token is None else repr(token)


def _convert(node: Any, index: _Index) -> Node:
    """The library's boolean tree as our own small immutable one."""
    if isinstance(node, index.with_exception):
        return Term(license=node.license_symbol.key, exception=node.exception_symbol.key)
    if isinstance(node, index.symbol):
        return Term(license=node.key)
    if isinstance(node, index.licensing.AND):
        return AllOf(terms=tuple(_convert(arg, index) for arg in node.args))
    if isinstance(node, index.licensing.OR):
        return AnyOf(terms=tuple(_convert(arg, index) for arg in node.args))
    raise InvalidExpression(f"unsupported construct {type(node).__name__}")


def _walk(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node]
    return [term for part in node.terms for term in _walk(part)]


def parse_expression(text: str) -> Expression:
    """Parse and normalise an SPDX expression; raise :class:`InvalidExpression` when it is not one.

    Ids and operators match case-insensitively (SPDX matches ids so; operators are normalised to
    upper case), deprecated ids become their current form, and ``AND`` binds tighter than ``OR``.

    Results are cached by text, valid or not (an environment repeats the same few declarations,
    and "Apache 2.0" is tried as SPDX before the alias table), and a valid result also under its
    normalised text, which is what :func:`gate.licenses.judge` receives from detection."""
    if len(text) > MAX_EXPRESSION_LENGTH:  # checked before the cache, which must not keep huge keys
        raise InvalidExpression(f"longer than {MAX_EXPRESSION_LENGTH} characters")
    result = _CACHE.get(text)
    if result is None:
        result = _parse(text)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()  # crude but bounded; real environments stay far below the size
        _CACHE[text] = result
        if isinstance(result, Expression):
            _CACHE.setdefault(result.text, result)
    if isinstance(result, str):
        raise InvalidExpression(result)
    return result


_CACHE_SIZE = 8192
_CACHE: dict[str, Expression | str] = {}


def _parse(text: str) -> Expression | str:
    """The parse, or why it failed."""
    index = _index()
    tokens = _canonical_tokens(text, index)
    if not tokens:
        return "empty expression"
    try:
        _Syntax(tokens).check()
    except InvalidExpression as error:
        return str(error)
    try:
        parsed = index.licensing.parse(" ".join(tokens), simple=True, strict=True)
    except index.parse_errors as error:
        return str(error)
    if parsed is None:
        return "empty expression"
    try:
        tree = _convert(parsed, index)
    except InvalidExpression as error:
        return str(error)
    unknown = sorted({term.license for term in _walk(tree)
                      if term.license not in index.categories and not _LICENSE_REF.match(term.license)})
    if unknown:
        return f"unknown licence id(s): {', '.join(unknown)}"
    return Expression(text=str(parsed), tree=tree)


def normalise_id(identifier: str) -> str | None:
    """The canonical SPDX id for a single licence id (case-insensitive, deprecated ids mapped),
    a ``LicenseRef-`` reference verbatim, or None when it is neither (or is an exception id).

    For the policy loader, so that a typo in ``allow`` or ``deny`` is an error, not a rule that
    silently never matches."""
    stripped = identifier.strip()
    index = _index()
    canonical = index.tokens.get(stripped.lower())
    if canonical is not None:
        return None if canonical in index.exceptions else canonical
    return stripped if _LICENSE_REF.match(stripped) else None


def category_of(identifier: str) -> str | None:
    """The ScanCode category of a canonical SPDX id, or None when the index does not know it."""
    return _index().categories.get(identifier)
