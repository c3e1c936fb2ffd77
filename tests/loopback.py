"""An HTTP handler served on 127.0.0.1, in a thread, for the duration of a ``with`` block: the
stand-in package index, forge APIs, webhook receivers and advisory mirrors of the tests share
this one harness. The handler reaches the test's state as ``self.server.state``."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self


class StatefulServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], state: Any) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.state = state

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: a client that stops reading (size bounds, timeouts) is what some tests provoke."""


class Loopback:
    """Serves ``handler`` with ``state`` while the ``with`` block runs."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], state: Any) -> None:
        self._server = StatefulServer(handler, state)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class StaticFiles(SimpleHTTPRequestHandler):
    """Serves the folder given as the state (a ``Path``), as a bucket or mirror of files would:
    ``Loopback(StaticFiles, folder)``. GET and HEAD only; an absent file is 404 "File not found"."""

    def __init__(self, request: socket.socket | tuple[bytes, socket.socket], client_address: tuple[str, int],
                 server: StatefulServer) -> None:
        folder = server.state
        assert isinstance(folder, Path), folder
        super().__init__(request, client_address, server, directory=str(folder))

    def log_message(self, format: str, *args: object) -> None:
        pass
