"""Uploads as jobs on real Celery worker processes (`rxlens worker`) with a real redis-server: acknowledged at
once, read by a worker, failed with the synchronous path's own error, joined when the same bytes come twice,
refused with 503 + Retry-After when the queue is full, and never lost when the worker is killed mid-job."""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.api.main import create_app
from app.config import Settings
from tests.app.api.conftest import leaflet_png
from tests.app.jobs.conftest import blank_png, checkout_kb_index, leaflet_photo
from tests.scale.servers import RXLENS, RedisServer, Service, start_worker

pytestmark = pytest.mark.integration

KEY_A = "key-of-owner-a-0123456789"
KEY_B = "key-of-owner-b-9876543210"
A = {"Authorization": f"Bearer {KEY_A}"}
B = {"Authorization": f"Bearer {KEY_B}"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> dict[str, str]:
    var = tmp_path_factory.mktemp("jobs-var")
    return {
        "RXLENS_REDIS_URL": redis_server.url,
        "RXLENS_VAR_DIR": str(var),
        "RXLENS_DATABASE_URL": f"sqlite:///{var / 'rxlens.sqlite'}",
        "RXLENS_KB_INDEX_PATH": str(checkout_kb_index()),
        "RXLENS_JOB_VISIBILITY_TIMEOUT_S": "4",
        "RXLENS_API_KEYS": f"a:{KEY_A},b:{KEY_B}",
    }


def _settings(env: dict[str, str], **overrides: Any) -> Settings:
    values: dict[str, Any] = {k.removeprefix("RXLENS_").lower(): v for k, v in env.items()}
    return Settings(**{**values, "rate_limit_per_minute": 0, **overrides})


@pytest.fixture(scope="module")
def client(env: dict[str, str]) -> TestClient:
    # No lifespan: the API side of a job needs no model, only Redis and the database.
    return TestClient(create_app(_settings(env)))


@pytest.fixture(scope="module")
def worker(
    env: dict[str, str], redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    service = start_worker("w1", env, tmp_path_factory.mktemp("logs"), redis_server.client())
    yield service
    service.stop()


def _upload(client: TestClient, data: bytes, headers: dict[str, str] = A, wait: bool = False) -> httpx.Response:
    return client.post(
        f"/v1/documents?wait={str(wait).lower()}", files={"file": ("leaflet.png", data, "image/png")}, headers=headers
    )


def _until(client: TestClient, job_id: str, states: set[str], timeout_s: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        r = client.get(f"/v1/jobs/{job_id}", headers=A)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["status"] in states or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


def test_an_upload_without_waiting_is_acknowledged_then_read_by_a_worker(
    client: TestClient, worker: Service, redis_server: RedisServer
) -> None:
    r = _upload(client, leaflet_photo(101))
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] in ("queued", "running") and r.headers["location"] == f"/v1/jobs/{job['job_id']}"
    done = _until(client, job["job_id"], {"done", "failed"})
    assert done["status"] == "done", (done, worker.output())
    assert done["created"] is True and done["error"] is None
    doc = client.get(f"/v1/documents/{done['document_id']}", headers=A)
    assert doc.status_code == 200
    assert any("amlodipine" in d["ingredients"] for d in doc.json()["drugs"])
    # The upload's bytes left Redis when the job finished; its record (no user data) expires.
    r_ = redis_server.client()
    assert not r_.keys("rxlens:job:*:upload")
    assert 0 < r_.ttl(f"rxlens:job:{job['job_id']}") <= 86_400
    assert set(r_.hkeys(f"rxlens:job:{job['job_id']}")) <= {
        k.encode()
        for k in ("id", "owner", "status", "sha256", "created_at", "finished_at", "document_id", "created", "attempts")
    }
    # Another owner cannot see the job.
    assert client.get(f"/v1/jobs/{job['job_id']}", headers=B).status_code == 404


def test_the_same_bytes_twice_join_one_job_and_make_one_document(client: TestClient, worker: Service) -> None:
    data = leaflet_photo(102)
    first, second = _upload(client, data).json(), _upload(client, data).json()
    assert first["job_id"] == second["job_id"]
    done = _until(client, first["job_id"], {"done", "failed"})
    assert done["status"] == "done"
    again = _upload(client, data, wait=True)
    assert again.status_code == 200 and again.json()["id"] == done["document_id"]


def test_a_photo_without_text_fails_with_the_error_the_synchronous_upload_gives(
    client: TestClient, worker: Service
) -> None:
    job = _upload(client, blank_png()).json()
    failed = _until(client, job["job_id"], {"done", "failed"})
    assert failed["status"] == "failed" and failed["error"]["code"] == "no_text"
    assert "photograph" in failed["error"]["message"].lower()
    sync = _upload(client, blank_png(), wait=True)
    assert sync.status_code == 422 and sync.json()["error"]["code"] == "no_text"
    # Refused before any job: not an image at all.
    bad = _upload(client, b"%!PS-Adobe not an image")
    assert bad.status_code == 415 and bad.json()["error"]["code"] == "unsupported_media_type"


def test_a_full_queue_answers_503_with_retry_after_and_a_wait_times_out(
    env: dict[str, str], redis_server: RedisServer
) -> None:
    # A queue no worker reads: the first upload waits, the second finds it full.
    app = create_app(_settings(env, job_queue="rxlens-test-unserved", job_queue_max=1, job_wait_timeout_s=0.5))
    unserved = TestClient(app)
    assert _upload(unserved, leaflet_photo(201)).status_code == 202
    full = _upload(unserved, leaflet_photo(202))
    assert full.status_code == 503 and full.json()["error"]["code"] == "busy"
    assert int(full.headers["retry-after"]) >= 1
    waited = _upload(unserved, leaflet_photo(201), wait=True)  # joins the queued job, which never runs
    assert waited.status_code == 503 and int(waited.headers["retry-after"]) >= 1
    assert "still being read" in waited.json()["error"]["message"]
    # The waiting upload's bytes expire even though no worker ever takes it.
    keys = redis_server.client().keys("rxlens:job:*:upload")
    assert keys and all(0 < redis_server.client().ttl(k) <= 3600 for k in keys)
    redis_server.client().delete("rxlens-test-unserved", *keys)


def test_rxlens_ingest_through_the_queue_stores_a_folder_and_resumes(
    client: TestClient, worker: Service, env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    (folder / "401.png").write_bytes(leaflet_photo(401))
    (folder / "sub" / "copy-of-401.png").write_bytes(leaflet_photo(401))
    (folder / "blank.png").write_bytes(blank_png())
    (folder / "notes.txt").write_text("not a photo: not collected")
    pages = [Image.open(io.BytesIO(leaflet_photo(n))).convert("RGB") for n in (403, 404)]
    pages[0].save(folder / "two-pages.pdf", save_all=True, append_images=pages[1:])
    report = tmp_path / "report.json"
    args = [RXLENS, "ingest", str(folder), "--owner", "a", "--report", str(report)]
    run = subprocess.run(args, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr  # one file failed
    assert "4 file(s)" in run.stdout and "2 stored" in run.stdout and "1 duplicate" in run.stdout
    body = json.loads(report.read_text())
    assert body["queue"] == "celery" and body["counts"] == {"stored": 2, "duplicate": 1, "failed": 1}
    by_name = {Path(f["path"]).name: f for f in body["files"]}
    assert by_name["blank.png"]["error_code"] == "no_text"
    pdf = client.get(f"/v1/documents/{by_name['two-pages.pdf']['document_id']}", headers=A).json()
    assert pdf["pages"] == 2 and "000404" in " ".join(line["text"] for line in pdf["lines"])
    again = subprocess.run([*args, "--json"], env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    counts = json.loads(again.stdout)["counts"]
    assert counts == {"skipped": 2, "duplicate": 1, "failed": 1}  # nothing stored is read again


def test_a_job_survives_a_worker_killed_mid_job(
    client: TestClient, worker: Service, env: dict[str, str], redis_server: RedisServer, tmp_path: Path
) -> None:
    lines = tuple(f"第{i}行 苯磺酸氨氯地平片 与辛伐他汀合用时，辛伐他汀的剂量不应超过每日20mg。" for i in range(12))
    job = _upload(client, leaflet_png(lines)).json()
    running = _until(client, job["job_id"], {"running", "done", "failed"})
    worker.kill()
    assert running["status"] == "running"
    assert _until(client, job["job_id"], {"done", "failed"}, timeout_s=0.5)["status"] == "running"
    replacement = start_worker("w2", env, tmp_path, redis_server.client())
    try:
        done = _until(client, job["job_id"], {"done", "failed"})
        assert done["status"] == "done", (done, replacement.output())
        assert done["attempts"] == 2
        assert client.get(f"/v1/documents/{done['document_id']}", headers=A).status_code == 200
        assert not redis_server.client().keys("rxlens:job:*:upload")
    finally:
        replacement.stop()
