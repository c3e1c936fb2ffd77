from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from gate.advisories import (
    AFFECTED,
    NOT_AFFECTED,
    AffectedPackage,
    Event,
    EventKind,
    MatchResult,
    Range,
    entries_affect,
    entry_affects,
    range_affects,
    ranges_affect,
)

MULTI: Range = (("introduced", "2.0.0a1"), ("fixed", "2.0.1"), ("introduced", "0"), ("fixed", "1.0.5"),
                ("introduced", "1.1.0"), ("fixed", "1.1.3"))


def affected(version: str, events: Range) -> bool:
    result = range_affects(Version(version), events)
    assert result.uncertain is None
    return result.affected


@pytest.mark.parametrize(("version", "expected"), [
    ("0.1", True), ("1.0.4", True), ("1.0.5", False), ("1.0.6", False), ("1.1.0rc1", False), ("1.1.0", True),
    ("1.1.2", True), ("1.1.3", False), ("1.9", False),
    ("2.0.0.dev1", False),  # below the first pre-release that introduced it
    ("2.0.0a1", True), ("2.0.0b3", True), ("2.0.0rc1", True), ("2.0.0", True), ("2.0.0.post1", True),
    ("2.0.1rc1", True),  # a pre-release of the fix still has the bug
    ("2.0.1", False), ("3", False),
])
def test_several_introduced_fixed_pairs_out_of_order(version: str, expected: bool) -> None:
    assert affected(version, MULTI) is expected


@pytest.mark.parametrize(("version", "expected"), [
    ("0.9", False), ("1.0", True), ("1.4.2", True), ("1.4.2.0", True), ("1.4.2.post1", False), ("1.4.3", False),
])
def test_last_affected_is_inclusive(version: str, expected: bool) -> None:
    assert affected(version, (("introduced", "1.0"), ("last_affected", "1.4.2"))) is expected


def test_introduced_alone_affects_everything_after() -> None:
    assert affected("0.0.0.dev0", (("introduced", "0"),))
    assert not affected("0.9", (("introduced", "1.0"),))
    assert affected("99", (("introduced", "1.0"),))


def test_equal_versions_keep_record_order() -> None:
    assert not affected("1.0", (("introduced", "1.0"), ("fixed", "1.0")))  # an empty range
    assert affected("1.0", (("introduced", "0"), ("fixed", "1.0"), ("introduced", "1.0")))  # reintroduced


def test_local_versions_are_judged_on_their_public_part() -> None:
    assert ranges_affect("1.1.2+cu118", [MULTI]) == AFFECTED
    assert ranges_affect("1.0.5+cu118", [MULTI]) == NOT_AFFECTED  # 1.0.5+cu118 > 1.0.5 as a Version
    assert ranges_affect(Version("2.0.1+local"), [MULTI]) == NOT_AFFECTED


def test_unparsable_fixed_makes_affected_uncertain() -> None:
    events: Range = (("introduced", "0"), ("last_affected", "2.6.0-NA"))
    assert ranges_affect("2.5.1", [events]) == MatchResult(
        affected=True, uncertain="advisory range bound '2.6.0-NA' is not a PEP 440 version")
    assert ranges_affect("3.0", [events]).uncertain is not None


def test_unparsable_fixed_cannot_make_an_unaffected_version_affected() -> None:
    events: Range = (("introduced", "1.0"), ("fixed", "2019-09-12"))
    assert ranges_affect("0.5", [events]) == NOT_AFFECTED
    assert ranges_affect("1.5", [events]).uncertain == "advisory range bound '2019-09-12' is not a PEP 440 version"


def test_unparsable_introduced_cannot_make_an_affected_version_unaffected() -> None:
    events: Range = (("introduced", "0"), ("fixed", "1.0"), ("introduced", "2.0-NA"), ("fixed", "3.0"))
    assert ranges_affect("0.5", [events]) == AFFECTED
    assert ranges_affect("2.5", [events]).uncertain == "advisory range bound '2.0-NA' is not a PEP 440 version"
    assert ranges_affect("1.5", [events]).affected  # 2.0-NA could sort anywhere


def test_several_bad_bounds_are_all_named() -> None:
    events: Range = (("introduced", "0"), ("last_affected", "2.5.0-NA"), ("last_affected", "2.7.1-NA"))
    assert ranges_affect("1", [events]).uncertain == (
        "advisory range bounds '2.5.0-NA', '2.7.1-NA' are not PEP 440 versions")


def test_exact_range_wins_over_uncertain_one() -> None:
    uncertain: Range = (("introduced", "0"), ("fixed", "x-y"))
    exact: Range = (("introduced", "1.0"), ("fixed", "2.0"))
    assert ranges_affect("1.5", [uncertain, exact]) == AFFECTED
    assert ranges_affect("2.5", [uncertain, exact]).uncertain is not None


def test_unparsable_candidate_against_ranges() -> None:
    assert ranges_affect("2.0.1rc2-git", [MULTI]) == MatchResult(
        affected=True, uncertain="installed version '2.0.1rc2-git' is not a PEP 440 version")
    assert ranges_affect("2.0.1rc2-git", []) == NOT_AFFECTED


def test_versions_list_by_string_or_equal_version() -> None:
    entry = AffectedPackage(name="a", versions=("1.0", "2.0.1rc2-git", "3.0+cpu"))
    assert entry_affects("1.0", entry) == AFFECTED
    assert entry_affects("1.0.0", entry) == AFFECTED  # equal as versions
    assert entry_affects("1.0+cu118", entry) == AFFECTED  # public part listed
    assert entry_affects("2.0.1rc2-git", entry) == AFFECTED  # unparsable, but listed verbatim
    assert entry_affects("3.0.0+cpu", entry) == AFFECTED  # the same local version
    assert entry_affects("3.0", entry) == NOT_AFFECTED  # only that local build is listed
    assert entry_affects("1.1", entry) == NOT_AFFECTED
    assert entry_affects("2.0.1rc2-gat", entry) == NOT_AFFECTED  # a list is exact


def test_listed_version_makes_an_uncertain_range_certain() -> None:
    entry = AffectedPackage(name="t", ranges=((("introduced", "0"), ("last_affected", "2.6.0-NA")),),
                            versions=("2.5.0",))
    assert entry_affects("2.5.0", entry) == AFFECTED
    assert entry_affects("2.5.1", entry).uncertain is not None


def test_listed_version_outside_the_ranges_still_matches() -> None:
    entry = AffectedPackage(name="d", ranges=((("introduced", "3.2"), ("fixed", "3.2.19")),), versions=("3.2a1",))
    assert entry_affects("3.2a1", entry) == AFFECTED


def test_git_only_entry_matches_through_its_list() -> None:
    entry = AffectedPackage(name="g", versions=("0.9", "1.0"), skipped=("GIT",))
    assert entry_affects("1.0", entry) == AFFECTED
    assert entry_affects("1.1", entry) == NOT_AFFECTED
    assert entry_affects("weird", entry) == NOT_AFFECTED


def test_entry_without_anything_usable_is_uncertain() -> None:
    assert entry_affects("1.0", AffectedPackage(name="g", skipped=("GIT",))) == MatchResult(
        affected=True, uncertain="advisory gives only GIT ranges, not PyPI versions")
    assert entry_affects("1.0", AffectedPackage(name="n")) == MatchResult(
        affected=True, uncertain="advisory names the package without affected versions")


def test_any_entry_is_enough_and_exact_beats_uncertain() -> None:
    first = AffectedPackage(name="s", ranges=((("introduced", "0"), ("fixed", "1.0")),))
    second = AffectedPackage(name="s", ranges=((("introduced", "2.0"), ("fixed", "2.1")),))
    vague = AffectedPackage(name="s")
    assert entries_affect("0.5", [first, second]) == AFFECTED
    assert entries_affect("2.0.5", [first, second]) == AFFECTED
    assert entries_affect("1.5", [first, second]) == NOT_AFFECTED
    assert entries_affect("0.5", [vague, first]) == AFFECTED
    assert entries_affect("1.5", [vague, first]).uncertain is not None
    assert entries_affect("1.5", []) == NOT_AFFECTED


# --- properties: the event replay against a plain interval model -------------------------

KINDS: tuple[EventKind, ...] = ("introduced", "fixed", "last_affected")
releases = st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 3)).map(lambda t: ".".join(map(str, t)))
suffixes = st.sampled_from(["", "a1", "b2", "rc1", ".post1", ".dev0"])
versions = st.builds(lambda base, suffix: Version(f"{base}{suffix}"), releases, suffixes)


@st.composite
def disjoint_intervals(draw: st.DrawFn) -> list[tuple[Version, Version, bool]]:
    """Sorted, non-touching [start, end) or [start, end] intervals."""
    bounds = sorted(set(draw(st.lists(versions, min_size=2, max_size=8))))
    if len(bounds) % 2:
        bounds = bounds[:-1]
    return [(bounds[i], bounds[i + 1], draw(st.booleans())) for i in range(0, len(bounds) - 1, 2)
            if bounds[i] < bounds[i + 1]]


@settings(max_examples=300, deadline=None)
@given(disjoint_intervals(), versions, st.randoms(use_true_random=False))
def test_replay_equals_interval_model(intervals: list[tuple[Version, Version, bool]], version: Version,
                                      shuffle: random.Random) -> None:
    events: list[Event] = []
    for start, end, inclusive in intervals:
        events += [("introduced", str(start)), ("last_affected" if inclusive else "fixed", str(end))]
    shuffle.shuffle(events)  # the record's order must not matter when bounds are distinct
    expected = any(start <= version < end or (inclusive and version == end) for start, end, inclusive in intervals)
    assert range_affects(version, tuple(events)) == (AFFECTED if expected else NOT_AFFECTED)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(KINDS), versions), max_size=6), st.sampled_from(KINDS), versions)
def test_unparsable_bound_answer_is_sound(events: list[tuple[EventKind, Version]], bad_kind: EventKind,
                                          version: Version) -> None:
    """Whatever version the unparsable bound stands for, an exact answer must be right."""
    known: Range = tuple((kind, str(bound)) for kind, bound in events)
    answer = range_affects(version, (*known, (bad_kind, "x-unparsable")))
    if answer.uncertain is not None:
        return
    for stand_in in ("0.0.0.dev0", "1.0", "2.2", "3.1a1", "9"):
        assert range_affects(version, (*known, (bad_kind, stand_in))).affected == answer.affected
