"""uv.lock: uv's own lockfile (``version = 1``, any ``revision``), read with tomllib.

Every ``[[package]]`` entry is one resolved distribution. Read from each:

- ``name`` and ``version`` (a workspace member with a dynamic version has none: it is then
  reported unpinned, never given an invented version).
- ``source``: ``registry`` (an index URL, or a local directory used as an index) is
  :attr:`SourceKind.INDEX`; ``git = "URL?rev=...#<commit>"`` is :attr:`SourceKind.VCS`, with
  the URL stripped of uv's query and fragment and the commit taken from the fragment;
  ``url`` is :attr:`SourceKind.URL`; ``path`` and ``directory`` are :attr:`SourceKind.PATH`;
  ``editable`` is :attr:`SourceKind.EDITABLE`. ``virtual`` marks a project that uv never
  builds or installs (a virtual workspace root, ``package = false``): it is used as a root of
  the dependency graph and left out of the package list.
- hashes: ``sdist.hash`` and every ``wheels[].hash``.
- ``dependencies`` and ``optional-dependencies``, as PEP 508 strings in ``Package.requires``
  (``name[extras]==version; marker``; the version only where uv wrote one, which it does to
  tell forked duplicates apart; optional ones with ``extra == '...'`` added).

The workspace's own members (the ``[manifest] members``, or the package whose source is
``editable``/``virtual`` ``"."``) are kept when uv installs them: ``uv export`` writes the root
as ``-e .`` and a pylock.toml export as a ``directory`` entry, so keeping it is what makes
one resolution read the same through all three formats. A member has no marker and is
``"runtime"``. A lock without a root project (a virtual workspace, a script) lists its direct
requirements in ``[manifest] requirements`` and ``[manifest.dependency-groups]``: those are
the roots then.

uv writes no marker on a package, only on the edges of the dependency graph. A package's
marker is computed here as uv computes it for ``uv export``: along a path from a workspace
member the edge markers are joined with ``and``, and the paths are joined with ``or``. The
result is kept as a set of alternatives, each a set of conditions, and simplified by exact
rules only: ``a or (a and b)`` is ``a``; an alternative holding a comparison and its negation
(``sys_platform == 'win32'`` and ``sys_platform != 'win32'``) is dropped; ``(T and a) or (T and
not a)`` is ``T``, so the two branches of a fork join back into no marker. (Range reasoning
such as ``x < '3.11' or x <= '3.11'`` and simplification under ``requires-python``, which uv's
export also does, are not done: the markers are longer than uv's, never different in
meaning.) The work is bounded: past :data:`MAX_TERMS` alternatives a package gets no marker,
and past :data:`MAX_ATOMS` conditions in one alternative the surplus is dropped. Both
over-approximate, so a package may be judged for an environment where it would not be
installed, never the reverse.

uv encodes conflicting extras and dependency groups as ``extra == 'group-18-poprox-recommender-cpu'``
(``group-<length of the package name>-<package>-<group>``; ``extra-...`` for extras). Those are
rewritten into the PEP 751 lock-file variables, ``'cpu' in dependency_groups`` and
``'name' in extras``, which is what they mean, and what the gate's selection evaluates.

Groups: a package reachable from a member's ``dependencies`` is ``"runtime"``, and its marker
comes from the runtime paths only; otherwise its group is the sorted-first of the member
dependency groups (``[package.dev-dependencies]``: ``"dev"``, ``"test"``, ...) and member
extras (``"optional:<extra>"``) that reach it, and its marker comes from all paths. (So when a
dependency group is judged too, a runtime package keeps its runtime marker even where a
development tool would pull it in on more platforms.)

Not read: ``[package.metadata]`` (the specifiers the project declared, not what was resolved),
``requires-python``, ``resolution-markers`` of the lock (forks are already told apart by the
edge markers; a package's own ``resolution-markers`` are only its fallback marker if it is
unreachable, which uv does not write), upload times and sizes, ``[options]``. The target is
left empty: ``requires-python`` is a range, not an interpreter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from gate.model import Environment, Location, Package, Source, SourceKind, Target
from gate.sources.base import InputKind
from gate.sources.lockfile import (
    MAX_LOCK_BYTES,
    Where,
    array_table_lines,
    artifact_hashes,
    load_toml,
    marker_problem,
    read_sample,
    read_text,
    shorten,
    sorted_hashes,
)

MAX_TERMS = 32  # alternatives in one computed marker; more and the package gets no marker
MAX_ATOMS = 8  # edge markers joined in one alternative; more are dropped (weakening it)
MAX_MARKER_STEPS = 500_000  # edge visits for all markers; the largest real lock seen needs about 4,000
SUPPORTED_VERSIONS = frozenset({1})

_PREAMBLE_END = re.compile(r"^\[", re.MULTILINE)
_VERSION_LINE = re.compile(r"^version[ \t]*=[ \t]*\d+[ \t]*(?:#.*)?$", re.MULTILINE)
_LOCK_VERSION_LINE = re.compile(r"^lock-version[ \t]*=", re.MULTILINE)
_REQUIRES_PYTHON_LINE = re.compile(r"^requires-python[ \t]*=", re.MULTILINE)
_INLINE_SOURCE = re.compile(r"^source[ \t]*=[ \t]*\{", re.MULTILINE)
_CONFLICT = re.compile(r"extra[ \t]*(==|!=)[ \t]*'((group|extra)-(\d+)-[^']*)'")
_COMMIT = re.compile(r"[0-9a-fA-F]{7,64}")

_Term = frozenset[str]  # edge markers joined with "and"; empty: always
_Dnf = frozenset[_Term]  # terms joined with "or"; empty: never reached
_TRUE: _Dnf = frozenset({frozenset()})
_NEVER: _Dnf = frozenset()
_Node = tuple[int, str]  # (entry index, "" | "extra:<name>" | "group:<name>")


@dataclass(frozen=True, slots=True)
class _Edge:
    target: int
    extras: tuple[str, ...]
    condition: _Term  # the marker rewritten for evaluation (lock-file variables), as "and"-ed atoms
    requirement: str  # PEP 508, uv's marker verbatim


@dataclass(slots=True)
class _Entry:
    index: int
    name: str
    version: str | None
    source_table: dict[str, Any]
    source: Source | None  # None: virtual, not installed
    place: Where
    hashes: tuple[tuple[str, str], ...]
    resolution_markers: tuple[str, ...]
    raw_dependencies: list[Any]
    raw_optional: dict[str, Any]
    raw_groups: dict[str, Any]
    dependencies: list[_Edge] = field(default_factory=list)
    optional: dict[str, list[_Edge]] = field(default_factory=dict)
    groups: dict[str, list[_Edge]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class UvLockReader:
    """uv's ``uv.lock`` (see the module notes for what is read and how markers are computed)."""

    name: ClassVar[str] = "uv.lock"
    input_kind: ClassVar[InputKind] = InputKind.LOCKFILE
    max_bytes: int = MAX_LOCK_BYTES

    def detect(self, path: Path) -> bool:
        """A top-level integer ``version`` before the first table, no ``lock-version`` (that is
        pylock.toml), and uv's ``requires-python`` or its inline ``source = {`` tables (Cargo.lock
        also has ``version = 3``, with string sources and no requires-python)."""
        sample = read_sample(path)
        if sample is None:
            return False
        end = _PREAMBLE_END.search(sample)
        preamble = sample[: end.start()] if end else sample
        if not _VERSION_LINE.search(preamble) or _LOCK_VERSION_LINE.search(preamble):
            return False
        return bool(_REQUIRES_PYTHON_LINE.search(preamble) or _INLINE_SOURCE.search(sample))

    def read(self, path: Path, *, target: Target | None = None) -> Environment:
        """Every package of the lock, for every fork; ``target`` is not consulted (the CLI
        evaluates the markers)."""
        where = str(path)
        text = read_text(path, limit=self.max_bytes)
        document = load_toml(text, where=where)
        top = Where(where, None, "")
        version = document.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise top.at("version").error("missing or not an integer (is this a uv.lock?)")
        if version not in SUPPORTED_VERSIONS:
            raise top.at("version").error(f"uv.lock version {version} is not supported (this reader knows version 1)")
        raw_packages = top.get_array(document, "package")
        lines = array_table_lines(text, "package", len(raw_packages))
        entries = [_entry(i, raw, Where(where, lines[i], f"package[{i}]")) for i, raw in enumerate(raw_packages)]
        _link(entries)
        roots = _roots(entries, top.get_table(document, "manifest"), top.at("manifest"))
        packages = _packages(entries, roots, where)
        return Environment.create(source=where, kind=self.name, target=Target(), packages=packages)


def _entry(index: int, raw: object, place: Where) -> _Entry:
    table = place.table(raw)
    name = place.get_string(table, "name", required=True)
    assert name is not None
    version = place.get_string(table, "version")
    if "source" not in table:
        raise place.at("source").error("missing")
    source_table = place.at("source").table(table["source"])
    hashes: list[tuple[str, str]] = []
    sdist = place.get_table(table, "sdist")
    if "hash" in sdist:
        hashes.append(place.at("sdist").at("hash").hash(sdist["hash"]))
    if "wheels" in table:
        hashes.extend(artifact_hashes(table["wheels"], place.at("wheels")))
    return _Entry(
        index=index,
        name=canonicalize_name(name),
        version=version,
        source_table=source_table,
        source=_source(source_table, place.at("source")),
        place=place,
        hashes=sorted_hashes(hashes),
        resolution_markers=tuple(place.at("resolution-markers").at(i).marker(m)
                                 for i, m in enumerate(place.get_array(table, "resolution-markers"))),
        raw_dependencies=place.get_array(table, "dependencies"),
        raw_optional=place.get_table(table, "optional-dependencies"),
        raw_groups=place.get_table(table, "dev-dependencies"),
    )


def _source(table: dict[str, Any], place: Where) -> Source | None:
    kinds = [key for key in ("registry", "git", "url", "path", "directory", "editable", "virtual") if key in table]
    if len(kinds) != 1:
        found = ", ".join(sorted(table)) or "none"
        raise place.error(f"expected exactly one of registry, git, url, path, directory, editable, virtual "
                          f"(found: {found})")
    kind = kinds[0]
    value = place.at(kind).string(table[kind])
    if kind == "registry":
        return Source(kind=SourceKind.INDEX, url=value)
    if kind == "git":
        try:
            parts = urlsplit(value)
        except ValueError as error:  # an unclosed IPv6 host, a host NFKC turns into a delimiter
            raise place.at(kind).error(f"not a valid URL: {shorten(value)} ({error})") from None
        if not _COMMIT.fullmatch(parts.fragment):
            raise place.at(kind).error(f"no commit after '#' in {shorten(value)}")
        return Source(kind=SourceKind.VCS, url=urlunsplit(parts._replace(query="", fragment="")),
                      commit=parts.fragment.lower())
    if kind == "url":
        return Source(kind=SourceKind.URL, url=value)
    if kind in ("path", "directory"):
        return Source(kind=SourceKind.PATH, url=value)
    if kind == "editable":
        return Source(kind=SourceKind.EDITABLE, url=value)
    return None  # virtual: never built, never installed


def _link(entries: list[_Entry]) -> None:
    """Resolve every dependency table to the entry it names: by name, and by version and
    source where uv wrote them (it does when a name has several entries)."""
    by_name: dict[str, list[_Entry]] = {}
    for entry in entries:
        by_name.setdefault(entry.name, []).append(entry)
    known = frozenset(by_name)
    for entry in entries:
        place = entry.place
        entry.dependencies = _edges(entry.raw_dependencies, place.at("dependencies"), by_name, known, None)
        optional_place = place.at("optional-dependencies")
        for extra, raw in entry.raw_optional.items():
            entry.optional[extra] = _edges(optional_place.at(extra).array(raw), optional_place.at(extra),
                                           by_name, known, extra)
        groups_place = place.at("dev-dependencies")
        for group, raw in entry.raw_groups.items():
            entry.groups[group] = _edges(groups_place.at(group).array(raw), groups_place.at(group),
                                         by_name, known, None)


def _edges(raw: list[Any], place: Where, by_name: Mapping[str, list[_Entry]], known: frozenset[str],
           extra: str | None, *, every_fork: bool = False) -> list[_Edge]:
    """The edges a dependency array describes. ``every_fork``: a name with several entries and
    no version means all of them (the manifest's requirements name projects, not entries)."""
    edges: list[_Edge] = []
    for i, item in enumerate(raw):
        fields = _dependency_fields(item)
        if fields is None:  # the slow path, only to say what is wrong
            here = place.at(i)
            table = here.table(item)
            here.get_string(table, "name", required=True)
            here.get_string(table, "version")
            here.strings(table, "extra")
            if "marker" in table:
                here.at("marker").marker(table["marker"])
            here.get_table(table, "source")
            raise here.error("not a dependency table")  # not reached: one of the checks above raised
        name, version, extras, marker, wanted = fields
        candidates = by_name.get(canonicalize_name(name), [])
        if version is not None:
            candidates = [c for c in candidates if c.version == version]
        if wanted is not None:
            candidates = [c for c in candidates if c.source_table == wanted]
        if not candidates or (len(candidates) > 1 and not every_fork):
            described = name + (f" {version}" if version is not None else "")
            problem = "no package entry" if not candidates else f"{len(candidates)} package entries"
            raise place.at(i).error(f"{problem} for {described} (the lock is inconsistent)")
        edges.extend(_Edge(
            target=candidate.index,
            extras=extras,
            condition=_atoms(_lock_file_marker(marker, known)) if marker is not None else frozenset(),
            requirement=_requirement(name, extras, version, marker, extra),
        ) for candidate in candidates)
    return edges


def _dependency_fields(
    item: object,
) -> tuple[str, str | None, tuple[str, ...], str | None, dict[str, Any] | None] | None:
    """``(name, version, extras, marker, source)`` of a well-formed dependency table, else None."""
    if not isinstance(item, dict):
        return None
    name, version, marker, source = item.get("name"), item.get("version"), item.get("marker"), item.get("source")
    extras = item.get("extra", ())
    if (not isinstance(name, str) or not isinstance(version, str | None) or not isinstance(marker, str | None)
            or not isinstance(source, dict | None) or not isinstance(extras, list | tuple)
            or not all(isinstance(extra, str) for extra in extras)
            or (marker is not None and marker_problem(marker) is not None)):
        return None
    return name, version, tuple(extras), marker, source


def _requirement(name: str, extras: tuple[str, ...], version: str | None, marker: str | None,
                 extra: str | None) -> str:
    text: str = canonicalize_name(name)
    if extras:
        text += "[" + ",".join(extras) + "]"
    if version is not None:
        text += "==" + version
    conditions = [c for c in (marker and (f"({marker})" if extra else marker), extra and f"extra == '{extra}'") if c]
    return text + ("; " + " and ".join(conditions) if conditions else "")


@cache
def _lock_file_marker(marker: str, known: frozenset[str]) -> str:
    """uv's conflict encoding (``extra == 'group-<n>-<package>-<group>'``) as the PEP 751
    lock-file variables (``'<group>' in dependency_groups``); other markers unchanged."""

    def replace(match: re.Match[str]) -> str:
        operator, value, kind, length = match.group(1), match.group(2), match.group(3), int(match.group(4))
        rest = value[len(kind) + len(match.group(4)) + 2:]
        package, separator, name = rest[:length], rest[length:length + 1], rest[length + 1:]
        if separator != "-" or not name or package not in known:
            return match.group(0)
        variable = "dependency_groups" if kind == "group" else "extras"
        return f"'{name}' {'in' if operator == '==' else 'not in'} {variable}"

    return _CONFLICT.sub(replace, marker) if "extra" in marker else marker


_COMPARISON = re.compile(
    r"([a-z_]+) (<|<=|>|>=|==|!=|~=|===) '([^']*)'|'([^']*)' (in|not in) ([a-z_]+)"
)
_COMPLEMENT = {"<": ">=", ">=": "<", ">": "<=", "<=": ">", "==": "!=", "!=": "==", "in": "not in", "not in": "in"}


@cache
def _atoms(marker: str) -> _Term:
    """A marker as the set of conditions it ``and``-s together: split into single comparisons
    when it is nothing but those (uv writes them with single quotes), else the whole marker."""
    if "(" in marker or " or " in marker:
        return frozenset({marker})
    parts = marker.split(" and ")
    if all(_COMPARISON.fullmatch(part) for part in parts):
        return frozenset(parts)
    return frozenset({marker})


@cache
def _negation(atom: str) -> str | None:
    """The comparison that holds exactly when ``atom`` does not, for a single comparison."""
    match = _COMPARISON.fullmatch(atom)
    if match is None:
        return None
    if match.group(1) is not None:
        opposite = _COMPLEMENT.get(match.group(2))
        return f"{match.group(1)} {opposite} '{match.group(3)}'" if opposite else None
    return f"'{match.group(4)}' {_COMPLEMENT[match.group(5)]} {match.group(6)}"


def _contradictory(term: _Term) -> bool:
    return len(term) > 1 and any(_negation(atom) in term for atom in term)


def _roots(entries: list[_Entry], manifest: dict[str, Any], place: Where) -> list[int]:
    """The workspace members: ``[manifest] members`` when uv wrote it (several members), else
    the project at the lock's own directory. A workspace without a root project (a virtual
    root with only ``[dependency-groups]``, or a script) lists its direct requirements in the
    manifest: they become the edges of one more, unlisted root entry appended to ``entries``."""
    members = {canonicalize_name(m) for m in place.strings(manifest, "members")}
    if members:
        roots = [e.index for e in entries if e.name in members and _is_local(e)]
        missing = members - {entries[i].name for i in roots}
        if missing:
            raise place.at("members").error(f"no editable or virtual package entry for {', '.join(sorted(missing))}")
    else:
        roots = [e.index for e in entries if _is_local(e) and _local_path(e) in (".", "./", "")]
    requirements = place.get_array(manifest, "requirements")
    groups = place.get_table(manifest, "dependency-groups")
    if requirements or groups:
        by_name: dict[str, list[_Entry]] = {}
        for entry in entries:
            by_name.setdefault(entry.name, []).append(entry)
        known = frozenset(by_name)
        synthetic = _Entry(index=len(entries), name="", version=None, source_table={}, source=None, place=place,
                           hashes=(), resolution_markers=(), raw_dependencies=[], raw_optional={}, raw_groups={})
        synthetic.dependencies = _edges(requirements, place.at("requirements"), by_name, known, None,
                                        every_fork=True)
        groups_place = place.at("dependency-groups")
        for group, raw in groups.items():
            synthetic.groups[group] = _edges(groups_place.at(group).array(raw), groups_place.at(group), by_name,
                                             known, None, every_fork=True)
        entries.append(synthetic)
        roots.append(synthetic.index)
    return roots


def _is_local(entry: _Entry) -> bool:
    return any(key in entry.source_table for key in ("editable", "virtual", "directory"))


def _local_path(entry: _Entry) -> str:
    for key in ("editable", "virtual", "directory"):
        value = entry.source_table.get(key)
        if isinstance(value, str):
            return value
    return ""


def _successors(entries: list[_Entry], node: _Node) -> list[_Edge]:
    index, tag = node
    entry = entries[index]
    if not tag:
        return entry.dependencies
    kind, _, name = tag.partition(":")
    return (entry.optional if kind == "extra" else entry.groups).get(name, [])


def _targets(edge: _Edge) -> list[_Node]:
    return [(edge.target, ""), *((edge.target, f"extra:{extra}") for extra in edge.extras)]


def _reach(entries: list[_Entry], seeds: Iterable[_Node], stop: set[int] | frozenset[int] = frozenset()) -> set[int]:
    """Entries reachable from ``seeds``; a base node in ``stop`` is not expanded (its base
    dependencies are known to be reached already)."""
    seen: set[_Node] = set()
    stack = list(seeds)
    reached: set[int] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        reached.add(node[0])
        if not node[1] and node[0] in stop:
            continue
        for edge in _successors(entries, node):
            stack.extend(_targets(edge))
    return reached


def _combine(current: _Dnf, added: Iterable[_Term]) -> _Dnf:
    """``current or added``, kept small by exact rules only: a term with a condition and its
    negation is dropped, ``(T and a) or (T and not a)`` is ``T``, and ``T or (T and U)`` is
    ``T``; then the size bounds (see the module notes)."""
    terms = set(current)
    for term in added:
        if len(term) > MAX_ATOMS:
            term = frozenset(sorted(term)[:MAX_ATOMS])
        if term not in terms and not _contradictory(term):
            terms.add(term)
    merged = True
    while merged and frozenset() not in terms:
        merged = False
        for term in list(terms):
            for atom in term:
                negation = _negation(atom)
                if negation is None:
                    continue
                partner = (term - {atom}) | {negation}
                if partner in terms:
                    terms.difference_update((term, partner))
                    terms.add(term - {atom})
                    merged = True
                    break
            if merged:
                break
    if frozenset() in terms:
        return _TRUE
    kept: list[_Term] = []
    for term in sorted(terms, key=len):
        if not any(smaller <= term for smaller in kept):
            kept.append(term)
    if len(kept) > MAX_TERMS:
        return _TRUE
    return frozenset(kept)


def _markers(entries: list[_Entry], seeds: Iterable[_Node]) -> dict[int, _Dnf]:
    """Each entry's condition: ``or`` over paths from the seeds of ``and`` over edge markers.
    Past :data:`MAX_MARKER_STEPS` (a hostile lock) every entry is left without a condition."""
    state: dict[_Node, _Dnf] = {}
    work: list[_Node] = []
    for seed in seeds:
        state[seed] = _TRUE
        work.append(seed)
    steps = 0
    while work:
        node = work.pop()
        condition = state[node]
        successors = _successors(entries, node)
        steps += len(successors)
        if steps > MAX_MARKER_STEPS:
            return {}
        for edge in successors:
            added = frozenset(t | edge.condition for t in condition) if edge.condition else condition
            for successor in _targets(edge):
                before = state.get(successor, _NEVER)
                after = _combine(before, added)
                if after != before:
                    state[successor] = after
                    work.append(successor)
    result: dict[int, _Dnf] = {}
    for (index, _tag), condition in state.items():
        result[index] = _combine(result.get(index, _NEVER), condition)
    return result


def _render(condition: _Dnf) -> str | None:
    if condition == _TRUE or not condition:
        return None

    def conjunction(term: _Term) -> str:
        if len(term) == 1:
            return next(iter(term))
        return " and ".join(f"({atom})" if " or " in atom else atom for atom in sorted(term))

    terms = sorted(conjunction(term) for term in condition)
    if len(terms) == 1:
        return terms[0]
    return " or ".join(f"({term})" for term in terms)


def _packages(entries: list[_Entry], roots: list[int], where: str) -> list[Package]:
    runtime_seeds = [(root, "") for root in roots]
    runtime = _reach(entries, runtime_seeds)
    group_seeds: dict[str, list[_Node]] = {}
    for root in roots:
        for extra in entries[root].optional:
            group_seeds.setdefault(f"optional:{extra}", []).append((root, f"extra:{extra}"))
        for group in entries[root].groups:
            group_seeds.setdefault(group, []).append((root, f"group:{group}"))
    labels: dict[int, str] = dict.fromkeys(runtime, "runtime")
    for name in sorted(group_seeds):
        for index in _reach(entries, group_seeds[name], stop=runtime):
            labels.setdefault(index, name)
    runtime_markers = _markers(entries, runtime_seeds)
    all_markers = (_markers(entries, [*runtime_seeds, *(s for seeds in group_seeds.values() for s in seeds)])
                   if group_seeds else runtime_markers)

    packages = []
    for entry in entries:
        if entry.source is None:
            continue
        marker: str | None
        label = labels.get(entry.index)
        if label is None:  # not reachable from any member: judged always, as uv's own fork says
            marker = " or ".join(f"({m})" for m in entry.resolution_markers) or None
            label = "runtime"
        else:
            condition = (runtime_markers if label == "runtime" else all_markers).get(entry.index, _TRUE)
            marker = None if entry.index in roots else _render(condition)
        requires = [edge.requirement for edge in entry.dependencies]
        requires.extend(edge.requirement for extra in sorted(entry.optional) for edge in entry.optional[extra])
        packages.append(Package(
            name=entry.name,
            version=entry.version,
            ecosystem="pypi",
            pypi_name=entry.name,
            source=entry.source,
            hashes=entry.hashes,
            marker=marker,
            group=label,
            location=Location(file=where, line=entry.place.line),
            requires=tuple(requires),
        ))
    return packages
