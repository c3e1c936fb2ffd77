"""The static pickle walk: the imports every opcode form produces, and failing closed."""

from __future__ import annotations

import io
import pickle
import pickletools
from pathlib import Path

import pytest

from gate.models.pickles import StreamScan, scan_pickles
from gate.models.stream import Source
from tests.models.helpers import (
    file_creating_pickle,
    joblib_with_payload_after_array,
    os_system_protocol0,
    os_system_protocol4,
    stack_global_via_memo,
)


def walk(data: bytes, *, max_pickles: int | None = None) -> StreamScan:
    return scan_pickles(Source(io.BytesIO(data)), max_pickles=max_pickles)


def test_protocol0_global() -> None:
    result = walk(os_system_protocol0("id"))
    assert (result.imports, result.pickles, result.problem) == ([("os", "system")], 1, None)


def test_protocol4_stack_global_with_frame_and_memo() -> None:
    data = os_system_protocol4("id")
    pickletools.dis(data, out=io.StringIO())  # the hand-written bytes are a well-formed pickle
    result = walk(data)
    assert (result.imports, result.problem) == ([("os", "system")], None)


def test_stack_global_operands_fetched_from_the_memo() -> None:
    result = walk(stack_global_via_memo("subprocess", "check_output", "id"))
    assert (result.imports, result.problem) == ([("subprocess", "check_output")], None)


def test_stack_global_with_computed_operands_is_unresolvable() -> None:
    # The module name is the result of a call: the walk cannot know it, so it is "?" (dangerous).
    data = b"\x80\x02cbuiltins\nstr\n\x8c\x02os\x85R\x8c\x06system\x93."
    result = walk(data)
    assert result.imports == [("builtins", "str"), ("?", "?")]


def test_inst_and_obj_opcodes() -> None:
    data = b"(S'id'\nios\nsystem\n."
    assert walk(data).imports == [("os", "system")]


def test_every_pickle_of_a_stack_is_walked() -> None:
    data = pickle.dumps({"weights": [1.0, 2.0]}, protocol=2) + os_system_protocol0("id")
    result = walk(data)
    assert (result.imports, result.pickles, result.problem) == ([("os", "system")], 2, None)


def test_real_pickles_of_every_protocol_parse_to_the_end() -> None:
    value = {"a": [1, 2.5, "x", b"y" * 300, None, True], "b": (1, 2), "c": {1, 2}, "d": bytearray(b"z")}
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        result = walk(pickle.dumps(value, protocol=protocol))
        assert result.problem is None, protocol
        assert result.pickles == 1


def test_large_bytes_are_skipped_not_kept() -> None:
    data = pickle.dumps(b"\x00" * (8 << 20), protocol=4) + os_system_protocol0("id")
    result = walk(data)
    assert (result.imports, result.pickles, result.problem) == ([("os", "system")], 2, None)


def test_invalid_opcode_is_a_problem_and_earlier_imports_stay() -> None:
    data = b"cos\nsystem\n\xff"
    result = walk(data)
    assert result.imports == [("os", "system")]
    assert result.problem == "pickle 1: byte 0xff at offset 11 is not a pickle opcode"


def test_truncated_pickle_is_a_problem() -> None:
    result = walk(os_system_protocol4("id")[:-5])
    assert result.imports == [("os", "system")]
    assert result.problem is not None and result.problem.startswith("pickle 1: needed")


def test_trailing_bytes_after_a_pickle_are_a_problem() -> None:
    result = walk(pickle.dumps(1, protocol=2) + b"\x00junk")
    assert result.problem == "pickle 2: byte 0x00 at offset 5 is not a pickle opcode"


def test_max_pickles_stops_before_raw_data() -> None:
    result = walk(pickle.dumps(1, protocol=2) + b"\x00raw", max_pickles=1)
    assert (result.pickles, result.problem) == (1, None)


def test_file_creating_pickle_imports_builtins_open(tmp_path: Path) -> None:
    target = tmp_path / "created"
    result = walk(file_creating_pickle(target))
    assert result.imports == [("builtins", "open")]
    assert not target.exists()


def test_joblib_arrays_are_stepped_over_to_the_payload(tmp_path: Path) -> None:
    path = joblib_with_payload_after_array(tmp_path / "m.joblib", "id")
    with open(path, "rb") as handle:
        result = scan_pickles(Source(handle))
    assert result.problem is None
    assert result.joblib_arrays == 1
    assert ("posix", "system") in result.imports


def test_joblib_array_of_unknown_size_fails_closed() -> None:
    # A NumpyArrayWrapper built with a state that has no shape: the array's length is unknown.
    data = (b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}\x8c\x05order\x8c\x01Cs"
            b"b\x00\x00\x00.")
    result = walk(data)
    assert result.problem == "pickle 1: joblib array at offset 55: its shape cannot be read"


def test_arbitrary_bytes_never_crash_the_walk() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=400, deadline=None)
    @given(st.binary(max_size=300), st.sampled_from([b"", b"\x80\x02", b"\x80\x04", b"c", b"("]))
    def check(data: bytes, head: bytes) -> None:
        result = walk(head + data)
        assert result.problem is not None or result.pickles >= 1

    check()


def test_arbitrary_files_never_crash_the_scan(tmp_path: Path) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tests.models.helpers import scan

    heads = [b"", b"PK\x03\x04", b"\x93NUMPY\x01\x00", b"GGUF", b"\x89HDF\r\n\x1a\n", b"\x80\x02", b"\x78\x9c",
             b"\x1f\x8b\x08", b"\x08\x08", b"\x10\x00\x00\x00\x00\x00\x00\x00{"]

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(heads), st.binary(max_size=200), st.sampled_from([".pt", ".safetensors", ".bin"]))
    def check(head: bytes, data: bytes, suffix: str) -> None:
        path = tmp_path / f"f{suffix}"
        path.write_bytes(head + data)
        model = scan(path)
        assert model.size == len(head + data)

    check()


def test_a_stack_bomb_ends_the_walk_with_a_problem() -> None:
    """One-byte opcodes that each push a value: without a ceiling the stack grows by tens of bytes of
    memory per byte of file; past the ceiling the walk stops, and the file is judged unsafe."""
    from gate.models.pickles import MAX_STACK

    result = walk(b"\x80\x04" + b"]" * (MAX_STACK + 1) + b".")
    assert result.problem == f"pickle 1: more than 1048576 values on the stack at offset {MAX_STACK + 3}"


def test_a_mark_bomb_ends_the_walk_with_a_problem() -> None:
    from gate.models.pickles import MAX_STACK

    result = walk(b"(" * (MAX_STACK + 1) + b".")
    assert result.problem == f"pickle 1: more than 1048576 open MARKs at offset {MAX_STACK}"


def test_imports_are_kept_once_each_and_have_a_ceiling() -> None:
    from gate.models.pickles import MAX_IMPORTS

    repeated = b"".join(b"cos\nsystem\n0" for _ in range(3)) + b"N."
    assert walk(repeated).imports == [("os", "system")]
    many = b"".join(b"cm%d\nn\n0" % index for index in range(MAX_IMPORTS + 1)) + b"N."
    result = walk(many)
    assert len(result.imports) == MAX_IMPORTS
    assert result.problem is not None
    assert result.problem.startswith("pickle 1: more than 65536 distinct imports by offset ")


def test_container_items_kept_alive_have_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Items the walk keeps (to resolve operands) count against one budget per walk; past it, new
    containers stay empty, and the walk goes on to the end."""
    from gate.models import pickles

    monkeypatch.setattr(pickles, "MAX_KEPT", 10)
    data = pickle.dumps([[1, 2, 3, 4, 5, 6], {"a": 1, "b": 2}, [7, 8, 9, 10, 11, 12], ("x", "y")], protocol=2)
    walker = pickles.Walker(Source(io.BytesIO(data)))
    walker.walk()
    assert walker.budget == 0
    result = walk(data + os_system_protocol0("id"))
    assert (result.imports, result.pickles, result.problem) == ([("os", "system")], 2, None)
