"""The explicit list of readers, and the look-ups the CLI makes in it.

A tuple, not entry points or import-time registration: what the gate can read is visible in
one place, reviewable in one diff, and cannot be widened by whatever else is installed next
to the gate. Adding a format is one module and one line here.

Order matters for auto-detection: the first reader whose ``detect`` accepts a path wins, so
the more specific reader (a virtualenv, recognised by its ``pyvenv.cfg``) comes before the
more general one (any directory of distributions).
"""

from __future__ import annotations

from pathlib import Path

from gate.errors import InputError
from gate.model import Environment, Target
from gate.sources.base import InputKind, Reader
from gate.sources.conda_environment import CondaEnvironmentReader
from gate.sources.conda_explicit import CondaExplicitReader
from gate.sources.conda_lock import CondaLockReader
from gate.sources.cyclonedx import CycloneDxReader
from gate.sources.pdm_lock import PdmLockReader
from gate.sources.pipfile_lock import PipfileLockReader
from gate.sources.poetry_lock import PoetryLockReader
from gate.sources.pylock import PylockReader
from gate.sources.requirements import RequirementsReader
from gate.sources.uv_lock import UvLockReader
from gate.sources.venv import SitePackagesReader, VenvReader

READERS: tuple[Reader, ...] = (
    VenvReader(),
    SitePackagesReader(),
    PylockReader(),
    UvLockReader(),
    PoetryLockReader(),
    PdmLockReader(),
    PipfileLockReader(),
    CondaLockReader(),  # before conda-environment: both are YAML with top-level lists
    CondaExplicitReader(),
    CondaEnvironmentReader(),
    CycloneDxReader(),
    RequirementsReader(),  # last: the fallback for any text of requirement lines
)


def reader_names(kind: InputKind | None = None) -> tuple[str, ...]:
    """Names the CLI offers (``--format``), optionally only those taking ``kind`` of input."""
    return tuple(reader.name for reader in READERS if kind is None or reader.input_kind is kind)


def reader_named(name: str) -> Reader:
    """The reader called ``name``; an :class:`InputError` listing the known names otherwise."""
    for reader in READERS:
        if reader.name == name:
            return reader
    raise InputError(f"no reader named {name!r} (known: {', '.join(reader_names())})")


def reader_for_environment(path: Path) -> Reader:
    """The first environment reader that recognises the directory ``path``."""
    if not path.exists():
        raise InputError("no such file or directory", where=path)
    if not path.is_dir():
        raise InputError("not a directory (an environment is a virtualenv or site-packages directory)", where=path)
    for reader in READERS:
        if reader.input_kind is InputKind.ENVIRONMENT and reader.detect(path):
            return reader
    raise InputError(
        "not a virtualenv or site-packages directory (no pyvenv.cfg, no *.dist-info or *.egg-info)", where=path
    )


def reader_for_lockfile(path: Path) -> Reader:
    """The first lockfile reader that recognises the file's content (never its name alone)."""
    if not path.exists():
        raise InputError("no such file or directory", where=path)
    if not path.is_file():
        raise InputError("not a file (a lockfile, requirements file, conda file or SBOM)", where=path)
    for reader in READERS:
        if reader.input_kind is InputKind.LOCKFILE and reader.detect(path):
            return reader
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
