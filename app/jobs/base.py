"""What a job is and what every job queue offers. A job reads one upload and stores it as its owner's document;
it is idempotent by the upload's SHA-256 (the same bytes of the same owner while a job for them is queued or
running join that job, and a job run twice finds the document its first run stored)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from app.errors import Busy
from knowledge.errors import RxLensError

if TYPE_CHECKING:
    from app.persistence.tables import DocumentRow

JobState = Literal["queued", "running", "done", "failed"]
FINISHED: frozenset[str] = frozenset({"done", "failed"})


class JobFailed(Busy):
    """A job failed for a reason that is not the upload's fault (the worker crashed past its retries, the upload
    expired in the queue): a server error, worth trying again."""

    code = "job_failed"


@dataclass(frozen=True)
class Job:
    """One upload's job as the API shows it.

    Args:
        id: the job id (a UUID), also the Celery task id.
        owner: whose upload it is; another owner's job does not exist for them.
        status: queued | running | done | failed.
        sha256: of the uploaded bytes.
        document_id: the stored document, once done.
        created: whether the document is new (false: the owner had stored the same bytes before).
        error_code, error_message: why it failed, the codes of the API's errors (`no_text`, `bad_image` ...).
        attempts: runs started (more than one after a retry or a worker lost mid-job).
    """

    id: str
    owner: str
    status: JobState
    sha256: str
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    document_id: str | None = None
    created: bool | None = None
    error_code: str | None = None
    error_message: str | None = None
    attempts: int = 0

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def error(self) -> RxLensError:
        """The failed job's error as the exception class the API maps to a status (no_text -> 422 ...)."""
        return error_from_code(self.error_code or JobFailed.code, self.error_message or "The job failed.")


class JobQueue(Protocol):
    """Submit uploads as jobs, read their state, wait for them."""

    async def submit(self, owner: str, data: bytes, filename: str | None) -> Job:
        """Queue a job (or join the owner's queued or running job for the same bytes). Raises Busy when full."""
        ...

    async def get(self, owner: str, job_id: str) -> Job:
        """The owner's job; NotFound for an unknown id or another owner's job."""
        ...

    async def wait(self, owner: str, job_id: str, timeout_s: float) -> Job:
        """The job once finished; Busy (with Retry-After) when it is not finished within the timeout."""
        ...

    async def ingest(self, owner: str, data: bytes, filename: str | None) -> tuple[DocumentRow, bool]:
        """Submit and wait: the stored document and whether it is new, or the job's error raised."""
        ...

    def forget(self, sha256: str) -> None:
        """Drop what is cached about these bytes outside the database (called when their document is deleted)."""
        ...

    def close(self) -> None: ...


def _subclasses(cls: type[RxLensError]) -> list[type[RxLensError]]:
    out = [cls]
    for sub in cls.__subclasses__():
        out += _subclasses(sub)
    return out


def error_from_code(code: str, message: str) -> RxLensError:
    """Rebuild an error that crossed a process boundary as its code and message."""
    # Imported for their classes to be registered as subclasses before the lookup.
    import app.errors  # noqa: F401
    import ingestion.errors  # noqa: F401

    for cls in _subclasses(RxLensError):
        if cls.code == code:
            return cls(message)
    return JobFailed(message)
