"""``registry``: what only the approved index knows of each release: that it serves it, when it
was uploaded, whether it was yanked, and the hashes of its files.

Pure: the index's answers arrive as :class:`~gate.model.RegistryFacts` in the context, fetched
(or taken from the cache) by :func:`gate.registry.fetch_registry_facts`. Which packages are
judged is :func:`gate.registry.facts.is_index_release`: Python packages from an index (or of
unknown origin). VCS checkouts, URLs, paths, editables and conda packages are not releases of an
index; ``sources`` judges those, and this rule only says in a note that it skipped them.

Outcomes, each blocking (fail closed: what the index cannot vouch for does not pass):

- ``registry.unpinned``: a package without an exact version has no release to look up.
- ``registry.missing``: the approved index does not serve that release (or the project).
- ``registry.forbid_yanked``: the release is yanked (every file of it; see the facts module).
- ``registry.min_release_age_days``: the release is younger than the quarantine, or the index
  gives no upload time for it, so its age cannot be shown.
- ``registry.verify_hashes``: a locked hash the index does not serve for that release, or a
  package with no locked hash at all. An installed environment records no artifact hash for
  what it installed from an index (only RECORD's per-file hashes, which no index serves), so
  there the rule cannot apply: it says so in one note instead of blocking every package; the
  lockfile the environment was built from is what ``verify_hashes`` is for.
"""

from __future__ import annotations

import datetime as dt

from gate.clock import format_instant, parse_instant
from gate.errors import ServiceError
from gate.model import Package, RegistryFacts, ReleaseFacts, Status, Violation
from gate.policy.model import RegistryRules
from gate.policy.rules.base import Context, Outcome
from gate.registry.facts import is_index_release

# Environment kinds read from installed distributions (the venv and site-packages readers):
# their packages carry no locked artifact hashes.
INSTALLED_KINDS = frozenset({"venv", "site-packages"})
_MAX_NAMES = 10


class RegistryRule:
    section = "registry"

    def check(self, context: Context) -> Outcome:
        rules = context.policy.registry
        if rules is None:
            return Outcome()
        facts = context.registry
        if facts is None:
            raise ServiceError("the policy has a registry section, but the index's answers were not fetched",
                               where=rules.url)
        by_release = {(release.name, release.version): release for release in facts.releases}
        installed = context.environment.kind in INSTALLED_KINDS
        violations: list[Violation] = []
        skipped: list[Package] = []
        unverifiable = 0
        checked = 0
        for package in context.environment.packages:
            if not is_index_release(package):
                skipped.append(package)
                continue
            if package.version is None:
                violations.append(_violation("registry.unpinned", package, (
                    f"not pinned ({package.specifier or 'any version'}): the index's facts are per release, so there "
                    "is nothing to look up; pin an exact version")))
                continue
            release = by_release.get((package.name, package.version))
            if release is None:
                violations.append(_missing(package, facts))
                continue
            checked += 1
            if rules.forbid_yanked and release.yanked is not None:
                reason = f"reason given: {release.yanked!r}" if release.yanked else "no reason given"
                violations.append(_violation("registry.forbid_yanked", package, (
                    f"yanked from {facts.url} ({reason}): a yanked release is one its authors withdrew; move to a "
                    "release that is not yanked")))
            if rules.min_release_age_days is not None:
                violation = _too_young(package, release, rules.min_release_age_days, context.now, facts.url)
                if violation is not None:
                    violations.append(violation)
            if rules.verify_hashes:
                if installed and not package.hashes:
                    unverifiable += 1
                else:
                    violation = _unverified(package, release, facts.url)
                    if violation is not None:
                        violations.append(violation)
        return Outcome(violations=tuple(violations),
                       notes=_notes(facts, rules, checked=checked, skipped=skipped, unverifiable=unverifiable))


def _violation(rule: str, package: Package, detail: str) -> Violation:
    return Violation(rule=rule, package=package, status=Status.BLOCKING, detail=detail)


def _missing(package: Package, facts: RegistryFacts) -> Violation:
    locked_from = ""
    if package.source.url and package.source.url.rstrip("/") != facts.url:
        locked_from = f" (it was locked from {package.source.url})"
    if (package.name, package.version) in facts.missing:
        detail = (f"the approved index {facts.url} does not serve this release{locked_from}: a release the index does "
                  "not serve was never vetted there; lock a version it serves, or have this one added to it")
    else:
        detail = f"the approved index {facts.url} was not asked about this release, so nothing vouches for it"
    return _violation("registry.missing", package, detail)


def _too_young(package: Package, release: ReleaseFacts, days: int, now: dt.datetime, url: str) -> Violation | None:
    if release.upload_time is None:
        return _violation("registry.min_release_age_days", package, (
            f"{url} gives no upload time (PEP 700 upload-time) for this release, so its age cannot be shown to be "
            f"at least {days} day(s); use an index that serves upload times"))
    try:
        uploaded = parse_instant(release.upload_time)
    except ValueError:
        return _violation("registry.min_release_age_days", package, (
            f"the upload time {release.upload_time!r} given by {url} is not a timestamp, so the release's age "
            f"cannot be shown to be at least {days} day(s)"))
    age = now - uploaded
    if age >= dt.timedelta(days=days):
        return None
    return _violation("registry.min_release_age_days", package, (
        f"uploaded {format_instant(uploaded)}, {max(age.days, 0)} day(s) ago: the policy quarantines releases younger "
        f"than {days} day(s); it may be promoted from {format_instant(uploaded + dt.timedelta(days=days))}, or pin "
        "an older release"))


def _unverified(package: Package, release: ReleaseFacts, url: str) -> Violation | None:
    if not package.hashes:
        return _violation("registry.verify_hashes", package, (
            "no locked hash: the artifact cannot be shown to be one the approved index serves; lock with hashes "
            "(for example `uv pip compile --generate-hashes` or `pip-compile --generate-hashes`)"))
    locked = {(algorithm.lower(), digest.lower()) for algorithm, digest in package.hashes}
    unserved = sorted(locked - set(release.hashes))
    if not unserved:
        return None
    served_algorithms = {algorithm for algorithm, _ in release.hashes}
    foreign = sorted({algorithm for algorithm, _ in unserved} - served_algorithms)
    why = f"; the index gives no {', '.join(foreign)} hashes" if foreign else ""
    shown = ", ".join(f"{algorithm}:{digest}" for algorithm, digest in unserved)
    return _violation("registry.verify_hashes", package, (
        f"{len(unserved)} of {len(locked)} locked hash(es) are not served by {url} for this release ({shown}){why}: "
        "the locked artifact is not one the approved index serves; re-lock against the approved index"))


def _notes(facts: RegistryFacts, rules: RegistryRules, *, checked: int, skipped: list[Package],
           unverifiable: int) -> tuple[str, ...]:
    notes = [f"registry: {checked} release(s) checked against {facts.url}."]
    if facts.from_cache:
        notes.append(f"registry: answers from {facts.url} were taken from the on-disk cache instead of asking the "
                     f"index; the oldest was fetched at {facts.fetched_at}.")
    if skipped:
        names = [f"{p.name} ({p.source.kind.value if p.ecosystem == 'pypi' else p.ecosystem})"
                 for p in skipped[:_MAX_NAMES]]
        more = f" and {len(skipped) - _MAX_NAMES} more" if len(skipped) > _MAX_NAMES else ""
        notes.append(f"registry: {len(skipped)} package(s) are not index releases and were not looked up "
                     f"(`sources` judges where they came from): {', '.join(names)}{more}.")
    if rules.verify_hashes and unverifiable:
        notes.append(f"registry.verify_hashes: {unverifiable} installed package(s) were not verified: an installed "
                     "environment records no artifact hashes, so verify_hashes needs the lockfile with hashes "
                     "(check it with --lockfile).")
    return tuple(notes)
