"""The sticky PR/MR comment: one comment per gate per pull request, rewritten on every run.

A comment is ours when it holds our hidden marker (``<!-- promotion-gate:MARKER -->``) AND was
written by the identity our token posts as: a marker copied into someone else's comment is left
alone. The marker defaults to the workflow and job (GitLab: the job) so two gates in one
repository keep separate comments.

Modes: ``always`` creates or updates; ``on-failure`` creates only when the gate did not pass, but
still updates an existing comment on a clean run, so a fixed PR never keeps a stale failure;
``never`` posts nothing. A run without a verdict (``gate check`` exit 2-6 or 70, no result.json) is
said as such, never shown as a pass.

The body is report.md as written (already escaped for Markdown), our marker, and a link to the
run; past the forge's limit it is shortened (:mod:`gate.ci.shorten`)."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.ci.forge import Comment, Forge, GitHub, GitLab
from gate.ci.shorten import markdown_link_target, shorten_report
from gate.errors import InputError
from gate.report.escape import terminal_text

MARKER_PREFIX = "promotion-gate:"
MAX_REPORT_BYTES = 64 * 1024 * 1024
NO_VERDICT = {
    2: "usage error (bad arguments)",
    3: "invalid input: environment or policy unreadable or malformed, output not writable",
    4: "advisory data unusable: missing, corrupt, or older than the policy allows",
    5: "signature or key problem",
    6: "a needed service unreachable",
    70: "internal error: a bug in the gate",
}


class Mode(enum.StrEnum):
    ALWAYS = "always"
    ON_FAILURE = "on-failure"
    NEVER = "never"


@dataclass(frozen=True, kw_only=True, slots=True)
class GateReport:
    """What one ``gate check`` left in ``--out``: ``decision`` is pass, fail or none (no verdict)."""

    decision: str
    markdown: str

    @property
    def failed(self) -> bool:
        return self.decision != "pass"


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    """``action``: created, updated, unchanged or skipped; ``note`` says why, for the log."""

    action: str
    note: str
    comment: Comment | None = None


def marker_name(text: str) -> str:
    """A marker name that cannot end the HTML comment or smuggle markup: ``[A-Za-z0-9._/-]`` only."""
    name = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._/-]+", "-", text)).strip("-")[:100]
    return name or "default"


def marker_line(marker: str) -> str:
    return f"<!-- {MARKER_PREFIX}{marker_name(marker)} -->"


def default_marker(environ: Mapping[str, str], forge: str) -> str:
    if forge == "github":
        parts = [environ.get("GITHUB_WORKFLOW", ""), environ.get("GITHUB_JOB", "")]
    else:
        parts = [environ.get("CI_JOB_NAME", "")]
    return marker_name("/".join(part for part in parts if part))


def load_report(out: Path, *, exit_code: int | None) -> GateReport:
    """The verdict and report.md of ``out``; with ``exit_code`` 2-6 or 70 a no-verdict report instead
    (``gate check`` wrote nothing; a result.json there is from an earlier run)."""
    if exit_code is not None and exit_code >= 2:
        meaning = NO_VERDICT.get(exit_code, "no verdict")
        return GateReport(decision="none", markdown=(
            "## ⚠️ Promotion Gate: no verdict\n\n"
            f"`gate check` stopped with exit code {exit_code} ({meaning}) before reaching a decision. "
            "This is not a pass: the job log says what to fix.\n"))
    from gate.report.stored import read_result

    result_path, report_path = out / "result.json", out / "report.md"
    decision = read_result(result_path)["decision"]
    if exit_code is not None and exit_code != {"pass": 0, "fail": 1}[decision]:
        raise InputError(f"says {decision!r} but gate check exited {exit_code}: an output folder left from an "
                         "earlier run?", where=result_path, key_path="decision")
    return GateReport(decision=decision, markdown=_read_report(report_path))


def _read_report(path: Path) -> str:
    from gate.sources.base import decode_utf8, read_bounded

    data = read_bounded(path, limit=MAX_REPORT_BYTES)
    if data is None:
        raise InputError("missing: run gate check --out with this directory first", where=path)
    return decode_utf8(data, where=path)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units: what a forge's "characters" can mean, and never less than the
    code points (a character outside the BMP, an emoji, counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def comment_body(report: GateReport, *, marker: str, limit: int, link: str | None) -> str:
    """The marker, the report (shortened past ``limit``) and a link to the run, within ``limit``."""
    head = marker_line(marker) + "\n"
    target = markdown_link_target(link)
    tail = f"\n<sub>[Full report, result.json, SBOM and record: this run's artifacts]({target})</sub>\n" \
        if target else ""
    room = limit - utf16_length(head) - utf16_length(tail)
    return head + shorten_report(report.markdown.rstrip("\n") + "\n", limit=room, link=link,
                                 measure=utf16_length) + tail


def post_sticky(forge: Forge, number: int, *, body: str, marker: str, mode: Mode, failed: bool,
                author: str | None) -> Outcome:
    """Create or update our comment on ``number`` as ``mode`` says."""
    if mode is Mode.NEVER:
        return Outcome(action="skipped", note="comment mode is 'never'")
    line = marker_line(marker)
    who = author if author is not None else forge.viewer()
    ours = sorted((c for c in forge.list_comments(number) if line in c.body and c.author == who),
                  key=lambda c: c.id)
    if ours:
        existing = ours[0]
        if existing.body == body:
            return Outcome(action="unchanged", note=f"comment {existing.id} already shows this report",
                           comment=existing)
        return Outcome(action="updated", note=f"comment {existing.id} by {who}",
                       comment=forge.update_comment(number, existing, body))
    if mode is Mode.ON_FAILURE and not failed:
        return Outcome(action="skipped", note="the gate passed and there is no earlier comment to update; mode "
                       "on-failure creates none")
    created = forge.create_comment(number, body)
    return Outcome(action="created", note=f"comment {created.id}", comment=created)


# --- the CI environment ------------------------------------------------------------------


def _required(environ: Mapping[str, str], name: str, why: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise InputError(f"{name} is not set: {why}")
    return value


def github_forge(environ: Mapping[str, str], *, permission: str) -> GitHub:
    """The repository of this workflow run, through ``GITHUB_API_URL`` (GitHub Enterprise Server too)."""
    token = _required(environ, "GITHUB_TOKEN", f"give the job a token (permissions: {permission})")
    repository = _required(environ, "GITHUB_REPOSITORY", "the repository (OWNER/NAME) to write in")
    return GitHub(token=token, repository=repository,
                  api_url=environ.get("GITHUB_API_URL", "").strip() or "https://api.github.com")


def gitlab_forge(environ: Mapping[str, str]) -> GitLab:
    """The project of this pipeline, with the project access token in ``GATE_GITLAB_TOKEN``."""
    token = _required(environ, "GATE_GITLAB_TOKEN", "a project access token with the api scope (CI_JOB_TOKEN "
                      "cannot write notes or issues), in a masked CI/CD variable")
    return GitLab(token=token, api_url=_required(environ, "CI_API_V4_URL", "the GitLab API URL"),
                  project=_required(environ, "CI_PROJECT_ID", "the project to write in"))


def _event(environ: Mapping[str, str]) -> tuple[int | None, str | None]:
    """The pull request number of the triggering event and, for ``workflow_run``, the head commit
    the run was for (to check a PR number handed over from an untrusted run)."""
    path = environ.get("GITHUB_EVENT_PATH")
    if not path:
        return None, None
    try:
        event: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"cannot read the event: {error.strerror}", where=path) from None
    except ValueError as error:
        raise InputError(f"the event is not valid JSON: {error}", where=path) from None
    if not isinstance(event, dict):
        return None, None
    for key, sub in (("pull_request", None), ("issue", "pull_request")):
        item = event.get(key)
        if isinstance(item, dict) and (sub is None or sub in item) and _number(item.get("number")):
            return item["number"], None
    run = event.get("workflow_run")
    if isinstance(run, dict):
        head = run.get("head_sha") if isinstance(run.get("head_sha"), str) else None
        pulls = run.get("pull_requests")
        if isinstance(pulls, list) and len(pulls) == 1 and isinstance(pulls[0], dict) and _number(
                pulls[0].get("number")):
            return pulls[0]["number"], head
        return None, head
    return None, None


def _number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def github_run_url(environ: Mapping[str, str]) -> str | None:
    server = environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repository, run_id = environ.get("GITHUB_REPOSITORY"), environ.get("GITHUB_RUN_ID")
    return f"{server}/{repository}/actions/runs/{run_id}" if repository and run_id else None


def comment_github(out: Path, *, environ: Mapping[str, str], mode: Mode, marker: str | None, pr: int | None,
                   exit_code: int | None, author: str | None) -> Outcome:
    """``gate comment github``: the sticky comment on the pull request of this workflow run."""
    if mode is Mode.NEVER:
        return Outcome(action="skipped", note="comment mode is 'never'")
    report = load_report(out, exit_code=exit_code)
    number, head = _event(environ)
    if pr is not None:
        number = pr
    if number is None:
        return Outcome(action="skipped", note="not a pull request run: no pull_request in GITHUB_EVENT_PATH and "
                       "no --pr")
    forge = github_forge(environ, permission="pull-requests: write")
    if head is not None and pr is not None:
        # A PR number handed over by an untrusted run (the fork case): it must be the PR this run was for.
        actual = forge.pull_request_head(number)
        if actual != head:
            raise InputError(f"pull request #{number} is at {terminal_text(actual, 80)}, but this workflow_run is "
                             f"for {terminal_text(head, 80)}: refusing to comment on another pull request",
                             where="--pr")
    the_marker = marker or default_marker(environ, "github")
    body = comment_body(report, marker=the_marker, limit=forge.comment_limit, link=github_run_url(environ))
    return post_sticky(forge, number, body=body, marker=the_marker, mode=mode, failed=report.failed, author=author)


def comment_gitlab(out: Path, *, environ: Mapping[str, str], mode: Mode, marker: str | None, mr: int | None,
                   exit_code: int | None) -> Outcome:
    """``gate comment gitlab``: the sticky note on the merge request of this pipeline."""
    if mode is Mode.NEVER:
        return Outcome(action="skipped", note="comment mode is 'never'")
    report = load_report(out, exit_code=exit_code)
    number = mr
    if number is None:
        iid = environ.get("CI_MERGE_REQUEST_IID", "").strip()
        number = int(iid) if iid.isdigit() and int(iid) > 0 else None
    if number is None:
        return Outcome(action="skipped", note="not a merge request pipeline: no CI_MERGE_REQUEST_IID and no --mr")
    forge = gitlab_forge(environ)
    job_url = environ.get("CI_JOB_URL", "").strip()
    the_marker = marker or default_marker(environ, "gitlab")
    body = comment_body(report, marker=the_marker, limit=forge.comment_limit,
                        link=f"{job_url.rstrip('/')}/artifacts/browse" if job_url else None)
    return post_sticky(forge, number, body=body, marker=the_marker, mode=mode, failed=report.failed, author=None)
