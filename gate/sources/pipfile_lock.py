"""Pipfile.lock: Pipenv's lockfile (JSON, ``pipfile-spec`` 6).

The lock is one JSON object: ``_meta`` (the Pipfile's hash, its ``[requires]`` and the
package ``sources``), then one object per package category: ``default`` (``[packages]``,
runtime), ``develop`` (``[dev-packages]``, group ``"dev"``) and, since Pipenv 2023, any other
category under its own name (its group). Read from each entry:

- ``version``: ``"==1.2.3"`` (or ``"===..."``) is the pin; anything else (``"*"``, a range) is
  kept as an unpinned specifier. VCS, path and file entries have none.
- where it comes from: ``git``/``hg``/``svn``/``bzr`` with ``ref`` is :attr:`SourceKind.VCS`
  (``ref`` is the commit Pipenv resolved; a ref that is not a hex commit id, a branch name in
  hand-edited locks, is not reported as one); ``path`` is :attr:`SourceKind.PATH`, or
  :attr:`SourceKind.EDITABLE` with ``editable: true``; ``file`` is :attr:`SourceKind.URL`
  (:attr:`SourceKind.PATH` for a ``file:`` URL or a plain path); otherwise the package came
  from an index: the ``_meta.sources`` entry its ``index`` names, or the first source when
  it names none (what Pipenv installs from). An ``index`` no source declares is an error.
- ``hashes`` (``"sha256:<hex>"``), ``markers`` (verbatim; Pipenv writes the PEP 508 marker).

Lines: each package's line is the line of its key inside its category, found by scanning
the JSON text (the ``json`` module keeps no positions).

A package listed in ``default`` and again, at the same version, in another category is kept
once, as runtime (Pipenv repeats the runtime packages a dev tool needs); at different
versions both are kept.

Target: ``_meta.requires.python_full_version`` or ``python_version`` is the interpreter the
Pipfile demands (Pipenv refuses another), so it becomes the environment's target Python.

Not read: ``extras`` (which extras were asked for; their packages are listed anyway),
``subdirectory``, ``_meta.hash``, ``verify_ssl``. Pipfile.lock records no dependency graph,
so ``Package.requires`` is empty.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from gate.model import Environment, Location, Package, Source, SourceKind, Target
from gate.sources.base import InputKind, load_json
from gate.sources.lockfile import (
    MAX_LOCK_BYTES,
    Where,
    hash_strings,
    read_sample,
    read_text,
    sorted_hashes,
)

VCS_KEYS = ("git", "hg", "svn", "bzr")
RUNTIME_CATEGORY = "default"
CATEGORY_GROUPS = {"default": "runtime", "develop": "dev"}

_JSON_START = re.compile(r"\A\s*\{")
_META_KEY = re.compile(r'"_meta"\s*:\s*\{')
_DEFAULT_KEY = re.compile(r'"default"\s*:\s*\{')
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]')
_COMMIT = re.compile(r"[0-9a-fA-F]{7,64}")
_PIN = re.compile(r"\s*(===?)\s*(\S+)\s*")


@dataclass(frozen=True, kw_only=True, slots=True)
class PipfileLockReader:
    """Pipenv's ``Pipfile.lock`` (see the module notes)."""

    name: ClassVar[str] = "Pipfile.lock"
    input_kind: ClassVar[InputKind] = InputKind.LOCKFILE
    max_bytes: int = MAX_LOCK_BYTES

    def detect(self, path: Path) -> bool:
        """A JSON object with Pipenv's ``"_meta"`` and ``"default"`` objects (looked for in the
        first and last bytes: Pipenv writes ``_meta`` first, but a re-serialised file may not)."""
        sample = read_sample(path)
        if sample is None or not _JSON_START.match(sample):
            return False
        return bool(_META_KEY.search(sample) and _DEFAULT_KEY.search(sample))

    def read(self, path: Path, *, target: Target | None = None) -> Environment:
        """Every package of every category; ``target`` is not consulted."""
        where = str(path)
        text = read_text(path, limit=self.max_bytes)
        document = load_json(text, where=where)
        top = Where(where, None, "", json=True)
        document = top.table(document)
        if "_meta" not in document:
            raise top.at("_meta").error("missing (is this a Pipfile.lock?)")
        meta_place = top.at("_meta")
        meta = meta_place.table(document["_meta"])
        indexes = _indexes(meta, meta_place)
        lines = _entry_lines(text)
        packages: list[Package] = []
        runtime_pins: set[tuple[str, str | None]] = set()
        categories = sorted((key for key in document if key != "_meta"), key=lambda k: (k != RUNTIME_CATEGORY, k))
        for category in categories:
            place = top.at(category)
            for key, raw in place.table(document[category]).items():
                entry_place = Where(where, lines.get((category, key)), f"{category}.{key}", json=True)
                package = _package(key, raw, entry_place, category, indexes, where)
                pin = (package.name, package.version)
                if category == RUNTIME_CATEGORY:
                    runtime_pins.add(pin)
                elif pin in runtime_pins:
                    continue  # the runtime entry already stands for it
                packages.append(package)
        return Environment.create(source=where, kind=self.name, target=_target(meta, meta_place),
                                  packages=packages)


def _indexes(meta: dict[str, Any], place: Where) -> dict[str, str | None]:
    """Source name to URL; ``""`` maps to the first source (the default index)."""
    indexes: dict[str, str | None] = {}
    sources_place = place.at("sources")
    for i, raw in enumerate(place.get_array(meta, "sources")):
        source = sources_place.at(i).table(raw)
        name = sources_place.at(i).get_string(source, "name")
        url = sources_place.at(i).get_string(source, "url", required=True)
        if not indexes:
            indexes[""] = url
        if name is not None:
            indexes[name] = url
    indexes.setdefault("", None)
    return indexes


def _target(meta: dict[str, Any], place: Where) -> Target:
    requires = place.get_table(meta, "requires")
    here = place.at("requires")
    python = here.get_string(requires, "python_full_version") or here.get_string(requires, "python_version")
    return Target(python=python)


def _entry_lines(text: str) -> dict[tuple[str, str], int]:
    """The line of every ``"name": {`` key one level inside a top-level category object.

    A token scan (strings and structural characters) of text already parsed as JSON, so it
    cannot be misled: a brace inside a string is inside a string token."""
    lines: dict[tuple[str, str], int] = {}
    depth = 0
    category: str | None = None
    previous: re.Match[str] | None = None
    line, counted = 1, 0
    for token in _TOKEN.finditer(text):
        value = token.group(0)
        if value in "{[":
            depth += 1
        elif value in "}]":
            depth -= 1
        elif value == ":" and previous is not None:
            key = json.loads(previous.group(0))
            if depth == 1:
                category = key
            elif depth == 2 and category is not None:
                line += text.count("\n", counted, previous.start())
                counted = previous.start()
                lines[(category, key)] = line
        previous = token if value.startswith('"') else None
    return lines


def _package(key: str, raw: object, place: Where, category: str, indexes: dict[str, str | None],
             where: str) -> Package:
    entry = place.table(raw)
    name = canonicalize_name(key)
    version, specifier = _version(entry, place)
    hashes = sorted_hashes(hash_strings(entry["hashes"], place.at("hashes")) if "hashes" in entry else ())
    marker = place.at("markers").marker(entry["markers"]) if "markers" in entry else None
    return Package(
        name=name,
        version=version,
        specifier=specifier,
        ecosystem="pypi",
        pypi_name=name,
        source=_source(entry, place, indexes),
        hashes=hashes,
        marker=marker,
        group=CATEGORY_GROUPS.get(category, category),
        location=Location(file=where, line=place.line),
    )


def _version(entry: dict[str, Any], place: Where) -> tuple[str | None, str | None]:
    """``(version, None)`` for a pin, ``(None, specifier)`` otherwise (``""``: none given)."""
    text = place.get_string(entry, "version")
    if text is None:
        return None, ""
    pin = _PIN.fullmatch(text)
    if pin is not None and "*" not in pin.group(2):
        return pin.group(2), None
    if text.strip() == "*":
        return None, ""
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        raise place.at("version").error(f"not a version specifier: {text[:80]!r}") from None
    return None, text.strip()


def _source(entry: dict[str, Any], place: Where, indexes: dict[str, str | None]) -> Source:
    for key in VCS_KEYS:
        if key in entry:
            url = place.get_string(entry, key)
            ref = place.get_string(entry, "ref")
            commit = ref.lower() if ref is not None and _COMMIT.fullmatch(ref) else None
            return Source(kind=SourceKind.VCS, url=url, commit=commit)
    editable = place.get_boolean(entry, "editable")
    if "path" in entry:
        return Source(kind=SourceKind.EDITABLE if editable else SourceKind.PATH, url=place.get_string(entry, "path"))
    if "file" in entry:
        url = place.get_string(entry, "file") or ""
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError as error:  # an unclosed IPv6 host, a host NFKC turns into a delimiter
            raise place.at("file").error(f"not a valid URL ({error})") from None
        remote = scheme not in ("", "file") and len(scheme) > 1  # "c:" is a Windows drive, not a scheme
        kind = SourceKind.EDITABLE if editable else SourceKind.URL if remote else SourceKind.PATH
        return Source(kind=kind, url=url)
    index = place.get_string(entry, "index")
    if index is not None and index not in indexes:
        known = ", ".join(sorted(name for name in indexes if name)) or "none"
        raise place.at("index").error(f"{index!r} is not a source in _meta.sources (known: {known})")
    return Source(kind=SourceKind.INDEX, url=indexes[index or ""])
