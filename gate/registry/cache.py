"""The on-disk cache of index answers: one small JSON file per (index, project), and one per
wheel metadata file read for licences.

Where: ``$GATE_CACHE_DIR/registry`` when that variable is set, else ``registry`` in the user
cache directory (``platformdirs.user_cache_dir("promotion-gate")``, beside the advisory
database); a caller may pass its own root. Under it, one folder per index, named by the SHA-256
of the index URL (credentials removed), so answers of one index never stand in for another's:

    <root>/<sha256(index url)[:32]>/projects/<normalised name>.json
    <root>/<sha256(index url)[:32]>/metadata/<sha256(metadata url, hashes)[:40]>.json

A project entry holds the page reduced by :func:`gate.registry.facts.reduce_page` (or
``missing: true`` for a 404), the wall-clock time it was fetched or last revalidated, and the
``ETag`` / ``Last-Modified`` validators the index sent, so a stale entry is refreshed with a
conditional request (304 Not Modified costs the index no page). Metadata entries hold only the
licence fields; a wheel's metadata never changes (the index gives its hash), so they are used
without a freshness check.

A project entry is a JSON header line, then one line per release, ``<version key>\t<JSON>``,
sorted by key. A check needs one or two releases of each project while the entry holds all of
them (every release must be kept: a conditional request that answers 304 sends nothing to fill
a gap). Finding one line in the bytes and parsing only it makes a warm check of 221 projects,
some of 1500 releases, take milliseconds; parsing whole entries as one JSON document took
150 ms (``docs/registry.md`` has the figures).

Writes go to a temporary file beside the entry and are renamed into place, so a reader sees the
old entry or the new one. They are not fsynced: this is a cache, and an entry cut short by a
crash is unreadable JSON, which reads as absent (it is never trusted, and the next fetch
replaces it). A cache that cannot be written (read-only home in CI) does not stop a check whose
answers came live from the index: the entry is simply not kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.clock import format_instant, parse_instant
from gate.model import LicenseFields

CACHE_ENV = "GATE_CACHE_DIR"
FORMAT = 1


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$GATE_CACHE_DIR/registry`` if set, else ``registry`` in the user cache directory."""
    environ = os.environ if environ is None else environ
    configured = environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser() / "registry"
    from platformdirs import user_cache_path

    return user_cache_path("promotion-gate") / "registry"


class StoredReleases(Mapping[str, Any]):
    """The release lines of a cache entry, each parsed only when asked for. A line that is not
    JSON raises :class:`ValueError` when read (the caller names the file and says to delete it)."""

    __slots__ = ("_data", "_start")

    def __init__(self, data: bytes, start: int) -> None:
        self._data = data  # the whole entry
        self._start = start  # the offset of the newline that ends the header

    @property
    def lines(self) -> bytes:
        return self._data[self._start + 1:]

    def __getitem__(self, key: str) -> Any:
        needle = b"\n" + key.encode("utf-8") + b"\t"
        found = self._data.find(needle, self._start)
        if found < 0:
            raise KeyError(key)
        begin = found + len(needle)
        end = self._data.find(b"\n", begin)
        return json.loads(self._data[begin:end if end >= 0 else len(self._data)])

    def __iter__(self) -> Iterator[str]:
        for line in self.lines.splitlines():
            yield line.partition(b"\t")[0].decode("utf-8")

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass(frozen=True, kw_only=True, slots=True)
class CachedPage:
    """One project's answer: its releases (reduced, by version key), or ``missing`` when the
    index has no such project."""

    project: str
    fetched_at: dt.datetime  # aware UTC; when the index last sent or confirmed this answer
    missing: bool
    releases: Mapping[str, Any]
    etag: str | None = None
    last_modified: str | None = None


class RegistryCache:
    """The cache folder of one index."""

    def __init__(self, root: Path, index_url: str) -> None:
        self.index_url = index_url
        self.folder = root / hashlib.sha256(index_url.encode("utf-8")).hexdigest()[:32]

    def page_path(self, project: str) -> Path:
        return self.folder / "projects" / f"{project}.json"

    def load_page(self, project: str) -> CachedPage | None:
        """The cached answer for ``project``; ``None`` when there is none or its header cannot
        be read (a damaged entry is never trusted, and the next fetch replaces it)."""
        try:
            data = self.page_path(project).read_bytes()
        except OSError:
            return None
        end = data.find(b"\n")
        if end < 0:
            return None
        try:
            document = json.loads(data[:end])
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            return None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            return None
        if document.get("index") != self.index_url or document.get("project") != project:
            return None
        fetched = document.get("fetched_at")
        missing = document.get("missing")
        etag = document.get("etag")
        modified = document.get("last_modified")
        if not isinstance(fetched, str) or not isinstance(missing, bool):
            return None
        if not (etag is None or isinstance(etag, str)) or not (modified is None or isinstance(modified, str)):
            return None
        try:
            fetched_at = parse_instant(fetched)
        except ValueError:
            return None
        return CachedPage(project=project, fetched_at=fetched_at, missing=missing,
                          releases=StoredReleases(data, end), etag=etag, last_modified=modified)

    def store_page(self, page: CachedPage) -> None:
        header = {
            "format": FORMAT,
            "index": self.index_url,
            "project": page.project,
            "fetched_at": format_instant(page.fetched_at),
            "etag": page.etag,
            "last_modified": page.last_modified,
            "missing": page.missing,
        }
        if isinstance(page.releases, StoredReleases):  # revalidated: the same lines, a new header
            lines = page.releases.lines
        else:
            lines = b"".join(
                key.encode("utf-8") + b"\t" + _compact(page.releases[key]) + b"\n" for key in sorted(page.releases))
        _write(self.page_path(page.project), _compact(header) + b"\n" + lines)

    def metadata_path(self, url: str, hashes: tuple[tuple[str, str], ...]) -> Path:
        key = url + "\n" + ",".join(f"{algorithm}:{digest}" for algorithm, digest in hashes)
        return self.folder / "metadata" / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}.json"

    def load_metadata(self, url: str, hashes: tuple[tuple[str, str], ...]) -> LicenseFields | None:
        """The licence fields read earlier from the metadata file at ``url``; ``None`` if not cached."""
        document = _read_json(self.metadata_path(url, hashes))
        if not isinstance(document, dict) or document.get("format") != FORMAT or document.get("url") != url:
            return None
        fields = document.get("license")
        if not isinstance(fields, dict):
            return None
        expression, text, classifiers = fields.get("expression"), fields.get("text"), fields.get("classifiers")
        if not (expression is None or isinstance(expression, str)) or not (text is None or isinstance(text, str)):
            return None
        if not isinstance(classifiers, list) or not all(isinstance(c, str) for c in classifiers):
            return None
        return LicenseFields(expression=expression, text=text, classifiers=tuple(classifiers))

    def store_metadata(self, url: str, hashes: tuple[tuple[str, str], ...], fields: LicenseFields) -> None:
        document = {
            "format": FORMAT,
            "url": url,
            "license": {"expression": fields.expression, "text": fields.text, "classifiers": list(fields.classifiers)},
        }
        _write(self.metadata_path(url, hashes), _compact(document))


def _read_json(path: Path) -> object:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


def _compact(document: object) -> bytes:
    """One line of JSON (newlines inside strings are escaped by the encoder)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _write(path: Path, data: bytes) -> None:
    """Write atomically (temporary file, then rename); a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
