"""The user-data database on a real SQLite file: WAL mode, owner scoping, one-transaction writes and deletes, and
nothing lost across a restart (a new Database and a new app on the same file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from app.errors import NotFound
from app.persistence.database import Database
from app.persistence.repositories import DocumentRepository

PARSED = {
    "doc_type": "leaflet",
    "lines": [],
    "fields": {},
    "drugs": [{"text": "阿司匹林", "ingredients": ["aspirin"], "bbox": []}],
}


def store(repo: DocumentRepository, owner: str, data: bytes = b"\x89PNG\r\n\x1a\nfake") -> str:
    row, created = repo.add(
        owner,
        sha256=f"sha-{len(data)}",
        filename="a.png",
        doc_type="leaflet",
        parsed=PARSED,
        data=data,
        content_type="image/png",
    )
    assert created
    return row.id


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'u.sqlite'}")
    with db.transaction() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_documents_are_scoped_deduplicated_and_deleted_with_their_image(tmp_path: Path) -> None:
    repo = DocumentRepository(Database(f"sqlite:///{tmp_path / 'u.sqlite'}"))
    doc_id = store(repo, "alice")
    again, created = repo.add(
        "alice",
        sha256="sha-12",
        filename="b.png",
        doc_type="leaflet",
        parsed=PARSED,
        data=b"\x89PNG\r\n\x1a\nfake",
        content_type="image/png",
    )
    assert not created and again.id == doc_id
    assert repo.image("alice", doc_id) == (b"\x89PNG\r\n\x1a\nfake", "image/png")
    for call in (repo.get, repo.image, repo.delete):
        with pytest.raises(NotFound):
            call("bob", doc_id)
    assert repo.list_owned("bob") == ([], 0)
    repo.delete("alice", doc_id)
    with repo.db.transaction() as s:
        assert s.execute(text("SELECT count(*) FROM document_images")).scalar() == 0
    with pytest.raises(NotFound):
        repo.get("alice", doc_id)


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'u.sqlite'}")
    repo = DocumentRepository(db)
    with pytest.raises(Exception):  # noqa: B017 - any database error; what matters is the rollback
        repo.add(
            "alice",
            sha256="x",
            filename=None,
            doc_type="leaflet",
            parsed=PARSED,
            data=None,  # type: ignore[arg-type]
            content_type="image/png",
        )
    assert repo.list_owned("alice") == ([], 0)  # the document row went with the failed image insert
