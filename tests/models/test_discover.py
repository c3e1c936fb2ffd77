"""Finding model files: by name, by magic, each once, links kept inside the folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gate.errors import InputError
from gate.models import inventory
from gate.models.discover import discover
from tests.models.helpers import gguf_bytes, os_system_protocol4, safetensors_bytes


def shown(paths: list[Path]) -> list[str]:
    return [candidate.shown for candidate in discover(paths)]


def test_walk_by_name_and_by_magic(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "model.onnx").write_bytes(b"\x08\x08")
    (tmp_path / "sub" / "weights").write_bytes(safetensors_bytes({}, b""))  # no extension: by magic
    (tmp_path / "sub" / "blob.dat").write_bytes(os_system_protocol4("id"))  # pickle PROTO magic
    (tmp_path / "sub" / "x.GGUF").write_bytes(gguf_bytes())  # suffixes are case-insensitive
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "data.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip is not a model
    assert shown([tmp_path]) == [str(tmp_path / "model.onnx"), str(tmp_path / "sub" / "blob.dat"),
                                 str(tmp_path / "sub" / "weights"), str(tmp_path / "sub" / "x.GGUF")]


def test_a_zip_the_gate_cannot_read_is_listed_not_skipped(tmp_path: Path) -> None:
    """It could be a checkpoint under another name that the gate cannot judge: fail closed."""
    (tmp_path / "blob.dat").write_bytes(b"PK\x03\x04" + b"not a readable archive")
    (model,) = inventory([tmp_path])
    assert (model.path, model.format) == (str(tmp_path / "blob.dat"), "zip")
    assert model.problems == ("zip: not a readable zip archive: File is not a zip file",)


def test_explicit_file_is_always_scanned_and_listed_once(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "m.pkl").write_bytes(b"N.")
    assert shown([tmp_path / "notes.txt", tmp_path, tmp_path / "m.pkl"]) == [
        str(tmp_path / "m.pkl"), str(tmp_path / "notes.txt")]


def test_link_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.pkl").write_bytes(os_system_protocol4("id"))
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "ok.safetensors").write_bytes(safetensors_bytes({}, b""))
    os.symlink(outside / "secret.pkl", folder / "link.pkl")
    os.symlink(outside / "secret.pkl", folder / "other-name")  # not a model name: ignored
    os.symlink(outside, folder / "dir-link")  # folders behind links are not walked
    os.symlink(folder / "ok.safetensors", folder / "inside.safetensors")  # inside: the same file, once
    models = inventory([folder])
    assert [(m.path, m.format, m.problems) for m in models] == [
        (str(folder / "inside.safetensors"), "safetensors", ()),
        (str(folder / "link.pkl"), "unknown",
         (f"symbolic link to {outside / 'secret.pkl'} outside the scanned folder: not followed",)),
    ]
    assert models[1].verdict == "dangerous"


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        discover([tmp_path / "nope"])
    assert str(error.value) == f"{tmp_path / 'nope'}: model path not found"


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.pt")  # opening it would block the check forever
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "m.pkl").write_bytes(b"N.")
    assert shown([tmp_path]) == [str(tmp_path / "m.pkl")]
    with pytest.raises(InputError) as error:
        discover([tmp_path / "pipe.pt"])
    assert str(error.value) == f"{tmp_path / 'pipe.pt'}: model path is not a file or a folder"
