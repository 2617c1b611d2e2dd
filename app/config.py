"""The one settings object. Built once at start-up from the environment (prefix RXLENS_) and passed down.

Defaults are the embedded, offline, local-only configuration: a SQLite knowledge base under var/, bundled models.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from ingestion.pipeline import OcrConfig


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RXLENS_", env_file=None, extra="ignore")

    var_dir: Path = Field(Path("var"), description="Where built artefacts and user data live.")
    kb_path: Path | None = Field(None, description="Compiled knowledge base; default var_dir/knowledge.sqlite.")

    @property
    def knowledge_base(self) -> Path:
        return self.kb_path or self.var_dir / "knowledge.sqlite"

    # --- OCR (ingestion/): engine, device, upload limits, result cache. Built into an OcrConfig by ocr_config().
    ocr_engine: Literal["rapid", "vlm"] = Field("rapid", description="rapid: bundled RapidOCR; vlm: remote model.")
    ocr_device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto uses CUDA when onnxruntime has it.")
    ocr_threads: int | None = Field(None, ge=1, description="onnxruntime intra-op threads; default one per core.")
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
        rapid=RapidOcrConfig(device=settings.ocr_device, threads=settings.ocr_threads),
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
