"""The download against a server on loopback, started here: never the internet."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from gate.advisories.download import OSV_PYPI_ALL_ZIP, download
from gate.errors import ServiceError
from tests.loopback import Loopback

PAYLOAD = bytes(range(256)) * 10_000  # 2.5 MB: several chunks


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/all.zip":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        elif self.path == "/chunked.zip":  # no Content-Length: the total is unknown
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(PAYLOAD[:1000])
        elif self.path == "/truncated.zip":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[:1000])
        elif self.path == "/slow.zip":
            time.sleep(1.0)
            self.send_response(200)
            self.end_headers()
        else:
            self.send_error(404, "Not Found")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with Loopback(Handler, None) as httpd:
        yield httpd.url


def test_download_writes_the_file_and_reports_progress(server: str, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    dest = tmp_path / "cache" / "all.zip"
    download(f"{server}/all.zip", dest, progress=lambda done, total: seen.append((done, total)))
    assert dest.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["all.zip"]


def test_unknown_length(server: str, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    download(f"{server}/chunked.zip", tmp_path / "all.zip", progress=lambda done, total: seen.append((done, total)))
    assert (tmp_path / "all.zip").read_bytes() == PAYLOAD[:1000]
    assert seen == [(1000, None)]


def test_not_found_names_the_url(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "all.zip"
    dest.write_bytes(b"previous")
    with pytest.raises(ServiceError) as raised:
        download(f"{server}/missing.zip", dest)
    assert str(raised.value) == f"{server}/missing.zip: HTTP 404 Not Found"
    assert dest.read_bytes() == b"previous"


def test_truncated_response_leaves_nothing(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "all.zip"
    with pytest.raises(ServiceError, match=r"truncated\.zip: .*1000"):
        download(f"{server}/truncated.zip", dest)
    assert list(tmp_path.iterdir()) == []


def test_timeout(server: str, tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match=r"slow\.zip: cannot (connect|download): timed out"):
        download(f"{server}/slow.zip", tmp_path / "all.zip", timeout=0.2)
    assert list(tmp_path.iterdir()) == []


def test_unreachable(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port that nothing listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServiceError, match=rf"127\.0\.0\.1:{port}/all\.zip: cannot connect: "):
        download(f"http://127.0.0.1:{port}/all.zip", tmp_path / "all.zip", timeout=2)


def test_only_http(tmp_path: Path) -> None:
    with pytest.raises(ServiceError) as raised:
        download("file:///etc/passwd", tmp_path / "x")
    assert str(raised.value) == "file:///etc/passwd: only http and https URLs can be downloaded"


def test_default_url() -> None:
    assert OSV_PYPI_ALL_ZIP == "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
