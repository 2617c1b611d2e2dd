"""The embedded default (no Redis): `POST /v1/documents?wait=false` and `GET /v1/jobs/{id}` on jobs that run in
the API's own process, with the real OCR, knowledge base and SQLite file."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.main import create_app
from app.config import Settings
from app.jobs.local import LocalJobQueue
from tests.app.jobs.conftest import blank_png, checkout_kb_index, leaflet_photo

KEY_A = "key-of-owner-a-0123456789"
KEY_B = "key-of-owner-b-9876543210"
A = {"Authorization": f"Bearer {KEY_A}"}
B = {"Authorization": f"Bearer {KEY_B}"}


async def _until(client: httpx.AsyncClient, job_id: str, timeout_s: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        body: dict[str, Any] = (await client.get(f"/v1/jobs/{job_id}", headers=A)).json()
        if body["status"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.05)


def test_jobs_run_in_process_without_redis(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        var_dir=tmp_path, kb_index_path=checkout_kb_index(), api_keys=f"a:{KEY_A},b:{KEY_B}", rate_limit_per_minute=0
    )
    app = create_app(settings)
    assert isinstance(app.state.components.jobs, LocalJobQueue)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def upload(data: bytes) -> httpx.Response:
                files = {"file": ("leaflet.png", data, "image/png")}
                return await client.post("/v1/documents?wait=false", files=files, headers=A)

            photo = leaflet_photo(7)
            first, second = await upload(photo), await upload(photo)
            assert first.status_code == 202 and first.headers["location"] == f"/v1/jobs/{first.json()['job_id']}"
            assert second.json()["job_id"] == first.json()["job_id"]  # the same bytes join the running job
            assert (await client.get(f"/v1/jobs/{first.json()['job_id']}", headers=B)).status_code == 404
            blank = await upload(blank_png())
            done, failed = await _until(client, first.json()["job_id"]), await _until(client, blank.json()["job_id"])
            assert done["status"] == "done" and done["created"] is True
            document = await client.get(f"/v1/documents/{done['document_id']}", headers=A)
            assert any("amlodipine" in d["ingredients"] for d in document.json()["drugs"])
            assert failed["status"] == "failed" and failed["error"]["code"] == "no_text"
            missing = await client.get("/v1/jobs/no-such-job", headers=A)
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"

    asyncio.run(scenario())
    app.state.components.close()


@pytest.mark.parametrize("data, code", [(b"", "invalid_input"), (b"plain text", "unsupported_media_type")])
def test_an_unreadable_upload_is_refused_before_it_becomes_a_job(tmp_path: Path, data: bytes, code: str) -> None:
    app = create_app(Settings(var_dir=tmp_path, kb_index_path=checkout_kb_index()))  # type: ignore[call-arg]

    async def scenario() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            files = {"file": ("x.png", data, "image/png")}
            return await client.post("/v1/documents?wait=false", files=files)

    r = asyncio.run(scenario())
    assert r.json()["error"]["code"] == code and r.status_code in (400, 415)
