"""Zip-based formats: member names that escape, nested zips, pickles inside."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from gate.models.archives import archive_format, unsafe_member
from tests.models.helpers import imports, os_system_protocol0, scan, torch_state_dict, write_zip


def test_unsafe_member_names() -> None:
    for name in ("../evil.pkl", "a/../../evil", "/etc/cron.d/x", "\\\\server\\x", "C:/x", "a\\..\\..\\x"):
        assert unsafe_member(name), name
    for name in ("archive/data.pkl", "a/..b/c", "x..y"):
        assert not unsafe_member(name), name


def test_zip_slip_is_refused_as_a_problem(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "m.pt", {"archive/data.pkl": b"\x80\x02}q\x00.", "../../outside.sh": b"echo hi"})
    model = scan(path)
    assert model.format == "torch-zip"
    assert model.problems == ("unsafe archive: member '../../outside.sh' escapes its folder",)
    assert model.verdict == "dangerous"
    assert not (tmp_path.parent / "outside.sh").exists()


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_duplicate_member_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "dup.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02N.")
        archive.writestr("archive/data.pkl", os_system_protocol0("id"))
    model = scan(path)
    assert "unsafe archive: member 'archive/data.pkl' appears twice" in model.problems
    assert ("archive/data.pkl", "os.system", "dangerous") in imports(model)  # both copies are scanned


def test_zip_in_zip_torch_checkpoint(tmp_path: Path) -> None:
    inner = torch_state_dict(tmp_path / "inner.pt")
    evil = write_zip(tmp_path / "evil.pt", {"evil/data.pkl": os_system_protocol0("id")})
    bundle = write_zip(tmp_path / "bundle.zip", {"model.pt": inner.read_bytes(), "nested/evil.pt": evil.read_bytes()})
    model = scan(bundle)
    assert model.format == "zip"
    prefix = zipfile.ZipFile(inner).namelist()[0].split("/")[0]
    assert imports(model) == [
        (f"model.pt!{prefix}/data.pkl", "collections.OrderedDict", "safe"),
        (f"model.pt!{prefix}/data.pkl", "torch.FloatStorage", "safe"),
        (f"model.pt!{prefix}/data.pkl", "torch._utils._rebuild_tensor_v2", "safe"),
        ("nested/evil.pt!evil/data.pkl", "os.system", "dangerous"),
    ]


def test_nesting_is_bounded(tmp_path: Path) -> None:
    data = write_zip(tmp_path / "z0.zip", {"x.pkl": b"N."}).read_bytes()
    for level in range(1, 6):
        data = write_zip(tmp_path / f"z{level}.zip", {f"l{level}.zip": data}).read_bytes()
    model = scan(tmp_path / "z5.zip")
    assert model.problems == ("l5.zip!l4.zip!l3.zip!l2.zip: zip archives nested deeper than 3",)


def test_corrupt_member_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02" + b"N0" * 2000 + b"N.")
    raw = bytearray(path.read_bytes())
    middle = raw.index(b"N0" * 100) + 1001
    raw[middle] = ord("N")  # still opcodes, but the CRC no longer matches
    path.write_bytes(bytes(raw))
    model = scan(path)
    assert model.problems == ("archive/data.pkl: cannot be read from the archive: Bad CRC-32 for file "
                              "'archive/data.pkl'",)


def test_archive_format() -> None:
    assert archive_format(["a/data.pkl", "a/data/0", "a/version"]) == "torch-zip"
    assert archive_format(["a/data.pkl", "a/code/__torch__/m.py", "a/constants.pkl"]) == "torchscript"
    assert archive_format(["x.npy", "y.npy"]) == "numpy-npz"
    assert archive_format(["config.json", "metadata.json", "model.weights.h5"]) == "keras"
    assert archive_format(["readme.txt"]) == "zip"
