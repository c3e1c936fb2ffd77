"""action.yml, the GitHub example workflows, the GitLab component and the GitLab examples validate
against the schemas check-jsonschema ships (SchemaStore's, vendored in the package), run offline:
the schemas are built in, the cache is off, and any attempt at the network would meet a dead
proxy. A broken copy of each file must fail, so the validation is known to bite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytest.importorskip("check_jsonschema")

ACTION = REPO / "action.yml"
COMPONENT = REPO / "templates" / "gate.yml"
GITHUB_EXAMPLES = sorted((REPO / "examples" / "github").glob("*.yml"))
GITLAB_EXAMPLES = sorted((REPO / "examples" / "gitlab").glob("*.yml"))


def check(schema: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    dead = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead,
           "NO_PROXY": "", "no_proxy": ""}
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--no-cache", "--builtin-schema", schema,
                           *map(str, paths)], env=env, capture_output=True, text=True, timeout=120, check=False)


def component_documents(tmp_path: Path, text: str | None = None) -> list[Path]:
    """The component's two YAML documents (the spec header, then the job) as separate files:
    the schema describes one document, and GitLab reads the header and the job separately."""
    header, job = (text or COMPONENT.read_text(encoding="utf-8")).split("\n---\n")
    paths = [tmp_path / "spec.yml", tmp_path / "job.yml"]
    for path, part in zip(paths, (header, job), strict=True):
        path.write_text(part, encoding="utf-8")
    return paths


def test_there_are_examples_for_both_forges() -> None:
    assert [p.name for p in GITHUB_EXAMPLES] == ["fork-pr-comment.yml", "fork-pr-gate.yml", "nightly-monitor.yml",
                                                 "nightly.yml", "pr-gate.yml", "promote-production.yml"]
    assert [p.name for p in GITLAB_EXAMPLES] == ["mr-gate.yml", "nightly-monitor.yml", "nightly.yml",
                                                 "promote-production.yml"]


def test_action_validates() -> None:
    done = check("vendor.github-actions", ACTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


def test_github_examples_validate() -> None:
    done = check("vendor.github-workflows", *GITHUB_EXAMPLES)
    assert done.returncode == 0, done.stdout + done.stderr


def test_gitlab_component_validates(tmp_path: Path) -> None:
    done = check("vendor.gitlab-ci", *component_documents(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_gitlab_examples_validate() -> None:
    done = check("vendor.gitlab-ci", *GITLAB_EXAMPLES)
    assert done.returncode == 0, done.stdout + done.stderr


def _fails(done: subprocess.CompletedProcess[str], where: str) -> None:
    assert done.returncode == 1
    assert "Schema validation errors were encountered." in done.stdout
    assert where in done.stdout, done.stdout


def test_broken_copies_fail(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    action.write_text(ACTION.read_text(encoding="utf-8").replace("using: composite", "using: compost"),
                      encoding="utf-8")
    _fails(check("vendor.github-actions", action), "$.runs")
    workflow = tmp_path / "workflow.yml"
    pr_gate = REPO / "examples" / "github" / "pr-gate.yml"
    workflow.write_text(pr_gate.read_text(encoding="utf-8").replace("runs-on:", "run-on:"),
                        encoding="utf-8")
    _fails(check("vendor.github-workflows", workflow), "$.jobs.gate")
    text = COMPONENT.read_text(encoding="utf-8")
    broken = text.replace("when: always\n    expose_as", "when: sometimes\n    expose_as")
    _fails(check("vendor.gitlab-ci", *component_documents(tmp_path, broken)), "artifacts")
    header = text.replace("type: boolean", "type: yes-or-no", 1)
    _fails(check("vendor.gitlab-ci", *component_documents(tmp_path, header)), "$.spec.inputs['warn-only']")


def test_no_expression_inside_run_scripts_of_the_examples() -> None:
    """The examples keep the action's rule: untrusted values reach scripts through env only."""
    for path in GITHUB_EXAMPLES:
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), (path.name, step)


def test_third_party_actions_in_the_examples_are_pinned() -> None:
    for path in GITHUB_EXAMPLES:
        for line in path.read_text(encoding="utf-8").splitlines():
            reference = line.strip().removeprefix("- ").removeprefix("uses:").strip()
            if not line.strip().removeprefix("- ").startswith("uses:") or reference.startswith("your-org/"):
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*", reference), (path.name, line)
