"""A GitHub and GitLab REST API on loopback, for the comment and issue clients: the endpoints the
gate calls, answered the way the forges answer them (status codes, pagination headers, author
fields, errors with a ``message``), from in-memory state the tests arrange and inspect.

GitHub lives at ``/`` (as ``GITHUB_API_URL``), GitLab at ``/api/v4`` (as ``CI_API_V4_URL``).
Pages hold ``page_size`` items whatever ``per_page`` asks, so pagination is exercised with a
handful of comments."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import Loopback, StatefulServer

GITHUB_TOKEN = "ghs_test-token-0123456789"
GITLAB_TOKEN = "glpat-test-token-0123456789"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class ForgeState:
    github_viewer: str | None = "gate-bot"  # None: GET /user is 403, as for the Actions GITHUB_TOKEN
    gitlab_viewer: tuple[int, str] = (77, "project_5_bot")
    page_size: int = 2
    read_only: bool = False  # writes are 403, as for a fork's pull_request token
    fail_next: list[int | tuple[int, bytes]] = field(default_factory=list)  # answers to the next requests
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # PR number -> comments
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # MR iid -> notes
    issues: list[dict[str, Any]] = field(default_factory=list)  # both forges' issues, in their own shapes
    heads: dict[int, str] = field(default_factory=dict)  # PR number -> head sha
    seen: list[Seen] = field(default_factory=list)
    next_id: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def writes(self) -> list[tuple[str, str]]:
        return [(s.method, s.path) for s in self.seen if s.method != "GET"]


class _Handler(BaseHTTPRequestHandler):
    server: StatefulServer

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        with state.lock:
            headers = {name.lower(): value for name, value in self.headers.items()}
            state.seen.append(Seen(method=method, path=self.path, headers=headers, body=body))
            if state.fail_next:
                injected = state.fail_next.pop(0)
                if isinstance(injected, tuple):
                    return self._raw(*injected)
                return self._json(injected, {"message": f"injected {injected}"})
            if parts.path.startswith("/api/v4/"):
                return self._gitlab(method, parts.path[len("/api/v4"):], query, body)
            return self._github(method, parts.path, query, body)

    # --- GitHub -------------------------------------------------------------------------

    def _github(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        state = self.server.state
        if self.headers.get("Authorization") != f"Bearer {GITHUB_TOKEN}":
            return self._json(401, {"message": "Bad credentials"})
        if method != "GET" and state.read_only:
            return self._json(403, {"message": "Resource not accessible by integration"})
        author = state.github_viewer or "github-actions[bot]"
        if path == "/user" and method == "GET":
            if state.github_viewer is None:
                return self._json(403, {"message": "Resource not accessible by integration"})
            return self._json(200, {"login": state.github_viewer, "type": "Bot"})
        if match := re.fullmatch(r"/repos/acme/app/issues/(\d+)/comments", path):
            number = int(match[1])
            if method == "GET":
                return self._github_page(path, query, state.comments.get(number, []))
            if method == "POST":
                comment = {"id": state.new_id(), "body": body["body"], "user": {"login": author},
                           "html_url": f"https://github.test/acme/app/pull/{number}#issuecomment-{state.next_id}"}
                state.comments.setdefault(number, []).append(comment)
                return self._json(201, comment)
        if (match := re.fullmatch(r"/repos/acme/app/issues/comments/(\d+)", path)) and method == "PATCH":
            for comments in state.comments.values():
                for comment in comments:
                    if comment["id"] == int(match[1]):
                        comment["body"] = body["body"]
                        return self._json(200, comment)
            return self._json(404, {"message": "Not Found"})
        if (match := re.fullmatch(r"/repos/acme/app/pulls/(\d+)", path)) and method == "GET":
            number = int(match[1])
            if number not in state.heads:
                return self._json(404, {"message": "Not Found"})
            return self._json(200, {"number": number, "head": {"sha": state.heads[number]}})
        if path == "/repos/acme/app/issues":
            if method == "GET":
                wanted = set(filter(None, query.get("labels", "").split(",")))
                issues = [i for i in state.issues if "number" in i and i["state"] == query.get("state", "open")
                          and wanted <= {label["name"] for label in i.get("labels", [])}]
                return self._github_page(path, query, issues)
            if method == "POST":
                number = 1 + max((i["number"] for i in state.issues if "number" in i), default=0)
                issue = {"number": number, "title": body["title"], "body": body["body"], "state": "open",
                         "user": {"login": author}, "labels": [{"name": n} for n in body.get("labels", [])],
                         "html_url": f"https://github.test/acme/app/issues/{number}"}
                state.issues.append(issue)
                return self._json(201, issue)
        if (match := re.fullmatch(r"/repos/acme/app/issues/(\d+)", path)) and method == "PATCH":
            for issue in state.issues:
                if issue.get("number") == int(match[1]):
                    issue.update({key: body[key] for key in ("title", "body", "state") if key in body})
                    return self._json(200, issue)
            return self._json(404, {"message": "Not Found"})
        return self._json(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})

    def _github_page(self, path: str, query: dict[str, str], items: list[dict[str, Any]]) -> None:
        size = self.server.state.page_size
        page = int(query.get("page", "1"))
        chunk = items[(page - 1) * size: page * size]
        headers = {}
        if page * size < len(items):
            rest = "&".join(f"{k}={v}" for k, v in query.items() if k != "page")
            base = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
            headers["Link"] = (f'<{base}?{rest}&page={page + 1}>; rel="next", '
                               f'<{base}?{rest}&page={-(-len(items) // size)}>; rel="last"')
        self._json(200, chunk, headers)

    # --- GitLab -------------------------------------------------------------------------

    def _gitlab(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        state = self.server.state
        if self.headers.get("PRIVATE-TOKEN") != GITLAB_TOKEN:
            return self._json(401, {"message": "401 Unauthorized"})
        user_id, username = state.gitlab_viewer
        if path == "/user" and method == "GET":
            return self._json(200, {"id": user_id, "username": username, "bot": True})
        project = r"/projects/(?:5|acme%2Fapp)"
        if match := re.fullmatch(project + r"/merge_requests/(\d+)/notes", path):
            iid = int(match[1])
            if method == "GET":
                if query.get("sort") != "asc":
                    return self._json(400, {"error": "sort is not asc"})
                return self._gitlab_page(state.notes.get(iid, []), query)
            if method == "POST":
                note = {"id": state.new_id(), "body": body["body"], "system": False,
                        "author": {"id": user_id, "username": username}}
                state.notes.setdefault(iid, []).append(note)
                return self._json(201, note)
        if (match := re.fullmatch(project + r"/merge_requests/(\d+)/notes/(\d+)", path)) and method == "PUT":
            for note in state.notes.get(int(match[1]), []):
                if note["id"] == int(match[2]):
                    note["body"] = body["body"]
                    return self._json(200, note)
            return self._json(404, {"message": "404 Not found"})
        if re.fullmatch(project + r"/issues", path):
            if method == "GET":
                wanted = set(filter(None, query.get("labels", "").split(",")))
                issues = [i for i in state.issues if "iid" in i and i["state"] == query.get("state")
                          and wanted <= set(i["labels"])]
                return self._gitlab_page(issues, query)
            if method == "POST":
                iid = 1 + max((i["iid"] for i in state.issues if "iid" in i), default=0)
                issue = {"iid": iid, "id": state.new_id(), "title": body["title"], "description": body["description"],
                         "state": "opened", "author": {"id": user_id, "username": username},
                         "labels": sorted(filter(None, body.get("labels", "").split(","))),
                         "web_url": f"https://gitlab.test/acme/app/-/issues/{iid}"}
                state.issues.append(issue)
                return self._json(201, issue)
        if (match := re.fullmatch(project + r"/issues/(\d+)", path)) and method == "PUT":
            for issue in state.issues:
                if issue.get("iid") == int(match[1]):
                    if "title" in body:
                        issue["title"] = body["title"]
                    if "description" in body:
                        issue["description"] = body["description"]
                    if "state_event" in body:
                        issue["state"] = {"close": "closed", "reopen": "opened"}[body["state_event"]]
                    return self._json(200, issue)
            return self._json(404, {"message": "404 Not found"})
        return self._json(404, {"message": "404 Not Found"})

    def _gitlab_page(self, items: list[dict[str, Any]], query: dict[str, str]) -> None:
        size = self.server.state.page_size
        page = int(query.get("page", "1"))
        chunk = items[(page - 1) * size: page * size]
        more = page * size < len(items)
        self._json(200, chunk, {"X-Next-Page": str(page + 1) if more else "", "X-Page": str(page),
                                "X-Total": str(len(items))})

    # --- plumbing -----------------------------------------------------------------------

    def _json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        self._raw(status, json.dumps(document).encode(), headers, content_type="application/json; charset=utf-8")

    def _raw(self, status: int, data: bytes, headers: dict[str, str] | None = None,
             content_type: str = "text/html") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class ForgeServer(Loopback):
    """Both APIs on one loopback port for the duration of a ``with`` block."""

    def __init__(self) -> None:
        self.state = ForgeState()
        super().__init__(_Handler, self.state)

    @property
    def gitlab_url(self) -> str:
        return self.url + "/api/v4"
