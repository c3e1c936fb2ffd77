"""Small builders of core objects for unit tests."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict, Unpack

from gate.model import (
    Advisory,
    DatabaseInfo,
    Environment,
    Level,
    LicenseFields,
    Location,
    Match,
    Package,
    Severity,
    Source,
    Target,
)

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


class PackageFields(TypedDict, total=False):
    """The fields of :class:`Package` that :func:`package` leaves to the caller."""

    specifier: str | None
    ecosystem: str
    source: Source
    hashes: tuple[tuple[str, str], ...]
    marker: str | None
    group: str
    license: LicenseFields
    requires: tuple[str, ...]
    installer: str | None


class AdvisoryFields(TypedDict, total=False):
    """The fields of :class:`Advisory` that :func:`advisory` leaves to the caller."""

    malicious: bool
    withdrawn: str | None
    modified: str | None
    published: str | None
    url: str | None


def package(name: str, version: str | None = "1.0", **fields: Unpack[PackageFields]) -> Package:
    return Package(name=name, version=version, pypi_name=name,
                   location=Location(file=f"site-packages/{name}-{version}.dist-info/METADATA"), **fields)


def advisory(identifier: str, *aliases: str, level: Level = Level.HIGH, score: float | None = 7.5,
             fixed: tuple[str, ...] = ("2.0",), **fields: Unpack[AdvisoryFields]) -> Advisory:
    return Advisory(id=identifier, aliases=tuple(sorted(aliases)), summary=f"summary of {identifier}",
                    severity=Severity(level=level, score=score), fixed=fixed, **fields)


def environment(*packages: Package) -> Environment:
    return Environment.create(source="/venv", kind="venv", target=Target(python="3.11"), packages=list(packages))


def database(newest: str = "2026-11-25T00:00:00Z") -> DatabaseInfo:
    return DatabaseInfo(source="test", digest="sha256:" + "0" * 64, records=3, newest_modified=newest,
                        imported_at="2026-11-25T00:00:00Z")


def match(adv: Advisory, pkg: Package, uncertain: str | None = None) -> Match:
    return Match(advisory=adv, package=pkg, uncertain=uncertain)
