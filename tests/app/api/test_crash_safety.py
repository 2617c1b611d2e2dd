"""Crash safety: the real server (`python -m app.cli serve`) is killed with SIGKILL while uploads are in flight,
then restarted on the same files. Every upload it had acknowledged is there, readable and retrievable; nothing
half-written is visible (every row has its image, no chunk lacks its row); and once ready, the owner's chunks in
the database cover exactly its documents (start-up reconciliation repairs a kill between commit and indexing).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api import library
from tests.app.api.conftest import AppFactory, leaflet_png

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(var: Path, kb_path: Path, kb_index: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RXLENS_VAR_DIR": str(var),
        "RXLENS_KB_PATH": str(kb_path),
        "RXLENS_KB_INDEX_PATH": str(kb_index),
        "RXLENS_RATE_LIMIT_PER_MINUTE": "0",
        "RXLENS_OCR_QUEUE_SIZE": "32",
        "HF_HUB_OFFLINE": "1",
    }
    log = open(var / f"server-{port}.log", "ab")  # noqa: SIM115 - the child process owns it
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
    )


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the server did not become ready")


def photo(n: int) -> bytes:
    return leaflet_png(
        (
            "苯磺酸氨氯地平片说明书",
            "【药物相互作用】",
            "与辛伐他汀合用时，辛伐他汀的剂量不应超过每日20mg。",
            f"【用法用量】口服，一次{n}mg，一日1次。",
        )
    )


@pytest.mark.slow
@pytest.mark.integration
def test_acknowledged_uploads_survive_sigkill_and_the_index_agrees(
    tmp_path: Path, kb_path: Path, kb_index: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    photos = {n: photo(n) for n in range(1, 13)}
    proc = start(tmp_path, kb_path, kb_index, port)
    acked: dict[str, bytes] = {}
    lock = threading.Lock()
    try:
        wait_ready(url, proc)

        def uploader(numbers: list[int]) -> None:
            with httpx.Client(timeout=60) as client:
                for n in numbers:
                    try:
                        r = client.post(f"{url}/v1/documents", files={"file": (f"{n}.png", photos[n], "image/png")})
                    except httpx.HTTPError:
                        return  # the server died under this request: it was never acknowledged
                    if r.status_code == 201:
                        with lock:
                            acked[r.json()["id"]] = photos[n]

        threads = [threading.Thread(target=uploader, args=(list(range(i, 13, 4)),)) for i in range(1, 5)]
        for t in threads:
            t.start()
        deadline = time.time() + 120
        while len(acked) < 3 and time.time() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        for t in threads:
            t.join(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(acked) >= 3, "too few uploads were acknowledged before the kill"
    assert len(acked) < len(photos), "every upload finished before the kill: nothing was in flight"

    # Nothing half-written in the database: every document has its image, and its image is complete.
    with sqlite3.connect(tmp_path / "rxlens.sqlite") as db:
        rows = dict(
            db.execute("SELECT d.id, i.data FROM documents d LEFT JOIN document_images i ON i.document_id = d.id")
        )
    assert set(acked) <= set(rows)
    assert all(data is not None and data in photos.values() for data in rows.values())

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start(tmp_path, kb_path, kb_index, port)
    try:
        wait_ready(url, proc)
        with httpx.Client(base_url=url, timeout=60) as client:
            listed = client.get("/v1/documents", params={"limit": 200}).json()
            assert set(acked) <= {d["id"] for d in listed["data"]}
            for document_id, data in acked.items():
                assert client.get(f"/v1/documents/{document_id}/image").content == data
                doc = client.get(f"/v1/documents/{document_id}").json()
                assert any("amlodipine" in d["ingredients"] for d in doc["drugs"]), doc["drugs"]
            # Retrievable: a question about the stored document cites it.
            some = next(iter(acked))
            r = client.post(
                "/v1/chat/completions",
                json={
                    "messages": [{"role": "user", "content": "这个药和辛伐他汀能一起吃吗？"}],
                    "rxlens": {"document_ids": [some]},
                },
            )
            assert any(c.get("document_id") == some for c in r.json()["rxlens"]["citations"])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()

    # The owner's chunks and documents agree, both ways.
    with sqlite3.connect(tmp_path / "rxlens.sqlite") as db:
        stored = {r[0] for r in db.execute("SELECT id FROM documents WHERE owner = 'local'")}
        chunked = {r[0] for r in db.execute("SELECT DISTINCT document_id FROM document_chunks WHERE owner = 'local'")}
    assert chunked == stored


@pytest.mark.slow
def test_reconciliation_repairs_an_index_that_disagrees_with_the_database(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The repair itself, without a kill: drop documents' chunks (as if killed before indexing, or stored before
    chunks lived in the database) and leave a per-node index directory of before; a restart's reconciliation
    re-indexes the first, in batches, and removes the second."""
    app = make_app()
    with TestClient(app) as c:
        assert app.state.ready.wait(180)  # the start-up reconciliation has run
        docs = {c.post("/v1/documents", files={"file": ("a.png", photo(n), "image/png")}).json()["id"] for n in (7, 8)}
        components = app.state.components
        indexes = components.retriever.documents
        for doc in docs:
            assert components.chunks.delete_document("local", doc) > 0
        assert indexes.documents("local") == set()
        leftover = indexes.owner_dir("local")
        leftover.mkdir(parents=True)
        (leftover / "CURRENT").write_text("v-old\n")
        monkeypatch.setattr(library, "REINDEX_BATCH", 1)
        assert components.library.reconcile() == (2, 1)
        assert indexes.documents("local") == docs
        assert not leftover.exists()


@pytest.mark.slow
def test_the_same_upload_again_indexes_a_stored_document_that_has_no_chunks(make_app: AppFactory) -> None:
    """A process killed between a document's commit and its indexing (an OCR worker, say): the upload retried
    (its job run again, or the user sending the photo again) indexes the stored document, before any restart."""
    app = make_app()
    with TestClient(app) as c:
        assert app.state.ready.wait(180)
        upload = {"file": ("a.png", photo(9), "image/png")}
        doc = c.post("/v1/documents", files=upload).json()["id"]
        components = app.state.components
        assert components.chunks.delete_document("local", doc) > 0  # as if killed before indexing
        assert components.owner_indexes.documents("local") == set()
        again = c.post("/v1/documents", files=upload)
        assert again.status_code == 200 and again.json()["id"] == doc
        assert components.owner_indexes.documents("local") == {doc}
