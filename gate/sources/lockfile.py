"""What every lockfile reader shares: bounded reading, samples for detection, TOML loading
with line-accurate errors, key-path error locations, hash normalisation.

The rules of :mod:`gate.sources.base` (one-line :class:`~gate.errors.InputError` messages that
start with the file, a size bound on every read, no special files) made concrete for files that
say what is to be installed:

- Reading: :func:`read_sample` (the first and last bytes, decoded leniently) and
  :func:`read_head` (the first bytes as they are) for detection, which must be cheap and never
  fail; :func:`read_text` for the full parse, bounded and strict UTF-8; :func:`paused_gc` around
  a read that allocates many objects that are not cyclic garbage.
- Parsing with lines: :func:`load_toml`, :func:`~gate.sources.base.load_json` and :func:`compose_yaml` turn a
  syntax error into a message with the line the parser reports; :func:`array_table_lines` finds
  the line of each ``[[name]]`` header, which ``tomllib`` does not keep. The YAML tree is
  bounded in nodes with aliases expanded, so a YAML bomb is an error, not an exhausted machine.
- Key-path error locations: :class:`Where` (a TOML or JSON value: file, line, key path) and
  :class:`YamlPlace` (a YAML node, which carries its own line) read typed values, and every
  wrong type is one line such as ``uv.lock:12: package[3].version: expected a string``.
- Hashes: ``"<algorithm>:<hex digest>"`` strings and artifact tables as lower-case
  ``(algorithm, digest)`` pairs (:func:`hash_strings`, :func:`artifact_hashes`), and
  :func:`sorted_hashes` for the de-duplicated, sorted tuple a
  :class:`~gate.model.Package` holds.
"""

from __future__ import annotations

import gc
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from packaging.markers import InvalidMarker, Marker

from gate.errors import InputError
from gate.sources.base import decode_utf8, long_number, read_bounded

MAX_LOCK_BYTES = 50 * 1024 * 1024  # 40x the largest real lockfile seen (lerobot's uv.lock, 1.2 MB)
DETECT_BYTES = 64 * 1024
MAX_YAML_NODES = 5_000_000  # 100x the largest conda-lock.yml seen (46k nodes); aliases count per use

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_MERGE = "tag:yaml.org,2002:merge"
_NOT_TEXT = frozenset({_NULL, _BOOL})
_BOOL_VALUES = yaml.constructor.SafeConstructor.bool_values


# --- reading --------------------------------------------------------------------------------------


def read_sample(path: Path, *, size: int = DETECT_BYTES) -> str | None:
    """The first and, for a larger file, the last ``size`` bytes of a regular file, decoded
    leniently: what detection looks at. ``None`` for anything that is not a readable regular
    file or holds NUL bytes (binary). Never raises, never blocks (a FIFO is not opened)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return None
        with open(path, "rb") as handle:
            head = handle.read(size)
            tail = b""
            if info.st_size > size:
                handle.seek(max(size, info.st_size - size))
                tail = handle.read(size)
    except OSError:
        return None
    data = head + b"\n" + tail if tail else head
    if b"\x00" in data:
        return None
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def read_text(path: Path, *, limit: int) -> str:
    """The whole file as UTF-8 text, bounded; a missing file is an :class:`InputError`."""
    data = read_bounded(path, limit=limit)
    if data is None:
        raise InputError("no such file", where=path)
    return decode_utf8(data, where=path).removeprefix("\ufeff")


def read_head(path: str | Path, *, size: int) -> bytes | None:
    """The first ``size`` bytes of a regular file, as they are: what detection reads when
    only the start of a file counts. ``None`` for anything that is not a readable regular
    file or whose bytes hold a NUL byte (binary). Never raises, never blocks (a FIFO is not
    opened)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            data = handle.read(size)
    except OSError:
        return None
    if b"\x00" in data:
        return None
    return data


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


# --- parsing with lines, key paths, hashes --------------------------------------------------------

_TOML_POSITION = re.compile(r"\s*\((?:at line (\d+), column \d+|at end of document)\)$")


def load_toml(text: str, *, where: str) -> dict[str, Any]:
    """Parse TOML; an error names the line tomllib reports (3.11 puts it in the message), or
    the line of an integer too long to convert (:func:`~gate.sources.base.long_number`)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        line: int | None = None
        if position is not None:
            line = int(position.group(1)) if position.group(1) else text.rstrip("\r\n").count("\n") + 1
            message = message[: position.start()]
        raise InputError(f"not valid TOML ({message})", where=where, line=line) from None
    except RecursionError:
        raise InputError("not valid TOML (nested too deeply)", where=where) from None
    except ValueError:  # an integer too long to convert, not a TOMLDecodeError
        problem, line = long_number(text)
        raise InputError(f"not valid TOML ({problem})", where=where, line=line) from None


def array_table_lines(text: str, name: str, count: int) -> list[int | None]:
    """The 1-based line of each ``[[name]]`` header, in order, as tomllib builds the array.

    When the headers do not account for every element (the array written inline, or a header
    inside a multi-line string) no line is claimed rather than a wrong one."""
    header = re.compile(rf"\[\[[ \t]*{re.escape(name)}[ \t]*\]\][ \t]*(?:#[^\n]*)?(?:\r?\n|\Z)")
    lines: list[int | None] = []
    line, counted = 1, 0
    start = text.find("[[")
    while start != -1:  # str.find is several times faster than a multi-line regex over a large lock
        line_start = text.rfind("\n", 0, start) + 1
        if header.match(text, start) and not text[line_start:start].strip(" \t"):
            line += text.count("\n", counted, start)
            counted = start
            lines.append(line)
        start = text.find("[[", start + 2)
    if len(lines) != count:
        return [None] * count
    return lines


def shorten(value: object) -> str:
    """``repr(value)``, cut to 80 characters: a value quoted in a one-line message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True, slots=True)
class Where:
    """A place in a lockfile (file, line, key path) and typed reads of the value there: every
    wrong type becomes a one-line :class:`InputError` such as
    ``uv.lock:12: package[3].version: expected a string``."""

    file: str
    line: int | None
    key: str
    json: bool = False

    def at(self, key: str | int) -> Where:
        """The place of a member (``str``) or element (``int``) of the value here."""
        suffix = f"[{key}]" if isinstance(key, int) else (f".{key}" if self.key else key)
        return Where(self.file, self.line, self.key + suffix, self.json)

    def error(self, message: str) -> InputError:
        return InputError(message, where=self.file, line=self.line, key_path=self.key or None)

    def string(self, value: object) -> str:
        if not isinstance(value, str):
            raise self.error(f"expected a string, got {_type_name(value, self.json)}")
        return value

    def array(self, value: object) -> list[Any]:
        if not isinstance(value, list):
            raise self.error(f"expected an array, got {_type_name(value, self.json)}")
        return value

    def table(self, value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            kind = "an object" if self.json else "a table"
            raise self.error(f"expected {kind}, got {_type_name(value, self.json)}")
        return value

    def boolean(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, got {_type_name(value, self.json)}")
        return value

    def get_string(self, table: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
        if key not in table:
            if required:
                raise self.at(key).error("missing")
            return None
        return self.at(key).string(table[key])

    def get_array(self, table: Mapping[str, Any], key: str) -> list[Any]:
        return self.at(key).array(table[key]) if key in table else []

    def get_table(self, table: Mapping[str, Any], key: str) -> dict[str, Any]:
        return self.at(key).table(table[key]) if key in table else {}

    def get_boolean(self, table: Mapping[str, Any], key: str) -> bool:
        return self.at(key).boolean(table[key]) if key in table else False

    def strings(self, table: Mapping[str, Any], key: str) -> list[str]:
        """An array of strings (absent: empty)."""
        place = self.at(key)
        return [place.at(i).string(item) for i, item in enumerate(self.get_array(table, key))]

    def marker(self, value: object) -> str:
        """A PEP 508 environment marker, checked to parse."""
        text = self.string(value)
        problem = marker_problem(text)
        if problem is not None:
            raise self.error(f"invalid environment marker {shorten(text)} ({problem})")
        return text

    def hash(self, value: object) -> tuple[str, str]:
        """``"<algorithm>:<hex digest>"`` as a lower-case pair."""
        text = self.string(value)
        match = _HASH.fullmatch(text)
        if match is None:
            raise self.error(f"expected '<algorithm>:<hex digest>', got {shorten(text)}")
        return match.group(1).lower(), match.group(2).lower()


_HASH = re.compile(r"([A-Za-z0-9_]+)[:=]([0-9A-Fa-f]+)")
# The project name at the start of a PEP 508 requirement (the names PEP 508 allows).
REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_TOML_TYPES = {str: "a string", int: "an integer", float: "a float", bool: "a boolean", list: "an array",
               dict: "a table"}
_JSON_TYPES = {str: "a string", int: "a number", float: "a number", bool: "true or false", list: "an array",
               dict: "an object", type(None): "null"}


def _type_name(value: object, json: bool) -> str:
    names = _JSON_TYPES if json else _TOML_TYPES
    return names.get(type(value), "a date or time" if not json else type(value).__name__)


@cache
def marker_problem(text: str) -> str | None:
    """Why ``text`` is not a PEP 508 marker, or ``None`` when it parses (cached: lockfiles
    repeat the same few markers hundreds of times)."""
    try:
        Marker(text)
    except InvalidMarker as error:
        return str(error).splitlines()[0]
    return None


def sorted_hashes(found: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(set(found)))


def hash_strings(items: object, place: Where) -> list[tuple[str, str]]:
    """An array of ``"<algorithm>:<hex digest>"`` strings, read without a :class:`Where` for
    each well-formed one."""
    found = []
    for i, item in enumerate(place.array(items)):
        match = _HASH.fullmatch(item) if isinstance(item, str) else None
        found.append((match.group(1).lower(), match.group(2).lower()) if match else place.at(i).hash(item))
    return found


def artifact_hashes(items: object, place: Where) -> list[tuple[str, str]]:
    """The ``hash`` of each table in an array of artifacts (wheels, files); tables without
    one are skipped. A lock lists thousands of artifacts: the well-formed ones are read
    without building a :class:`Where` each, which only an error needs."""
    found = []
    for i, item in enumerate(place.array(items)):
        value = item.get("hash") if isinstance(item, dict) else None
        match = _HASH.fullmatch(value) if isinstance(value, str) else None
        if match is not None:
            found.append((match.group(1).lower(), match.group(2).lower()))
        elif not isinstance(item, dict) or "hash" in item:
            here = place.at(i)
            found.append(here.at("hash").hash(here.table(item)["hash"]))
    return found


# --- YAML -----------------------------------------------------------------------------------------


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


def yaml_kind(node: yaml.Node) -> str:
    """What a node is, for messages: ``a mapping``, ``a list``, ``nothing (null)``..."""
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
            raise self.error(f"expected a mapping, got {yaml_kind(node)}", node)
        result: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                raise self.error("YAML merge keys (<<) are not supported", key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(f"expected plain keys, got {yaml_kind(key_node)}", key_node)
            if key_node.value in result:
                raise self.at(key_node.value).error("duplicate key", key_node)
            result[key_node.value] = value_node
        return result

    def sequence(self, node: yaml.Node) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(f"expected a list, got {yaml_kind(node)}", node)
        return list(node.value)

    def text(self, node: yaml.Node) -> str:
        """A scalar as written. Unquoted ``1.10`` or ``2024.1`` are numbers to YAML; a version
        must keep its digits, so the scalar's text is taken whatever type YAML resolved. Null
        (an empty value) and true/false are not text."""
        if not isinstance(node, yaml.ScalarNode) or node.tag in (_NULL, _BOOL):
            raise self.error(f"expected a string, got {yaml_kind(node)}", node)
        return str(node.value)

    def boolean(self, node: yaml.Node) -> bool:
        if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL:
            return bool(_BOOL_VALUES[str(node.value).lower()])
        raise self.error(f"expected true or false, got {yaml_kind(node)}", node)

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
    """The 1-based line a node starts on."""
    return int(node.start_mark.line) + 1


def is_null(node: yaml.Node) -> bool:
    """Whether a node is YAML's null (an empty value, ``~``, ``null``)."""
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL
