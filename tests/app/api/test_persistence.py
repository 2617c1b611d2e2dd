"""Restart: documents and conversations acknowledged by one app instance are all there for a new instance on
the same database (a SQLite file, and a PostgreSQL database: see BOTH_DATABASES in conftest.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.persistence.database import Database
from app.persistence.repositories import ConversationRepository, DocumentRepository
from tests.app.api.conftest import AppFactory
from tests.app.persistence.test_repositories import store


def test_everything_acknowledged_survives_a_restart(user_database: str, make_app: AppFactory) -> None:
    database = user_database
    with TestClient(make_app(database)) as first:
        r = first.post(
            "/v1/chat/completions",
            json={
                "messages": [{"role": "user", "content": "What is aspirin for?"}],
                "rxlens": {"medications": ["华法林"]},
            },
        )
        conversation_id = r.json()["rxlens"]["conversation_id"]
    doc_id = store(DocumentRepository(Database(database)), "local")
    with TestClient(make_app(database)) as second:
        stored = second.get(f"/v1/conversations/{conversation_id}").json()
        assert stored["medications"] == ["华法林"] and len(stored["messages"]) == 2
        assert second.get(f"/v1/documents/{doc_id}").json()["drugs"][0]["ingredients"] == ["aspirin"]
        assert second.get(f"/v1/documents/{doc_id}/image").content == b"\x89PNG\r\n\x1a\nfake"
        listed = second.get("/v1/documents").json()
        assert listed["total"] == 1 and listed["data"][0]["drugs"] == ["阿司匹林"]
    conversations = ConversationRepository(Database(database))
    assert conversations.list_owned("local")[0].id == conversation_id
