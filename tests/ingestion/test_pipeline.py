"""The pipeline end to end: stage timings, JSON shape, PDFs, errors passing through, settings wiring."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from app.config import Settings, ocr_config
from ingestion.document import ParsedDocument
from ingestion.errors import OcrUnavailable
from ingestion.intake import TruncatedImage
from ingestion.ocr import rapid
from ingestion.ocr.rapid import RapidOcrConfig, RapidOcrEngine, rapidocr_params, resolve_device, usable_cores
from ingestion.pipeline import OcrPipeline, build_pipeline
from tests.ingestion.conftest import PAGES, cer

STAGES = {"decode", "orient", "ocr", "layout", "fields", "mentions", "confirmation", "total"} | {
    f"ocr.{step}" for step in ("detection", "direction", "recognition", "recheck", "reread")
}


@pytest.mark.slow
def test_timings_and_json(read_pages: dict[str, ParsedDocument]) -> None:
    doc = read_pages[PAGES[0].name]
    assert set(doc.timings_ms) == STAGES
    assert doc.timings_ms["total"] >= doc.timings_ms["ocr"] > 0
    out = json.loads(json.dumps(doc.to_json(), ensure_ascii=False))
    assert out["doc_type"] == "leaflet" and len(out["sha256"]) == 64
    first = out["lines"][0]
    assert set(first) == {"text", "confidence", "bbox"} and len(first["bbox"]) == 4
    assert all(len(pt) == 2 for pt in first["bbox"])
    assert set(out["fields"]["indications"]) == {"value", "confidence", "bbox", "lines"}
    assert out["drugs"] and set(out["drugs"][0]) >= {"text", "ingredients", "bbox"}


@pytest.mark.slow
def test_a_pdf_is_read_like_an_image(pipeline: OcrPipeline) -> None:
    page = next(p for p in PAGES if p.name.startswith("000_"))
    buf = io.BytesIO()
    Image.open(page.path).convert("RGB").save(buf, "PDF", resolution=144)
    doc = pipeline.read(buf.getvalue(), "leaflet.pdf")
    assert doc.pages == 1 and cer(page.truth["text"], doc.text) < 0.02


def test_refusals_pass_through(pipeline: OcrPipeline) -> None:
    data = PAGES[0].data
    with pytest.raises(TruncatedImage):
        pipeline.read(data[: len(data) // 2], "half.png")


def test_blank_page_reads_as_other_with_a_warning(pipeline: OcrPipeline) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(buf, "PNG")
    doc = pipeline.read(buf.getvalue())
    assert doc.doc_type == "other" and doc.lines == () and any("no text" in w for w in doc.warnings)


def test_settings_build_the_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RXLENS_OCR_MAX_UPLOAD_MB", "1")
    monkeypatch.setenv("RXLENS_OCR_MAX_PDF_PAGES", "2")
    monkeypatch.setenv("RXLENS_OCR_CACHE_ENTRIES", "0")
    monkeypatch.setenv("RXLENS_OCR_DEVICE", "cpu")
    config = ocr_config(Settings())  # type: ignore[call-arg]
    assert config.limits.max_bytes == 1024 * 1024 and config.limits.max_pdf_pages == 2
    pipeline = build_pipeline(config)
    assert pipeline.cache is None and isinstance(pipeline.engine, RapidOcrEngine)
    assert pipeline.engine.device == "cpu"
    monkeypatch.setenv("RXLENS_OCR_ENGINE", "vlm")
    with pytest.raises(ValueError, match="RXLENS_OCR_VLM_BASE_URL"):
        ocr_config(Settings())  # type: ignore[call-arg]


def test_device_choice() -> None:
    import onnxruntime

    has_cuda = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    assert resolve_device("auto") == ("cuda" if has_cuda else "cpu")
    assert resolve_device("cpu") == "cpu"
    if not has_cuda:
        with pytest.raises(OcrUnavailable, match="onnxruntime-gpu"):
            resolve_device("cuda")
    with pytest.raises(OcrUnavailable):
        resolve_device("tpu")


def test_cuda_is_picked_by_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where onnxruntime offers CUDA, the default ("auto") engine runs every RapidOCR model on it; threads
    default to the cores this process may use. Nothing is loaded: the model loads on first use."""
    monkeypatch.setattr(rapid, "cuda_available", lambda: True)
    engine = RapidOcrEngine(RapidOcrConfig())
    assert engine.device == "cuda" and resolve_device("cuda") == "cuda"
    assert engine.threads == usable_cores() >= 1
    params = rapidocr_params(engine.device, engine.threads)
    assert params["EngineConfig.onnxruntime.use_cuda"] is True
    assert rapidocr_params("cpu", 2)["EngineConfig.onnxruntime.use_cuda"] is False
    assert RapidOcrEngine(RapidOcrConfig(device="cpu", threads=3)).threads == 3


@pytest.mark.slow
def test_a_recogniser_model_of_ones_own_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """RXLENS_OCR_REC_MODEL_PATH swaps the recogniser for a local ONNX file (here a copy of the bundled one under
    another name, so the test needs no download); a path that is no file is refused with what to set."""
    import shutil

    import rapidocr

    bundled = Path(rapidocr.__file__).parent / "models" / "PP-OCRv6_rec_small.onnx"
    own = tmp_path / "my_rec.onnx"
    shutil.copy(bundled, own)
    monkeypatch.setenv("RXLENS_OCR_REC_MODEL_PATH", str(own))
    monkeypatch.setenv("RXLENS_OCR_DEVICE", "cpu")
    engine = build_pipeline(ocr_config(Settings())).engine  # type: ignore[call-arg]
    assert isinstance(engine, RapidOcrEngine) and engine.config.rec_model_path == str(own)
    model, _ = engine._model()
    assert Path(model.cfg.Rec.model_path) == own
    img = Image.new("RGB", (400, 100), "white")
    from PIL import ImageDraw

    ImageDraw.Draw(img).text((20, 30), "Sig 5 mg qd", fill="black", font_size=36)
    assert "qd" in " ".join(line.text for line in engine.recognize(img).lines)
    with pytest.raises(OcrUnavailable, match="RXLENS_OCR_REC_MODEL_PATH"):
        RapidOcrEngine(RapidOcrConfig(device="cpu", rec_model_path=str(tmp_path / "missing.onnx"))).warm_up()
