"""Fixtures for the advisory tests: the hand-written OSV records in tests/assets/osv compiled
once per session, and OSV's JSON export of the real snapshot (skipped when ../shared is
absent; the YAML one is the shared ``snapshot_db`` of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.advisories import AdvisoryDatabase, import_database
from tests.advisories.helpers import IMPORTED_AT, JSON_RECORDS, SNAPSHOT_IMPORTED_AT, SNAPSHOT_JSON_ZIP


@pytest.fixture(scope="session")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("osv-fixture") / "advisories.sqlite3"
    import_database(JSON_RECORDS, path, now=IMPORTED_AT)
    return path


@pytest.fixture
def database(fixture_db: Path) -> Iterator[AdvisoryDatabase]:
    opened = AdvisoryDatabase.open(fixture_db)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def snapshot_json_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SNAPSHOT_JSON_ZIP.is_file():
        pytest.skip("../shared/advisories is absent")
    path = tmp_path_factory.mktemp("snapshot-json") / "advisories.sqlite3"
    import_database(SNAPSHOT_JSON_ZIP, path, now=SNAPSHOT_IMPORTED_AT)
    return path
