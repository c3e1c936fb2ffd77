"""Real model files made by the tests. Malicious pickles are written as bytes (hand-written opcodes)
and never loaded; benign ones come from the real libraries (torch, scikit-learn/joblib, safetensors)."""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from gate.model import ModelFile


def scan(path: Path) -> ModelFile:
    from gate.models.scan import scan_file

    return scan_file(path, shown=str(path), real=str(path.resolve()))


def imports(model: ModelFile) -> list[tuple[str, str, str]]:
    return [(i.stream, i.qualified, i.safety.value) for i in model.imports]


def _unicode(text: str) -> bytes:
    data = text.encode("utf-8")
    return b"\x8c" + bytes([len(data)]) + data


def os_system_protocol0(command: str) -> bytes:
    """``os.system(command)`` as a protocol 0 pickle: GLOBAL, MARK, STRING, TUPLE, REDUCE, STOP."""
    return b"cos\nsystem\n(S" + repr(command).encode() + b"\ntR."


def os_system_protocol4(command: str) -> bytes:
    """``os.system(command)`` as protocol 4: STACK_GLOBAL on memoised strings, then REDUCE."""
    body = (_unicode("os") + b"\x94" + _unicode("system") + b"\x94\x93\x94" + _unicode(command) + b"\x94\x85\x94R\x94.")
    return b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body


def stack_global_via_memo(module: str, name: str, argument: str) -> bytes:
    """The module and name strings are memoised first and fetched back with BINGET: an indirection
    that scanners looking only at the opcodes right before STACK_GLOBAL can miss."""
    return (b"\x80\x02" + _unicode(module) + b"q\x00" + _unicode(name) + b"q\x01" + b"0" + b"0"
            + b"h\x00h\x01\x93" + _unicode(argument) + b"\x85R.")


def file_creating_pickle(target: Path) -> bytes:
    """Loading this would call ``builtins.open(target, "w")``, creating the file."""
    return (b"\x80\x02cbuiltins\nopen\n" + _unicode(str(target)) + _unicode("w") + b"\x86R.")


def torch_state_dict(path: Path) -> Path:
    pytest.importorskip("torch")
    import torch

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(4, 2)

    torch.manual_seed(0)
    torch.save(Net().state_dict(), path)
    return path


def torch_legacy(path: Path) -> Path:
    pytest.importorskip("torch")
    import torch

    torch.manual_seed(0)
    torch.save(torch.nn.Linear(3, 2).state_dict(), path, _use_new_zipfile_serialization=False)
    return path


def sklearn_joblib(path: Path, *, compress: int | tuple[str, int] = 0) -> Path:
    """``compress``: a zlib level, or (method, level) as joblib.dump takes it."""
    pytest.importorskip("sklearn")
    joblib = pytest.importorskip("joblib")
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    features = np.random.RandomState(0).rand(40, 4)
    model = LogisticRegression().fit(features, (features[:, 0] > 0.5).astype(int))
    joblib.dump(model, path, compress=compress)
    return path


class _SystemCall:
    """Pickling this writes a REDUCE of ``posix.system``; nothing here ever loads it."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, (self.command,))


def joblib_with_payload_after_array(path: Path, command: str) -> Path:
    """joblib writes raw array bytes between opcodes; the payload sits after them."""
    joblib = pytest.importorskip("joblib")
    import numpy as np

    joblib.dump([np.arange(1000, dtype=np.float64), _SystemCall(command)], path)
    return path


def numpy_object_array(path: Path, command: str) -> Path:
    import numpy as np

    with open(path, "wb") as handle:
        np.save(handle, np.array([_SystemCall(command)], dtype=object), allow_pickle=True)
    return path


def safetensors_file(path: Path) -> Path:
    pytest.importorskip("safetensors")
    import numpy as np
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"weight": np.arange(8, dtype=np.float32).reshape(2, 4), "bias": np.zeros(2, dtype=np.float16)},
              str(path), metadata={"format": "np"})
    return path


def safetensors_bytes(header: Mapping[str, object], data: bytes, *, length: int | None = None) -> bytes:
    """A safetensors file written by hand per the specification (for malformed variants)."""
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def onnx_bytes() -> bytes:
    """A minimal ModelProto: ir_version 8, producer_name, an (empty-named) graph, opset_import 17."""
    graph = b"\x12\x01g"  # GraphProto.name = "g"
    opset = b"\x10\x11"  # OperatorSetIdProto.version = 17
    return (b"\x08\x08" + b"\x12\x04test" + b"\x3a" + bytes([len(graph)]) + graph
            + b"\x42" + bytes([len(opset)]) + opset)


def gguf_bytes(version: int = 3) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, 0, 0)


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return path
