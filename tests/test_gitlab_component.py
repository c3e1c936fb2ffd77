"""templates/gate.yml run as GitLab would run the component's job: the ``spec:inputs`` interpolated
into the job (``$[[ inputs.x ]]``), the job's variables as the script's environment, the script
in bash with ``set -eo pipefail`` in the project directory, then ``allow_failure``, the
artifacts and the MR note (against the GitLab API on loopback) checked.

The image is this machine: ``python3`` is this test's interpreter, and the ``install`` input is a
wheel of this checkout built once (offline: no index, dependencies from this environment)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci.forge_server import GITLAB_TOKEN, ForgeServer
from tests.conftest import ASSETS, REPO

COMPONENT = REPO / "templates" / "gate.yml"
OLD_ML = ASSETS / "venvs" / "old-ml"
CURRENT = ASSETS / "venvs" / "current"
EXAMPLE_POLICY = ASSETS / "example" / "policy.yml"
EXAMPLE_ADVISORIES = ASSETS / "example" / "advisories"


def documents() -> tuple[dict[str, Any], dict[str, Any]]:
    header, job = yaml.safe_load_all(COMPONENT.read_text(encoding="utf-8"))
    return header, job


def interpolate(value: Any, inputs: dict[str, Any]) -> Any:
    """GitLab's ``$[[ inputs.NAME ]]`` interpolation, in keys and values."""
    if isinstance(value, dict):
        return {interpolate(k, inputs): interpolate(v, inputs) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(item, inputs) for item in value]
    if isinstance(value, str):
        def one(match: re.Match[str]) -> str:
            given = inputs[match.group(1)]
            return ("true" if given else "false") if isinstance(given, bool) else str(given)

        return re.sub(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", one, value)
    return value


@dataclass
class JobRun:
    code: int
    allowed: bool  # failed, but with an exit code allow_failure accepts
    log: str
    job: dict[str, Any]
    project: Path


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling")
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(folder), str(REPO)], check=True, capture_output=True)
    [built] = folder.glob("promotion_gate-*.whl")
    return built


@pytest.fixture
def gitlab() -> Iterator[ForgeServer]:
    with ForgeServer() as server:
        yield server


def run_job(inputs: dict[str, Any], *, tmp: Path, wheel: Path, server: ForgeServer) -> JobRun:
    header, template = documents()
    spec = header["spec"]["inputs"]
    assert not set(inputs) - set(spec), set(inputs) - set(spec)
    values = {name: inputs.get(name, spec[name].get("default")) for name in spec}
    for name, value in values.items():
        assert "options" not in spec[name] or value in spec[name]["options"], name
    values["install"] = str(wheel)
    [(name, job)] = interpolate(template, values).items()
    assert name == values["job-name"]
    script = "\n".join(job["script"])
    project = tmp / "project"
    project.mkdir(parents=True)
    site = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp),
        "TMPDIR": str(tmp), "LANG": "C.UTF-8", "CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": str(project),
        "CI_API_V4_URL": server.gitlab_url, "CI_PROJECT_ID": "5", "CI_MERGE_REQUEST_IID": "3",
        "CI_JOB_NAME": name, "CI_JOB_URL": "https://gitlab.test/acme/app/-/jobs/99",
        "GATE_GITLAB_TOKEN": GITLAB_TOKEN,
        # offline install of the wheel: no index, its dependencies from this environment
        "PIP_NO_INDEX": "1", "PIP_NO_DEPS": "1", "PYTHONPATH": site,
    }
    for key, variable in job["variables"].items():
        env[key] = variable["value"] if isinstance(variable, dict) else str(variable)
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], env=env, cwd=project,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600, check=False)
    allowed = done.returncode != 0 and done.returncode in job.get("allow_failure", {}).get("exit_codes", [])
    return JobRun(code=done.returncode, allowed=allowed, log=done.stdout, job=job, project=project)


def test_inputs_reach_the_script_only_as_unexpanded_variables() -> None:
    header, template = documents()
    [job] = template.values()
    assert all("$[[" not in line for line in job["script"])
    inputs = set(header["spec"]["inputs"])
    used = set(re.findall(r"\$\[\[ inputs\.([\w-]+) \]\]", json.dumps(template)))
    assert used == inputs
    for name, variable in job["variables"].items():
        if isinstance(variable, dict):
            assert variable["expand"] is False, name


def test_blocked_merge_request_fails_the_job_and_posts_the_note(tmp_path: Path, wheel: Path,
                                                                 gitlab: ForgeServer) -> None:
    run = run_job({"environment": str(OLD_ML), "policy": str(EXAMPLE_POLICY), "advisory-db": str(EXAMPLE_ADVISORIES),
                   "comment": "always"}, tmp=tmp_path, wheel=wheel, server=gitlab)
    assert (run.code, run.allowed) == (1, False), run.log
    assert "Promotion Gate: blocked by policy (report.md in the artifacts says why)" in run.log
    out = run.project / "promotion-gate"
    artifacts = run.job["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["paths"] == ["promotion-gate/"]
    for report in artifacts["reports"].values():
        assert (run.project / report).is_file(), report
    assert json.loads((out / "gl-dependency-scanning-report.json").read_text())["scan"]["type"] == \
        "dependency_scanning"
    [note] = gitlab.state.notes[3]
    assert note["body"].startswith("<!-- promotion-gate:promotion-gate -->\n## ❌ Promotion Gate: blocked")


def test_warn_only_block_is_an_allowed_failure_but_no_verdict_is_not(tmp_path: Path, wheel: Path,
                                                                     gitlab: ForgeServer) -> None:
    run = run_job({"environment": str(OLD_ML), "policy": str(EXAMPLE_POLICY), "advisory-db": str(EXAMPLE_ADVISORIES),
                   "warn-only": True, "comment": "never", "job-name": "gate-staging"},
                  tmp=tmp_path / "warn", wheel=wheel, server=gitlab)
    assert (run.code, run.allowed) == (99, True), run.log
    assert "warn-only: the pipeline goes on (exit 99)" in run.log
    broken = run_job({"environment": str(OLD_ML), "policy": str(tmp_path / "missing.yml"),
                      "advisory-db": str(EXAMPLE_ADVISORIES), "warn-only": True},
                     tmp=tmp_path / "broken", wheel=wheel, server=gitlab)
    assert (broken.code, broken.allowed) == (3, False), broken.log
    assert "Promotion Gate: no verdict (exit 3): this is never a pass, warn-only or not" in broken.log
    [note] = gitlab.state.notes[3]  # on-failure: no verdict is a failure, so the note is created
    assert "## ⚠️ Promotion Gate: no verdict" in note["body"]


def test_lockfiles(tmp_path: Path, wheel: Path, gitlab: ForgeServer) -> None:
    lockfile = ASSETS / "lockfiles" / "requirements" / "requirements.txt"
    run = run_job({"lockfiles": f"{lockfile}\n", "policy": str(EXAMPLE_POLICY), "advisory-db": str(EXAMPLE_ADVISORIES)},
                  tmp=tmp_path, wheel=wheel, server=gitlab)
    assert run.code == 1, run.log
    result = json.loads((run.project / "promotion-gate" / "result.json").read_text(encoding="utf-8"))
    assert (result["decision"], result["environment"]["kind"]) == ("fail", "requirements")
    assert result["environment"]["source"] == str(lockfile)
    assert len(gitlab.state.notes[3]) == 1  # on-failure, and it failed


def test_a_clean_environment_passes(tmp_path: Path, wheel: Path, gitlab: ForgeServer) -> None:
    run = run_job({"environment": str(CURRENT), "policy": str(EXAMPLE_POLICY), "advisory-db": str(EXAMPLE_ADVISORIES)},
                  tmp=tmp_path, wheel=wheel, server=gitlab)
    assert (run.code, run.allowed) == (0, False), run.log
    assert "Promotion Gate: pass" in run.log
    assert gitlab.state.writes() == []  # on-failure, and nothing to update
