"""Job records and uploads in Redis, shared by the API processes (which create jobs and read their state) and the
workers (which run them).

Keys: `rxlens:job:<id>` (the record: owner, state, document id, error; no user data; kept `record_ttl_s`),
`rxlens:job:<id>:upload` (the uploaded bytes and file name: medical data, so it expires after `upload_ttl_s` even
if no worker ever runs the job, and is deleted as soon as the job finishes), and
`rxlens:job:inflight:<owner hash>:<sha256>` (the queued or running job for those bytes, which a second upload of
them joins). `shared_result_cache` builds the OCR cache that workers and API processes share.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import fields, replace
from typing import Any

import redis

from app.config import Settings
from app.jobs.base import Job
from ingestion.cache import SharedResultCache

PREFIX = "rxlens:job:"
_INT = {"attempts"}
_FLOAT = {"created_at", "finished_at"}


def _inflight_key(owner: str, sha256: str) -> str:
    return f"{PREFIX}inflight:{hashlib.sha256(owner.encode()).hexdigest()[:24]}:{sha256}"


def _encode(job: Job) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in fields(job):
        value = getattr(job, f.name)
        if value is None:
            continue
        out[f.name] = str(int(value)) if isinstance(value, bool) else str(value)
    return out


def _decode(raw: dict[bytes, bytes]) -> Job:
    values: dict[str, Any] = {k.decode(): v.decode() for k, v in raw.items()}
    for name in _INT:
        if name in values:
            values[name] = int(values[name])
    for name in _FLOAT:
        if name in values:
            values[name] = float(values[name])
    if "created" in values:
        values["created"] = values["created"] == "1"
    return Job(**values)


class RedisJobStore:
    def __init__(self, client: redis.Redis, record_ttl_s: int, upload_ttl_s: int) -> None:
        self.redis = client
        self.record_ttl_s = record_ttl_s
        self.upload_ttl_s = upload_ttl_s

    def create(self, owner: str, data: bytes, filename: str | None) -> tuple[Job, bool]:
        """A new queued job for these bytes, or (False) the owner's queued or running job for them."""
        sha256 = hashlib.sha256(data).hexdigest()
        inflight = _inflight_key(owner, sha256)
        job = Job(id=str(uuid.uuid4()), owner=owner, status="queued", sha256=sha256)
        if not self.redis.set(inflight, job.id, nx=True, ex=self.upload_ttl_s):
            existing_id = self.redis.get(inflight)
            existing = self.get(bytes(existing_id).decode()) if existing_id else None  # type: ignore[arg-type]
            if existing is not None and not existing.finished:
                return existing, False
            self.redis.set(inflight, job.id, ex=self.upload_ttl_s)
        upload = {"data": data, "filename": filename or ""}
        with self.redis.pipeline() as pipe:
            pipe.hset(f"{PREFIX}{job.id}", mapping=_encode(job))  # type: ignore[arg-type]
            pipe.expire(f"{PREFIX}{job.id}", self.record_ttl_s)
            pipe.hset(f"{PREFIX}{job.id}:upload", mapping=upload)  # type: ignore[arg-type]
            pipe.expire(f"{PREFIX}{job.id}:upload", self.upload_ttl_s)
            pipe.execute()
        return job, True

    def inflight(self, owner: str, sha256: str) -> Job | None:
        """The owner's queued or running job for these bytes, if any."""
        job_id = self.redis.get(_inflight_key(owner, sha256))
        job = self.get(bytes(job_id).decode()) if job_id else None  # type: ignore[arg-type]
        return job if job is not None and not job.finished else None

    def get(self, job_id: str) -> Job | None:
        raw = self.redis.hgetall(f"{PREFIX}{job_id}")
        return _decode(raw) if raw else None  # type: ignore[arg-type]

    def upload(self, job_id: str) -> tuple[bytes, str | None] | None:
        raw: dict[bytes, bytes] = self.redis.hgetall(f"{PREFIX}{job_id}:upload")  # type: ignore[assignment]
        if not raw or b"data" not in raw:
            return None
        return raw[b"data"], (raw.get(b"filename") or b"").decode() or None

    def has_upload(self, job_id: str) -> bool:
        return bool(self.redis.exists(f"{PREFIX}{job_id}:upload"))

    def start(self, job: Job) -> Job:
        """Count a run; the record says running."""
        attempts = int(self.redis.hincrby(f"{PREFIX}{job.id}", "attempts", 1))
        self.redis.hset(f"{PREFIX}{job.id}", "status", "running")
        return replace(job, status="running", attempts=attempts)

    def requeue(self, job: Job) -> None:
        self.redis.hset(f"{PREFIX}{job.id}", "status", "queued")

    def finish(self, job: Job) -> Job:
        """Record the outcome and delete the upload: its bytes are not kept a moment longer than needed."""
        job = replace(job, finished_at=time.time())
        with self.redis.pipeline() as pipe:
            pipe.hset(f"{PREFIX}{job.id}", mapping=_encode(job))  # type: ignore[arg-type]
            pipe.expire(f"{PREFIX}{job.id}", self.record_ttl_s)
            pipe.delete(f"{PREFIX}{job.id}:upload")
            pipe.delete(_inflight_key(job.owner, job.sha256))
            pipe.execute()
        return job


def shared_result_cache(settings: Settings, jobs_client: redis.Redis) -> SharedResultCache:
    """The OCR results shared by every worker and API process: in the jobs' Redis unless
    RXLENS_SHARED_CACHE_REDIS_URL names another one."""
    url = settings.shared_cache_redis_url
    client = jobs_client if url == settings.redis_url else redis.Redis.from_url(url or "")
    return SharedResultCache(client, settings.ocr_shared_cache_ttl_s)
