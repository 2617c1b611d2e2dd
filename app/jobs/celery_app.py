"""The Celery application: Redis as broker and result store, one task (`rxlens.ingest`).

Jobs are acknowledged late (after they finish) and a job whose worker process dies is given back to the queue
(`task_reject_on_worker_lost`); a worker killed outright leaves its job unacknowledged in Redis, and another
worker takes it once `job_visibility_timeout_s` has passed. Each worker takes one job at a time (prefetch 1), so
a killed worker holds at most one.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task

from app.config import Settings

TASK = "rxlens.ingest"


def make_celery(settings: Settings) -> Celery:
    if not settings.redis_url:
        raise ValueError("Celery jobs need RXLENS_REDIS_URL (redis://host:port/db).")
    celery = Celery("rxlens", broker=settings.redis_url, backend=settings.redis_url, set_as_current=False)
    visibility = settings.job_visibility_timeout_s
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.job_queue,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=settings.job_record_ttl_s,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Sweep for jobs of lost workers often enough that one is retaken about `visibility` s after it was taken.
        broker_transport_options={
            "visibility_timeout": visibility,
            "unacked_restore_interval": max(1, min(10, visibility // 2)),
            "unacked_restore_throttle": 1,
        },
    )

    @celery.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
    def ingest(task: Task[Any, Any], job_id: str) -> str | None:
        from app.jobs.worker import ingest_worker

        return ingest_worker(settings).run(task, job_id)

    return celery
