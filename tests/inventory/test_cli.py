"""`gate inventory add/list` and `gate affected` from the command line, on SQLite and PostgreSQL:
idempotent adds, a tampered record refused with the inventory unchanged, an add killed half-way
leaving every record complete or absent, and affected by alias and by specifier."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gate.inventory import Inventory
from tests.conftest import REPO, Run
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
    tamper,
    write_record,
)


@pytest.fixture
def signed(tmp_path: Path, example_db: Path) -> dict[str, Path]:
    key = new_key()
    policy = policy_file(tmp_path)
    staging = policy_file(tmp_path, stage="staging")
    old = lockfile(tmp_path / "old", "requirements.txt", OLD_REQUIREMENTS)
    new = lockfile(tmp_path / "new", "requirements.txt", NEW_REQUIREMENTS)
    return {
        "pub": public_key_file(tmp_path, key),
        "fraud": write_record(tmp_path / "fraud.dsse.json", decide(old, policy, example_db), key,
                              environ=ci("org/fraud-model", "f00d")),
        "churn": write_record(tmp_path / "churn.dsse.json", decide(new, policy, example_db), key,
                              environ=ci("org/churn-model", "c0ffee")),
        "staging": write_record(tmp_path / "staging.dsse.json", decide(old, staging, example_db), key,
                                environ=ci("org/fraud-model", "f00d")),
    }


def _count(location: str) -> int:
    with Inventory.open(location) as inventory:
        return inventory.record_count()


def test_add_is_idempotent(gate: Callable[..., Run], inventory_location: str, signed: dict[str, Path]) -> None:
    run = gate("inventory", "add", signed["fraud"], signed["churn"], "--key", signed["pub"],
               "--inventory", inventory_location, "--now", "2026-11-27T00:00:00Z")
    assert run.code == 0, run.err
    assert run.out.splitlines()[0].startswith(f"added: {signed['fraud']} → org/fraud-model [production] ")
    assert run.out.splitlines()[-1].startswith("2 added, 0 already present; inventory ")
    again = gate("inventory", "add", signed["churn"], signed["fraud"], "--key", signed["pub"],
                 "--inventory", inventory_location)
    assert again.code == 0, again.err
    assert again.out.splitlines()[-1].startswith("0 added, 2 already present;")
    assert _count(inventory_location) == 2
    listed = json.loads(gate("inventory", "list", "--inventory", inventory_location, "--json").out)
    assert [(e["repository"], e["stage"], e["records"], e["decision"], e["commit"], e["packages"])
            for e in listed["environments"]] == [("org/churn-model", "production", 1, "fail", "c0ffee", 3),
                                                 ("org/fraud-model", "production", 1, "fail", "f00d", 3)]


def test_tampered_record_is_refused_and_nothing_is_written(gate: Callable[..., Run], inventory_location: str,
                                                           signed: dict[str, Path]) -> None:
    assert gate("inventory", "add", signed["churn"], "--key", signed["pub"], "--inventory",
                inventory_location).code == 0
    before = gate("inventory", "list", "--inventory", inventory_location, "--json").out
    tamper(signed["fraud"])
    run = gate("inventory", "add", signed["staging"], signed["fraud"], "--key", signed["pub"],
               "--inventory", inventory_location)
    assert run.code == 5
    assert run.err == (f"gate: error: {signed['fraud']}: no signature verifies under the 1 pinned key(s); "
                       "nothing was added\n")
    assert run.out == ""
    assert gate("inventory", "list", "--inventory", inventory_location, "--json").out == before
    assert _count(inventory_location) == 1  # the good record given with it was not added either


def test_unknown_key_is_refused(gate: Callable[..., Run], tmp_path: Path, signed: dict[str, Path]) -> None:
    other = public_key_file(tmp_path / "other", new_key())
    location = str(tmp_path / "inventory.sqlite3")
    run = gate("inventory", "add", signed["churn"], "--key", other, "--inventory", location)
    assert run.code == 5
    assert run.err.endswith("no signature verifies under the 1 pinned key(s); nothing was added\n")


def test_killing_an_add_half_way_leaves_the_inventory_consistent(inventory_location: str, tmp_path: Path,
                                                                 example_db: Path) -> None:
    """SIGKILL a real `gate inventory add` of many records once some have been committed: each record is
    then wholly there (row, every package, every finding, a valid newest pointer) or wholly absent, and
    running the add again completes it."""
    key = new_key()
    pub = public_key_file(tmp_path, key)
    policy = policy_file(tmp_path)
    decision = decide(lockfile(tmp_path, "requirements.txt", OLD_REQUIREMENTS), policy, example_db)
    paths = [write_record(tmp_path / "records" / f"r{index:03}.dsse.json", decision, key,
                          environ=ci(f"org/model-{index:03}", f"{index:040x}")) for index in range(150)]
    environ = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", "from gate.cli import main; main()", "inventory", "add", *map(str, paths),
               "--key", str(pub), "--inventory", inventory_location]
    Inventory.open(inventory_location).close()  # migrated before the clock starts
    process = subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None and _count(inventory_location) < 5:
            time.sleep(0.005)
        assert process.poll() is None, "the add finished before it could be interrupted"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    interrupted = _consistency(inventory_location)
    assert 5 <= interrupted < 150
    finish = subprocess.run(command, env=environ, capture_output=True, text=True, timeout=600)
    assert finish.returncode == 0, finish.stderr
    assert finish.stdout.splitlines()[-1].startswith(f"{150 - interrupted} added, {interrupted} already present;")
    assert _consistency(inventory_location) == 150


def _consistency(location: str) -> int:
    """Check every record is complete; the number of records."""
    from sqlalchemy import func, select

    from gate.inventory.schema import environments, record_findings, record_packages, records

    with Inventory.open(location) as inventory, inventory._begin(write=False) as connection:
        rows = connection.execute(select(records.c.id, records.c.package_count, records.c.finding_count,
                                         records.c.environment_id)).all()
        packages = dict(connection.execute(select(record_packages.c.record_id, func.count())
                                           .group_by(record_packages.c.record_id)).all())
        findings = dict(connection.execute(select(record_findings.c.record_id, func.count())
                                           .group_by(record_findings.c.record_id)).all())
        pointers = connection.execute(select(environments.c.id, environments.c.newest_record_id)).all()
    by_id = {row[0]: row for row in rows}
    for record_id, package_count, finding_count, _ in rows:
        assert packages.get(record_id, 0) == package_count == 3
        assert findings.get(record_id, 0) == finding_count > 0
    assert len(pointers) == len(rows)  # no environment without its record
    for environment_id, newest in pointers:
        assert newest in by_id and by_id[newest][3] == environment_id
    return len(rows)


def test_affected_by_alias_and_by_specifier(gate: Callable[..., Run], inventory_location: str,
                                            signed: dict[str, Path], example_db: Path) -> None:
    assert gate("inventory", "add", signed["fraud"], signed["churn"], signed["staging"], "--key", signed["pub"],
                "--inventory", inventory_location).code == 0
    # CVE-2023-32681 is an alias of GHSA-j8r2-6x86-q33q: requests >=2.3.0,<2.31.0
    run = gate("affected", "cve-2023-32681", "--inventory", inventory_location, "--db", example_db, "--json")
    assert run.code == 1, run.err
    answer = json.loads(run.out)
    assert [a["id"] for a in answer["advisories"]] == ["GHSA-j8r2-6x86-q33q"]
    assert answer["advisories"][0]["affected"] == [
        {"package": "requests", "ranges": [[{"introduced": "2.3.0"}, {"fixed": "2.31.0"}]], "versions": []}]
    assert [(m["repository"], m["stage"], m["commit"], m["checked_at"], m["decision"], m["package"], m["version"])
            for m in answer["matches"]] == [
        ("org/fraud-model", "production", "f00d", "2026-11-26T12:00:00Z", "fail", "requests", "2.19.1"),
        ("org/fraud-model", "staging", "f00d", "2026-11-26T12:00:00Z", "fail", "requests", "2.19.1")]
    assert answer["environments"] == 2

    table = gate("affected", "GHSA-j8r2-6x86-q33q", "--inventory", inventory_location, "--db", example_db)
    assert table.code == 1
    assert table.out.splitlines()[2].split() == ["repository", "stage", "environment", "commit", "record", "date",
                                                 "decision", "package"]
    assert "requests==2.19.1" in table.out.splitlines()[3]
    assert table.out.splitlines()[-1] == "2 environment(s) affected (newest record of each)"

    spec = json.loads(gate("affected", "urllib3>=2,<3", "--inventory", inventory_location, "--json").out)
    assert [(m["repository"], m["version"]) for m in spec["matches"]] == [("org/churn-model", "2.2.2")]
    every = json.loads(gate("affected", "jinja2", "--inventory", inventory_location, "--json").out)
    assert sorted(m["version"] for m in every["matches"]) == ["2.10", "2.10", "3.1.4"]
    exact = gate("affected", "Jinja2==3.1.4", "--inventory", inventory_location)
    assert exact.code == 1 and "org/churn-model" in exact.out and "org/fraud-model" not in exact.out
    none = gate("affected", "numpy", "--inventory", inventory_location)
    assert (none.code, none.out) == (0, "0 environment(s) affected (newest record of each)\n")


def test_affected_newest_record_by_default_and_all_records_on_request(gate: Callable[..., Run], tmp_path: Path,
                                                                       example_db: Path) -> None:
    import datetime as dt

    key = new_key()
    pub = public_key_file(tmp_path, key)
    policy = policy_file(tmp_path)
    old = decide(lockfile(tmp_path / "a", "requirements.txt", OLD_REQUIREMENTS), policy, example_db)
    later = NOW + dt.timedelta(days=1)
    new = decide(lockfile(tmp_path / "a", "requirements.txt", NEW_REQUIREMENTS), policy, example_db, now=later)
    records = [write_record(tmp_path / "1.dsse.json", old, key, environ=ci("org/m", "1")),
               write_record(tmp_path / "2.dsse.json", new, key, environ=ci("org/m", "2"), now=later)]
    location = str(tmp_path / "inventory.sqlite3")
    assert gate("inventory", "add", *records, "--key", pub, "--inventory", location, "--name", "model").code == 0
    newest = gate("affected", "GHSA-j8r2-6x86-q33q", "--inventory", location, "--db", example_db)
    assert newest.code == 0  # upgraded since
    every = json.loads(gate("affected", "GHSA-j8r2-6x86-q33q", "--inventory", location, "--db", example_db,
                            "--all-records", "--json").out)
    assert [(m["environment"], m["commit"], m["newest"]) for m in every["matches"]] == [("model", "1", False)]


def test_affected_errors(gate: Callable[..., Run], tmp_path: Path, example_db: Path) -> None:
    location = str(tmp_path / "inventory.sqlite3")
    run = gate("affected", "CVE-1999-0001", "--inventory", location, "--db", example_db)
    assert run.code == 3
    assert run.err == (f"gate: error: {example_db}: CVE-1999-0001 is not an ID or alias of any advisory in "
                       "the database\n")
    bad = gate("affected", "requests[socks]>=2", "--inventory", location)
    assert bad.code == 3
    assert bad.err == ("gate: error: requests[socks]>=2: give a package name and a version specifier only "
                       "(no extras, markers or URL)\n")
    unparsable = gate("affected", "requests >>= 2", "--inventory", location)
    assert unparsable.code == 3
    assert unparsable.err == ("gate: error: requests >>= 2: not an advisory ID or a package NAME[==VERSION | "
                              "SPECIFIER]: Expected semicolon (after name with no version specifier) or end\n")


@pytest.mark.parametrize(("text", "expected"), [
    ("GHSA-j8r2-6x86-q33q", True), ("cve-2023-32681", True), ("PYSEC-2023-74", True), ("MAL-2024-1", True),
    ("requests", False), ("scikit-learn", False), ("cve-tools", False), ("ghsa-lib>=2", False),
    ("torch<2.6", False)])
def test_ids_are_told_from_package_queries(text: str, expected: bool) -> None:
    from gate.inventory.affected import looks_like_advisory_id

    assert looks_like_advisory_id(text) is expected
