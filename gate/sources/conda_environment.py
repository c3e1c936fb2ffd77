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
  file is (:mod:`gate.sources.requirements`, whose parser this reader uses): ``name==1.0``,
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

This module also holds the YAML helpers the conda-lock reader shares: a node tree composed
with libyaml (for the lines), a bound on the nodes with aliases expanded (a YAML bomb is an
error, not an exhausted machine), typed access to nodes with one-line errors, and a pause of
the garbage collector while a large file is read.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import yaml

from gate.errors import InputError
from gate.model import Environment, Location, Package, Source, SourceKind, Target
from gate.sources.base import InputKind
from gate.sources.conda_names import (
    KNOWN_SUBDIRS,
    build_has_python,
    conda_package_name,
    pypi_name_for,
    subdir_marker,
    untargeted_note,
)
from gate.sources.requirements import _package as _pip_package
from gate.sources.requirements import _parse_line as _parse_pip_line
from gate.sources.requirements import _State as _PipState
from gate.sources.uv_lock import read_sample, read_text

MAX_ENVIRONMENT_BYTES = 10 * 1024 * 1024  # 1500x the largest environment.yml in the corpus (6.6 kB)
MAX_YAML_NODES = 5_000_000  # 100x the largest conda-lock.yml seen (46k nodes); aliases count per use

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_MERGE = "tag:yaml.org,2002:merge"
_NOT_TEXT = frozenset({_NULL, _BOOL})
_BOOL_VALUES = yaml.constructor.SafeConstructor.bool_values


# --- YAML helpers shared by the conda readers ----------------------------------------------------


def compose_yaml(path: Path, *, limit: int, max_nodes: int = MAX_YAML_NODES) -> yaml.Node:
    """The document's node tree, composed with libyaml rather than loaded: nodes keep their
    lines, and no Python objects are built for the tens of thousands of scalars of a large lock
    (composing measured a third faster than loading). Invalid YAML, an empty document and a
    tree of more than ``max_nodes`` nodes, counting each use of an alias, are one-line
    :class:`InputError`\\ s."""
    text = read_text(path, limit=limit)
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = ": ".join(part for part in (error.context, error.problem) if part)
        raise InputError(f"not valid YAML ({problem})", where=path, line=line) from None
    except yaml.reader.ReaderError as error:
        character = error.character if isinstance(error.character, int) else ord(error.character[:1] or "\0")
        raise InputError(f"not valid YAML (unacceptable character #x{character:04x}: {error.reason})", where=path,
                         line=text.count("\n", 0, error.position) + 1) from None
    except yaml.YAMLError as error:
        raise InputError(f"not valid YAML ({str(error).splitlines()[0]})", where=path) from None
    if root is None:
        raise InputError("empty (no YAML document)", where=path)
    _bound_nodes(root, where=path, max_nodes=max_nodes)
    return root


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large file is read.

    Composing a 1,500-entry conda-lock.yml allocates ~100k nodes and marks, and building the
    packages ~50k more, none of it cyclic garbage; the collector's passes over that growing
    heap measured 40-60% of the read time. It is re-enabled (if it was on) on every exit."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _bound_nodes(root: yaml.Node, *, where: Path, max_nodes: int) -> None:
    """Count the nodes as a loader would visit them, aliases expanded, and stop at the bound:
    the billion-laughs document is a few hundred bytes that expands to 10^9 nodes, and an alias
    to an enclosing node never ends. Iterative, so depth costs no recursion."""
    stack = [root]
    count = 0
    while stack:
        node = stack.pop()
        count += 1
        if count > max_nodes:
            raise InputError(f"more than {max_nodes} YAML nodes once aliases are expanded (a YAML bomb?)",
                             where=where, line=node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "nothing (null)"
    if node.tag == _BOOL:
        return "true or false"
    return "a string"


@dataclass(frozen=True, slots=True)
class YamlPlace:
    """A key path in a YAML file and typed reads of the node there: every wrong type is a
    one-line :class:`InputError` naming the node's line and the key path, such as
    ``conda-lock.yml:41: package[3].version: expected a string, got a list``."""

    file: str
    key: str = ""

    def at(self, key: str | int) -> YamlPlace:
        """The place of a member (``str``) or element (``int``)."""
        suffix = f"[{key}]" if isinstance(key, int) else (f".{key}" if self.key else key)
        return YamlPlace(self.file, self.key + suffix)

    def error(self, message: str, node: yaml.Node | None) -> InputError:
        line = node.start_mark.line + 1 if node is not None else None
        return InputError(message, where=self.file, line=line, key_path=self.key or None)

    def mapping(self, node: yaml.Node) -> dict[str, yaml.Node]:
        """A mapping with plain keys, as ``{key: value node}``; duplicate keys are an error."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(f"expected a mapping, got {_kind(node)}", node)
        result: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                raise self.error("YAML merge keys (<<) are not supported", key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(f"expected plain keys, got {_kind(key_node)}", key_node)
            if key_node.value in result:
                raise self.at(key_node.value).error("duplicate key", key_node)
            result[key_node.value] = value_node
        return result

    def sequence(self, node: yaml.Node) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(f"expected a list, got {_kind(node)}", node)
        return list(node.value)

    def text(self, node: yaml.Node) -> str:
        """A scalar as written. Unquoted ``1.10`` or ``2024.1`` are numbers to YAML; a version
        must keep its digits, so the scalar's text is taken whatever type YAML resolved. Null
        (an empty value) and true/false are not text."""
        if not isinstance(node, yaml.ScalarNode) or node.tag in (_NULL, _BOOL):
            raise self.error(f"expected a string, got {_kind(node)}", node)
        return str(node.value)

    def boolean(self, node: yaml.Node) -> bool:
        if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL:
            return bool(_BOOL_VALUES[str(node.value).lower()])
        raise self.error(f"expected true or false, got {_kind(node)}", node)

    def field(self, table: dict[str, yaml.Node], key: str, parent: yaml.Node) -> str:
        """The text of a required member. The well-typed case is checked inline and builds no
        key path (a large lock reads thousands of fields); anything else takes the checked way."""
        node = table.get(key)
        if type(node) is yaml.ScalarNode and node.tag not in _NOT_TEXT:
            return str(node.value)
        return self.at(key).text(self.member(table, key, parent))

    def member(self, table: dict[str, yaml.Node], key: str, parent: yaml.Node) -> yaml.Node:
        """A required member; its absence is reported at the parent's line."""
        if key not in table:
            raise self.at(key).error("missing", parent)
        return table[key]


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


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
    for algorithm, length in (("md5", 32), ("sha256", 64)):
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
                                  f"got {_kind(root)}", root)
        top = top_place.mapping(root)
        channels: list[str] = []
        if "channels" in top and not (isinstance(top["channels"], yaml.ScalarNode) and top["channels"].tag == _NULL):
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
    pip_place = place.at("pip")
    file = str(path)
    state = _PipState()
    stack = ((os.path.realpath(file), file),)
    base = os.path.dirname(file) or "."
    for index, item in enumerate(pip_place.sequence(table["pip"])):
        text = pip_place.at(index).text(item).strip()
        line = line_of(item)
        if not text:
            raise pip_place.at(index).error("empty pip requirement", item)
        parsed = _parse_pip_line(text, where=file, line=line)
        if parsed.requirement is not None:
            state.packages.append(_pip_package(parsed, file=file, line=line, base=base))
            continue
        for option in parsed.options:
            state._option(option, file=file, line=line, stack=stack)
    index_url = state.index_url()
    return [
        replace(package, source=Source(kind=SourceKind.INDEX, url=index_url))
        if package.source.kind is SourceKind.INDEX and index_url is not None else package
        for package in state.packages
    ]
