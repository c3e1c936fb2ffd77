"""PEP 751 lockfiles (``pylock.toml``, ``pylock.<name>.toml``), as ``uv export --format
pylock.toml`` and pip's ``pip lock`` write them.

The file is parsed with ``tomllib`` and validated with ``packaging.pylock`` (the reference
implementation of the specification: names normalised, versions and markers valid, exactly
one kind of source per entry, wheel and sdist file names agreeing with the entry), so that
what the gate accepts is what an installer following the specification accepts. Validation
errors keep the key path ``packaging`` reports (``packages[3].wheels[0]``) and gain the line
of that entry.

What each ``[[packages]]`` entry gives:

- Every entry is a package. One project resolved more than once under different markers (a
  forked resolution: one ``numpy`` for Python < 3.11, another for the rest) is kept as
  several packages, each with its own marker.
- Version: as written. It may be absent for a directory or VCS source (only building it
  would tell); such a package is unpinned with specifier ``""``.
- Source: ``index`` -> :attr:`SourceKind.INDEX` with that URL (``None`` when the entry names
  none); ``vcs`` -> :attr:`SourceKind.VCS` with ``<type>+<url>`` (the form a requirements
  file writes, so both formats give the same source) and the ``commit-id``; ``archive`` ->
  :attr:`SourceKind.URL`, or :attr:`SourceKind.PATH` for a ``path`` or ``file:`` URL;
  ``directory`` -> :attr:`SourceKind.EDITABLE` or :attr:`SourceKind.PATH` by its
  ``editable`` flag.
- Hashes: every algorithm of every file listed (all wheels, the sdist, the archive), since
  an installer may take any of them.
- Marker: the entry's ``marker``, normalised by ``packaging``. It may test
  ``'dev' in dependency_groups`` or ``'cuda' in extras`` (the lock-file marker context).
- Group: a pylock file has no per-entry group, only markers over ``dependency_groups`` and
  ``extras``. An entry is ``runtime`` when its marker can hold with no dependency group and
  no extra selected (on some Python and platform the gate knows,
  :data:`gate.targets.PYTHONS` x :data:`gate.targets.PLATFORMS`); otherwise its group is the
  sorted-first of the groups (``dev``) and extras (``optional:<extra>``) its marker names
  under which it can hold (or, when it needs several at once, the sorted-first of those).
  ``default-groups`` is not taken for runtime: it says what an installer installs by
  default (uv puts ``dev`` there), not what the project needs to run. The marker is kept
  whole, so :mod:`gate.sources.selection` still evaluates it with the groups asked for.
- ``requires``: the entry's ``dependencies`` as ``name`` or ``name==version``.
- Location: the line of the entry's ``[[packages]]`` header (or, for a file written with an
  inline array of tables, of its ``name`` key).

A ``lock-version`` of 2 or later is refused (``packaging`` does); a later 1.x is read, with a
note that keys added since 1.0 were not.

Not read: ``environments`` and ``requires-python`` (they bound where the lock may be used;
they are not one target, so the environment's target stays empty), ``attestation-identities``,
``tool`` tables, upload times and sizes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.pylock import Package as PylockPackage
from packaging.pylock import Pylock, PylockValidationError
from packaging.utils import canonicalize_name
from packaging.version import Version

from gate.errors import InputError
from gate.model import Environment, Location, Package, Source, SourceKind, Target
from gate.sources.base import InputKind, decode_utf8, read_bounded
from gate.sources.lockfile import DETECT_BYTES, load_toml, read_head
from gate.targets import marker_environments

MAX_PYLOCK_BYTES = 50 * 1024 * 1024  # 90x the largest pylock.toml in the corpus (560 kB)
RUNTIME = "runtime"
SUPPORTED_LOCK_VERSION = Version("1.0")

_PACKAGES_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*packages[ \t]*\]\][ \t]*(?:#.*)?$", re.MULTILINE)
_TABLE_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)
_LOCK_VERSION_KEY = re.compile(r"^[ \t]*(?:lock-version|\"lock-version\"|'lock-version')[ \t]*=", re.MULTILINE)
_PACKAGES_KEY = re.compile(r"^[ \t]*packages[ \t]*=[ \t]*\[", re.MULTILINE)
_ENTRY_PATH = re.compile(r"^packages\[(\d+)\]")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_GROUP_ATOM = re.compile(r'"([^"]*)" (?:not )?in (extras|dependency_groups)\b')


@dataclass(frozen=True, kw_only=True, slots=True)
class PylockReader:
    """A PEP 751 ``pylock.toml`` (see the module docstring)."""

    name: ClassVar[str] = "pylock"
    input_kind: ClassVar[InputKind] = InputKind.LOCKFILE

    def detect(self, path: Path) -> bool:
        """A top-level ``lock-version`` key (before any table, where TOML puts top-level
        keys) and a ``[[packages]]`` table, in the first 64 kB. The file name is not
        consulted: a requirements file saved as ``pylock.toml`` is not one."""
        data = read_head(path, size=DETECT_BYTES)
        if data is None:
            return False
        text = data.decode("utf-8", errors="replace")
        first_table = _TABLE_HEADER.search(text)
        top_level = text[: first_table.start()] if first_table else text
        return bool(_LOCK_VERSION_KEY.search(top_level)) and bool(
            _PACKAGES_HEADER.search(text) or _PACKAGES_KEY.search(top_level))

    def read(self, path: Path, *, target: Target | None = None) -> Environment:
        """Every entry of the lock; ``target`` is not consulted (markers go into each
        package for the caller to evaluate)."""
        where = str(path)
        data = read_bounded(path, limit=MAX_PYLOCK_BYTES)
        if data is None:
            raise InputError("no such file", where=where)
        text = decode_utf8(data, where=where)
        document = load_toml(text, where=where)
        try:
            lock = Pylock.from_dict(document)
        except PylockValidationError as error:
            # packaging's marker and specifier errors add the input and a caret on further lines
            message = error.message.splitlines()[0] if error.message else type(error).__name__
            raise InputError(message, where=where, line=_error_line(error.context, text),
                             key_path=error.context) from None
        raw_entries: list[Mapping[str, Any]] = document["packages"]  # validated by Pylock.from_dict
        lines = _entry_lines(text, raw_entries)
        packages = [
            _package(entry, raw, index=index, where=where, line=line)
            for index, (entry, raw, line) in enumerate(zip(lock.packages, raw_entries, lines, strict=True))
        ]
        notes: tuple[str, ...] = ()
        if lock.lock_version > SUPPORTED_LOCK_VERSION:  # a later 1.x: readable, but may carry unread fields
            notes = (f"{where}: lock-version {lock.lock_version} is newer than {SUPPORTED_LOCK_VERSION}; keys "
                     "added since were not read.",)
        return Environment.create(source=where, kind=self.name, target=Target(), packages=packages, notes=notes)


def _error_line(context: str | None, text: str) -> int | None:
    """The line a validation error's key path points into: the entry's header for
    ``packages[N]...``, the key's own line for a top-level key."""
    if not context:
        context = "lock-version"  # the one check without a key path: an unsupported lock-version
    entry = _ENTRY_PATH.match(context)
    if entry is not None:
        headers = _header_lines(text)
        number = int(entry.group(1))
        return headers[number] if number < len(headers) else None
    key = re.escape(context.split(".", 1)[0].split("[", 1)[0])
    found = re.search(rf"^[ \t]*[\"']?{key}[\"']?[ \t]*=", text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else None


def _header_lines(text: str) -> list[int]:
    """The line of each ``[[packages]]`` header, counting newlines once through the text."""
    lines: list[int] = []
    line, position = 1, 0
    for match in _PACKAGES_HEADER.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        lines.append(line)
    return lines


def _entry_lines(text: str, entries: Sequence[Mapping[str, Any]]) -> list[int | None]:
    """The line of each entry: its ``[[packages]]`` header, or (an inline array of tables)
    the ``name = "..."`` key found after the previous entry's."""
    headers = _header_lines(text)
    if len(headers) == len(entries):
        return list(headers)
    lines: list[int | None] = []
    line, counted, position = 1, 0, 0
    for entry in entries:
        pattern = rf"\bname[ \t]*=[ \t]*[\"']{re.escape(str(entry.get('name', '')))}[\"']"
        found = re.compile(pattern).search(text, position)
        if found is None:
            lines.append(None)
            continue
        line += text.count("\n", counted, found.start())
        counted, position = found.start(), found.end()
        lines.append(line)
    return lines


def _package(entry: PylockPackage, raw: Mapping[str, Any], *, index: int, where: str, line: int | None) -> Package:
    name = canonicalize_name(entry.name)
    version = raw.get("version")  # the string as written; packaging keeps only the normalised Version
    marker = str(entry.marker) if entry.marker is not None else None
    return Package(
        name=name,
        version=version,
        specifier=None if version is not None else "",
        pypi_name=name,
        source=_source(entry),
        hashes=_hashes(entry, index=index, where=where, line=line),
        marker=marker,
        group=_group(marker),
        location=Location(file=where, line=line),
        requires=_requires(raw, index=index, where=where, line=line),
    )


def _source(entry: PylockPackage) -> Source:
    if entry.vcs is not None:
        location = entry.vcs.url or entry.vcs.path
        return Source(kind=SourceKind.VCS, url=f"{entry.vcs.type}+{location}", commit=entry.vcs.commit_id)
    if entry.directory is not None:
        kind = SourceKind.EDITABLE if entry.directory.editable else SourceKind.PATH
        return Source(kind=kind, url=entry.directory.path)
    if entry.archive is not None:
        url = entry.archive.url
        if url is not None and not url.lower().startswith("file:"):
            return Source(kind=SourceKind.URL, url=url)
        return Source(kind=SourceKind.PATH, url=url or entry.archive.path)
    return Source(kind=SourceKind.INDEX, url=entry.index)


def _hashes(entry: PylockPackage, *, index: int, where: str, line: int | None) -> tuple[tuple[str, str], ...]:
    """Every file's digests; ``packaging`` checks only that they are strings, and a digest
    that is not hexadecimal could never match a file, so it is refused here."""
    files = [*(entry.wheels or ()), *((entry.sdist,) if entry.sdist else ()),
             *((entry.archive,) if entry.archive else ())]
    found: set[tuple[str, str]] = set()
    for file in files:
        for algorithm, value in file.hashes.items():
            if not _HEX.match(value):
                raise InputError(f"hash {algorithm} = {value!r} is not hexadecimal", where=where, line=line,
                                 key_path=f"packages[{index}]")
            found.add((algorithm.lower(), value.lower()))
    return tuple(sorted(found))


def _requires(raw: Mapping[str, Any], *, index: int, where: str, line: int | None) -> tuple[str, ...]:
    """``dependencies`` (references to other entries) as ``name`` or ``name==version``;
    ``packaging`` checks only that each is a table."""
    requires: list[str] = []
    for number, dependency in enumerate(raw.get("dependencies") or ()):
        name = dependency.get("name")
        if not isinstance(name, str) or not name:
            raise InputError("missing or not a string", where=where, line=line,
                             key_path=f"packages[{index}].dependencies[{number}].name")
        version = dependency.get("version")
        if version is not None and not isinstance(version, str):
            raise InputError("not a string", where=where, line=line,
                             key_path=f"packages[{index}].dependencies[{number}].version")
        requires.append(f"{name}=={version}" if version is not None else name)
    return tuple(requires)


def _group(marker: str | None) -> str:
    """``runtime``, or the sorted-first group or extra the marker needs (module docstring)."""
    if marker is None or ("extras" not in marker and "dependency_groups" not in marker):
        return RUNTIME
    if _holds(marker, groups=frozenset(), extras=frozenset()):
        return RUNTIME
    candidates = sorted(
        (f"optional:{value}" if variable == "extras" else value, variable, value)
        for value, variable in set(_GROUP_ATOM.findall(marker)))
    for label, variable, value in candidates:
        if variable == "extras" and _holds(marker, groups=frozenset(), extras=frozenset({value})):
            return label
        if variable == "dependency_groups" and _holds(marker, groups=frozenset({value}), extras=frozenset()):
            return label
    groups = frozenset(value for _label, variable, value in candidates if variable == "dependency_groups")
    extras = frozenset(value for _label, variable, value in candidates if variable == "extras")
    if candidates and _holds(marker, groups=groups, extras=extras):
        return candidates[0][0]  # needs several at once ("gpu" in extras and "dev" in dependency_groups)
    return RUNTIME  # holds nowhere the gate knows: the target selection will leave it out


@cache
def _holds(marker: str, *, groups: frozenset[str], extras: frozenset[str]) -> bool:
    """Whether the marker holds for these groups and extras on some known Python and platform.
    An undecidable comparison counts as holding (fail closed: the package stays runtime)."""
    parsed = Marker(marker)
    for environment in marker_environments(Target(), extras=extras, dependency_groups=groups):
        try:
            if parsed.evaluate(environment, context="lock_file"):
                return True
        except (UndefinedComparison, UndefinedEnvironmentName):
            return True
    return False
