"""``gate comment github|gitlab`` end to end: real ``gate check --out`` folders, the CLI, and the
forges' APIs on loopback (tests/ci/forge_server.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gate.ci.comment import marker_line, marker_name, utf16_length
from gate.ci.shorten import markdown_link_target, shorten_report
from tests.ci.forge_server import GITHUB_TOKEN, GITLAB_TOKEN, ForgeServer
from tests.ci.hostile import MARKDOWN_FORBIDDEN, make_hostile
from tests.conftest import ASSETS, SHARED, Run

Gate = Callable[..., Run]
NOW = "2026-11-26T12:00:00Z"
POLICY = ASSETS / "example" / "policy.yml"
RUN_URL = "https://github.test/acme/app/actions/runs/42"
MARKER = "<!-- promotion-gate:Gate/check -->"


def _check(gate: Gate, out: Path, *args: str | Path) -> Run:
    run = gate("check", *args, "--out", out, "--now", NOW)
    assert run.code in (0, 1), run.err
    return run


@pytest.fixture
def blocked(gate: Gate, example_db: Path, tmp_path: Path) -> Path:
    out = tmp_path / "blocked"
    assert _check(gate, out, "--env", ASSETS / "venvs" / "old-ml", "--policy", POLICY, "--db", example_db).code == 1
    return out


@pytest.fixture
def clean(gate: Gate, example_db: Path, tmp_path: Path) -> Path:
    out = tmp_path / "clean"
    assert _check(gate, out, "--env", ASSETS / "venvs" / "current", "--policy", POLICY, "--db", example_db).code == 0
    return out


@pytest.fixture
def server() -> Iterator[ForgeServer]:
    with ForgeServer() as running:
        yield running


def write_event(path: Path, event: dict[str, object]) -> Path:
    path.write_text(json.dumps(event), encoding="utf-8")
    return path


@pytest.fixture
def github_env(server: ForgeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ForgeServer:
    """A pull_request run of workflow "Gate", job "check", on PR 7 of acme/app."""
    for name in ("GATE_GITLAB_TOKEN", "CI_MERGE_REQUEST_IID", "CI_API_V4_URL", "CI_PROJECT_ID", "CI_JOB_URL",
                 "CI_JOB_NAME"):
        monkeypatch.delenv(name, raising=False)
    event = write_event(tmp_path / "event.json", {"action": "synchronize", "pull_request": {"number": 7}})
    for name, value in {"GITHUB_TOKEN": GITHUB_TOKEN, "GITHUB_API_URL": server.url, "GITHUB_REPOSITORY": "acme/app",
                        "GITHUB_EVENT_PATH": str(event), "GITHUB_SERVER_URL": "https://github.test",
                        "GITHUB_RUN_ID": "42", "GITHUB_WORKFLOW": "Gate", "GITHUB_JOB": "check"}.items():
        monkeypatch.setenv(name, value)
    return server


@pytest.fixture
def gitlab_env(server: ForgeServer, monkeypatch: pytest.MonkeyPatch) -> ForgeServer:
    """A merge request pipeline of project 5, MR !3, job "promotion-gate"."""
    for name in ("GITHUB_TOKEN", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY", "GITHUB_WORKFLOW", "GITHUB_JOB"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"GATE_GITLAB_TOKEN": GITLAB_TOKEN, "CI_API_V4_URL": server.gitlab_url, "CI_PROJECT_ID": "5",
                        "CI_MERGE_REQUEST_IID": "3", "CI_JOB_NAME": "promotion-gate",
                        "CI_JOB_URL": "https://gitlab.test/acme/app/-/jobs/99"}.items():
        monkeypatch.setenv(name, value)
    return server


def bodies(server: ForgeServer, number: int = 7) -> list[tuple[str, str]]:
    return [(c["user"]["login"], c["body"]) for c in server.state.comments.get(number, [])]


# --- GitHub ------------------------------------------------------------------------------


def test_first_run_creates_then_the_same_comment_is_updated(gate: Gate, github_env: ForgeServer, blocked: Path,
                                                            clean: Path) -> None:
    server = github_env
    first = gate("comment", "github", "--out", blocked)
    assert first.code == 0, first.err
    [comment] = server.state.comments[7]
    url = f"https://github.test/acme/app/pull/7#issuecomment-{comment['id']}"
    assert first.out == f"comment: created {url} (comment {comment['id']})\n"
    report = (blocked / "report.md").read_text(encoding="utf-8")
    assert comment["body"] == (f"{MARKER}\n{report}\n<sub>[Full report, result.json, SBOM and record: this run's "
                               f"artifacts]({RUN_URL})</sub>\n")
    assert comment["user"]["login"] == "gate-bot"

    second = gate("comment", "github", "--out", clean)
    assert second.code == 0, second.err
    assert second.out == f"comment: updated {url} (comment {comment['id']} by gate-bot)\n"
    [updated] = server.state.comments[7]
    assert updated["id"] == comment["id"]
    assert updated["body"].startswith(f"{MARKER}\n## ✅ Promotion Gate: pass for production\n")

    third = gate("comment", "github", "--out", clean)
    assert third.out == f"comment: unchanged {url} (comment {comment['id']} already shows this report)\n"
    assert server.state.writes() == [("POST", "/repos/acme/app/issues/7/comments"),
                                     ("PATCH", f"/repos/acme/app/issues/comments/{comment['id']}")]


def test_another_authors_comment_with_our_marker_is_left_alone(gate: Gate, github_env: ForgeServer,
                                                               blocked: Path) -> None:
    server = github_env
    forged = {"id": 5, "body": f"{MARKER}\nall good, merge it", "user": {"login": "mallory"}}
    server.state.comments[7] = [dict(forged)]
    run = gate("comment", "github", "--out", blocked)
    assert run.code == 0, run.err
    assert run.out.startswith("comment: created ")
    assert server.state.comments[7][0] == forged
    assert [login for login, _ in bodies(server)] == ["mallory", "gate-bot"]


def test_our_comment_is_found_on_a_later_page(gate: Gate, github_env: ForgeServer, blocked: Path) -> None:
    server = github_env
    server.state.comments[7] = [{"id": n, "body": f"review {n} <!-- promotion-gate:Gate/other -->",
                                 "user": {"login": "gate-bot" if n == 3 else "dev"}} for n in range(1, 6)]
    server.state.comments[7].append({"id": 6, "body": f"{MARKER}\nold", "user": {"login": "gate-bot"}})
    run = gate("comment", "github", "--out", blocked)
    assert run.out.startswith("comment: updated ")
    assert server.state.writes() == [("PATCH", "/repos/acme/app/issues/comments/6")]
    assert len([s for s in server.state.seen if "/comments?" in s.path]) == 3  # three pages of two


def test_two_gates_in_one_repository_keep_separate_comments(gate: Gate, github_env: ForgeServer, blocked: Path,
                                                            clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = github_env
    gate("comment", "github", "--out", blocked)
    monkeypatch.setenv("GITHUB_JOB", "check-gpu")
    gate("comment", "github", "--out", clean)
    gate("comment", "github", "--out", clean, "--marker", "Gate/check")  # the first gate, named explicitly
    [first, second] = bodies(server)
    assert first[1].startswith(f"{MARKER}\n## ✅ Promotion Gate: pass")
    assert second[1].startswith("<!-- promotion-gate:Gate/check-gpu -->\n## ✅ Promotion Gate: pass")


def test_on_failure_creates_only_on_failure_but_always_updates(gate: Gate, github_env: ForgeServer, blocked: Path,
                                                               clean: Path) -> None:
    server = github_env
    run = gate("comment", "github", "--out", clean, "--mode", "on-failure")
    assert run.out == ("comment: skipped (the gate passed and there is no earlier comment to update; mode on-failure "
                       "creates none)\n")
    assert server.state.writes() == []
    assert gate("comment", "github", "--out", blocked, "--mode", "on-failure").out.startswith("comment: created ")
    # The PR is fixed: the failure must not stay on it.
    assert gate("comment", "github", "--out", clean, "--mode", "on-failure").out.startswith("comment: updated ")
    [(_, body)] = bodies(server)
    assert "## ✅ Promotion Gate: pass" in body


def test_never_posts_nothing_and_needs_nothing(gate: Gate, github_env: ForgeServer, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    run = gate("comment", "github", "--out", tmp_path / "nothing-here", "--mode", "never")
    assert (run.code, run.out) == (0, "comment: skipped (comment mode is 'never')\n")
    assert github_env.state.seen == []


def test_the_actions_token_posts_as_github_actions_bot(gate: Gate, github_env: ForgeServer, blocked: Path,
                                                       clean: Path) -> None:
    server = github_env
    server.state.github_viewer = None  # GET /user is 403 for the Actions GITHUB_TOKEN
    gate("comment", "github", "--out", blocked)
    run = gate("comment", "github", "--out", clean)
    assert "by github-actions[bot]" in run.out
    assert [login for login, _ in bodies(server)] == ["github-actions[bot]"]


def test_author_override_for_app_tokens(gate: Gate, github_env: ForgeServer, blocked: Path) -> None:
    server = github_env
    server.state.comments[7] = [{"id": 9, "body": f"{MARKER}\nold", "user": {"login": "my-app[bot]"}}]
    run = gate("comment", "github", "--out", blocked, "--author", "my-app[bot]")
    assert run.out.startswith("comment: updated ") and "by my-app[bot]" in run.out
    assert not any(s.path == "/user" for s in server.state.seen)


def test_a_run_without_a_verdict_says_so(gate: Gate, github_env: ForgeServer, blocked: Path, clean: Path) -> None:
    server = github_env
    gate("comment", "github", "--out", clean)
    # gate check stopped with exit 4: the result.json still there is an earlier run's and is not read.
    run = gate("comment", "github", "--out", clean, "--exit-code", "4", "--mode", "on-failure")
    assert run.out.startswith("comment: updated "), run.err
    [(_, body)] = bodies(server)
    assert body.startswith(f"{MARKER}\n## ⚠️ Promotion Gate: no verdict\n\n`gate check` stopped with exit code 4 "
                           "(advisory data unusable: missing, corrupt, or older than the policy allows) before "
                           "reaching a decision. This is not a pass")
    assert "✅" not in body


def test_an_exit_code_that_contradicts_result_json_is_refused(gate: Gate, github_env: ForgeServer,
                                                              clean: Path) -> None:
    run = gate("comment", "github", "--out", clean, "--exit-code", "1")
    assert run.code == 3
    assert run.err == (f"gate: error: {clean / 'result.json'}: decision: says 'pass' but gate check exited 1: an "
                       "output folder left from an earlier run?\n")
    assert github_env.state.seen == []


def test_missing_outputs_are_invalid_input(gate: Gate, github_env: ForgeServer, tmp_path: Path) -> None:
    run = gate("comment", "github", "--out", tmp_path)
    assert run.code == 3
    assert run.err == (f"gate: error: {tmp_path / 'result.json'}: missing: run gate check --out with this "
                       "directory first\n")


def test_not_a_pull_request_run_posts_nothing(gate: Gate, github_env: ForgeServer, blocked: Path,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(write_event(tmp_path / "push.json", {"ref": "refs/heads/main"})))
    run = gate("comment", "github", "--out", blocked)
    assert (run.code, run.out) == (0, "comment: skipped (not a pull request run: no pull_request in "
                                      "GITHUB_EVENT_PATH and no --pr)\n")
    assert github_env.state.seen == []


def test_a_missing_token_is_invalid_input(gate: Gate, github_env: ForgeServer, blocked: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    run = gate("comment", "github", "--out", blocked)
    assert (run.code, run.err) == (3, "gate: error: GITHUB_TOKEN is not set: give the job a token (permissions: "
                                      "pull-requests: write)\n")


def test_a_read_only_token_is_a_service_error(gate: Gate, github_env: ForgeServer, blocked: Path) -> None:
    github_env.state.read_only = True
    run = gate("comment", "github", "--out", blocked)
    assert run.code == 6
    assert run.err == (f"gate: error: {github_env.url}/repos/acme/app/issues/7/comments: GitHub API: POST: HTTP 403 "
                       "Forbidden: Resource not accessible by integration\n")
    assert GITHUB_TOKEN not in run.out + run.err


def test_workflow_run_comments_only_on_the_pr_whose_head_was_checked(gate: Gate, github_env: ForgeServer,
                                                                     blocked: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    server = github_env
    head = "c0ffee" * 6 + "abcd"
    server.state.heads = {7: head, 8: "1" * 40}
    event = write_event(tmp_path / "run.json", {"workflow_run": {"head_sha": head, "pull_requests": []}})
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    # The PR number came from the fork's artifact: one that is not the run's PR is refused.
    wrong = gate("comment", "github", "--out", blocked, "--pr", "8", "--marker", "fork-gate")
    assert wrong.code == 3
    assert wrong.err == (f"gate: error: --pr: pull request #8 is at {'1' * 40}, but this workflow_run is for {head}: "
                         "refusing to comment on another pull request\n")
    assert server.state.writes() == []
    right = gate("comment", "github", "--out", blocked, "--pr", "7", "--marker", "fork-gate")
    assert right.out.startswith("comment: created "), right.err
    assert bodies(server)[0][1].startswith("<!-- promotion-gate:fork-gate -->\n")


def test_same_repository_workflow_run_takes_the_pr_from_the_event(gate: Gate, github_env: ForgeServer,
                                                                  blocked: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    event = write_event(tmp_path / "run.json", {"workflow_run": {"head_sha": "a" * 40,
                                                                 "pull_requests": [{"number": 7}]}})
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    assert gate("comment", "github", "--out", blocked).out.startswith("comment: created ")
    assert len(bodies(github_env)) == 1


def test_an_oversized_report_is_shortened_with_a_link_to_the_run(gate: Gate, github_env: ForgeServer,
                                                                 snapshot_db: Path, tmp_path: Path) -> None:
    lockfile = (SHARED / "corpus" / "requirements-pinned" /
                "huggingface__transformers-research-projects__decision_transformer__requirements.txt")
    if not lockfile.is_file():
        pytest.skip("../shared/corpus is absent")
    out = tmp_path / "big"
    gate("check", "--lockfile", lockfile, "--policy", POLICY, "--db", snapshot_db, "--out", out,
         "--now", "2026-07-24T00:00:00Z")
    report = (out / "report.md").read_text(encoding="utf-8")
    assert len(report) > 65_536
    run = gate("comment", "github", "--out", out)
    assert run.out.startswith("comment: created "), run.err
    [(_, body)] = bodies(github_env)
    assert utf16_length(body) <= 65_536
    assert body.startswith(f"{MARKER}\n## ❌ Promotion Gate: blocked from production\n")
    assert (f"**✂️ Shortened: the full report is too long to show here.** Blocking rows that did not fit, waivers, "
            f"warnings and advisory summaries are in `report.md` among [the run's artifacts]({RUN_URL}).") in body
    # The most severe rows first, as in the report; every blocking section keeps its first rows.
    kept = [line for line in body.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    assert all(line in report.splitlines() for line in kept)
    for title in ("### Blocking vulnerabilities", "### Licences: blocking", "### Sources: blocking"):
        assert title in body
    assert "<details>" not in body


def test_hostile_strings_are_inert_in_the_comment(gate: Gate, github_env: ForgeServer, tmp_path: Path) -> None:
    hostile = make_hostile(tmp_path / "hostile")
    db = tmp_path / "hostile.sqlite3"
    assert gate("db", "import", hostile.advisories, "--db", db, "--now", NOW).code == 0
    out = tmp_path / "out"
    _check(gate, out, "--env", hostile.env, "--policy", hostile.policy, "--db", db)
    assert gate("comment", "github", "--out", out).code == 0
    [(_, body)] = bodies(github_env)
    for forbidden in MARKDOWN_FORBIDDEN:
        assert forbidden not in body, forbidden
    assert body.count("<!-- promotion-gate:") == 1
    assert "evil&#58;&#58;set-output name=x&#58;&#58;y&#64;org/team&lt;script&gt;&#124;" in body
    assert "\r" not in body


# --- GitLab ------------------------------------------------------------------------------


def test_gitlab_note_created_then_updated(gate: Gate, gitlab_env: ForgeServer, blocked: Path, clean: Path) -> None:
    server = gitlab_env
    server.state.notes[3] = [
        {"id": 1, "body": "<!-- promotion-gate:promotion-gate -->\nlooks fine", "system": False,
         "author": {"id": 2, "username": "mallory"}},
        {"id": 2, "body": "added 1 commit", "system": True, "author": {"id": 77, "username": "project_5_bot"}},
    ]
    first = gate("comment", "gitlab", "--out", blocked)
    assert first.code == 0, first.err
    note = server.state.notes[3][-1]
    assert first.out == f"comment: created (comment {note['id']})\n"
    assert note["body"].startswith("<!-- promotion-gate:promotion-gate -->\n## ❌ Promotion Gate: blocked")
    assert note["body"].endswith("[Full report, result.json, SBOM and record: this run's artifacts]"
                                 "(https://gitlab.test/acme/app/-/jobs/99/artifacts/browse)</sub>\n")
    second = gate("comment", "gitlab", "--out", clean, "--mode", "on-failure")
    assert second.out == f"comment: updated (comment {note['id']} by project_5_bot)\n"
    assert server.state.notes[3][0]["body"] == "<!-- promotion-gate:promotion-gate -->\nlooks fine"
    assert "## ✅ Promotion Gate: pass" in server.state.notes[3][-1]["body"]
    assert server.state.writes() == [("POST", "/api/v4/projects/5/merge_requests/3/notes"),
                                     ("PUT", f"/api/v4/projects/5/merge_requests/3/notes/{note['id']}")]


def test_gitlab_outside_a_merge_request_posts_nothing(gate: Gate, gitlab_env: ForgeServer, blocked: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI_MERGE_REQUEST_IID")
    run = gate("comment", "gitlab", "--out", blocked)
    assert run.out == "comment: skipped (not a merge request pipeline: no CI_MERGE_REQUEST_IID and no --mr)\n"
    assert gitlab_env.state.seen == []
    assert gate("comment", "gitlab", "--out", blocked, "--mr", "3").out.startswith("comment: created ")


def test_gitlab_needs_a_project_access_token(gate: Gate, gitlab_env: ForgeServer, blocked: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATE_GITLAB_TOKEN")
    monkeypatch.setenv("CI_JOB_TOKEN", "job-token")
    run = gate("comment", "gitlab", "--out", blocked)
    assert (run.code, run.err) == (3, "gate: error: GATE_GITLAB_TOKEN is not set: a project access token with the "
                                      "api scope (CI_JOB_TOKEN cannot write notes or issues), in a masked CI/CD "
                                      "variable\n")
    assert gitlab_env.state.seen == []


# --- markers, links and shortening ---------------------------------------------------------


def test_marker_names_cannot_close_the_html_comment() -> None:
    assert marker_line("x --> <b>hi</b> <!--") == "<!-- promotion-gate:x-b-hi-/b -->"
    assert marker_name("") == "default"
    assert marker_name("Gate / check (3.11)") == "Gate-/-check-3.11"


@pytest.mark.parametrize(("url", "target"), [
    ("https://github.com/a/b/actions/runs/1", "https://github.com/a/b/actions/runs/1"),
    ("https://x.test/a) [y](javascript:alert(1)", None),  # whitespace: refused
    ("https://x.test/a)[y](javascript:alert(1))", "https://x.test/a%29%5By%5D%28javascript:alert%281%29%29"),
    ("javascript:alert(1)", None),
    ("", None),
])
def test_link_targets(url: str, target: str | None) -> None:
    assert markdown_link_target(url) == target


def _long_report(rows: int) -> str:
    table = "\n".join(f"| pkg{n:04d} | 1.0 | [GHSA-{n:04d}](https://osv.dev/vulnerability/GHSA-{n:04d}) | high | 2.0 |"
                      for n in range(rows))
    return ("## ❌ Promotion Gate: blocked from staging\n\n**9** blocking\n\n### Blocking vulnerabilities\n\n"
            "| Package | Version | Advisory | Severity | Fix |\n| --- | --- | --- | --- | --- |\n" + table +
            "\n\n### Sources: blocking\n\n| Rule | Package | Detail |\n| --- | --- | --- |\n"
            "| sources.forbid | a==1 | vcs |\n| sources.forbid | b==1 | vcs |\n\n"
            "<details><summary>Waived (1)</summary>\n\nsecret-ish detail\n\n</details>\n\n### Totals\n\n"
            "<sub>Environment x</sub>\n")


def test_a_report_within_the_limit_is_unchanged() -> None:
    report = _long_report(3)
    assert shorten_report(report, limit=len(report), link=None) == report


def test_shortening_keeps_the_first_rows_of_every_table_and_never_exceeds_the_limit() -> None:
    report = _long_report(400)
    for limit in (1_000, 2_000, 5_000, 20_000, len(report) - 1):
        text = shorten_report(report, limit=limit, link=RUN_URL)
        assert len(text) <= limit
        assert text.startswith("## ❌ Promotion Gate: blocked from staging\n")
        assert "secret-ish" not in text
        assert text.endswith(f"[the run's artifacts]({RUN_URL}).\n\n<sub>Environment x</sub>\n")
    text = shorten_report(report, limit=5_000, link=RUN_URL)
    rows = [line for line in text.splitlines() if line.startswith("| pkg")]
    assert rows == [line for line in report.splitlines() if line.startswith("| pkg")][:len(rows)]
    assert f"_… {400 - len(rows)} more rows in the full report._" in text
    assert "| sources.forbid | a==1 | vcs |\n| sources.forbid | b==1 | vcs |\n\n**✂️ Shortened" in text


def test_shortening_in_bytes_for_the_step_summary() -> None:
    report = _long_report(400).replace("pkg", "päk")
    text = shorten_report(report, limit=4_000, link=None, measure=lambda s: len(s.encode("utf-8")))
    assert len(text.encode("utf-8")) <= 4_000
    assert "among the job's artifacts." in text


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_length("a✅") == 2
    assert utf16_length("\U0001f600") == 2  # an emoji, outside the BMP: two UTF-16 code units
    report = _long_report(400).replace("pkg", "\U0001f600")
    text = shorten_report(report, limit=3_000, link=None, measure=utf16_length)
    assert utf16_length(text) <= 3_000 < len(text) * 2


def test_a_limit_too_small_for_the_titles_keeps_the_headline() -> None:
    text = shorten_report(_long_report(400), limit=300, link=None)
    assert len(text) <= 300
    assert text.startswith("## ❌ Promotion Gate: blocked from staging\n\n**✂️ Shortened")

