"""Any node serves any owner: a cluster of real processes (redis-server, PostgreSQL, two `rxlens serve` on one
user database, two `rxlens worker`) started by `evals.perf.cluster_load.Cluster` in a tmp dir on free ports.

A photo uploaded through both API processes is read once; a document uploaded through one is cited in an answer
served by the other, and deleting it through either removes it from both; a chat turn with a photo answers in one
request through the queue; SIGKILLing a worker and an API process during uploads loses no acknowledged upload.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from evals.perf.bench_service import leaflet
from evals.perf.cluster_load import Cluster, free_port, headers, run_fault

pytestmark = pytest.mark.integration

QUESTION = "这药能和辛伐他汀一起吃吗？"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        running.up([free_port(), free_port()], workers=2, RXLENS_JOB_VISIBILITY_TIMEOUT_S="6")
        yield running
    finally:
        running.down()


@pytest.fixture(scope="module")
def store(cluster: Cluster) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=cluster.redis_port)


def _upload(url: str, owner: str, data: bytes) -> httpx.Response:
    files = {"file": ("leaflet.png", data, "image/png")}
    return httpx.post(f"{url}/v1/documents", files=files, headers=headers(owner), timeout=300)


def _ask(url: str, owner: str, content: Any, **rxlens: Any) -> httpx.Response:
    body = {"model": "rxlens", "messages": [{"role": "user", "content": content}], "rxlens": rxlens}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers(owner), timeout=300)


def _ocr_stats(store: redis.Redis) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in store.hgetall("rxlens:ocr:stats").items()}  # type: ignore[union-attr]


def test_the_same_photo_uploaded_through_both_api_processes_is_read_once(cluster: Cluster, store: redis.Redis) -> None:
    first_api, second_api = cluster.api_urls
    photo = leaflet(910_001)
    before = _ocr_stats(store)
    alice = _upload(first_api, "alice", photo)
    bob = _upload(second_api, "bob", photo)
    assert alice.status_code == 201 and bob.status_code == 201, (alice.text, bob.text)
    assert alice.json()["id"] != bob.json()["id"]  # each owner has a document of their own
    assert [ln["text"] for ln in bob.json()["lines"]] == [ln["text"] for ln in alice.json()["lines"]]
    after = _ocr_stats(store)
    assert after.get("misses", 0) - before.get("misses", 0) == 1  # read by one worker, once
    assert after.get("hits", 0) - before.get("hits", 0) == 1  # answered from Redis for the other owner and node
    # The same owner again, through the other node: the stored document, no job, no reading.
    again = _upload(second_api, "alice", photo)
    assert again.status_code == 200 and again.json()["id"] == alice.json()["id"]
    assert _ocr_stats(store) == after


def test_a_document_uploaded_through_one_node_is_cited_by_the_other_and_deleted_from_both(cluster: Cluster) -> None:
    first_api, second_api = cluster.api_urls
    stored = _upload(first_api, "alice", leaflet(910_002))
    assert stored.status_code == 201, stored.text
    document_id = stored.json()["id"]
    answer = _ask(second_api, "alice", QUESTION, document_ids=[document_id])
    assert answer.status_code == 200, answer.text
    result = answer.json()["rxlens"]
    cited = [c for c in result["citations"] if c.get("document_id") == document_id]
    assert cited and any("辛伐他汀" in c["text"] for c in cited), result["citations"]
    assert "辛伐他汀" in answer.json()["choices"][0]["message"]["content"]
    # Another owner cannot reach it through either node.
    assert httpx.get(f"{second_api}/v1/documents/{document_id}", headers=headers("bob")).status_code == 404
    deleted = httpx.delete(f"{second_api}/v1/documents/{document_id}", headers=headers("alice"))
    assert deleted.status_code == 204
    for url in (first_api, second_api):
        assert httpx.get(f"{url}/v1/documents/{document_id}", headers=headers("alice")).status_code == 404
        listed = httpx.get(f"{url}/v1/documents", headers=headers("alice")).json()["data"]
        assert document_id not in {d["id"] for d in listed}
        gone = _ask(url, "alice", QUESTION, document_ids=[document_id])
        assert gone.status_code == 404


def test_a_chat_turn_with_a_photo_answers_in_one_request_through_the_queue(
    cluster: Cluster, store: redis.Redis
) -> None:
    jobs_before = len(store.keys("rxlens:job:????????-*"))
    uri = "data:image/png;base64," + base64.b64encode(leaflet(910_003)).decode()
    content = [{"type": "text", "text": QUESTION}, {"type": "image_url", "image_url": {"url": uri}}]
    answer = _ask(cluster.api_urls[1], "bob", content)
    assert answer.status_code == 200, answer.text
    result = answer.json()["rxlens"]
    assert len(result["documents"]) == 1 and any("amlodipine" in d["ingredients"] for d in result["drugs"])
    assert len(store.keys("rxlens:job:????????-*")) == jobs_before + 1  # read by a worker, as a job
    assert not store.keys("rxlens:job:*:upload")


def test_killing_a_worker_and_an_api_process_during_uploads_loses_no_acknowledged_upload(
    cluster: Cluster, tmp_path: Path
) -> None:
    outcome = asyncio.run(run_fault(cluster, photos=12))
    assert outcome["killed"] == ["worker1", f"api{len(cluster.apis)}"]
    assert outcome["acknowledged"] >= 6
    assert outcome["ends"] == {"done": outcome["acknowledged"]}, outcome
    assert outcome["all_done"]
