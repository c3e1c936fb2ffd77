"""One model file: a single streamed pass that hashes it and feeds the scanner of its format.

Every byte goes through :class:`~gate.models.stream.HashingFile` once, in order. Formats read as
streams (pickles, joblib, ``.npy``, safetensors, GGUF, ONNX, HDF5) are scanned as the hash reads
them; zip formats need their central directory, so the file is hashed first and the archive then
reads only its member headers and the pickles (kilobytes, from the page cache).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from gate.errors import InputError
from gate.model import ModelFile
from gate.models.archives import scan_archive
from gate.models.formats import (
    GGUF_MAGIC,
    HDF5_MAGIC,
    NUMPY_MAGIC,
    TORCH_LEGACY_MAGIC,
    TORCH_LEGACY_PICKLES,
    ZIP_MAGICS,
    Decompressor,
    check_gguf,
    compression,
    find_keras_lambda,
    is_pickle_start,
    looks_like_onnx,
    read_npy_header,
)
from gate.models.imports import classify_all
from gate.models.pickles import _OPCODES, StreamScan, scan_pickles
from gate.models.safetensors import check_safetensors, looks_like_safetensors
from gate.models.stream import HashingFile, LimitExceeded, Source, Truncated

HEAD = 64
DECOMPRESSED_RATIO = 64  # a compressed joblib may expand to this many times its size (and at least 1 GiB)
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".ckpt", ".dat", ".data")


@dataclass(slots=True)
class _Found:
    format: str = "unknown"
    imports: list[tuple[str, str, str]] = field(default_factory=list)  # (stream, module, name)
    problems: list[str] = field(default_factory=list)

    def add(self, scan: StreamScan, *, stream: str = "") -> None:
        self.imports.extend((stream, module, name) for module, name in scan.imports)
        if scan.problem is not None:
            self.problems.append(f"{stream + ': ' if stream else ''}{scan.problem}")


def scan_file(path: Path, *, shown: str, real: str) -> ModelFile:
    """Hash and scan ``path``; unreadable is an InputError, anything wrong inside is a problem."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, after the drain
    except OSError as error:
        raise InputError(f"cannot read model file: {error.strerror}", where=shown) from None
    with handle:
        try:
            size = os.fstat(handle.fileno()).st_size
            hashing = HashingFile(handle)
            found = _scan(hashing, handle, path=path, size=size)
        except OSError as error:
            raise InputError(f"cannot read model file: {error.strerror}", where=shown) from None
    imports = []
    for stream in sorted({stream for stream, _, _ in found.imports}):
        imports.extend(classify_all(((m, n) for s, m, n in found.imports if s == stream), stream=stream))
    return ModelFile(path=shown, real_path=real, size=size, sha256=hashing.hexdigest(), format=found.format,
                     imports=tuple(imports), problems=tuple(dict.fromkeys(found.problems)))


def _scan(hashing: HashingFile, handle: object, *, path: Path, size: int) -> _Found:
    source = Source(hashing)
    head = source.peek(HEAD)
    suffix = path.suffix.lower()
    found = _Found()
    if head[:4] in ZIP_MAGICS:
        hashing.drain()
        archive = scan_archive(handle)  # type: ignore[arg-type]
        found.format = archive.format
        found.imports.extend(archive.imports)
        found.problems.extend(archive.problems)
        return found
    try:
        _scan_stream(source, head, suffix, size, found)
    except (Truncated, LimitExceeded) as error:
        found.problems.append(f"{found.format}: {error}")
    hashing.drain()
    return found


def _scan_stream(source: Source, head: bytes, suffix: str, size: int, found: _Found) -> None:
    if head.startswith(NUMPY_MAGIC):
        found.format = "numpy"
        objects, problem = read_npy_header(source)
        if problem is not None:
            found.problems.append(problem)
        elif objects:  # an object array is a pickle after the header
            found.add(scan_pickles(source, max_pickles=1))
    elif head.startswith(GGUF_MAGIC):
        found.format = "gguf"
        found.problems.extend(check_gguf(source))
    elif head.startswith(HDF5_MAGIC):
        found.format = "hdf5"
        if find_keras_lambda(source.chunks()):
            found.imports.append(("", "keras.layers", "Lambda"))
    elif looks_like_safetensors(head, size) or suffix == ".safetensors":
        found.format = "safetensors"
        found.problems.extend(check_safetensors(source, size))
    elif head.startswith(TORCH_LEGACY_MAGIC):
        found.format = "torch-legacy"
        scan = scan_pickles(source, max_pickles=TORCH_LEGACY_PICKLES)
        if scan.problem is None and scan.pickles < TORCH_LEGACY_PICKLES:
            scan.problem = f"the file ends after {scan.pickles} of the {TORCH_LEGACY_PICKLES} pickles of the format"
        found.add(scan)
    elif is_pickle_start(head):
        scan = scan_pickles(source)
        found.format = "joblib" if scan.joblib_arrays else "pickle"
        found.add(scan)
    elif (kind := compression(head)) is not None:
        _scan_compressed(source, kind, size, found)
    elif head[:1] == b"\x08":
        if looks_like_onnx(source):
            found.format = "onnx"
    elif head and head[0] in _OPCODES and suffix in PICKLE_SUFFIXES:
        _scan_old_pickle(source, found)


def _scan_compressed(source: Source, kind: str, size: int, found: _Found) -> None:
    """joblib's ``compress=``: a pickle (with its arrays) inside zlib, gzip, bz2, xz or lzma."""
    inner = Source(Decompressor(source, kind), limit=max(1 << 30, size * DECOMPRESSED_RATIO))
    try:
        if not is_pickle_start(inner.peek(2)):
            return  # compressed, but not a pickle: not a model format the gate knows
    except (Truncated, LimitExceeded):
        return
    found.format = "joblib"
    found.add(scan_pickles(inner), stream=f"{kind}-compressed")


def _scan_old_pickle(source: Source, found: _Found) -> None:
    """Protocol 0/1 pickles have no magic. Called one only when the walk proves it: it parses, or
    it imported something before failing (a loader would have run that import already)."""
    scan = scan_pickles(source)
    if scan.pickles or scan.imports:
        found.format = "pickle"
        found.add(scan)
