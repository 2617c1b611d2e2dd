"""`GET /v1/jobs/{job_id}`: the state of an upload's job (`POST /v1/documents?wait=false`): queued, running,
done (with the document's id) or failed (with the error the synchronous upload would have answered). Scoped to the
caller's owner: another owner's job answers 404, like one that never existed."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import ComponentsDep, OwnerDep
from app.api.schemas import ErrorResponse, JobError, JobOut
from app.jobs import Job

router = APIRouter(prefix="/v1/jobs", tags=["documents"])


def job_out(job: Job) -> JobOut:
    error = None
    if job.status == "failed":
        e = job.error()
        error = JobError(code=e.code, message=e.message)
    return JobOut(
        job_id=job.id,
        status=job.status,
        document_id=job.document_id,
        created=job.created,
        error=error,
        attempts=job.attempts,
    )


@router.get("/{job_id}", response_model=JobOut, responses={404: {"model": ErrorResponse}})
async def get_job(job_id: str, components: ComponentsDep, owner: OwnerDep) -> JobOut:
    return job_out(await components.jobs.get(owner, job_id))
