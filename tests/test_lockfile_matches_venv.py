"""A lockfile and an installed environment of the same pins must get the same findings:
every rule downstream of the readers sees one Environment shape, whatever it came from."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gate.sources import reader_for_lockfile
from gate.sources.selection import select
from tests.conftest import ASSETS, SHARED, Run
from tests.sources.helpers import add_dist, make_venv

CORPUS = SHARED / "corpus"
LOCKFILES = [
    "requirements-pinned/huggingface__transformers-research-projects__lxmert__requirements.txt",
    "Pipfile.lock/GillesJ__sentivent_event_sentence_classification__Pipfile.lock",
    "poetry.lock/huggingface__text-generation-inference__backends__gaudi__server__poetry.lock",
]
NOW = "2026-07-24T00:00:00Z"
Gate = Callable[..., Run]


def findings(gate: Gate, args: list[str | Path], out: Path) -> set[tuple[str, str, str]]:
    run = gate("check", *args, "--policy", ASSETS / "policies" / "vulnerabilities.yml", "--out", out, "--now", NOW)
    assert run.code in (0, 1), run.err
    result = json.loads((out / "result.json").read_text())
    return {(f["package"], f["version"], f["id"]) for f in result["findings"]}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
@pytest.mark.parametrize("relative", LOCKFILES)
def test_same_findings_from_lockfile_and_installed_venv(relative: str, snapshot_db: Path, tmp_path: Path,
                                                        gate: Gate) -> None:
    lockfile = CORPUS / relative
    target = "python=3.11,platform=linux_x86_64"
    environment = reader_for_lockfile(lockfile).read(lockfile, target=None)
    from gate.targets import parse_target

    pinned = {(p.name, p.version) for p in select(environment, target=parse_target(target)).environment.packages
              if p.version is not None and p.ecosystem == "pypi"}
    site = make_venv(tmp_path / "venv")
    for name, version in pinned:
        add_dist(site, name, version)
    from_lock = findings(gate, ["--lockfile", lockfile, "--target", target, "--db", snapshot_db],
                         tmp_path / "lock-out")
    from_venv = findings(gate, ["--env", tmp_path / "venv", "--db", snapshot_db], tmp_path / "venv-out")
    assert from_lock == from_venv
    assert from_lock, "these old lockfiles have known vulnerabilities"
