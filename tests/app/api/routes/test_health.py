"""/healthz, /readyz (ready once warmed up) and /metrics."""

from __future__ import annotations

import time

import httpx
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


def test_openapi_documents_the_endpoints(shared_client: httpx.Client) -> None:
    paths = shared_client.get("/openapi.json").json()["paths"]
    for path in ("/v1/chat/completions", "/v1/documents", "/v1/documents/{document_id}/image", "/v1/ocr"):
        assert path in paths


def test_metric_labels_stay_bounded_whatever_the_requests(client: TestClient) -> None:
    """Labels are route templates, status codes and known methods: invented methods and paths with ids or
    random words add no series."""
    for i in range(200):
        client.request(f"X{i}", f"/v1/documents/{i:032x}")
        client.get(f"/no/such/page-{i}", params={"q": f"张三 {i}"})
        client.get(f"/v1/documents/{i:032x}")
    samples = [s for m in client.app.state.components.metrics.registry.collect() for s in m.samples]  # type: ignore[attr-defined]
    series = {tuple(sorted(s.labels.items())) for s in samples if s.name == "rxlens_request_seconds_count"}
    assert len(series) <= 6, series
    assert {dict(s)["method"] for s in series} <= {"GET", "OTHER"}
