"""Jobs in this process (the embedded default, `make serve`): each job is a task on the event loop that runs the
library's own upload path (OCR on the bounded gate, then the database). States live in memory, bounded: finished
jobs are kept for `keep_s` seconds and at most `max_jobs` of them."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING

from app.errors import Busy, NotFound
from app.jobs.base import Job, JobFailed
from knowledge.errors import RxLensError

if TYPE_CHECKING:
    from app.api.library import DocumentLibrary
    from app.persistence.repositories import DocumentRepository
    from app.persistence.tables import DocumentRow

POLL_S = 0.05


class LocalJobQueue:
    def __init__(
        self, library: DocumentLibrary, documents: DocumentRepository, max_jobs: int = 4096, keep_s: float = 3600
    ) -> None:
        self.library = library
        self.documents = documents
        self.max_jobs = max_jobs
        self.keep_s = keep_s
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._inflight: dict[tuple[str, str], str] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, owner: str, data: bytes, filename: str | None) -> Job:
        sha256 = hashlib.sha256(data).hexdigest()
        joined = self._inflight.get((owner, sha256))
        if joined is not None and joined in self._jobs:
            return self._jobs[joined]
        gate = self.library.gate
        if gate.pending >= gate.capacity:
            raise Busy(
                "The service is reading other photos right now; try again in a few seconds.",
                retry_after=gate.retry_after(),
            )
        job = Job(id=str(uuid.uuid4()), owner=owner, status="queued", sha256=sha256)
        self._store(job)
        self._inflight[(owner, sha256)] = job.id
        task = asyncio.create_task(self._run(job, data, filename))
        self._tasks.add(task)  # a reference, or the loop may collect a running task
        task.add_done_callback(self._tasks.discard)
        return job

    async def _run(self, job: Job, data: bytes, filename: str | None) -> None:
        self._store(replace(job, status="running", attempts=1))
        try:
            row, created = await self.library.add(job.owner, data, filename)
            done = replace(job, status="done", document_id=row.id, created=created, attempts=1)
        except RxLensError as e:
            done = replace(job, status="failed", error_code=e.code, error_message=e.message, attempts=1)
        except Exception as e:  # a bug or an operator fault: the job says so, the server keeps running
            done = replace(
                job,
                status="failed",
                error_code=JobFailed.code,
                error_message=f"Reading the upload failed ({type(e).__name__}); upload it again.",
                attempts=1,
            )
        self._store(replace(done, finished_at=time.time()))
        self._inflight.pop((job.owner, job.sha256), None)

    def _store(self, job: Job) -> None:
        self._jobs[job.id] = job
        self._jobs.move_to_end(job.id)
        cutoff = time.time() - self.keep_s
        while self._jobs:
            oldest = next(iter(self._jobs.values()))
            if len(self._jobs) <= self.max_jobs and (oldest.finished_at or time.time()) > cutoff:
                break
            self._jobs.popitem(last=False)

    async def get(self, owner: str, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            raise NotFound(f"No job {job_id!r}: it never existed, or finished more than an hour ago.")
        return job

    async def wait(self, owner: str, job_id: str, timeout_s: float) -> Job:
        deadline = time.monotonic() + timeout_s
        while True:
            job = await self.get(owner, job_id)
            if job.finished:
                return job
            if time.monotonic() >= deadline:
                raise Busy(
                    f"The photo is still being read after {timeout_s:g} s; ask for job {job.id} again later.",
                    retry_after=max(1, self.library.gate.retry_after()),
                )
            await asyncio.sleep(POLL_S)

    async def ingest(self, owner: str, data: bytes, filename: str | None) -> tuple[DocumentRow, bool]:
        # In process the job would only add a hop: the library's own path (bounded gate, its own timeout) is it.
        return await self.library.add(owner, data, filename)

    def forget(self, sha256: str) -> None:
        return None  # nothing of a document is cached outside the database in this process

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
