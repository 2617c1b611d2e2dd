"""Jobs on Celery workers (`rxlens worker`), for API processes that share a Redis and a user database. The API
process writes the job's record and upload to Redis and queues its id; a worker reads the photo (through the
shared OCR cache) and stores the document; the API process polls the record."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import redis
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.errors import Busy, NotFound
from app.jobs.base import Job, JobFailed
from app.jobs.celery_app import TASK, make_celery
from app.jobs.store import RedisJobStore, shared_result_cache

if TYPE_CHECKING:
    from app.persistence.repositories import DocumentRepository
    from app.persistence.tables import DocumentRow


class CeleryJobQueue:
    def __init__(self, settings: Settings, documents: DocumentRepository) -> None:
        assert settings.redis_url
        self.settings = settings
        self.documents = documents
        self.redis = redis.Redis.from_url(settings.redis_url)
        self.store = RedisJobStore(self.redis, settings.job_record_ttl_s, settings.job_upload_ttl_s)
        self.celery = make_celery(settings)
        self.shared_cache = shared_result_cache(settings, self.redis)

    def _retry_after(self, waiting: int) -> int:
        return max(1, min(60, waiting // 2 + 1))

    async def submit(self, owner: str, data: bytes, filename: str | None) -> Job:
        return await run_in_threadpool(self._submit, owner, data, filename)

    def _submit(self, owner: str, data: bytes, filename: str | None) -> Job:
        joined = self.store.inflight(owner, hashlib.sha256(data).hexdigest())
        if joined is not None:  # the same bytes are queued already: no new work, so not refused when full
            return joined
        waiting = int(self.redis.llen(self.settings.job_queue))
        if waiting >= self.settings.job_queue_max:
            raise Busy(
                f"{waiting} photos are waiting to be read; try again in a few seconds.",
                retry_after=self._retry_after(waiting),
            )
        job, new = self.store.create(owner, data, filename)
        if new:
            try:
                self.celery.send_task(TASK, args=[job.id], task_id=job.id, queue=self.settings.job_queue)
            except Exception as e:
                self.store.finish(
                    replace(job, status="failed", error_code=JobFailed.code, error_message="The job queue failed.")
                )
                raise JobFailed("The job queue cannot be reached; try again in a few seconds.") from e
        return job

    async def get(self, owner: str, job_id: str) -> Job:
        job = await run_in_threadpool(self.store.get, job_id)
        if job is None or job.owner != owner:
            raise NotFound(f"No job {job_id!r}: it never existed, or finished more than a day ago.")
        return job

    async def wait(self, owner: str, job_id: str, timeout_s: float) -> Job:
        deadline = time.monotonic() + timeout_s
        pause = 0.02
        while True:
            job = await self.get(owner, job_id)
            if job.finished:
                return job
            if time.monotonic() >= deadline:
                waiting = int(await run_in_threadpool(self.redis.llen, self.settings.job_queue))
                raise Busy(
                    f"The photo is still being read after {timeout_s:g} s; ask for job {job.id} at "
                    f"/v1/jobs/{job.id} later.",
                    retry_after=self._retry_after(waiting),
                )
            await asyncio.sleep(pause)
            pause = min(0.25, pause * 1.5)

    async def ingest(self, owner: str, data: bytes, filename: str | None) -> tuple[DocumentRow, bool]:
        sha256 = hashlib.sha256(data).hexdigest()
        existing = await run_in_threadpool(self.documents.find_by_sha256, owner, sha256)
        if existing is not None:
            return existing, False
        job = await self.submit(owner, data, filename)
        job = await self.wait(owner, job.id, self.settings.job_wait_timeout_s)
        if job.status == "failed" or job.document_id is None:
            raise job.error()
        row = await run_in_threadpool(self.documents.get, owner, job.document_id)
        return row, bool(job.created)

    def forget(self, sha256: str) -> None:
        self.shared_cache.delete(sha256)

    def close(self) -> None:
        self.redis.close()
