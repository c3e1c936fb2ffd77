"""``consistency``: every requirement of every package is satisfied by the environment.

This is ``pip check`` done on the gate's data, for installed environments and for lockfiles
that carry a dependency graph (uv.lock, poetry.lock, pdm.lock, pylock.toml, the pip entries
of conda-lock, CycloneDX ``dependencies``), with three differences, each towards finding more:

- Extras are followed. When ``a`` requires ``b[socks]``, ``b``'s ``extra == "socks"``
  requirements must hold too, and so on transitively. ``pip check`` (pip 23 to 25) reads
  every distribution with no extras, so it never sees a missing ``PySocks``.
- Markers are evaluated for the environment's target, not for the interpreter running the
  gate. Where the target leaves the Python version or the platform open, every value the
  gate knows for it is tried, and a requirement that fails for any of them is reported,
  saying for which (so ``colorama; sys_platform == "win32"`` missing from a Linux venv is
  reported when no platform is given: set ``target.platform`` to judge one platform).
  Package markers (lockfile forks) are evaluated the same way, so that two locked versions
  of one project for different Pythons each meet only the requirements that apply with them.
- Duplicates are reported: two entries for one project with different versions (two
  dist-infos left by a broken upgrade, or two lockfiles that disagree). Which one Python
  imports depends on the files, not the metadata.

What cannot be judged is reported, never passed: a requirement that is not PEP 508, a
version that is not PEP 440 where a specifier must be checked against it, an unpinned
dependency under a specifier. Conda packages' dependencies are conda match specs, which
only a conda solver can judge; they are skipped, and the report says how many.

Speed: most ``Requires-Dist`` lines of an ML environment are extras nobody asked for
(2171 of 2733 on a 221-distribution venv). Parsing a requirement costs ~17 µs, so a line
whose marker is textually ``extra == "x"`` (alone, or and-ed after a parenthesised or
``or``-free condition) is skipped unparsed while ``x`` is not active. A skipped line that
is not valid PEP 508 goes unreported; pip only logs such lines too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from gate.model import Environment, Package, Status, Violation
from gate.policy.rules.base import Context, Outcome
from gate.sources.base import duplicate_packages
from gate.sources.selection import RUNTIME
from gate.targets import marker_environments

INSTALLED_KINDS = frozenset({"venv", "site-packages"})

# The kernel's release and version: no target fixes them (the gate's marker environments
# hold ""), so a requirement's comparison on them is rewritten to one that always holds.
_UNFIXED = re.compile(r"platform[._](?:release|version)")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_OPERATOR = r"(?:===|[<>!=~]=|[<>]|not\s+in|in)"
_UNFIXED_COMPARISON = re.compile(
    rf"""platform[._](?:release|version)\s*{_OPERATOR}\s*(['"])[^'"]*\1"""
    rf"""|(['"])[^'"]*\2\s*{_OPERATOR}\s*platform[._](?:release|version)""")
# A marker that names none of these is the same in every marker environment: evaluated once.
# Deliberately loose (a literal that contains "python" makes a marker look dependent; that
# costs time, never correctness). The dotted spellings are packaging's legacy aliases.
_TARGET_DEPENDENT = re.compile(r"python|platform|implementation|os[._]name|sys[._]platform|extras\b|dependency_groups")


@dataclass(frozen=True, kw_only=True, slots=True)
class _Requirement:
    """A parsed requirement. ``spec_key`` (the specifier as written) keys the caches, as
    ``str(SpecifierSet)`` costs more than parsing it."""

    name: str  # canonical
    spelt: str  # the name as the project wrote it, for the report
    extras: frozenset[str]  # canonical
    spec_key: str  # the specifier as written ("" for any version)
    marker: str | None  # as written; the key of the evaluation cache

    @property
    def wanted(self) -> str:
        """``urllib3<1.24,>=1.21.1``: how pip shows a requirement, without its marker."""
        extras = "[" + ",".join(sorted(self.extras)) + "]" if self.extras else ""
        return f"{self.spelt}{extras}{_specifier(self.spec_key)}"


# The shape nearly every Requires-Dist line has: a name, extras, a specifier (bracketed in
# old metadata), a marker. Parsed here with a regular expression, the specifier and marker by
# packaging, at half the cost of packaging's full requirement parser; anything else (URLs,
# oddities, errors) goes through that parser.
_SIMPLE = re.compile(
    r"""\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"""
    r"""(?:\[(?P<extras>[A-Za-z0-9._,\s-]*)\])?\s*"""
    r"""(?:\((?P<bracketed>[^;()\[\]@]*)\)|(?P<bare>[<>=!~][^;()\[\]@]*))?\s*"""
    r"""(?:;\s*(?P<marker>\S.*?))?\s*""",
    re.DOTALL,
)


@lru_cache(maxsize=65536)
def _parse(text: str) -> _Requirement | str:
    """The requirement, or why it is not PEP 508. Cached: the same lines recur across packages."""
    match = _SIMPLE.fullmatch(text)
    if match is not None:
        spec = (match.group("bracketed") or match.group("bare") or "").strip()
        marker = match.group("marker")
        extras = [extra.strip() for extra in (match.group("extras") or "").split(",")]
        if (isinstance(_specifier(spec), SpecifierSet) and all(_NAME.fullmatch(extra) for extra in extras if extra)
                and (marker is None or isinstance(_marker(marker), Marker))):
            return _Requirement(name=canonicalize_name(match.group("name")), spelt=match.group("name"),
                                extras=frozenset(canonicalize_name(extra) for extra in extras if extra),
                                spec_key=spec, marker=marker)
    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        return str(error).splitlines()[0]
    marker_text = None if requirement.marker is None else str(requirement.marker)
    return _Requirement(name=canonicalize_name(requirement.name), spelt=requirement.name,
                        extras=frozenset(canonicalize_name(extra) for extra in requirement.extras),
                        spec_key=str(requirement.specifier), marker=marker_text)


_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


@lru_cache(maxsize=65536)
def _specifier(text: str) -> SpecifierSet | str:
    """The parsed specifier, or why it is not one."""
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as error:
        return str(error).splitlines()[0]


@lru_cache(maxsize=65536)
def _marker(text: str) -> Marker | str:
    """The parsed marker, or why it is not one."""
    try:
        return Marker(text)
    except InvalidMarker as error:
        return str(error).splitlines()[0]


def _gating_extra(text: str) -> str | None:
    """The extra a requirement line is and-ed with, when the text alone shows it; else None.

    ``name...; extra == "x"`` or ``name...; <condition> and extra == "x"`` (the shapes
    setuptools, hatchling, flit, poetry and uv write), where ``<condition>`` is one
    parenthesised group or has no ``or``. Anything else, None: the line is parsed."""
    semicolon = text.find(";")
    if semicolon < 0 or "@" in text[:semicolon]:
        return None
    line = text.rstrip()
    quote = line[-1:]
    if quote not in ("'", '"'):
        return None
    opening = line.rfind(quote, semicolon, len(line) - 1)
    if opening < 0:
        return None
    value = line[opening + 1:-1]
    before = line[semicolon + 1:opening].rstrip()
    if not before.endswith("=="):
        return None
    before = before[:-2].rstrip()
    if not before.endswith("extra") or (len(before) > 5 and not before[-6].isspace() and before[-6] != "("):
        return None
    condition = before[:-5].strip()
    if condition:
        if not (condition.endswith(" and") or condition.endswith(")and")):
            return None
        if not _is_one_term(condition[:-3].strip()):
            return None
    return canonicalize_name(value) if value and quote not in value else None


def _is_one_term(condition: str) -> bool:
    """Whether ``condition and extra == "x"`` can only hold when ``extra == "x"`` does: true
    when ``condition`` is one parenthesised group, or has neither brackets nor ``or``."""
    if "(" not in condition and ")" not in condition:
        return re.search(r"\bor\b", condition) is None
    if not (condition.startswith("(") and condition.endswith(")")):
        return False
    depth = 0
    for position, character in enumerate(condition):
        depth += (character == "(") - (character == ")")
        if depth == 0 and position < len(condition) - 1:
            return False  # "(a) or (b)": the first group closes early
    return depth == 0


class _Markers:
    """Marker truth over the allowed marker environments, as a bit mask (bit i: environment i)."""

    def __init__(self, environments: tuple[dict[str, str | frozenset[str]], ...]) -> None:
        self.environments = environments
        self.full = (1 << len(environments)) - 1
        self._cache: dict[tuple[str, str], int] = {}

    def requirement_mask(self, marker: str | None, extra: str) -> int:
        """Where a requirement's marker holds. A comparison on the kernel's release or
        version, which no target fixes, is taken to hold (so the requirement is checked:
        fail closed); markers have no negation, so that only widens where it applies."""
        if marker is not None and _UNFIXED.search(_QUOTED.sub("", marker)) is not None:
            marker = _UNFIXED_COMPARISON.sub('python_version >= "0"', marker)
            if _UNFIXED.search(_QUOTED.sub("", marker)) is not None:
                return self.full  # a spelling the rewrite does not know: checked everywhere
        return self.mask(marker, extra)

    def mask(self, marker: str | None, extra: str = "") -> int:
        if marker is None:
            return self.full
        key = (marker, extra)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        parsed = _marker(marker)
        if isinstance(parsed, str):  # a reader let an invalid package marker through: judge it present
            self._cache[key] = self.full
            return self.full
        if _TARGET_DEPENDENT.search(marker) is None:
            result = self.full if self._holds(parsed, self.environments[0], extra) else 0
        else:
            result = 0
            for index, environment in enumerate(self.environments):
                if self._holds(parsed, environment, extra):
                    result |= 1 << index
        self._cache[key] = result
        return result

    @staticmethod
    def _holds(marker: Marker, environment: Mapping[str, str | frozenset[str]], extra: str) -> bool:
        try:
            return marker.evaluate({**environment, "extra": extra}, context="lock_file")
        except (UndefinedComparison, UndefinedEnvironmentName):
            return True  # undecidable for this target: taken to apply, so it is checked (fail closed)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Problem:
    """One unmet requirement of one package, before it becomes a Violation."""

    dependent: int
    text: str  # the requirement line, for ordering
    reason: str  # the part after "requires X"
    fix: str
    mask: int
    extras: tuple[str, ...]  # the extras through which the requirement applied; () when always
    verb: str = "requires"


class ConsistencyRule:
    section = "consistency"

    def check(self, context: Context) -> Outcome:
        rules = context.policy.consistency
        if rules is None:
            return Outcome()
        status = Status.BLOCKING if rules.enforce else Status.WARNING
        return _Check(context.environment, status).run()


class _Check:
    """One evaluation: the state of the extras fixpoint and the problems found."""

    def __init__(self, environment: Environment, status: Status) -> None:
        self.environment = environment
        self.status = status
        self.packages = environment.packages
        groups = {package.group for package in self.packages}
        self.markers = _Markers(marker_environments(
            environment.target,
            extras=frozenset(g.removeprefix("optional:") for g in groups if g.startswith("optional:")),
            dependency_groups=frozenset(g for g in groups if g != RUNTIME and not g.startswith("optional:")),
        ))
        self.present = [self.markers.mask(package.marker) for package in self.packages]
        self.by_name: dict[str, list[int]] = {}
        for index, package in enumerate(self.packages):
            key = _provides(package)
            if key is not None:
                self.by_name.setdefault(key, []).append(index)
        # Per package, the environments in which each extra is active; "" is the package itself.
        self.active: list[dict[str, int]] = [{"": mask} for mask in self.present]
        self.installed = environment.kind in INSTALLED_KINDS
        # Each checked package's requirement lines, with the extra that gates each (None: not
        # visibly gated), worked out once for both passes.
        self.lines: dict[int, list[tuple[str, str | None]]] = {
            index: [(text, _gating_extra(text)) for text in package.requires]
            for index, package in enumerate(self.packages) if package.ecosystem != "conda" and package.requires}

    def run(self) -> Outcome:
        self._follow_extras()
        problems: list[_Problem] = []
        for index, lines in self.lines.items():
            active = self.active[index]
            for text, gate in lines:
                if gate is None or gate in active:
                    problems.extend(self._judge(index, text))
        violations = [self._violation(problem) for problem in sorted(
            problems, key=lambda p: (self.packages[p.dependent].name, self.packages[p.dependent].version or "",
                                     p.text, p.reason))]
        violations.extend(self._duplicates())
        return Outcome(violations=tuple(violations), notes=self._notes())

    def _applies(self, index: int, requirement: _Requirement) -> tuple[int, tuple[str, ...]]:
        """Where the requirement applies (a mask), and the extras it applies through when it
        does not apply to the package itself."""
        active = self.active[index]
        if requirement.marker is None:
            return active[""], ()
        mask = 0
        through: list[str] = []
        for extra, extra_mask in active.items():
            applies = self.markers.requirement_mask(requirement.marker, extra) & extra_mask
            if applies & ~mask and extra:
                through.append(extra)
            mask |= applies
        base = self.markers.requirement_mask(requirement.marker, "") & active[""]
        return mask, () if base == mask else tuple(sorted(through))

    def _follow_extras(self) -> None:
        """Grow ``active`` to the fixpoint: ``a`` requiring ``b[x]`` where ``a`` applies
        activates ``b``'s extra ``x`` there. Masks only grow, so this ends."""
        work = list(self.lines)
        while work:
            index = work.pop()
            active = self.active[index]
            for text, gate in self.lines.get(index, ()):
                if gate is not None and gate not in active:
                    continue
                requirement = _parse(text)
                if isinstance(requirement, str) or not requirement.extras:
                    continue
                mask, _ = self._applies(index, requirement)
                for target in self.by_name.get(requirement.name, ()):
                    reach = mask & self.present[target]
                    changed = False
                    for extra in requirement.extras:
                        before = self.active[target].get(extra, 0)
                        if before | reach != before:
                            self.active[target][extra] = before | reach
                            changed = True
                    if changed:
                        work.append(target)

    def _judge(self, index: int, text: str) -> list[_Problem]:
        package = self.packages[index]
        requirement = _parse(text)
        if isinstance(requirement, str):
            what = "Requires-Dist" if self.installed else "dependency"
            return [_Problem(dependent=index, text=text, mask=self.present[index], extras=(), verb="declares",
                             reason=f"the {what} {text!r}, which is not PEP 508 ({requirement}), so it cannot be "
                                    "checked",
                             fix=f"fix {package.name}'s metadata or move to a release with valid metadata")]
        mask, extras = self._applies(index, requirement)
        if not mask:
            return []
        problems: list[_Problem] = []
        candidates = [c for c in self.by_name.get(requirement.name, ()) if self.present[c] & mask]
        covered = 0
        for candidate in candidates:
            covered |= self.present[candidate]
        if mask & ~covered:
            problems.append(_Problem(
                dependent=index, text=text, mask=mask & ~covered, extras=extras,
                reason=f"{requirement.wanted}, which is missing",
                fix=f"add {requirement.name} to the {'environment' if self.installed else 'lock'}"))
        for candidate in candidates:
            failure = self._version_problem(requirement, self.packages[candidate], package)
            if failure is not None:
                reason, fix = failure
                problems.append(_Problem(dependent=index, text=text, mask=mask & self.present[candidate],
                                         extras=extras, reason=reason, fix=fix))
        return problems

    def _version_problem(self, requirement: _Requirement, candidate: Package,
                         dependent: Package) -> tuple[str, str] | None:
        """Why the candidate does not satisfy the requirement's specifier, or None."""
        if not requirement.spec_key:
            return None
        name = candidate.name
        if candidate.version is None:
            return (f"{requirement.wanted}, but {name} is not pinned ({candidate.specifier or 'any version'}), so "
                    "the requirement cannot be shown to hold", f"pin {name}")
        verdict = _satisfies(requirement, candidate.version)
        if verdict is None:
            return (f"{requirement.wanted}, but {name} has version {candidate.version!r}, which is not PEP 440, so "
                    "the requirement cannot be shown to hold", f"replace that {name} build with a PEP 440 release")
        if verdict:
            return None
        verb = "installed" if self.installed else "locked"
        return (f"{requirement.wanted}, but {name} {candidate.version} is {verb}",
                f"move to a {name} release that satisfies it, or to a {dependent.name} release that accepts "
                f"{name} {candidate.version}")

    def _violation(self, problem: _Problem) -> Violation:
        package = self.packages[problem.dependent]
        who = package.name + ("[" + ",".join(problem.extras) + "]" if problem.extras else "")
        who += f" {package.version}" if package.version is not None else f" {package.specifier or '(unpinned)'}"
        where, hint = self._where(problem.mask)
        return Violation(rule="consistency", package=package, status=self.status,
                         detail=f"{who} {problem.verb} {problem.reason}{where}: {problem.fix}{hint}")

    def _where(self, mask: int) -> tuple[str, str]:
        """For which open target values the problem holds, when not for all of them."""
        if mask == self.markers.full:
            return "", ""
        chosen = [e for i, e in enumerate(self.markers.environments) if mask >> i & 1]
        every_python = {str(e["_python"]) for e in self.markers.environments}
        every_platform = {str(e["_platform"]) for e in self.markers.environments}
        pythons = sorted({str(e["_python"]) for e in chosen}, key=_python_key)
        platforms = sorted({str(e["_platform"]) for e in chosen})
        parts = []
        open_parts = []
        if set(pythons) != every_python:
            parts.append("python " + ", ".join(pythons))
        if len(every_python) > 1:
            open_parts.append("python")
        if set(platforms) != every_platform:
            parts.append("platform " + ", ".join(platforms))
        if len(every_platform) > 1:
            open_parts.append("platform")
        opened = " and ".join(open_parts)
        return (f" (for {'; '.join(parts)}: the target leaves the {opened} open)",
                f", or give the target's {opened} (--target) to judge only what you deploy to")

    def _duplicates(self) -> list[Violation]:
        violations = []
        for group in duplicate_packages(self.packages):
            versions = {package.version or package.specifier or "" for package in group}
            if len(versions) < 2:
                continue
            first = group[0]
            listed = ", ".join(
                f"{package.version or package.specifier or '(unpinned)'}"
                + (f" ({package.location})" if package.location is not None else "") for package in group)
            if self.installed:
                why = "which one Python imports depends on the files, not the metadata"
                fix = f"uninstall {first.name} until none is left, then install the one version wanted"
            else:
                why = "the inputs disagree on what is installed"
                fix = f"make them pin one version of {first.name}"
            violations.append(Violation(
                rule="consistency", package=first, status=self.status,
                detail=f"{len(group)} entries claim {first.name}: {listed}; {why}: {fix}"))
        return violations

    def _notes(self) -> tuple[str, ...]:
        notes = []
        conda = sum(1 for package in self.packages if package.ecosystem == "conda" and package.requires)
        if conda:
            notes.append(f"Consistency: the dependencies of {conda} conda package(s) are conda match specs, which "
                         "only a conda solver can judge; they were not checked.")
        if self.packages and not self.installed and not any(package.requires for package in self.packages):
            notes.append(f"Consistency: the input ({self.environment.kind}) carries no dependency graph, so "
                         "requirements between packages were not checked.")
        return tuple(notes)


def _provides(package: Package) -> str | None:
    """The PyPI name under which a package satisfies PEP 508 requirements."""
    if package.ecosystem == "conda":
        return canonicalize_name(package.pypi_name) if package.pypi_name else None
    return canonicalize_name(package.name)


_SATISFIED: dict[tuple[str, str], bool | None] = {}


def _satisfies(requirement: _Requirement, version: str) -> bool | None:
    """Whether ``version`` is in the requirement's specifier (pre-releases allowed, as pip
    check allows them once installed); None when the version is not PEP 440."""
    key = (requirement.spec_key, version)
    if key in _SATISFIED:
        return _SATISFIED[key]
    try:
        parsed = Version(version)
    except InvalidVersion:
        result = None
    else:
        specifier = _specifier(requirement.spec_key)
        assert isinstance(specifier, SpecifierSet)  # _parse accepted only valid ones
        result = specifier.contains(parsed, prereleases=True)
    if len(_SATISFIED) < 65536:
        _SATISFIED[key] = result
    return result


def _python_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())

