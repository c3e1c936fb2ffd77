"""``gate ci github``: hand a finished check to the GitHub Actions runner.

From the files ``gate check --out DIR`` wrote (result.json, report.md), it appends the report
to the job summary (``$GITHUB_STEP_SUMMARY``), the verdict, counts and file paths to the step
outputs (``$GITHUB_OUTPUT``), and prints annotations for what blocks (``::error``) and warns
(``::warning``), within GitHub's per-step limits.

The runner reads workflow commands from the log, and package and advisory strings are hostile:

- an annotation's untrusted parts are escaped by the runner's own rules (``%``, CR, LF in the
  message; also ``:`` and ``,`` in properties) after being flattened to one line, so a
  message can neither end its command nor start a new line;
- the plain listing of every blocking item and warning (annotations are capped, the listing
  is not) is printed between ``::stop-commands::TOKEN`` and ``::TOKEN::`` with a random token,
  so nothing in it is read as a command -- including the legacy ``##[command]`` form, which the
  runner accepts anywhere in a line (terminal_text breaks that opener up as well). The
  annotations themselves cannot go inside that block: the runner processes no command at all
  until the token comes back;
- outputs use the multi-line syntax with a random delimiter that is checked not to occur in
  the value.

The environment, the random source and the output streams are passed in, so tests drive it
with temporary files in place of the runner's."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.errors import InputError
from gate.model import LEVEL_RANK, Level
from gate.report.escape import terminal_text
from gate.report.locations import item_place

SUMMARY_LIMIT = 1024 * 1024  # bytes GitHub accepts in one step's job summary
ANNOTATIONS_PER_KIND = 10  # GitHub shows 10 errors and 10 warnings per step
LISTING_LIMIT = 500  # lines of the plain listing in the log
MESSAGE_LIMIT = 600
TITLE_LIMIT = 200
MAX_REPORT_BYTES = 64 * 1024 * 1024
DEFAULT_ARTIFACT = "promotion-gate"

COUNTS = ("blocking", "waived", "warnings", "findings", "violations")
OUTPUT_FILES = {
    "report": "report.md",
    "result": "result.json",
    "sbom": "sbom.cdx.json",
    "record": "record.dsse.json",
    "sarif": "results.sarif",
}

_SERVER = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_RUN_ID = re.compile(r"^\d+$")


def command_data(value: object, limit: int | None = None) -> str:
    """The message part of a workflow command, escaped as the runner unescapes it."""
    return terminal_text(value, limit).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def command_property(value: object, limit: int | None = None) -> str:
    """A property value (``file=``, ``title=``): ``:`` and ``,`` would end it, so they are escaped too."""
    return command_data(value, limit).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True, kw_only=True, slots=True)
class Annotation:
    kind: str  # "error", "warning" or "notice"
    message: str  # untrusted; escaped when rendered
    title: str | None = None
    file: str | None = None
    line: int | None = None

    def command(self) -> str:
        properties = []
        if self.file:
            properties.append(f"file={command_property(self.file)}")
            if self.line is not None:
                properties.append(f"line={self.line}")
        if self.title:
            properties.append(f"title={command_property(self.title, TITLE_LIMIT)}")
        head = f"::{self.kind} {','.join(properties)}" if properties else f"::{self.kind}"
        return f"{head}::{command_data(self.message, MESSAGE_LIMIT)}"


def _rank(item: Mapping[str, Any]) -> tuple[int, int, str, str, str]:
    """Findings first, most severe first, then by package and ID or rule: the report's order."""
    if "rule" in item:
        return (1, 0, str(item.get("package") or ""), str(item["rule"]), str(item.get("detail")))
    try:
        rank = LEVEL_RANK[Level(item["severity"])]
    except ValueError:
        rank = 0
    return (0, -rank, str(item["package"]), str(item.get("version") or ""), str(item["id"]))


def items_with_status(document: Mapping[str, Any], status: str) -> list[Mapping[str, Any]]:
    items = [*document["findings"], *document["violations"]]
    return sorted((item for item in items if item["status"] == status), key=_rank)


def item_title(item: Mapping[str, Any]) -> str:
    version = item.get("version")
    who = f"{item['package']} {version}" if version is not None else str(item.get("package") or "")
    if "rule" in item:
        return f"{item['rule']}: {who}" if who else str(item["rule"])
    return f"{item['id']} ({item['severity']}): {who}"


def item_message(item: Mapping[str, Any]) -> str:
    if "rule" in item:
        return str(item["detail"])
    text = str(item.get("summary") or item["id"]).rstrip(". ") + "."
    fix = item.get("fix")
    text += f" Fix: upgrade to {fix}." if fix else " No fixed version is known."
    if item.get("uncertain"):
        text += f" Uncertain match: {item['uncertain']}."
    return text


def build_annotations(document: Mapping[str, Any], *, limit: int, root: str | None, base: str | None,
                      artifact: str) -> list[Annotation]:
    """Up to ``limit`` errors (blocking) and ``limit`` warnings, and a notice for the rest."""
    out = []
    left = {}
    for status, kind in (("blocking", "error"), ("warning", "warning")):
        items = items_with_status(document, status)
        for item in items[:limit]:
            place = item_place(document, item, root=root, base=base)
            out.append(Annotation(kind=kind, title=item_title(item), message=item_message(item), file=place.path,
                                  line=place.line))
        left[status] = max(0, len(items) - limit)
    if left["blocking"] or left["warning"]:
        out.append(Annotation(kind="notice", title="Promotion Gate", message=(
            f"{left['blocking']} more blocking item(s) and {left['warning']} more warning(s) are not annotated "
            f"(at most {limit} of each): the job summary and report.md in the artifact {artifact} list them all")))
    return out


def listing(document: Mapping[str, Any]) -> list[str]:
    """The plain log lines: the verdict, then every blocking item and warning (up to a limit)."""
    summary = document["summary"]
    stage = f" ({document['stage']})" if document.get("stage") else ""
    lines = [terminal_text(f"gate: {str(document['decision']).upper()}{stage}: {summary['blocking']} blocking, "
                           f"{summary['waived']} waived, {summary['warnings']} warnings")]
    entries = [(status, item) for status in ("blocking", "warning") for item in items_with_status(document, status)]
    for status, item in entries[:LISTING_LIMIT]:
        lines.append(terminal_text(f"  {status:<9} {item_title(item)}: {item_message(item)}", 400))
    if len(entries) > LISTING_LIMIT:
        lines.append(f"  ... and {len(entries) - LISTING_LIMIT} more: see report.md")
    return lines


def run_url(environ: Mapping[str, str]) -> str | None:
    """The workflow run's page, from the runner's variables; None when any is missing or odd."""
    server = environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repository = environ.get("GITHUB_REPOSITORY", "")
    run_id = environ.get("GITHUB_RUN_ID", "")
    if _SERVER.match(server) and _REPOSITORY.match(repository) and _RUN_ID.match(run_id):
        return f"{server}/{repository}/actions/runs/{run_id}"
    return None


def step_summary(report: str, *, budget: int, url: str | None) -> str:
    """The report, or past ``budget`` bytes the shortened version that keeps the headline and the
    blocking rows first and links the run's artifacts (the same cut as the PR comment's)."""
    from gate.ci.shorten import shorten_report

    text = report if report.endswith("\n") else report + "\n"
    return shorten_report(text, limit=budget, link=url, measure=lambda value: len(value.encode("utf-8")))


def output_block(outputs: Mapping[str, str], *, token: Callable[[], str]) -> str:
    """``name<<DELIMITER`` blocks; each delimiter is random and checked absent from the value."""
    parts = []
    for name, value in outputs.items():
        delimiter = f"gate_{token()}"
        while delimiter in value or delimiter in name:
            delimiter = f"gate_{token()}"
        parts.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(parts)


def outputs(document: Mapping[str, Any], out: Path) -> dict[str, str]:
    """The verdict and counts, and the absolute path of each file written (empty when absent)."""
    summary = document["summary"]
    values = {"decision": str(document["decision"])}
    for key in COUNTS:
        values[key] = str(summary[key])
    for key, name in OUTPUT_FILES.items():
        path = out / name
        values[key] = str(path.absolute()) if path.is_file() else ""
    return values


def _append(path: Path, text: str, *, what: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise InputError(f"cannot append the {what} ({error.strerror})", where=path) from None


def _read_report(path: Path) -> str:
    from gate.sources.base import decode_utf8, read_bounded

    data = read_bounded(path, limit=MAX_REPORT_BYTES)
    if data is None:
        raise InputError("missing: run gate check --out with this directory first", where=path)
    return decode_utf8(data, where=path)


def publish(out: Path, *, environ: Mapping[str, str], cwd: str, echo: Callable[[str], None],
            note: Callable[[str], None], artifact: str = DEFAULT_ARTIFACT,
            max_annotations: int = ANNOTATIONS_PER_KIND, exit_code: int | None = None,
            token: Callable[[], str] | None = None) -> None:
    """Summary, outputs and annotations for the check in ``out``; ``echo`` prints a log line,
    ``note`` a remark on stderr. Raises InputError for an unusable result.json or report.md.

    With ``exit_code`` 2-6 or 70 (``gate check`` reached no verdict and wrote nothing) the summary,
    the ``decision`` output (``none``) and an error annotation say so; no file of ``out`` is
    read or offered as an output, since any there are from an earlier run."""
    from gate.ci.comment import NO_VERDICT, load_report
    from gate.report.stored import read_result

    token = token or (lambda: secrets.token_hex(16))
    document: dict[str, Any] | None = None
    if exit_code is not None and exit_code >= 2:
        report = load_report(out, exit_code=exit_code).markdown
        values = {"decision": "none", **{key: "" for key in (*COUNTS, *OUTPUT_FILES)}}
    else:
        document = read_result(out / "result.json")
        if exit_code is not None and exit_code != {"pass": 0, "fail": 1}[document["decision"]]:
            raise InputError(f"says {document['decision']!r} but gate check exited {exit_code}: an output folder "
                             "left from an earlier run?", where=out / "result.json", key_path="decision")
        report = _read_report(out / "report.md")
        values = outputs(document, out)

    summary_path = environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        path = Path(summary_path)
        try:
            used = path.stat().st_size if path.exists() else 0
        except OSError:
            used = 0
        _append(path, step_summary(report, budget=max(0, SUMMARY_LIMIT - used), url=run_url(environ)),
                what="job summary")
    else:
        note("GITHUB_STEP_SUMMARY is not set (not in a GitHub Actions step?): no job summary written")

    output_path = environ.get("GITHUB_OUTPUT")
    if output_path:
        _append(Path(output_path), output_block(values, token=token), what="step outputs")
    else:
        note("GITHUB_OUTPUT is not set (not in a GitHub Actions step?): no step outputs written")

    if document is None:
        meaning = NO_VERDICT.get(exit_code or 0, "no verdict")
        message = f"gate check stopped with exit code {exit_code} ({meaning}) before reaching a decision: this is " \
                  "not a pass; the log of the check step says what to fix"
        echo(f"gate: NO VERDICT: {message}")
        echo(Annotation(kind="error", title="Promotion Gate: no verdict", message=message).command())
        return
    root = environ.get("GITHUB_WORKSPACE") or cwd
    stop = token()
    echo(f"::stop-commands::{stop}")
    for line in listing(document):
        echo(line)
    echo(f"::{stop}::")
    for annotation in build_annotations(document, limit=max_annotations, root=root, base=cwd, artifact=artifact):
        echo(annotation.command())
