"""One OSV record, reduced to what the gate keeps of it.

Pure: a record arrives as plain data (already loaded from JSON or YAML) and leaves as an
:class:`~gate.model.Advisory` plus the PyPI ``affected`` entries that matching needs. Fields
that decide *whether* a package is affected (id, aliases, affected entries) are validated
strictly, because a silently misread range is a missed vulnerability; fields that are only
shown (summary, references, severity vectors) are read leniently.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from gate.advisories.severity import record_severity
from gate.clock import parse_instant
from gate.errors import AdvisoryDataError
from gate.model import Advisory

PYPI = "PyPI"  # the OSV ecosystem name; entries of other ecosystems are ignored
SUMMARY_LIMIT = 200

EventKind = Literal["introduced", "fixed", "last_affected"]
Event = tuple[EventKind, str]
Range = tuple[Event, ...]

_EVENT_KINDS: tuple[EventKind, ...] = ("introduced", "fixed", "last_affected")
# ``limit`` only narrows a range (and is meant for GIT ranges); ignoring it can only widen
# what is reported affected, never hide a match.
_IGNORED_EVENT_KINDS = frozenset({"limit"})
_TIMESTAMP_FIELDS = ("modified", "published", "withdrawn")


@dataclass(frozen=True, kw_only=True, slots=True)
class AffectedPackage:
    """One ``affected`` entry for a PyPI package, as matching needs it.

    ``ranges`` holds the ECOSYSTEM ranges only, events in record order. ``skipped`` names the
    range types that cannot be judged against a PyPI version (GIT commits, SEMVER), so that an
    entry which has nothing else can say why its match is uncertain."""

    name: str  # PEP 503-normalised
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class OsvRecord:
    advisory: Advisory
    affected: tuple[AffectedPackage, ...]


def parse_record(raw: object, *, where: str | Path) -> OsvRecord:
    """Parse one OSV record; ``where`` (the file or zip member) prefixes every error."""
    record = _require_record(raw, where=where)
    identifier: str = record["id"]
    malicious = identifier.startswith("MAL-") or _has_malicious_origins(record)
    affected = _affected_packages(record.get("affected"), where=where)
    advisory = Advisory(
        id=identifier,
        aliases=_aliases(identifier, record.get("aliases"), where=where),
        summary=_summary(record),
        severity=record_severity(record, malicious=malicious),
        fixed=_fixed_versions(affected),
        malicious=malicious,
        withdrawn=_timestamp(record, "withdrawn", where=where),
        modified=_timestamp(record, "modified", where=where),
        published=_timestamp(record, "published", where=where),
        url=_advisory_url(record.get("references")),
    )
    return OsvRecord(advisory=advisory, affected=affected)


def require_record(raw: object, *, where: str | Path) -> Mapping[str, Any]:
    """``raw`` as a record, checking only that it is a mapping with an ``id``."""
    return _require_record(raw, where=where)


def is_withdrawn(raw: Mapping[str, Any]) -> bool:
    return bool(raw.get("withdrawn"))


def canonical_json(raw: Mapping[str, Any], *, where: str | Path) -> str:
    """The record as canonical JSON, the unit of the database digest.

    Timestamps are written in one RFC 3339 form first, so that the same record gives the same
    text whether it came as JSON (``"2024-11-25T19:30:00Z"``, or the ``"2024-11-25
    19:30:00+00:00"`` some exporters write) or as YAML (an unquoted timestamp, which a plain
    safe loader turns into a ``datetime``)."""
    record = dict(raw)
    for field in _TIMESTAMP_FIELDS:
        value = record.get(field)
        if isinstance(value, str | dt.date):
            record[field] = normalise_timestamp(value)
    try:
        return json.dumps(record, sort_keys=True, separators=(",", ":"), default=_json_default)
    except (TypeError, ValueError) as error:
        raise AdvisoryDataError(f"record holds a value JSON cannot represent ({error})", where=where) from None


def normalise_timestamp(value: str | dt.date) -> str:
    """``2024-11-25T19:30:00Z``, or ``2023-07-24T14:58:05.562874Z`` with a fraction: UTC, ``T``,
    ``Z``, fraction without trailing zeros. A string that is not a timestamp is kept verbatim:
    it is shown, never computed with."""
    if isinstance(value, dt.datetime):
        instant = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    elif isinstance(value, dt.date):
        instant = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    else:
        try:
            instant = parse_instant(value)
        except ValueError:
            return value
    instant = instant.astimezone(dt.UTC)
    text = instant.strftime("%Y-%m-%dT%H:%M:%S")
    if instant.microsecond:
        text += f".{instant.microsecond:06d}".rstrip("0")
    return text + "Z"


def _json_default(value: object) -> str:
    if isinstance(value, dt.date):  # a timestamp deeper in the record, from a plain YAML loader
        return normalise_timestamp(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _require_record(raw: object, *, where: str | Path) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise AdvisoryDataError("record is not a mapping", where=where)
    identifier = raw.get("id")
    if not isinstance(identifier, str) or not identifier.strip():
        raise AdvisoryDataError("record has no id", where=where)
    return raw


def _has_malicious_origins(record: Mapping[str, Any]) -> bool:
    specific = record.get("database_specific")
    return isinstance(specific, Mapping) and "malicious-packages-origins" in specific


def _aliases(identifier: str, raw: object, *, where: str | Path) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(alias, str) for alias in raw):
        raise AdvisoryDataError("is not a list of strings", where=where, key_path="aliases")
    return tuple(sorted(set(raw) - {identifier}))


def _summary(record: Mapping[str, Any]) -> str:
    summary = record.get("summary")
    if isinstance(summary, str) and summary.strip():
        return _truncate(summary.strip())
    details = record.get("details")
    if isinstance(details, str):
        for line in details.splitlines():
            if line.strip():
                return _truncate(line.strip())
    return ""


def _truncate(text: str) -> str:
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1].rstrip() + "…"


def _advisory_url(raw: object) -> str | None:
    if not isinstance(raw, list):
        return None
    urls: dict[str, str] = {}
    for reference in raw:
        if isinstance(reference, Mapping) and isinstance(reference.get("url"), str):
            urls.setdefault(str(reference.get("type")), reference["url"])
    return urls.get("ADVISORY") or urls.get("WEB")


def _timestamp(record: Mapping[str, Any], field: str, *, where: str | Path) -> str | None:
    value = record.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str | dt.date):
        raise AdvisoryDataError("is not a timestamp", where=where, key_path=field)
    return normalise_timestamp(value)


def _affected_packages(raw: object, *, where: str | Path) -> tuple[AffectedPackage, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise AdvisoryDataError("is not a list", where=where, key_path="affected")
    entries = []
    for index, entry in enumerate(raw):
        key_path = f"affected[{index}]"
        if not isinstance(entry, Mapping):
            raise AdvisoryDataError("is not a mapping", where=where, key_path=key_path)
        package = entry.get("package")
        if not isinstance(package, Mapping):
            raise AdvisoryDataError("has no package", where=where, key_path=key_path)
        if package.get("ecosystem") != PYPI:
            continue
        name = package.get("name")
        if not isinstance(name, str) or not name.strip():
            raise AdvisoryDataError("has no name", where=where, key_path=f"{key_path}.package")
        ranges, skipped = _ranges(entry.get("ranges"), where=where, key_path=f"{key_path}.ranges")
        versions = _strings(entry.get("versions"), where=where, key_path=f"{key_path}.versions")
        entries.append(AffectedPackage(name=canonicalize_name(name), ranges=ranges, versions=versions,
                                       skipped=skipped))
    return tuple(entries)


def _ranges(raw: object, *, where: str | Path, key_path: str) -> tuple[tuple[Range, ...], tuple[str, ...]]:
    if raw is None:
        return (), ()
    if not isinstance(raw, list):
        raise AdvisoryDataError("is not a list", where=where, key_path=key_path)
    ranges: list[Range] = []
    skipped: list[str] = []
    for index, item in enumerate(raw):
        path = f"{key_path}[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
            raise AdvisoryDataError("is not a range with a type", where=where, key_path=path)
        if item["type"] != "ECOSYSTEM":
            if item["type"] not in skipped:
                skipped.append(item["type"])
            continue
        ranges.append(_events(item.get("events"), where=where, key_path=f"{path}.events"))
    return tuple(ranges), tuple(skipped)


def _events(raw: object, *, where: str | Path, key_path: str) -> Range:
    if not isinstance(raw, list):
        raise AdvisoryDataError("is not a list", where=where, key_path=key_path)
    events: list[Event] = []
    for index, item in enumerate(raw):
        path = f"{key_path}[{index}]"
        if not isinstance(item, Mapping):
            raise AdvisoryDataError("is not a mapping", where=where, key_path=path)
        known = [kind for kind in _EVENT_KINDS if kind in item]
        if len(known) > 1 or (not known and not _IGNORED_EVENT_KINDS.intersection(item)):
            raise AdvisoryDataError("needs exactly one of introduced, fixed, last_affected, limit", where=where,
                                    key_path=path)
        if known:
            kind = known[0]
            events.append((kind, _version_text(item[kind], where=where, key_path=f"{path}.{kind}")))
    return tuple(events)


def _strings(raw: object, *, where: str | Path, key_path: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise AdvisoryDataError("is not a list", where=where, key_path=key_path)
    return tuple(_version_text(item, where=where, key_path=f"{key_path}[{index}]") for index, item in enumerate(raw))


def _version_text(value: object, *, where: str | Path, key_path: str) -> str:
    # YAML may hand over an unquoted ``1`` as an int (exact as text) or ``2019-09-12`` as a
    # date (exact as ISO text); a float such as ``1.10`` has already lost digits: refuse it.
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    raise AdvisoryDataError("is not a version string", where=where, key_path=key_path)


def _fixed_versions(affected: Sequence[AffectedPackage]) -> tuple[str, ...]:
    fixed = {version for entry in affected for events in entry.ranges for kind, version in events if kind == "fixed"}
    parsed: list[tuple[Version, str]] = []
    unparsable: list[str] = []
    for text in fixed:
        try:
            parsed.append((Version(text), text))
        except InvalidVersion:
            unparsable.append(text)
    parsed.sort()
    return (*(text for _, text in parsed), *sorted(unparsable))
