"""Find the model files under the paths given: by name, and by magic for files with other names.

Folders are walked without following symbolic links. A link inside a folder that resolves outside
it is not read (it could point anywhere on the runner); when its name is a model's, it is listed
with that problem so it blocks instead of slipping through. A path given explicitly is always
scanned, whatever its name. Unreadable or missing paths are input errors (exit 3)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gate.errors import InputError
from gate.models.formats import GGUF_MAGIC, HDF5_MAGIC, NUMPY_MAGIC, ZIP_MAGICS, is_pickle_start
from gate.models.safetensors import looks_like_safetensors

MODEL_SUFFIXES = frozenset({".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle", ".joblib", ".npy", ".npz",
                            ".safetensors", ".onnx", ".h5", ".hdf5", ".keras", ".gguf"})
SNIFF = 16


@dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    path: Path
    shown: str  # the path as the user wrote it, joined with the part below it
    real: str
    problem: str | None = None  # set for a link that leaves the folder (then path is not read)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _magic_says_model(path: Path) -> bool:
    """Whether a file with another name is a model by its bytes. A zip counts when it has a model
    layout (torch, numpy, Keras) or holds model files, not for being a zip."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF)
            size = os.fstat(handle.fileno()).st_size
            if head[:4] in ZIP_MAGICS:
                import zipfile

                from gate.models.archives import archive_format

                try:
                    with zipfile.ZipFile(handle) as archive:
                        names = archive.namelist()
                    return archive_format(names) != "zip" or any(  # a bundle of model files (zip in zip)
                        os.path.splitext(name)[1].lower() in MODEL_SUFFIXES for name in names)
                except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
                    # Zip magic the gate cannot read could be a checkpoint it cannot judge (torch reads
                    # some archives zipfile refuses): inventoried, its problem then goes to the policy.
                    return True
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", where=str(path)) from None
    return (is_pickle_start(head) or head.startswith((NUMPY_MAGIC, GGUF_MAGIC, HDF5_MAGIC))
            or looks_like_safetensors(head, size))


def discover(paths: list[Path]) -> list[Candidate]:
    """Every model file under ``paths``, each once (by real path), sorted by the path shown."""
    found: dict[str, Candidate] = {}
    for root in paths:
        shown_root = os.path.normpath(str(root))
        if not os.path.lexists(root):
            raise InputError("model path not found", where=shown_root)
        if root.is_file():
            real = os.path.realpath(root)
            found.setdefault(real, Candidate(path=root, shown=shown_root, real=real))
            continue
        if not root.is_dir():
            raise InputError("model path is not a file or a folder", where=shown_root)
        folder = os.path.realpath(root)

        def walk_error(error: OSError) -> None:
            raise InputError(f"cannot read folder: {error.strerror}", where=error.filename)

        for directory, subdirs, files in os.walk(root, onerror=walk_error):
            subdirs.sort()
            for name in sorted(files):
                path = Path(directory) / name
                shown = os.path.normpath(str(path))
                is_model_name = path.suffix.lower() in MODEL_SUFFIXES
                if path.is_symlink():
                    real = os.path.realpath(path)
                    if not _inside(real, folder):
                        if is_model_name:
                            found.setdefault("link:" + shown, Candidate(
                                path=path, shown=shown, real=real,
                                problem=f"symbolic link to {real} outside the scanned folder: not followed"))
                        continue
                else:
                    real = os.path.realpath(path)
                if not os.path.isfile(real):  # a FIFO or device is never opened: it could block forever
                    continue
                if is_model_name or _magic_says_model(path):
                    found.setdefault(real, Candidate(path=path, shown=shown, real=real))
    return sorted(found.values(), key=lambda c: c.shown)
