"""Input readers: each turns one format (an installed environment; later, lockfiles, conda and
SBOMs) into an :class:`~gate.model.Environment`. See :mod:`gate.sources.registry` for the list."""

from gate.sources.base import InputKind, Reader, decode_utf8, duplicate_packages, read_bounded, relative_file
from gate.sources.registry import (
    READERS,
    read_environment,
    read_lockfiles,
    reader_for_environment,
    reader_for_lockfile,
    reader_named,
    reader_names,
)

__all__ = [
    "READERS",
    "InputKind",
    "Reader",
    "decode_utf8",
    "duplicate_packages",
    "read_bounded",
    "read_environment",
    "read_lockfiles",
    "reader_for_environment",
    "reader_for_lockfile",
    "reader_named",
    "reader_names",
    "relative_file",
]
