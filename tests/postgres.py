"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries on a private data folder,
listening on a unix socket only, stopped at the end of the session.

``GATE_TEST_POSTGRES_URL`` (a server the caller runs; the tests create and drop their own
databases on it) takes precedence. Without it and without ``/usr/lib/postgresql/*/bin/initdb``
the PostgreSQL tests skip, saying why; ``.ci/run`` installs the binaries, so CI runs them.
The server refuses to run as root, so as root it runs as the ``postgres`` user (``runuser``)."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

URL_VARIABLE = "GATE_TEST_POSTGRES_URL"
_counter = itertools.count(1)


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]) if
                   p.split("/")[4].isdigit() else 0)
    return Path(found[-1]).parent if found else None


class Cluster:
    """A running server; :meth:`new_database` makes an empty database and returns its URL."""

    def __init__(self, admin_url: str, stop: list[list[str]] | None = None, folder: Path | None = None) -> None:
        self.admin_url = admin_url
        self._stop = stop
        self._folder = folder

    def new_database(self) -> str:
        import psycopg
        from sqlalchemy.engine import make_url

        name = f"gate_test_{os.getpid()}_{next(_counter)}"
        admin = make_url(self.admin_url)
        with psycopg.connect(_libpq(admin), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        return admin.set(database=name).render_as_string(hide_password=False)

    def stop(self) -> None:
        if self._stop is not None:
            subprocess.run(self._stop[0], check=False, capture_output=True)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def _libpq(url: object) -> str:
    from sqlalchemy.engine import URL

    assert isinstance(url, URL)
    parts = {"dbname": url.database or "postgres", "user": url.username, "password": url.password,
             "host": url.host or url.query.get("host"), "port": url.port or url.query.get("port")}
    return " ".join(f"{key}={value}" for key, value in parts.items() if value)


def start_cluster(*, durable: bool = False) -> tuple[Cluster | None, str]:
    """A running cluster, or None and why not. ``durable``: keep fsync on (benchmarks); the tests turn it off."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        return Cluster(given), ""
    binaries = _binaries()
    if binaries is None:
        return None, ("PostgreSQL server binaries not installed (/usr/lib/postgresql/*/bin/initdb; "
                      f"apt-get install postgresql) and {URL_VARIABLE} not set")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    folder = Path(tempfile.mkdtemp(prefix="gate-pg-"))
    data, socket = folder / "data", folder / "socket"
    socket.mkdir()
    if as_root:
        shutil.chown(folder, "postgres")
        shutil.chown(socket, "postgres")
    port = "54329" if not durable else "54330"
    init = subprocess.run([*prefix, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                           "--no-sync", "-E", "UTF8"], capture_output=True, text=True)
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        return None, f"initdb failed: {init.stderr.strip()[:300]}"
    options = f"-k {socket} -p {port} -c listen_addresses=''"
    if not durable:
        options += " -c fsync=off -c full_page_writes=off"
    start = subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                            str(folder / "server.log"), "-w", "-t", "60", "start"], capture_output=True, text=True)
    if start.returncode != 0:
        log = (folder / "server.log").read_text(errors="replace") if (folder / "server.log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        return None, f"PostgreSQL did not start: {(start.stderr or log).strip()[-300:]}"
    stop = [[*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]]
    admin = f"postgresql://postgres@/postgres?host={socket}&port={port}"
    return Cluster(admin, stop, folder), ""


def cluster_session() -> Iterator[tuple[Cluster | None, str]]:
    cluster, reason = start_cluster()
    try:
        yield cluster, reason
    finally:
        if cluster is not None:
            cluster.stop()
