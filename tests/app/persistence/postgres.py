"""A throwaway PostgreSQL server for the tests: `initdb` into a temporary directory, `pg_ctl start` on a free
loopback port (and a private socket directory), one fresh database per test, `pg_ctl stop` at the end.

PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user Debian's package creates.
Durability is off (fsync, synchronous_commit): the data is thrown away, and the tests measure behaviour, not disks.
When PostgreSQL is not installed the tests that need it fail, saying how to install it; they are never skipped.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

_BIN_GLOB = "/usr/lib/postgresql/*/bin"
NOT_INSTALLED = (
    "PostgreSQL is not installed: the persistence and API tests run on SQLite and on a real PostgreSQL. "
    "Install it with `make debian` (Debian package `postgresql`) or `apt-get install postgresql`."
)


def server_binaries() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian puts it under /usr/lib/postgresql/<major>/bin)."""
    found = sorted(glob.glob(_BIN_GLOB), key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    for directory in reversed(found):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    raise RuntimeError(NOT_INSTALLED)


class PostgresServer:
    """One cluster for the session; `new_database()` gives each test its own empty database."""

    def __init__(self) -> None:
        self.bin = server_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="rxlens-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres").pw_name
            except KeyError as e:
                raise RuntimeError(
                    "Running as root, and there is no 'postgres' user to run PostgreSQL as (Debian's `postgresql` "
                    "package makes one)."
                ) from e
            shutil.chown(self.root, self.user)
            self.root.chmod(0o755)
        self.sockets.mkdir()
        if self.user:
            shutil.chown(self.sockets, self.user)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [str(self.bin / args[0]), *args[1:]], user=self.user, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.sockets} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        deadline = time.time() + 30
        while True:
            try:
                with psycopg.connect(self.admin_dsn, connect_timeout=2):
                    return self
            except psycopg.OperationalError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    @property
    def admin_dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def new_database(self) -> str:
        """An empty database of its own; returns its SQLAlchemy URL (psycopg 3)."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # a fresh uuid: nothing of the user's in the name
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
