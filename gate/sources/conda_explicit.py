"""conda explicit spec files: ``conda list --explicit`` output and ``conda-lock render``'s
per-platform ``conda-<platform>.lock`` files.

The format is an ``@EXPLICIT`` line, before it only comments and blank lines, and after it one
package file URL per line, which conda installs exactly as listed (no solving)::

    # platform: linux-64
    @EXPLICIT
    https://conda.anaconda.org/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0.conda#<md5>

Read from each URL: the channel (the URL up to the subdir, e.g.
``https://conda.anaconda.org/conda-forge``; reported as source :attr:`SourceKind.CHANNEL`), the
subdir (``linux-64``, ``noarch``...), and name, version and build from the file name
``<name>-<version>-<build>.tar.bz2`` or ``.conda`` (names may contain dashes; versions and
builds never do, so the last two fields are the version and the build). The fragment is the
artifact's hash: ``#<md5>`` (conda ``--md5``, conda-lock), ``#<sha256>`` (64 digits),
``#md5=``/``#sha256=``, or ``#md5:``/``#sha256:``. Every package is pinned (the file names one
build), ecosystem ``conda``, group ``runtime``, located at its URL's line, with no ``requires``
(the format records none). Its PyPI name follows
:func:`gate.sources.conda_names.pypi_name_for`, with a Python build tag (``py39h...``,
``pyhd8ed1ab_0``) as the evidence.

The file is one environment for one platform: the ``# platform:`` comment's, else the one
platform subdir of its URLs (a URL for another platform is an error, as conda would refuse to
install it). Every package, ``noarch`` ones too, gets that platform's marker (see
:mod:`gate.sources.conda_names`), because it is part of that platform's solution; this is
also what conda-lock writes, so a ``conda-lock.yml`` and the spec file rendered from it read
the same. The target is that platform and the Python version of the ``python`` package when
the file lists one.

Not read: other comments (``# input_hash:``...). Anything that is not a comment, a blank line
or a package URL after ``@EXPLICIT`` is an error naming the line, as conda would refuse it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from gate.errors import InputError
from gate.model import Environment, Location, Package, Source, SourceKind, Target
from gate.sources.base import InputKind
from gate.sources.conda_names import (
    DIGEST_LENGTHS,
    KNOWN_SUBDIRS,
    NOARCH,
    build_has_python,
    conda_package_name,
    pypi_name_for,
    python_version,
    split_artifact_url,
    subdir_marker,
    subdir_platform,
    untargeted_note,
)
from gate.sources.lockfile import read_sample, read_text

MAX_EXPLICIT_BYTES = 50 * 1024 * 1024  # 400x the largest spec file in the corpus (115 kB, 983 packages)

_PLATFORM_COMMENT = re.compile(r"^#\s*platform:\s*(\S+)\s*$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
_FRAGMENT = re.compile(r"^(?:(?P<algorithm>md5|sha256)[=:])?(?P<digest>[0-9a-fA-F]+)$")


@dataclass(frozen=True, kw_only=True, slots=True)
class CondaExplicitReader:
    """A conda ``@EXPLICIT`` spec file (see the module docstring)."""

    name: ClassVar[str] = "conda-explicit"
    input_kind: ClassVar[InputKind] = InputKind.LOCKFILE
    max_bytes: int = MAX_EXPLICIT_BYTES

    def detect(self, path: Path) -> bool:
        """An ``@EXPLICIT`` line with only comments and blank lines before it."""
        sample = read_sample(path)
        if sample is None:
            return False
        for line in sample.splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            return stripped == "@EXPLICIT"
        return False

    def read(self, path: Path, *, target: Target | None = None) -> Environment:
        """Every package URL of ``path``; ``target`` is not consulted (subdirs become markers)."""
        file = str(path)
        text = read_text(path, limit=self.max_bytes)
        platform: tuple[str, int] | None = None  # the comment's platform and line
        explicit = False
        packages: list[tuple[Package, str]] = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                comment = _PLATFORM_COMMENT.match(line)
                if comment is not None:
                    platform = comment.group(1), number
                continue
            if not explicit:
                if line != "@EXPLICIT":
                    raise InputError(f"expected @EXPLICIT before the package URLs, got {_shorten(line)}",
                                     where=file, line=number)
                explicit = True
                continue
            packages.append(_package(line, file=file, line=number))
        if not explicit:
            raise InputError("no @EXPLICIT line (not a conda explicit spec file)", where=file)
        subdir = _platform(platform, packages, file=file)
        marker = subdir_marker(subdir) if subdir is not None else None
        marked = [replace(package, marker=marker) for package, _ in packages]
        notes = tuple(note for note in (untargeted_note({subdir} if subdir else set()),) if note is not None)
        return Environment.create(source=file, kind=self.name, target=_target(subdir, marked),
                                  packages=marked, notes=notes)


def _shorten(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _package(url: str, *, file: str, line: int) -> tuple[Package, str]:
    if url == "@EXPLICIT":
        raise InputError("a second @EXPLICIT line", where=file, line=line)
    if not _URL.match(url):
        raise InputError(f"expected a package URL, got {_shorten(url)}", where=file, line=line)
    artifact = split_artifact_url(url)
    if artifact is None:
        raise InputError(f"not a conda package URL (<channel>/<subdir>/<name>-<version>-<build>.conda or "
                         f".tar.bz2): {_shorten(url)}", where=file, line=line)
    if artifact.subdir not in KNOWN_SUBDIRS:
        raise InputError(f"'{artifact.subdir}' is not a conda platform (in {_shorten(url)})", where=file, line=line)
    hashes: tuple[tuple[str, str], ...] = ()
    _, separator, fragment = url.partition("#")
    if separator:
        hashes = (_hash(fragment, file=file, line=line),)
    package = Package(
        name=conda_package_name(artifact.name),
        version=artifact.version,
        ecosystem="conda",
        pypi_name=pypi_name_for(artifact.name, python_evidence=build_has_python(artifact.build)),
        source=Source(kind=SourceKind.CHANNEL, url=artifact.channel),
        hashes=hashes,
        location=Location(file=file, line=line),
    )
    return package, artifact.subdir


def _hash(fragment: str, *, file: str, line: int) -> tuple[str, str]:
    """The artifact hash a URL fragment carries: a bare digest is told by its length."""
    match = _FRAGMENT.match(fragment)
    algorithm = match.group("algorithm") if match else None
    digest = match.group("digest") if match else ""
    if algorithm is None:
        algorithm = next((name for name, length in DIGEST_LENGTHS.items() if length == len(digest)), None)
    if match is None or algorithm is None or len(digest) != DIGEST_LENGTHS[algorithm]:
        raise InputError(f"#{fragment}: not an md5 or sha256 hex digest", where=file, line=line)
    return algorithm, digest.lower()


def _platform(comment: tuple[str, int] | None, packages: list[tuple[Package, str]], *, file: str) -> str | None:
    """The conda platform the file is for: its ``# platform:`` comment, else the one platform
    subdir among its URLs; ``None`` when every package is ``noarch`` and no comment says."""
    platform: str | None = None
    if comment is not None:
        platform, line = comment
        if platform not in KNOWN_SUBDIRS or platform == NOARCH:
            raise InputError(f"# platform: '{platform}' is not a conda platform", where=file, line=line)
    for package, subdir in packages:
        if subdir == NOARCH:
            continue
        if platform is None:
            platform = subdir
        elif subdir != platform:
            raise InputError(f"a package for {subdir} in a spec file for {platform} (one file is one platform)",
                             where=file, line=package.location.line if package.location else None)
    return platform


def _target(subdir: str | None, packages: list[Package]) -> Target:
    """The platform the file is for and the version of the Python it installs."""
    gate_platform = subdir_platform(subdir) if subdir is not None else None
    return Target(python=python_version(packages), platform=gate_platform)
