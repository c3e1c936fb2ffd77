"""Zip-based model formats: torch checkpoints, TorchScript, ``.npz``, ``.keras``, and zips in zips.

Nothing is extracted. Member names are checked first: a member whose path is absolute or climbs
out with ``..`` would escape its folder when unpacked (zip-slip), and a name given twice means two
readers may see two different files; either makes the archive unsafe. Then every member that is
a pickle (by its PROTO byte, or named ``*.pkl``: torch's ``data.pkl``), a ``.npy`` or itself a zip
is scanned from the archive as a stream, to a bounded depth.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import IO

from gate.models.formats import NUMPY_MAGIC, ZIP_MAGICS, is_pickle_start, keras_config_imports, read_npy_header
from gate.models.pickles import scan_pickles
from gate.models.stream import Source

MAX_MEMBERS = 100_000
MAX_DEPTH = 3  # zips inside zips
MAX_CONFIG = 16 << 20  # a .keras config.json

_TORCH_DATA = re.compile(r"^[^/]+/data\.pkl$")
_TORCHSCRIPT_CODE = re.compile(r"^[^/]+/code/")
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError,
                OSError, ValueError)


@dataclass(slots=True)
class ArchiveScan:
    format: str = "zip"
    imports: list[tuple[str, str, str]] = field(default_factory=list)  # (stream, module, name)
    problems: list[str] = field(default_factory=list)


def unsafe_member(name: str) -> bool:
    """Absolute, drive-qualified, or climbing out with ``..`` (either slash)."""
    parts = re.split(r"[\\/]", name)
    return (name.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", name)) or ".." in parts
            or "\x00" in name)


def archive_format(names: list[str]) -> str:
    if any(_TORCH_DATA.match(name) for name in names):
        return "torchscript" if any(_TORCHSCRIPT_CODE.match(name) for name in names) else "torch-zip"
    files = [name for name in names if not name.endswith("/")]
    if files and all(name.endswith(".npy") for name in files):
        return "numpy-npz"
    if "config.json" in names and ("model.weights.h5" in names or "metadata.json" in names):
        return "keras"
    return "zip"


def scan_archive(handle: IO[bytes], *, prefix: str = "", depth: int = 0) -> ArchiveScan:
    scan = ArchiveScan()
    try:
        archive = zipfile.ZipFile(handle)
    except _READ_ERRORS as error:
        scan.problems.append(f"{prefix or 'zip'}: not a readable zip archive: {error}")
        return scan
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            scan.problems.append(f"{prefix or 'zip'}: more than {MAX_MEMBERS} members")
            return scan
        names = [info.filename for info in infos]
        scan.format = archive_format(names)
        seen: set[str] = set()
        for name in names:
            if unsafe_member(name):
                scan.problems.append(f"unsafe archive: member {prefix + name!r} escapes its folder")
            if name in seen:
                scan.problems.append(f"unsafe archive: member {prefix + name!r} appears twice")
            seen.add(name)
        for info in infos:
            if not info.is_dir():
                _member(archive, info, scan, prefix=prefix, depth=depth)
    return scan


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, scan: ArchiveScan, *, prefix: str, depth: int) -> None:
    where = prefix + info.filename
    if info.flag_bits & 0x1:
        scan.problems.append(f"{where}: encrypted member cannot be scanned")
        return
    try:
        with archive.open(info) as member:
            head = member.read(8)
        if is_pickle_start(head) or info.filename.endswith((".pkl", ".pickle")):
            with archive.open(info) as member:
                result = scan_pickles(Source(member))
            scan.imports.extend((where, module, name) for module, name in result.imports)
            if result.problem is not None:
                scan.problems.append(f"{where}: {result.problem}")
        elif head.startswith(NUMPY_MAGIC):
            with archive.open(info) as member:
                source = Source(member)
                objects, problem = read_npy_header(source)
                if problem is not None:
                    scan.problems.append(f"{where}: {problem}")
                elif objects:
                    result = scan_pickles(source, max_pickles=1)
                    scan.imports.extend((where, module, name) for module, name in result.imports)
                    if result.problem is not None:
                        scan.problems.append(f"{where}: {result.problem}")
        elif head[:4] in ZIP_MAGICS:
            if depth + 1 > MAX_DEPTH:
                scan.problems.append(f"{where}: zip archives nested deeper than {MAX_DEPTH}")
                return
            with archive.open(info) as member:
                nested = scan_archive(member, prefix=where + "!", depth=depth + 1)
            scan.imports.extend(nested.imports)
            scan.problems.extend(nested.problems)
        elif info.filename == "config.json" and scan.format == "keras":
            if info.file_size > MAX_CONFIG:
                scan.problems.append(f"{where}: larger than {MAX_CONFIG} bytes")
                return
            found, problems = keras_config_imports(archive.read(info))
            scan.imports.extend((where, module, name) for module, name in found)
            scan.problems.extend(f"{where}: {problem}" for problem in problems)
    except _READ_ERRORS as error:
        scan.problems.append(f"{where}: cannot be read from the archive: {error}")
