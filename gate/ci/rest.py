"""A small JSON client for the forges' REST APIs (GitHub, GitLab): the only module of
:mod:`gate.ci` that opens connections.

- The token travels in a header, never in a URL, so a URL in an error message is safe to print;
  it is sent only to the API's own origin: a pagination link to another host is refused, and
  redirects are not followed (a redirected request would carry or drop the header silently).
- Failures are :class:`~gate.errors.ServiceError` (exit 6) naming the method and URL, with the
  API's own one-line ``message`` when it gave one. A GET that fails on the connection, a 5xx or
  a 429 is tried once more after a short pause; a POST/PATCH/PUT is not (it may have happened).
- Answers are read up to a bound and must be JSON.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlencode, urlsplit

from gate.errors import ServiceError
from gate.network import USER_AGENT, describe_error
from gate.report.escape import terminal_text

DEFAULT_TIMEOUT = 30.0  # seconds without progress on one request
MAX_ANSWER_BYTES = 32 * 1024 * 1024
MAX_PAGES = 100  # 100 pages of 100 items: a thread longer than that is not searched further
RETRY_DELAY = 0.5
_MESSAGE_LIMIT = 200


@dataclass(frozen=True, kw_only=True, slots=True)
class Answer:
    status: int
    headers: Message
    data: Any  # the decoded JSON body; None for an empty body


class _Transient(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand 3xx back as an HTTPError: the caller says what moved instead of following it."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Message,
                         newurl: str) -> None:
        return None


class RestClient:
    """Requests to one API root (``https://api.github.com``, ``https://gitlab.example/api/v4``)."""

    def __init__(self, base_url: str, *, service: str, headers: Mapping[str, str],
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ServiceError(f"the {service} API URL must be an http(s) URL", where=base_url)
        self.base_url = base_url.rstrip("/")
        self.service = service
        self._origin = (parts.scheme, parts.netloc.lower())
        self._headers = dict(headers)
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect())

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        """``path`` below the API root (or a full URL of the same origin), with a query."""
        url = path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"
        if params:
            url += ("&" if "?" in url else "?") + urlencode({k: str(v) for k, v in params.items()})
        return url

    def request(self, method: str, path: str, *, params: Mapping[str, str | int] | None = None,
                body: Mapping[str, Any] | None = None, expect: Collection[int] = (200, 201)) -> Answer:
        """One call; a status outside ``expect`` is a ServiceError."""
        url = self.url(path, params)
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc.lower()) != self._origin:
            raise ServiceError(f"refusing to send the {self.service} token to another origin than "
                               f"{self.base_url}", where=url)
        if method == "GET":
            try:
                return self._once(method, url, body=body, expect=expect)
            except _Transient:
                time.sleep(RETRY_DELAY)
        try:
            return self._once(method, url, body=body, expect=expect)
        except _Transient as error:
            raise ServiceError(f"{self.service} API: {method}: {error.message}", where=url) from None

    def pages(self, path: str, *, params: Mapping[str, str | int], next_url: Callable[[Answer, str], str | None],
              ) -> list[Any]:
        """Every item of a paginated list, following ``next_url(answer, url)`` for up to MAX_PAGES pages."""
        items: list[Any] = []
        url: str | None = self.url(path, params)
        for _ in range(MAX_PAGES):
            if url is None:
                return items
            answer = self.request("GET", url)
            if not isinstance(answer.data, list):
                raise ServiceError(f"{self.service} API: the answer is not a list", where=url)
            items.extend(answer.data)
            url = next_url(answer, url)
        return items

    def _once(self, method: str, url: str, *, body: Mapping[str, Any] | None, expect: Collection[int]) -> Answer:
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **self._headers}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            response = self._opener.open(request, timeout=self._timeout)  # http(s) only: checked in __init__
        except urllib.error.HTTPError as error:
            with error:
                status, error_headers = error.code, error.headers
                raw = _read(error, url=url, service=self.service, method=method)
            if status in expect:
                return Answer(status=status, headers=error_headers, data=_decode(raw))
            if status >= 500 or status == 429:
                raise _Transient(f"HTTP {status} {error.reason}{_api_message(raw)}") from None
            if 300 <= status < 400:
                moved = terminal_text(error_headers.get("Location") or "?", _MESSAGE_LIMIT)
                raise ServiceError(f"{self.service} API: {method}: HTTP {status}: moved to {moved} (not followed; "
                                   "is the repository renamed?)", where=url) from None
            raise ServiceError(f"{self.service} API: {method}: HTTP {status} {error.reason}{_api_message(raw)}",
                               where=url) from None
        except urllib.error.URLError as error:
            raise _Transient(f"cannot connect: {describe_error(error.reason)}") from None
        except (http.client.HTTPException, OSError) as error:
            raise _Transient(f"cannot read the answer: {describe_error(error)}") from None
        with response:
            raw = _read(response, url=url, service=self.service, method=method)
            status, answer_headers = response.status, response.headers
        if status not in expect:
            raise ServiceError(f"{self.service} API: {method}: unexpected HTTP {status}", where=url)
        try:
            decoded = _decode(raw)
        except ValueError:
            raise ServiceError(f"{self.service} API: {method}: the answer is not JSON", where=url) from None
        return Answer(status=status, headers=answer_headers, data=decoded)


def _read(response: Any, *, url: str, service: str, method: str) -> bytes:
    try:
        raw: bytes = response.read(MAX_ANSWER_BYTES + 1)
    except (http.client.HTTPException, OSError) as error:
        raise _Transient(f"cannot read the answer: {describe_error(error)}") from None
    if len(raw) > MAX_ANSWER_BYTES:
        raise ServiceError(f"{service} API: {method}: the answer is larger than {MAX_ANSWER_BYTES} bytes", where=url)
    return raw


def _decode(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None


def _api_message(raw: bytes) -> str:
    """The API's own explanation (GitHub's and GitLab's ``message``, GitLab's ``error``), one line."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(document, dict):
        return ""
    message = document.get("message") or document.get("error")
    if isinstance(message, dict | list):
        message = json.dumps(message, sort_keys=True)
    return f": {terminal_text(message, _MESSAGE_LIMIT)}" if isinstance(message, str) and message else ""


def link_next(answer: Answer, url: str) -> str | None:
    """GitHub's pagination: the ``rel="next"`` target of the ``Link`` header."""
    for part in (answer.headers.get("Link") or "").split(","):
        target, _, rest = part.strip().partition(";")
        if target.startswith("<") and target.endswith(">") and any(
                param.strip().replace(" ", "") in ('rel="next"', "rel=next") for param in rest.split(";")):
            return target[1:-1]
    return None


def next_page_header(answer: Answer, url: str) -> str | None:
    """GitLab's pagination: the ``X-Next-Page`` header (empty on the last page)."""
    page = (answer.headers.get("X-Next-Page") or "").strip()
    if not page.isdigit():
        return None
    base, _, query = url.partition("?")
    kept = [pair for pair in query.split("&") if pair and not pair.startswith("page=")]
    return f"{base}?{'&'.join([*kept, f'page={page}'])}"
