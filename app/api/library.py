"""A user's documents as the API sees them: read an upload (OCR on the bounded gate), store it with its image,
hand stored documents to the answer chain as context, and delete them everywhere.

The stored reading is the cache: the same bytes from the same owner are never read twice, and deleting the
document removes the only copy. A reading made for `POST /v1/ocr` (which stores nothing) is kept in memory only,
least recently used first out, until the same owner reads the same bytes again (on either path: a photo sent
to /v1/ocr and then to the chat is read once) or stores them as a document, which then holds the only copy.
Readings are never shared between owners, so one user cannot learn from a fast answer that another user
uploaded the same photo.

A copy of one of the owner's stored photos that a messaging app resized and recompressed (another sha256) is
recognised too, by its fingerprint (`ingestion.fingerprint`: a perceptual hash, confirmed by comparing the
images): the copy is stored as a document of its own with the stored reading scaled to its size, without OCR.
The fingerprints of the owner's photos stored through this process are kept in memory (`OwnerPrints`, bounded,
dropped with the document); a copy sent to another node, or after a restart, is read again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool

from app.api.images import sniff_content_type
from app.api.schemas import DocumentOut, ParsedDocumentOut
from app.documents import DocumentContext, confirmed_drugs, document_context
from app.errors import InvalidInput, NotFound, UnsupportedMediaType
from app.metrics import Metrics
from app.ocr_gate import OcrGate
from app.owner_indexes import StoredDocumentIndexes
from app.persistence.repositories import DocumentRepository
from app.persistence.tables import DocumentRow
from ingestion.document import ParsedDocument
from ingestion.errors import NoTextFound
from ingestion.fingerprint import ImagePrint, fingerprint, same_photo
from knowledge.lexicon import Lexicon
from knowledge.normalize import has_cjk
from knowledge.retrieval.chunks import Chunk, document_chunks
from knowledge.retrieval.documents import DocumentIndexes

log = logging.getLogger(__name__)

REINDEX_BATCH = 256  # chunks per embedding batch and index save when start-up reconciliation re-indexes
READINGS_IN_MEMORY = 64  # unstored /v1/ocr readings kept (a page's reading is tens of KB)
PRINTS_IN_MEMORY_MB = 32  # fingerprints of stored photos kept to recognise forwarded copies (64 KB each)


class OwnerPrints:
    """The fingerprints of owners' stored photos, least recently used first out past `max_bytes`; thread-safe."""

    def __init__(self, max_bytes: int = PRINTS_IN_MEMORY_MB * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._prints: OrderedDict[tuple[str, str], ImagePrint] = OrderedDict()  # (owner, document id)
        self._bytes = 0
        self._lock = threading.Lock()

    def add(self, owner: str, document_id: str, found: ImagePrint) -> None:
        with self._lock:
            self._drop((owner, document_id))
            self._prints[(owner, document_id)] = found
            self._bytes += found.nbytes
            while self._bytes > self.max_bytes and self._prints:
                self._drop(next(iter(self._prints)))

    def twin(self, owner: str, found: ImagePrint) -> str | None:
        """The id of the owner's stored document whose photo `found` is a copy of, if one is known here."""
        with self._lock:
            for (who, document_id), known in reversed(self._prints.items()):
                if who == owner and same_photo(known, found):
                    self._prints.move_to_end((who, document_id))
                    return document_id
        return None

    def forget(self, owner: str, document_id: str) -> None:
        with self._lock:
            self._drop((owner, document_id))

    def _drop(self, key: tuple[str, str]) -> None:
        gone = self._prints.pop(key, None)
        if gone is not None:
            self._bytes -= gone.nbytes


ACCEPTED_TYPES = {
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "image/tiff",
    "image/bmp",
    "image/gif",
    "application/pdf",
}


class ReadDocument(Protocol):
    """What the service needs from the OCR pipeline's answer (`ingestion.document.ParsedDocument`)."""

    @property
    def sha256(self) -> str: ...

    @property
    def doc_type(self) -> str: ...

    def to_json(self) -> dict[str, Any]: ...


class DocumentReader(Protocol):
    """The OCR pipeline (`ingestion.pipeline.OcrPipeline`) as the service uses it."""

    def read(self, data: bytes, filename: str | None = None) -> ReadDocument: ...


class DocumentLibrary:
    def __init__(
        self,
        repository: DocumentRepository,
        reader: Callable[[], DocumentReader],
        gate: OcrGate,
        lexicon: Callable[[], Lexicon],
        metrics: Metrics,
        index: Callable[[], DocumentIndexes | None] | None = None,
        readings_in_memory: int = READINGS_IN_MEMORY,
    ) -> None:
        self.repository = repository
        self._reader = reader  # a factory: the OCR model loads on first use, not when the app is built
        self.gate = gate
        self._lexicon = lexicon
        self.metrics = metrics
        self._index = index  # the owners' vector indexes, kept in step with the database
        self._readings: OrderedDict[tuple[str, str], ParsedDocumentOut] = OrderedDict()
        self._readings_max = readings_in_memory
        self._readings_lock = threading.Lock()
        self.prints = OwnerPrints()

    async def read(self, owner: str, data: bytes, filename: str | None) -> ParsedDocumentOut:
        """Read without storing (the /v1/ocr endpoint): the owner's stored document of the same bytes, or the
        reading kept in memory, answers without OCR."""
        _accept(data)
        started = time.perf_counter()
        sha256 = hashlib.sha256(data).hexdigest()
        existing = await run_in_threadpool(self.repository.find_by_sha256, owner, sha256)
        cached = ParsedDocumentOut.model_validate(existing.parsed) if existing else self._recall(owner, sha256)
        if cached is not None:
            self.metrics.cache_hits.inc()
            elapsed = round((time.perf_counter() - started) * 1000, 2)
            return cached.model_copy(update={"timings_ms": {"cache": elapsed, "total": elapsed}})
        self.metrics.cache_misses.inc()
        parsed = await self._ocr(data, filename)
        with self._readings_lock:
            self._readings[(owner, sha256)] = parsed
            while len(self._readings) > self._readings_max:
                self._readings.popitem(last=False)
        return parsed

    def _recall(self, owner: str, sha256: str, forget: bool = False) -> ParsedDocumentOut | None:
        with self._readings_lock:
            found = self._readings.pop((owner, sha256), None) if forget else self._readings.get((owner, sha256))
            if found is not None and not forget:
                self._readings.move_to_end((owner, sha256))
            return found

    def _copy_of_stored(self, owner: str, sha256: str, found: ImagePrint) -> ParsedDocumentOut | None:
        """The reading of the owner's stored photo that these bytes are a resized or recompressed copy of, scaled
        to the copy's size; None when there is none (or it was deleted meanwhile)."""
        twin = self.prints.twin(owner, found)
        if twin is None:
            return None
        try:
            row = self.repository.get(owner, twin)
        except NotFound:
            self.prints.forget(owner, twin)
            return None
        started = time.perf_counter()
        doc = ParsedDocument.from_json(row.parsed).scaled_to(found.width, found.height)
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        copy = replace(doc, sha256=sha256, near_duplicate=True, from_cache=True, timings_ms={"cache": elapsed})
        return ParsedDocumentOut.model_validate(copy.to_json())

    async def _ocr(self, data: bytes, filename: str | None) -> ParsedDocumentOut:
        """The one converter from the pipeline's reading to the API's: `ParsedDocument.to_json()`."""
        reader = self._reader()
        doc = await self.gate.run(lambda: reader.read(data, filename))
        return ParsedDocumentOut.model_validate(doc.to_json())

    async def add(self, owner: str, data: bytes, filename: str | None) -> tuple[DocumentRow, bool]:
        """Read and store an upload; returns (row, created). Returns only after the row is committed."""
        content_type = _accept(data)
        sha256 = hashlib.sha256(data).hexdigest()
        existing = await run_in_threadpool(self.repository.find_by_sha256, owner, sha256)
        if existing is not None:
            self.metrics.cache_hits.inc()
            await run_in_threadpool(self._index_if_missing, owner, existing)
            return existing, False
        # Read for /v1/ocr before: the stored row becomes the only copy.
        reading = self._recall(owner, sha256, forget=True)
        found = await run_in_threadpool(fingerprint, data)
        if reading is None and found is not None:
            reading = await run_in_threadpool(self._copy_of_stored, owner, sha256, found)
        if reading is not None:
            self.metrics.cache_hits.inc()
        else:
            self.metrics.cache_misses.inc()
            reading = await self._ocr(data, filename)
        parsed = reading.model_dump(mode="json")
        if sum(ch.isalnum() for line in parsed.get("lines", []) for ch in line["text"]) < 2:
            # Nothing to answer from or cite (a blank page, or a circle read as "O"): storing it would only keep
            # a private photo for no purpose.
            raise NoTextFound(
                "No text could be read on the photo. Photograph the leaflet, box or prescription closer, "
                "in focus and well lit, with the writing filling most of the picture."
            )
        row, created = await run_in_threadpool(
            lambda: self.repository.add(
                owner,
                sha256=sha256,
                filename=filename,
                doc_type=reading.doc_type,
                parsed=parsed,
                data=data,
                content_type=content_type,
            )
        )
        if found is not None:
            self.prints.add(owner, row.id, found)
        if created and self._index is not None:
            await run_in_threadpool(self._index_document, owner, row)
        elif not created:
            await run_in_threadpool(self._index_if_missing, owner, row)
        log.info("stored document: %d bytes, type %s, created %s", len(data), row.doc_type, created)
        return row, created

    def _index_document(self, owner: str, row: DocumentRow) -> None:
        """Each field of a stored document becomes retrievable by its owner, and by no one else."""
        indexes = self._index() if self._index is not None else None
        if indexes is not None:
            indexes.add_document(owner, self._chunks(owner, row))

    def _index_if_missing(self, owner: str, row: DocumentRow) -> None:
        """Index a stored document that has no chunks in the database: its first upload was committed by a process
        killed (or failing) before indexing it, and this upload again (a retried job, say) is the repair, without
        waiting for a restart's reconciliation."""
        indexes = self._index() if self._index is not None else None
        if isinstance(indexes, StoredDocumentIndexes) and not self.repository.has_chunks(owner, row.id):
            indexes.add_document(owner, self._chunks(owner, row))

    def _chunks(self, owner: str, row: DocumentRow) -> list[Chunk]:
        return [
            c
            for ev in self.context(row).fields
            for c in document_chunks(
                owner=owner,
                document_id=row.id,
                field=ev.field or "",
                text=ev.text,
                lang="zh" if has_cjk(ev.text) else "en",
                refs=ev.refs,
                boxes=(tuple((p[0], p[1]) for p in ev.bbox),) if ev.bbox else (),
            )
        ]

    def reconcile(self) -> tuple[int, int]:
        """Make the owners' indexes agree with the database (run at start-up); returns (re-indexed, dropped).

        With chunks in the database (the service): documents without chunk rows (stored before chunks lived
        there, or by a process killed between a document's commit and its indexing) are chunked and embedded from
        their stored reading, and the per-node index files of before are removed. With index files: a row without
        chunks is re-indexed, chunks without a row (a process killed during a deletion) are dropped."""
        indexes = self._index() if self._index is not None else None
        if indexes is None:
            return 0, 0
        if isinstance(indexes, StoredDocumentIndexes):
            dropped = indexes.drop_unknown_owners(())
            unindexed = self.repository.unindexed()
            return sum(self._reindex(indexes, owner, ids) for owner, ids in unindexed.items()), dropped
        owned = self.repository.ids_by_owner()
        added, dropped = 0, indexes.drop_unknown_owners(owned)
        for owner, ids in owned.items():
            indexed = indexes.documents(owner)
            for document_id in indexed - ids:
                indexes.delete_document(owner, document_id)
                dropped += 1
            added += self._reindex(indexes, owner, ids - indexed)
        return added, dropped

    def _reindex(self, indexes: DocumentIndexes, owner: str, ids: set[str]) -> int:
        """Index these stored documents of `owner`; returns how many got chunks."""
        missing = sorted(ids)
        readded: set[str] = set()
        while missing:
            # Embedded and saved a batch at a time, not a document at a time (a save is a new fsynced version).
            chunks: list[Chunk] = []
            while missing and len(chunks) < REINDEX_BATCH:
                try:
                    chunks += self._chunks(owner, self.repository.get(owner, missing.pop()))
                except NotFound:  # requests are served meanwhile: a document deleted since is skipped
                    continue
            indexes.add_document(owner, chunks)
            readded |= {c.document_id for c in chunks if c.document_id}
        if readded and not isinstance(indexes, StoredDocumentIndexes):
            for document_id in readded - self.repository.ids_of(owner):  # deleted while being re-indexed
                indexes.delete_document(owner, document_id)
        return len(readded)

    async def delete(self, owner: str, document_id: str) -> None:
        # The row, its image, its chunks and vectors (and the owner's index version) go in one transaction: every
        # node's next search of this owner rebuilds its index without them.
        await run_in_threadpool(self.repository.delete, owner, document_id)
        self.prints.forget(owner, document_id)
        indexes = self._index() if self._index is not None else None
        if indexes is not None:  # after the row is gone: this node's copy, and its cached vectors, go too
            await run_in_threadpool(indexes.delete_document, owner, document_id)

    def context(self, row: DocumentRow) -> DocumentContext:
        """A stored document as the answer chain's context, through the one converter the CLI uses too; the drug
        list the user confirmed, where there is one, decides its subjects."""
        parsed = row.parsed
        return document_context(row.id, ParsedDocument.from_json(parsed), self._lexicon(), confirmed_drugs(parsed))


def document_out(row: DocumentRow) -> DocumentOut:
    return DocumentOut.model_validate(
        {
            **row.parsed,
            "id": row.id,
            "sha256": row.sha256,
            "filename": row.filename,
            "byte_size": row.byte_size,
            "created_at": row.created_at,
            "image_url": f"/v1/documents/{row.id}/image",
        }
    )


def _accept(data: bytes) -> str:
    if not data:
        raise InvalidInput("The upload is empty (0 bytes). Choose the photo again and re-send it.")
    content_type = sniff_content_type(data)
    if content_type not in ACCEPTED_TYPES:
        raise UnsupportedMediaType("The upload is not an image or a PDF; send a JPEG, PNG, WebP, HEIC or PDF file.")
    return content_type
