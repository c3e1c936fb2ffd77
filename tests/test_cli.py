"""End to end through the real entry point: arguments in, exit code, terminal and files out."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ASSETS, Run
from tests.loopback import Loopback, StaticFiles

OLD = ASSETS / "venvs" / "old-ml"
CURRENT = ASSETS / "venvs" / "current"
EXAMPLE_POLICY = ASSETS / "example" / "policy.yml"
VULNERABILITIES = ASSETS / "policies" / "vulnerabilities.yml"  # production's vulnerability rules alone
NOW = "2026-11-26T12:00:00Z"

Gate = Callable[..., Run]


def test_readme_example_blocks_with_every_status(gate: Gate, example_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = gate("check", "--env", OLD, "--policy", EXAMPLE_POLICY, "--db", example_db, "--out", out, "--now", NOW)
    assert run.code == 1, run.err
    result = json.loads((out / "result.json").read_text())
    assert result["decision"] == "fail"
    got = {(f["package"], f["version"], f["id"], f["status"]) for f in result["findings"]}
    assert got == {
        ("jinja2", "2.10", "GHSA-462w-v97r-4m45", "blocking"),
        ("jinja2", "2.10", "GHSA-cpwx-vrp4-4pq7", "blocking"),
        ("jinja2", "2.10", "GHSA-h5c8-rqwp-cp95", "blocking"),
        ("pyyaml", "5.3", "GHSA-6757-jp84-gxfx", "blocking"),
        ("pyyaml", "5.3", "GHSA-8q59-q68h-6hv4", "blocking"),
        ("requests", "2.19.1", "GHSA-9hjg-9r4m-mvj7", "blocking"),
        ("requests", "2.19.1", "GHSA-9wx4-h78v-vm56", "waived"),
        ("requests", "2.19.1", "GHSA-j8r2-6x86-q33q", "blocking"),
        ("requests", "2.19.1", "GHSA-x84v-xcm2-53pg", "blocking"),
        ("urllib3", "1.24.1", "GHSA-mh33-7rrq-662w", "blocking"),
        ("urllib3", "1.24.1", "GHSA-r64q-w8jr-g9qp", "blocking"),
        ("urllib3", "1.24.1", "GHSA-v845-jxx5-vc9f", "blocking"),
    }
    # licences the old metadata leaves ambiguous block; a venv's unprovable provenance only warns
    assert [(v["rule"], v["package"], v["status"]) for v in result["violations"]] == [
        ("licenses.unknown", "chardet", "blocking"), ("licenses.unknown", "django", "blocking"),
        ("licenses.unknown", "idna", "blocking"), ("sources.indexes", None, "warning"),
        ("sources.require_hashes", None, "warning"), ("consistency", "requests", "blocking")]
    report = (out / "report.md").read_text()
    assert report.startswith("## ❌ Promotion Gate: blocked from production\n")
    assert "### Licences: blocking" in report
    assert "<details><summary>Waived (1)</summary>" in report
    assert run.out.splitlines()[0].startswith("gate: FAIL (production): 15 blocking, 1 waived, 2 warnings;")


def test_current_versions_pass(gate: Gate, example_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = gate("check", "--env", CURRENT, "--policy", EXAMPLE_POLICY, "--db", example_db, "--out", out, "--now", NOW)
    assert run.code == 0, run.out + run.err
    result = json.loads((out / "result.json").read_text())
    assert result["decision"] == "pass"
    assert result["findings"] == []
    # the example waiver matched nothing here, and a venv cannot prove its index: warnings, not failures
    assert [(v["rule"], v["status"]) for v in result["violations"]] == [
        ("vulnerabilities.waivers", "warning"), ("sources.indexes", "warning"), ("sources.require_hashes", "warning")]


def test_outputs_are_deterministic(gate: Gate, example_db: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        gate("check", "--env", OLD, "--policy", EXAMPLE_POLICY, "--db", example_db, "--out", tmp_path / name,
             "--now", NOW)
    for name in ("result.json", "report.md", "sbom.cdx.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_missing_database_gives_no_verdict(gate: Gate, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = gate("check", "--env", OLD, "--policy", EXAMPLE_POLICY, "--db", tmp_path / "none.sqlite3", "--out", out)
    assert run.code == 4
    assert run.err.startswith(f"gate: error: {tmp_path / 'none.sqlite3'}: ")
    assert not out.exists()


def test_stale_database_gives_no_verdict(gate: Gate, example_db: Path, tmp_path: Path) -> None:
    run = gate("check", "--env", OLD, "--policy", VULNERABILITIES, "--db", example_db, "--out", tmp_path / "out",
               "--now", NOW)
    assert run.code == 4
    assert "advisory database is" in run.err and "allows advisory_db.max_age_days=2" in run.err
    assert not (tmp_path / "out").exists()


def test_bad_policy_gives_no_verdict(gate: Gate, example_db: Path, tmp_path: Path) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text("vulnerabilities:\n  blok_at: high\n")
    run = gate("check", "--env", OLD, "--policy", policy, "--db", example_db)
    assert run.code == 3
    assert run.err == (f"gate: error: {policy}:2: vulnerabilities.blok_at: unknown key 'blok_at' "
                       "(did you mean 'block_at'?)\n")
    assert run.out == ""


def test_not_an_environment(gate: Gate, example_db: Path, tmp_path: Path) -> None:
    run = gate("check", "--env", tmp_path, "--policy", EXAMPLE_POLICY, "--db", example_db)
    assert run.code == 3
    assert run.err.startswith(f"gate: error: {tmp_path}: ")
    assert "Traceback" not in run.err


def test_bad_now_is_a_usage_error(gate: Gate) -> None:
    run = gate("check", "--env", OLD, "--now", "yesterday")
    assert run.code == 2
    assert "'yesterday' is not an RFC 3339 timestamp" in run.err


def test_policy_schema_and_check(gate: Gate) -> None:
    schema = gate("policy", "schema")
    assert schema.code == 0
    assert json.loads(schema.out)["title"] == "Promotion Gate policy"
    checked = gate("policy", "check", "production")
    assert checked.code == 0
    assert checked.out.startswith("# ")
    assert "stage: production" in checked.out and "name: torch" in checked.out


def test_db_import_and_info(gate: Gate, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    imported = gate("db", "import", ASSETS / "example" / "advisories", "--db", db)
    assert imported.code == 0, imported.err
    info = gate("db", "info", "--db", db, "--json", "--now", NOW)
    assert info.code == 0
    document = json.loads(info.out)
    assert document["records"] == 12
    assert document["newest_modified"].startswith("2025-06-09T19:06:08")
    assert document["age_days"] == 534
    assert document["digest"].startswith("sha256:")


def test_version(gate: Gate) -> None:
    import gate as package

    run = gate("--version")
    assert run.code == 0
    assert run.out == f"gate, version {package.__version__}\n"


@pytest.mark.parametrize("args", [("check",), ("nonsense",)])
def test_usage_errors_exit_2(gate: Gate, args: tuple[str, ...]) -> None:
    assert gate(*args).code == 2


@pytest.fixture
def served_zip(tmp_path: Path) -> Iterator[str]:
    """An all.zip of the example advisories, served on loopback like OSV's bucket."""
    import zipfile

    root = tmp_path / "www"
    root.mkdir()
    with zipfile.ZipFile(root / "all.zip", "w") as archive:
        for record in sorted((ASSETS / "example" / "advisories").glob("*.json")):
            archive.write(record, record.name)
    with Loopback(StaticFiles, root) as server:
        yield server.url


def test_db_update_downloads_and_imports(gate: Gate, served_zip: str, tmp_path: Path) -> None:
    db = tmp_path / "cache" / "db.sqlite3"
    run = gate("db", "update", "--url", f"{served_zip}/all.zip", "--db", db)
    assert run.code == 0, run.err
    assert f"source:          {served_zip}/all.zip" in run.out
    assert "records:         12" in run.out
    assert sorted(p.name for p in db.parent.iterdir()) == ["db.sqlite3"]  # the download was cleaned up


def test_db_update_unreachable_keeps_the_old_database(gate: Gate, served_zip: str, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    assert gate("db", "import", ASSETS / "example" / "advisories", "--db", db).code == 0
    before = db.read_bytes()
    run = gate("db", "update", "--url", f"{served_zip}/missing.zip", "--db", db)
    assert run.code == 6
    assert run.err.splitlines()[-1] == f"gate: error: {served_zip}/missing.zip: HTTP 404 File not found"
    assert db.read_bytes() == before


def test_db_import_of_a_corrupt_zip_keeps_the_old_database(gate: Gate, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    assert gate("db", "import", ASSETS / "example" / "advisories", "--db", db).code == 0
    before = db.read_bytes()
    junk = tmp_path / "all.zip"
    junk.write_bytes(b"PK\x03\x04 this is not really a zip")
    run = gate("db", "import", junk, "--db", db)
    assert run.code == 4
    assert run.err == f"gate: error: {junk}: not a zip file\n"
    assert db.read_bytes() == before


def test_a_required_record_needs_out(gate: Gate, example_db: Path, tmp_path: Path) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text("record: {require_signature: true}\n")
    run = gate("check", "--env", OLD, "--policy", policy, "--db", example_db)
    assert run.code == 5
    assert run.err == (f"gate: error: {policy}: the policy requires a signed record (record.require_signature): "
                       "give --out DIR (and GATE_SIGNING_KEY) so the decision is recorded\n")


def test_a_bug_is_no_verdict_not_a_block(gate: Gate, example_db: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception would exit 1 ("blocked"), which a warn-only job lets through: it is
    an internal error with exit 70 instead, one line, the traceback only on request."""
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("index out of range\n::error::forged")

    monkeypatch.setattr("gate.sources.read_lockfiles", broken)
    lockfile = tmp_path / "requirements.txt"
    lockfile.write_text("numpy==1.0\n")
    run = gate("check", "--lockfile", lockfile, "--policy", EXAMPLE_POLICY, "--db", example_db, "--now", NOW,
               "--out", tmp_path / "out")
    assert run.code == 70
    assert run.err == ("gate: internal error (a bug in the gate, no verdict): RuntimeError: index out of range "
                       "::error::forged; set GATE_DEBUG=1 for the traceback\n")
    assert not (tmp_path / "out").exists()
    monkeypatch.setenv("GATE_DEBUG", "1")
    run = gate("check", "--lockfile", lockfile, "--policy", EXAMPLE_POLICY, "--db", example_db, "--now", NOW)
    assert run.code == 70
    assert run.err.startswith("Traceback (most recent call last):")


def test_error_lines_cannot_forge_ci_commands(gate: Gate, example_db: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """An error quotes the input; the runner reads ``##[command]`` anywhere in a line and ``::`` at
    its start, so neither may survive into the log."""
    from gate.errors import InputError

    def hostile(*args: object, **kwargs: object) -> None:
        raise InputError("bad version '1 ##[set-output name=decision;]pass'\n::error::forged", where="uv.lock",
                         line=3)

    monkeypatch.setattr("gate.sources.read_lockfiles", hostile)
    run = gate("check", "--lockfile", tmp_path / "uv.lock", "--policy", EXAMPLE_POLICY, "--db", example_db)
    assert run.code == 3
    assert run.err == ("gate: error: uv.lock:3: bad version '1 # #[set-output name=decision;]pass' "
                       "::error::forged\n")
