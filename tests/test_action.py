"""action.yml run as the Actions runner runs a composite action: each ``run:`` step in bash with
its ``env:`` (expressions evaluated by a small evaluator of the GitHub expression language),
``$GITHUB_OUTPUT``/``$GITHUB_STEP_SUMMARY``/``$GITHUB_ENV`` as files, ``if:`` conditions with the
status functions, and the log read for workflow commands the way the runner reads it. The
``uses:`` steps are emulated: setup-python gives this interpreter, the cache always misses (and
a save is recorded), upload-artifact checks that the files exist.

The gate is the one of this checkout (``GATE_ACTION_GATE``), except in the test that runs the
install step itself: a fresh virtualenv and ``pip install`` of the checkout, offline."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci.forge_server import GITHUB_TOKEN, ForgeServer
from tests.ci.hostile import HOSTILE_NAME, make_hostile
from tests.ci.test_github import Command, RunnerLog, read_outputs
from tests.conftest import ASSETS, REPO
from tests.loopback import Loopback, StaticFiles

ACTION = REPO / "action.yml"
GATE = Path(sys.executable).with_name("gate")
OLD_ML = ASSETS / "venvs" / "old-ml"
CURRENT = ASSETS / "venvs" / "current"
EXAMPLE_POLICY = ASSETS / "example" / "policy.yml"
EXAMPLE_ADVISORIES = ASSETS / "example" / "advisories"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


# --- the expression language (the subset action.yml uses) -----------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\)|,)|(?P<num>\d+(?:\.\d+)?)"
                    r"|(?P<name>[A-Za-z_][\w-]*(?:\.[A-Za-z_*][\w-]*)*))")


class Expression:
    """``${{ }}`` expressions: literals, context paths, ``==``/``!=`` (case-insensitive on
    strings, null as ''), ``!``, ``&&``/``||`` (returning an operand), and the status functions."""

    def __init__(self, contexts: dict[str, Any], *, failed: bool) -> None:
        self.contexts = contexts
        self.failed = failed

    def evaluate(self, text: str) -> Any:
        self.tokens = self._tokens(text)
        self.position = 0
        value = self._or()
        assert self.position == len(self.tokens), f"unparsed: {text}"
        return value

    def _tokens(self, text: str) -> list[tuple[str, str]]:
        tokens, position = [], 0
        while position < len(text.rstrip()):
            match = _TOKEN.match(text, position)
            assert match, f"cannot tokenise {text[position:]!r}"
            kind = match.lastgroup
            assert kind is not None
            tokens.append((kind, match.group(kind)))
            position = match.end()
        return tokens

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == ("op", "||"):
            self._take()
            right = self._and()
            value = value if truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._compare()
        while self._peek() == ("op", "&&"):
            self._take()
            right = self._compare()
            value = right if truthy(value) else value
        return value

    def _compare(self) -> Any:
        value = self._unary()
        while self._peek() in (("op", "=="), ("op", "!=")):
            operator = self._take()[1]
            right = self._unary()
            equal = str(value if value is not None else "").lower() == str(right if right is not None else "").lower()
            value = equal if operator == "==" else not equal
        return value

    def _unary(self) -> Any:
        if self._peek() == ("op", "!"):
            self._take()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if kind == "op" and text == "(":
            inner = self._or()
            assert self._take() == ("op", ")")
            return inner
        assert kind == "name", text
        if self._peek() == ("op", "("):
            self._take()
            assert self._take() == ("op", ")"), "no function here takes arguments"
            return {"always": True, "success": not self.failed, "failure": self.failed, "cancelled": False}[text]
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        value: Any = self.contexts
        for part in text.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value


def truthy(value: Any) -> bool:
    return value not in (None, False, "", 0)


def substitute(text: str, expression: Expression) -> str:
    def one(match: re.Match[str]) -> str:
        value = expression.evaluate(match.group(1))
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))


# --- the runner -------------------------------------------------------------------------


@dataclass
class StepRun:
    id: str | None
    name: str
    outcome: str  # success, failure, skipped
    log: str = ""


@dataclass
class JobRun:
    steps: list[StepRun]
    outputs: dict[str, str]
    summary: str
    commands: list[Command]
    uploads: list[dict[str, Any]] = field(default_factory=list)
    cache: list[tuple[str, str]] = field(default_factory=list)  # (restore|save, key)
    failed: bool = False

    def step(self, name: str) -> StepRun:
        return next(step for step in self.steps if step.id == name or step.name == name)

    @property
    def log(self) -> str:
        return "".join(step.log for step in self.steps)

    def annotations(self, kind: str) -> list[Command]:
        return [command for command in self.commands if command.name == kind]


def run_action(inputs: dict[str, str], *, tmp: Path, env: dict[str, str] | None = None,
               event: dict[str, Any] | None = None) -> JobRun:
    """Run action.yml's steps with ``inputs`` (the ``with:`` of the workflow step)."""
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    unknown = set(inputs) - set(action["inputs"])
    assert not unknown, f"not inputs of action.yml: {unknown}"
    workspace, runner_temp = tmp / "workspace", tmp / "runner-temp"
    workspace.mkdir(parents=True, exist_ok=True)
    runner_temp.mkdir(exist_ok=True)
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(event or {}), encoding="utf-8")
    base_env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp), "LANG": "C.UTF-8", "CI": "true", "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace), "GITHUB_REPOSITORY": "acme/app", "GITHUB_RUN_ID": "42",
        "GITHUB_SERVER_URL": "https://github.test", "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_WORKFLOW": "Gate", "GITHUB_JOB": "check", "GITHUB_ACTION_PATH": str(REPO),
        "RUNNER_TEMP": str(runner_temp), "RUNNER_OS": "Linux", **(env or {}),
    }
    given = {name: inputs.get(name) for name in action["inputs"]}
    contexts: dict[str, Any] = {
        "github": {"token": GITHUB_TOKEN, "action_path": str(REPO), "workspace": str(workspace)},
        "runner": {"temp": str(runner_temp), "os": "Linux"},
        "env": base_env, "steps": {}, "inputs": {},
    }
    for name, spec in action["inputs"].items():
        value = given[name]
        if value is None:
            value = substitute(spec.get("default", ""), Expression(contexts, failed=False))
        contexts["inputs"][name] = value
    job = JobRun(steps=[], outputs={}, summary="", commands=[])
    log = RunnerLog()
    for index, spec in enumerate(action["runs"]["steps"]):
        expression = Expression(contexts, failed=job.failed)
        condition = spec.get("if", "success()")
        if not re.search(r"\b(always|success|failure|cancelled)\(\)", condition):
            condition = f"success() && ({condition})"
        step = StepRun(id=spec.get("id"), name=spec.get("name", f"step {index}"), outcome="skipped")
        job.steps.append(step)
        outputs: dict[str, str] = {}
        if truthy(expression.evaluate(condition)):
            if "run" in spec:
                outputs = _run_step(spec, step, expression, base_env, tmp / f"step-{index}")
                job.summary += (tmp / f"step-{index}" / "summary").read_text(encoding="utf-8")
                env_file = tmp / f"step-{index}" / "env"
                base_env.update(read_outputs(env_file) if env_file.exists() else {})
            else:
                outputs = _uses(spec, step, expression, job)
            log.feed(step.log)
            if step.outcome == "failure":
                job.failed = True
        if step.id:
            contexts["steps"][step.id] = {"outputs": outputs, "outcome": step.outcome, "conclusion": step.outcome}
    expression = Expression(contexts, failed=job.failed)
    job.outputs = {name: substitute(spec["value"], expression) for name, spec in action["outputs"].items()}
    job.commands = log.commands
    return job


def _run_step(spec: dict[str, Any], step: StepRun, expression: Expression, base_env: dict[str, str],
              folder: Path) -> dict[str, str]:
    assert "${{" not in spec["run"], f"an expression inside run: in step {step.name!r}"
    assert spec.get("shell") == "bash", step.name
    folder.mkdir()
    files = {name: folder / name for name in ("output", "summary", "env", "path")}
    for path in files.values():
        path.touch()
    script = folder / "script.sh"
    script.write_text(spec["run"], encoding="utf-8")
    env = {**base_env, **{name: substitute(value, expression) for name, value in spec.get("env", {}).items()},
           "GITHUB_OUTPUT": str(files["output"]), "GITHUB_STEP_SUMMARY": str(files["summary"]),
           "GITHUB_ENV": str(files["env"]), "GITHUB_PATH": str(files["path"])}
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], env=env,
                          cwd=base_env["GITHUB_WORKSPACE"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=600, check=False)
    step.log = done.stdout
    step.outcome = "success" if done.returncode == 0 else "failure"
    return read_outputs(files["output"])


def _uses(spec: dict[str, Any], step: StepRun, expression: Expression, job: JobRun) -> dict[str, str]:
    uses, _, _ = spec["uses"].partition("@")
    given = {name: substitute(value, expression) for name, value in spec.get("with", {}).items()}
    step.outcome = "success"
    if uses == "actions/setup-python":
        assert given["python-version"]
        return {"python-path": sys.executable, "python-version": f"{sys.version_info[0]}.{sys.version_info[1]}"}
    if uses == "actions/cache/restore":
        job.cache.append(("restore", given["key"]))
        return {}  # a miss: cache-hit is not set
    if uses == "actions/cache/save":
        assert Path(given["path"]).is_dir()
        job.cache.append(("save", given["key"]))
        return {}
    if uses == "actions/upload-artifact":
        path = Path(job_workspace(expression)) / given["path"]
        files = sorted(p.name for p in path.iterdir()) if path.is_dir() else []
        job.uploads.append({"name": given["name"], "files": files, "if-no-files-found": given["if-no-files-found"]})
        return {"artifact-id": "1"}
    raise AssertionError(f"no emulation for {uses}")


def job_workspace(expression: Expression) -> str:
    return str(expression.contexts["github"]["workspace"])


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def forge() -> Iterator[ForgeServer]:
    with ForgeServer() as server:
        yield server


def on_pr(forge: ForgeServer, **extra: str) -> dict[str, str]:
    return {"GITHUB_API_URL": forge.url, "GATE_ACTION_GATE": str(GATE), **extra}


PR_EVENT = {"action": "synchronize", "pull_request": {"number": 7}}
EXAMPLE = {"policy": str(EXAMPLE_POLICY), "advisory-db": str(EXAMPLE_ADVISORIES)}


# --- the action file itself ------------------------------------------------------------------


def test_no_expression_inside_any_run_script() -> None:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    scripts = [step["run"] for step in action["runs"]["steps"] if "run" in step]
    assert scripts and all("${{" not in script for script in scripts)


def test_third_party_actions_are_pinned_by_commit_with_a_version_comment() -> None:
    lines = [line.strip() for line in ACTION.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert len(lines) == 4  # setup-python, cache restore and save, upload-artifact
    for line in lines:
        reference, _, comment = line.removeprefix("uses:").strip().partition(" # ")
        assert PINNED.match(reference), line
        assert re.fullmatch(r"v\d+(\.\d+)*", comment), line


def test_every_input_is_used_and_reaches_scripts_only_through_env() -> None:
    text = ACTION.read_text(encoding="utf-8")
    action = yaml.safe_load(text)
    steps = action["runs"]["steps"]
    for name in action["inputs"]:
        used = [step for step in steps if f"inputs.{name} }}" in json.dumps(step)]
        assert used, f"input {name} is never used"
    for step in steps:
        for value in step.get("env", {}).values():
            assert re.fullmatch(r"\$\{\{ [\w.-]+ \}\}", value), value  # a plain reference, nothing computed


# --- runs ----------------------------------------------------------------------------------


def test_blocked_example_fails_the_job_with_summary_outputs_annotations_comment_and_artifact(
        forge: ForgeServer, tmp_path: Path) -> None:
    job = run_action({"environment": str(OLD_ML), **EXAMPLE, "comment": "always"}, tmp=tmp_path,
                     env=on_pr(forge), event=PR_EVENT)
    assert job.failed
    assert [(s.name, s.outcome) for s in job.steps] == [
        ("Python for the gate", "skipped"), ("Install the gate (its own virtualenv)", "success"),
        ("Where the advisory data comes from", "success"), ("Restore today's advisory database", "skipped"),
        ("Fetch the advisory database", "success"), ("Save today's advisory database", "skipped"),
        ("Check", "success"), ("Job summary, outputs and annotations", "success"),
        ("Pull request comment", "success"), ("Upload the report, result, SBOM and record", "success"),
        ("Verdict", "failure")]
    out = tmp_path / "workspace" / "promotion-gate"
    assert job.outputs == {
        "decision": "fail", "exit-code": "1", "blocking": "15", "waived": "1", "warnings": "2", "findings": "12",
        "violations": "6", "report": str(out / "report.md"), "result": str(out / "result.json"),
        "sbom": str(out / "sbom.cdx.json"), "record": str(out / "record.dsse.json"),
        "sarif": str(out / "results.sarif"), "gate": str(GATE),
        "advisory-db": str(tmp_path / "runner-temp" / "promotion-gate-db" / "advisories.sqlite3")}
    report = (out / "report.md").read_text(encoding="utf-8")
    assert job.summary == report
    errors = job.annotations("error")
    assert len(errors) == 11  # 10 blocking items, then the verdict
    assert errors[-1].properties == {"title": "Promotion Gate"}
    assert errors[-1].data == "blocked by policy (the job summary and report.md say why)"
    assert [c.name for c in job.commands].count("notice") == 1  # "5 more blocking items ..."
    # the check's own listing was fenced: nothing in it became a command
    assert "::stop-commands::" in job.step("check").log
    assert "gate: FAIL (production): 15 blocking" in job.step("check").log
    [comment] = forge.state.comments[7]
    assert comment["body"].startswith("<!-- promotion-gate:Gate/check -->\n## ❌ Promotion Gate: blocked")
    assert job.uploads == [{"name": "promotion-gate", "if-no-files-found": "warn", "files": [
        "environment.json", "gl-dependency-scanning-report.json", "record.dsse.json", "report.md", "result.json",
        "results.sarif", "sbom.cdx.json"]}]


def test_clean_example_passes_and_on_failure_posts_no_comment(forge: ForgeServer, tmp_path: Path) -> None:
    job = run_action({"environment": str(CURRENT), **EXAMPLE, "output-dir": "out/gate"}, tmp=tmp_path,
                     env=on_pr(forge), event=PR_EVENT)
    assert not job.failed, job.log
    assert (job.outputs["decision"], job.outputs["exit-code"], job.outputs["blocking"]) == ("pass", "0", "0")
    assert job.summary.startswith("## ✅ Promotion Gate: pass for production\n")
    assert job.annotations("error") == []
    assert "comment: skipped (the gate passed and there is no earlier comment to update; mode on-failure creates " \
        "none)" in \
        job.step("Pull request comment").log
    assert forge.state.writes() == []
    assert "Promotion Gate: pass" in job.step("Verdict").log
    assert (tmp_path / "workspace" / "out" / "gate" / "result.json").is_file()


def test_a_fixed_pull_request_updates_the_stale_failure(forge: ForgeServer, tmp_path: Path) -> None:
    run_action({"environment": str(OLD_ML), **EXAMPLE}, tmp=tmp_path / "1", env=on_pr(forge), event=PR_EVENT)
    job = run_action({"environment": str(CURRENT), **EXAMPLE}, tmp=tmp_path / "2", env=on_pr(forge), event=PR_EVENT)
    assert not job.failed
    [comment] = forge.state.comments[7]
    assert "## ✅ Promotion Gate: pass" in comment["body"]


def test_warn_only_lets_a_block_through_with_a_warning(forge: ForgeServer, tmp_path: Path) -> None:
    job = run_action({"environment": str(OLD_ML), **EXAMPLE, "warn-only": "true", "comment": "never"},
                     tmp=tmp_path, env=on_pr(forge), event=PR_EVENT)
    assert not job.failed
    assert job.outputs["decision"] == "fail"
    assert job.annotations("warning")[-1].data == "blocked by policy; warn-only is set, so the job goes on"
    assert forge.state.seen == []


def test_no_verdict_fails_even_with_warn_only(forge: ForgeServer, tmp_path: Path) -> None:
    job = run_action({"environment": str(OLD_ML), "policy": str(tmp_path / "missing.yml"),
                      "advisory-db": str(EXAMPLE_ADVISORIES), "warn-only": "true", "comment": "always"},
                     tmp=tmp_path, env=on_pr(forge), event=PR_EVENT)
    assert job.failed
    assert (job.outputs["exit-code"], job.outputs["decision"]) == ("3", "none")
    assert job.step("Verdict").outcome == "failure"
    assert job.annotations("error")[-1].data == ("no verdict (gate check exit 3): this is never a pass, warn-only "
                                                 "or not")
    assert job.summary.startswith("## ⚠️ Promotion Gate: no verdict")
    [comment] = forge.state.comments[7]
    assert "## ⚠️ Promotion Gate: no verdict" in comment["body"]


def test_an_advisory_download_that_fails_is_no_verdict(forge: ForgeServer, tmp_path: Path) -> None:
    job = run_action({"environment": str(CURRENT), **EXAMPLE, "advisory-db": "http://127.0.0.1:9/all.zip",
                      "comment": "never"}, tmp=tmp_path, env=on_pr(forge), event=PR_EVENT)
    assert job.failed
    assert job.outputs["exit-code"] == "6"
    assert "gate: error: http://127.0.0.1:9/all.zip: cannot connect" in job.step("fetch").log
    assert [kind for kind, _ in job.cache] == ["restore"]  # nothing saved


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[str]:
    """An OSV mirror on loopback serving the example advisories as all.zip."""
    root = tmp_path / "mirror"
    root.mkdir()
    with zipfile.ZipFile(root / "all.zip", "w") as archive:
        for path in sorted(EXAMPLE_ADVISORIES.iterdir()):
            archive.write(path, path.name)
    with Loopback(StaticFiles, root) as server:
        yield f"{server.url}/all.zip"


def test_a_downloaded_database_is_cached_for_the_day(forge: ForgeServer, mirror: str, tmp_path: Path) -> None:
    job = run_action({"lockfiles": f"\n  {ASSETS / 'lockfiles' / 'requirements' / 'requirements.txt'}  \n\n",
                      "policy": str(EXAMPLE_POLICY), "advisory-db": mirror, "comment": "never"},
                     tmp=tmp_path, env=on_pr(forge), event=PR_EVENT)
    assert job.outputs["exit-code"] in ("0", "1"), job.log
    [(restore, key), (save, saved)] = job.cache
    assert (restore, save) == ("restore", "save") and key == saved
    assert re.fullmatch(r"promotion-gate-advisories-v2-\d+-\d{4}-\d{2}-\d{2}", key)
    result = json.loads((tmp_path / "workspace" / "promotion-gate" / "result.json").read_text(encoding="utf-8"))
    assert result["environment"]["kind"] == "requirements"
    assert result["advisory_db"]["source"] == mirror


def test_hostile_package_and_advisory_text_is_inert_in_the_log(forge: ForgeServer, tmp_path: Path) -> None:
    hostile = make_hostile(tmp_path / "hostile")
    job = run_action({"environment": str(hostile.env), "policy": str(hostile.policy),
                      "advisory-db": str(hostile.advisories), "comment": "always"},
                     tmp=tmp_path, env=on_pr(forge), event=PR_EVENT)
    assert job.failed and job.outputs["decision"] == "fail"
    assert HOSTILE_NAME in job.step("check").log  # printed, but fenced
    names = {command.name for command in job.commands}
    assert names <= {"error", "warning", "notice"}, names  # no set-output, add-mask, stop-commands left open
    for command in job.commands:
        assert "pwned" not in command.properties
        assert "\n" not in command.data.replace("%0A", "")
    assert job.outputs["blocking"] == "2"
    assert "<script>" not in forge.state.comments[7][0]["body"]


def test_the_install_step_builds_the_gate_into_its_own_virtualenv(tmp_path: Path) -> None:
    """The one run that installs: ``pip install`` of this checkout into a venv in RUNNER_TEMP. Offline:
    no index, no build isolation, and the checkout's dependencies (and build backend) taken from this
    test's environment through PYTHONPATH."""
    pytest.importorskip("hatchling")
    site = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    env = {"PYTHONPATH": str(site), "PIP_NO_INDEX": "1", "PIP_NO_DEPS": "1",
           # pip reads its --no-* options inverted from the environment: 0 turns build isolation off
           "PIP_NO_BUILD_ISOLATION": "0"}
    job = run_action({"environment": str(CURRENT), **EXAMPLE, "comment": "never"}, tmp=tmp_path, env=env)
    assert not job.failed, job.log
    installed = tmp_path / "runner-temp" / "promotion-gate-venv" / "bin" / "gate"
    assert installed.is_file()
    assert "gate, version " in job.step("install").log
    assert job.outputs["decision"] == "pass"
    shutil.rmtree(tmp_path / "runner-temp" / "promotion-gate-venv")
