"""Ingestion jobs: an upload becomes a job that reads the photo and stores it as its owner's document.

One interface (`JobQueue`: submit, get, wait, ingest), two implementations chosen here from the settings: in this
process (`LocalJobQueue`, the default: `make serve` needs no Redis) or on Celery workers with Redis as broker and
result store (`CeleryJobQueue`, when `RXLENS_REDIS_URL` is set; workers run as `rxlens worker`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.jobs.base import Job, JobFailed, JobQueue, JobState

if TYPE_CHECKING:
    from app.components import Components

__all__ = ["Job", "JobFailed", "JobQueue", "JobState", "build_job_queue"]


def build_job_queue(components: Components) -> JobQueue:
    """The job queue the settings ask for: Celery workers when a Redis URL is set, else this process."""
    if components.settings.redis_url:
        from app.jobs.remote import CeleryJobQueue

        return CeleryJobQueue(components.settings, components.documents)
    from app.jobs.local import LocalJobQueue

    return LocalJobQueue(components.library, components.documents)
