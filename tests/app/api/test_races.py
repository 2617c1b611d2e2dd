"""Races that more processes make likelier, each forced to happen, on SQLite and on PostgreSQL (BOTH_DATABASES):

- two chat turns of one conversation at once lose no drug of its medication list;
- a document deleted while a chat turn quoting it is being answered leaves no quote of it in the stored answer;
- an owner's index found inconsistent is rebuilt from the database, never replaced by one without their documents;
- shutting down while the warm-up runs waits for its current step and starts no other.

Each race is forced with a hook on the answer chain (the step between reading the conversation and storing the
answer), so it happens on every run, not by luck.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from app.components import Components
from tests.app.api.conftest import AppFactory, LiveServer, leaflet_png

QUOTED = "辛伐他汀的剂量不应超过每日20mg"  # a sentence of leaflet_png() the answer below quotes
ASKED = "这个药和辛伐他汀能一起吃吗？"


class HeldChain:
    """The app's answer chain, with a hold after the answer is made and before the turn stores it."""

    def __init__(self, chain: Any, hold: Any) -> None:
        self._chain = chain
        self._hold = hold

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chain, name)

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        answer = self._chain.ask(*args, **kwargs)
        self._hold(answer)
        return answer


def chat(client: httpx.Client | TestClient, content: str, **rxlens: Any) -> dict[str, Any]:
    r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": content}], "rxlens": rxlens})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_two_turns_of_one_conversation_at_once_lose_no_drug(make_app: AppFactory) -> None:
    app = make_app(rate_limit_per_minute=0)
    components: Components = app.state.components
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=120) as client:
        conversation = chat(client, "华法林能和什么一起吃？", medications=["华法林"])["rxlens"]["conversation_id"]
        # Both turns have read the stored list before either stores its own: the lost update, every time.
        both_answered = threading.Barrier(2, timeout=60)
        components.__dict__["chain"] = HeldChain(components.chain, lambda _answer: both_answered.wait())
        results: dict[str, dict[str, Any]] = {}

        def turn(drug: str) -> None:
            with httpx.Client(base_url=server.url, timeout=120) as c:
                results[drug] = chat(c, f"{drug}呢？", conversation_id=conversation, medications=[drug])

        threads = [threading.Thread(target=turn, args=(drug,)) for drug in ("阿司匹林", "布洛芬")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert set(results) == {"阿司匹林", "布洛芬"}
        stored = client.get(f"/v1/conversations/{conversation}").json()["medications"]
    assert sorted(stored) == sorted(["华法林", "阿司匹林", "布洛芬"])
    # Each answer reports the list as stored after its own turn: it holds its own drug.
    assert "阿司匹林" in results["阿司匹林"]["rxlens"]["medications"]
    assert "布洛芬" in results["布洛芬"]["rxlens"]["medications"]


def test_a_deletion_racing_a_chat_turn_leaves_no_quote_in_the_stored_answer(make_app: AppFactory) -> None:
    app = make_app(rate_limit_per_minute=0)
    components: Components = app.state.components
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=120) as client:
        r = client.post("/v1/documents", files={"file": ("l.png", leaflet_png(), "image/png")})
        assert r.status_code == 201, r.text
        doc = r.json()["id"]
        answered, deleted = threading.Event(), threading.Event()
        made: list[str] = []

        def hold(answer: Any) -> None:
            made.append(answer.answer)
            answered.set()
            assert deleted.wait(60)

        components.__dict__["chain"] = HeldChain(components.chain, hold)
        results: list[dict[str, Any]] = []
        turn = threading.Thread(target=lambda: results.append(chat(client, ASKED, document_ids=[doc])))
        turn.start()
        assert answered.wait(120)
        assert QUOTED in made[0]  # the answer made before the deletion quotes the document
        assert client.delete(f"/v1/documents/{doc}").status_code == 204
        deleted.set()
        turn.join(timeout=120)
        assert results, "the chat turn failed"
        conversation = client.get(f"/v1/conversations/{results[0]['rxlens']['conversation_id']}").json()
    stored = [m for m in conversation["messages"] if m["role"] == "assistant"]
    assert len(stored) == 1
    assert QUOTED not in json.dumps(stored, ensure_ascii=False)
    assert QUOTED not in results[0]["choices"][0]["message"]["content"]
    assert all(not c.get("text") for c in results[0]["rxlens"]["citations"] if c.get("document_id") == doc)


def damage_owner_index(components: Components, owner: str) -> None:
    """Damage what this node has of the owner's index, wherever it is kept (index files under var/index/owners,
    vectors in the database), and drop it from memory, as a node that has not loaded it yet."""
    indexes = components.retriever.documents
    assert indexes is not None
    for path in indexes.owner_dir(owner).rglob("*"):
        if path.is_file() and path.name != "CURRENT":
            path.write_bytes(b"damaged")
    engine = components.database.engine
    if inspect(engine).has_table("document_chunks"):
        with engine.begin() as conn:
            conn.execute(text("UPDATE document_chunks SET vector = :v WHERE owner = :o"), {"v": b"bad", "o": owner})
    with indexes._guard:
        indexes._loaded.pop(owner, None)


def test_an_inconsistent_owner_index_is_rebuilt_from_the_database_never_emptied(make_app: AppFactory) -> None:
    app = make_app(rate_limit_per_minute=0)
    with TestClient(app) as client:
        assert app.state.ready.wait(180)  # the start-up reconciliation is over: it repairs nothing behind our back
        components: Components = app.state.components
        first = client.post("/v1/documents", files={"file": ("a.png", leaflet_png(), "image/png")}).json()["id"]
        damage_owner_index(components, "local")
        other = leaflet_png(("阿司匹林肠溶片说明书", "【用法用量】口服，一次100mg，一日1次。"))
        second = client.post("/v1/documents", files={"file": ("b.png", other, "image/png")}).json()["id"]
        indexes = components.retriever.documents
        assert indexes is not None
        assert indexes.documents("local") == {first, second}
        # The first document is still found and cited after the damage.
        result = chat(client, ASKED, document_ids=[first])["rxlens"]
        assert any(c.get("document_id") == first and c.get("text") for c in result["citations"])
        with components.database.engine.connect() as conn:
            sizes = conn.execute(text("SELECT length(vector) FROM document_chunks")).scalars().all()
    assert sizes and all(size == indexes.embedder.dim * 4 for size in sizes)  # repaired in the database too


class BlockedWarmUp:
    """An answer chain whose first question (the warm-up's first step) blocks until released."""

    def __init__(self) -> None:
        self.entered, self.release, self.finished = threading.Event(), threading.Event(), threading.Event()

    def ask(self, *args: Any, **kwargs: Any) -> None:
        self.entered.set()
        self.release.wait(60)
        self.finished.set()


def test_shutting_down_during_the_warm_up_closes_cleanly(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    components: Components = app.state.components
    blocked = BlockedWarmUp()
    components.__dict__["chain"] = blocked
    caplog.set_level(logging.WARNING)
    client = TestClient(app)
    client.__enter__()
    assert blocked.entered.wait(30)
    # The warm-up is inside its first step; shut down now, and let the step end a moment later.
    threading.Timer(0.5, blocked.release.set).start()
    client.__exit__(None, None, None)
    assert blocked.finished.is_set(), "the shutdown returned while a warm-up step was still running"
    time.sleep(1.5)  # long enough for a warm-up that went on to start its next steps
    assert "ocr" not in components.__dict__, "the warm-up loaded the OCR model after the shutdown"
    assert not app.state.ready.is_set()
    assert app.state.warm_up_error is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
