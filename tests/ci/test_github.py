"""``gate ci github`` against an emulation of what the Actions runner does with a step: it reads
workflow commands from the log the way actions/runner does (``::cmd props::data`` at the start
of a line after trimming, the legacy ``##[cmd props]data`` anywhere, ``stop-commands``), and the
``$GITHUB_OUTPUT`` file the way its file command does (``name<<DELIMITER`` blocks)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gate.ci.github import SUMMARY_LIMIT, command_data, command_property, output_block, run_url, step_summary
from tests.ci.hostile import MARKDOWN_FORBIDDEN, make_hostile
from tests.conftest import ASSETS, REPO, Run
from tests.report.helpers import EXAMPLE_NOW, EXAMPLE_POLICY, check_example, in_repository

REGISTERED = {"set-env", "set-output", "save-state", "add-mask", "add-path", "add-matcher", "remove-matcher",
              "debug", "warning", "error", "notice", "group", "endgroup", "echo", "stop-commands"}


@dataclass
class Command:
    name: str
    properties: dict[str, str]
    data: str


def _unescape(text: str, mappings: list[tuple[str, str]]) -> str:
    for token, replacement in mappings:
        text = text.replace(replacement, token)
    return text


_DATA = [("\r", "%0D"), ("\n", "%0A"), ("%", "%25")]
_PROPERTY = [("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25")]
_LEGACY = [(";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D"), ("%", "%25")]


def parse_v2(line: str, registered: set[str]) -> Command | None:
    message = line.lstrip()
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name not in registered:
        return None
    properties = {}
    if space > 0:
        for pair in filter(None, info[space + 1:].strip().split(",")):
            parts = [part for part in pair.split("=", 1) if part]
            if len(parts) == 2:
                properties[parts[0]] = _unescape(parts[1], _PROPERTY)
    return Command(name, properties, _unescape(message[end + 2:], _DATA))


def parse_v1(line: str, registered: set[str]) -> Command | None:
    start = line.find("##[")
    if start < 0:
        return None
    end = line.find("]", start)
    if end < 0:
        return None
    info = line[start + 3:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name not in registered:
        return None
    properties = {}
    if space > 0:
        for pair in filter(None, info[space + 1:].split(";")):
            parts = [part for part in pair.split("=", 1) if part]
            if len(parts) == 2:
                properties[parts[0]] = _unescape(parts[1], _LEGACY)
    return Command(name, properties, _unescape(line[end + 1:], _LEGACY))


@dataclass
class RunnerLog:
    """The runner's command processing for one step's log."""

    registered: set[str] = field(default_factory=lambda: set(REGISTERED))
    stop_token: str | None = None
    commands: list[Command] = field(default_factory=list)
    stops: int = 0

    def feed(self, text: str) -> RunnerLog:
        for line in text.splitlines():
            command = parse_v2(line, self.registered) or parse_v1(line, self.registered)
            if command is None:
                continue
            if self.stop_token is not None:
                if command.name.lower() == self.stop_token.lower():
                    self.registered.discard(self.stop_token)
                    self.stop_token = None
                continue
            if command.name == "stop-commands":
                self.stop_token = command.data
                self.registered.add(command.data)
                self.stops += 1
                continue
            self.commands.append(command)
        return self


def read_outputs(path: Path) -> dict[str, str]:
    """The runner's reading of $GITHUB_OUTPUT."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if heredoc >= 0 and (equals < 0 or heredoc < equals):
            name, delimiter = line[:heredoc], line[heredoc + 2:]
            value: list[str] = []
            while lines[index] != delimiter:
                value.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(value)
        else:
            values[line[:equals]] = line[equals + 1:]
    return values


@dataclass
class Step:
    summary: Path
    outputs: Path


@pytest.fixture
def step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Step:
    in_repository(monkeypatch)
    runner = tmp_path / "runner"
    runner.mkdir()
    paths = Step(summary=runner / "step_summary", outputs=runner / "output")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(paths.summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(paths.outputs))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(REPO))
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/models")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    return paths


def test_blocked_example_summary_outputs_and_annotations(gate: Callable[..., Run], example_db: Path, tmp_path: Path,
                                                         step: Step) -> None:
    out = tmp_path / "out"
    check_example(gate, out, example_db)
    run = gate("ci", "github", "--out", out)
    assert run.code == 0, run.err
    assert run.err == ""
    assert step.summary.read_text(encoding="utf-8") == (out / "report.md").read_text(encoding="utf-8")
    assert read_outputs(step.outputs) == {
        "decision": "fail", "blocking": "15", "waived": "1", "warnings": "2", "findings": "12", "violations": "6",
        "report": str(out / "report.md"), "result": str(out / "result.json"), "sbom": str(out / "sbom.cdx.json"),
        "record": str(out / "record.dsse.json"), "sarif": str(out / "results.sarif"),
    }
    log = RunnerLog().feed(run.out)
    assert log.stops == 1 and log.stop_token is None  # the listing was fenced, and processing resumed
    kinds = [command.name for command in log.commands]
    assert kinds == ["error"] * 10 + ["warning"] * 2 + ["notice"]
    first = log.commands[0]
    assert first.properties == {
        "file": "tests/assets/venvs/old-ml/lib/python3.11/site-packages/PyYAML-5.3.dist-info/METADATA",
        "title": "GHSA-6757-jp84-gxfx (critical): pyyaml 5.3"}
    assert first.data == "PyYAML full_load can run arbitrary code through python/object/new. Fix: upgrade to 5.3.1."
    assert [command.properties["title"].split(" ")[0] for command in log.commands[:6]] == [
        "GHSA-6757-jp84-gxfx", "GHSA-8q59-q68h-6hv4", "GHSA-462w-v97r-4m45", "GHSA-x84v-xcm2-53pg",
        "GHSA-mh33-7rrq-662w", "GHSA-v845-jxx5-vc9f"]  # critical first, then high, by package
    assert log.commands[-1].data == ("5 more blocking item(s) and 0 more warning(s) are not annotated (at most 10 "
                                     "of each): the job summary and report.md in the artifact promotion-gate list "
                                     "them all")
    # every blocking item and warning is in the (fenced) plain listing
    assert run.out.count("\n  blocking  ") == 15 and run.out.count("\n  warning   ") == 2


def test_annotations_point_at_lockfile_lines(gate: Callable[..., Run], example_db: Path, tmp_path: Path,
                                             step: Step, monkeypatch: pytest.MonkeyPatch) -> None:
    lockfile = tmp_path / "repo" / "requirements.txt"
    lockfile.parent.mkdir()
    lockfile.write_text("# pinned\nrequests==2.19.1\nurllib3==1.24.1\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(lockfile.parent))
    monkeypatch.chdir(lockfile.parent)
    policy = tmp_path / "policy.yml"
    policy.write_text("vulnerabilities: {block_at: high}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert gate("check", "--lockfile", "requirements.txt", "--policy", policy, "--db", example_db, "--out", out,
                "--now", EXAMPLE_NOW).code == 1
    run = gate("ci", "github", "--out", out, "--max-annotations", "2")
    log = RunnerLog().feed(run.out)
    errors = [command for command in log.commands if command.name == "error"]
    assert [(command.properties["file"], command.properties["line"], command.properties["title"])
            for command in errors] == [
        ("requirements.txt", "2", "GHSA-x84v-xcm2-53pg (high): requests 2.19.1"),
        ("requirements.txt", "3", "GHSA-mh33-7rrq-662w (high): urllib3 1.24.1")]
    assert [command.name for command in log.commands] == ["error", "error", "warning", "warning", "notice"]
    assert log.commands[-1].data.startswith("1 more blocking item(s) and 2 more warning(s) are not annotated (at "
                                            "most 2 of each)")


def test_hostile_strings_stay_inert(gate: Callable[..., Run], tmp_path: Path, step: Step) -> None:
    hostile = make_hostile(tmp_path / "hostile")
    db = tmp_path / "db.sqlite3"
    assert gate("db", "import", hostile.advisories, "--db", db).code == 0
    out = tmp_path / "out"
    assert gate("check", "--env", hostile.env, "--policy", hostile.policy, "--db", db, "--out", out,
                "--now", EXAMPLE_NOW).code == 1
    run = gate("ci", "github", "--out", out)
    assert run.code == 0, run.err
    log = RunnerLog().feed(run.out)
    # nothing but our own annotations was processed: no output set, no value masked, no forged error
    assert [command.name for command in log.commands] == ["error", "error"]
    for command in log.commands:
        assert "\n" not in command.data and "\r" not in command.data
        assert set(command.properties) <= {"file", "line", "title"}
    advisory = next(command for command in log.commands if command.properties["title"].startswith("GHSA-"))
    assert advisory.properties["title"] == \
        "GHSA-hhhh-hhhh-hhhh (critical): evil::set-output name=x::y@org/team<script>| 1.0"
    # as text: one line, and a visible prefix where it began with "::"
    assert advisory.data.startswith("> ::set-output name=pwned::1 ::add-mask::ghp_secret @org/team")
    assert "# #[warning]legacy" in advisory.data
    assert read_outputs(step.outputs)["decision"] == "fail"
    assert set(read_outputs(step.outputs)) == {"decision", "blocking", "waived", "warnings", "findings",
                                               "violations", "report", "result", "sbom", "record", "sarif"}
    summary = step.summary.read_text(encoding="utf-8")
    for unsafe in MARKDOWN_FORBIDDEN:
        assert unsafe not in summary, unsafe


def test_an_oversized_report_is_shortened_and_links_the_run(gate: Callable[..., Run], example_db: Path,
                                                            tmp_path: Path, step: Step) -> None:
    out = tmp_path / "out"
    check_example(gate, out, example_db)
    earlier = "x" * (SUMMARY_LIMIT - 1500) + "\n"  # another step of the job already wrote most of the budget
    step.summary.write_text(earlier, encoding="utf-8")
    assert gate("ci", "github", "--out", out).code == 0
    added = step.summary.read_bytes()[len(earlier):].decode("utf-8")
    assert len(added.encode("utf-8")) <= 1500 - 1
    assert added.startswith("## ❌ Promotion Gate: blocked from production\n")
    assert "Shortened" in added and "(https://github.com/acme/models/actions/runs/4242)" in added
    assert "| pyyaml | 5.3 |" in added  # blocking rows come first
    report = (out / "report.md").read_text(encoding="utf-8")
    assert step_summary(report, budget=10**6, url=None) == report


def test_no_verdict_says_so(gate: Callable[..., Run], tmp_path: Path, step: Step) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "result.json").write_text("{}", encoding="utf-8")  # left from some earlier run: not read
    run = gate("ci", "github", "--out", out, "--exit-code", "4")
    assert run.code == 0, run.err
    assert read_outputs(step.outputs) == {"decision": "none", **{key: "" for key in (
        "blocking", "waived", "warnings", "findings", "violations", "report", "result", "sbom", "record", "sarif")}}
    assert step.summary.read_text(encoding="utf-8").startswith("## ⚠️ Promotion Gate: no verdict")
    (error,) = RunnerLog().feed(run.out).commands
    assert error.name == "error" and error.properties == {"title": "Promotion Gate: no verdict"}
    assert error.data.startswith("gate check stopped with exit code 4 (advisory data unusable")


def test_outside_a_runner_the_files_are_skipped_with_a_note(gate: Callable[..., Run], example_db: Path,
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_repository(monkeypatch)
    out = tmp_path / "out"
    check_example(gate, out, example_db)
    run = gate("ci", "github", "--out", out)
    assert run.code == 0
    assert run.err == ("gate: note: GITHUB_STEP_SUMMARY is not set (not in a GitHub Actions step?): no job summary "
                       "written\ngate: note: GITHUB_OUTPUT is not set (not in a GitHub Actions step?): no step "
                       "outputs written\n")
    assert len(RunnerLog().feed(run.out).commands) == 13


@pytest.mark.parametrize(("content", "message"), [
    (None, "result.json: missing: run gate check --out with this directory first"),
    ("{not json", "result.json:1: not valid JSON (Expecting property name enclosed in double quotes)"),
    # found by benchmarks/fuzz_inputs.py: json's int() raised a bare ValueError (exit 70)
    ('{"schema_version": ' + "1" * 5000 + "}", "result.json:1: not valid JSON (a number of more than 4300 digits)"),
    ("[]", "result.json: not a result.json written by gate check (not a JSON object)"),
    ('{"schema_version": 2}', "result.json: schema_version: 2 is newer than this gate reads (1): use the gate that "
                              "wrote it"),
    ('{"schema_version": 1}', "result.json: 'decision' is missing"),
])
def test_an_unusable_result_json_is_exit_3(gate: Callable[..., Run], tmp_path: Path, step: Step,
                                           content: str | None, message: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if content is not None:
        (out / "result.json").write_text(content, encoding="utf-8")
    run = gate("ci", "github", "--out", out)
    assert run.code == 3
    assert run.err == f"gate: error: {out}/{message}\n"
    assert not step.summary.exists() and not step.outputs.exists()  # nothing half-done


def test_a_wrong_field_is_named_by_its_key_path(gate: Callable[..., Run], example_db: Path, tmp_path: Path,
                                                step: Step) -> None:
    out = tmp_path / "out"
    check_example(gate, out, example_db)
    document = json.loads((out / "result.json").read_text(encoding="utf-8"))
    document["findings"][3]["severity"] = "severe"
    (out / "result.json").write_text(json.dumps(document), encoding="utf-8")
    run = gate("ci", "github", "--out", out)
    assert run.code == 3
    assert run.err == (f"gate: error: {out}/result.json: findings[3].severity: not one of ['malicious', 'critical', "
                       "'high', 'medium', 'low', 'unknown']\n")
    document["findings"][3]["severity"] = "high"
    (out / "result.json").write_text(json.dumps(document), encoding="utf-8")
    run = gate("ci", "github", "--out", out, "--exit-code", "0")
    assert run.code == 3
    assert run.err == (f"gate: error: {out}/result.json: decision: says 'fail' but gate check exited 0: an output "
                       "folder left from an earlier run?\n")
    (out / "report.md").unlink()
    run = gate("ci", "github", "--out", out)
    assert run.err == f"gate: error: {out}/report.md: missing: run gate check --out with this directory first\n"


def test_workflow_command_escaping() -> None:
    assert command_data("100%\r\nnext ##[add-mask]x") == "100%25 next # #[add-mask]x"
    assert command_property("a:b,c%") == "a%3Ab%2Cc%25"
    assert command_data("::set-output name=x::y") == "> ::set-output name=x::y"


def test_output_delimiters_are_random_and_never_in_the_value() -> None:
    tokens = iter(["AAAA", "BBBB", "CCCC"])
    text = output_block({"report": "/x/gate_AAAA/report.md", "decision": "fail"}, token=lambda: next(tokens))
    assert text == "report<<gate_BBBB\n/x/gate_AAAA/report.md\ngate_BBBB\ndecision<<gate_CCCC\nfail\ngate_CCCC\n"


def test_run_url_only_from_well_formed_variables() -> None:
    good = {"GITHUB_SERVER_URL": "https://ghe.example.com/", "GITHUB_REPOSITORY": "a/b", "GITHUB_RUN_ID": "9"}
    assert run_url(good) == "https://ghe.example.com/a/b/actions/runs/9"
    assert run_url({**good, "GITHUB_REPOSITORY": "a/b) [x](javascript:1"}) is None
    assert run_url({**good, "GITHUB_RUN_ID": ""}) is None


def test_clean_example_passes_with_warnings_only(gate: Callable[..., Run], example_db: Path, tmp_path: Path,
                                                 step: Step) -> None:
    out = tmp_path / "out"
    assert gate("check", "--env", (ASSETS / "venvs" / "current").relative_to(REPO), "--policy",
                EXAMPLE_POLICY.relative_to(REPO), "--db", example_db, "--out", out, "--now", EXAMPLE_NOW).code == 0
    run = gate("ci", "github", "--out", out)
    assert run.code == 0
    outputs = read_outputs(step.outputs)
    assert (outputs["decision"], outputs["blocking"], outputs["warnings"]) == ("pass", "0", "3")
    log = RunnerLog().feed(run.out)
    assert [command.name for command in log.commands] == ["warning"] * 3
    unused = next(command for command in log.commands if command.properties["title"] == "vulnerabilities.waivers")
    assert unused.properties["file"] == "tests/assets/example/policy.yml"  # the waiver lives in the policy
    assert step.summary.read_text(encoding="utf-8").startswith("## ✅ Promotion Gate: pass for production")
