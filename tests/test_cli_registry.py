"""`gate check` with a `registry` section, against an index the test serves on loopback (a
static PEP 691 tree, tests/registry/helpers.py): a hash the index does not serve, a yanked
release and a release younger than the quarantine each block; an unreachable index is exit 6
unless the policy allows a cached answer, which the report then says it used."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gate.clock import format_instant
from gate.registry import client as client_module
from tests.conftest import Run
from tests.registry.helpers import IndexServer, edit_cache_header, metadata_text, refused_url
from tests.sources.helpers import add_dist, make_venv

Gate = Callable[..., Run]
NOW = "2026-11-26T12:00:00Z"


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache, never the user's."""
    monkeypatch.setenv("GATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(client_module, "RETRY_DELAY", 0.0)
    return tmp_path / "cache" / "registry"


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    with IndexServer(tmp_path / "index") as server:
        tree = server.tree
        tree.add("vetted", "vetted-1.0-py3-none-any.whl", uploaded="2026-01-05T00:00:00.000000Z")
        tree.add("vetted", "vetted-1.0.tar.gz", uploaded="2026-01-04T00:00:00.000000Z")
        tree.add("withdrawn", "withdrawn-2.0.tar.gz", uploaded="2026-01-01T00:00:00.000000Z",
                 yanked="corrupts the cache on upgrade")
        tree.add("brand-new", "brand_new-0.3-py3-none-any.whl", uploaded="2026-11-24T09:30:00.000000Z")
        yield server


def policy(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(f"stage: production\nregistry:\n  url: {url}\n  min_release_age_days: 7\n  forbid_yanked: true\n"
                    f"  verify_hashes: true\n{extra}", encoding="utf-8")
    return path


def lockfile(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def hash_of(server: IndexServer, filename: str) -> str:
    digest: str = next(f["hashes"]["sha256"] for files in server.tree.files.values() for f in files
                       if f["filename"] == filename)
    return digest


def result(out: Path) -> Any:
    return json.loads((out / "result.json").read_text(encoding="utf-8"))


def test_a_vetted_lock_passes(gate: Gate, index: IndexServer, tmp_path: Path) -> None:
    lock = lockfile(tmp_path, f"vetted==1.0 --hash=sha256:{hash_of(index, 'vetted-1.0-py3-none-any.whl')}")
    run = gate("check", "--lockfile", lock, "--policy", policy(tmp_path, index.index_url), "--now", NOW,
               "--out", tmp_path / "out")
    assert run.code == 0, run.out + run.err
    assert run.out.splitlines()[0] == "gate: PASS (production): 0 blocking, 0 waived, 0 warnings; 1 packages"
    assert f"registry: 1 release(s) checked against {index.index_url}." in result(tmp_path / "out")["notes"]
    assert index.paths() == ["/simple/vetted/"]


def test_unserved_hash_yanked_and_young_releases_block(gate: Gate, index: IndexServer, tmp_path: Path) -> None:
    lock = lockfile(
        tmp_path,
        "vetted==1.0 --hash=sha256:" + "0" * 64,
        f"withdrawn==2.0 --hash=sha256:{hash_of(index, 'withdrawn-2.0.tar.gz')}",
        f"brand-new==0.3 --hash=sha256:{hash_of(index, 'brand_new-0.3-py3-none-any.whl')}",
        "ghost==1.0 --hash=sha256:" + "1" * 64,
    )
    run = gate("check", "--lockfile", lock, "--policy", policy(tmp_path, index.index_url), "--now", NOW,
               "--out", tmp_path / "out")
    assert run.code == 1, run.out + run.err
    violations = {(v["rule"], v["package"], v["detail"]) for v in result(tmp_path / "out")["violations"]}
    url = index.index_url
    assert violations == {
        ("registry.verify_hashes", "vetted", f"1 of 1 locked hash(es) are not served by {url} for this release "
         f"(sha256:{'0' * 64}): the locked artifact is not one the approved index serves; re-lock against the "
         "approved index"),
        ("registry.forbid_yanked", "withdrawn", f"yanked from {url} (reason given: 'corrupts the cache on upgrade'): "
         "a yanked release is one its authors withdrew; move to a release that is not yanked"),
        ("registry.min_release_age_days", "brand-new", "uploaded 2026-11-24T09:30:00Z, 2 day(s) ago: the policy "
         "quarantines releases younger than 7 day(s); it may be promoted from 2026-12-01T09:30:00Z, or pin an older "
         "release"),
        ("registry.missing", "ghost", f"the approved index {url} does not serve this release: a release the index "
         "does not serve was never vetted there; lock a version it serves, or have this one added to it"),
    }
    assert run.out.splitlines()[0] == "gate: FAIL (production): 4 blocking, 0 waived, 0 warnings; 4 packages"
    assert "  blocking  registry.forbid_yanked: withdrawn==2.0: yanked from" in run.out


def test_index_down_and_no_cache_is_no_verdict(gate: Gate, tmp_path: Path) -> None:
    lock = lockfile(tmp_path, "vetted==1.0 --hash=sha256:" + "0" * 64)
    with refused_url() as url:
        run = gate("check", "--lockfile", lock, "--policy", policy(tmp_path, url), "--now", NOW,
                   "--out", tmp_path / "out")
    assert run.code == 6
    assert run.err == (f"gate: error: {url}/vetted/: cannot connect: Connection refused; "
                       "registry.cache_max_age_hours is not set, so no cached answer may stand in\n")
    assert not (tmp_path / "out" / "result.json").exists()


def age_cache(cache_dir: Path, hours: float) -> None:
    """Make every cached page look fetched ``hours`` ago (past the freshness window)."""
    then = format_instant(dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours))
    for path in cache_dir.glob("*/projects/*.json"):
        edit_cache_header(path, fetched_at=then)


def test_index_down_with_an_allowed_cache(gate: Gate, tmp_path: Path, cache_dir: Path) -> None:
    with IndexServer(tmp_path / "index") as server:
        server.tree.add("vetted", "vetted-1.0.tar.gz", uploaded="2026-01-04T00:00:00.000000Z")
        url = server.index_url
        lock = lockfile(tmp_path, f"vetted==1.0 --hash=sha256:{hash_of(server, 'vetted-1.0.tar.gz')}")
        allowed = policy(tmp_path, url, "  cache_max_age_hours: 24\n")
        assert gate("check", "--lockfile", lock, "--policy", allowed, "--now", NOW).code == 0
    age_cache(cache_dir, hours=3)
    # The server is gone: its port refuses connections.
    run = gate("check", "--lockfile", lock, "--policy", allowed, "--now", NOW, "--out", tmp_path / "out")
    assert run.code == 0, run.err
    notes = result(tmp_path / "out")["notes"]
    assert any(note.startswith(f"registry: answers from {url} were taken from the on-disk cache instead of asking "
                               "the index; the oldest was fetched at ") for note in notes)
    age_cache(cache_dir, hours=25)
    run = gate("check", "--lockfile", lock, "--policy", allowed, "--now", NOW)
    assert run.code == 6
    assert run.err.endswith("no cached answer within registry.cache_max_age_hours=24 for vetted\n")


def test_warm_cache_and_offline(gate: Gate, index: IndexServer, tmp_path: Path, cache_dir: Path) -> None:
    lock = lockfile(tmp_path, f"vetted==1.0 --hash=sha256:{hash_of(index, 'vetted-1.0.tar.gz')}")
    strict = policy(tmp_path, index.index_url)
    assert gate("check", "--lockfile", lock, "--policy", strict, "--now", NOW).code == 0
    assert gate("check", "--lockfile", lock, "--policy", strict, "--now", NOW).code == 0
    assert gate("check", "--lockfile", lock, "--policy", strict, "--now", NOW, "--offline").code == 0
    assert len(index.requests) == 1  # the later checks were served by the cache
    age_cache(cache_dir, hours=2)
    run = gate("check", "--lockfile", lock, "--policy", strict, "--now", NOW, "--offline")
    assert run.code == 6
    assert run.err == (f"gate: error: {index.index_url}: offline: the index was not asked, and "
                       "registry.cache_max_age_hours is not set, so no cached answer may stand in\n")
    assert len(index.requests) == 1


def test_installed_environment_is_not_blocked_for_lacking_hashes(gate: Gate, index: IndexServer,
                                                                 tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv")
    add_dist(site, "vetted", "1.0")
    add_dist(site, "withdrawn", "2.0")
    run = gate("check", "--env", tmp_path / "venv", "--policy", policy(tmp_path, index.index_url), "--now", NOW,
               "--out", tmp_path / "out")
    assert run.code == 1
    document = result(tmp_path / "out")
    assert [(v["rule"], v["package"]) for v in document["violations"]] == [
        ("registry.forbid_yanked", "withdrawn")]
    assert ("registry.verify_hashes: 2 installed package(s) were not verified: an installed environment records no "
            "artifact hashes, so verify_hashes needs the lockfile with hashes (check it with --lockfile)."
            in document["notes"])


def test_lockfile_licences_come_from_the_wheel_metadata_the_index_serves(gate: Gate, index: IndexServer,
                                                                         tmp_path: Path) -> None:
    index.tree.add("licensed", "licensed-1.0-py3-none-any.whl", uploaded="2026-01-01T00:00:00.000000Z",
                   metadata=metadata_text("licensed", "1.0", license_expression="MIT"))
    lock = lockfile(tmp_path, f"licensed==1.0 --hash=sha256:{hash_of(index, 'licensed-1.0-py3-none-any.whl')}",
                    f"vetted==1.0 --hash=sha256:{hash_of(index, 'vetted-1.0.tar.gz')}")
    rules = policy(tmp_path, index.index_url, "licenses:\n  allow: [MIT]\n  unknown: block\n")
    run = gate("check", "--lockfile", lock, "--policy", rules, "--now", NOW, "--out", tmp_path / "out")
    assert run.code == 1
    # licensed: MIT from its wheel's .metadata; vetted has only an sdist, so nothing says its licence.
    violations = result(tmp_path / "out")["violations"]
    assert [(v["rule"], v["package"]) for v in violations] == [("licenses.unknown", "vetted")]
    assert violations[0]["detail"].startswith("licence unknown: no licence metadata")
    assert "/files/licensed-1.0-py3-none-any.whl.metadata" in index.paths()
