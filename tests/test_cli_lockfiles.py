"""`gate check --lockfile`: every rule works on lockfiles as on installed environments, and
bad input gives one line, exit 3 and no output files."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ASSETS, Run

Gate = Callable[..., Run]
EXAMPLE_POLICY = ASSETS / "example" / "policy.yml"
NOW = "2026-11-26T12:00:00Z"

OLD_PINS = """\
requests==2.19.1 \\
    --hash=sha256:63b52e3c866428a224f97cab011de738c36aec0185aa91cfacd418b5d58911d1
urllib3==1.24.1
pyyaml==5.3 ; python_version < "3.12"
jinja2==2.10 ; sys_platform == "win32"
"""


def findings(out: Path) -> set[tuple[str, str, str, str]]:
    result = json.loads((out / "result.json").read_text())
    return {(f["package"], f["version"], f["id"], f["status"]) for f in result["findings"]}


def test_requirements_lockfile_is_judged_like_an_environment(gate: Gate, example_db: Path, tmp_path: Path) -> None:
    lockfile = tmp_path / "requirements.txt"
    lockfile.write_text(OLD_PINS)
    run = gate("check", "--lockfile", lockfile, "--policy", EXAMPLE_POLICY, "--db", example_db,
               "--target", "python=3.11,platform=linux_x86_64", "--out", tmp_path / "out", "--now", NOW)
    assert run.code == 1, run.err
    got = findings(tmp_path / "out")
    assert {(p, i) for p, _, i, _ in got} == {
        ("requests", "GHSA-x84v-xcm2-53pg"), ("requests", "GHSA-j8r2-6x86-q33q"), ("requests", "GHSA-9wx4-h78v-vm56"),
        ("requests", "GHSA-9hjg-9r4m-mvj7"), ("urllib3", "GHSA-mh33-7rrq-662w"), ("urllib3", "GHSA-r64q-w8jr-g9qp"),
        ("urllib3", "GHSA-v845-jxx5-vc9f"), ("pyyaml", "GHSA-6757-jp84-gxfx"), ("pyyaml", "GHSA-8q59-q68h-6hv4"),
    }  # jinja2 is windows-only: not judged for linux
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["environment"]["kind"] == "requirements"
    assert result["environment"]["target"] == {"python": "3.11", "platform": "linux_x86_64"}
    requests = next(f for f in result["findings"] if f["package"] == "requests")
    assert requests["location"] == f"{lockfile}:1"
    assert any(note.startswith("Target python=3.11, platform=linux_x86_64: 1 package(s)") for note in result["notes"])


def test_without_target_the_union_is_judged(gate: Gate, example_db: Path, tmp_path: Path) -> None:
    lockfile = tmp_path / "requirements.txt"
    lockfile.write_text(OLD_PINS)
    run = gate("check", "--lockfile", lockfile, "--policy", EXAMPLE_POLICY, "--db", example_db,
               "--out", tmp_path / "out", "--now", NOW)
    assert run.code == 1
    assert {p for p, _, _, _ in findings(tmp_path / "out")} == {"requests", "urllib3", "pyyaml", "jinja2"}
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["notes"][0].startswith("No target given: every platform and Python version")


def test_several_lockfiles_are_one_environment(gate: Gate, example_db: Path, tmp_path: Path) -> None:
    first = tmp_path / "a.txt"
    first.write_text("requests==2.19.1\n")
    second = tmp_path / "b.txt"
    second.write_text("pyyaml==5.3\n")
    run = gate("check", "--lockfile", first, "--lockfile", second, "--policy", EXAMPLE_POLICY, "--db", example_db,
               "--out", tmp_path / "out", "--now", NOW)
    assert run.code == 1
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["environment"]["source"] == f"{first}, {second}"
    assert result["environment"]["packages"] == 2


def test_conda_names_map_to_pypi_and_non_python_packages_never_match(gate: Gate, tmp_path: Path) -> None:
    advisories = tmp_path / "advisories"
    advisories.mkdir()
    for identifier, name in (("GHSA-aaaa-aaaa-aaaa", "torch"), ("GHSA-bbbb-bbbb-bbbb", "tk")):
        (advisories / f"{identifier}.json").write_text(json.dumps({
            "id": identifier, "modified": "2026-11-25T00:00:00Z", "summary": f"{name} advisory",
            "affected": [{"package": {"ecosystem": "PyPI", "name": name},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}],
            "database_specific": {"severity": "HIGH"}}))
    db = tmp_path / "db.sqlite3"
    from gate.advisories import import_database

    import_database(advisories, db, now=dt.datetime(2026, 11, 26, tzinfo=dt.UTC))
    explicit = tmp_path / "spec-file.txt"
    explicit.write_text("# platform: linux-64\n@EXPLICIT\n"
                        "https://conda.anaconda.org/pytorch/linux-64/pytorch-2.1.0-py3.11_cpu_0.tar.bz2\n"
                        "https://conda.anaconda.org/conda-forge/linux-64/tk-8.6.13-noxft_h4845f30_101.conda\n")
    run = gate("check", "--lockfile", explicit, "--policy", "staging", "--db", db, "--out", tmp_path / "out",
               "--now", NOW)
    assert run.code == 1
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert [(f["package"], f["id"]) for f in result["findings"]] == [("pytorch", "GHSA-aaaa-aaaa-aaaa")]
    # staging denies torch < 2.6 under its PyPI name; the conda package is caught by it
    assert [(v["rule"], v["package"]) for v in result["violations"]] == [("packages.deny", "pytorch")]


def test_env_and_lockfile_are_exclusive(gate: Gate, tmp_path: Path) -> None:
    lockfile = tmp_path / "r.txt"
    lockfile.write_text("six==1.16.0\n")
    both = gate("check", "--env", ASSETS / "venvs" / "old-ml", "--lockfile", lockfile)
    assert both.code == 2
    assert "give either --env PATH or one or more --lockfile FILE" in both.err
    assert gate("check").code == 2


@pytest.mark.parametrize(("name", "content", "message"), [
    ("uv.lock", b'version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "six"\nversion = "1.16',
     "uv.lock:6: not valid TOML (Unterminated string)"),
    ("requirements.txt", b"six==1.16.0 \\\n    --hash=sha256:" + b"a" * 64 + b" \\\n",
     "requirements.txt:1: the line continues (ends with \\) but the file ends"),
    ("environment.yml", b"name: bomb\nchannels: [conda-forge]\ndependencies:\n  - &a [numpy, numpy, numpy]\n"
     + b"".join(f"  - &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode()
                for i in range(20)), "environment.yml:4: more than 5000000 YAML nodes once aliases are expanded"),
])
def test_bad_lockfiles_give_no_verdict(gate: Gate, example_db: Path, tmp_path: Path, name: str, content: bytes,
                                       message: str) -> None:
    lockfile = tmp_path / name
    lockfile.write_bytes(content)
    out = tmp_path / "out"
    run = gate("check", "--lockfile", lockfile, "--policy", EXAMPLE_POLICY, "--db", example_db, "--out", out)
    assert run.code == 3, run.err
    lines = run.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gate: error: "), run.err
    assert message in lines[0]
    assert "Traceback" not in run.err
    assert not out.exists()


def test_binary_junk_is_refused(gate: Gate, example_db: Path, tmp_path: Path) -> None:
    junk = tmp_path / "requirements.txt"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    run = gate("check", "--lockfile", junk, "--policy", EXAMPLE_POLICY, "--db", example_db)
    assert run.code == 3
    assert run.err.startswith(f"gate: error: {junk}: not a format the gate reads (supported: ")


def test_include_loop_names_file_and_line(gate: Gate, example_db: Path, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("six==1.16.0\n-r b.txt\n")
    (tmp_path / "b.txt").write_text("-r a.txt\n")
    run = gate("check", "--lockfile", tmp_path / "a.txt", "--policy", EXAMPLE_POLICY, "--db", example_db)
    assert run.code == 3
    assert run.err.startswith(f"gate: error: {tmp_path / 'b.txt'}:1: ")


def test_bad_target_is_a_usage_error(gate: Gate, tmp_path: Path) -> None:
    lockfile = tmp_path / "r.txt"
    lockfile.write_text("six==1.16.0\n")
    run = gate("check", "--lockfile", lockfile, "--target", "platform=amiga")
    assert run.code == 2
    assert "platform 'amiga' is not one of" in run.err
