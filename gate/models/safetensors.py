"""Validate a safetensors header the way the reference implementation does, without loading tensors.

Layout: an 8-byte little-endian header length N, N bytes of JSON (an object: tensor name ->
{dtype, shape, data_offsets}, plus an optional ``__metadata__`` of string -> string), then the data
buffer. Each tensor's byte span must equal its element count times its dtype's size, the spans
must tile the buffer exactly (no overlap, no hole, nothing beyond the file). A header that breaks
any of this is a problem: a loader might read out of bounds, or two names might alias one span.
"""

from __future__ import annotations

import json
from typing import Any

from gate.models.stream import Source, Truncated

MAX_HEADER = 100_000_000  # the specification's limit

# Element size in bits (sub-byte float types pack several elements per byte).
DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32, "C64": 64,
    "I64": 64, "U64": 64, "F64": 64,
    "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}


def looks_like_safetensors(head: bytes, size: int) -> bool:
    """The first bytes alone: a header length that fits the file, and a JSON object after it."""
    if len(head) < 10:
        return False
    length = int.from_bytes(head[:8], "little")
    return 2 <= length <= min(MAX_HEADER, size - 8) and head[8:9] == b"{"


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"tensor name {key!r} appears twice")
        result[key] = value
    return result


def check_safetensors(source: Source, size: int) -> list[str]:
    """Problems with the header (empty when valid); reads only the header from ``source``."""
    try:
        length = int.from_bytes(source.exact(8), "little")
    except Truncated:
        return ["safetensors: the file is shorter than the 8-byte header length"]
    if length > MAX_HEADER:
        return [f"safetensors: header length {length} exceeds the {MAX_HEADER}-byte limit"]
    if length > size - 8:
        return [f"safetensors: header length {length} runs past the end of the file ({size} bytes): truncated?"]
    raw = source.exact(length)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return [f"safetensors: header is not valid JSON: {error}"]
    if not isinstance(header, dict):
        return ["safetensors: header is not a JSON object"]
    return _check_entries(header, data_size=size - 8 - length)


def _check_entries(header: dict[str, Any], *, data_size: int) -> list[str]:
    problems: list[str] = []
    metadata = header.get("__metadata__")
    if metadata is not None and (not isinstance(metadata, dict)
                                 or not all(isinstance(v, str) for v in metadata.values())):
        problems.append("safetensors: __metadata__ must map strings to strings")
    spans: list[tuple[int, int, str]] = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        where = f"safetensors: tensor {name!r}"
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            problems.append(f"{where}: needs exactly dtype, shape and data_offsets")
            continue
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        bits = DTYPE_BITS.get(dtype) if isinstance(dtype, str) else None
        if bits is None:
            problems.append(f"{where}: unknown dtype {dtype!r}")
            continue
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            problems.append(f"{where}: shape must be a list of non-negative integers")
            continue
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(type(n) is int and n >= 0 for n in offsets) or offsets[0] > offsets[1]):
            problems.append(f"{where}: data_offsets must be [begin, end] with 0 <= begin <= end")
            continue
        count = 1
        for n in shape:
            count *= n
        if count * bits % 8:
            problems.append(f"{where}: {count} elements of {dtype} do not fill whole bytes")
            continue
        expected = count * bits // 8
        if offsets[1] - offsets[0] != expected:
            problems.append(f"{where}: data_offsets span {offsets[1] - offsets[0]} bytes, shape {shape} of "
                            f"{dtype} needs {expected}")
            continue
        spans.append((offsets[0], offsets[1], name))
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin < position:
            problems.append(f"safetensors: tensor {name!r} overlaps the tensor before it (offset {begin})")
        elif begin > position:
            problems.append(f"safetensors: {begin - position} bytes before tensor {name!r} belong to no tensor")
        position = max(position, end)
    if position > data_size:
        problems.append(f"safetensors: tensors end at byte {position} of the data, the file holds {data_size}: "
                        "truncated?")
    elif position < data_size and not problems:
        problems.append(f"safetensors: {data_size - position} bytes after the last tensor belong to no tensor")
    return problems
