"""One issue per environment that ``gate monitor`` found changed, in GitHub or GitLab: opened on the
first run that sees the change, updated (not duplicated) on every later one.

The issue is ours when its body holds the environment's hidden marker (written by
:func:`gate.monitor.notify.issue_for`) AND it was opened by the account the token acts as, the
same rule as the sticky PR comment: an issue someone else opened and pasted our marker into is
never edited. Open issues are listed once per run, not once per environment."""

from __future__ import annotations

from gate.ci.forge import Forge, Issue
from gate.monitor.notify import Issue as MonitorIssue


class ForgeIssueSink:
    """An :class:`~gate.monitor.notify.IssueSink` over a forge client."""

    def __init__(self, forge: Forge) -> None:
        self.forge = forge
        self._author: str | None = None
        self._open: list[Issue] | None = None
        self.created: list[int] = []
        self.updated: list[int] = []

    def _ours(self) -> list[Issue]:
        if self._open is None:
            self._author = self.forge.viewer()
            self._open = [issue for issue in self.forge.list_open_issues()
                          if self._author is None or issue.author == self._author]
        return self._open

    def upsert(self, issue: MonitorIssue) -> None:
        found = [open_issue for open_issue in self._ours() if issue.marker in open_issue.body]
        if not found:
            made = self.forge.create_issue(title=issue.title, body=issue.body)
            self._ours().append(made)
            self.created.append(made.number)
            return
        oldest = min(found, key=lambda open_issue: open_issue.number)
        if (oldest.title, oldest.body) != (issue.title, issue.body):
            self.forge.update_issue(oldest, title=issue.title, body=issue.body)
        self.updated.append(oldest.number)
