"""Shared by the SARIF, GitLab and CI tests: run a real check into a folder, load the outputs,
and the published schemas from ../shared/schemas (skipped when absent)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ASSETS, REPO, SHARED, Run

SCHEMAS = SHARED / "schemas"
SARIF_SCHEMA = SCHEMAS / "sarif-schema-2.1.0.json"
GITLAB_SCHEMA = SCHEMAS / "gitlab-dependency-scanning-report-format-15.1.5.json"
OLD_ML = ASSETS / "venvs" / "old-ml"
EXAMPLE_POLICY = ASSETS / "example" / "policy.yml"
VULNERABILITIES_POLICY = ASSETS / "policies" / "vulnerabilities.yml"
LXMERT = SHARED / "corpus" / "requirements-pinned" / \
    "huggingface__transformers-research-projects__lxmert__requirements.txt"
EXAMPLE_NOW = "2026-11-26T00:00:00Z"


def in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the checkout, outside any CI: paths in the outputs are then repository-relative."""
    monkeypatch.chdir(REPO)
    for name in ("GITHUB_WORKSPACE", "CI_PROJECT_DIR", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        monkeypatch.delenv(name, raising=False)


def check_example(gate: Callable[..., Run], out: Path, db: Path) -> Run:
    """The README's example: the old-ml virtualenv against the example policy (exit 1)."""
    run = gate("check", "--env", OLD_ML.relative_to(REPO), "--policy", EXAMPLE_POLICY.relative_to(REPO),
               "--db", db, "--out", out, "--now", EXAMPLE_NOW)
    assert run.code == 1, run.err
    return run


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def validator(schema_path: Path) -> Any:
    if not schema_path.is_file():
        pytest.skip("../shared/schemas is absent")
    import jsonschema

    schema = load(schema_path)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def assert_valid(schema_path: Path, document: Any, *, main: bool = True) -> None:
    """Validate against a published schema. Without ../shared, a test whose point is the schema
    skips; one that only validates along the way (``main=False``) goes on with its own checks."""
    if not main and not schema_path.is_file():
        return
    errors = sorted(validator(schema_path).iter_errors(document), key=lambda error: list(error.absolute_path))
    assert not errors, [f"{list(error.absolute_path)}: {error.message}" for error in errors[:5]]
