"""Where a monitor run's news goes: a webhook (one JSON POST per run), and one issue per affected
environment in GitHub or GitLab.

Webhook: the whole JSON report (``gate monitor --format json``'s document) in one POST, so a receiver
(Slack/Teams relay, SIEM, a small service) sees every environment of the run at once and can tell a
quiet night (no changes) from a missing run. Sent through the same conventions as every network edge
of the gate (:mod:`gate.network`: one User-Agent, one-line errors); a failure is a
:class:`~gate.errors.ServiceError` (exit 6): the run was made, its news did not go out.

Issues: :class:`IssueSink` is the plug-in point; :class:`gate.ci.issues.ForgeIssueSink` implements
it over the GitHub and GitLab clients (find an issue by its hidden marker and author, create,
update); :func:`issue_for` writes, per affected environment, the marker (stable per environment:
repository, stage, name), the title and the body, so a second run updates the issue the first one
opened instead of opening another.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from gate.errors import ServiceError
from gate.monitor.core import EnvironmentReport, MonitorReport
from gate.monitor.render import environment_markdown, environment_title
from gate.network import USER_AGENT, describe_error
from gate.report.escape import one_line

WEBHOOK_TIMEOUT = 30.0
ISSUE_MARKER = "<!-- promotion-gate:monitor:{key} -->"


class Notifier(Protocol):
    """A destination for one monitor run."""

    def send(self, report: MonitorReport) -> None: ...


class WebhookNotifier:
    """POST the run's JSON document to ``url``."""

    def __init__(self, url: str, *, timeout: float = WEBHOOK_TIMEOUT) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ServiceError("a webhook must be an http or https URL", where=_safe(url))
        self.url = url
        self.timeout = timeout

    def send(self, report: MonitorReport) -> None:
        body = json.dumps(report.document(), sort_keys=True, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "User-Agent": USER_AGENT, "Content-Type": "application/json; charset=utf-8"})
        where = _safe(self.url)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # scheme checked above
                response.read(65536)
        except urllib.error.HTTPError as error:
            raise ServiceError(f"webhook answered HTTP {error.code} {one_line(str(error.reason), 200)}",
                               where=where) from None
        except urllib.error.URLError as error:
            raise ServiceError(f"cannot reach the webhook: {describe_error(error.reason)}", where=where) from None
        except (http.client.HTTPException, OSError) as error:
            raise ServiceError(f"webhook failed: {describe_error(error)}", where=where) from None


def _safe(url: str) -> str:
    """The URL without its query and credentials: webhook URLs often carry their secret there."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Issue:
    marker: str  # hidden in the body; how the sink finds the issue it opened before
    title: str
    body: str


class IssueSink(Protocol):
    """Open the issue holding ``issue.marker``, or update it (gate/ci/issues.py over the forge clients)."""

    def upsert(self, issue: Issue) -> None: ...


def issue_for(environment: EnvironmentReport) -> Issue:
    marker = ISSUE_MARKER.format(key=environment.key)
    title = one_line(f"Promotion Gate: {environment_title(environment)}", 240)
    if environment.newly_blocking:
        title += " is now blocked"
    else:
        title += " has advisory changes"
    body = "\n".join([marker, *environment_markdown(environment, heading="###"),
                      "_Updated by `gate monitor` on each run while the environment has changes._", ""])
    return Issue(marker=marker, title=title, body=body)


class IssueNotifier:
    """One issue per environment with changes, through ``sink`` (created once, then updated)."""

    def __init__(self, sink: IssueSink) -> None:
        self.sink = sink

    def send(self, report: MonitorReport) -> None:
        for environment in report.changed:
            self.sink.upsert(issue_for(environment))
