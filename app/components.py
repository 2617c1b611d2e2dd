"""The one place where swappable parts are chosen from settings and heavy parts are built: once, lazily, shared.

The CLI and the HTTP service both ask this object for what they need; nothing else constructs a knowledge base,
a model or a composer.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from app.chain import AnswerChain
from app.composer import Composer, TemplateComposer
from app.config import Settings
from app.metrics import Metrics
from knowledge.interactions import InteractionEngine
from knowledge.lexicon import Lexicon
from knowledge.name_search import NameSearch
from knowledge.store import KnowledgeBase

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from app.api.library import DocumentLibrary
    from app.api.limits import RateLimiter
    from app.jobs import JobQueue
    from app.ocr_gate import OcrGate
    from app.owner_indexes import StoredDocumentIndexes
    from app.persistence.database import Database
    from app.persistence.repositories import ChunkRepository, ConversationRepository, DocumentRepository
    from ingestion.pipeline import OcrPipeline
    from knowledge.retrieval.hybrid import HybridRetriever


class Components:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()  # held by the warm-up
        self._closing = threading.Event()

    @cached_property
    def kb(self) -> KnowledgeBase:
        return KnowledgeBase(self.settings.knowledge_base, self.settings.interaction_cache_size)

    @cached_property
    def lexicon(self) -> Lexicon:
        return Lexicon(self.kb)

    @cached_property
    def engine(self) -> InteractionEngine:
        return InteractionEngine(self.kb, self.lexicon)

    @cached_property
    def composer(self) -> Composer:
        template = TemplateComposer(self.lexicon)
        if not self.settings.llm_base_url:
            return template
        from app.llm_composer import LlmComposer

        return LlmComposer(
            template,
            self.settings.llm_base_url,
            self.settings.llm_model,
            self.settings.llm_api_key,
            self.settings.llm_timeout_s,
        )

    @cached_property
    def retriever(self) -> HybridRetriever:
        from app.retrieval import get_retriever

        return get_retriever(self.settings, self.kb, self.owner_indexes)

    @cached_property
    def owner_indexes(self) -> StoredDocumentIndexes:
        """Owners' chunks and vectors live in the user database (any node serves any owner); this node keeps a
        bounded in-memory index of recently served owners. Shared by the retriever and the document library."""
        from app.retrieval import owner_indexes_for

        return owner_indexes_for(self.settings, self.chunks)

    @cached_property
    def chain(self) -> AnswerChain:
        from app.retrieval import EvidenceSearch

        return AnswerChain(self.engine, self.composer, EvidenceSearch(self.retriever))

    @cached_property
    def names(self) -> NameSearch:
        return NameSearch(self.lexicon)

    # ---- the service's parts --------------------------------------------------------------------------

    @cached_property
    def metrics(self) -> Metrics:
        return Metrics()

    @cached_property
    def database(self) -> Database:
        from app.persistence.database import Database

        return Database(self.settings.database)

    @cached_property
    def documents(self) -> DocumentRepository:
        from app.persistence.repositories import DocumentRepository

        return DocumentRepository(self.database)

    @cached_property
    def chunks(self) -> ChunkRepository:
        from app.persistence.repositories import ChunkRepository

        return ChunkRepository(self.database)

    @cached_property
    def conversations(self) -> ConversationRepository:
        from app.persistence.repositories import ConversationRepository

        return ConversationRepository(self.database)

    @cached_property
    def ocr(self) -> OcrPipeline:
        """The OCR pipeline, with its own result cache off: the service's cache is the owner's stored readings
        (see app.api.library), which a DELETE really removes."""
        from dataclasses import replace

        from app.config import ocr_config
        from ingestion.pipeline import build_pipeline

        return build_pipeline(replace(ocr_config(self.settings), cache_entries=0), mention_finder=self.lexicon)

    @cached_property
    def ocr_gate(self) -> OcrGate:
        from app.ocr_gate import OcrGate

        s = self.settings
        return OcrGate(s.ocr_workers, s.ocr_queue_size, s.ocr_timeout_s, self.metrics)

    @cached_property
    def library(self) -> DocumentLibrary:
        from app.api.library import DocumentLibrary

        return DocumentLibrary(
            self.documents,
            lambda: self.ocr,
            self.ocr_gate,
            lambda: self.lexicon,
            self.metrics,
            lambda: self.owner_indexes,
        )

    @cached_property
    def jobs(self) -> JobQueue:
        """Uploads as jobs: in this process, or on Celery workers when RXLENS_REDIS_URL is set (app.jobs)."""
        from app.jobs import build_job_queue

        return build_job_queue(self)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        from app.api.limits import RateLimiter

        return RateLimiter(self.settings.rate_limit_per_minute)

    def warm_up(self) -> None:
        """Load every heavy part and run each once, so the first user request is not the slow one. Stops between
        steps once `close` has begun: a step under way finishes (a model load cannot be interrupted), no other
        starts, so nothing is built after the parts are closed."""
        steps = (
            lambda: self.chain.ask("warfarin and aspirin together?"),
            lambda: self.names.search("aspirin"),
            self._reconcile,
            lambda: self.ocr.read(_warm_up_image(), "warm-up.png"),
        )
        with self._lock:
            for step in steps:
                if self._closing.is_set():
                    log.info("warm-up stopped: shutting down")
                    return
                step()

    def _reconcile(self) -> None:
        added, dropped = self.library.reconcile()  # opening the database migrates it first
        if added or dropped:
            log.warning("owner indexes reconciled with the database: %d re-indexed, %d dropped", added, dropped)

    def close(self, warm_up_timeout_s: float = 120) -> None:
        """Close what was opened, after the warm-up's current step (if one runs) has finished."""
        self._closing.set()
        if not self._lock.acquire(timeout=warm_up_timeout_s):
            log.warning("closing while a warm-up step still runs after %.0f s", warm_up_timeout_s)
        else:
            self._lock.release()
        if "jobs" in self.__dict__:
            self.jobs.close()
        if "ocr_gate" in self.__dict__:
            self.ocr_gate.shutdown()
        if "database" in self.__dict__:
            self.database.dispose()


def _warm_up_image() -> bytes:
    """A square page with one line: no side under the detector's 736 px minimum, so RapidOCR does not scale it up
    (a 320x80 strip became a 2944x736 detector input and made the warm-up read 3.2 s instead of 1.0 s)."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (736, 736), "white")
    ImageDraw.Draw(image).text((20, 40), "Aspirin 100 mg", fill="black", font=ImageFont.load_default(size=40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
