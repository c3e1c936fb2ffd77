"""``drift``: what runs is what was approved.

The candidate is compared with a baseline (``--baseline``: the ``result.json`` of an earlier
check, a lockfile, or an environment) and, for an installed environment, with the ``RECORD``
of each distribution (files edited after installation). Four kinds of difference:

- ``added``: a package the baseline does not have;
- ``removed``: a baseline package the candidate does not have;
- ``changed``: the same package with another version (or set of versions, when a lockfile
  resolves it per platform), another artifact hash, or another source (kind, URL, commit);
- ``modified_files``: installed files that no longer match their ``RECORD``, or cannot be
  checked against one.

Each kind is blocking when ``drift.forbid`` lists it and a warning otherwise: drift is
always reported once the policy has the section.

Packages are matched by ecosystem and name, not by marker: a venv (no markers) is then
comparable with the lockfile it was installed from (markers on the forks), and a project
locked twice for two Pythons is one package with two versions. What is compared only counts
when both sides know it: an artifact hash is a change only when the baseline records hashes
of that algorithm and the candidate's is not among them (a lockfile lists every wheel of a
release, a venv at most the one installed, so the approved set is a superset, not an equal);
a source is a change only when neither side's kind is ``unknown``, and URLs and commits only
when both sides record one.

Fail closed: a policy that forbids added, removed or changed packages with no baseline given
blocks (drift cannot be judged); one that forbids modified files for an installed environment
whose files were not verified blocks. A lockfile has no installed files: that is a note.
"""

from __future__ import annotations

from collections import defaultdict

from gate.model import Environment, ModifiedFile, Package, SourceKind, Status, Violation
from gate.policy.rules.base import Context, Outcome

INSTALLED_KINDS = frozenset({"venv", "site-packages"})
PACKAGE_KINDS = ("added", "removed", "changed")
MODIFIED_FILES = "modified_files"
LISTED_FILES = 5  # per package, in the detail; the rest are counted


class DriftRule:
    section = "drift"

    def check(self, context: Context) -> Outcome:
        rules = context.policy.drift
        if rules is None:
            return Outcome()
        forbid = rules.forbid
        violations: list[Violation] = []
        notes: list[str] = []
        environment = context.environment
        if context.baseline is None:
            needed = [kind for kind in PACKAGE_KINDS if kind in forbid]
            if needed:
                violations.append(Violation(
                    rule="drift", status=Status.BLOCKING,
                    detail=f"no --baseline given, so whether packages were {' or '.join(needed)} since approval "
                           "cannot be judged: pass --baseline with the approved result.json (gate check --out) "
                           "or lockfile"))
            else:
                notes.append("Drift: no --baseline given; the packages were not compared with an approved "
                             "environment.")
        else:
            violations.extend(_compare(environment, context.baseline, forbid))
            notes.extend(_target_note(environment, context.baseline))
        if context.modified_files is not None:
            violations.extend(_modified(environment, context.modified_files, forbid))
        elif MODIFIED_FILES in forbid:
            if environment.kind in INSTALLED_KINDS:
                violations.append(Violation(
                    rule="drift.modified_files", status=Status.BLOCKING,
                    detail="the installed files were not verified against their RECORD, so edits after "
                           "installation cannot be ruled out: run gate check --env on the environment directory"))
            else:
                notes.append("Drift: the input is a lockfile, so there are no installed files to verify "
                             "(modified_files).")
        return Outcome(violations=tuple(violations), notes=tuple(notes))


def _status(kind: str, forbid: frozenset[str]) -> Status:
    return Status.BLOCKING if kind in forbid else Status.WARNING


def _pin(package: Package) -> str:
    if package.version is not None:
        return package.version
    return f"({package.specifier})" if package.specifier else "(unpinned)"


def _compare(environment: Environment, baseline: Environment, forbid: frozenset[str]) -> list[Violation]:
    current = _by_key(environment.packages)
    approved = _by_key(baseline.packages)
    where = f"the baseline {baseline.source}"
    violations: list[Violation] = []
    for key in sorted(current.keys() | approved.keys()):
        now, before = current.get(key, []), approved.get(key, [])
        if not before:
            violations.extend(Violation(
                rule="drift.added", package=package, status=_status("added", forbid),
                detail=f"{package.name} {_pin(package)} is not in {where}: it was added since approval; remove it, "
                       "or approve it by making a new baseline") for package in now)
        elif not now:
            violations.extend(Violation(
                rule="drift.removed", package=package, status=_status("removed", forbid),
                detail=f"{package.name} {_pin(package)} is in {where} but not here: it was removed since approval; "
                       "restore it, or approve the removal by making a new baseline") for package in before)
        else:
            detail = _changes(now, before)
            if detail is not None:
                violations.append(Violation(
                    rule="drift.changed", package=now[0], status=_status("changed", forbid),
                    detail=f"{now[0].name} changed since {where}: {detail}; restore the approved one, or approve "
                           "the change by making a new baseline"))
    return violations


def _by_key(packages: tuple[Package, ...]) -> dict[tuple[str, str], list[Package]]:
    groups: dict[tuple[str, str], list[Package]] = defaultdict(list)
    for package in packages:
        groups[(package.ecosystem, package.name)].append(package)
    for group in groups.values():
        group.sort(key=lambda p: (_pin(p), p.marker or ""))
    return groups


def _changes(now: list[Package], before: list[Package]) -> str | None:
    """What differs between the approved and the current entries of one package, or None."""
    old = [_pin(p) for p in before]
    new = [_pin(p) for p in now]
    if sorted(set(old)) != sorted(set(new)):
        return f"{', '.join(sorted(set(old)))} → {', '.join(sorted(set(new)))}"
    found: list[str] = []
    approved_by_pin: dict[str, list[Package]] = defaultdict(list)
    for package in before:
        approved_by_pin[_pin(package)].append(package)
    for package in now:
        for change in _artifact_changes(package, approved_by_pin[_pin(package)]):
            if change not in found:
                found.append(change)
    return "; ".join(found) if found else None


def _artifact_changes(package: Package, approved: list[Package]) -> list[str]:
    """Hash and source differences of one entry from the approved entries with its version."""
    pin = _pin(package)
    changes: list[str] = []
    approved_hashes: dict[str, set[str]] = defaultdict(set)
    for entry in approved:
        for algorithm, value in entry.hashes:
            approved_hashes[algorithm].add(value)
    for algorithm, value in package.hashes:
        if algorithm in approved_hashes and value not in approved_hashes[algorithm]:
            count = len(approved_hashes[algorithm])
            changes.append(f"{pin} has artifact {algorithm}:{value}, which is not the approved one"
                           if count == 1 else
                           f"{pin} has artifact {algorithm}:{value}, which is none of the {count} approved ones")
    source = package.source
    for entry in approved:
        other = entry.source
        if SourceKind.UNKNOWN in (source.kind, other.kind):
            continue
        if source.kind != other.kind:
            changes.append(f"{pin} comes from {_a(source.kind.value)} source, approved from {_a(other.kind.value)} one"
                           + (f" ({other.url} → {source.url})" if other.url and source.url else ""))
        elif source.url and other.url and source.url.rstrip("/") != other.url.rstrip("/"):
            changes.append(f"{pin} comes from {source.url}, approved from {other.url}")
        elif source.commit and other.commit and source.commit != other.commit:
            changes.append(f"{pin} is commit {source.commit}, approved at {other.commit}")
        else:
            continue
        break  # one source difference per entry is enough to say
    return changes


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _target_note(environment: Environment, baseline: Environment) -> list[str]:
    """Say when the baseline was judged for another interpreter or platform: the comparison
    then mixes what the target changes with what the environment changes."""
    differing = [
        f"{name} {before} then, {now} now"
        for name, before, now in (("python", baseline.target.python, environment.target.python),
                                  ("platform", baseline.target.platform, environment.target.platform))
        if before and now and before != now]
    if not differing:
        return []
    return [f"Drift: the baseline was judged for another target ({'; '.join(differing)})."]


def _modified(environment: Environment, files: tuple[ModifiedFile, ...], forbid: frozenset[str]) -> list[Violation]:
    """One violation per distribution, listing its first files."""
    by_package: dict[str, list[ModifiedFile]] = defaultdict(list)
    for item in files:
        by_package[item.package].append(item)
    packages = {package.name: package for package in environment.packages}
    status = _status(MODIFIED_FILES, forbid)
    violations = []
    for name in sorted(by_package):
        items = sorted(by_package[name], key=lambda f: f.path)
        unverifiable = [f for f in items if f.problem.startswith("not verifiable")]
        if len(unverifiable) == len(items):
            lead = f"installed files of {name} cannot be verified against its RECORD"
            fix = f"reinstall {name} with an installer that writes a complete RECORD (pip, uv)"
        else:
            changed = len(items) - len(unverifiable)
            lead = f"{changed} installed file(s) of {name} no longer match its RECORD"
            if unverifiable:
                lead += f", and {len(unverifiable)} cannot be verified"
            fix = f"reinstall {name} so that its files are the released ones, and find out who changed them"
        listed = ", ".join(f"{f.path} ({f.problem})" for f in items[:LISTED_FILES])
        if len(items) > LISTED_FILES:
            listed += f", and {len(items) - LISTED_FILES} more"
        violations.append(Violation(rule="drift.modified_files", package=packages.get(name), status=status,
                                    detail=f"{lead}: {listed}; {fix}"))
    return violations
