"""safetensors headers: valid files pass, every malformed header is a problem."""

from __future__ import annotations

import io
import struct

from gate.models.safetensors import check_safetensors
from gate.models.stream import Source
from tests.models.helpers import safetensors_bytes

WEIGHT = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
BIAS = {"dtype": "F16", "shape": [2], "data_offsets": [16, 20]}


def check(data: bytes) -> list[str]:
    return check_safetensors(Source(io.BytesIO(data)), len(data))


def test_valid_header() -> None:
    assert check(safetensors_bytes({"__metadata__": {"format": "pt"}, "w": WEIGHT, "b": BIAS}, b"\x00" * 20)) == []


def test_sub_byte_and_empty_tensors() -> None:
    header = {"f4": {"dtype": "F4", "shape": [4], "data_offsets": [0, 2]},
              "empty": {"dtype": "F32", "shape": [0, 3], "data_offsets": [2, 2]}}
    assert check(safetensors_bytes(header, b"\x00\x00")) == []


def test_truncated_file() -> None:
    data = safetensors_bytes({"w": WEIGHT}, b"\x00" * 16)
    assert check(data[:5]) == ["safetensors: the file is shorter than the 8-byte header length"]
    assert check(data[:30]) == [f"safetensors: header length {len(data) - 24} runs past the end of the file "
                                "(30 bytes): truncated?"]
    assert check(data[:-4]) == ["safetensors: tensors end at byte 16 of the data, the file holds 12: truncated?"]


def test_header_that_is_not_json() -> None:
    data = struct.pack("<Q", 5) + b"{nope"
    assert check(data)[0].startswith("safetensors: header is not valid JSON: ")


def test_overlap_and_hole() -> None:
    overlap = {"w": WEIGHT, "b": {"dtype": "F16", "shape": [2], "data_offsets": [12, 16]}}
    assert check(safetensors_bytes(overlap, b"\x00" * 16)) == [
        "safetensors: tensor 'b' overlaps the tensor before it (offset 12)"]
    hole = {"w": WEIGHT, "b": {"dtype": "F16", "shape": [2], "data_offsets": [20, 24]}}
    assert check(safetensors_bytes(hole, b"\x00" * 24)) == [
        "safetensors: 4 bytes before tensor 'b' belong to no tensor"]


def test_bad_entries() -> None:
    header = {
        "dtype": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]},
        "shape": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]},
        "size": {"dtype": "F32", "shape": [3], "data_offsets": [0, 4]},
        "keys": {"dtype": "F32", "shape": [1]},
        "order": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]},
    }
    assert check(safetensors_bytes(header, b"\x00" * 4)) == [
        "safetensors: tensor 'dtype': unknown dtype 'F128'",
        "safetensors: tensor 'shape': shape must be a list of non-negative integers",
        "safetensors: tensor 'size': data_offsets span 4 bytes, shape [3] of F32 needs 12",
        "safetensors: tensor 'keys': needs exactly dtype, shape and data_offsets",
        "safetensors: tensor 'order': data_offsets must be [begin, end] with 0 <= begin <= end",
    ]


def test_duplicate_names_and_bad_metadata() -> None:
    text = b'{"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "w": {"dtype": "U8", "shape": [1], ' \
           b'"data_offsets": [0, 1]}}'
    assert check(struct.pack("<Q", len(text)) + text + b"\x00") == [
        "safetensors: header is not valid JSON: tensor name 'w' appears twice"]
    assert check(safetensors_bytes({"__metadata__": {"n": 1}}, b"")) == [
        "safetensors: __metadata__ must map strings to strings"]


def test_bytes_after_the_last_tensor() -> None:
    assert check(safetensors_bytes({"w": WEIGHT}, b"\x00" * 20)) == [
        "safetensors: 4 bytes after the last tensor belong to no tensor"]
