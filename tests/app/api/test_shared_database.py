"""Any node serves any owner: two apps (two nodes: each its own in-memory owner indexes) on one user database, a
SQLite file and a PostgreSQL database (BOTH_DATABASES). A document uploaded through one is cited by the other;
deleted through one, it is gone from the other's index, answers and listings at its next request."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.app.api.conftest import AppFactory, leaflet_png

ASKED = "我保存的说明书里说这个药和辛伐他汀能一起吃吗？"


def cited(client: TestClient, **rxlens: Any) -> set[str]:
    r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": ASKED}], "rxlens": rxlens})
    assert r.status_code == 200, r.text
    return {c["document_id"] for c in r.json()["rxlens"]["citations"] if c.get("document_id")}


def test_a_document_uploaded_on_one_node_is_cited_and_deleted_on_another(make_app: AppFactory) -> None:
    one, other = make_app(rate_limit_per_minute=0), make_app(rate_limit_per_minute=0)
    a, b = TestClient(one), TestClient(other)
    retriever = other.state.components.retriever
    indexes = retriever.documents

    def found() -> set[str]:  # the other node's search of the owner's documents, no ids given
        return {h.chunk.document_id for h in retriever.search(ASKED, k=50, owner="local") if h.chunk.document_id}

    assert found() == set()  # the other node has searched this owner before: its cache must notice the upload
    r = a.post("/v1/documents", files={"file": ("l.png", leaflet_png(), "image/png")})
    assert r.status_code == 201, r.text
    doc = r.json()["id"]
    assert cited(b, document_ids=[doc]) == {doc}
    assert found() == {doc}
    assert indexes.documents("local") == {doc}
    assert a.delete(f"/v1/documents/{doc}").status_code == 204
    assert b.get(f"/v1/documents/{doc}").status_code == 404
    assert found() == set()
    assert indexes.documents("local") == set()
