"""The forges' comment and issue APIs, behind one Protocol: GitHub (REST v3, also GitHub
Enterprise Server through its API URL) and GitLab (REST v4).

Only what the gate needs: who the token belongs to, the comments of a pull request / notes of a
merge request (list, create, update), and issues (list open ones, create, update) for the
scheduled re-check that opens or refreshes one issue. "Ours" is decided by the caller from the
author and a hidden marker; nothing here deletes anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from gate.ci.rest import RestClient, link_next, next_page_header
from gate.errors import ServiceError

GITHUB_API_URL = "https://api.github.com"
GITHUB_ACTIONS_BOT = "github-actions[bot]"  # the author of what the Actions GITHUB_TOKEN posts
PER_PAGE = 100


@dataclass(frozen=True, kw_only=True, slots=True)
class Comment:
    """A PR comment or an MR note."""

    id: int
    body: str
    author: str
    url: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Issue:
    number: int  # GitHub's issue number, GitLab's iid
    title: str
    body: str
    author: str
    state: str  # "open" or "closed" on both forges
    url: str | None = None
    labels: tuple[str, ...] = ()


class Forge(Protocol):
    """What the comment and the issue logic need from a forge."""

    name: str
    comment_limit: int  # the longest body the forge accepts, in characters

    def viewer(self) -> str | None:
        """The login the token posts as, or None when the token cannot say (GitHub Apps)."""
        ...

    def list_comments(self, number: int) -> list[Comment]: ...

    def create_comment(self, number: int, body: str) -> Comment: ...

    def update_comment(self, number: int, comment: Comment, body: str) -> Comment: ...

    def list_open_issues(self, *, labels: tuple[str, ...] = ()) -> list[Issue]: ...

    def create_issue(self, *, title: str, body: str, labels: tuple[str, ...] = ()) -> Issue: ...

    def update_issue(self, issue: Issue, *, title: str | None = None, body: str | None = None,
                     state: str | None = None) -> Issue: ...


def find_open_issue(forge: Forge, *, marker: str, author: str | None, labels: tuple[str, ...] = ()) -> Issue | None:
    """The oldest open issue holding ``marker`` and written by ``author`` (when known)."""
    mine = [issue for issue in forge.list_open_issues(labels=labels)
            if marker in issue.body and (author is None or issue.author == author)]
    return min(mine, key=lambda issue: issue.number) if mine else None


def _field(document: Any, key: str, kind: type, where: str, service: str) -> Any:
    value = document.get(key) if isinstance(document, dict) else None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ServiceError(f"{service} API: the answer has no {kind.__name__} {key!r}", where=where)
    return value


def _login(document: Any, key: str) -> str:
    user = document.get(key) if isinstance(document, dict) else None
    login = user.get("login") or user.get("username") if isinstance(user, dict) else None
    return login if isinstance(login, str) else ""


class GitHub:
    """``repository`` is ``owner/name``; ``token`` a GITHUB_TOKEN, PAT or App token."""

    name = "GitHub"
    comment_limit = 65_536

    def __init__(self, *, token: str, repository: str, api_url: str = GITHUB_API_URL,
                 timeout: float | None = None) -> None:
        owner, _, repo = repository.partition("/")
        if not owner or not repo or "/" in repo:
            raise ServiceError("the repository must be given as OWNER/NAME", where=repository)
        self.repository = repository
        self._repo_path = f"repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}
        self.rest = RestClient(api_url, service="GitHub", headers=headers,
                               **({"timeout": timeout} if timeout is not None else {}))

    def viewer(self) -> str | None:
        """``GET /user``; the Actions GITHUB_TOKEN (an installation token) gets 403 there and
        posts as ``github-actions[bot]``."""
        answer = self.rest.request("GET", "user", expect=(200, 403))
        if answer.status == 403:
            return GITHUB_ACTIONS_BOT
        return str(_field(answer.data, "login", str, self.rest.url("user"), self.name))

    def pull_request_head(self, number: int) -> str:
        """The head commit of pull request ``number``."""
        path = f"{self._repo_path}/pulls/{number}"
        answer = self.rest.request("GET", path)
        head = answer.data.get("head") if isinstance(answer.data, dict) else None
        return str(_field(head, "sha", str, self.rest.url(path), self.name))

    def _comment(self, document: Any, where: str) -> Comment:
        return Comment(id=_field(document, "id", int, where, self.name),
                       body=document.get("body") or "", author=_login(document, "user"),
                       url=document.get("html_url") if isinstance(document.get("html_url"), str) else None)

    def list_comments(self, number: int) -> list[Comment]:
        path = f"{self._repo_path}/issues/{number}/comments"
        return [self._comment(item, self.rest.url(path))
                for item in self.rest.pages(path, params={"per_page": PER_PAGE}, next_url=link_next)]

    def create_comment(self, number: int, body: str) -> Comment:
        path = f"{self._repo_path}/issues/{number}/comments"
        answer = self.rest.request("POST", path, body={"body": body}, expect=(201,))
        return self._comment(answer.data, self.rest.url(path))

    def update_comment(self, number: int, comment: Comment, body: str) -> Comment:
        path = f"{self._repo_path}/issues/comments/{comment.id}"
        answer = self.rest.request("PATCH", path, body={"body": body}, expect=(200,))
        return self._comment(answer.data, self.rest.url(path))

    def _issue(self, document: Any, where: str) -> Issue:
        labels = document.get("labels") if isinstance(document, dict) else None
        names = tuple(sorted(str(label["name"]) for label in labels or ()
                             if isinstance(label, dict) and isinstance(label.get("name"), str)))
        return Issue(number=_field(document, "number", int, where, self.name),
                     title=str(document.get("title") or ""), body=document.get("body") or "",
                     author=_login(document, "user"), state=str(document.get("state") or ""),
                     url=document.get("html_url") if isinstance(document.get("html_url"), str) else None,
                     labels=names)

    def list_open_issues(self, *, labels: tuple[str, ...] = ()) -> list[Issue]:
        """Open issues (the API lists pull requests with them: those are left out)."""
        path = f"{self._repo_path}/issues"
        params: dict[str, str | int] = {"state": "open", "per_page": PER_PAGE}
        if labels:
            params["labels"] = ",".join(labels)
        items = self.rest.pages(path, params=params, next_url=link_next)
        return [self._issue(item, self.rest.url(path)) for item in items
                if isinstance(item, dict) and "pull_request" not in item]

    def create_issue(self, *, title: str, body: str, labels: tuple[str, ...] = ()) -> Issue:
        path = f"{self._repo_path}/issues"
        document: dict[str, Any] = {"title": title, "body": body}
        if labels:
            document["labels"] = list(labels)
        answer = self.rest.request("POST", path, body=document, expect=(201,))
        return self._issue(answer.data, self.rest.url(path))

    def update_issue(self, issue: Issue, *, title: str | None = None, body: str | None = None,
                     state: str | None = None) -> Issue:
        if state is not None and state not in ("open", "closed"):
            raise ValueError(f"state must be 'open' or 'closed', not {state!r}")
        path = f"{self._repo_path}/issues/{issue.number}"
        document = {key: value for key, value in (("title", title), ("body", body), ("state", state))
                    if value is not None}
        answer = self.rest.request("PATCH", path, body=document, expect=(200,))
        return self._issue(answer.data, self.rest.url(path))


_GITLAB_STATES = {"opened": "open", "closed": "closed", "locked": "open"}
_GITLAB_STATE_EVENTS = {"open": "reopen", "closed": "close"}


class GitLab:
    """``api_url`` is CI_API_V4_URL; ``project`` the numeric ID or the path (``group/project``);
    ``token`` a project (or personal) access token: CI_JOB_TOKEN cannot write notes."""

    name = "GitLab"
    comment_limit = 1_000_000

    def __init__(self, *, token: str, api_url: str, project: str, timeout: float | None = None) -> None:
        if not project:
            raise ServiceError("no GitLab project given", where=api_url)
        self.project = project
        self._project_path = f"projects/{quote(project, safe='')}"
        self.rest = RestClient(api_url, service="GitLab", headers={"PRIVATE-TOKEN": token},
                               **({"timeout": timeout} if timeout is not None else {}))

    def viewer(self) -> str | None:
        answer = self.rest.request("GET", "user")
        return str(_field(answer.data, "username", str, self.rest.url("user"), self.name))

    def _note(self, document: Any, where: str) -> Comment:
        return Comment(id=_field(document, "id", int, where, self.name), body=document.get("body") or "",
                       author=_login(document, "author"))

    def list_comments(self, number: int) -> list[Comment]:
        """The merge request's notes, oldest first; system notes ("added 1 commit") are left out."""
        path = f"{self._project_path}/merge_requests/{number}/notes"
        items = self.rest.pages(path, params={"per_page": PER_PAGE, "sort": "asc", "order_by": "created_at"},
                                next_url=next_page_header)
        return [self._note(item, self.rest.url(path)) for item in items
                if isinstance(item, dict) and not item.get("system")]

    def create_comment(self, number: int, body: str) -> Comment:
        path = f"{self._project_path}/merge_requests/{number}/notes"
        answer = self.rest.request("POST", path, body={"body": body}, expect=(201,))
        return self._note(answer.data, self.rest.url(path))

    def update_comment(self, number: int, comment: Comment, body: str) -> Comment:
        path = f"{self._project_path}/merge_requests/{number}/notes/{comment.id}"
        answer = self.rest.request("PUT", path, body={"body": body}, expect=(200,))
        return self._note(answer.data, self.rest.url(path))

    def _issue(self, document: Any, where: str) -> Issue:
        labels = document.get("labels") if isinstance(document, dict) else None
        state = str(document.get("state") or "") if isinstance(document, dict) else ""
        return Issue(number=_field(document, "iid", int, where, self.name),
                     title=str(document.get("title") or ""), body=document.get("description") or "",
                     author=_login(document, "author"), state=_GITLAB_STATES.get(state, state),
                     url=document.get("web_url") if isinstance(document.get("web_url"), str) else None,
                     labels=tuple(sorted(label for label in labels or () if isinstance(label, str))))

    def list_open_issues(self, *, labels: tuple[str, ...] = ()) -> list[Issue]:
        path = f"{self._project_path}/issues"
        params: dict[str, str | int] = {"state": "opened", "per_page": PER_PAGE}
        if labels:
            params["labels"] = ",".join(labels)
        items = self.rest.pages(path, params=params, next_url=next_page_header)
        return [self._issue(item, self.rest.url(path)) for item in items]

    def create_issue(self, *, title: str, body: str, labels: tuple[str, ...] = ()) -> Issue:
        path = f"{self._project_path}/issues"
        document: dict[str, Any] = {"title": title, "description": body}
        if labels:
            document["labels"] = ",".join(labels)
        answer = self.rest.request("POST", path, body=document, expect=(201,))
        return self._issue(answer.data, self.rest.url(path))

    def update_issue(self, issue: Issue, *, title: str | None = None, body: str | None = None,
                     state: str | None = None) -> Issue:
        path = f"{self._project_path}/issues/{issue.number}"
        document: dict[str, Any] = {}
        if title is not None:
            document["title"] = title
        if body is not None:
            document["description"] = body
        if state is not None:
            if state not in _GITLAB_STATE_EVENTS:
                raise ValueError(f"state must be 'open' or 'closed', not {state!r}")
            document["state_event"] = _GITLAB_STATE_EVENTS[state]
        answer = self.rest.request("PUT", path, body=document, expect=(200,))
        return self._issue(answer.data, self.rest.url(path))
