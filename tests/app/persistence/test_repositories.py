"""The user-data database on a real SQLite file and on a real PostgreSQL (each test runs on both unless it says
otherwise): owner scoping, one-transaction writes and deletes, chunks that go with their document, and SQLite's
WAL mode."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from app.errors import NotFound
from app.persistence import repositories
from app.persistence.database import Database
from app.persistence.repositories import ChunkRepository, ConversationRepository, DocumentRepository
from knowledge.retrieval.chunks import document_chunks

PARSED = {
    "doc_type": "leaflet",
    "lines": [],
    "fields": {},
    "drugs": [{"text": "阿司匹林", "ingredients": ["aspirin"], "bbox": []}],
}
EMBEDDER = "test-embedder"
DIM = 4


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


def count(db: Database, table: str) -> int:
    with db.transaction() as s:
        return int(s.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'u.sqlite'}")
    with db.transaction() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_documents_are_scoped_deduplicated_and_deleted_with_their_image(database_url: str) -> None:
    repo = DocumentRepository(Database(database_url))
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
    assert count(repo.db, "document_images") == 0
    with pytest.raises(NotFound):
        repo.get("alice", doc_id)


def test_a_failed_write_leaves_nothing_behind(database_url: str) -> None:
    db = Database(database_url)
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


def vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, DIM), dtype=np.float32)


def test_chunks_and_vectors_live_with_their_document_and_go_with_it(database_url: str) -> None:
    db = Database(database_url)
    documents, chunks = DocumentRepository(db), ChunkRepository(db)
    doc_id = store(documents, "alice")
    pieces = document_chunks(owner="alice", document_id=doc_id, field="usage", text="一次1片，一日3次。", lang="zh")
    assert chunks.version("alice") == 0
    assert chunks.add("alice", pieces, vectors(len(pieces)), EMBEDDER) == len(pieces)
    version, loaded, stored = chunks.load("alice", EMBEDDER, DIM)
    assert version == 1 and [c.id for c in loaded] == [c.id for c in pieces]
    assert all(v is not None for v in stored)
    np.testing.assert_array_equal(np.stack([v for v in stored if v is not None]), vectors(len(pieces)))
    # Another embedder's (or a damaged) vector is reported missing, not used.
    assert all(v is None for v in chunks.load("alice", "other-embedder", DIM)[2])
    assert chunks.load("bob", EMBEDDER, DIM) == (0, [], [])
    # Chunks of a document that does not exist (deleted meanwhile) are never stored.
    ghost = document_chunks(owner="alice", document_id="f" * 32, field="usage", text="幽灵", lang="zh")
    assert chunks.add("alice", ghost, vectors(len(ghost)), EMBEDDER) == 0
    assert chunks.version("alice") == 1
    # Deleting the document removes its chunks in the same transaction and moves the owner's version.
    documents.delete("alice", doc_id)
    assert count(db, "document_chunks") == 0
    assert chunks.version("alice") == 2


def test_documents_without_chunks_are_found_for_reindexing(database_url: str) -> None:
    db = Database(database_url)
    documents, chunks = DocumentRepository(db), ChunkRepository(db)
    indexed, bare = store(documents, "alice", b"\x89PNG one"), store(documents, "alice", b"\x89PNG two!")
    pieces = document_chunks(owner="alice", document_id=indexed, field="usage", text="一次1片。", lang="zh")
    chunks.add("alice", pieces, vectors(len(pieces)), EMBEDDER)
    assert documents.unindexed() == {"alice": {bare}}


def test_a_medication_list_is_merged_with_the_stored_one_not_replaced(database_url: str) -> None:
    conversations = ConversationRepository(Database(database_url))
    first = conversations.record_exchange(
        "alice", None, question="q", document_ids=[], answer="a", result={}, medications=["华法林"]
    )
    # A turn that read the list before the first one stored it sends only its own drug: both are kept.
    second = conversations.record_exchange(
        "alice",
        first.conversation_id,
        question="q2",
        document_ids=[],
        answer="a2",
        result={},
        medications=["Aspirin", "华法林 "],
    )
    assert second.medications == ["华法林", "Aspirin"]
    assert conversations.get("alice", first.conversation_id).medications == ["华法林", "Aspirin"]


def quoting_answer(doc_id: str) -> tuple[str, str, dict[str, object]]:
    """A stored answer that quotes a sentence of the document: (the quote, the answer text, its result)."""
    quote = "一次1片，一日3次。"
    answer = f"按说明书：“{quote}”[1]"
    citation = {"n": 1, "document_id": doc_id, "text": quote, "bbox": [[0, 0]]}
    return quote, answer, {"answer": answer, "language": "zh", "composer": "template", "citations": [citation]}


def test_an_answer_quoting_a_deleted_document_is_stored_without_the_quote(database_url: str) -> None:
    db = Database(database_url)
    documents, conversations = DocumentRepository(db), ConversationRepository(db)
    doc_id = store(documents, "alice")
    quote, answer, result = quoting_answer(doc_id)
    documents.delete("alice", doc_id)  # deleted while the answer was being made
    recorded = conversations.record_exchange(
        "alice", None, question="怎么吃？", document_ids=[doc_id], answer=answer, result=result, medications=[]
    )
    stored = conversations.get("alice", recorded.conversation_id).messages
    assert quote not in stored[1].content and quote not in str(stored[1].result)
    assert stored[0].document_ids == []
    assert recorded.answer == stored[1].content
    # Quoted without being the turn's document (found by a search of the owner's documents): the same.
    again = conversations.record_exchange(
        "alice", None, question="我保存的说明书怎么说？", document_ids=[], answer=answer, result=result, medications=[]
    )
    assert quote not in again.answer and quote not in str(again.result)


def test_an_answer_stored_during_a_deletion_waits_for_it_and_is_stored_without_the_quote(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deletion has removed the row and redacted the stored answers but not committed yet: an answer quoting
    the document, stored now, must wait for that commit (else it sees the row, keeps the quote, and the deletion
    has already looked for quotes)."""
    db = Database(database_url)
    documents, conversations = DocumentRepository(db), ConversationRepository(db)
    doc_id = store(documents, "alice")
    quote, answer, result = quoting_answer(doc_id)
    redacted, release = threading.Event(), threading.Event()
    forget_quotes = repositories._forget_quotes

    def slow_forget_quotes(*args: Any) -> None:
        forget_quotes(*args)
        redacted.set()
        assert release.wait(30)

    monkeypatch.setattr(repositories, "_forget_quotes", slow_forget_quotes)
    deletion = threading.Thread(target=documents.delete, args=("alice", doc_id))
    deletion.start()
    assert redacted.wait(30)
    recorded: list[str] = []
    turn = threading.Thread(
        target=lambda: recorded.append(
            conversations.record_exchange(
                "alice", None, question="q", document_ids=[doc_id], answer=answer, result=result, medications=[]
            ).conversation_id
        )
    )
    turn.start()
    time.sleep(0.5)
    assert turn.is_alive(), "the answer was stored while the deletion was not committed"
    release.set()
    deletion.join(30)
    turn.join(30)
    stored = conversations.get("alice", recorded[0]).messages
    assert quote not in stored[1].content and quote not in str(stored[1].result)
