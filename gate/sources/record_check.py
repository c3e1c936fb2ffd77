"""Verify an installed environment's files against the ``RECORD`` each distribution carries.

An installer writes, per distribution, ``*.dist-info/RECORD``: every file it installed, with
the file's hash (``sha256=`` and the URL-safe base64 digest without padding) and size. A
file that no longer matches was edited after installation: a hot-patch, a debugging print
left in, or tampering. This is what ``drift.forbid: [modified_files]`` judges.

Rules, as the wheel specification and pip read them:

- Paths are relative to the site-packages directory holding the ``.dist-info`` (scripts
  appear as ``../../../bin/name``). A path that leads outside the environment's root, by
  ``..``, an absolute path or a symbolic link, is never read: it is reported instead.
- Entries with no hash (``RECORD`` itself, and the ``.pyc`` files an installer compiles)
  claim nothing and are skipped; that is the specification's own exemption.
- A size that differs is reported without hashing; otherwise the file is hashed with the
  algorithm ``RECORD`` names (``md5`` and ``sha1`` are refused, as the specification says).
- A distribution that cannot be verified is reported, never passed: a ``.dist-info``
  without ``RECORD``, an ``.egg-info`` or ``.egg-link`` (those installs record no hashes),
  an unreadable or malformed ``RECORD``.

Not detected: an edited ``.pyc`` (pip lists the ones it compiles without a hash, and Python
runs one whose header still matches its source), files added next to a distribution's files
without being in any ``RECORD`` (a planted ``.pth``, say), and anything outside
site-packages and the listed scripts.

Cost: this reads every installed file. On a 221-distribution ML venv (42 k hashed entries,
1.45 GB, in the page cache; two cores) it takes about two seconds, against a few hundred
milliseconds for the rest of ``gate check``: that is why the policy asks for it explicitly.
Files are hashed in batches on as many threads as cores (``hashlib`` and reads release the
GIL for large files; for small ones more threads than cores only added contention).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from gate.errors import InputError
from gate.model import ModifiedFile
from gate.sources.base import decode_utf8, read_bounded
from gate.sources.venv import _python_from_pyvenv_cfg, _pyvenv_cfg, _venv_site_packages

MAX_RECORD_BYTES = 64 * 1024 * 1024  # the largest RECORD of a 221-distribution ML venv is 0.7 MB (jedi)
MAX_ENTRIES = 2_000_000  # fifty times the 42 k hashed entries of that venv's RECORD files
MAX_SMALL_FILE_BYTES = 64 * 1024
# What RECORD may name: hashlib's guaranteed algorithms less md5 and sha1 (the wheel
# specification forbids them) and the SHAKEs (no fixed digest length).
ALGORITHMS = frozenset(hashlib.algorithms_guaranteed - {"shake_128", "shake_256"})
WEAK_ALGORITHMS = frozenset({"md5", "sha1"})
THREADS = min(4, os.cpu_count() or 1)  # hashing small files holds the GIL: more threads than cores cost
_WHOLE_FILE_BYTES = 8 * 1024 * 1024
_BATCH = 512
_PYTHON_FOLDER = re.compile(r"(?:python|pypy)\d+\.\d+t?")
_DIGITS = re.compile(r"[0-9]+")
MAX_SIZE_DIGITS = 20  # 2**64 - 1 has 20 digits

HASH_MISMATCH = "hash mismatch"
SIZE_MISMATCH = "size mismatch"
MISSING = "missing"


@dataclass(frozen=True, kw_only=True, slots=True)
class _Entry:
    package: str
    shown: str  # the path relative to the root, as reported
    path: str  # absolute, resolved
    algorithm: str
    digest: str
    size: int | None


def verify_installed_files(env_path: Path) -> tuple[ModifiedFile, ...]:
    """Every installed file of a virtualenv (or a site-packages directory) that no longer
    matches its ``RECORD``, and every distribution that cannot be verified; sorted."""
    directories, root = _layout(env_path)
    real_root = os.path.realpath(root)
    folders: dict[str, str] = {}
    problems: list[ModifiedFile] = []
    entries: list[_Entry] = []
    for directory in directories:
        for package, record, rel_record in _distributions(directory, root, problems):
            entries.extend(_entries(package, record, rel_record, directory, root, real_root, problems, folders))
            if len(entries) > MAX_ENTRIES:
                raise InputError(f"over {MAX_ENTRIES} files listed in RECORD files; refusing to verify them all",
                                 where=env_path)
    # Batches, not one task per file: a thread pool's per-task cost was more than the hashing.
    batches = [entries[start:start + _BATCH] for start in range(0, len(entries), _BATCH)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for found in pool.map(_verify_all, batches):
            problems.extend(found)
    return tuple(sorted(problems, key=lambda p: (p.package, p.path)))  # stable: RECORD lines stay in order


def _layout(path: Path) -> tuple[list[Path], Path]:
    """The site-packages directories of an environment, and the root its RECORD paths may
    reach (the venv, or the prefix above ``lib/pythonX.Y/site-packages``)."""
    config = path / "pyvenv.cfg"
    if config.is_file():
        data = read_bounded(config, limit=MAX_SMALL_FILE_BYTES)
        settings = _pyvenv_cfg(decode_utf8(data or b"", where=config))
        directories, _python = _venv_site_packages(path, _python_from_pyvenv_cfg(settings))
        return directories, path
    if not path.is_dir():
        raise InputError("not a directory (a virtualenv or site-packages directory)", where=path)
    absolute = path.absolute()
    if _PYTHON_FOLDER.fullmatch(absolute.parent.name) and absolute.parent.parent.name in ("lib", "lib64"):
        return [path], absolute.parent.parent.parent  # <prefix>/lib/pythonX.Y/site-packages
    if absolute.parent.name == "Lib":
        return [path], absolute.parent.parent  # Windows: <prefix>/Lib/site-packages
    return [path], path


def _distributions(directory: Path, root: Path,
                   problems: list[ModifiedFile]) -> Iterator[tuple[str, bytes, str]]:
    """(package, RECORD bytes, RECORD path as shown) of each verifiable distribution; the
    others are added to ``problems``."""
    try:
        with os.scandir(directory) as listing:
            names = sorted(entry.name for entry in listing)
    except OSError as error:
        raise InputError(f"cannot list ({error.strerror})", where=directory) from error
    base = _shown(str(directory), root)
    for name in names:
        lowered = name.lower()
        suffix = next((s for s in (".dist-info", ".egg-info", ".egg-link") if lowered.endswith(s)), None)
        if suffix is None:
            continue
        package = canonicalize_name(name[: -len(suffix)].split("-", 1)[0])
        shown = f"{base}/{name}" if base != "." else name
        if suffix != ".dist-info":
            problems.append(ModifiedFile(package=package, path=shown,
                                         problem=f"not verifiable: an {suffix} install records no file hashes"))
            continue
        record = f"{directory}/{name}/RECORD"
        try:
            data = read_bounded(record, limit=MAX_RECORD_BYTES)
        except InputError as error:
            problems.append(ModifiedFile(package=package, path=f"{shown}/RECORD",
                                         problem=f"not verifiable: RECORD unreadable ({error.message})"))
            continue
        if data is None:
            problems.append(ModifiedFile(package=package, path=f"{shown}/RECORD",
                                         problem="not verifiable: no RECORD"))
            continue
        yield package, data, f"{shown}/RECORD"


def _entries(package: str, data: bytes, rel_record: str, directory: Path, root: Path, real_root: str,
             problems: list[ModifiedFile], folders: dict[str, str]) -> Iterable[_Entry]:
    """The hashed entries of one RECORD, their folders resolved (through ``folders``, a cache:
    resolving each file's path was most of the time); the file itself is never followed."""
    try:
        text = decode_utf8(data, where=rel_record)
    except InputError as error:
        problems.append(ModifiedFile(package=package, path=rel_record,
                                     problem=f"not verifiable: RECORD {error.message}"))
        return []
    entries: list[_Entry] = []
    base = os.path.abspath(directory) + os.sep
    root_prefix = os.path.abspath(root) + os.sep
    rows = csv.reader(text.splitlines())
    number = 0
    while True:
        number += 1
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as error:  # a field over csv's limit (128 kB): no real path or digest is that long
            problems.append(ModifiedFile(package=package, path=rel_record,
                                         problem=f"not verifiable: RECORD line {rows.line_num}: {error}"))
            return []
        if not row:
            continue
        if len(row) != 3:
            problems.append(ModifiedFile(package=package, path=rel_record,
                                         problem=f"not verifiable: RECORD line {number} has {len(row)} fields, not 3"))
            continue
        listed, hash_field, size_field = row
        if not hash_field:
            continue  # RECORD itself, compiled .pyc files: the specification lets them go unhashed
        algorithm, separator, digest = hash_field.partition("=")
        algorithm = algorithm.lower()
        if not separator or not digest or algorithm not in ALGORITHMS:
            problems.append(ModifiedFile(package=package, path=rel_record, problem=(
                f"not verifiable: RECORD line {number} has hash {hash_field!r}, not <algorithm>=<digest>")))
            continue
        if algorithm in WEAK_ALGORITHMS:
            problems.append(ModifiedFile(package=package, path=rel_record, problem=(
                f"not verifiable: RECORD line {number} uses {algorithm}, which the wheel specification forbids")))
            continue
        size: int | None = None
        if size_field:
            if not _DIGITS.fullmatch(size_field):  # str.isdigit() takes "²" too, which int() refuses
                problems.append(ModifiedFile(package=package, path=rel_record, problem=(
                    f"not verifiable: RECORD line {number} has size {size_field!r}, not a number")))
                continue
            if len(size_field) > MAX_SIZE_DIGITS:
                problems.append(ModifiedFile(package=package, path=rel_record, problem=(
                    f"not verifiable: RECORD line {number} has a size of {len(size_field)} digits, larger than "
                    "any file")))
                continue
            size = int(size_field)
        if "\0" in listed:  # no file has such a name, and the os functions raise ValueError on one
            problems.append(ModifiedFile(package=package, path=rel_record, problem=(
                f"not verifiable: RECORD line {number} names a path with a NUL character")))
            continue
        joined = os.path.normpath(listed if os.path.isabs(listed) else base + listed)
        folder, name = os.path.split(joined)
        resolved = _resolve(folder, folders)
        if resolved != real_root and not resolved.startswith(real_root + os.sep):
            problems.append(ModifiedFile(package=package, path=listed,
                                         problem="not verifiable: outside the environment (not read)"))
            continue
        shown = joined[len(root_prefix):] if joined.startswith(root_prefix) else joined
        entries.append(_Entry(package=package, shown=shown.replace(os.sep, "/"), path=resolved + os.sep + name,
                              algorithm=algorithm, digest=digest, size=size))
    return entries


def _resolve(folder: str, folders: dict[str, str]) -> str:
    """``os.path.realpath(folder)``, one ``lstat`` per new folder: each resolves from its
    parent's cached answer (realpath itself would walk every component each time)."""
    known = folders.get(folder)
    if known is not None:
        return known
    parent, name = os.path.split(folder)
    if not name or parent == folder:
        resolved = os.path.realpath(folder)
    else:
        candidate = os.path.join(_resolve(parent, folders), name)
        try:
            link = stat.S_ISLNK(os.lstat(candidate).st_mode)
        except OSError:
            link = False  # a missing folder: its files are reported missing
        resolved = os.path.realpath(candidate) if link else candidate
    folders[folder] = resolved
    return resolved


def _verify_all(entries: list[_Entry]) -> list[ModifiedFile]:
    return [problem for problem in map(_verify, entries) if problem is not None]


def _verify(entry: _Entry) -> ModifiedFile | None:
    """The problem with one listed file, or None when it matches."""
    try:
        info = os.lstat(entry.path)
    except FileNotFoundError:
        return ModifiedFile(package=entry.package, path=entry.shown, problem=MISSING)
    except OSError as error:
        return ModifiedFile(package=entry.package, path=entry.shown,
                            problem=f"not verifiable: cannot read ({error.strerror})")
    if not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        return ModifiedFile(package=entry.package, path=entry.shown, problem=f"not verifiable: {kind}")
    if entry.size is not None and info.st_size != entry.size:
        return ModifiedFile(package=entry.package, path=entry.shown, problem=SIZE_MISMATCH)
    try:
        with open(entry.path, "rb", opener=_no_follow) as handle:
            # Whole small files at once: a chunked loop allocating a large buffer per call
            # took more than twice as long over 42 k files.
            if info.st_size <= _WHOLE_FILE_BYTES:
                digest = hashlib.new(entry.algorithm, handle.read())
            else:
                digest = hashlib.file_digest(handle, entry.algorithm)
    except OSError as error:
        return ModifiedFile(package=entry.package, path=entry.shown,
                            problem=f"not verifiable: cannot read ({error.strerror})")
    if base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii") != entry.digest.rstrip("="):
        return ModifiedFile(package=entry.package, path=entry.shown, problem=HASH_MISMATCH)
    return None


def _no_follow(path: str, flags: int) -> int:
    """Open without following a link swapped in after the ``lstat`` (where the OS can)."""
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))


def _shown(path: str, root: Path) -> str:
    """``path`` relative to the root with ``/`` separators, as reports show paths."""
    relative = os.path.relpath(path, root)
    return relative.replace(os.sep, "/")
