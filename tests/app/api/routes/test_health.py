"""/healthz, /readyz (ready once warmed up) and /metrics."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient


def wait_ready(client: TestClient, timeout_s: float = 60) -> None:
    deadline = time.time() + timeout_s
    while client.get("/readyz").status_code != 200:
        assert time.time() < deadline, client.get("/readyz").json()
        time.sleep(0.1)


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "detail": None}
    wait_ready(client)
    client.post("/v1/interactions/check", json={"drugs": ["warfarin", "aspirin"]})
    text = client.get("/metrics").text
    assert 'rxlens_request_seconds_count{method="POST",route="/v1/interactions/check",status="200"} 1.0' in text
    for name in ("rxlens_ocr_seconds", "rxlens_ocr_queue_depth", "rxlens_document_cache_hits_total"):
        assert name in text


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/chat/completions", "/v1/documents", "/v1/documents/{document_id}/image", "/v1/ocr"):
        assert path in paths
