"""conda ``environment.yml``: the channels and the dependency specs an environment is created from.

An environment file is a request, not a resolution: most specs name a range or nothing, and
conda picks the versions when it creates the environment. It is read for what it states.

Read:

- ``channels``: the first one (``nodefaults`` aside) is the channel a spec without its own
  ``channel::`` prefix is reported from. That is where conda looks first under the usual
  strict channel priority; with several channels the package may come from a later one, which
  only a lockfile can tell.
- ``dependencies``: conda match specs, one per item, in every form conda accepts from a file:
  ``numpy``, ``numpy=1.21`` (conda's ``=`` is fuzzy: ``1.21.*``), ``numpy==1.21.5``,
  ``numpy 1.21.5`` (a bare version after a space is exact), ``numpy=1.21.5=py39h...`` and
  ``numpy 1.21.5 py39h...`` (``conda env export``: version and build, exact), ``numpy>=1.20``,
  ``numpy>=1.20,<2``, ``numpy~=1.20``, ``conda-forge::numpy``, ``conda-forge/linux-64::numpy``,
  and the bracket form ``numpy[version='>=1.20',build=py39*,channel=conda-forge,subdir=linux-64,
  md5=...,sha256=...]`` (other bracket keys are an error naming the key). A spec is pinned only
  when its version is exact: no operator, no ``*``, no ``|`` or ``,``, and not conda's fuzzy
  ``=``; anything else keeps its specifier text as written (``=1.21``, ``>=1.20``, ``""``).
- the ``pip:`` item: a list of pip requirements and options, read exactly as a requirements
  file is (:func:`gate.sources.requirements.parse_pip_lines`): ``name==1.0``,
  ``name>=1``, ``name @ url``, ``git+https://...#egg=name``, ``-e <path or VCS URL>``,
  ``--hash``; the options ``--index-url``, ``--extra-index-url``, ``--find-links`` decide each
  pip package's index URL as for a requirements file (known only when exactly one index is
  named); ``-r``/``-c`` files are read relative to the environment file (conda runs pip in its
  directory). Local paths are named from their ``pyproject.toml`` when it is there, else keep
  the path as their name and get no PyPI name (``-e .``).

What each package gets: conda specs are ecosystem ``conda``, named as conda names them (see
:mod:`gate.sources.conda_names` for why not PEP 503-normalised), with source
:attr:`SourceKind.CHANNEL` (the spec's ``channel::`` prefix as written, else the first channel
listed, else ``None``: conda's configured defaults); a PyPI name only per
:func:`gate.sources.conda_names.pypi_name_for`, with a build string's Python tag as evidence
(``env export`` files carry builds) and the shipped tables otherwise. Conda specs without a
build whose names are not in the tables get no PyPI name; the environment's notes list them
("not matched against PyPI advisories"), so the gap shows in the report. A ``subdir`` in the
spec gives a platform marker; nothing else does. pip items are ecosystem ``pypi`` as in a
requirements file. Every package is group ``runtime`` (the format has no groups), located at
the line of its item, with no ``requires``. The target is left empty: ``python=3.11`` is a
spec, not an interpreter.

Not read: ``name`` and ``prefix`` (where the environment goes), ``variables`` (environment
variables set on activation), and other top-level keys, which add no packages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import yaml

from gate.model import Environment, Location, Package, Source, SourceKind, Target
from gate.sources.base import InputKind
from gate.sources.conda_names import (
    DIGEST_LENGTHS,
    KNOWN_SUBDIRS,
    build_has_python,
    conda_package_name,
    pypi_name_for,
    subdir_marker,
    untargeted_note,
)
from gate.sources.lockfile import YamlPlace, compose_yaml, is_null, line_of, paused_gc, read_sample, yaml_kind
from gate.sources.requirements import parse_pip_lines

MAX_ENVIRONMENT_BYTES = 10 * 1024 * 1024  # 1500x the largest environment.yml in the corpus (6.6 kB)


# --- conda match specs ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class CondaSpec:
    """One conda match spec taken apart. ``version`` is set only for an exact version."""

    name: str
    version: str | None
    specifier: str
    build: str | None
    channel: str | None
    subdir: str | None
    hashes: tuple[tuple[str, str], ...]


_SPEC_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_EXACT_VERSION = re.compile(r"[A-Za-z0-9_.+!]+")
_BRACKETS = re.compile(r"^(?P<base>[^\[\]]*)\[(?P<pairs>[^\[\]]*)\]$")
_PAIR = re.compile(r"\s*(?P<key>[a-z_][a-z0-9_]*)\s*=\s*"
                   r"(?:'(?P<single>[^']*)'|\"(?P<double>[^\"]*)\"|(?P<bare>[^,\s'\"]+))\s*(?:,|\s|$)")
_BRACKET_KEYS = ("version", "build", "channel", "subdir", "md5", "sha256")
_HEX = re.compile(r"[0-9a-fA-F]+")


def parse_conda_spec(text: str) -> CondaSpec:
    """Take a conda match spec apart (the forms are listed in the module docstring).

    Raises ``ValueError`` with a message naming what is wrong."""
    spec = text.strip()
    pairs: dict[str, str] = {}
    brackets = _BRACKETS.match(spec)
    if brackets is not None:
        spec = brackets.group("base").strip()
        pairs = _bracket_pairs(brackets.group("pairs"))
    elif "[" in spec or "]" in spec:
        raise ValueError(f"cannot parse the conda spec {text!r} (unbalanced brackets)")
    channel: str | None = None
    subdir: str | None = None
    if "::" in spec:
        channel, _, spec = spec.rpartition("::")
        prefix, _, last = channel.rpartition("/")
        if prefix and last in KNOWN_SUBDIRS:
            channel, subdir = prefix, last
        if not channel:
            raise ValueError(f"cannot parse the conda spec {text!r} (empty channel before '::')")
    name_match = _SPEC_NAME.match(spec)
    if name_match is None:
        raise ValueError(f"cannot parse the conda spec {text!r} (no package name)")
    name = name_match.group(0)
    version, specifier, build = _version_and_build(spec[name_match.end():], text)
    if "version" in pairs:
        specifier = pairs["version"]
        version = specifier if _EXACT_VERSION.fullmatch(specifier) else None
    build = pairs.get("build", build)
    channel = pairs.get("channel", channel)
    subdir = pairs.get("subdir", subdir)
    if subdir is not None and subdir not in KNOWN_SUBDIRS:
        raise ValueError(f"'{subdir}' in {text!r} is not a conda platform")
    hashes: list[tuple[str, str]] = []
    for algorithm, length in DIGEST_LENGTHS.items():
        if algorithm in pairs:
            digest = pairs[algorithm]
            if len(digest) != length or not _HEX.fullmatch(digest):
                raise ValueError(f"{algorithm}={digest!r} in {text!r} is not a {algorithm} hex digest")
            hashes.append((algorithm, digest.lower()))
    return CondaSpec(name=name, version=version, specifier=specifier, build=build, channel=channel,
                     subdir=subdir, hashes=tuple(sorted(hashes)))


def _bracket_pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    position = 0
    while position < len(text.rstrip()):
        match = _PAIR.match(text, position)
        if match is None:
            raise ValueError(f"cannot parse the bracket part [{text}] of a conda spec")
        key = match.group("key")
        if key not in _BRACKET_KEYS:
            raise ValueError(f"conda spec key {key!r} is not supported (supported: {', '.join(_BRACKET_KEYS)})")
        value = next(v for v in (match.group("single"), match.group("double"), match.group("bare")) if v is not None)
        pairs[key] = value
        position = match.end()
    return pairs


def _version_and_build(rest: str, text: str) -> tuple[str | None, str, str | None]:
    """(exact version or None, specifier as written, build) from what follows the name."""
    specifier = rest.strip()
    if not specifier:
        return None, "", None
    if rest[0] in " \t":  # "name version [build]": a bare version here is exact
        words = specifier.split()
        if len(words) > 2:
            raise ValueError(f"cannot parse the conda spec {text!r} (more than a version and a build)")
        version_text = words[0]
        build = words[1] if len(words) == 2 else None
        return (version_text if _EXACT_VERSION.fullmatch(version_text) else None), specifier, build
    if specifier.startswith("=="):
        version_text, _, build_text = specifier[2:].partition("=")
        exact = version_text if _EXACT_VERSION.fullmatch(version_text) else None
        return exact, specifier, build_text or None
    if specifier.startswith("="):
        version_text, separator, build_text = specifier[1:].partition("=")
        if not version_text:
            raise ValueError(f"cannot parse the conda spec {text!r} (no version after '=')")
        # name=1.8 is fuzzy (1.8.*); with a build, name=1.8=py39_0 is exact
        exact = version_text if separator and _EXACT_VERSION.fullmatch(version_text) else None
        return exact, specifier, build_text or None
    if specifier[0] in "<>!~":
        return None, specifier, None
    raise ValueError(f"cannot parse the conda spec {text!r} (unexpected {specifier[0]!r} after the name)")


# --- the reader ----------------------------------------------------------------------------------

_DEPENDENCIES_LINE = re.compile(r"^dependencies:[ \t]*(?:#.*)?$|^dependencies:[ \t]*\[", re.MULTILINE)
_LOCK_LINES = (re.compile(r"^version:", re.MULTILINE), re.compile(r"^metadata:", re.MULTILINE),
               re.compile(r"^package:", re.MULTILINE))
_LIST_ITEM = re.compile(r"^[ \t]*-[ \t]+(.*?)[ \t]*$")
_MAPPING_ITEM = re.compile(r"^[A-Za-z_][\w.-]*:(?:\s|$)")


@dataclass(frozen=True, kw_only=True, slots=True)
class CondaEnvironmentReader:
    """conda's ``environment.yml`` (see the module docstring for what is read)."""

    name: ClassVar[str] = "conda-environment"
    input_kind: ClassVar[InputKind] = InputKind.LOCKFILE
    max_bytes: int = MAX_ENVIRONMENT_BYTES

    def detect(self, path: Path) -> bool:
        """A top-level ``dependencies:`` key whose first item is a spec or the ``pip:`` list
        (a Helm ``Chart.yaml`` also has ``dependencies:``, of ``name:`` mappings), and not
        the three top-level keys of a conda-lock file."""
        sample = read_sample(path)
        if sample is None or sample.lstrip().startswith("{"):
            return False
        if all(pattern.search(sample) for pattern in _LOCK_LINES):
            return False
        found = _DEPENDENCIES_LINE.search(sample)
        if found is None:
            return False
        if found.group(0).rstrip().endswith("["):
            return True
        for line in sample[found.end():].splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            item = _LIST_ITEM.match(line)
            if item is None:
                return False
            first = item.group(1)
            return not _MAPPING_ITEM.match(first) or first.startswith("pip:")
        return True  # the sample ends at the key

    def read(self, path: Path, *, target: Target | None = None) -> Environment:
        """Every spec of ``path``; ``target`` is not consulted (a ``subdir`` becomes a marker)."""
        with paused_gc():
            return self._read(path)

    def _read(self, path: Path) -> Environment:
        file = str(path)
        root = compose_yaml(path, limit=self.max_bytes)
        top_place = YamlPlace(file)
        if not isinstance(root, yaml.MappingNode):
            raise top_place.error("expected a mapping with 'dependencies' (an environment.yml), "
                                  f"got {yaml_kind(root)}", root)
        top = top_place.mapping(root)
        channels: list[str] = []
        if "channels" in top and not is_null(top["channels"]):
            place = top_place.at("channels")
            channels = [place.at(i).text(node) for i, node in enumerate(place.sequence(top["channels"]))]
        default_channel = next((channel for channel in channels if channel != "nodefaults"), None)
        dependencies_node = top_place.member(top, "dependencies", root)
        place = top_place.at("dependencies")
        packages: list[Package] = []
        unmatched: list[str] = []
        subdirs: set[str] = set()
        for index, item in enumerate(place.sequence(dependencies_node)):
            item_place = place.at(index)
            if isinstance(item, yaml.MappingNode):
                packages.extend(_pip_section(item, item_place, path=path))
                continue
            text = item_place.text(item)
            try:
                spec = parse_conda_spec(text)
            except ValueError as error:
                raise item_place.error(str(error), item) from None
            package = _conda_package(spec, default_channel=default_channel, file=file, line=line_of(item))
            if spec.subdir is not None:
                subdirs.add(spec.subdir)
            if package.pypi_name is None and spec.build is None:
                unmatched.append(package.name)
            packages.append(package)
        notes: list[str] = []
        if unmatched:
            notes.append(f"{len(unmatched)} conda spec{'s' if len(unmatched) > 1 else ''} without a build string "
                         "not known to be PyPI projects, so not matched against PyPI advisories: "
                         + ", ".join(sorted(set(unmatched))))
        odd = untargeted_note(subdirs)
        if odd is not None:
            notes.append(odd)
        return Environment.create(source=file, kind=self.name, target=Target(), packages=packages,
                                  notes=tuple(notes))


def _conda_package(spec: CondaSpec, *, default_channel: str | None, file: str, line: int) -> Package:
    evidence = build_has_python(spec.build) if spec.build is not None else None
    marker = subdir_marker(spec.subdir) if spec.subdir is not None else None
    return Package(
        name=conda_package_name(spec.name),
        version=spec.version,
        specifier=None if spec.version is not None else spec.specifier,
        ecosystem="conda",
        pypi_name=pypi_name_for(spec.name, python_evidence=evidence),
        source=Source(kind=SourceKind.CHANNEL, url=spec.channel or default_channel),
        hashes=spec.hashes,
        marker=marker,
        location=Location(file=file, line=line),
    )


def _pip_section(node: yaml.MappingNode, place: YamlPlace, *, path: Path) -> list[Package]:
    """The ``- pip: [...]`` item, read line by line as a requirements file would be."""
    table = place.mapping(node)
    others = sorted(key for key in table if key != "pip")
    if others:
        raise place.error(f"unexpected mapping {others[0]!r} among the dependencies (only 'pip:' is one)", node)
    pip_node = place.member(table, "pip", node)  # an empty mapping ("- {}") has no pip list
    pip_place = place.at("pip")

    def lines() -> Iterator[tuple[int, str]]:  # lazily: an item's error comes after the lines before it
        for index, item in enumerate(pip_place.sequence(pip_node)):
            text = pip_place.at(index).text(item).strip()
            if not text:
                raise pip_place.at(index).error("empty pip requirement", item)
            yield line_of(item), text

    return list(parse_pip_lines(lines(), file=str(path)).packages)
