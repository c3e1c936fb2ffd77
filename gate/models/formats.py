"""Identify a model file from its first bytes, and the checks of the formats that are not pickles.

Names never decide a format: a ``.bin`` may be a torch pickle, a safetensors file or an ONNX
graph, and a renamed file is judged by what it is. Formats without a magic number (pickle
protocols 0 and 1, ONNX) are recognised by parsing their structure, conservatively: what does not
parse is ``unknown``, which no policy allows by default.
"""

from __future__ import annotations

import ast
import bz2
import json
import lzma
import re
import zlib
from collections.abc import Iterator
from typing import Any

from gate.models.stream import LimitExceeded, Source, Truncated

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
NUMPY_MAGIC = b"\x93NUMPY"
GGUF_MAGIC = b"GGUF"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
# torch's legacy (pre-1.6) format starts with a pickle of its magic number 0x1950a86a20f9469cfc6c.
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."
TORCH_LEGACY_PICKLES = 5  # magic, protocol version, system info, the object, the storage keys; raw data after


def is_pickle_start(head: bytes) -> bool:
    """A PROTO opcode of protocol 2 to 5: the only magic a pickle has."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def compression(head: bytes) -> str | None:
    """The compressor of a joblib ``compress=`` file, from its first bytes."""
    if head[:3] == b"\x1f\x8b\x08":
        return "gzip"
    if head[:3] == b"BZh" and head[3:4].isdigit():
        return "bz2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if head[:3] == b"\x5d\x00\x00":
        return "lzma"
    if len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0:
        return "zlib"
    return None


class Decompressor:
    """A forward-only reader of the decompressed bytes of ``source`` (stdlib codecs only)."""

    def __init__(self, source: Source, kind: str) -> None:
        self._source = source
        self._object: Any
        if kind == "zlib":
            self._object = zlib.decompressobj()
        elif kind == "gzip":
            self._object = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif kind == "bz2":
            self._object = bz2.BZ2Decompressor()
        else:
            self._object = lzma.LZMADecompressor(lzma.FORMAT_XZ if kind == "xz" else lzma.FORMAT_ALONE)
        self._pending = b""

    def read(self, size: int = -1, /) -> bytes:
        size = size if size > 0 else 1 << 20
        while not self._pending:
            data = self._source.read(1 << 20)
            try:
                if not data:
                    flush = getattr(self._object, "flush", None)
                    self._pending = flush() if flush is not None else b""
                    if not self._pending:
                        return b""
                    break
                self._pending = self._object.decompress(data)
            except (zlib.error, OSError, EOFError, lzma.LZMAError) as error:
                raise Truncated(f"compressed stream is corrupt: {error}") from None
            if getattr(self._object, "eof", False) and not self._pending:
                return b""
        out, self._pending = self._pending[:size], self._pending[size:]
        return out


def read_npy_header(source: Source) -> tuple[bool, str | None]:
    """(holds objects, problem) for a ``.npy`` stream positioned at its magic.

    Object arrays are stored as a pickle after the header: the caller scans it."""
    try:
        magic = source.exact(8)
        major = magic[6]
        if major == 1:
            length = int.from_bytes(source.exact(2), "little")
        elif major in (2, 3):
            length = int.from_bytes(source.exact(4), "little")
        else:
            return False, f"numpy: unsupported format version {major}.{magic[7]}"
        if length > 1 << 20:
            return False, f"numpy: header of {length} bytes is too long"
        text = source.exact(length).decode("utf-8" if major == 3 else "latin-1")
    except Truncated:
        return False, "numpy: the file ends inside the header"
    except UnicodeDecodeError:
        return False, "numpy: the header is not text"
    try:
        header = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False, "numpy: the header is not a Python literal"
    if not isinstance(header, dict) or "descr" not in header:
        return False, "numpy: the header has no descr"
    return _descr_holds_objects(header["descr"]), None


def _descr_holds_objects(descr: Any) -> bool:
    if isinstance(descr, str):
        return descr.lstrip("<>|=").startswith("O")
    if isinstance(descr, (list, tuple)):
        return any(_descr_holds_objects(part) for part in descr)
    return False


# ONNX ModelProto's top-level fields: number -> protobuf wire type (0 varint, 2 length-delimited).
_ONNX_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}
_MAX_ONNX_FIELDS = 1 << 16


def _varint(source: Source) -> int:
    value = 0
    for shift in range(0, 70, 7):
        byte = source.exact(1)[0]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
    raise ValueError("varint too long")


def looks_like_onnx(source: Source) -> bool:
    """Walk the top-level protobuf fields to the end of the file: only ModelProto's, with their wire
    types, an ``ir_version`` first and a ``graph``. Anything else is not called ONNX."""
    seen_graph = False
    try:
        for index in range(_MAX_ONNX_FIELDS):
            if index and source.at_end():
                return seen_graph
            key = _varint(source)
            number, wire = key >> 3, key & 7
            if _ONNX_FIELDS.get(number) != wire or (index == 0 and number != 1):
                return False
            if wire == 0:
                value = _varint(source)
                if number == 1 and not 1 <= value <= 100:
                    return False
            else:
                source.skip(_varint(source))
                seen_graph = seen_graph or number == 7
    except (Truncated, LimitExceeded, ValueError):
        return False
    return False


def check_gguf(source: Source) -> list[str]:
    try:
        head = source.exact(8)
    except Truncated:
        return ["gguf: the file ends inside the header"]
    version = int.from_bytes(head[4:8], "little")
    if version not in (1, 2, 3):
        return [f"gguf: unknown version {version}"]
    return []


# Keras writes its model config with json.dumps' default separators; both spellings are looked for.
_LAMBDA_PATTERNS = (b'"class_name": "Lambda"', b'"class_name":"Lambda"')


def find_keras_lambda(chunks: Iterator[bytes]) -> bool:
    """Whether an HDF5 file's bytes hold a Keras ``Lambda`` layer config (its function is marshalled
    Python bytecode that loading runs). The config is an uncompressed string attribute."""
    keep = max(len(p) for p in _LAMBDA_PATTERNS) - 1
    tail = b""
    found = False
    for chunk in chunks:
        data = tail + chunk
        found = found or any(pattern in data for pattern in _LAMBDA_PATTERNS)
        tail = data[-keep:]
    return found


def keras_config_imports(data: bytes) -> tuple[list[tuple[str, str]], list[str]]:
    """The layers of a ``.keras`` archive's config.json that loading would turn into code.

    A ``Lambda`` layer carries marshalled Python bytecode (dangerous); a class from a module other
    than Keras' own is custom code (suspicious, like an unknown pickle global)."""
    try:
        config = json.loads(data)
    except (ValueError, RecursionError):
        return [], ["keras: config.json is not valid JSON"]
    found: list[tuple[str, str]] = []
    stack: list[Any] = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            class_name = node.get("class_name")
            module = node.get("module")
            if class_name == "Lambda":
                found.append(("keras.layers", "Lambda"))
            elif isinstance(class_name, str) and isinstance(module, str) and not re.match(
                    r"^(keras|tf_keras|tensorflow\.keras|builtins)(\.|$)", module):
                found.append((module, class_name))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found, []
