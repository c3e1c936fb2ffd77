"""The explicit list of readers, and the look-ups the CLI makes in it.

A tuple, not entry points or import-time registration: what the gate can read is visible in
one place, reviewable in one diff, and cannot be widened by whatever else is installed next
to the gate. Adding a format is one module and one line here.

Order matters for auto-detection: the first reader whose ``detect`` accepts a path wins, so
the more specific reader (a virtualenv, recognised by its ``pyvenv.cfg``) comes before the
more general one (any directory of distributions).
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from pathlib import Path

from gate.errors import InputError
from gate.model import Environment, Target
from gate.sources.base import InputKind, Reader


@dataclass(frozen=True, kw_only=True, slots=True)
class ReaderEntry:
    """One line of the registry: the reader's name and input kind, and where its class lives.

    The module is imported on first use, so checking a virtualenv does not import eleven
    lockfile parsers (a fifth of the start-up time of ``gate check``). A test asserts that each
    entry's name and kind are the ones its class declares."""

    name: str
    input_kind: InputKind
    module: str
    attribute: str

    def load(self) -> Reader:
        return _reader(self.module, self.attribute)

    def detect(self, path: Path) -> bool:
        return self.load().detect(path)

    def read(self, path: Path, *, target: Target | None) -> Environment:
        return self.load().read(path, target=target)


@functools.cache
def _reader(module: str, attribute: str) -> Reader:
    """The reader instance of a class, made once per process."""
    reader: Reader = getattr(importlib.import_module(module), attribute)()
    return reader


def _entry(name: str, input_kind: InputKind, module: str, attribute: str) -> ReaderEntry:
    return ReaderEntry(name=name, input_kind=input_kind, module=f"gate.sources.{module}", attribute=attribute)


_ENV, _LOCK = InputKind.ENVIRONMENT, InputKind.LOCKFILE
READERS: tuple[ReaderEntry, ...] = (
    _entry("venv", _ENV, "venv", "VenvReader"),
    _entry("site-packages", _ENV, "venv", "SitePackagesReader"),
    _entry("pylock", _LOCK, "pylock", "PylockReader"),
    _entry("uv.lock", _LOCK, "uv_lock", "UvLockReader"),
    _entry("poetry.lock", _LOCK, "poetry_lock", "PoetryLockReader"),
    _entry("pdm.lock", _LOCK, "pdm_lock", "PdmLockReader"),
    _entry("Pipfile.lock", _LOCK, "pipfile_lock", "PipfileLockReader"),
    _entry("conda-lock", _LOCK, "conda_lock", "CondaLockReader"),  # before conda-environment: both YAML lists
    _entry("conda-explicit", _LOCK, "conda_explicit", "CondaExplicitReader"),
    _entry("conda-environment", _LOCK, "conda_environment", "CondaEnvironmentReader"),
    _entry("cyclonedx", _LOCK, "cyclonedx", "CycloneDxReader"),
    _entry("requirements", _LOCK, "requirements", "RequirementsReader"),  # last: any text of requirement lines
)


def reader_names(kind: InputKind | None = None) -> tuple[str, ...]:
    """Names the CLI offers (``--format``), optionally only those taking ``kind`` of input."""
    return tuple(reader.name for reader in READERS if kind is None or reader.input_kind is kind)


def reader_named(name: str) -> Reader:
    """The reader called ``name``; an :class:`InputError` listing the known names otherwise."""
    for entry in READERS:
        if entry.name == name:
            return entry.load()
    raise InputError(f"no reader named {name!r} (known: {', '.join(reader_names())})")


def reader_for_environment(path: Path) -> Reader:
    """The first environment reader that recognises the directory ``path``."""
    if not path.exists():
        raise InputError("no such file or directory", where=path)
    if not path.is_dir():
        raise InputError("not a directory (an environment is a virtualenv or site-packages directory)", where=path)
    for entry in READERS:
        if entry.input_kind is InputKind.ENVIRONMENT and entry.detect(path):
            return entry.load()
    raise InputError(
        "not a virtualenv or site-packages directory (no pyvenv.cfg, no *.dist-info or *.egg-info)", where=path
    )


def reader_for_lockfile(path: Path) -> Reader:
    """The first lockfile reader that recognises the file's content (never its name alone)."""
    if not path.exists():
        raise InputError("no such file or directory", where=path)
    if not path.is_file():
        raise InputError("not a file (a lockfile, requirements file, conda file or SBOM)", where=path)
    for entry in READERS:
        if entry.input_kind is InputKind.LOCKFILE and entry.detect(path):
            return entry.load()
    raise InputError(f"not a format the gate reads (supported: {', '.join(reader_names(InputKind.LOCKFILE))})",
                     where=path)


def read_lockfiles(paths: list[Path], *, target: Target | None = None) -> Environment:
    """Read one or more lockfiles into one Environment (the union of their packages)."""
    environments = [reader_for_lockfile(path).read(path, target=target) for path in paths]
    if len(environments) == 1:
        return environments[0]
    kinds = sorted({environment.kind for environment in environments})
    return Environment.create(
        source=", ".join(environment.source for environment in environments),
        kind="+".join(kinds),
        target=target or Target(),
        packages=[package for environment in environments for package in environment.packages],
        notes=tuple(note for environment in environments for note in environment.notes),
    )


def read_environment(path: Path, *, target: Target | None = None, reader: str | None = None) -> Environment:
    """Read an installed environment with the named reader, or the one that recognises it."""
    chosen = reader_named(reader) if reader is not None else reader_for_environment(path)
    if chosen.input_kind is not InputKind.ENVIRONMENT:
        raise InputError(f"the {chosen.name} reader reads lockfiles, not environment directories", where=path)
    return chosen.read(path, target=target)
