"""The inventory's one schema, for SQLite and PostgreSQL alike, and its ordered migrations.

Tables (all names prefixed ``gate_`` so an organisation's shared PostgreSQL database can hold them
beside others):

``gate_schema_version(version, description, applied_at)``
    one row per migration applied; the highest ``version`` is the schema in force.
``gate_environments(id, repository, stage, name, newest_record_id)``
    one row per environment identity: the CI repository (``""`` outside CI), the policy's stage
    (``""`` when the policy names none) and the environment's name (by default what the check read:
    the lockfile path(s) or the environment directory, as given; ``inventory add --name`` sets it).
    ``newest_record_id`` points at the record with the latest ``checked_at``, kept up to date by
    every add, so "newest record per environment" is a join, not a window query.
``gate_records(id, environment_id, digest, decision, checked_at, ...)``
    one row per signed record; ``digest`` (sha256 of the statement bytes) is unique, which makes a
    second add of the same record a no-op. The statement itself is kept, zlib-compressed, with the
    envelope's signatures, so the record can be re-derived and judged again (``gate monitor``).
``gate_record_packages(record_id, name, version, ecosystem, pypi_name)``
    the manifest, indexed by name and by PyPI name (``gate affected``).
``gate_record_findings(record_id, advisory_id, aliases, package, version, severity, status, ...)``
    the recorded findings, indexed by advisory ID.

Timestamps are RFC 3339 UTC text with second precision (``2026-11-26T12:00:00Z``): it sorts as
time on both databases and reads back unchanged whatever the server's time zone.

Migrations: :data:`MIGRATIONS` is ordered; :func:`gate.inventory.store.migrate` applies the ones
above the recorded version in one transaction (both databases have transactional DDL), so a schema
is either wholly upgraded or not at all. Migration 1 creates the tables as the ``Table`` objects
below describe them; a later change adds migration N with its own DDL (``ALTER TABLE``...) and
updates the ``Table`` objects to match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

schema_version = Table(
    "gate_schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", String(32), nullable=False),
)

environments = Table(
    "gate_environments", metadata,
    Column("id", Integer, primary_key=True),
    Column("repository", Text, nullable=False),
    Column("stage", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("newest_record_id", Integer, nullable=True),  # no FK: records point here too
    UniqueConstraint("repository", "stage", "name", name="uq_gate_environments_identity"),
    Index("ix_gate_environments_newest", "newest_record_id"),
)

records = Table(
    "gate_records", metadata,
    Column("id", Integer, primary_key=True),
    Column("environment_id", Integer, ForeignKey("gate_environments.id"), nullable=False),
    Column("digest", String(80), nullable=False, unique=True),
    Column("decision", String(8), nullable=False),
    Column("checked_at", String(32), nullable=False),
    Column("added_at", String(32), nullable=False),
    Column("stage", Text, nullable=True),
    Column("policy_path", Text, nullable=True),
    Column("policy_digest", Text, nullable=True),
    Column("db_digest", Text, nullable=True),
    Column("db_source", Text, nullable=True),
    Column("db_newest_modified", Text, nullable=True),
    Column("environment_digest", Text, nullable=True),
    Column("environment_source", Text, nullable=True),
    Column("environment_kind", Text, nullable=True),
    Column("ci_system", Text, nullable=True),
    Column("repository", Text, nullable=True),
    Column("commit", Text, nullable=True),
    Column("ref", Text, nullable=True),
    Column("run_url", Text, nullable=True),
    Column("actor", Text, nullable=True),
    Column("keyid", String(80), nullable=False),
    Column("package_count", Integer, nullable=False),
    Column("finding_count", Integer, nullable=False),
    Column("blocking_count", Integer, nullable=False),
    Column("payload", LargeBinary, nullable=False),  # zlib (level 3: the fastest here, 4x smaller) of the statement
    Column("signatures", Text, nullable=False),  # the envelope's signature list, JSON
    Index("ix_gate_records_environment", "environment_id", "checked_at"),
)

record_packages = Table(
    "gate_record_packages", metadata,
    Column("record_id", Integer, ForeignKey("gate_records.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("version", Text, nullable=True),
    Column("specifier", Text, nullable=True),
    Column("ecosystem", String(16), nullable=False),
    Column("pypi_name", Text, nullable=True),
    Index("ix_gate_record_packages_name", "name"),
    Index("ix_gate_record_packages_pypi_name", "pypi_name"),
    Index("ix_gate_record_packages_record", "record_id"),
)

record_findings = Table(
    "gate_record_findings", metadata,
    Column("record_id", Integer, ForeignKey("gate_records.id", ondelete="CASCADE"), nullable=False),
    Column("advisory_id", Text, nullable=False),
    Column("aliases", Text, nullable=False),  # JSON list
    Column("package", Text, nullable=False),
    Column("version", Text, nullable=True),
    Column("severity", String(16), nullable=True),
    Column("status", String(16), nullable=False),
    Column("fix", Text, nullable=True),
    Column("waiver_expires", String(32), nullable=True),
    Index("ix_gate_record_findings_advisory", "advisory_id"),
    Index("ix_gate_record_findings_record", "record_id"),
)

DATA_TABLES = (environments, records, record_packages, record_findings)


@dataclass(frozen=True, kw_only=True, slots=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _create_tables(connection: Connection) -> None:
    metadata.create_all(connection, tables=list(DATA_TABLES), checkfirst=False)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(version=1, description="environments, records, record packages and findings", apply=_create_tables),
)
LATEST_VERSION = MIGRATIONS[-1].version
