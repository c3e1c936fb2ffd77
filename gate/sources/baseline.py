"""``--baseline``: what was approved before, to compare the candidate with (``drift``).

A baseline is any of:

- the ``result.json`` of an earlier ``gate check --out``: its ``environment.manifest`` lists
  every package judged then (name, version or specifier, ecosystem, PyPI name, source, hashes,
  marker, group), which is what drift compares. It is recognised by its content (a JSON object
  with ``schema_version`` and ``decision``), never by its name;
- a lockfile in any format the gate reads;
- an installed environment (a virtualenv or site-packages directory).

The baseline is put through the same selection as the candidate (target and groups), so
that a lockfile covering every platform is compared with what applies to the target only.

A result.json the gate cannot use is an :class:`InputError` naming the file and key path:
one written by a newer gate (a ``schema_version`` this one does not know), or by a gate
from before the manifest was recorded (``environment.manifest`` missing).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from gate.errors import InputError
from gate.model import Environment, Location, Package, Source, SourceKind, Target
from gate.report.result import SCHEMA_VERSION
from gate.sources.base import decode_utf8, long_number, read_bounded
from gate.sources.lockfile import marker_problem
from gate.sources.registry import reader_for_environment, reader_for_lockfile
from gate.sources.selection import select

MAX_RESULT_BYTES = 256 * 1024 * 1024  # a manifest entry is ~300 bytes: room for 800k packages
RESULT_KIND = "result.json"
_SNIFF_BYTES = 4096


def load_baseline(path: Path, *, target: Target | None, groups: Iterable[str] = ()) -> Environment:
    """The approved environment at ``path``, selected for ``target`` and ``groups``."""
    if path.is_dir():
        environment = reader_for_environment(path).read(path, target=target)
    else:
        document = _result_document(path)
        if document is not None:
            environment = read_result(path, document)
        else:
            environment = reader_for_lockfile(path).read(path, target=target)
    return select(environment, target=target, groups=groups).environment


def _result_document(path: Path) -> dict[str, Any] | None:
    """The parsed ``result.json``, or None when the file is something else (a lockfile).

    Told by content: a JSON object holding ``schema_version`` and ``decision`` (the gate
    writes sorted keys, so neither need be near the top)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return None  # the lockfile registry says what is wrong with the path
    if not head.lstrip().startswith(b"{"):
        return None
    data = read_bounded(path, limit=MAX_RESULT_BYTES)
    if data is None:
        return None
    text = decode_utf8(data, where=path)
    claims_result = b'"schema_version"' in data and b'"decision"' in data
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        if claims_result:
            raise InputError(f"not valid JSON ({error.msg})", where=path, line=error.lineno) from error
        return None
    except RecursionError as error:
        raise InputError("not valid JSON (nested too deeply)", where=path) from error
    except ValueError as error:  # an integer too long to convert
        if claims_result:
            problem, line = long_number(text)
            raise InputError(f"not valid JSON ({problem})", where=path, line=line) from error
        return None
    if isinstance(document, dict) and "schema_version" in document and "decision" in document:
        return document
    return None


def read_result(path: Path, document: dict[str, Any]) -> Environment:
    """The environment a ``result.json`` records (its manifest), as an Environment."""
    place = _Place(path)
    top = document
    version = top.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise place.error("schema_version", "not an integer: not a result.json written by gate check")
    if version > SCHEMA_VERSION:
        raise place.error("schema_version", f"{version} is newer than this gate reads ({SCHEMA_VERSION}): "
                                            "upgrade the gate, or use a baseline it wrote")
    if version < 1:
        raise place.error("schema_version", f"{version} is not a schema version the gate ever wrote")
    environment = place.table(top.get("environment"), "environment")
    if "manifest" not in environment:
        raise place.error("environment.manifest", "missing: this result.json is from a gate that did not record "
                                                  "the packages it judged; run gate check --out again to make a "
                                                  "baseline")
    manifest = environment["manifest"]
    if not isinstance(manifest, list):
        raise place.error("environment.manifest", "not a list")
    target_table = place.table(environment.get("target", {}), "environment.target")
    target = Target(python=place.optional_string(target_table, "environment.target", "python"),
                    platform=place.optional_string(target_table, "environment.target", "platform"))
    kind = place.optional_string(environment, "environment", "kind")
    packages = [_package(place, item, f"environment.manifest[{index}]") for index, item in enumerate(manifest)]
    return Environment.create(source=str(path), kind=f"{RESULT_KIND} ({kind})" if kind else RESULT_KIND,
                              target=target, packages=packages)


def _package(place: _Place, raw: object, key: str) -> Package:
    entry = place.table(raw, key)
    name = place.string(entry, key, "name")
    ecosystem = place.string(entry, key, "ecosystem")
    if ecosystem not in ("pypi", "conda"):
        raise place.error(f"{key}.ecosystem", f"{ecosystem!r} is not pypi or conda")
    version = place.optional_string(entry, key, "version")
    specifier = place.optional_string(entry, key, "specifier")
    source_table = place.table(entry.get("source"), f"{key}.source")
    kind_text = place.string(source_table, f"{key}.source", "kind")
    try:
        kind = SourceKind(kind_text)
    except ValueError:
        known = ", ".join(k.value for k in SourceKind)
        raise place.error(f"{key}.source.kind", f"{kind_text!r} is not one of {known}") from None
    hashes_raw = entry.get("hashes", [])
    if not isinstance(hashes_raw, list):
        raise place.error(f"{key}.hashes", "not a list")
    hashes = set()
    for index, item in enumerate(hashes_raw):
        algorithm, separator, value = item.partition(":") if isinstance(item, str) else ("", "", "")
        if not (algorithm and separator and value):
            raise place.error(f"{key}.hashes[{index}]", "not <algorithm>:<hex digest>")
        hashes.add((algorithm.lower(), value.lower()))
    pypi_name = place.optional_string(entry, key, "pypi_name")
    marker = place.optional_string(entry, key, "marker")
    if marker is not None and (problem := marker_problem(marker)) is not None:
        raise place.error(f"{key}.marker", f"invalid environment marker {marker!r} ({problem})")
    # A requirement that names no project keeps its URL or path as its name: normalising "./sub"
    # to "-/sub" would make it differ from the same requirement read again (false drift).
    return Package(
        name=canonicalize_name(name) if ecosystem == "pypi" and pypi_name is not None else name,
        version=version,
        specifier=specifier,
        ecosystem=ecosystem,
        pypi_name=pypi_name,
        source=Source(kind=kind, url=place.optional_string(source_table, f"{key}.source", "url"),
                      commit=place.optional_string(source_table, f"{key}.source", "commit")),
        hashes=tuple(sorted(hashes)),
        marker=marker,
        group=place.optional_string(entry, key, "group") or "runtime",
        location=Location(file=str(place.path)),
    )


class _Place:
    """Typed access to the JSON document, with errors that name the file and key path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, key: str, message: str) -> InputError:
        return InputError(message, where=self.path, key_path=key or None)

    def table(self, value: object, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(key, "missing or not a JSON object" if key else "not a JSON object")
        return value

    def string(self, table: dict[str, Any], key: str, field: str) -> str:
        value = table.get(field)
        if not isinstance(value, str) or not value:
            raise self.error(f"{key}.{field}", "missing or not a non-empty string")
        return value

    def optional_string(self, table: dict[str, Any], key: str, field: str) -> str | None:
        value = table.get(field)
        if value is not None and not isinstance(value, str):
            raise self.error(f"{key}.{field}", "not a string or null")
        return value
