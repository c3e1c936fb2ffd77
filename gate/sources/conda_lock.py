"""conda-lock's ``conda-lock.yml`` (lockfile ``version: 1``): one resolution per platform.

The file has ``metadata`` (``platforms``, ``channels``, ``sources``, ``content_hash``) and a
``package`` list; each entry is one artifact for one platform::

    - name: numpy
      version: 1.26.4
      manager: conda            # or pip
      platform: linux-64
      dependencies: {python: '>=3.11,<3.12.0a0', python_abi: 3.11.*, ...}
      url: https://conda.anaconda.org/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0.conda
      hash: {md5: ..., sha256: ...}
      category: main
      optional: false

Every entry becomes one :class:`~gate.model.Package` (a name locked for three platforms is
three packages), so the package count is the entry count:

- ``platform`` becomes the package's marker (``linux-64`` -> ``sys_platform == "linux" and
  platform_machine == "x86_64"``, see :mod:`gate.sources.conda_names`), so target selection
  picks a platform's resolution as it picks wheels by markers. A file locked for one platform
  states that platform as its target; the Python version is stated when every platform locks
  the same ``python``.
- ``manager: conda``: ecosystem ``conda``, source :attr:`SourceKind.CHANNEL` with the channel
  URL (the ``url`` up to its subdir). The PyPI name follows
  :func:`gate.sources.conda_names.pypi_name_for`, with a ``python`` or ``python_abi``
  dependency, or a Python build tag in the file name, as the evidence.
- ``manager: pip``: ecosystem ``pypi``, ``pypi_name`` the normalised name. The source is
  :attr:`SourceKind.INDEX` with ``https://pypi.org/simple`` for files on
  ``files.pythonhosted.org`` (PyPI's file host) and an unknown index (``None``) for a file on
  any other host (the lock records the file, not the index page it was found on); a
  ``git+`` URL is :attr:`SourceKind.VCS` with the commit after ``@`` (conda-lock then writes
  that commit, not an artifact hash, under ``hash.sha256``: it is not reported as a hash);
  a ``file:`` URL is :attr:`SourceKind.PATH`.
- ``hash``: ``md5`` and ``sha256``, lower-cased.
- ``category``: ``main`` (also conda-lock's default when absent) is group ``runtime``; any
  other category (``dev``...) is the group. (``optional`` only restates that the category is
  not ``main``.)
- ``dependencies`` are the package's ``requires``: for conda entries as conda match specs
  (``python >=3.11,<3.12.0a0``; they are not PEP 508), for pip entries as PEP 508 strings
  (``torch``, ``pydantic>=2.7.1,<2.8.0``).
- The location is the line of the entry's first key.

Not read: ``metadata`` beyond ``platforms`` (the channels are taken from each entry's URL;
``content_hash`` and ``sources`` say how the lock was made, not what it holds), and an
entry's ``source`` mapping (conda-lock repeats a pip entry's direct URL there; ``url`` says
the same). A ``version``
other than 1 is an error, as is any entry field of the wrong type.

The file is composed with libyaml into nodes rather than loaded into Python objects, for the
lines and for speed, with the garbage collector paused (the 1,482-entry lock of the corpus
reads in about 0.15 s).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import yaml
from packaging.utils import canonicalize_name

from gate.model import Environment, Location, Package, Source, SourceKind, Target
from gate.sources.base import InputKind
from gate.sources.conda_names import (
    DIGEST_LENGTHS,
    build_has_python,
    conda_package_name,
    pypi_name_for,
    python_version,
    split_artifact_url,
    subdir_marker,
    subdir_platform,
    untargeted_note,
)
from gate.sources.lockfile import YamlPlace, compose_yaml, is_null, line_of, paused_gc, read_sample

MAX_CONDA_LOCK_BYTES = 50 * 1024 * 1024  # 75x the largest conda-lock.yml in the corpus (658 kB)
SUPPORTED_VERSIONS = frozenset({"1"})
PYPI_FILES_HOST = "files.pythonhosted.org"
PYPI_INDEX = "https://pypi.org/simple"
RUNTIME_CATEGORY = "main"

_TOP_KEYS = (re.compile(r"^version:[ \t]*['\"]?\d+", re.MULTILINE), re.compile(r"^metadata:", re.MULTILINE),
             re.compile(r"^package:", re.MULTILINE), re.compile(r"^[ \t]+platforms:", re.MULTILINE))
_HEX = re.compile(r"[0-9a-fA-F]+")
_COMMIT = re.compile(r"[0-9a-fA-F]{7,64}")
_VCS = re.compile(r"(?:git|hg|svn|bzr)\+", re.IGNORECASE)
_WILDCARDS = ("", "*")


@dataclass(frozen=True, kw_only=True, slots=True)
class CondaLockReader:
    """conda-lock's unified ``conda-lock.yml`` (see the module docstring)."""

    name: ClassVar[str] = "conda-lock"
    input_kind: ClassVar[InputKind] = InputKind.LOCKFILE
    max_bytes: int = MAX_CONDA_LOCK_BYTES

    def detect(self, path: Path) -> bool:
        """Top-level ``version:``, ``metadata:`` (with ``platforms:``) and ``package:`` keys."""
        sample = read_sample(path)
        return sample is not None and all(pattern.search(sample) for pattern in _TOP_KEYS)

    def read(self, path: Path, *, target: Target | None = None) -> Environment:
        """Every entry of ``path``, for every platform; ``target`` is not consulted (each
        entry's platform is its marker)."""
        with paused_gc():
            return self._read(path)

    def _read(self, path: Path) -> Environment:
        file = str(path)
        root = compose_yaml(path, limit=self.max_bytes)
        top_place = YamlPlace(file)
        top = top_place.mapping(root)
        version = top_place.at("version").text(top_place.member(top, "version", root))
        if version not in SUPPORTED_VERSIONS:
            raise top_place.at("version").error(
                f"conda-lock lockfile version {version} is not supported (supported: 1)", top["version"])
        metadata_place = top_place.at("metadata")
        metadata = metadata_place.mapping(top_place.member(top, "metadata", root))
        platforms_place = metadata_place.at("platforms")
        platforms = [platforms_place.at(i).text(node) for i, node in
                     enumerate(platforms_place.sequence(metadata_place.member(metadata, "platforms", top["metadata"])))]
        entries_place = top_place.at("package")
        packages: list[Package] = []
        subdirs: set[str] = set()
        for index, node in enumerate(entries_place.sequence(top_place.member(top, "package", root))):
            package, platform = _package(node, entries_place.at(index), file=file)
            packages.append(package)
            subdirs.add(platform)
        notes = tuple(note for note in (untargeted_note(subdirs),) if note is not None)
        return Environment.create(source=file, kind=self.name, target=_target(platforms, packages),
                                  packages=packages, notes=notes)


def _package(node: yaml.Node, place: YamlPlace, *, file: str) -> tuple[Package, str]:
    entry = place.mapping(node)
    name = place.field(entry, "name", node)
    version = place.field(entry, "version", node)
    manager = place.field(entry, "manager", node)
    platform = place.field(entry, "platform", node)
    url = place.field(entry, "url", node)
    category = place.field(entry, "category", node) if "category" in entry else RUNTIME_CATEGORY
    try:
        marker = subdir_marker(platform)
    except ValueError as error:
        raise place.at("platform").error(str(error), entry["platform"]) from None
    dependencies = _dependencies(entry, place, node)
    source, commit = _source(manager, url, place.at("url"), entry["url"])
    hashes = _hashes(entry, place, node, vcs_commit=commit)
    group = "runtime" if category == RUNTIME_CATEGORY else category
    location = Location(file=file, line=line_of(node))
    if manager == "pip":
        pypi_name = canonicalize_name(name)
        requires = tuple(_pep508(dependency, spec) for dependency, spec in dependencies)
        package = Package(name=pypi_name, version=version, ecosystem="pypi", pypi_name=pypi_name, source=source,
                          hashes=hashes, marker=marker, group=group, location=location, requires=requires)
        return package, platform
    artifact = split_artifact_url(url)
    evidence = any(dependency in ("python", "python_abi") for dependency, _ in dependencies) or (
        artifact is not None and build_has_python(artifact.build))
    package = Package(
        name=conda_package_name(name),
        version=version,
        ecosystem="conda",
        pypi_name=pypi_name_for(name, python_evidence=evidence),
        source=source,
        hashes=hashes,
        marker=marker,
        group=group,
        location=location,
        requires=tuple(f"{dependency} {spec}" if spec else dependency for dependency, spec in dependencies),
    )
    return package, platform


def _dependencies(entry: dict[str, yaml.Node], place: YamlPlace, node: yaml.Node) -> list[tuple[str, str]]:
    """``{name: spec}`` as (name, spec) pairs; an empty or absent mapping is no dependencies."""
    if "dependencies" not in entry:
        return []
    dependencies_node = entry["dependencies"]
    if is_null(dependencies_node):
        return []
    dependencies_place = place.at("dependencies")
    table = dependencies_place.mapping(dependencies_node)
    pairs: list[tuple[str, str]] = []
    for dependency, spec_node in table.items():
        spec = "" if is_null(spec_node) else dependencies_place.field(table, dependency, node).strip()
        pairs.append((dependency, spec))
    return pairs


def _pep508(name: str, spec: str) -> str:
    """A pip dependency as PEP 508: conda-lock writes ``*`` for "any version"."""
    return name if spec in _WILDCARDS else f"{name}{spec}"


def _source(manager: str, url: str, place: YamlPlace, node: yaml.Node) -> tuple[Source, str | None]:
    """Where the artifact came from, and the VCS commit when it is a checkout."""
    if manager == "conda":
        artifact = split_artifact_url(url)
        if artifact is None:
            raise place.error("not a conda package URL (<channel>/<subdir>/<name>-<version>-<build>.conda or "
                              ".tar.bz2)", node)
        return Source(kind=SourceKind.CHANNEL, url=artifact.channel), None
    if manager != "pip":
        raise place.error(f"unknown manager {manager!r} (conda-lock writes conda or pip)", node)
    if _VCS.match(url):
        repository, _, revision = url.split("#", 1)[0].rpartition("@")
        if not repository or "://" not in repository or not _COMMIT.fullmatch(revision):
            raise place.error("a VCS URL without an @<commit>", node)
        return Source(kind=SourceKind.VCS, url=repository, commit=revision.lower()), revision.lower()
    try:
        parts = urlsplit(url)
    except ValueError as error:  # an unclosed IPv6 host, a host NFKC turns into a delimiter
        raise place.error(f"not a valid URL ({error})", node) from None
    if parts.scheme == "file":
        return Source(kind=SourceKind.PATH, url=url), None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise place.error("expected an http(s), file: or VCS URL", node)
    index = PYPI_INDEX if parts.hostname == PYPI_FILES_HOST else None
    return Source(kind=SourceKind.INDEX, url=index), None


def _hashes(entry: dict[str, yaml.Node], place: YamlPlace, node: yaml.Node, *,
            vcs_commit: str | None) -> tuple[tuple[str, str], ...]:
    if "hash" not in entry:
        return ()
    hash_place = place.at("hash")
    table = hash_place.mapping(entry["hash"])
    found: set[tuple[str, str]] = set()
    for algorithm, digest_node in table.items():
        digest = hash_place.field(table, algorithm, node).lower()
        if vcs_commit is not None and digest == vcs_commit:
            continue  # conda-lock's hash of a VCS checkout is its commit, already the source's
        length = DIGEST_LENGTHS.get(algorithm)
        if length is None:
            raise hash_place.at(algorithm).error("unknown hash algorithm (conda-lock writes md5 and sha256)",
                                                 digest_node)
        if len(digest) != length or not _HEX.fullmatch(digest):
            raise hash_place.at(algorithm).error(f"not a {algorithm} hex digest", digest_node)
        found.add((algorithm, digest))
    return tuple(sorted(found))


def _target(platforms: list[str], packages: list[Package]) -> Target:
    """The platform when the lock is for exactly one, and the Python every platform locks."""
    platform = subdir_platform(platforms[0]) if len(platforms) == 1 else None
    return Target(python=python_version(packages), platform=platform)
