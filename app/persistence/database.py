"""The user-data database: one engine per process, SQLite in WAL mode by default, PostgreSQL (or any SQLAlchemy
URL) otherwise, its schema made and kept current by the Alembic migrations in `migrations/`.

Opening a `Database` upgrades the schema to the newest revision, under a lock (PostgreSQL: an advisory lock;
SQLite: an immediate transaction), so two processes starting at once on one database migrate it once. A SQLite file
made before migrations existed (tables but no `alembic_version`) is stamped at the first revision, which is what it
holds, and upgraded from there.

Writes that read before they write (a medication list merged with the stored one, a deletion) run in
`transaction(write=True)`: on SQLite that is `BEGIN IMMEDIATE`, which takes the write lock before the first read,
so two such transactions run one after the other instead of both reading the old row; on PostgreSQL the
repositories lock the rows they read (`SELECT ... FOR UPDATE`).

WAL lets the readers of GET requests run while a document is being written; `synchronous=FULL` makes a commit
durable before the request that made it is acknowledged. Foreign keys are switched on so a deleted document
takes its image and chunks with it on SQLite as it does on PostgreSQL. Deleting means gone: `secure_delete` zeroes
freed pages and a checkpoint after each deletion empties the write-ahead log of the old ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"  # the schema `create_all` made before migrations existed
_MIGRATION_LOCK = 0x52784C656E73  # pg_advisory_xact_lock key: "RxLens"
_WRITE = "rxlens_write"  # execution option: this transaction will write (SQLite: BEGIN IMMEDIATE)


class Database:
    def __init__(self, url: str, migrate_schema: bool = True) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgresql = parsed.get_backend_name() == "postgresql"
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # Requests run on a thread pool; each thread checks out its own pooled connection.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._writer = self.engine.execution_options(**{_WRITE: True})
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._writer, expire_on_commit=False)
        if migrate_schema:
            self.migrate()

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision (stamping a pre-migration SQLite file first)."""
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with self._writer.begin() as conn:
            if self.is_postgresql:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            current = MigrationContext.configure(conn).get_current_revision()
            if current == head:
                return
            config = alembic_config(conn)
            if current is None and inspect(conn).has_table("documents"):
                log.warning("user database made before migrations: stamping it at revision %s", FIRST_REVISION)
                command.stamp(config, FIRST_REVISION)
            command.upgrade(config, "head")
            log.info("user database migrated from %s to %s", current, head)

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error: all or nothing. `write`:
        it reads rows it then changes (see the module's note)."""
        sessions = self._write_sessions if write else self._sessions
        with sessions() as session, session.begin():
            yield session

    def forget_deleted(self) -> None:
        """After a deletion: copy the WAL back into the database and empty it, so the deleted rows' old pages
        do not linger in the log (secure_delete has already zeroed them in the database file). Best effort: a
        long-running reader can keep some frames until the next checkpoint."""
        if self.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an ini file: the migrations of this package, on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling off: SQLAlchemy's "begin" event below says BEGIN, and how.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A deleted leaflet or question is overwritten with zeros, not left in a free page of the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")
