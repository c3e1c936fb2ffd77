"""Does an advisory apply to an installed version? OSV's rules for PyPI, on parsed PEP 440
versions.

Versions are compared as :class:`packaging.version.Version`, never as strings and never by
turning a range into a specifier set (OSV ranges are event lists, and several
introduced/fixed pairs or a ``last_affected`` do not survive that translation). A local
version (``2.0.0+cu118``) is judged on its public part: a CUDA build of torch 2.0.0 has the
bugs of torch 2.0.0.

When a version on either side cannot be parsed the answer cannot be exact. The gate then
fails closed: such a match is reported as affected with the reason it is uncertain, and the
policy decides (``uncertain_match``). Where the unparsable part cannot change the answer, the
answer stays exact; see :func:`range_affects`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from gate.advisories.osv import AffectedPackage, EventKind, Range


@dataclass(frozen=True, kw_only=True, slots=True)
class MatchResult:
    affected: bool
    uncertain: str | None = None  # why an affected answer is not exact


NOT_AFFECTED = MatchResult(affected=False)
AFFECTED = MatchResult(affected=True)


@functools.lru_cache(maxsize=65536)
def parse_version(text: str) -> Version | None:
    """A PEP 440 version, or ``None``. Cached: the same bounds recur across many advisories."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


@functools.lru_cache(maxsize=4096)
def public_version(version: Version) -> Version:
    return version if version.local is None else Version(version.public)


def _uncertain_bounds(bounds: Sequence[str]) -> MatchResult:
    if len(bounds) == 1:
        return MatchResult(affected=True, uncertain=f"advisory range bound {bounds[0]!r} is not a PEP 440 version")
    quoted = ", ".join(repr(bound) for bound in bounds)
    return MatchResult(affected=True, uncertain=f"advisory range bounds {quoted} are not PEP 440 versions")


def _event_key(event: tuple[Version | None, EventKind]) -> tuple[Version, ...]:
    return () if event[0] is None else (event[0],)  # introduced "0" sorts before every version


@dataclass(frozen=True, kw_only=True, slots=True)
class _Prepared:
    """A range's events parsed and sorted once, the unparsable bounds set aside."""

    events: tuple[tuple[Version | None, EventKind], ...]
    bad_starts: tuple[str, ...]
    bad_ends: tuple[str, ...]


@functools.lru_cache(maxsize=16384)
def _prepare(events: Range) -> _Prepared:
    known: list[tuple[Version | None, EventKind]] = []
    bad_starts: list[str] = []
    bad_ends: list[str] = []
    for kind, text in events:
        if kind == "introduced" and text == "0":
            known.append((None, kind))
            continue
        bound = parse_version(text)
        if bound is None:
            (bad_starts if kind == "introduced" else bad_ends).append(text)
        else:
            known.append((bound, kind))
    return _Prepared(events=tuple(sorted(known, key=_event_key)), bad_starts=tuple(bad_starts),
                     bad_ends=tuple(bad_ends))


def range_affects(version: Version, events: Range) -> MatchResult:
    """One ECOSYSTEM range, evaluated as the OSV schema specifies.

    Events are sorted by version (introduced ``"0"`` first; equal versions keep the record's
    order) and replayed: ``introduced`` at or below ``version`` makes it affected, ``fixed`` at
    or below it and ``last_affected`` below it make it unaffected. The answer is the state after
    the last event that applies, which is what makes several introduced/fixed pairs work.

    An unparsable bound has an unknown place in that order, so it is left out and the answer
    kept only where it cannot depend on it: an unparsable ``fixed``/``last_affected`` can only
    end an affected stretch (so "unaffected" stays exact and "affected" becomes uncertain), and
    an unparsable ``introduced`` can only start one (so "affected" stays exact and "unaffected"
    becomes uncertain)."""
    prepared = _prepare(events)
    affected = False
    for bound, kind in prepared.events:
        if kind == "introduced":
            if bound is None or version >= bound:
                affected = True
        elif bound is not None and (version >= bound if kind == "fixed" else version > bound):
            affected = False
    if affected:
        return _uncertain_bounds(prepared.bad_ends) if prepared.bad_ends else AFFECTED
    return _uncertain_bounds(prepared.bad_starts) if prepared.bad_starts else NOT_AFFECTED


def ranges_affect(version: Version | str, ranges: Iterable[Range]) -> MatchResult:
    """The ranges alone (no ``versions`` list): affected if any range says so, exact answers
    first. A string version is parsed; an unparsable one makes any range an uncertain match."""
    if isinstance(version, str):
        parsed = parse_version(version)
        if parsed is None:
            return _unparsable_candidate(version) if any(True for _ in ranges) else NOT_AFFECTED
        version = parsed
    public = public_version(version)
    return _strongest(range_affects(public, events) for events in ranges)


def entry_affects(version: str, entry: AffectedPackage) -> MatchResult:
    """One ``affected`` entry: its ``versions`` list, then its ranges.

    A listed version is an exact answer (the string itself, or an equal parsed version, the
    candidate's public part included). Ranges come next. An entry with neither ranges nor a
    list gives no way to tell, so it matches as uncertain."""
    if version in entry.versions:
        return AFFECTED
    parsed = parse_version(version)
    if parsed is not None and entry.versions:
        public = public_version(parsed)
        for listed in entry.versions:
            other = parse_version(listed)
            if other is not None and other in (parsed, public):
                return AFFECTED
    if entry.ranges:
        if parsed is None:
            return _unparsable_candidate(version)
        return ranges_affect(parsed, entry.ranges)
    if entry.versions:
        return NOT_AFFECTED
    if entry.skipped:
        kinds = " and ".join(entry.skipped)
        return MatchResult(affected=True, uncertain=f"advisory gives only {kinds} ranges, not PyPI versions")
    return MatchResult(affected=True, uncertain="advisory names the package without affected versions")


def entries_affect(version: str, entries: Iterable[AffectedPackage]) -> MatchResult:
    """Several entries of one advisory for one package: any entry that matches is enough."""
    return _strongest(entry_affects(version, entry) for entry in entries)


def _strongest(results: Iterable[MatchResult]) -> MatchResult:
    """The first exact "affected", else the first uncertain one, else not affected (lazily)."""
    uncertain: MatchResult | None = None
    for result in results:
        if result.affected and result.uncertain is None:
            return result
        if result.affected and uncertain is None:
            uncertain = result
    return uncertain or NOT_AFFECTED


def _unparsable_candidate(version: str) -> MatchResult:
    return MatchResult(affected=True, uncertain=f"installed version {version!r} is not a PEP 440 version")
