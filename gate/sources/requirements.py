"""pip requirements files: pip-compile and ``uv pip compile``/``uv export`` output, ``pip
freeze`` output and hand-written files.

A requirements file is pip's command line written into a file, so it is read the way pip
reads it (``pip/_internal/req/req_file.py``), line by line, and every line must be accounted
for (fail closed):

- Backslash continuations are joined; a comment line inside a continuation ends it, as in
  pip. A continuation still open at the end of the file is an error naming the line where it
  started (pip silently accepts it; a truncated file is the usual cause).
- Comments are ``#`` at the start of a line or after whitespace, so the ``#egg=`` and
  ``#sha256=`` fragments of URLs survive.
- Requirement lines: ``name[extras] <specifier> ; <marker>`` (parsed by
  ``packaging.requirements``), ``name @ <url>``, bare URLs (``https://.../x.whl``,
  ``git+https://...@rev#egg=name``), local paths (``./dir``, ``x.whl``, ``file:`` URLs) and
  ``-e``/``--editable``. A requirement is pinned when its only specifier is ``==`` without a
  wildcard or ``===``; anything else (``>=``, ``~=``, ``==1.13.*``, a bare name) is kept
  unpinned with its specifier text, never given a version. A wheel URL or path is pinned by
  its file name (the wheel specification makes the name and version exact); other archives,
  VCS checkouts and directories are unpinned (only building them would tell).
- ``--hash=algo:hex`` options after a requirement give its hashes (pip's three algorithms,
  sha256, sha384 and sha512; anything else is an error, as in pip).
- ``-r``/``--requirement`` and ``-c``/``--constraint`` includes are read relative to the
  including file, recursively (``-r`` inside a constraints file includes requirements, as in
  pip); a file reached twice is read once, and an include that loops back to a file still
  being read is an error at the include. Includes by URL are refused (the gate works
  offline).
- Constraints files are parsed and validated like any other, but their entries are not
  packages of the environment: a constraint only narrows what a requirement may resolve to
  and installs nothing by itself. An unpinned requirement stays unpinned even when a
  constraint pins it: merging the two would need pip's resolver semantics (markers, extras,
  several constraints per name), and reporting "unpinned" errs on the strict side. A note
  names the constraints files read.
- Options accepted (the options pip allows in a requirements file): ``-i/--index-url``,
  ``--extra-index-url``, ``--no-index``, ``-f/--find-links``, ``--trusted-host``, ``--pre``,
  ``--prefer-binary``, ``--only-binary``, ``--no-binary``, ``--require-hashes``,
  ``--use-feature``, ``-r``, ``-c``, ``-e``; after a requirement: ``--hash``,
  ``-C/--config-settings``, ``--global-option``. Any other option is an error naming it.

What the file says about each package:

- Source: an index requirement is :attr:`SourceKind.INDEX` with the index URL only when the
  files name exactly one index (``--index-url``) and no ``--extra-index-url`` or
  ``--find-links``: with several places to look, pip takes a version from whichever has it,
  so the file cannot say which one served a package, and the URL is ``None`` rather than a
  guess (a note in :attr:`~gate.model.Environment.notes` names the places). With no
  ``--index-url`` the index is pip's configuration (PyPI unless ``pip.conf`` or
  ``PIP_INDEX_URL`` say otherwise), which the file does not record: ``None`` too. VCS URLs
  are :attr:`SourceKind.VCS` (URL without the ``@rev`` and fragment, the revision as
  ``commit``: it may be a branch or tag, as written), other URLs :attr:`SourceKind.URL`,
  ``file:`` URLs and paths :attr:`SourceKind.PATH`, and ``-e`` :attr:`SourceKind.EDITABLE`
  (with the VCS URL and revision for a VCS editable).
- Name: the requirement's name, else the ``#egg=`` fragment, else the wheel file name,
  else, for a local directory, ``[project] name`` from its ``pyproject.toml`` (the
  directory taken relative to the requirements file). A URL or path that names no project
  in any of these ways (``-e .`` without a ``pyproject.toml`` that names it, a bare
  ``git+https://...`` URL) keeps the URL or path as written as its name, and ``pypi_name``
  ``None``: the project is only known by building it, and the gate does not guess a name
  that advisories would then be matched under. A note lists them.
- Marker: the requirement's environment marker, normalised by ``packaging``.
- Extras (``name[extra]``) are not kept: :class:`~gate.model.Package` has no place for them
  and they do not change which version is installed; they only pull in other requirements,
  which a compiled file lists on their own lines.
- Group: always ``runtime`` (a requirements file has no groups).
- Location: the file (as given to ``read``, or the include path joined to the including
  file's directory) and the line where the requirement starts.
- ``requires`` is empty: the ``# via`` comments say who needs a package, not what it needs.

Not read, by design: ``${VAR}`` environment variable references are kept verbatim, not
expanded (the gate judges the file, not the machine's environment); local paths need not
exist (pip resolves them against its working directory, which the gate cannot know; only a
directory's ``pyproject.toml`` is looked for, beside the requirements file, for its name).
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from gate.errors import InputError
from gate.model import Environment, Location, Package, Source, SourceKind, Target
from gate.sources.base import InputKind, decode_utf8, long_number, read_bounded
from gate.sources.lockfile import read_head

MAX_REQUIREMENTS_BYTES = 50 * 1024 * 1024  # 300x the largest compiled file in the corpus (170 kB)
MAX_PYPROJECT_BYTES = 1024 * 1024
MAX_FILES = 1000  # includes read for one top-level file
MAX_INCLUDE_DEPTH = 50  # -r inside -r ...; far past real use, well inside Python's recursion limit
DETECT_BYTES = 64 * 1024
DETECT_LINES = 20  # logical lines that must all parse for detect() to accept a file

HASH_ALGORITHMS = ("sha256", "sha384", "sha512")  # pip's --hash accepts these only

# Canonical option name -> whether it takes a value. Aliases map onto the long names.
_GLOBAL_OPTIONS: dict[str, bool] = {
    "--index-url": True,
    "--extra-index-url": True,
    "--no-index": False,
    "--find-links": True,
    "--trusted-host": True,
    "--pre": False,
    "--prefer-binary": False,
    "--only-binary": True,
    "--no-binary": True,
    "--require-hashes": False,
    "--use-feature": True,
    "--requirement": True,
    "--constraint": True,
    "--editable": True,
}
_REQUIREMENT_OPTIONS: dict[str, bool] = {"--hash": True, "--config-settings": True, "--global-option": True}
_OPTIONS = {**_GLOBAL_OPTIONS, **_REQUIREMENT_OPTIONS}
_SHORT_OPTIONS = {"-i": "--index-url", "-f": "--find-links", "-r": "--requirement", "-c": "--constraint",
                  "-e": "--editable", "-C": "--config-settings"}

_COMMENT = re.compile(r"(^|\s+)#.*$")
_VCS_PREFIX = re.compile(r"(?:git|hg|svn|bzr)\+", re.IGNORECASE)
_URL_SCHEME = re.compile(r"(?:https?|ftp|file):", re.IGNORECASE)
_URL_MARKER_SEPARATOR = re.compile(r";\s")
_PATH_EXTRAS = re.compile(r"^(.*?)(\[[^\]]*\])?$", re.DOTALL)
_PROJECT_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_SHELL_QUOTING = re.compile(r"[\"'\\]")  # all that makes shlex.split differ from splitting at whitespace
_SHELL_SPACE = re.compile(r"[ \t\r\n]+")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")
# What other lockfile formats start with; the fallback reader must not claim them.
_TOML_KEY = re.compile(r"^[A-Za-z0-9_.\"'-]+\s*=(?!=)")
_YAML_KEY = re.compile(r"^[A-Za-z_][\w-]*:(\s|$)")


@dataclass(frozen=True, kw_only=True, slots=True)
class RequirementsReader:
    """A pip requirements file and the files it includes (see the module docstring)."""

    name: ClassVar[str] = "requirements"
    input_kind: ClassVar[InputKind] = InputKind.LOCKFILE

    def detect(self, path: Path) -> bool:
        """Whether the first lines parse as requirements and options. It is the fallback
        reader, tried last; it still refuses what starts like TOML, JSON, YAML or a conda
        ``@EXPLICIT`` file, so that a broken lockfile of another format gets that format's
        error rather than a requirements parse error."""
        text = _prefix(path)
        if text is None:
            return False
        seen = 0
        try:
            for number, line in _logical_lines(text, where=str(path), complete=False):
                if not seen and (line.startswith(("{", "[", "@EXPLICIT")) or _TOML_KEY.match(line)
                                 or _YAML_KEY.match(line)):
                    return False
                parsed = _parse_line(line, where=str(path), line=number)
                if parsed.requirement is not None:
                    _package(parsed, file=str(path), line=number, base=None)
                seen += 1
                if seen >= DETECT_LINES:
                    break
        except InputError:
            return False
        return seen > 0  # empty or only comments: nothing says this is a requirements file

    def read(self, path: Path, *, target: Target | None = None) -> Environment:
        """Every requirement of ``path`` and its ``-r`` includes; ``target`` is not
        consulted (markers go into each package for the caller to evaluate)."""
        state = _State()
        state.read_file(str(path), constraint=False, stack=())
        parsed = state.parsed()
        return Environment.create(source=str(path), kind=self.name, target=Target(), packages=parsed.packages,
                                  notes=parsed.notes)


@dataclass(frozen=True, kw_only=True, slots=True)
class ParsedPip:
    """What pip requirement lines declare: the packages (an index requirement with the index URL
    when the options name exactly one, see the module docstring), and the notes on what the
    lines leave open (several indexes, constraints files read, requirements naming no project)."""

    packages: tuple[Package, ...]
    notes: tuple[str, ...]


def parse_pip_lines(lines: Iterable[tuple[int, str]], *, file: str) -> ParsedPip:
    """Requirement and option lines held in another file (the ``pip:`` list of a conda
    environment file), read exactly as the lines of a requirements file ``file`` are.

    ``lines`` are ``(line number, logical line)`` pairs: one requirement or option line each,
    already joined, stripped and free of comments; they are consumed in order, so an error
    raised while producing one comes after the errors of the lines before it. ``file`` is where
    the lines stand: the location of each package and error, and the directory ``-r``/``-c``
    includes and local projects are taken relative to. Every error is an :class:`InputError`
    naming ``file`` and the line."""
    state = _State()
    state.read_lines(lines, file=file, constraint=False, stack=((os.path.realpath(file), file),))
    return state.parsed()


@dataclass(frozen=True, kw_only=True, slots=True)
class _Option:
    name: str  # the canonical long spelling
    spelling: str  # as written, for messages
    value: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class _Line:
    """One logical line: a requirement (or ``-e`` target) with its own options, or options."""

    requirement: str | None
    editable: bool
    options: tuple[_Option, ...]


@dataclass(kw_only=True, slots=True)
class _State:
    """What the files read so far have said; options apply to the whole set, as in pip."""

    packages: list[Package] = field(default_factory=list)
    index_urls: list[str] = field(default_factory=list)
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    no_index: bool = False
    done: set[tuple[str, bool]] = field(default_factory=set)
    constraint_files: list[str] = field(default_factory=list)

    def places(self) -> list[str]:
        """Where pip may take an index requirement from, as the options name them."""
        indexes = [] if self.no_index else [f"--index-url {url}" for url in dict.fromkeys(self.index_urls)]
        return [*indexes, *(f"--extra-index-url {url}" for url in dict.fromkeys(self.extra_index_urls)),
                *(f"--find-links {url}" for url in dict.fromkeys(self.find_links))]

    def notes(self) -> tuple[str, ...]:
        """What the report should say about what the files leave open."""
        notes: list[str] = []
        from_index = any(p.source.kind is SourceKind.INDEX for p in self.packages)
        if from_index and self.index_url() is None and (self.places() or self.no_index):
            notes.append(f"The requirements name {', '.join(self.places()) or '--no-index'}: which of these "
                         "served each package is not recorded, so the packages' index URL is left unknown.")
        if self.constraint_files:
            notes.append(f"Constraints files ({', '.join(self.constraint_files)}) were checked but are not "
                         "packages: a requirement they pin but the requirements do not is reported as unpinned.")
        unnamed = [p.name for p in self.packages if p.pypi_name is None]
        if unnamed:
            notes.append(f"{len(unnamed)} requirement(s) name no project ({', '.join(unnamed[:3])}"
                         f"{', ...' if len(unnamed) > 3 else ''}): listed under the URL or path, and not matched "
                         "against advisories.")
        return tuple(notes)

    def parsed(self) -> ParsedPip:
        """The packages read, each index requirement with :meth:`index_url` when it is known,
        and :meth:`notes`."""
        index_url = self.index_url()
        packages = tuple(
            replace(package, source=Source(kind=SourceKind.INDEX, url=index_url))
            if package.source.kind is SourceKind.INDEX and index_url is not None else package
            for package in self.packages
        )
        return ParsedPip(packages=packages, notes=self.notes())

    def index_url(self) -> str | None:
        """The one index every index requirement came from, or ``None`` when it is not
        known (none named, or several places pip may have taken a package from)."""
        if self.no_index or self.extra_index_urls or self.find_links or len(set(self.index_urls)) != 1:
            return None
        return self.index_urls[0]

    def read_file(self, file: str, *, constraint: bool, stack: tuple[tuple[str, str], ...],
                  include_line: int | None = None) -> None:
        """Read one file; ``stack`` holds (real path, display path) of the files including it."""
        real = os.path.realpath(file)
        if (real, constraint) in self.done:
            return
        if len(stack) >= MAX_INCLUDE_DEPTH:
            raise InputError(f"includes nested more than {MAX_INCLUDE_DEPTH} deep", where=stack[-1][1],
                             line=include_line)
        if len(self.done) >= MAX_FILES:
            raise InputError(f"more than {MAX_FILES} files included", where=stack[-1][1], line=include_line)
        data = read_bounded(file, limit=MAX_REQUIREMENTS_BYTES)
        if data is None:
            if stack:
                raise InputError(f"included file {file} does not exist", where=stack[-1][1], line=include_line)
            raise InputError("no such file", where=file)
        text = decode_utf8(data, where=file).removeprefix("\ufeff")
        if "\0" in text:  # binary, and no path or URL may hold one
            raise InputError("a NUL character: not a text file", where=file,
                             line=text.count("\n", 0, text.find("\0")) + 1)
        if constraint:
            self.constraint_files.append(file)
        self.read_lines(_logical_lines(text, where=file, complete=True), file=file, constraint=constraint,
                        stack=(*stack, (real, file)))
        self.done.add((real, constraint))

    def read_lines(self, lines: Iterable[tuple[int, str]], *, file: str, constraint: bool,
                   stack: tuple[tuple[str, str], ...]) -> None:
        """Read the logical lines of ``file``; ``stack`` holds (real path, display path) of the
        files being read, ``file`` last."""
        base = os.path.dirname(file) or "."
        for number, content in lines:
            parsed = _parse_line(content, where=file, line=number)
            if parsed.requirement is not None:
                package = _package(parsed, file=file, line=number, base=base)
                if not constraint:
                    self.packages.append(package)
                continue
            for option in parsed.options:
                self._option(option, file=file, line=number, stack=stack)

    def _option(self, option: _Option, *, file: str, line: int, stack: tuple[tuple[str, str], ...]) -> None:
        value = option.value or ""
        if option.name == "--index-url":
            self.index_urls.append(value)
        elif option.name == "--extra-index-url":
            self.extra_index_urls.append(value)
        elif option.name == "--find-links":
            self.find_links.append(value)
        elif option.name == "--no-index":
            self.no_index = True
        elif option.name in ("--requirement", "--constraint"):
            if _URL_SCHEME.match(value) and not value.lower().startswith("file:"):
                raise InputError(f"{option.spelling} {value}: includes from a URL are not read (the gate works "
                                 "offline; download the file and pass it)", where=file, line=line)
            if value.lower().startswith("file:"):
                value = _file_url_path(value, where=file, line=line)
            if "\0" in value:  # possible in a conda environment's pip: list ("\0" in YAML); no path holds one
                raise InputError(f"{option.spelling} {value!r}: a path with a NUL character", where=file, line=line)
            included = os.path.normpath(os.path.join(os.path.dirname(file), value))
            real = os.path.realpath(included)
            for index, (open_real, _display) in enumerate(stack):
                if open_real == real:
                    chain = " -> ".join([display for _real, display in stack[index:]] + [included])
                    raise InputError(f"{option.spelling} {value}: include loop ({chain})", where=file, line=line)
            self.read_file(included, constraint=option.name == "--constraint", stack=stack, include_line=line)
        # The other global options change how pip builds or trusts, not what is installed.


def _prefix(path: Path) -> str | None:
    """The first lines of a regular file as text, or ``None`` for what cannot be a text
    requirements file (missing, special, binary, not UTF-8)."""
    data = read_head(path, size=DETECT_BYTES + 1)
    if data is None:
        return None
    if len(data) > DETECT_BYTES:  # keep whole lines only: the cut may split a character
        data = data[: data.rfind(b"\n", 0, DETECT_BYTES) + 1]
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None


def _logical_lines(text: str, *, where: str, complete: bool) -> Iterator[tuple[int, str]]:
    """(first physical line number, content without comments) of each non-empty logical line,
    joined and stripped as pip's ``join_lines`` and ``ignore_comments`` do. ``complete`` is
    false for detection's prefix of a file, whose last line may continue past the cut."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        is_comment = _COMMENT.match(line) is not None
        if not line.endswith("\\") or is_comment:
            if pending:
                pending.append(" " + line if is_comment else line)
                joined, pending = "".join(pending), []
                content, first = _COMMENT.sub("", joined).strip(), start
            else:
                content, first = _COMMENT.sub("", line).strip(), number
            if content:
                yield first, content
        else:
            if not pending:
                start = number
            pending.append(line[:-1])
    if pending and complete:
        raise InputError("the line continues (ends with \\) but the file ends", where=where, line=start)
    if pending:  # detection's prefix cut a long line at a line end: its lines so far are whole
        content = _COMMENT.sub("", "".join(pending)).strip()
        if content:
            yield start, content


def _parse_line(text: str, *, where: str, line: int) -> _Line:
    """Split a logical line into its requirement and options, as pip's
    ``break_args_options``: the requirement is the words before the first one starting
    with ``-``."""
    words = text.split(" ")
    cut = next((i for i, word in enumerate(words) if word.startswith("-")), len(words))
    requirement = " ".join(words[:cut]).strip()
    options = _options(" ".join(words[cut:]), where=where, line=line)
    editables = [option for option in options if option.name == "--editable"]
    if requirement:
        for option in options:
            if option.name not in _REQUIREMENT_OPTIONS:
                raise InputError(f"option {option.spelling} cannot follow a requirement on the same line",
                                 where=where, line=line)
        return _Line(requirement=requirement, editable=False, options=options)
    if len(editables) > 1:
        raise InputError("more than one -e/--editable on one line", where=where, line=line)
    if editables:
        return _Line(requirement=editables[0].value, editable=True,
                     options=tuple(option for option in options if option.name != "--editable"))
    for option in options:
        if option.name in _REQUIREMENT_OPTIONS:
            raise InputError(f"option {option.spelling} without a requirement on its line", where=where, line=line)
    return _Line(requirement=None, editable=False, options=options)


def _options(text: str, *, where: str, line: int) -> tuple[_Option, ...]:
    """Options as pip's option parser takes them: ``--name=value``, ``--name value``,
    ``-x value`` and ``-xvalue``, after shell-style splitting."""
    if _SHELL_QUOTING.search(text):
        try:
            words = shlex.split(text)
        except ValueError as error:
            raise InputError(f"cannot split the options ({error})", where=where, line=line) from None
    else:  # what shlex would give, 30x faster on the long --hash lines of compiled files
        words = _SHELL_SPACE.split(text.strip(" \t\r\n")) if text.strip(" \t\r\n") else []
    options: list[_Option] = []
    position = 0
    while position < len(words):
        word = words[position]
        position += 1
        value: str | None = None
        if word.startswith("--"):
            spelling, separator, attached = word.partition("=")
            name = spelling
            if separator:
                value = attached
        elif word.startswith("-") and len(word) >= 2:
            spelling = word[:2]
            name = _SHORT_OPTIONS.get(spelling, spelling)
            if len(word) > 2:
                value = word[2:]
        else:
            raise InputError(f"unexpected {word!r} among the options", where=where, line=line)
        takes_value = _OPTIONS.get(name)
        if takes_value is None:
            raise InputError(f"unknown option {spelling} (not one pip accepts in a requirements file)",
                             where=where, line=line)
        if takes_value and value is None:
            if position >= len(words):
                raise InputError(f"option {spelling} needs a value", where=where, line=line)
            value = words[position]
            position += 1
        elif not takes_value and value is not None:
            raise InputError(f"option {spelling} takes no value", where=where, line=line)
        options.append(_Option(name=name, spelling=spelling, value=value))
    return tuple(options)


def _hashes(options: tuple[_Option, ...], *, where: str, line: int) -> tuple[tuple[str, str], ...]:
    found: set[tuple[str, str]] = set()
    for option in options:
        if option.name != "--hash":
            continue
        algorithm, separator, digest = (option.value or "").partition(":")
        if not separator or not digest:
            raise InputError(f"--hash={option.value}: not algorithm:hexdigest", where=where, line=line)
        if algorithm.lower() not in HASH_ALGORITHMS:
            raise InputError(f"--hash={option.value}: algorithm {algorithm} is not one pip accepts "
                             f"({', '.join(HASH_ALGORITHMS)})", where=where, line=line)
        if not _HEX.match(digest):
            raise InputError(f"--hash={option.value}: the digest is not hexadecimal", where=where, line=line)
        found.add((algorithm.lower(), digest.lower()))
    return tuple(sorted(found))


def _package(parsed: _Line, *, file: str, line: int, base: str | None) -> Package:
    """The package a requirement line declares. ``base`` is the directory local projects
    are looked up in for their name (``None``: do not look, as in detection)."""
    text = parsed.requirement or ""
    hashes = _hashes(parsed.options, where=file, line=line)
    if not parsed.editable and not _is_url(text) and not _looks_like_path(text):
        return _named(text, hashes=hashes, where=file, line=line)
    target, marker = _split_marker(text, where=file, line=line)
    return _direct(target, editable=parsed.editable, marker=marker, hashes=hashes, where=file, line=line, base=base)


def _is_url(text: str) -> bool:
    return bool(_VCS_PREFIX.match(text) or _URL_SCHEME.match(text))


def _looks_like_path(text: str) -> bool:
    """pip's test: a path separator or a leading dot; and an archive name (``x.whl``), which
    pip installs from the file rather than read as a project name."""
    head = text.split(";", 1)[0].strip()
    if " @ " in head or head.startswith("@"):
        return False
    return "/" in head or "\\" in head or head.startswith(".") or head.lower().endswith(_ARCHIVE_SUFFIXES)


def _split_marker(text: str, *, where: str, line: int) -> tuple[str, str | None]:
    """A URL or path and its marker: pip needs "; " after a URL, as ";" may be part of one."""
    parts = _URL_MARKER_SEPARATOR.split(text, maxsplit=1) if _is_url(text) else text.split(";", 1)
    target = parts[0].strip()
    if len(parts) == 1 or not parts[1].strip():
        return target, None
    return target, _marker(parts[1], where=where, line=line)


def _marker(text: str, *, where: str, line: int) -> str:
    try:
        return str(Marker(text.strip()))
    except InvalidMarker as error:
        raise InputError(f"invalid environment marker {text.strip()!r} ({_first_line(error)})",
                         where=where, line=line) from None


def _named(text: str, *, hashes: tuple[tuple[str, str], ...], where: str, line: int) -> Package:
    """``name[extras] specifier ; marker`` or ``name @ url ; marker``. The marker is split
    off first, as pip does, so that ``name @ url; marker`` (no space) is read as pip reads it."""
    head, separator, marker_text = text.partition(";")
    try:
        requirement = Requirement(head.strip())
    except InvalidRequirement as error:
        raise InputError(f"not a requirement or an option: {text!r} ({_first_line(error)})",
                         where=where, line=line) from None
    marker = _marker(marker_text, where=where, line=line) if separator and marker_text.strip() else None
    name = canonicalize_name(requirement.name)
    location = Location(file=where, line=line)
    if requirement.url is not None:
        wheel = _wheel(requirement.url, where=where, line=line)
        if wheel is not None and wheel[0] != name:
            raise InputError(f"{requirement.name} @ {requirement.url}: the wheel is for {wheel[0]}",
                             where=where, line=line)
        pin = wheel[1] if wheel is not None else None
        return Package(name=name, version=pin, specifier=None if pin else "", pypi_name=name,
                       source=_url_source(requirement.url, editable=False), hashes=hashes, marker=marker,
                       location=location)
    specifiers = list(requirement.specifier)
    version: str | None = None
    if len(specifiers) == 1 and (
            specifiers[0].operator == "===" or (specifiers[0].operator == "==" and "*" not in specifiers[0].version)):
        version = specifiers[0].version
    return Package(name=name, version=version, specifier=None if version else str(requirement.specifier),
                   pypi_name=name, source=Source(kind=SourceKind.INDEX), hashes=hashes,
                   marker=marker, location=location)


def _direct(target: str, *, editable: bool, marker: str | None, hashes: tuple[tuple[str, str], ...],
            where: str, line: int, base: str | None) -> Package:
    """A URL, VCS URL or local path without a ``name @`` in front."""
    if not _is_url(target):
        target = _PATH_EXTRAS.sub(r"\1", target)  # ./dir[extra]: extras are not kept
    source = _url_source(target, editable=editable)
    location = Location(file=where, line=line)
    name = _egg_name(target, where=where, line=line)
    wheel = _wheel(target, where=where, line=line)
    version = wheel[1] if wheel is not None else None
    if name is None and wheel is not None:
        name = wheel[0]
    local_directory = (not _VCS_PREFIX.match(target)
                       and (not _URL_SCHEME.match(target) or target.lower().startswith("file:"))
                       and not target.split("#", 1)[0].lower().endswith(_ARCHIVE_SUFFIXES))
    if name is None and base is not None and local_directory:
        name = _project_name(target, base=base, where=where, line=line)
    if name is None:  # known only by building it: keep the URL or path as the name, never match it
        return Package(name=target, version=None, specifier="", pypi_name=None, source=source, hashes=hashes,
                       marker=marker, location=location)
    return Package(name=name, version=version, specifier=None if version else "", pypi_name=name, source=source,
                   hashes=hashes, marker=marker, location=location)


def _url_source(url: str, *, editable: bool) -> Source:
    """Where a URL or path points: a VCS checkout, a remote file, a local file or directory."""
    without_fragment = url.split("#", 1)[0]
    if _VCS_PREFIX.match(url):
        repository, revision = split_revision(without_fragment)
        return Source(kind=SourceKind.EDITABLE if editable else SourceKind.VCS, url=repository, commit=revision)
    if editable:
        return Source(kind=SourceKind.EDITABLE, url=without_fragment)
    if _URL_SCHEME.match(url) and not url.lower().startswith("file:"):
        return Source(kind=SourceKind.URL, url=without_fragment)
    return Source(kind=SourceKind.PATH, url=without_fragment)


def split_revision(url: str) -> tuple[str, str | None]:
    """``git+https://host/repo.git@rev`` -> (``git+https://host/repo.git``, ``rev``); an ``@``
    before the path is a user name (``git+ssh://git@host/...``, ``git+git@host:repo``)."""
    scheme_end = url.find("://")
    # scp-like URLs (git+git@github.com:owner/repo.git@rev) start their path at the ":"
    path_start = url.find("/", scheme_end + 3) if scheme_end >= 0 else url.find(":", url.find("+") + 1)
    at = url.rfind("@")
    if path_start < 0 or at < path_start:
        return url, None
    return url[:at], url[at + 1:] or None


def _egg_name(url: str, *, where: str, line: int) -> str | None:
    fragment = url.partition("#")[2]
    if not fragment:
        return None
    eggs = parse_qs(fragment).get("egg")
    if not eggs:
        return None
    egg = _PATH_EXTRAS.sub(r"\1", eggs[-1])
    if not _PROJECT_NAME.match(egg):
        raise InputError(f"#egg={eggs[-1]} is not a project name", where=where, line=line)
    return canonicalize_name(egg)


def _wheel(url: str, *, where: str, line: int) -> tuple[str, str] | None:
    """(normalised name, version as written) from a wheel file name, or ``None``."""
    path = _url_path(url, where=where, line=line) if _is_url(url) else url.split("#", 1)[0]
    filename = unquote(path.replace("\\", "/").rsplit("/", 1)[-1])
    if not filename.lower().endswith(".whl"):
        return None
    try:
        name, _version, _build, _tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as error:
        raise InputError(f"{filename}: not a valid wheel file name ({error})", where=where, line=line) from None
    return str(name), filename.split("-")[1]


def _project_name(target: str, *, base: str, where: str, line: int) -> str | None:
    """``[project] name`` of the local directory ``target``, relative to ``base`` (``where`` and
    ``line``: the requirement, for errors in ``target`` itself)."""
    directory = _file_url_path(target, where=where, line=line) if target.lower().startswith("file:") else target
    pyproject = os.path.join(base, directory, "pyproject.toml")
    data = read_bounded(pyproject, limit=MAX_PYPROJECT_BYTES)
    if data is None:
        return None
    text = decode_utf8(data, where=pyproject)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"not valid TOML ({error})", where=pyproject) from None
    except RecursionError:
        raise InputError("not valid TOML (nested too deeply)", where=pyproject) from None
    except ValueError:  # an integer too long to convert
        problem, at = long_number(text)
        raise InputError(f"not valid TOML ({problem})", where=pyproject, line=at) from None
    project = document.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return canonicalize_name(name) if isinstance(name, str) and _PROJECT_NAME.match(name) else None


def _first_line(error: Exception) -> str:
    """packaging's parse errors add the input and a caret on further lines."""
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _url_path(url: str, *, where: str, line: int | None) -> str:
    """The path of a URL; a URL that cannot be split (``http://[x``: an unclosed IPv6 host) is an error."""
    try:
        return urlsplit(url).path
    except ValueError as error:  # "Invalid IPv6 URL", a host that NFKC turns into a URL delimiter
        raise InputError(f"{url}: not a valid URL ({error})", where=where, line=line) from None


def _file_url_path(url: str, *, where: str, line: int | None) -> str:
    """The local path of a ``file:`` URL. urllib.request is imported here, not at start-up: it
    pulls in http.client, a tenth of a check's import time, for two rare lines."""
    from urllib.request import url2pathname

    return url2pathname(_url_path(url, where=where, line=line))
