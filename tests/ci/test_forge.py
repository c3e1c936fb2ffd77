"""The GitHub and GitLab clients against the REST APIs served on loopback (tests/ci/forge_server.py):
identity, comments/notes with pagination, issues, and how failures are reported."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from gate.ci.forge import GITHUB_ACTIONS_BOT, GitHub, GitLab, find_open_issue
from gate.ci.rest import RestClient, link_next
from gate.errors import ServiceError
from tests.ci.forge_server import GITHUB_TOKEN, GITLAB_TOKEN, ForgeServer


@pytest.fixture
def server() -> Iterator[ForgeServer]:
    with ForgeServer() as running:
        yield running


def github(server: ForgeServer, token: str = GITHUB_TOKEN) -> GitHub:
    return GitHub(token=token, repository="acme/app", api_url=server.url, timeout=5)


def gitlab(server: ForgeServer, project: str = "5") -> GitLab:
    return GitLab(token=GITLAB_TOKEN, api_url=server.gitlab_url, project=project, timeout=5)


# --- GitHub ------------------------------------------------------------------------------


def test_github_viewer_is_the_token_login(server: ForgeServer) -> None:
    assert github(server).viewer() == "gate-bot"
    seen = server.state.seen[-1]
    assert (seen.method, seen.path) == ("GET", "/user")
    assert seen.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert seen.headers["accept"] == "application/vnd.github+json"
    assert seen.headers["x-github-api-version"] == "2022-11-28"
    assert seen.headers["user-agent"].startswith("promotion-gate/")


def test_github_actions_token_cannot_read_user_and_posts_as_the_actions_bot(server: ForgeServer) -> None:
    server.state.github_viewer = None
    assert github(server).viewer() == GITHUB_ACTIONS_BOT
    created = github(server).create_comment(7, "hello")
    assert created.author == GITHUB_ACTIONS_BOT


def test_github_comments_follow_the_link_header_across_pages(server: ForgeServer) -> None:
    server.state.comments[7] = [{"id": n, "body": f"c{n}", "user": {"login": "someone"}} for n in range(1, 6)]
    comments = github(server).list_comments(7)
    assert [(c.id, c.body, c.author) for c in comments] == [(n, f"c{n}", "someone") for n in range(1, 6)]
    gets = [s.path for s in server.state.seen if s.method == "GET"]
    assert gets == ["/repos/acme/app/issues/7/comments?per_page=100",
                    "/repos/acme/app/issues/7/comments?per_page=100&page=2",
                    "/repos/acme/app/issues/7/comments?per_page=100&page=3"]


def test_github_create_and_update_a_comment(server: ForgeServer) -> None:
    client = github(server)
    created = client.create_comment(7, "first")
    assert created.url == f"https://github.test/acme/app/pull/7#issuecomment-{created.id}"
    updated = client.update_comment(7, created, "second")
    assert (updated.id, updated.body) == (created.id, "second")
    assert server.state.writes() == [("POST", "/repos/acme/app/issues/7/comments"),
                                     ("PATCH", f"/repos/acme/app/issues/comments/{created.id}")]
    assert [c["body"] for c in server.state.comments[7]] == ["second"]


def test_github_pull_request_head(server: ForgeServer) -> None:
    server.state.heads[7] = "a" * 40
    assert github(server).pull_request_head(7) == "a" * 40


def test_github_issues_leave_pull_requests_out_and_filter_by_label(server: ForgeServer) -> None:
    server.state.issues = [
        {"number": 1, "title": "a PR", "body": "", "state": "open", "user": {"login": "x"}, "pull_request": {}},
        {"number": 2, "title": "bug", "body": "b", "state": "open", "user": {"login": "x"}, "labels": []},
        {"number": 3, "title": "gate", "body": "g", "state": "open", "user": {"login": "gate-bot"},
         "labels": [{"name": "security"}, {"name": "promotion-gate"}]},
        {"number": 4, "title": "old", "body": "g", "state": "closed", "user": {"login": "gate-bot"}, "labels": []},
    ]
    client = github(server)
    assert [i.number for i in client.list_open_issues()] == [2, 3]
    [labelled] = client.list_open_issues(labels=("promotion-gate",))
    assert (labelled.number, labelled.labels, labelled.author) == (3, ("promotion-gate", "security"), "gate-bot")


def test_github_issue_lifecycle_and_find_by_marker_and_author(server: ForgeServer) -> None:
    client = github(server)
    marker = "<!-- promotion-gate:nightly -->"
    # Someone else copied the marker into their issue: not ours.
    server.state.issues.append({"number": 1, "title": "copy", "body": marker, "state": "open",
                                "user": {"login": "mallory"}, "labels": []})
    assert find_open_issue(client, marker=marker, author="gate-bot") is None
    created = client.create_issue(title="Gate: 2 blocking", body=f"{marker}\nreport", labels=("promotion-gate",))
    assert (created.number, created.state, created.labels) == (2, "open", ("promotion-gate",))
    found = find_open_issue(client, marker=marker, author="gate-bot", labels=("promotion-gate",))
    assert found is not None and found.number == 2
    updated = client.update_issue(found, title="Gate: 1 blocking", body=f"{marker}\nnewer")
    assert (updated.title, updated.body) == ("Gate: 1 blocking", f"{marker}\nnewer")
    closed = client.update_issue(updated, state="closed")
    assert closed.state == "closed"
    assert find_open_issue(client, marker=marker, author="gate-bot") is None
    with pytest.raises(ValueError, match="state must be 'open' or 'closed'"):
        client.update_issue(closed, state="reopened")


def test_github_bad_token_is_a_service_error_that_never_shows_the_token(server: ForgeServer) -> None:
    with pytest.raises(ServiceError) as raised:
        github(server, token="ghp_wrong-secret").viewer()
    assert str(raised.value) == f"{server.url}/user: GitHub API: GET: HTTP 401 Unauthorized: Bad credentials"
    assert "secret" not in str(raised.value)


def test_github_read_only_token_cannot_comment(server: ForgeServer) -> None:
    server.state.read_only = True
    with pytest.raises(ServiceError) as raised:
        github(server).create_comment(7, "x")
    assert str(raised.value) == (f"{server.url}/repos/acme/app/issues/7/comments: GitHub API: POST: HTTP 403 "
                                 "Forbidden: Resource not accessible by integration")


def test_a_get_is_retried_once_after_a_5xx(server: ForgeServer) -> None:
    server.state.fail_next = [502]
    assert github(server).viewer() == "gate-bot"
    assert [s.path for s in server.state.seen] == ["/user", "/user"]


def test_a_get_that_fails_twice_is_a_service_error(server: ForgeServer) -> None:
    server.state.fail_next = [503, 503]
    with pytest.raises(ServiceError) as raised:
        github(server).viewer()
    assert str(raised.value) == (f"{server.url}/user: GitHub API: GET: HTTP 503 Service Unavailable: "
                                 "injected 503")


def test_a_write_is_never_retried(server: ForgeServer) -> None:
    server.state.fail_next = [502]
    with pytest.raises(ServiceError, match="POST: HTTP 502 Bad Gateway"):
        github(server).create_comment(7, "x")
    assert server.state.writes() == [("POST", "/repos/acme/app/issues/7/comments")]
    assert 7 not in server.state.comments


def test_a_redirect_is_not_followed(server: ForgeServer) -> None:
    server.state.fail_next = [301]
    with pytest.raises(ServiceError) as raised:
        github(server).list_comments(7)
    assert "HTTP 301: moved to ? (not followed; is the repository renamed?)" in str(raised.value)
    assert len(server.state.seen) == 1


def test_an_unreachable_api_is_a_service_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with pytest.raises(ServiceError) as raised:
            GitHub(token=GITHUB_TOKEN, repository="acme/app", api_url=url, timeout=5).viewer()
    assert str(raised.value) == f"{url}/user: GitHub API: GET: cannot connect: Connection refused"


def test_the_token_is_never_sent_to_another_origin(server: ForgeServer) -> None:
    client = RestClient(server.url, service="GitHub", headers={"Authorization": f"Bearer {GITHUB_TOKEN}"})
    with pytest.raises(ServiceError) as raised:
        client.request("GET", "https://elsewhere.test/user")
    assert str(raised.value) == (f"https://elsewhere.test/user: refusing to send the GitHub token to another "
                                 f"origin than {server.url}")
    server.state.comments[7] = [{"id": n, "body": "", "user": {"login": "x"}} for n in range(3)]

    def away(answer: object, url: str) -> str | None:
        return "http://127.0.0.2:1/next" if url.startswith(server.url) else None

    with pytest.raises(ServiceError, match="refusing to send the GitHub token"):
        client.pages("repos/acme/app/issues/7/comments", params={}, next_url=away)
    assert len(server.state.seen) == 1


def test_link_header_parsing() -> None:
    from email.message import Message

    from gate.ci.rest import Answer

    headers = Message()
    headers["Link"] = '<https://api.test/x?page=3>; rel="last", <https://api.test/x?page=2>; rel="next"'
    assert link_next(Answer(status=200, headers=headers, data=[]), "") == "https://api.test/x?page=2"
    assert link_next(Answer(status=200, headers=Message(), data=[]), "") is None


def test_an_answer_that_is_not_json_is_a_service_error(server: ForgeServer) -> None:
    server.state.fail_next = [(200, b"<html>login page of a proxy</html>")]
    with pytest.raises(ServiceError) as raised:
        github(server).viewer()
    assert str(raised.value) == f"{server.url}/user: GitHub API: GET: the answer is not JSON"


def test_a_list_endpoint_that_answers_something_else_is_a_service_error(server: ForgeServer) -> None:
    client = RestClient(server.url, service="GitHub", headers={"Authorization": f"Bearer {GITHUB_TOKEN}"})
    with pytest.raises(ServiceError) as raised:
        client.pages("user", params={}, next_url=link_next)
    assert str(raised.value) == f"{server.url}/user: GitHub API: the answer is not a list"


def test_an_answer_without_the_fields_used_is_a_service_error(server: ForgeServer) -> None:
    server.state.fail_next = [(200, b'{"name": "no login here"}')]
    with pytest.raises(ServiceError) as raised:
        github(server).viewer()
    assert str(raised.value) == f"{server.url}/user: GitHub API: the answer has no str 'login'"


def test_api_url_must_be_http() -> None:
    with pytest.raises(ServiceError) as raised:
        GitHub(token="t", repository="acme/app", api_url="file:///etc")
    assert str(raised.value) == "file:///etc: the GitHub API URL must be an http(s) URL"
    with pytest.raises(ServiceError, match="the repository must be given as OWNER/NAME"):
        GitHub(token="t", repository="acme")


# --- GitLab ------------------------------------------------------------------------------


def test_gitlab_viewer_and_token_header(server: ForgeServer) -> None:
    assert gitlab(server).viewer() == "project_5_bot"
    assert server.state.seen[-1].headers["private-token"] == GITLAB_TOKEN


def test_gitlab_notes_follow_x_next_page_and_leave_system_notes_out(server: ForgeServer) -> None:
    server.state.notes[3] = [{"id": n, "body": f"n{n}", "system": n == 2, "author": {"id": 1, "username": "dev"}}
                             for n in range(1, 6)]
    notes = gitlab(server).list_comments(3)
    assert [(n.id, n.author) for n in notes] == [(1, "dev"), (3, "dev"), (4, "dev"), (5, "dev")]
    gets = [s.path for s in server.state.seen if s.method == "GET"]
    query = "per_page=100&sort=asc&order_by=created_at"
    assert gets == [f"/api/v4/projects/5/merge_requests/3/notes?{query}",
                    f"/api/v4/projects/5/merge_requests/3/notes?{query}&page=2",
                    f"/api/v4/projects/5/merge_requests/3/notes?{query}&page=3"]


def test_gitlab_create_and_update_a_note_by_project_path(server: ForgeServer) -> None:
    client = gitlab(server, project="acme/app")
    created = client.create_comment(3, "first")
    updated = client.update_comment(3, created, "second")
    assert (updated.id, updated.body, updated.author) == (created.id, "second", "project_5_bot")
    assert server.state.writes() == [("POST", "/api/v4/projects/acme%2Fapp/merge_requests/3/notes"),
                                     ("PUT", f"/api/v4/projects/acme%2Fapp/merge_requests/3/notes/{created.id}")]


def test_gitlab_issue_lifecycle(server: ForgeServer) -> None:
    client = gitlab(server)
    marker = "<!-- promotion-gate:nightly -->"
    created = client.create_issue(title="Gate", body=f"{marker}\nr", labels=("promotion-gate", "security"))
    assert (created.number, created.state, created.labels) == (1, "open", ("promotion-gate", "security"))
    assert created.url == "https://gitlab.test/acme/app/-/issues/1"
    found = find_open_issue(client, marker=marker, author="project_5_bot", labels=("promotion-gate",))
    assert found == created
    closed = client.update_issue(found, body=f"{marker}\nfixed", state="closed")
    assert (closed.state, closed.body) == ("closed", f"{marker}\nfixed")
    assert find_open_issue(client, marker=marker, author=None) is None
    reopened = client.update_issue(closed, state="open")
    assert reopened.state == "open"
    assert server.state.seen[-1].body == {"state_event": "reopen"}


def test_gitlab_error_message_is_one_line(server: ForgeServer) -> None:
    server.state.fail_next = [400]
    with pytest.raises(ServiceError) as raised:
        gitlab(server).create_comment(3, "x")
    assert str(raised.value) == (f"{server.gitlab_url}/projects/5/merge_requests/3/notes: GitLab API: POST: "
                                 "HTTP 400 Bad Request: injected 400")
