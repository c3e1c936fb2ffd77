"""Where a finding or violation of a result document sits in the repository: the file and line
that SARIF results, the GitLab report and GitHub annotations point at.

Pure string work on the result document (no filesystem), so rendering a stored result.json
gives the same places as rendering the Decision did. ``root`` (the repository checkout) turns
paths inside it into the repository-relative ones that code scanning, GitLab and annotations
attach to a file; ``base`` is the directory the check ran in, which relative paths in the
result document are relative to."""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gate.model import NO_ENVIRONMENT_KIND

# Readers whose locations are relative to the environment directory (a dist-info METADATA file).
ENVIRONMENT_KINDS = frozenset({"venv", "site-packages"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Place:
    path: str  # "/" separators; relative to the root when inside it
    line: int | None  # 1-based; None when the format has no lines (METADATA, the policy as a whole)


def split_location(text: str) -> tuple[str, int | None]:
    """``requirements.txt:12`` -> (``requirements.txt``, 12); a location without a line as is."""
    head, colon, tail = text.rpartition(":")
    if colon and head and tail.isascii() and tail.isdigit() and int(tail) > 0:
        return head, int(tail)
    return text, None


def repository_path(path: str, *, root: str | None, base: str | None = None) -> str:
    """``path`` with ``/`` separators, relative to ``root`` (the checkout) when it lies inside it.

    A relative ``path`` is taken relative to ``base`` (the directory the check ran in) first,
    so a check run in a sub-folder still points at ``sub/uv.lock``; without ``base`` it is kept
    relative as it is. Paths outside the checkout stay absolute."""
    if base is not None and not os.path.isabs(path):
        path = os.path.join(base, path)
    if root is not None and os.path.isabs(path) and os.path.isabs(root):
        try:
            relative = os.path.relpath(path, root)
        except ValueError:  # another drive
            return path.replace(os.sep, "/")
        if relative != os.curdir and relative != os.pardir and not relative.startswith(os.pardir + os.sep):
            return relative.replace(os.sep, "/")
        return os.path.normpath(path).replace(os.sep, "/")
    path = path.replace(os.sep, "/")
    return path if os.path.isabs(path) else posixpath.normpath(path)


def item_place(document: Mapping[str, Any], item: Mapping[str, Any], *, root: str | None,
               base: str | None = None) -> Place:
    """The file and line an item of ``findings`` or ``violations`` points at.

    A package's own location when it has one (a venv's locations are inside the environment
    directory, so they are joined to it); for a rule about the whole environment, the lockfile
    when there is exactly one; otherwise (several lockfiles, an installed
    environment, model files alone) the policy file, where the rule (or waiver) lives."""
    environment = document["environment"]
    kind = str(environment.get("kind") or "")
    location = item.get("location")
    if isinstance(location, str) and location:
        file, line = split_location(location)
        if kind in ENVIRONMENT_KINDS and not os.path.isabs(file):
            file = posixpath.join(str(environment["source"]).replace(os.sep, "/"), file)
        return Place(path=repository_path(file, root=root, base=base), line=line)
    if "rule" in item and not str(item["rule"]).startswith("vulnerabilities.waivers") \
            and kind not in ENVIRONMENT_KINDS and kind != NO_ENVIRONMENT_KIND and "+" not in kind \
            and environment.get("source"):
        return Place(path=repository_path(str(environment["source"]), root=root, base=base), line=None)
    return Place(path=repository_path(str(document["policy"]["path"]), root=root, base=base), line=None)


def identity(*parts: object) -> str:
    """A stable hex digest of what makes a result the same result from run to run: the rule,
    the package and the file, not the line or the version (an edit above it or an upgrade that
    is still affected keeps the alert open instead of closing it and opening a new one)."""
    text = "\x00".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
