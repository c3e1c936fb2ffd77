"""A real index for the tests: a static PEP 691 tree written into ``tmp_path`` and served on
loopback by ``http.server`` in a thread. Project pages are ``/simple/<name>/`` (the tree's
``simple/<name>/index.json``, served as ``application/vnd.pypi.simple.v1+json`` with an ETag
and 304s for ``If-None-Match``); files and their PEP 658 ``.metadata`` under ``/files/``.

The server records every request and can be switched to misbehave (5xx, HTML, slowness), so
the client's handling of a real HTTP exchange is tested, never a mock of the client."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.loopback import Loopback, StatefulServer

PAGE_TYPE = "application/vnd.pypi.simple.v1+json"
OLD = "2025-01-01T00:00:00.000000Z"  # long before the tests' judging time


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def metadata_text(name: str, version: str, *, license_expression: str | None = None, license_text: str | None = None,
                  classifiers: tuple[str, ...] = ()) -> str:
    lines = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}"]
    if license_expression is not None:
        lines.append(f"License-Expression: {license_expression}")
    if license_text is not None:
        lines.append(f"License: {license_text}")
    lines += [f"Classifier: {c}" for c in classifiers]
    lines.append("Classifier: Programming Language :: Python :: 3")
    return "\n".join(lines) + "\n\nThe long description.\n"


class IndexTree:
    """A static PEP 691 tree. ``add`` appends a file to a project's page and rewrites it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, list[dict[str, Any]]] = {}
        (root / "simple").mkdir(parents=True, exist_ok=True)
        (root / "files").mkdir(parents=True, exist_ok=True)

    def add(self, project: str, filename: str, *, uploaded: str | None = OLD, yanked: bool | str = False,
            digest: str | None = None, metadata: str | None = None, metadata_key: str = "core-metadata",
            url: str | None = None) -> str:
        """Add a file; returns its sha256 (by default that of the filename, as no content is served)."""
        digest = digest or sha256(filename)
        entry: dict[str, Any] = {"filename": filename, "url": url or f"../../files/{filename}",
                                 "hashes": {"sha256": digest}, "yanked": yanked}
        if uploaded is not None:
            entry["upload-time"] = uploaded
        if metadata is not None:
            (self.root / "files" / f"{filename}.metadata").write_text(metadata, encoding="utf-8")
            entry[metadata_key] = {"sha256": sha256(metadata)}
        self.files.setdefault(project, []).append(entry)
        self.write_page(project, {"meta": {"api-version": "1.1"}, "name": project, "files": self.files[project]})
        return digest

    def write_page(self, project: str, document: object) -> None:
        folder = self.root / "simple" / project
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.json").write_text(json.dumps(document), encoding="utf-8")


@dataclass
class Request:
    path: str
    headers: dict[str, str]


@dataclass
class ServerState:
    """What the handler does; tests flip these while the server runs."""

    root: Path
    requests: list[Request] = field(default_factory=list)
    fail_with: int | None = None  # answer every request with this status
    fail_times: int | None = None  # ... only this many times, then serve normally
    content_type: str = PAGE_TYPE
    delay: float = 0.0
    etags: bool = True
    last_modified: str | None = None  # send this Last-Modified and honour If-Modified-Since with 304
    gzip: bool = False
    require_auth: str | None = None  # the exact Authorization value to demand
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: StatefulServer

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(Request(path=self.path, headers={k.lower(): v for k, v in self.headers.items()}))
            failing = state.fail_with is not None and (state.fail_times is None or state.fail_times > 0)
            if failing and state.fail_times is not None:
                state.fail_times -= 1
        if state.delay:
            time.sleep(state.delay)
        if failing:
            self._send(state.fail_with or 500, b"failing on purpose", "text/plain")
            return
        if state.require_auth is not None and self.headers.get("Authorization") != state.require_auth:
            self._send(401, b"who are you", "text/plain")
            return
        body, content_type = self._lookup(state)
        if body is None:
            self._send(404, b"not here", "text/plain")
            return
        headers = {}
        if state.etags:
            etag = f'"{sha256(body)[:16]}"'
            headers["ETag"] = etag
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", None, headers)
                return
        if state.last_modified is not None:
            headers["Last-Modified"] = state.last_modified
            if self.headers.get("If-Modified-Since") == state.last_modified:
                self._send(304, b"", None, headers)
                return
        if state.gzip and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self._send(200, body, content_type, headers)

    def _lookup(self, state: ServerState) -> tuple[bytes | None, str]:
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if len(parts) == 2 and parts[0] == "simple" and self.path.endswith("/"):
            page = state.root / "simple" / parts[1] / "index.json"
            return (page.read_bytes() if page.is_file() else None), state.content_type
        if len(parts) == 2 and parts[0] == "files" and ".." not in parts[1]:
            path = state.root / "files" / parts[1]
            return (path.read_bytes() if path.is_file() else None), "application/octet-stream"
        return None, "text/plain"

    def _send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class IndexServer(Loopback):
    """The tree served on loopback for the duration of a ``with`` block."""

    def __init__(self, root: Path) -> None:
        self.tree = IndexTree(root)
        self.state = ServerState(root=root)
        super().__init__(_Handler, self.state)

    @property
    def index_url(self) -> str:
        return self.url + "/simple"

    @property
    def requests(self) -> list[Request]:
        return self.state.requests

    def paths(self) -> list[str]:
        return sorted(r.path for r in self.state.requests)


@contextmanager
def refused_url() -> Iterator[str]:
    """An index URL on loopback where nothing listens: a port bound (so nothing else takes it)
    but not listening, which refuses connections at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/simple"


def edit_cache_header(path: Path, **changes: object) -> None:
    """Change fields of a cached project entry's header line (its first line), keeping the releases."""
    header, _, releases = path.read_bytes().partition(b"\n")
    document = {**json.loads(header), **changes}
    path.write_bytes(json.dumps(document).encode() + b"\n" + releases)
