"""Formats identified from the bytes of real files, hashes, and the scan verdicts."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

from gate.models.scan import scan_file
from tests.models.helpers import (
    gguf_bytes,
    imports,
    joblib_with_payload_after_array,
    numpy_object_array,
    onnx_bytes,
    os_system_protocol0,
    os_system_protocol4,
    safetensors_file,
    scan,
    sklearn_joblib,
    torch_legacy,
    torch_state_dict,
    write_zip,
)

TORCH_SAFE = [("archive/data.pkl", "collections.OrderedDict", "safe"),
              ("archive/data.pkl", "torch.FloatStorage", "safe"),
              ("archive/data.pkl", "torch._utils._rebuild_tensor_v2", "safe")]


def test_torch_state_dict_is_a_safe_torch_zip(tmp_path: Path) -> None:
    path = torch_state_dict(tmp_path / "model.pt")
    model = scan(path)
    assert model.format == "torch-zip"
    prefix = zipfile.ZipFile(path).namelist()[0].split("/")[0]
    assert imports(model) == [(s.replace("archive", prefix), q, v) for s, q, v in TORCH_SAFE]
    assert (model.verdict, model.problems) == ("safe", ())
    assert model.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert model.size == path.stat().st_size


def test_whole_torch_module_is_suspicious(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "whole.pt"
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), path)
    model = scan(path)
    assert model.format == "torch-zip"
    assert ("whole/data.pkl", "torch.nn.modules.container.Sequential", "suspicious") in imports(model)
    assert model.verdict == "suspicious"


def test_legacy_torch_format(tmp_path: Path) -> None:
    model = scan(torch_legacy(tmp_path / "legacy.bin"))
    assert model.format == "torch-legacy"
    assert imports(model) == [("", "collections.OrderedDict", "safe"), ("", "torch.FloatStorage", "safe"),
                              ("", "torch._utils._rebuild_tensor_v2", "safe")]
    assert model.problems == ()


def test_sklearn_joblib_is_suspicious_not_dangerous(tmp_path: Path) -> None:
    model = scan(sklearn_joblib(tmp_path / "clf.joblib"))
    assert model.format == "joblib"
    assert imports(model) == [("", "joblib.numpy_pickle.NumpyArrayWrapper", "safe"), ("", "numpy.dtype", "safe"),
                              ("", "numpy.ndarray", "safe"),
                              ("", "sklearn.linear_model._logistic.LogisticRegression", "suspicious")]
    assert (model.verdict, model.problems) == ("suspicious", ())


@pytest.mark.parametrize("compress", [("zlib", 3), ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3)])
def test_compressed_joblib(tmp_path: Path, compress: tuple[str, int]) -> None:
    model = scan(sklearn_joblib(tmp_path / "clf.joblib", compress=compress))
    assert model.format == "joblib"
    assert {s for s, _, _ in imports(model)} == {f"{compress[0]}-compressed"}
    assert ("sklearn.linear_model._logistic.LogisticRegression", "suspicious") in [(q, v) for _, q, v in imports(model)]
    assert model.problems == ()


def test_payload_after_a_joblib_array_is_found(tmp_path: Path) -> None:
    model = scan(joblib_with_payload_after_array(tmp_path / "m.joblib", "touch /tmp/never"))
    assert model.format == "joblib"
    assert ("", "posix.system", "dangerous") in imports(model)
    assert model.verdict == "dangerous"


def test_numpy_object_array_holds_a_pickle(tmp_path: Path) -> None:
    model = scan(numpy_object_array(tmp_path / "a.npy", "id"))
    assert model.format == "numpy"
    assert ("", "posix.system", "dangerous") in imports(model)


def test_plain_numpy_and_npz(tmp_path: Path) -> None:
    import numpy as np

    np.save(tmp_path / "a.npy", np.ones((3, 3)))
    np.savez(tmp_path / "b.npz", x=np.ones(2), y=np.zeros(3))
    assert (scan(tmp_path / "a.npy").format, scan(tmp_path / "a.npy").imports) == ("numpy", ())
    assert (scan(tmp_path / "b.npz").format, scan(tmp_path / "b.npz").verdict) == ("numpy-npz", "safe")


def test_safetensors_from_the_library(tmp_path: Path) -> None:
    model = scan(safetensors_file(tmp_path / "model.safetensors"))
    assert (model.format, model.verdict, model.problems, model.imports) == ("safetensors", "safe", (), ())


def test_os_system_pickles_are_dangerous(tmp_path: Path) -> None:
    for index, data in enumerate([os_system_protocol0("id"), os_system_protocol4("id")]):
        path = tmp_path / f"evil{index}.pkl"
        path.write_bytes(data)
        model = scan(path)
        assert (model.format, imports(model), model.verdict) == ("pickle", [("", "os.system", "dangerous")],
                                                                 "dangerous")


def test_renamed_files_are_identified_by_their_bytes(tmp_path: Path) -> None:
    sources = {
        "torch-zip": torch_state_dict(tmp_path / "a.pt"),
        "safetensors": safetensors_file(tmp_path / "b.safetensors"),
        "joblib": sklearn_joblib(tmp_path / "c.joblib"),
        "torch-legacy": torch_legacy(tmp_path / "d.pt"),
    }
    (tmp_path / "e.onnx").write_bytes(onnx_bytes())
    (tmp_path / "f.gguf").write_bytes(gguf_bytes())
    (tmp_path / "g.pkl").write_bytes(os_system_protocol4("id"))
    sources.update({"onnx": tmp_path / "e.onnx", "gguf": tmp_path / "f.gguf", "pickle": tmp_path / "g.pkl"})
    for expected, source in sources.items():
        renamed = tmp_path / f"renamed-{expected}.txt"
        shutil.copyfile(source, renamed)
        assert scan(renamed).format == expected, expected
        assert scan(renamed).sha256 == scan(source).sha256


def test_onnx_and_gguf(tmp_path: Path) -> None:
    (tmp_path / "m.onnx").write_bytes(onnx_bytes())
    (tmp_path / "bad.onnx").write_bytes(onnx_bytes()[:-1])
    (tmp_path / "m.gguf").write_bytes(gguf_bytes())
    (tmp_path / "v9.gguf").write_bytes(gguf_bytes(version=9))
    assert scan(tmp_path / "m.onnx").format == "onnx"
    assert scan(tmp_path / "bad.onnx").format == "unknown"  # truncated: not called ONNX
    assert (scan(tmp_path / "m.gguf").format, scan(tmp_path / "m.gguf").problems) == ("gguf", ())
    assert scan(tmp_path / "v9.gguf").problems == ("gguf: unknown version 9",)


def test_unknown_bytes_are_unknown(tmp_path: Path) -> None:
    (tmp_path / "w.bin").write_bytes(b"\x01\x02 not a model")
    (tmp_path / "empty.pt").write_bytes(b"")
    assert (scan(tmp_path / "w.bin").format, scan(tmp_path / "w.bin").problems) == ("unknown", ())
    assert scan(tmp_path / "empty.pt").format == "unknown"


def test_hdf5_keras_lambda_is_dangerous(tmp_path: Path) -> None:
    config = b'{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {}}]}}'
    path = tmp_path / "m.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * (4 << 20) + config)  # across a read block
    model = scan(path)
    assert (model.format, imports(model)) == ("hdf5", [("", "keras.layers.Lambda", "dangerous")])
    clean = tmp_path / "clean.h5"
    clean.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    assert (scan(clean).format, scan(clean).verdict) == ("hdf5", "safe")


def test_keras_archive_config(tmp_path: Path) -> None:
    config = (b'{"class_name": "Functional", "config": {"layers": [{"module": "keras.layers", "class_name": "Dense"},'
              b' {"module": "keras.layers", "class_name": "Lambda"}, {"module": "evil_pkg", "class_name": "Hook"}]}}')
    path = write_zip(tmp_path / "m.keras", {"metadata.json": b"{}", "config.json": config,
                                            "model.weights.h5": b"\x89HDF\r\n\x1a\n"})
    model = scan(path)
    assert model.format == "keras"
    assert imports(model) == [("config.json", "evil_pkg.Hook", "suspicious"),
                              ("config.json", "keras.layers.Lambda", "dangerous")]


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    from gate.errors import InputError

    with pytest.raises(InputError) as error:
        scan_file(tmp_path / "missing.pt", shown="models/missing.pt", real="x")
    assert str(error.value) == "models/missing.pt: cannot read model file: No such file or directory"
