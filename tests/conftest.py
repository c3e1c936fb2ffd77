"""Shared fixtures: the repository's own assets, the real data in ../shared (skipped when
absent), and a runner for the CLI that returns its exit code and output."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.postgres import Cluster

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "tests" / "assets"
SHARED = REPO.parent / "shared"
SNAPSHOT_YAML_ZIP = SHARED / "advisories" / "pypa-advisory-db-2026-07-23.yaml.zip"
SNAPSHOT_JSON_ZIP = SHARED / "advisories" / "osv-pypi-2026-07-23.json.zip"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def gate(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Call the real entry point (exit-code mapping included) in-process."""
    from gate.cli import main

    def run(*args: str | Path) -> Run:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main([str(a) for a in args])
        captured = capsys.readouterr()
        code = exited.value.code
        return Run(code=code if isinstance(code, int) else 1, out=captured.out, err=captured.err)

    return run


@pytest.fixture(scope="session")
def snapshot_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full PyPA advisory snapshot, compiled once per test session."""
    if not SNAPSHOT_YAML_ZIP.is_file():
        pytest.skip("../shared/advisories is absent")
    import datetime as dt

    from gate.advisories import import_database

    path = tmp_path_factory.mktemp("snapshot") / "advisories.sqlite3"
    import_database(SNAPSHOT_YAML_ZIP, path, now=dt.datetime(2026, 7, 24, tzinfo=dt.UTC))
    return path


@pytest.fixture(scope="session")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's own example advisories, compiled."""
    import datetime as dt

    from gate.advisories import import_database

    path = tmp_path_factory.mktemp("example") / "advisories.sqlite3"
    import_database(ASSETS / "example" / "advisories", path, now=dt.datetime(2026, 11, 26, tzinfo=dt.UTC))
    return path


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL server for the session (see tests/postgres.py), or a skip saying why not."""
    from tests.postgres import cluster_session

    for cluster, reason in cluster_session():
        if cluster is None:
            pytest.skip(reason)
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def inventory_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty inventory, on each backend: a SQLite file, or a fresh database on the test cluster."""
    if request.param == "sqlite":
        return str(tmp_path / "inventory.sqlite3")
    cluster: Cluster = request.getfixturevalue("postgres_cluster")
    return cluster.new_database()
