"""The inventory store: one code path (SQLAlchemy Core) over SQLite and PostgreSQL.

Where it lives: ``--inventory PATH`` (a SQLite file), ``--inventory postgresql://...`` (a shared
organisation inventory; needs the ``promotion-gate[postgres]`` extra, psycopg 3), else
``$GATE_INVENTORY``, else ``inventory.sqlite3`` in the user data directory.

The dialect shows in three places only, each for a property the two databases reach differently:
SQLite is told to begin its transactions itself (``BEGIN IMMEDIATE`` for writers: Python's sqlite3
would otherwise commit DDL on its own and take the write lock late), its pragmas (WAL, foreign
keys, busy timeout), and PostgreSQL's migration lock (``pg_advisory_xact_lock``: two first runs
racing to create the tables). Every query is the same Core expression on both.

Adding a record is one transaction: the record row, its packages and findings, and the
environment's newest-record pointer are all there or none is, whatever interrupts the add.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, and_, create_engine, event, func, inspect, or_, select, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from gate.clock import format_instant
from gate.errors import InputError, ServiceError
from gate.inventory.schema import (
    LATEST_VERSION,
    MIGRATIONS,
    environments,
    record_findings,
    record_packages,
    records,
    schema_version,
)

INVENTORY_VARIABLE = "GATE_INVENTORY"
INVENTORY_FILENAME = "inventory.sqlite3"
POSTGRES_EXTRA_MISSING = ("a PostgreSQL inventory needs the postgres extra (psycopg 3): "
                          "pip install 'promotion-gate[postgres]'")
_MIGRATION_LOCK = 0x6761746549  # "gateI": the advisory lock id PostgreSQL migrations take
_SQLITE_BUSY_MS = 30_000
_WRITE = "gate_write"  # execution option: this connection writes (SQLite: BEGIN IMMEDIATE)


def default_inventory_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("promotion-gate") / INVENTORY_FILENAME


def inventory_url(location: str | None, environ: Mapping[str, str] | None = None) -> URL:
    """The SQLAlchemy URL for ``location`` (a path or a URL), else ``$GATE_INVENTORY``, else the default file."""
    environ = os.environ if environ is None else environ
    text = location or environ.get(INVENTORY_VARIABLE) or ""
    if not text:
        return _sqlite_url(default_inventory_path())
    if "://" not in text:
        return _sqlite_url(Path(text).expanduser())
    try:
        url = make_url(text)
    except ArgumentError:
        raise InputError("not a database URL (postgresql://USER@HOST/DB or a file path)",
                         where=_mask(text)) from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if not url.database:
            raise InputError("a SQLite inventory needs a file path (sqlite:///PATH)", where=_mask(text))
        return _sqlite_url(Path(url.database).expanduser())
    raise InputError(f"unsupported inventory database {backend!r}: give a file path (SQLite) or a postgresql:// URL",
                     where=_mask(text))


def _sqlite_url(path: Path) -> URL:
    return URL.create("sqlite+pysqlite", database=str(path.absolute()))


def _mask(text: str) -> str:
    try:
        return make_url(text).render_as_string(hide_password=True)
    except ArgumentError:
        return "the inventory URL"


def describe(url: URL) -> str:
    """Where the inventory is, for messages: the file, or the URL with its password hidden."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


# --- what is stored ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordEntry:
    """A verified record, as the inventory stores it."""

    payload: bytes  # the statement bytes the signature covers (verified, canonical)
    signatures: tuple[dict[str, Any], ...]
    keyid: str  # the pinned key that verified it
    source: str  # the file it was read from, for messages
    name: str | None = None  # the environment's name; None: the recorded environment source
    statement: dict[str, Any] | None = None  # the decoded payload, when the caller has it already

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.payload).hexdigest()

    def decoded(self) -> dict[str, Any]:
        """The statement (decoded again from the verified bytes when not kept: a batch of a thousand
        records holds their bytes, not a thousand parsed statements)."""
        if self.statement is not None:
            return self.statement
        statement: dict[str, Any] = json.loads(self.payload)
        return statement


@dataclass(frozen=True, kw_only=True, slots=True)
class Identity:
    """Which environment a record belongs to."""

    repository: str
    stage: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.repository or '(no repository)'} [{self.stage or 'no stage'}] {self.name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class AddResult:
    digest: str
    identity: Identity
    added: bool  # False: the record was there already
    newest: bool  # the record is now its environment's newest


@dataclass(frozen=True, kw_only=True, slots=True)
class EnvironmentSummary:
    identity: Identity
    records: int
    newest_digest: str | None
    checked_at: str | None
    decision: str | None
    commit: str | None
    packages: int
    blocking: int


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredRecord:
    """A record read back from the inventory, with its environment."""

    identity: Identity
    digest: str
    decision: str
    checked_at: str
    commit: str | None
    statement: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class Carrier:
    """One package of one record that a query asked about (``gate affected``)."""

    identity: Identity
    digest: str
    checked_at: str
    decision: str
    commit: str | None
    newest: bool
    name: str
    version: str | None
    specifier: str | None
    ecosystem: str
    pypi_name: str | None


def identity_of(entry: RecordEntry, statement: dict[str, Any] | None = None) -> Identity:
    predicate = (statement if statement is not None else entry.decoded())["predicate"]
    ci = predicate.get("ci") if isinstance(predicate.get("ci"), dict) else {}
    policy = predicate.get("policy") if isinstance(predicate.get("policy"), dict) else {}
    environment = predicate.get("environment") if isinstance(predicate.get("environment"), dict) else {}
    name = entry.name if entry.name is not None else environment.get("source")
    return Identity(repository=_text(ci.get("repository")) or "", stage=_text(policy.get("stage")) or "",
                    name=_text(name) or "(unnamed)")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# --- the store -------------------------------------------------------------------------------


class Inventory:
    """An open inventory (migrated to the latest schema). Use :meth:`open`; close it, or use ``with``."""

    def __init__(self, engine: Engine, *, url: URL) -> None:
        self._engine = engine
        self.url = url
        self.where = describe(url)

    @classmethod
    def open(cls, location: str | None = None, *, environ: Mapping[str, str] | None = None) -> Inventory:
        """Open (creating and migrating when needed) the inventory at ``location``."""
        url = inventory_url(location, environ)
        where = describe(url)
        if url.get_backend_name() == "sqlite":
            path = Path(str(url.database))
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise InputError(f"cannot create the inventory's folder: {error.strerror}", where=path) from None
            engine = create_engine(url, connect_args={"timeout": _SQLITE_BUSY_MS / 1000})
            _sqlite_transactions(engine)
        else:
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise InputError(POSTGRES_EXTRA_MISSING, where=where) from None
            try:
                engine = create_engine(url, pool_pre_ping=False)
            except NoSuchModuleError:
                raise InputError(POSTGRES_EXTRA_MISSING, where=where) from None
        inventory = cls(engine, url=url)
        try:
            inventory.migrate()
        except BaseException:
            engine.dispose()
            raise
        return inventory

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    # -- transactions and errors

    def _begin(self, *, write: bool) -> Any:
        return _Transaction(self, write=write)

    def _error(self, error: SQLAlchemyError) -> InputError | ServiceError:
        """One line for a database failure: unreachable server (6) or an unusable database (3)."""
        original = getattr(error, "orig", None)
        detail = " ".join(str(original if original is not None else error).split())
        if len(detail) > 300:
            detail = detail[:297] + "..."
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return ServiceError(f"inventory connection lost: {detail}", where=self.where)
        if self.url.get_backend_name() != "sqlite" and type(original).__name__ == "OperationalError":
            return ServiceError(f"cannot reach the inventory database: {detail}", where=self.where)
        return InputError(f"inventory database error: {detail}", where=self.where)

    # -- schema

    def migrate(self) -> int:
        """Apply the migrations above the recorded schema version, in one transaction; the version now.

        An up-to-date inventory is only read (no write lock: `gate affected` beside a running add)."""
        with self._begin(write=False) as connection:
            if inspect(connection).has_table(schema_version.name):
                current = connection.execute(select(func.max(schema_version.c.version))).scalar() or 0
                if current == LATEST_VERSION:
                    return LATEST_VERSION
        with self._begin(write=True) as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            schema_version.create(connection, checkfirst=True)
            current = connection.execute(select(func.max(schema_version.c.version))).scalar() or 0
            if current > LATEST_VERSION:
                raise InputError(f"inventory schema {current} is newer than this gate reads ({LATEST_VERSION}): "
                                 "upgrade the gate", where=self.where)
            for migration in MIGRATIONS:
                if migration.version > current:
                    migration.apply(connection)
                    connection.execute(schema_version.insert().values(
                        version=migration.version, description=migration.description,
                        applied_at=format_instant(_utcnow())))
            return LATEST_VERSION

    def version(self) -> int:
        with self._begin(write=False) as connection:
            return int(connection.execute(select(func.max(schema_version.c.version))).scalar() or 0)

    # -- adding

    def add(self, entry: RecordEntry, *, now: dt.datetime) -> AddResult:
        """Store ``entry`` (verified by the caller) in one transaction; a no-op when its digest is there."""
        digest = entry.digest
        with self._begin(write=True) as connection:
            existing = connection.execute(
                select(environments.c.repository, environments.c.stage, environments.c.name)
                .join(records, records.c.environment_id == environments.c.id).where(records.c.digest == digest)).first()
            if existing is not None:
                return AddResult(digest=digest, added=False, newest=False,
                                 identity=Identity(repository=existing[0], stage=existing[1], name=existing[2]))
            statement = entry.decoded()
            identity = identity_of(entry, statement)
            environment_id = _environment_id(connection, identity)
            record_id = _insert_record(connection, entry, statement, environment_id=environment_id, digest=digest,
                                       now=now)
            newest = _refresh_newest(connection, environment_id) == record_id
        return AddResult(digest=digest, identity=identity, added=True, newest=newest)

    # -- reading

    def environments(self) -> list[EnvironmentSummary]:
        counts = (select(records.c.environment_id, func.count().label("n"))
                  .group_by(records.c.environment_id).subquery())
        query = (select(environments.c.repository, environments.c.stage, environments.c.name, counts.c.n,
                        records.c.digest, records.c.checked_at, records.c.decision, records.c.commit,
                        records.c.package_count, records.c.blocking_count)
                 .join(counts, counts.c.environment_id == environments.c.id)
                 .outerjoin(records, records.c.id == environments.c.newest_record_id)
                 .order_by(environments.c.repository, environments.c.stage, environments.c.name))
        with self._begin(write=False) as connection:
            rows = connection.execute(query).all()
        return [EnvironmentSummary(identity=Identity(repository=r[0], stage=r[1], name=r[2]), records=int(r[3]),
                                   newest_digest=r[4], checked_at=r[5], decision=r[6], commit=r[7],
                                   packages=int(r[8] or 0), blocking=int(r[9] or 0)) for r in rows]

    def newest_records(self) -> Iterator[StoredRecord]:
        """Each environment's newest record, statement included, in identity order."""
        query = (select(environments.c.repository, environments.c.stage, environments.c.name, records.c.digest,
                        records.c.decision, records.c.checked_at, records.c.commit, records.c.payload)
                 .join(records, records.c.id == environments.c.newest_record_id)
                 .order_by(environments.c.repository, environments.c.stage, environments.c.name))
        with self._begin(write=False) as connection:
            rows = connection.execute(query).all()
        for row in rows:
            try:
                statement = json.loads(zlib.decompress(row[7]))
            except (zlib.error, ValueError):
                raise InputError(f"record {row[3]} is corrupt in the inventory", where=self.where) from None
            yield StoredRecord(identity=Identity(repository=row[0], stage=row[1], name=row[2]), digest=row[3],
                               decision=row[4], checked_at=row[5], commit=row[6], statement=statement)

    def carriers(self, *, names: Sequence[str] = (), pypi_names: Sequence[str] = (),
                 all_records: bool = False) -> list[Carrier]:
        """Packages named ``names`` (by their own name) or ``pypi_names`` (by the name advisories use), in each
        environment's newest record, or in every record with ``all_records``. One query; the caller filters
        versions (PEP 440 does not fit in SQL)."""
        conditions = []
        if names:
            conditions.append(record_packages.c.name.in_(sorted(set(names))))
        if pypi_names:
            conditions.append(record_packages.c.pypi_name.in_(sorted(set(pypi_names))))
        if not conditions:
            return []
        join_on = (environments.c.newest_record_id == records.c.id) if not all_records \
            else (environments.c.id == records.c.environment_id)
        query = (select(environments.c.repository, environments.c.stage, environments.c.name, records.c.digest,
                        records.c.checked_at, records.c.decision, records.c.commit,
                        (environments.c.newest_record_id == records.c.id).label("newest"),
                        record_packages.c.name, record_packages.c.version, record_packages.c.specifier,
                        record_packages.c.ecosystem, record_packages.c.pypi_name)
                 .select_from(record_packages)
                 .join(records, records.c.id == record_packages.c.record_id)
                 .join(environments, and_(join_on))
                 .where(or_(*conditions)))
        with self._begin(write=False) as connection:
            rows = connection.execute(query).all()
        return [Carrier(identity=Identity(repository=r[0], stage=r[1], name=r[2]), digest=r[3], checked_at=r[4],
                        decision=r[5], commit=r[6], newest=bool(r[7]), name=r[8], version=r[9], specifier=r[10],
                        ecosystem=r[11], pypi_name=r[12]) for r in rows]

    def record_count(self) -> int:
        with self._begin(write=False) as connection:
            return int(connection.execute(select(func.count()).select_from(records)).scalar() or 0)


class _Transaction:
    """``with inventory._begin(write=...) as connection``: one transaction, database errors as gate errors."""

    def __init__(self, inventory: Inventory, *, write: bool) -> None:
        self._inventory = inventory
        self._write = write
        self._context: Any = None

    def __enter__(self) -> Connection:
        try:
            engine = self._inventory._engine.execution_options(**{_WRITE: self._write})
            self._context = engine.begin()
            connection: Connection = self._context.__enter__()
        except SQLAlchemyError as error:
            raise self._inventory._error(error) from None
        return connection

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            self._context.__exit__(kind, error, traceback)
        except SQLAlchemyError as failure:
            raise self._inventory._error(failure) from None
        if isinstance(error, SQLAlchemyError):
            raise self._inventory._error(error) from None


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLite run real transactions: DDL inside them, and the write lock taken at BEGIN."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver stops issuing its own BEGIN/COMMIT
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # WAL: a killed process loses no committed add
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, True)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _environment_id(connection: Connection, identity: Identity) -> int:
    """The environment's id, created when new, and locked until the transaction ends (PostgreSQL: two adds
    for one environment then agree on its newest record; SQLite holds the whole database already)."""
    where = and_(environments.c.repository == identity.repository, environments.c.stage == identity.stage,
                 environments.c.name == identity.name)
    found = connection.execute(select(environments.c.id).where(where).with_for_update()).scalar()
    if found is not None:
        return int(found)
    try:
        with connection.begin_nested():
            connection.execute(environments.insert().values(repository=identity.repository, stage=identity.stage,
                                                            name=identity.name))
    except IntegrityError:
        pass  # a concurrent add created it first
    return int(connection.execute(select(environments.c.id).where(where).with_for_update()).scalar_one())


def _insert_record(connection: Connection, entry: RecordEntry, statement: dict[str, Any], *, environment_id: int,
                   digest: str, now: dt.datetime) -> int:
    predicate = statement["predicate"]
    ci = predicate.get("ci") if isinstance(predicate.get("ci"), dict) else {}
    policy = predicate.get("policy") if isinstance(predicate.get("policy"), dict) else {}
    database = predicate.get("advisory_db") if isinstance(predicate.get("advisory_db"), dict) else {}
    environment = predicate.get("environment") if isinstance(predicate.get("environment"), dict) else {}
    manifest_raw = environment.get("manifest")
    manifest: list[Any] = manifest_raw if isinstance(manifest_raw, list) else []
    findings = [f for f in predicate.get("findings", []) if isinstance(f, dict)]
    violations = [v for v in predicate.get("violations", []) if isinstance(v, dict)]
    blocking = sum(1 for item in (*findings, *violations) if item.get("status") == "blocking")
    record_id = connection.execute(records.insert().values(
        environment_id=environment_id, digest=digest, decision=predicate["decision"],
        checked_at=str(predicate.get("checked_at")), added_at=format_instant(now),
        stage=_text(policy.get("stage")), policy_path=_text(policy.get("path")),
        policy_digest=_text(policy.get("digest")),
        db_digest=_text(database.get("digest")), db_source=_text(database.get("source")),
        db_newest_modified=_text(database.get("newest_modified")),
        environment_digest=_text(environment.get("digest")), environment_source=_text(environment.get("source")),
        environment_kind=_text(environment.get("kind")),
        ci_system=_text(ci.get("system")), repository=_text(ci.get("repository")), commit=_text(ci.get("commit")),
        ref=_text(ci.get("ref")), run_url=_text(ci.get("run_url")), actor=_text(ci.get("actor")),
        keyid=entry.keyid, package_count=len(manifest), finding_count=len(findings), blocking_count=blocking,
        payload=zlib.compress(entry.payload, 3), signatures=json.dumps(list(entry.signatures), sort_keys=True),
    ).returning(records.c.id)).scalar_one()
    package_rows = [{
        "record_id": record_id, "name": str(item.get("name")), "version": _text(item.get("version")),
        "specifier": _text(item.get("specifier")), "ecosystem": str(item.get("ecosystem") or "pypi"),
        "pypi_name": _canonical(item.get("pypi_name")),
    } for item in manifest if isinstance(item, dict)]
    if package_rows:
        connection.execute(record_packages.insert(), package_rows)
    finding_rows = [{
        "record_id": record_id, "advisory_id": str(item.get("id")),
        "aliases": json.dumps(item.get("aliases") or [], sort_keys=True), "package": str(item.get("package")),
        "version": _text(item.get("version")), "severity": _text(item.get("severity")),
        "status": str(item.get("status")), "fix": _text(item.get("fix")),
        "waiver_expires": _text((item.get("waiver") or {}).get("expires")) if isinstance(item.get("waiver"), dict)
        else None,
    } for item in findings]
    if finding_rows:
        connection.execute(record_findings.insert(), finding_rows)
    return int(record_id)


def _canonical(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(value))


def _refresh_newest(connection: Connection, environment_id: int) -> int:
    """Point the environment at its record with the latest ``checked_at`` (the latest added on a tie)."""
    newest = connection.execute(
        select(records.c.id).where(records.c.environment_id == environment_id)
        .order_by(records.c.checked_at.desc(), records.c.id.desc()).limit(1)).scalar_one()
    connection.execute(update(environments).where(environments.c.id == environment_id)
                       .values(newest_record_id=newest))
    return int(newest)
