"""Document types that hold on photos as people take them: the real box photos tilted, blurred, turned sideways
(Chinese and English on one side), and a handwritten English prescription pad (rendered, with its truth)."""

from __future__ import annotations

import random

import pytest
from PIL import Image

from evals.render.degrade import degrade, encode
from evals.render.handwriting import plan, render_hard
from ingestion.pipeline import OcrPipeline
from tests.ingestion.conftest import REAL


def _photographed(name: str, level: str, turn: int, seed: int) -> bytes:
    img = Image.open(REAL / name).convert("RGB")
    img, _, quality = degrade(img, level, random.Random(seed))
    if turn:
        img = img.rotate(-turn, expand=True)
    return encode(img, quality or 70)[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "level", "turn"),
    [("drug-package-front.jpg", "hard", 0), ("drug-package-back.jpg", "mild", 90)],
)
def test_a_photographed_box_is_a_package(pipeline: OcrPipeline, name: str, level: str, turn: int) -> None:
    doc = pipeline.read(_photographed(name, level, turn, seed=7), name)
    assert doc.doc_type == "package"
    assert [d.ingredients for d in doc.drugs if d.is_subject] == [("oseltamivir",)]


@pytest.mark.slow
def test_a_handwritten_english_prescription_pad_is_a_prescription(pipeline: OcrPipeline) -> None:
    spec = next(s for s in plan() if s.subset == "handwriting_en" and s.degradation == "mild" and not s.rotation)
    data, ext, truth = render_hard(spec, seed=1515)
    doc = pipeline.read(data, f"pad.{ext}")
    assert truth["doc_type"] == doc.doc_type == "prescription"
    assert doc.medications, doc.text
