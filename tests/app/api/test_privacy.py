"""Privacy: a full run (upload, questions in Chinese and English naming people, deletion) logged at DEBUG leaves
no document text, question, name or image bytes in the logs; and DELETE removes every trace: the rows, the
image, the index chunks, the cached vectors and tokens, and the old pages of the database file and its log.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import images
from tests.app.api.conftest import AppFactory, leaflet_png

LEAFLET = ("患者：张三", "苯磺酸氨氯地平片说明书", "与辛伐他汀合用时，辛伐他汀的剂量不应超过每日20mg。")
QUESTIONS = ("张三在吃华法林，能和阿司匹林一起吃吗？", "Can John Smith take ibuprofen with his warfarin?")
NAMES = ("张三", "John Smith")


@pytest.mark.slow
def test_logs_hold_no_user_data_and_delete_leaves_no_trace(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    photo = leaflet_png(LEAFLET)
    app = make_app()
    with TestClient(app) as c:
        up = c.post("/v1/documents", files={"file": ("zhang-san-rx.png", photo, "image/png")})
        assert up.status_code == 201
        doc = up.json()
        read = "".join(line["text"] for line in doc["lines"])
        assert "辛伐他汀" in read
        conversations = []
        for question in QUESTIONS:
            r = c.post(
                "/v1/chat/completions",
                json={"messages": [{"role": "user", "content": question}], "rxlens": {"document_ids": [doc["id"]]}},
            )
            assert r.status_code == 200
            conversations.append(r.json()["rxlens"]["conversation_id"])
        # A photo sent inside a chat message, too.
        url = "data:image/png;base64," + base64.b64encode(photo).decode()
        r = c.post(
            "/v1/chat/completions",
            json={"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]},
        )
        assert r.status_code == 200
        conversations.append(r.json()["rxlens"]["conversation_id"])

        components = app.state.components
        indexes = components.retriever.documents
        assert doc["id"] in indexes.documents("local")
        texts = [chunk.index_text for chunk in indexes.index_for("local").chunks if chunk.document_id == doc["id"]]
        assert texts
        cache = components.retriever.embedder.cache
        assert any(cache.get(cache.key("p", t)) is not None for t in texts)

        needles = [n for s in ("辛伐他汀的剂量", "张三", "John Smith", "zhang-san-rx") for n in _forms(s)]
        needles.append(photo[200:264])
        before = _on_disk(tmp_path, needles)
        assert photo[200:264] in before and b"John Smith" in before  # the scan sees what is there

        assert c.delete(f"/v1/documents/{doc['id']}").status_code == 204
        for conversation in conversations:
            assert c.delete(f"/v1/conversations/{conversation}").status_code == 204

        assert c.get(f"/v1/documents/{doc['id']}").status_code == 404
        assert c.get(f"/v1/documents/{doc['id']}/image").status_code == 404
        assert c.get("/v1/documents").json()["total"] == 0
        assert doc["id"] not in indexes.documents("local")
        assert all(cache.get(cache.key("p", t)) is None for t in texts)
        assert "local" not in components.retriever._doc_tokens
        # On disk, while the server still runs (closing the last connection would checkpoint the log anyway):
        # neither the database file, its write-ahead log, nor the owner's index keeps the text or the image.
        assert not _on_disk(tmp_path, needles), _on_disk(tmp_path, needles)

    logged = caplog.text
    assert "stored document" in logged  # the log was captured at all
    private = [*QUESTIONS, *NAMES, "zhang-san-rx", *(line["text"] for line in doc["lines"] if len(line["text"]) >= 4)]
    private.append(base64.b64encode(photo[100:160]).decode()[:40])
    leaked = [p for p in private if p in logged]
    assert not leaked, f"user data in the logs: {leaked}"
    assert not _on_disk(tmp_path, needles), _on_disk(tmp_path, needles)


@pytest.mark.slow
def test_a_remote_image_url_is_not_logged(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An image_url fetched from the web: its address (which can name the patient) appears in no log line."""
    caplog.set_level(logging.DEBUG)
    photo = leaflet_png(LEAFLET)
    real = images._public_address
    # The SSRF guard refuses loopback, rightly; here a made-up public name stands for the loopback server.
    monkeypatch.setattr(
        images, "_public_address", lambda host, port: "127.0.0.1" if host == "leaflets.example" else real(host, port)
    )
    with _serving(photo) as port, TestClient(make_app(allow_remote_images=True)) as c:
        url = f"http://leaflets.example:{port}/patients/zhang-san/rx-2024.png?token=secret-token-42"
        content = [
            {"type": "text", "text": "这药能和辛伐他汀一起吃吗？"},
            {"type": "image_url", "image_url": {"url": url}},
        ]
        r = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": content}]})
        assert r.status_code == 200, r.text
        assert r.json()["rxlens"]["documents"], "the remote image was read"
    logged = caplog.text
    assert "stored document" in logged  # the log was captured at all
    leaked = [p for p in ("zhang-san", "rx-2024", "secret-token-42", "/patients/") if p in logged]
    assert not leaked, f"the image URL is in the logs: {leaked}"


@contextmanager
def _serving(body: bytes) -> Iterator[int]:
    """A loopback HTTP server that answers every GET with `body` as a PNG."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # the test server's own log is not the service's
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _forms(text: str) -> list[bytes]:
    """The text as UTF-8 and as the \\u escapes of JSON columns."""
    return list(dict.fromkeys([text.encode(), json.dumps(text).strip('"').encode()]))


def _on_disk(root: Path, needles: list[bytes]) -> dict[bytes, list[str]]:
    found: dict[bytes, list[str]] = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for n in needles:
                if n in data:
                    found.setdefault(n, []).append(str(path.relative_to(root)))
    return found


@pytest.mark.slow
def test_deleting_a_document_takes_its_quotes_out_of_conversations(make_app: AppFactory, tmp_path: Path) -> None:
    """A conversation outlives the document it quoted; after DELETE it keeps its verdict and citation numbers
    but none of the document's text, in what the API returns and in the database file."""
    with TestClient(make_app()) as c:
        up = c.post("/v1/documents", files={"file": ("leaflet.png", leaflet_png(), "image/png")})
        assert up.status_code == 201
        doc = up.json()
        asked = {"messages": [{"role": "user", "content": "这药能和辛伐他汀一起吃吗？"}]}
        r = c.post("/v1/chat/completions", json={**asked, "rxlens": {"document_ids": [doc["id"]]}})
        assert r.status_code == 200
        first = r.json()
        cited = [x for x in first["rxlens"]["citations"] if x.get("document_id") == doc["id"]]
        assert cited, first["rxlens"]["citations"]
        quote = cited[0]["text"]
        conversation = first["rxlens"]["conversation_id"]
        # A second turn with no attachment: the owner's documents are searched, and may be quoted again.
        r = c.post("/v1/chat/completions", json={**asked, "rxlens": {"conversation_id": conversation}})
        assert r.status_code == 200
        url = f"/v1/conversations/{conversation}"
        assert quote in c.get(url).text
        needles = _forms(quote[:12])
        assert _on_disk(tmp_path, needles)

        assert c.delete(f"/v1/documents/{doc['id']}").status_code == 204
        kept = c.get(url)
        assert kept.status_code == 200
        messages = kept.json()["messages"]
        assert len(messages) == 4 and quote[:12] not in kept.text
        answer = messages[1]["content"]
        assert answer.startswith(first["choices"][0]["message"]["content"][:10])  # the verdict line stays
        assert "已被删除" in answer and "[1]" in answer
        assert all(doc["id"] not in m["document_ids"] for m in messages)
        assert not _on_disk(tmp_path, needles), _on_disk(tmp_path, needles)
        # The conversation goes on.
        r = c.post("/v1/chat/completions", json={**asked, "rxlens": {"conversation_id": conversation}})
        assert r.status_code == 200 and quote[:12] not in r.text
