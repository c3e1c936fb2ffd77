"""Small builders of core objects for unit tests."""

from __future__ import annotations

import datetime as dt

from gate.model import Advisory, DatabaseInfo, Environment, Level, Location, Match, Package, Severity, Target

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def package(name: str, version: str | None = "1.0", **kwargs: object) -> Package:
    return Package(name=name, version=version, pypi_name=name,
                   location=Location(file=f"site-packages/{name}-{version}.dist-info/METADATA"), **kwargs)  # type: ignore[arg-type]


def advisory(identifier: str, *aliases: str, level: Level = Level.HIGH, score: float | None = 7.5,
             fixed: tuple[str, ...] = ("2.0",), **kwargs: object) -> Advisory:
    return Advisory(id=identifier, aliases=tuple(sorted(aliases)), summary=f"summary of {identifier}",
                    severity=Severity(level=level, score=score), fixed=fixed, **kwargs)  # type: ignore[arg-type]


def environment(*packages: Package) -> Environment:
    return Environment.create(source="/venv", kind="venv", target=Target(python="3.11"), packages=list(packages))


def database(newest: str = "2026-11-25T00:00:00Z") -> DatabaseInfo:
    return DatabaseInfo(source="test", digest="sha256:" + "0" * 64, records=3, newest_modified=newest,
                        imported_at="2026-11-25T00:00:00Z")


def match(adv: Advisory, pkg: Package, uncertain: str | None = None) -> Match:
    return Match(advisory=adv, package=pkg, uncertain=uncertain)
