"""The user-data database: one engine per process, SQLite in WAL mode by default, any SQLAlchemy URL otherwise.

WAL lets the readers of GET requests run while a document is being written; `synchronous=FULL` makes a commit
durable before the request that made it is acknowledged. Foreign keys are switched on so a deleted document
takes its image with it on SQLite as it does on PostgreSQL. Deleting means gone: `secure_delete` zeroes freed
pages and a checkpoint after each deletion empties the write-ahead log of the old ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.persistence.tables import Base


class Database:
    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
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
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        Base.metadata.create_all(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error: all or nothing."""
        with self._sessions() as session, session.begin():
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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A deleted leaflet or question is overwritten with zeros, not left in a free page of the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
