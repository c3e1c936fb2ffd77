"""What every input reader is, and the few file-handling rules they all share.

One small reader per format (an installed environment, requirements files, pylock.toml,
uv.lock, poetry.lock, Pipfile.lock, pdm.lock, conda, CycloneDX), all behind one interface,
as pip-audit and osv-scanner do it: the CLI asks the registry which reader fits, the reader
turns bytes into an :class:`~gate.model.Environment`, and nothing downstream knows the format.

The shared helpers live here rather than in each reader so that every format fails the same
way: one-line :class:`~gate.errors.InputError` messages that start with the file, a size bound
on every read (the candidate is hostile data), and no special files (a FIFO would block).
"""

from __future__ import annotations

import enum
import json
import os
import re
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from gate.errors import InputError
from gate.model import Environment, Package, Target


class InputKind(enum.StrEnum):
    """What a reader is handed: it lets the registry offer ``--env`` and ``--lock`` paths only
    to the readers that can take them, so a directory is never sniffed by a lockfile parser."""

    ENVIRONMENT = "environment"  # a directory of installed distributions
    LOCKFILE = "lockfile"  # a file that says what is to be installed


class Reader(Protocol):
    """One input format.

    ``detect`` must be cheap (a stat, a directory listing, the first bytes of a file) and
    decide on content, not on the caller's word, so that auto-detection is safe to run
    over every reader in turn. ``read`` does the full parse and fails closed: anything it
    cannot account for is an :class:`InputError`, never a silently shorter package list.

    ``target`` is the interpreter and platform the caller is judging for. Lockfile readers
    use it to choose among per-platform entries and to evaluate markers; readers of an
    installed environment report the target they find there instead, because the
    installer has already evaluated the markers for that interpreter.
    """

    @property
    def name(self) -> str:
        """Short, stable identifier: ``Environment.kind``, and what ``--format`` accepts."""
        ...

    @property
    def input_kind(self) -> InputKind: ...

    def detect(self, path: Path) -> bool: ...

    def read(self, path: Path, *, target: Target | None) -> Environment: ...


def read_bounded(path: str | Path, *, limit: int) -> bytes | None:
    """The bytes of a regular file, or ``None`` when it does not exist.

    The size is checked before reading, so a huge file costs a stat, not the memory. (A
    ``str`` path is accepted because pathlib's joins are a measurable share of reading a
    large environment.)
    Anything else that stops the read (permissions, a directory or FIFO where a file
    should be) is an :class:`InputError` naming the file.
    """
    if "\0" in str(path):  # os.stat would raise ValueError: a path from a lockfile can hold anything
        raise InputError("cannot read (the path holds a NUL character)", where=path)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        raise InputError(f"cannot read ({error.strerror})", where=path) from error
    if not stat.S_ISREG(info.st_mode):
        raise InputError("not a regular file", where=path)
    if info.st_size > limit:
        raise InputError(f"{info.st_size} bytes, over the limit of {limit}", where=path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise InputError(f"cannot read ({error.strerror})", where=path) from error
    if len(data) > limit:  # it grew between the stat and the read
        raise InputError(f"over the limit of {limit} bytes", where=path)
    return data


def decode_utf8(data: bytes, *, where: str | Path) -> str:
    """Decode as UTF-8 (what packaging specifications and importlib.metadata require), and
    say on which line the first bad byte is, so that the file can be fixed or reported."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(
            f"not valid UTF-8 ({error.reason}: byte 0x{data[error.start]:02x} at offset {error.start})",
            where=where,
            line=line,
        ) from error


def long_number(text: str) -> tuple[str, int | None]:
    """Why a JSON or TOML parser raised a bare ``ValueError`` (not its decode error), and the line.

    Python converts integers of at most ``sys.get_int_max_str_digits()`` digits (4300) and the
    parsers let the conversion's ``ValueError`` through for a longer one. No real version, size
    or count is that long, so the input is refused with a message that says why and where: the
    first run of that many digits (TOML's ``1_000`` underscores included) outside quoted strings
    and comments. The parser stopped at it, so the text before it is well-formed and its strings
    can be skipped by their quotes."""
    limit = sys.get_int_max_str_digits()
    tokens = re.compile(r'"""[\s\S]*?"""|' r"'''[\s\S]*?'''|" r'"(?:[^"\\\n]|\\.)*"|' r"'[^'\n]*'|#[^\n]*|"
                        rf"(?P<number>[0-9_]{{{limit + 1},}})")
    found = next((match for match in tokens.finditer(text) if match.group("number")), None)
    line = text.count("\n", 0, found.start()) + 1 if found is not None else None
    return f"a number of more than {limit} digits", line


def load_json(text: str, *, where: str) -> Any:
    """Parse JSON; an error names the line the json module reports, or the line of an integer
    too long to convert (:func:`long_number`)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"not valid JSON ({error.msg})", where=where, line=error.lineno) from None
    except RecursionError:
        raise InputError("not valid JSON (nested too deeply)", where=where) from None
    except ValueError:  # an integer too long to convert, not a JSONDecodeError
        problem, line = long_number(text)
        raise InputError(f"not valid JSON ({problem})", where=where, line=line) from None


def relative_file(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with ``/`` separators: what :class:`~gate.model.Location`
    holds, so that reports and records are the same on every machine and checkout."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def duplicate_packages(packages: Iterable[Package]) -> tuple[tuple[Package, ...], ...]:
    """Groups of packages that claim the same ecosystem, name and marker.

    Readers keep such duplicates rather than pick one (in an installed environment they mean a
    broken install: two dist-infos for one project, and which one Python imports depends on
    the files, not the metadata). This lets the consistency check and the report show them.
    Packages that differ only by marker (a lockfile resolving one project twice for different
    platforms) are not duplicates.
    """
    groups: dict[tuple[str, str, str | None], list[Package]] = {}
    for package in packages:
        groups.setdefault((package.ecosystem, package.name, package.marker), []).append(package)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or ""))
    return tuple(tuple(group) for _key, group in ordered if len(group) > 1)
