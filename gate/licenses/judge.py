"""Is a licence expression acceptable under a policy? Real AND/OR semantics, three outcomes.

A single licence is acceptable when it is not denied by id, its ScanCode category is not
denied, and (when there is an allow list) it is allowed. ``A OR B`` is acceptable when the
licensee can choose an acceptable side; ``A AND B`` needs both. ``X WITH exception`` is judged
as ``X``: an exception only adds permissions, so judging the bare licence can block a package
that the exception would have made acceptable (overrides exist for that), but never passes one
that the licence forbids.

Fail closed on what the index cannot tell: a licence with no known category (a package's own
``LicenseRef-``) cannot be shown to be outside the denied categories, so when categories are
denied it is UNKNOWN, a third outcome the policy maps through its ``unknown`` setting. The
outcomes combine as in Kleene's three-valued logic: AND is rejected if any part is, else unknown
if any part is; OR is accepted if any part is, else unknown if any part is.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import TypeVar

from gate.licenses.spdx import CATEGORIES, AllOf, Node, Term, category_of, normalise_id, parse_expression


class Acceptance(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


class Problem(enum.StrEnum):
    DENIED = "denied"  # the id is in ``deny``
    DENIED_CATEGORY = "denied-category"  # its category is in ``deny_categories``
    NOT_ALLOWED = "not-allowed"  # there is an allow list and the id is not on it
    UNKNOWN_CATEGORY = "unknown-category"  # categories are denied and the index has none for it


@dataclass(frozen=True, kw_only=True, slots=True)
class Failure:
    """One licence term that is not acceptable (or not known to be), and why."""

    license: str
    problem: Problem
    category: str | None = None
    exception: str | None = None  # the WITH exception the term carried, which was not judged

    @property
    def message(self) -> str:
        subject = self.license
        if self.exception is not None:
            subject = f"{self.license} (WITH {self.exception}, judged without the exception)"
        match self.problem:
            case Problem.DENIED:
                return f"{subject} is denied by the policy"
            case Problem.DENIED_CATEGORY:
                return f"{subject} is in the denied category {self.category}"
            case Problem.NOT_ALLOWED:
                return f"{subject} is not in the allowed licences"
            case Problem.UNKNOWN_CATEGORY:
                return (f"{subject} has no category in the ScanCode licence index, so it cannot be shown "
                        "to be outside the denied categories")


@dataclass(frozen=True, kw_only=True, slots=True)
class Judgement:
    """The verdict on one expression.

    ``chosen`` (when accepted) is what the package is taken under: for every OR, the first
    acceptable alternative in written order, so ``MIT OR GPL-3.0-only`` is taken under ``MIT``.
    ``failures`` (when not accepted) are the terms that decide it: for a rejection the rejected
    terms; for an unknown the unknown ones (and, under an OR, the rejected alternatives too).
    ``categories`` gives every licence id in the expression with its ScanCode category."""

    expression: str
    status: Acceptance
    chosen: str | None = None
    failures: tuple[Failure, ...] = ()
    categories: tuple[tuple[str, str | None], ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status is Acceptance.ACCEPTED

    @property
    def detail(self) -> str:
        """One line for a report or a violation."""
        if self.status is Acceptance.ACCEPTED:
            return f"{self.expression}: accepted under {self.chosen}"
        return f"{self.expression}: " + "; ".join(failure.message for failure in self.failures)


@dataclass(frozen=True, slots=True)
class _Policy:
    allow: frozenset[str] | None
    deny: frozenset[str]
    deny_categories: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: Acceptance
    chosen: tuple[Term, ...] = ()
    failures: tuple[Failure, ...] = ()


_T = TypeVar("_T")


def _unique(items: list[_T]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(items))


@functools.lru_cache(maxsize=4096)
def _term(term: Term, policy: _Policy) -> _Outcome:
    category = category_of(term.license)
    problem: Problem | None = None
    if term.license in policy.deny:
        problem = Problem.DENIED
    elif category is not None and category in policy.deny_categories:
        problem = Problem.DENIED_CATEGORY
    elif policy.allow is not None and term.license not in policy.allow:
        problem = Problem.NOT_ALLOWED
    elif category is None and policy.deny_categories:
        failure = Failure(license=term.license, problem=Problem.UNKNOWN_CATEGORY, exception=term.exception)
        return _Outcome(Acceptance.UNKNOWN, failures=(failure,))
    if problem is None:
        return _Outcome(Acceptance.ACCEPTED, chosen=(term,))
    failure = Failure(license=term.license, problem=problem, category=category, exception=term.exception)
    return _Outcome(Acceptance.REJECTED, failures=(failure,))


def _evaluate(node: Node, policy: _Policy) -> _Outcome:
    if isinstance(node, Term):
        return _term(node, policy)
    parts = [_evaluate(part, policy) for part in node.terms]
    by_status = {status: [p for p in parts if p.status is status] for status in Acceptance}
    if isinstance(node, AllOf):
        for status in (Acceptance.REJECTED, Acceptance.UNKNOWN):
            if by_status[status]:
                return _Outcome(status, failures=_unique([f for p in by_status[status] for f in p.failures]))
        return _Outcome(Acceptance.ACCEPTED, chosen=_unique([t for p in parts for t in p.chosen]))
    # AnyOf: the licensee picks one side
    if by_status[Acceptance.ACCEPTED]:
        return _Outcome(Acceptance.ACCEPTED, chosen=by_status[Acceptance.ACCEPTED][0].chosen)
    status = Acceptance.UNKNOWN if by_status[Acceptance.UNKNOWN] else Acceptance.REJECTED
    return _Outcome(status, failures=_unique([f for p in parts for f in p.failures]))


@functools.lru_cache(maxsize=256)
def _canonical_ids(ids: frozenset[str], role: str) -> frozenset[str]:
    """Policy ids in canonical form; an id that is not one is an error, since a misspelt ``deny``
    entry would otherwise never match anything."""
    canonical = {identifier: normalise_id(identifier) for identifier in ids}
    bad = sorted(identifier for identifier, value in canonical.items() if value is None)
    if bad:
        raise ValueError(f"{role}: not SPDX licence ids: {', '.join(bad)}")
    return frozenset(value for value in canonical.values() if value is not None)


@functools.lru_cache(maxsize=8192)
def _judge(expression: str, allow: frozenset[str] | None, deny: frozenset[str],
           deny_categories: frozenset[str]) -> Judgement:
    unknown_categories = sorted(deny_categories - CATEGORIES)
    if unknown_categories:
        raise ValueError(f"deny_categories: not ScanCode categories: {', '.join(unknown_categories)} "
                         f"(known: {', '.join(sorted(CATEGORIES))})")
    policy = _Policy(allow=None if allow is None else _canonical_ids(allow, "allow"),
                     deny=_canonical_ids(deny, "deny"), deny_categories=deny_categories)
    parsed = parse_expression(expression)
    outcome = _evaluate(parsed.tree, policy)
    categories = tuple((license, category_of(license)) for license in _unique([t.license for t in parsed.terms]))
    chosen = " AND ".join(str(term) for term in outcome.chosen) if outcome.status is Acceptance.ACCEPTED else None
    return Judgement(expression=parsed.text, status=outcome.status, chosen=chosen, failures=outcome.failures,
                     categories=categories)


def judge(expression: str, *, allow: frozenset[str] | None, deny: frozenset[str],
          deny_categories: frozenset[str]) -> Judgement:
    """Judge an SPDX expression (as :func:`gate.licenses.detect` returns it) against a policy.

    ``allow`` None means no allow list. Ids in ``allow``/``deny`` are matched in canonical form
    ("apache-2.0" and "GPL-2.0" work); a value that is no SPDX id, or a category that is not a
    ScanCode category, raises ValueError rather than never matching. An invalid expression
    raises :class:`gate.licenses.InvalidExpression`. Results are cached: the same expression
    under the same policy is judged once per process."""
    return _judge(expression, allow, deny, deny_categories)
