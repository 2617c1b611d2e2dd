"""Batch ingestion (`rxlens ingest PATH...`): files and folders of photos and PDFs become the owner's documents
through the job queue the settings choose (in this process, or Celery workers when RXLENS_REDIS_URL is set).

Resumable: a file whose bytes the owner has stored already is skipped without being read. A queue that is full
is waited for (its Retry-After), never counted as a failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.errors import Busy
from app.jobs.base import JobQueue
from app.persistence.repositories import DocumentRepository
from knowledge.errors import RxLensError

SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".tif", ".tiff", ".bmp", ".gif", ".pdf"})
BUSY_RETRIES = 30

Outcome = Literal["stored", "skipped", "duplicate", "failed"]


@dataclass
class FileResult:
    """One file's outcome: stored (a new document), skipped (stored before this run: not read again),
    duplicate (the same bytes as another file of this run), failed (with the API's error code)."""

    path: str
    status: Outcome
    sha256: str = ""
    document_id: str | None = None
    doc_type: str | None = None
    error_code: str | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass
class IngestReport:
    owner: str
    queue: str
    concurrency: int
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(f.status for f in self.files))

    @property
    def read_per_second(self) -> float:
        read = sum(1 for f in self.files if f.status in ("stored", "failed"))
        return read / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "queue": self.queue,
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 2),
            "counts": self.counts,
            "read_per_second": round(self.read_per_second, 3),
            "files": [asdict(f) for f in self.files],
        }


def collect(paths: Iterable[Path]) -> list[Path]:
    """The photos and PDFs named, and those under the folders named (recursively), each once, in order."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.is_file() and p.suffix.lower() in SUFFIXES:
                    found[p.resolve()] = None
        elif path.is_file():
            found[path.resolve()] = None
        else:
            raise FileNotFoundError(path)
    return list(found)


async def ingest(
    files: list[Path],
    owner: str,
    jobs: JobQueue,
    documents: DocumentRepository,
    concurrency: int,
    queue: str,
    on_done: Callable[[FileResult], None] = lambda _: None,
) -> IngestReport:
    report = IngestReport(owner=owner, queue=queue, concurrency=concurrency)
    gate = asyncio.Semaphore(concurrency)
    seen: dict[str, str] = {}  # sha256 -> the first path of this run with those bytes
    started = time.perf_counter()

    async def one(path: Path) -> FileResult:
        async with gate:
            t = time.perf_counter()
            data = await asyncio.to_thread(path.read_bytes)
            sha256 = hashlib.sha256(data).hexdigest()
            result = FileResult(path=str(path), status="stored", sha256=sha256)
            first = seen.setdefault(sha256, str(path)) == str(path)
            if not first:
                result.status = "duplicate"
            elif (row := await asyncio.to_thread(documents.find_by_sha256, owner, sha256)) is not None:
                result.status, result.document_id, result.doc_type = "skipped", row.id, row.doc_type
            else:
                try:
                    for attempt in range(BUSY_RETRIES + 1):
                        try:
                            stored, created = await jobs.ingest(owner, data, path.name)
                            break
                        except Busy as e:  # a full queue or a long wait: wait as told, then join the job again
                            if attempt == BUSY_RETRIES:
                                raise
                            await asyncio.sleep(e.retry_after)
                    result.document_id, result.doc_type = stored.id, stored.doc_type
                    result.status = "stored" if created else "skipped"
                except RxLensError as e:
                    result.status, result.error_code, result.error = "failed", e.code, e.message
            result.seconds = round(time.perf_counter() - t, 3)
            on_done(result)
            return result

    report.files = list(await asyncio.gather(*(one(p) for p in files)))
    report.seconds = time.perf_counter() - started
    return report
