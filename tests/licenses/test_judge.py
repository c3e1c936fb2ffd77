"""Judging expressions: AND/OR/WITH semantics, allow/deny lists, categories, unknown categories."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gate.licenses import (
    CATEGORIES,
    Acceptance,
    Failure,
    InvalidExpression,
    Judgement,
    Problem,
    detect,
    judge,
)
from gate.model import LicenseFields

NONE: frozenset[str] = frozenset()
COPYLEFT = frozenset({"Copyleft"})
# The allow list and categories of the design's production example.
ALLOW = frozenset({"MIT", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "ISC", "PSF-2.0", "MPL-2.0"})
PRODUCTION = frozenset({"Copyleft", "Commercial", "Source-available"})


def run(expression: str, *, allow: frozenset[str] | None = None, deny: frozenset[str] = NONE,
        deny_categories: frozenset[str] = NONE) -> Judgement:
    return judge(expression, allow=allow, deny=deny, deny_categories=deny_categories)


def test_or_passes_when_one_side_is_allowed() -> None:
    judgement = run("MIT OR GPL-3.0-only", allow=frozenset({"MIT"}))
    assert judgement.status is Acceptance.ACCEPTED
    assert judgement.chosen == "MIT"
    assert judgement.failures == ()
    # The chosen side is the first acceptable one in written order.
    assert run("GPL-3.0-only OR Apache-2.0 OR MIT", deny_categories=COPYLEFT).chosen == "Apache-2.0"


def test_and_fails_when_one_side_is_in_a_denied_category() -> None:
    judgement = run("MIT AND GPL-3.0-only", deny_categories=COPYLEFT)
    assert judgement.status is Acceptance.REJECTED
    assert judgement.chosen is None
    assert judgement.failures == (Failure(license="GPL-3.0-only", problem=Problem.DENIED_CATEGORY,
                                          category="Copyleft"),)
    assert judgement.failures[0].message == "GPL-3.0-only is in the denied category Copyleft"
    assert judgement.detail == "MIT AND GPL-3.0-only: GPL-3.0-only is in the denied category Copyleft"


def test_copyleft_limited_is_not_copyleft() -> None:
    judgement = run("LGPL-2.1-or-later OR MIT", allow=frozenset({"MIT"}), deny_categories=COPYLEFT)
    assert (judgement.status, judgement.chosen) == (Acceptance.ACCEPTED, "MIT")
    alone = run("LGPL-2.1-or-later", deny_categories=COPYLEFT)
    assert alone.status is Acceptance.ACCEPTED
    assert alone.categories == (("LGPL-2.1-or-later", "Copyleft Limited"),)


def test_gpl_package_is_blocked_by_copyleft() -> None:
    # mysqlclient's declared licence
    judgement = run("GPL-2.0-or-later", allow=ALLOW, deny_categories=PRODUCTION)
    assert judgement.status is Acceptance.REJECTED
    assert [f.problem for f in judgement.failures] == [Problem.DENIED_CATEGORY]
    # a GPL classifier, through detection
    detected = detect(LicenseFields(classifiers=("License :: OSI Approved :: GNU General Public License v3 (GPLv3)",)),
                      ecosystem="pypi")
    assert detected.expression == "GPL-3.0-only"
    assert run(detected.expression, deny_categories=COPYLEFT).status is Acceptance.REJECTED


def test_nested_and_or() -> None:
    judgement = run("MIT AND (GPL-3.0-only OR Apache-2.0)", deny_categories=COPYLEFT)
    assert (judgement.status, judgement.chosen) == (Acceptance.ACCEPTED, "MIT AND Apache-2.0")
    # AND binds tighter than OR
    judgement = run("MIT OR GPL-3.0-only AND Apache-2.0", allow=frozenset({"Apache-2.0", "GPL-3.0-only"}))
    assert judgement.expression == "MIT OR (GPL-3.0-only AND Apache-2.0)"
    assert (judgement.status, judgement.chosen) == (Acceptance.ACCEPTED, "GPL-3.0-only AND Apache-2.0")
    rejected = run("(MIT OR GPL-3.0-only) AND (AGPL-3.0-only OR SSPL-1.0)", deny_categories=PRODUCTION)
    assert rejected.status is Acceptance.REJECTED
    assert [(f.license, f.category) for f in rejected.failures] == [
        ("AGPL-3.0-only", "Copyleft"), ("SSPL-1.0", "Source-available")]


def test_with_exception_is_judged_as_the_licence() -> None:
    expression = "GPL-2.0-only WITH Classpath-exception-2.0"
    judgement = run(expression, deny_categories=COPYLEFT)
    assert judgement.status is Acceptance.REJECTED
    assert judgement.failures == (Failure(license="GPL-2.0-only", problem=Problem.DENIED_CATEGORY,
                                          category="Copyleft", exception="Classpath-exception-2.0"),)
    assert "judged without the exception" in judgement.failures[0].message
    accepted = run(f"{expression} OR MIT", allow=frozenset({"GPL-2.0-only"}))
    assert (accepted.status, accepted.chosen) == (Acceptance.ACCEPTED, expression)
    assert accepted.categories == (("GPL-2.0-only", "Copyleft"), ("MIT", "Permissive"))


def test_deny_list_wins_over_allow() -> None:
    judgement = run("MIT", allow=frozenset({"MIT"}), deny=frozenset({"MIT"}))
    assert judgement.failures == (Failure(license="MIT", problem=Problem.DENIED, category="Permissive"),)
    assert judgement.failures[0].message == "MIT is denied by the policy"
    assert run("MIT OR Apache-2.0", deny=frozenset({"MIT"})).chosen == "Apache-2.0"


def test_allow_list() -> None:
    judgement = run("BSD-3-Clause AND 0BSD AND MIT AND Zlib AND CC0-1.0", allow=ALLOW, deny_categories=PRODUCTION)
    assert judgement.status is Acceptance.REJECTED
    assert [(f.license, f.problem) for f in judgement.failures] == [
        ("0BSD", Problem.NOT_ALLOWED), ("Zlib", Problem.NOT_ALLOWED), ("CC0-1.0", Problem.NOT_ALLOWED)]
    assert judgement.failures[0].message == "0BSD is not in the allowed licences"


def test_allow_none_means_no_allow_list() -> None:
    assert run("Zlib AND CC0-1.0 AND LicenseRef-scancode-public-domain").status is Acceptance.ACCEPTED
    assert run("GPL-3.0-only", allow=None).status is Acceptance.ACCEPTED
    assert run("MIT", allow=frozenset()).status is Acceptance.REJECTED


def test_unknown_category_is_a_distinct_outcome_when_categories_are_denied() -> None:
    judgement = run("LicenseRef-Acme-Internal", deny_categories=COPYLEFT)
    assert judgement.status is Acceptance.UNKNOWN
    assert judgement.failures == (Failure(license="LicenseRef-Acme-Internal", problem=Problem.UNKNOWN_CATEGORY),)
    assert judgement.categories == (("LicenseRef-Acme-Internal", None),)
    # without denied categories there is nothing the category could decide
    assert run("LicenseRef-Acme-Internal").status is Acceptance.ACCEPTED
    # ... but an allow list or deny list still applies, and decides before the category is needed
    assert run("LicenseRef-Acme-Internal", allow=ALLOW, deny_categories=COPYLEFT).status is Acceptance.REJECTED
    assert run("LicenseRef-Acme-Internal", deny=frozenset({"LicenseRef-Acme-Internal"}),
               deny_categories=COPYLEFT).status is Acceptance.REJECTED


def test_unknown_combines_three_valued() -> None:
    unknown = "LicenseRef-Acme-Internal"
    assert run(f"MIT OR {unknown}", deny_categories=COPYLEFT).status is Acceptance.ACCEPTED
    assert run(f"MIT AND {unknown}", deny_categories=COPYLEFT).status is Acceptance.UNKNOWN
    rejected = run(f"GPL-3.0-only AND {unknown}", deny_categories=COPYLEFT)
    assert [f.license for f in rejected.failures] == ["GPL-3.0-only"]
    either = run(f"GPL-3.0-only OR {unknown}", deny_categories=COPYLEFT)
    assert either.status is Acceptance.UNKNOWN
    assert [f.problem for f in either.failures] == [Problem.DENIED_CATEGORY, Problem.UNKNOWN_CATEGORY]


def test_policy_ids_are_canonicalised_and_checked() -> None:
    assert run("GPL-2.0-only", deny=frozenset({"gpl-2.0"})).status is Acceptance.REJECTED
    assert run("Apache-2.0", allow=frozenset({"apache-2.0"})).status is Acceptance.ACCEPTED
    with pytest.raises(ValueError, match="deny: not SPDX licence ids: GPL3"):
        run("MIT", deny=frozenset({"GPL3"}))
    with pytest.raises(ValueError, match=r"allow: not SPDX licence ids: Classpath-exception-2\.0"):
        run("MIT", allow=frozenset({"Classpath-exception-2.0"}))
    with pytest.raises(ValueError, match="deny_categories: not ScanCode categories: copyleft"):
        run("MIT", deny_categories=frozenset({"copyleft"}))


def test_invalid_expression_raises() -> None:
    with pytest.raises(InvalidExpression):
        run("MIT AND")
    with pytest.raises(InvalidExpression):
        run("BSD")


def test_input_is_normalised() -> None:
    judgement = run("mit or gpl-2.0+")
    assert judgement.expression == "MIT OR GPL-2.0-or-later"


def test_real_environment_under_the_production_policy() -> None:
    # certifi (MPL-2.0) passes: Copyleft Limited is not denied; cvss (LGPLv3+) is not allowed;
    # cryptography is taken under its first alternative; regex bundles CNRI-Python.
    verdicts = {
        name: run(expression, allow=ALLOW, deny_categories=PRODUCTION)
        for name, expression in {"certifi": "MPL-2.0", "cvss": "LGPL-3.0-or-later",
                                 "cryptography": "Apache-2.0 OR BSD-3-Clause", "regex": "Apache-2.0 AND CNRI-Python",
                                 "greenlet": "MIT AND PSF-2.0"}.items()
    }
    assert {name: v.status for name, v in verdicts.items()} == {
        "certifi": Acceptance.ACCEPTED, "cvss": Acceptance.REJECTED, "cryptography": Acceptance.ACCEPTED,
        "regex": Acceptance.REJECTED, "greenlet": Acceptance.ACCEPTED}
    assert verdicts["cryptography"].chosen == "Apache-2.0"
    assert verdicts["greenlet"].chosen == "MIT AND PSF-2.0"
    assert [f.license for f in verdicts["regex"].failures] == ["CNRI-Python"]


_IDS = st.sampled_from(["MIT", "Apache-2.0", "GPL-3.0-only", "LGPL-2.1-or-later", "SSPL-1.0", "CC0-1.0",
                        "LicenseRef-Acme", "GPL-2.0-only WITH Classpath-exception-2.0"])


@st.composite
def _expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 2 or draw(st.booleans()):
        return draw(_IDS)
    operator = draw(st.sampled_from([" AND ", " OR "]))
    parts = draw(st.lists(_expressions(depth + 1), min_size=2, max_size=3))
    return "(" + operator.join(parts) + ")"


@given(_expressions(), st.frozensets(st.sampled_from(sorted(CATEGORIES))),
       st.none() | st.frozensets(st.sampled_from(["MIT", "Apache-2.0", "GPL-3.0-only", "LicenseRef-Acme"])))
def test_chosen_alternative_is_itself_accepted(expression: str, categories: frozenset[str],
                                               allow: frozenset[str] | None) -> None:
    judgement = run(expression, allow=allow, deny_categories=categories)
    if judgement.status is Acceptance.ACCEPTED:
        assert judgement.chosen is not None
        assert run(judgement.chosen, allow=allow, deny_categories=categories).status is Acceptance.ACCEPTED
    else:
        assert judgement.chosen is None and judgement.failures
        unknown = [f.problem is Problem.UNKNOWN_CATEGORY for f in judgement.failures]
        # a rejection rests on rejected terms only; an unknown on at least one unknown term
        assert not any(unknown) if judgement.status is Acceptance.REJECTED else any(unknown)
