"""The schema comes from the Alembic migrations: a new database (SQLite and PostgreSQL) is upgraded to the newest
revision, which matches the tables the code declares exactly; a SQLite file made before migrations existed is
stamped and upgraded with its data kept; two processes opening one new database at once migrate it once."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.persistence.database import Database, alembic_config
from app.persistence.repositories import ConversationRepository, DocumentRepository
from app.persistence.tables import Base

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()

# The schema as `Base.metadata.create_all` made it before migrations existed (SQLAlchemy 2.1, SQLite).
PRE_MIGRATION_SCHEMA = """
CREATE TABLE documents (id VARCHAR(32) NOT NULL, owner VARCHAR(128) NOT NULL, sha256 VARCHAR(64) NOT NULL,
  filename VARCHAR(255), doc_type VARCHAR(32) NOT NULL, parsed JSON NOT NULL, byte_size INTEGER NOT NULL,
  created_at DATETIME NOT NULL, PRIMARY KEY (id), CONSTRAINT uq_documents_owner_sha256 UNIQUE (owner, sha256));
CREATE INDEX ix_documents_owner ON documents (owner);
CREATE TABLE conversations (id VARCHAR(32) NOT NULL, owner VARCHAR(128) NOT NULL, medications JSON NOT NULL,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, PRIMARY KEY (id));
CREATE INDEX ix_conversations_owner ON conversations (owner);
CREATE TABLE document_images (document_id VARCHAR(32) NOT NULL, content_type VARCHAR(64) NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY (document_id), FOREIGN KEY(document_id) REFERENCES documents (id) ON DELETE CASCADE);
CREATE TABLE messages (id INTEGER NOT NULL, conversation_id VARCHAR(32) NOT NULL, role VARCHAR(16) NOT NULL,
  content TEXT NOT NULL, document_ids JSON NOT NULL, result JSON, created_at DATETIME NOT NULL, PRIMARY KEY (id),
  FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE);
CREATE INDEX ix_messages_conversation_id ON messages (conversation_id);
"""


def revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_a_new_database_gets_every_table_from_the_migrations(database_url: str) -> None:
    db = Database(database_url)
    assert revision(db) == HEAD
    assert set(inspect(db.engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}
    with db.engine.connect() as conn:
        # The migrations and the declared tables agree column by column, index by index.
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    Database(database_url)  # opening it again changes nothing
    assert revision(db) == HEAD


def test_a_sqlite_file_from_before_migrations_is_stamped_and_upgraded_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as old:
        old.executescript(PRE_MIGRATION_SCHEMA)
        old.execute(
            "INSERT INTO conversations VALUES ('c1', 'local', '[\"华法林\"]', '2026-01-01 00:00:00', "
            "'2026-01-01 00:00:00')"
        )
    db = Database(f"sqlite:///{path}")
    assert revision(db) == HEAD
    assert ConversationRepository(db).get("local", "c1").medications == ["华法林"]
    assert {"document_chunks", "owner_index_versions"} <= set(inspect(db.engine).get_table_names())
    assert DocumentRepository(db).unindexed() == {}


def test_two_processes_opening_a_new_database_at_once_migrate_it_once(database_url: str) -> None:
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            Database(database_url).dispose()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert revision(Database(database_url)) == HEAD
