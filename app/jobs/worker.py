"""The worker side of a job: `rxlens worker` runs one Celery worker process that takes one job at a time, reads
the upload with the OCR pipeline (through the shared Redis cache) and stores it with the same library the API uses.

One worker process per GPU (or per few CPU cores): the OCR model loads once per process, before the first job.
A job that fails for the upload's own reason (not an image, no text) ends failed at once with that error; any
other failure is retried with a back-off, and a job is run at most `job_max_attempts` times, counting runs that
a killed worker never finished, so a photo that crashes its worker cannot crash them all.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from dataclasses import replace
from typing import Any

import redis
from celery import Task

from app.components import Components
from app.config import Settings
from app.errors import Busy
from app.jobs.base import Job, JobFailed
from app.jobs.store import RedisJobStore, shared_result_cache
from ingestion.errors import OcrUnavailable, UpstreamError
from knowledge.errors import RxLensError

log = logging.getLogger(__name__)

TRANSIENT = (Busy, UpstreamError, OcrUnavailable)  # worth another try
READY_PREFIX = "rxlens:worker:"

_worker: IngestWorker | None = None
_worker_lock = threading.Lock()


def ingest_worker(settings: Settings) -> IngestWorker:
    """This process's worker, built on first use."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = IngestWorker(settings)
        return _worker


class IngestWorker:
    def __init__(self, settings: Settings) -> None:
        assert settings.redis_url
        self.settings = settings
        self.redis = redis.Redis.from_url(settings.redis_url)
        self.store = RedisJobStore(self.redis, settings.job_record_ttl_s, settings.job_upload_ttl_s)
        self.components = Components(settings)
        self.cache = shared_result_cache(settings, self.redis)
        self.loop = asyncio.new_event_loop()

    def warm_up(self) -> None:
        """Load the OCR model, the lexicon, the database and the owners' indexes before taking jobs."""
        c = self.components
        c.ocr.cache = self.cache  # the service's pipeline has no cache of its own; workers share Redis's
        c.lexicon  # noqa: B018
        c.database  # noqa: B018
        c.retriever.documents  # noqa: B018
        c.library  # noqa: B018

    def run(self, task: Task[Any, Any], job_id: str) -> str | None:
        job = self.store.get(job_id)
        if job is None:  # its record expired: nobody is waiting for it
            return None
        if job.status == "done":  # delivered again after it finished (a worker lost before acknowledging)
            return job.document_id
        if job.status == "failed":
            return None
        upload = self.store.upload(job_id)
        if upload is None:
            self._fail(job, JobFailed("The upload expired in the queue before a worker read it; upload it again."))
            return None
        job = self.store.start(job)
        if job.attempts > self.settings.job_max_attempts:
            self._fail(
                job,
                JobFailed(
                    f"Reading this upload stopped {job.attempts - 1} times before it finished; it was given up. "
                    "Try a smaller or clearer photo."
                ),
            )
            return None
        data, filename = upload
        self.components.ocr.cache = self.cache
        try:
            row, created = self.loop.run_until_complete(self.components.library.add(job.owner, data, filename))
        except TRANSIENT as e:
            return self._retry(task, job, e)
        except RxLensError as e:  # the upload's own fault: no retry can help
            self._fail(job, e)
            return None
        except Exception as e:
            # The type only: a database error's text can quote the row it was writing (the reading, the image).
            log.error("job %s failed on attempt %d: %s", job.id, job.attempts, type(e).__name__)
            return self._retry(task, job, e)
        self.store.finish(replace(job, status="done", document_id=row.id, created=created))
        return row.id

    def _retry(self, task: Task[Any, Any], job: Job, error: Exception) -> str | None:
        if job.attempts >= self.settings.job_max_attempts:
            self._fail(job, JobFailed(f"Reading the upload failed {job.attempts} times; try again later."))
            return None
        self.store.requeue(job)
        # Celery logs the retry's reason: its class name, never its text (see run()).
        reason = JobFailed(f"attempt {job.attempts} failed: {type(error).__name__}")
        raise task.retry(countdown=2 ** (job.attempts - 1), max_retries=self.settings.job_max_attempts, exc=reason)

    def _fail(self, job: Job, error: RxLensError) -> None:
        self.store.finish(replace(job, status="failed", error_code=error.code, error_message=error.message))


def run_worker(settings: Settings, name: str | None = None, loglevel: str = "INFO") -> None:
    """Warm up, then take jobs until stopped (SIGTERM finishes the job at hand first)."""
    from celery.signals import worker_ready, worker_shutdown

    from app.jobs.celery_app import make_celery

    hostname = name or f"rxlens-worker-{socket.gethostname()}-{__import__('os').getpid()}"
    worker = ingest_worker(settings)
    worker.warm_up()
    celery = make_celery(settings)

    @worker_ready.connect(weak=False)
    def _ready(**_: object) -> None:
        worker.redis.set(READY_PREFIX + hostname, "ready", ex=settings.job_record_ttl_s)

    @worker_shutdown.connect(weak=False)
    def _gone(**_: object) -> None:
        worker.redis.delete(READY_PREFIX + hostname)

    celery.worker_main(
        [
            "worker",
            "--pool=solo",
            f"--hostname={hostname}@%h",
            f"--queues={settings.job_queue}",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
