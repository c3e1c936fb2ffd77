"""The inventory store on both backends: migrations, idempotent adds, newest record per environment,
the carrier query, and atomic adds (an injected failure between statements leaves nothing)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from gate.errors import InputError
from gate.inventory import Inventory, RecordEntry, inventory_url
from gate.inventory.schema import LATEST_VERSION
from gate.record import load_public_key, verify_record
from tests.inventory.helpers import (
    NEW_REQUIREMENTS,
    NOW,
    OLD_REQUIREMENTS,
    ci,
    decide,
    lockfile,
    new_key,
    policy_file,
    public_key_file,
    write_record,
)


def _entry(path: Path, pub: Path, name: str | None = None) -> RecordEntry:
    verified = verify_record(path, [load_public_key(pub)])
    return RecordEntry(payload=verified.payload, signatures=verified.signatures, keyid=verified.keyid,
                       statement=verified.statement, source=str(path), name=name)


@pytest.fixture
def records(tmp_path: Path, example_db: Path) -> dict[str, Path]:
    """Three real records: one environment checked twice (old pins, then new), and another repository."""
    key = new_key()
    pub = public_key_file(tmp_path, key)
    policy = policy_file(tmp_path)
    old = decide(lockfile(tmp_path / "a", "requirements.txt", OLD_REQUIREMENTS), policy, example_db)
    new = decide(lockfile(tmp_path / "a", "requirements.txt", NEW_REQUIREMENTS), policy, example_db,
                 now=NOW + dt.timedelta(days=3))
    return {
        "pub": pub,
        "old": write_record(tmp_path / "old.dsse.json", old, key, environ=ci("org/fraud-model", "c1")),
        "new": write_record(tmp_path / "new.dsse.json", new, key, environ=ci("org/fraud-model", "c2"),
                            now=NOW + dt.timedelta(days=3)),
        "other": write_record(tmp_path / "other.dsse.json", old, key, environ=ci("org/churn-model", "c9")),
    }


def test_migrates_once_and_adds_idempotently(inventory_location: str, records: dict[str, Path]) -> None:
    with Inventory.open(inventory_location) as inventory:
        assert inventory.version() == LATEST_VERSION
        first = inventory.add(_entry(records["old"], records["pub"]), now=NOW)
        again = inventory.add(_entry(records["old"], records["pub"]), now=NOW)
        assert (first.added, first.newest, again.added) == (True, True, False)
        assert first.digest == again.digest
        assert first.identity.repository == "org/fraud-model" and first.identity.stage == "production"
        assert inventory.record_count() == 1
    with Inventory.open(inventory_location) as reopened:  # the migration is not applied twice
        assert reopened.version() == LATEST_VERSION
        assert reopened.record_count() == 1


def test_newest_record_per_environment_whatever_the_add_order(inventory_location: str,
                                                              records: dict[str, Path]) -> None:
    with Inventory.open(inventory_location) as inventory:
        newer = inventory.add(_entry(records["new"], records["pub"], name="fraud"), now=NOW)
        older = inventory.add(_entry(records["old"], records["pub"], name="fraud"), now=NOW)
        inventory.add(_entry(records["other"], records["pub"], name="churn"), now=NOW)
        assert newer.newest and not older.newest
        summaries = {s.identity.name: s for s in inventory.environments()}
        assert sorted(summaries) == ["churn", "fraud"]
        assert summaries["fraud"].records == 2
        assert summaries["fraud"].commit == "c2" and summaries["fraud"].checked_at == "2026-11-29T12:00:00Z"
        assert summaries["fraud"].packages == 3
        assert [r.commit for r in inventory.newest_records()] == ["c9", "c2"]  # identity order: churn, fraud

        newest = inventory.carriers(pypi_names=["requests"])
        assert sorted((c.identity.name, c.version) for c in newest) == [("churn", "2.19.1"), ("fraud", "2.32.3")]
        every = inventory.carriers(names=["requests"], all_records=True)
        assert sorted((c.identity.name, c.version, c.newest) for c in every) == [
            ("churn", "2.19.1", True), ("fraud", "2.19.1", False), ("fraud", "2.32.3", True)]
        assert inventory.carriers(names=["numpy"]) == []


def test_a_failure_between_statements_leaves_no_part_of_the_record(inventory_location: str,
                                                                   records: dict[str, Path],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from gate.inventory import store

    def fail_after_packages(connection: object, environment_id: int) -> int:
        raise RuntimeError("injected failure after the record and package rows were written")

    with Inventory.open(inventory_location) as inventory:
        inventory.add(_entry(records["other"], records["pub"]), now=NOW)
        monkeypatch.setattr(store, "_refresh_newest", fail_after_packages)
        with pytest.raises(RuntimeError, match="injected failure"):
            inventory.add(_entry(records["old"], records["pub"]), now=NOW)
        monkeypatch.undo()
        assert inventory.record_count() == 1
        assert inventory.carriers(names=["requests"], all_records=True)[0].identity.repository == "org/churn-model"
        assert len(inventory.carriers(names=["requests", "urllib3", "jinja2"], all_records=True)) == 3
        # the environment row created inside the failed transaction is gone too
        assert [s.identity.repository for s in inventory.environments()] == ["org/churn-model"]
        assert inventory.add(_entry(records["old"], records["pub"]), now=NOW).added


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from gate.inventory.schema import schema_version

    path = tmp_path / "inventory.sqlite3"
    Inventory.open(str(path)).close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(schema_version.insert().values(version=LATEST_VERSION + 1, description="future",
                                                          applied_at="2030-01-01T00:00:00Z"))
    engine.dispose()
    with pytest.raises(InputError) as raised:
        Inventory.open(str(path))
    assert str(raised.value) == (f"{path}: inventory schema {LATEST_VERSION + 1} is newer than this gate reads "
                                 f"({LATEST_VERSION}): upgrade the gate")


def test_not_a_database_file(tmp_path: Path) -> None:
    path = tmp_path / "inventory.sqlite3"
    path.write_text("this is not SQLite\n" * 100)
    with pytest.raises(InputError) as raised:
        Inventory.open(str(path))
    assert str(raised.value) == f"{path}: inventory database error: file is not a database"


def test_locations() -> None:
    assert inventory_url("/srv/inv.sqlite3", {}).render_as_string() == "sqlite+pysqlite:////srv/inv.sqlite3"
    assert inventory_url(None, {"GATE_INVENTORY": "postgresql://gate:secret@db.example/inv"}).drivername == \
        "postgresql+psycopg"
    default = inventory_url(None, {}).database
    assert default is not None and default.endswith("promotion-gate/inventory.sqlite3")
    with pytest.raises(InputError) as raised:
        inventory_url("mysql://root:hunter2@db/inv", {})
    assert str(raised.value) == ("mysql://root:***@db/inv: unsupported inventory database 'mysql': give a file path "
                                 "(SQLite) or a postgresql:// URL")


def test_postgresql_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what an install without the extra looks like
    with pytest.raises(InputError) as raised:
        Inventory.open("postgresql://gate:secret@localhost/inventory")
    assert str(raised.value) == ("postgresql://gate:***@localhost/inventory: a PostgreSQL inventory needs the "
                                 "postgres extra (psycopg 3): pip install 'promotion-gate[postgres]'")


def test_unreachable_postgresql_is_a_service_error(tmp_path: Path) -> None:
    from gate.errors import ServiceError

    with pytest.raises(ServiceError) as raised:
        Inventory.open(f"postgresql://gate:secret@/inventory?host={tmp_path}&port=1")
    message = str(raised.value)
    assert message.startswith("postgresql://gate:***@/inventory?host=%2Ftmp%2F")  # password hidden
    assert "&port=1: cannot reach the inventory database: connection is bad: " in message
    assert "secret" not in message and "\n" not in message


def test_readers_are_not_blocked_by_a_writer(tmp_path: Path) -> None:
    """An up-to-date inventory is opened without the write lock: `gate affected` answers during an add."""
    import sqlite3

    path = tmp_path / "inventory.sqlite3"
    Inventory.open(str(path)).close()
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    writer.execute("BEGIN IMMEDIATE")  # what a running `inventory add` holds
    try:
        with Inventory.open(str(path)) as inventory:
            assert inventory.carriers(names=["requests"]) == []
            assert inventory.environments() == []
    finally:
        writer.execute("ROLLBACK")
        writer.close()
