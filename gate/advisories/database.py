"""The compiled local advisory index: built once by ``gate db import``/``update``, read by
every check.

Parsing 7,000 YAML records takes seconds; a check must take well under one. So an import
parses every record once and writes what matching needs into SQLite, and a check reads only
the rows of the packages it has, in one query, without parsing any record again.

Layout (``SCHEMA_VERSION`` changes whenever it does, and an older file is refused):

``meta(key, value)``
    ``schema_version``, ``source``, ``records`` (imported), ``withdrawn`` (skipped),
    ``newest_modified``, ``imported_at``, ``digest``.
``advisories(ref, id, data)``
    one row per imported record: compact JSON of the :class:`~gate.model.Advisory`.
``packages(name, entries)``
    one row per normalised PyPI name: compact JSON list of ``[ref, ranges, versions,
    skipped]``, one per ``affected`` entry, with each range a flat event list
    ``["i", "0", "f", "1.2"]`` (introduced, fixed, last_affected as ``i``/``f``/``l``).
    A listed version that the entry's own ranges already match exactly is left out: it cannot
    change an answer, and dropping it keeps TensorFlow's 30,000 listed versions out of every
    check.
``ids(id, ref)``
    every ID and alias of an imported record, to its ``ref``: ``gate affected CVE-...`` finds
    the record whatever name the security team has for it.
``advisory_packages(ref, name)``
    the package names each record affects (``packages`` is keyed the other way round).
``withdrawn(id, aliases, withdrawn)``
    the records that were imported withdrawn (left out of matching and of the digest), so
    ``gate monitor`` can say that a recorded finding went away because its advisory was withdrawn.

The digest is sha256 over the canonical JSON of every imported record (timestamps in one
RFC 3339 form, keys sorted, no spaces), sorted: the same records give the same digest from a
JSON directory, a YAML checkout or either as a zip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import lzma
import os
import sqlite3
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import yaml
from packaging.utils import canonicalize_name
from platformdirs import user_cache_path

from gate.advisories.match import AFFECTED, entries_affect, parse_version, ranges_affect
from gate.advisories.osv import (
    AffectedPackage,
    Event,
    EventKind,
    OsvRecord,
    Range,
    canonical_json,
    is_withdrawn,
    normalise_timestamp,
    parse_record,
    require_record,
)
from gate.clock import format_instant, parse_instant
from gate.errors import AdvisoryDataError
from gate.model import Advisory, DatabaseInfo, Level, Match, Package, Severity
from gate.sources.base import long_number

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # PyYAML without libyaml: slower, same result
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

SCHEMA_VERSION = 2
DATABASE_FILENAME = "advisories.sqlite3"
MISSING_MESSAGE = "no advisory database; run `gate db import` or `gate db update`"

MAX_MEMBER_BYTES = 20 * 1024 * 1024  # the largest real record is ~0.2 MB
MAX_MEMBERS = 1_000_000
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024

_RECORD_SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}
_KIND_CODES: dict[EventKind, str] = {"introduced": "i", "fixed": "f", "last_affected": "l"}
_CODE_KINDS: dict[str, EventKind] = {code: kind for kind, code in _KIND_CODES.items()}

_SCHEMA = """
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE advisories (ref INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE packages (name TEXT PRIMARY KEY, entries TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE ids (id TEXT NOT NULL, ref INTEGER NOT NULL, PRIMARY KEY (id, ref)) WITHOUT ROWID;
CREATE TABLE advisory_packages (ref INTEGER NOT NULL, name TEXT NOT NULL, PRIMARY KEY (ref, name)) WITHOUT ROWID;
CREATE TABLE withdrawn (id TEXT PRIMARY KEY, aliases TEXT NOT NULL, withdrawn TEXT NOT NULL) WITHOUT ROWID;
"""
_META_KEYS = ("schema_version", "source", "records", "withdrawn", "newest_modified", "imported_at", "digest")


def default_database_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$GATE_DB`` if set, else ``advisories.sqlite3`` in the user cache directory."""
    environ = os.environ if environ is None else environ
    configured = environ.get("GATE_DB")
    if configured:
        return Path(configured).expanduser()
    return user_cache_path("promotion-gate") / DATABASE_FILENAME


# --- reading the source ----------------------------------------------------------------


class _RecordLoader(_SafeLoader):
    """Safe YAML with two changes for OSV records.

    Timestamps stay the text they were written as (``modified: 2021-07-02T02:41:00Z`` would
    otherwise become a ``datetime``, and ``fixed: 2019-09-12`` a ``date``): what a record
    says is a string in its JSON form too. Aliases are refused: no OSV record needs one, and
    a few nested aliases expand into gigabytes once the record is written out as JSON."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            raise yaml.constructor.ConstructorError(None, None, "YAML aliases are not allowed in advisory records",
                                                    node.start_mark)
        return super().construct_object(node, deep)


# The resolvers are a class attribute that ``add_implicit_resolver`` copies on write; replace
# this class's copy with one that lacks the timestamp rule.
_RecordLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}


def _load(data: bytes, kind: str, *, where: str) -> object:
    try:
        if kind == "json":
            return json.loads(data)
        return yaml.load(data, Loader=_RecordLoader)
    except json.JSONDecodeError as error:
        raise AdvisoryDataError(f"invalid JSON: {error.msg}", where=where, line=error.lineno) from None
    except UnicodeDecodeError:
        raise AdvisoryDataError("not UTF-8 text", where=where) from None
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark is not None else None
        problem = error.problem or error.context or "malformed"
        raise AdvisoryDataError(f"invalid YAML: {problem}", where=where, line=line) from None
    except yaml.YAMLError as error:
        raise AdvisoryDataError(f"invalid YAML: {' '.join(str(error).split())}", where=where) from None
    except RecursionError:
        raise AdvisoryDataError("nested too deeply", where=where) from None
    except ValueError as error:  # an integer past 4,300 digits (JSON or YAML), a YAML !!timestamp 2001-02-30
        problem, line = long_number(data.decode("utf-8", "replace"))
        raise AdvisoryDataError(f"invalid {'JSON' if kind == 'json' else 'YAML'}: {problem if line else error}",
                                where=where, line=line) from None


def _record_kind(name: str) -> str | None:
    """``json``/``yaml`` for a record file; ``None`` for anything else, and for anything under
    a hidden folder (a checkout's ``.github/`` workflows are YAML too)."""
    parts = name.replace("\\", "/").split("/")
    if any(part.startswith(".") or part == "__MACOSX" for part in parts if part):
        return None
    return _RECORD_SUFFIXES.get(os.path.splitext(parts[-1])[1].lower())


def iter_documents(source: Path) -> Iterator[tuple[str, object]]:
    """Every record file under ``source`` (a directory, at any depth, or a zip), loaded, with
    the file or ``zip!member`` it came from. Sizes are bounded before anything is read."""
    if source.is_dir():
        yield from _directory_documents(source)
    elif source.is_file():
        yield from _zip_documents(source)
    else:
        raise AdvisoryDataError("no such file or directory", where=source)


def _raise_walk_error(error: OSError) -> None:
    raise AdvisoryDataError(f"cannot read: {error.strerror or error}", where=error.filename)


def _directory_documents(source: Path) -> Iterator[tuple[str, object]]:
    count = 0
    total = 0
    for folder, folders, files in os.walk(source, onerror=_raise_walk_error):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(files):
            kind = _record_kind(name)
            if kind is None:
                continue
            path = Path(folder, name)
            count += 1
            if count > MAX_MEMBERS:
                raise AdvisoryDataError(f"more than {MAX_MEMBERS:,} record files", where=source)
            try:
                size = path.stat().st_size
                if size > MAX_MEMBER_BYTES:
                    raise AdvisoryDataError(f"{size:,} bytes, over the {MAX_MEMBER_BYTES:,}-byte limit for a record",
                                            where=path)
                total += size
                if total > MAX_TOTAL_BYTES:
                    raise AdvisoryDataError(f"records add up to over the {MAX_TOTAL_BYTES:,}-byte limit", where=source)
                data = path.read_bytes()
            except OSError as error:
                raise AdvisoryDataError(f"cannot read: {error.strerror or error}", where=path) from None
            yield str(path), _load(data, kind, where=str(path))


def _zip_entry_count(handle: IO[bytes]) -> int | None:
    """The member count the end-of-central-directory record declares (zip64 aware), read
    before :mod:`zipfile` builds an object for every member of a possibly hostile archive."""
    size = handle.seek(0, os.SEEK_END)
    window = min(size, 22 + 0xFFFF)
    handle.seek(size - window)
    tail = handle.read(window)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        return None
    (count,) = struct.unpack_from("<H", tail, end + 10)
    if count != 0xFFFF:
        return int(count)
    locator = end - 20
    if locator < 0 or tail[locator:locator + 4] != b"PK\x06\x07":
        return None
    (offset,) = struct.unpack_from("<Q", tail, locator + 8)
    handle.seek(offset)
    record = handle.read(56)
    if len(record) < 56 or record[:4] != b"PK\x06\x06":
        return None
    (count,) = struct.unpack_from("<Q", record, 32)
    return int(count)


# What zipfile raises for a damaged or hostile archive. It raises NotImplementedError for a
# compression method it does not support: bad input, so an AdvisoryDataError naming the member.
_ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError, OSError)


def _zip_documents(source: Path) -> Iterator[tuple[str, object]]:
    try:
        handle = source.open("rb")
    except OSError as error:
        raise AdvisoryDataError(f"cannot read: {error.strerror or error}", where=source) from None
    with handle:
        try:
            declared = _zip_entry_count(handle)
        except OSError as error:
            raise AdvisoryDataError(f"cannot read: {error.strerror or error}", where=source) from None
        if declared is not None and declared > MAX_MEMBERS:
            raise AdvisoryDataError(f"more than {MAX_MEMBERS:,} members", where=source)
        try:
            archive = zipfile.ZipFile(handle)
        except zipfile.BadZipFile:
            raise AdvisoryDataError("not a zip file", where=source) from None
        except _ZIP_READ_ERRORS as error:
            raise AdvisoryDataError(f"unreadable zip file ({error})", where=source) from None
        with archive:
            for info, kind in _zip_records(archive, source):
                where = f"{source}!{info.filename}"
                try:
                    with archive.open(info) as member:
                        data = member.read(MAX_MEMBER_BYTES + 1)  # the header may lie about the size
                except _ZIP_READ_ERRORS as error:
                    raise AdvisoryDataError(f"unreadable member ({error})", where=where) from None
                if len(data) > MAX_MEMBER_BYTES:
                    raise AdvisoryDataError(f"over the {MAX_MEMBER_BYTES:,}-byte limit for a record, though its "
                                            f"header says {info.file_size:,} bytes", where=where)
                yield where, _load(data, kind, where=where)


def _zip_records(archive: zipfile.ZipFile, source: Path) -> list[tuple[zipfile.ZipInfo, str]]:
    """The record members, checked against the limits from the central directory alone."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise AdvisoryDataError(f"more than {MAX_MEMBERS:,} members", where=source)
    records = [(info, kind) for info in members
               if not info.is_dir() and (kind := _record_kind(info.filename)) is not None]
    total = 0
    for info, _ in records:
        where = f"{source}!{info.filename}"
        if info.file_size > MAX_MEMBER_BYTES:
            raise AdvisoryDataError(f"{info.file_size:,} bytes uncompressed, over the {MAX_MEMBER_BYTES:,}-byte limit "
                                    "for a record", where=where)
        if info.flag_bits & 0x1:
            raise AdvisoryDataError("member is encrypted", where=where)
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise AdvisoryDataError(f"members add up to {total:,} bytes uncompressed, over the "
                                f"{MAX_TOTAL_BYTES:,}-byte limit", where=source)
    return records


# --- compiling -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class _Compiled:
    """What an import collected, before anything is written."""

    records: tuple[OsvRecord, ...]  # sorted by id
    canonical: tuple[str, ...]
    withdrawn: int
    withdrawn_records: tuple[tuple[str, str, str], ...] = ()  # (id, aliases as JSON, withdrawn), sorted


def _compile(source: Path) -> _Compiled:
    records: dict[str, OsvRecord] = {}
    origins: dict[str, str] = {}  # id -> file or member, to name duplicates
    canonical: list[str] = []
    withdrawn = 0
    withdrawn_rows: list[tuple[str, str, str]] = []
    for where, document in iter_documents(source):
        record = require_record(document, where=where)
        identifier: str = record["id"]
        if identifier in origins:
            raise AdvisoryDataError(f"advisory {identifier} appears twice (also in {origins[identifier]})", where=where)
        origins[identifier] = where
        if is_withdrawn(record):
            withdrawn += 1
            withdrawn_rows.append(_withdrawn_row(record, identifier))
            continue
        records[identifier] = parse_record(record, where=where)
        canonical.append(canonical_json(record, where=where))
    if not origins:
        raise AdvisoryDataError("no OSV records (.json, .yaml or .yml files) found", where=source)
    return _Compiled(records=tuple(records[identifier] for identifier in sorted(records)), canonical=tuple(canonical),
                     withdrawn=withdrawn, withdrawn_records=tuple(sorted(withdrawn_rows)))


def _withdrawn_row(record: Mapping[str, Any], identifier: str) -> tuple[str, str, str]:
    """What the database keeps of a withdrawn record: its IDs and when it was withdrawn (as written,
    normalised when it is a timestamp)."""
    raw_aliases = record.get("aliases")
    aliases = sorted({alias for alias in raw_aliases if isinstance(alias, str)} - {identifier}) \
        if isinstance(raw_aliases, list) else []
    value = record.get("withdrawn")
    when = normalise_timestamp(value) if isinstance(value, str | dt.date) else str(value)
    return identifier, json.dumps(aliases, separators=(",", ":")), when


def _digest(canonical: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for text in sorted(canonical):
        digest.update(text.encode("ascii"))  # json.dumps escapes everything else
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()


def _newest(advisories: Iterable[Advisory], *, now: dt.datetime) -> str | None:
    """The newest ``modified`` no later than the import itself. The database's age is judged
    from it, and a record dated in the future (the 2026-07-23 PyPA snapshot has two, modified
    "2027-07-09") would otherwise make a stale database look fresh until then."""
    newest: tuple[dt.datetime, str] | None = None
    for advisory in advisories:
        if advisory.modified is None:
            continue
        try:
            instant = parse_instant(advisory.modified)
        except ValueError:
            continue  # kept verbatim for display; it cannot be compared
        if instant > now:
            continue
        if newest is None or instant > newest[0]:
            newest = (instant, advisory.modified)
    return newest[1] if newest is not None else None


def _unneeded_versions(entry: AffectedPackage) -> frozenset[str]:
    """Listed versions that the entry's ranges already match exactly."""
    if not entry.ranges:
        return frozenset()
    unneeded = set()
    for listed in entry.versions:
        version = parse_version(listed)
        if version is not None and ranges_affect(version, entry.ranges) == AFFECTED:
            unneeded.add(listed)
    return frozenset(unneeded)


def _entry_row(ref: int, entry: AffectedPackage) -> list[Any]:
    ranges = [[part for kind, version in events for part in (_KIND_CODES[kind], version)] for events in entry.ranges]
    unneeded = _unneeded_versions(entry)
    versions = [version for version in dict.fromkeys(entry.versions) if version not in unneeded]
    return [ref, ranges, versions, list(entry.skipped)]


def _entry_from_row(name: str, row: list[Any]) -> AffectedPackage:
    ranges: list[Range] = []
    for flat in row[1]:
        pairs = zip(flat[::2], flat[1::2], strict=True)
        events: list[Event] = [(_CODE_KINDS[code], version) for code, version in pairs]
        ranges.append(tuple(events))
    return AffectedPackage(name=name, ranges=tuple(ranges), versions=tuple(row[2]), skipped=tuple(row[3]))


def _advisory_data(advisory: Advisory) -> str:
    severity = advisory.severity
    data: dict[str, Any] = {
        "id": advisory.id,
        "aliases": list(advisory.aliases),
        "summary": advisory.summary,
        "severity": {"level": severity.level.value, "score": severity.score, "vector": severity.vector,
                     "origin": severity.origin},
        "fixed": list(advisory.fixed),
        "malicious": advisory.malicious,
        "modified": advisory.modified,
        "published": advisory.published,
        "url": advisory.url,
    }
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _advisory_from_data(text: str) -> Advisory:
    data = json.loads(text)
    severity = data["severity"]
    return Advisory(
        id=data["id"],
        aliases=tuple(data["aliases"]),
        summary=data["summary"],
        severity=Severity(level=Level(severity["level"]), score=severity["score"], vector=severity["vector"],
                          origin=severity["origin"]),
        fixed=tuple(data["fixed"]),
        malicious=data["malicious"],
        modified=data["modified"],
        published=data["published"],
        url=data["url"],
    )


def import_database(source: Path, db_path: Path, *, now: dt.datetime, source_label: str | None = None) -> DatabaseInfo:
    """Compile the OSV records under ``source`` into the database at ``db_path``.

    Withdrawn records are counted and left out. Every record is read and checked before the
    database is written, and it is written to a temporary file beside ``db_path`` that then
    replaces it: a failed or interrupted import leaves the previous database as it was.
    ``source_label`` is what the database records as its source (default: ``source``), e.g.
    the URL a downloaded archive came from."""
    compiled = _compile(source)
    records = compiled.records
    advisory_rows = [(ref, record.advisory.id, _advisory_data(record.advisory))
                     for ref, record in enumerate(records, start=1)]
    entries: dict[str, list[list[Any]]] = {}
    for ref, record in enumerate(records, start=1):
        for entry in record.affected:
            entries.setdefault(entry.name, []).append(_entry_row(ref, entry))
    info = DatabaseInfo(
        source=source_label if source_label is not None else str(source),
        digest=_digest(compiled.canonical),
        records=len(records),
        newest_modified=_newest((record.advisory for record in records), now=now),
        imported_at=format_instant(now),
    )
    meta = {
        "schema_version": str(SCHEMA_VERSION),
        "source": info.source,
        "records": str(info.records),
        "withdrawn": str(compiled.withdrawn),
        "newest_modified": info.newest_modified or "",
        "imported_at": info.imported_at,
        "digest": info.digest,
    }
    package_rows = [(name, json.dumps(rows, separators=(",", ":"), ensure_ascii=False))
                    for name, rows in sorted(entries.items())]
    id_rows = sorted({(identifier, ref) for ref, record in enumerate(records, start=1)
                      for identifier in record.advisory.ids})
    affects_rows = sorted({(ref, entry.name) for ref, record in enumerate(records, start=1)
                           for entry in record.affected})
    _write_atomically(db_path, meta=meta, advisories=advisory_rows, packages=package_rows,
                      extra={"ids": id_rows, "advisory_packages": affects_rows,
                             "withdrawn": list(compiled.withdrawn_records)})
    return info


def _write_atomically(path: Path, *, meta: Mapping[str, str], advisories: list[tuple[int, str, str]],
                      packages: list[tuple[str, str]], extra: Mapping[str, list[tuple[Any, ...]]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise AdvisoryDataError(f"cannot write the database: {error.strerror or error}", where=path) from None
    os.close(handle)
    temporary = Path(name)
    try:
        # mkstemp makes the file private; the index holds public data that a CI user other
        # than the importer may read, so it keeps the old file's mode, or gets 0644.
        os.chmod(temporary, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644)
        connection = sqlite3.connect(temporary, isolation_level=None)
        try:
            connection.executescript(_SCHEMA)
            connection.execute("BEGIN")
            connection.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
            connection.executemany("INSERT INTO advisories VALUES (?, ?, ?)", advisories)
            connection.executemany("INSERT INTO packages VALUES (?, ?)", packages)
            for table, rows in extra.items():
                if rows:
                    marks = ", ".join("?" * len(rows[0]))
                    connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            connection.execute("COMMIT")
        finally:
            connection.close()
        with temporary.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except sqlite3.Error as error:
        raise AdvisoryDataError(f"cannot write the database: {error}", where=path) from None
    except OSError as error:
        raise AdvisoryDataError(f"cannot write the database: {error.strerror or error}", where=path) from None
    finally:
        temporary.unlink(missing_ok=True)


# --- reading the database ----------------------------------------------------------------


# What a tampered or truncated row raises while it is decoded.
_CORRUPT_ROW_ERRORS = (ValueError, KeyError, IndexError, TypeError)


class AdvisoryDatabase:
    """An open, read-only compiled index. Use :meth:`open`, and close it (or use ``with``)."""

    def __init__(self, connection: sqlite3.Connection, *, path: Path, meta: Mapping[str, str]) -> None:
        self._connection = connection
        self._path = path
        self._meta = dict(meta)
        # What has been read and judged, kept while the database is open: a check asks once, but
        # `gate monitor` asks for thousands of environments that share most of their packages.
        self._entry_cache: dict[str, dict[int, list[AffectedPackage]]] = {}
        self._advisory_cache: dict[int, Advisory] = {}
        self._verdicts: dict[tuple[str, str], list[tuple[int, str | None]]] = {}
        self._info = DatabaseInfo(
            source=meta["source"],
            digest=meta["digest"],
            records=int(meta["records"]),
            newest_modified=meta["newest_modified"] or None,
            imported_at=meta["imported_at"],
        )

    @classmethod
    def open(cls, path: Path) -> AdvisoryDatabase:
        """Open ``path``; a missing, corrupt or older-format file is an :class:`AdvisoryDataError`."""
        if not path.is_file():
            raise AdvisoryDataError(MISSING_MESSAGE, where=path)
        try:
            connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as error:
            raise AdvisoryDataError(f"cannot open the advisory database ({error})", where=path) from None
        try:
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("schema_version") != str(SCHEMA_VERSION):
                raise AdvisoryDataError(f"advisory database has schema {meta.get('schema_version')!s}, this gate "
                                        f"reads schema {SCHEMA_VERSION}; import it again", where=path)
            missing = [key for key in _META_KEYS if key not in meta]
            if missing:
                raise AdvisoryDataError(f"not an advisory database (meta lacks {', '.join(missing)})", where=path)
            int(meta["records"])
            connection.execute("SELECT 1 FROM packages LIMIT 1").fetchall()
            connection.execute("SELECT 1 FROM advisories LIMIT 1").fetchall()
            for table in ("ids", "advisory_packages", "withdrawn"):
                connection.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall()
        except sqlite3.DatabaseError as error:
            connection.close()
            raise AdvisoryDataError(f"not an advisory database ({error})", where=path) from None
        except ValueError:
            connection.close()
            raise AdvisoryDataError("not an advisory database (bad record count)", where=path) from None
        except AdvisoryDataError:
            connection.close()
            raise
        return cls(connection, path=path, meta=meta)

    @property
    def info(self) -> DatabaseInfo:
        return self._info

    @property
    def withdrawn(self) -> int:
        """How many withdrawn records the import skipped."""
        return int(self._meta["withdrawn"])

    def matches(self, packages: Iterable[Package]) -> list[Match]:
        """Every advisory that applies to one of ``packages``, sorted by package and advisory.

        Packages are looked up by ``pypi_name``; those without one (conda-only) or without a
        pinned version are not matched here (the policy reports unpinned packages itself)."""
        wanted: dict[str, list[tuple[Package, str]]] = {}
        for package in packages:
            if package.pypi_name is None or package.version is None:
                continue
            wanted.setdefault(canonicalize_name(package.pypi_name), []).append((package, package.version))
        if not wanted:
            return []
        missing = sorted(name for name in wanted if name not in self._entry_cache)
        if missing:
            rows = self._select_in("SELECT name, entries FROM packages WHERE name IN (SELECT value FROM json_each(?))",
                                   missing)
            for name, text in rows:
                self._entry_cache[name] = self._entries(name, text)
            for name in missing:
                self._entry_cache.setdefault(name, {})
        hits: list[tuple[Package, int, str | None]] = []
        for name, candidates in wanted.items():
            by_ref = self._entry_cache[name]
            if not by_ref:
                continue
            for package, version in candidates:
                verdicts = self._verdicts.get((name, version))
                if verdicts is None:
                    verdicts = []
                    for ref, affected in by_ref.items():
                        result = entries_affect(version, affected)
                        if result.affected:
                            verdicts.append((ref, result.uncertain))
                    self._verdicts[(name, version)] = verdicts
                hits.extend((package, ref, uncertain) for ref, uncertain in verdicts)
        advisories = self._advisories({ref for _, ref, _ in hits})
        found = [Match(advisory=advisories[ref], package=package, uncertain=uncertain)
                 for package, ref, uncertain in hits]
        found.sort(key=lambda match: (match.package.name, match.package.version or "", match.advisory.id))
        return found

    def records_for(self, identifier: str) -> list[OsvRecord]:
        """The imported records known under ``identifier`` (their ID or any alias, in any letter case: people
        write ``cve-`` and ``GHSA-XXXX``), each with the affected entries of every package it names."""
        refs = [ref for (ref,) in self._query("SELECT DISTINCT ref FROM ids WHERE id = ? COLLATE NOCASE ORDER BY ref",
                                              (identifier.strip(),))]
        if not refs:
            return []
        advisories = self._advisories(set(refs))
        names = self._select_in("SELECT name, ref FROM advisory_packages WHERE ref IN (SELECT value FROM "
                                "json_each(?)) ORDER BY name", refs)
        wanted = sorted({name for name, _ in names})
        rows = self._select_in("SELECT name, entries FROM packages WHERE name IN (SELECT value FROM json_each(?))",
                               wanted)
        entries: dict[int, list[AffectedPackage]] = {ref: [] for ref in refs}
        for name, text in rows:
            for ref, affected in self._entries(name, text).items():
                if ref in entries:
                    entries[ref].extend(affected)
        return [OsvRecord(advisory=advisories[ref], affected=tuple(sorted(entries[ref], key=lambda e: e.name)))
                for ref in sorted(refs, key=lambda r: advisories[r].id)]

    def withdrawn_ids(self) -> dict[str, tuple[str, str]]:
        """Every ID and alias of a record imported withdrawn, to (its record ID, when it was withdrawn)."""
        found: dict[str, tuple[str, str]] = {}
        try:
            for identifier, aliases, when in self._query("SELECT id, aliases, withdrawn FROM withdrawn ORDER BY id"):
                for name in (identifier, *json.loads(aliases)):
                    found.setdefault(name, (identifier, when))
        except _CORRUPT_ROW_ERRORS:
            raise AdvisoryDataError("advisory database corrupt (withdrawn)", where=self._path) from None
        return found

    def _query(self, query: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        try:
            return self._connection.execute(query, parameters).fetchall()
        except sqlite3.ProgrammingError:
            raise  # used after close(): a bug, not bad data
        except sqlite3.DatabaseError as error:
            raise AdvisoryDataError(f"advisory database unreadable ({error})", where=self._path) from None

    def _select_in(self, query: str, keys: list[str] | list[int]) -> list[tuple[Any, str]]:
        """Run a query whose one parameter is a JSON array of keys (one round trip for all)."""
        try:
            return self._connection.execute(query, (json.dumps(keys),)).fetchall()
        except sqlite3.ProgrammingError:
            raise  # used after close(): a bug, not bad data
        except sqlite3.DatabaseError as error:
            raise AdvisoryDataError(f"advisory database unreadable ({error})", where=self._path) from None

    def _entries(self, name: str, text: str) -> dict[int, list[AffectedPackage]]:
        by_ref: dict[int, list[AffectedPackage]] = {}
        try:
            for row in json.loads(text):
                by_ref.setdefault(row[0], []).append(_entry_from_row(name, row))
        except _CORRUPT_ROW_ERRORS:
            raise AdvisoryDataError(f"advisory database corrupt (entries of {name})", where=self._path) from None
        return by_ref

    def _advisories(self, refs: set[int]) -> dict[int, Advisory]:
        missing = sorted(ref for ref in refs if ref not in self._advisory_cache)
        if missing:
            rows = self._select_in("SELECT ref, data FROM advisories WHERE ref IN (SELECT value FROM json_each(?))",
                                   missing)
            try:
                found = {ref: _advisory_from_data(data) for ref, data in rows}
            except _CORRUPT_ROW_ERRORS:
                raise AdvisoryDataError("advisory database corrupt (advisories)", where=self._path) from None
            if len(found) != len(missing):
                raise AdvisoryDataError("advisory database corrupt (advisories missing)", where=self._path)
            self._advisory_cache.update(found)
        return {ref: self._advisory_cache[ref] for ref in refs}

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> AdvisoryDatabase:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
