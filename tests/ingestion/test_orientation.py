"""When the orientation stage reads strips and when the line classifier's verdict is enough (a recording strip
reader stands in for the recogniser), and that the real engine reports the verdict."""

from __future__ import annotations

import pytest
from PIL import Image

from ingestion.ocr.base import OcrLine, quad_from_points, quad_from_rect
from ingestion.ocr.rapid import RapidOcrEngine, _bgr, _upside_down_share
from ingestion.orientation import UPRIGHT_SHARE, OrientationDetector
from tests.ingestion.conftest import PAGES


class RecordingReader:
    """Reads every strip as ten confident characters, and counts the strips it was asked to read."""

    def __init__(self) -> None:
        self.strips = 0

    def read_strip(self, image: Image.Image) -> tuple[str, float]:
        self.strips += 1
        return "abcdefghij", 0.99


def _across(n: int) -> list[OcrLine]:
    return [OcrLine("a line of text", 0.99, quad_from_rect(10, 10 + 40 * i, 400, 40 + 40 * i)) for i in range(n)]


def _down(n: int) -> list[OcrLine]:
    return [OcrLine("a line of text", 0.99, quad_from_rect(10 + 40 * i, 10, 40 + 40 * i, 400)) for i in range(n)]


PAGE = Image.new("RGB", (600, 600), "white")


@pytest.mark.parametrize("share", [0.0, UPRIGHT_SHARE])
def test_an_upright_verdict_skips_the_strips(share: float) -> None:
    reader = RecordingReader()
    found = OrientationDetector(reader).detect(PAGE, _across(5), upside_down=share)
    assert (found.rotation, found.evidence, reader.strips) == (0, "line classifier", 0)


@pytest.mark.parametrize(
    ("lines", "share"),
    [
        (_across(5), 0.9),  # the classifier says upside down: the strips decide between 0 and 180
        (_across(5), None),  # an engine without a line classifier
        (_across(1), 0.0),  # one line is too little evidence
        (_down(5), 0.0),  # sideways text: the classifier cannot tell 90 from 270
    ],
)
def test_otherwise_the_strips_decide(lines: list[OcrLine], share: float | None) -> None:
    reader = RecordingReader()
    found = OrientationDetector(reader).detect(PAGE, lines, upside_down=share)
    assert found.evidence == "strips" and reader.strips == 2
    assert len(found.scores) == 2 and found.rotation in found.scores


def test_no_text_is_upright_without_reading() -> None:
    reader = RecordingReader()
    assert OrientationDetector(reader).detect(PAGE, [], upside_down=None).evidence == "no text"
    assert reader.strips == 0


def test_upside_down_share_weighs_lines_by_width() -> None:
    assert _upside_down_share([("0", 0.99), ("180", 0.6)], [300, 100]) == pytest.approx(0.25)
    assert _upside_down_share([("180", 0.99)], [50]) == 1.0
    assert _upside_down_share(None, []) is None
    assert _upside_down_share([("0", 0.9)], [10, 20]) is None  # verdicts that do not match the crops


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "upside_down"), [("000_leaflet_zh_1col_clean_r0", False), ("013_prescription_1col_clean_r180", True)]
)
def test_the_real_engine_reports_what_its_line_classifier_saw(
    name: str, upside_down: bool, engine: RapidOcrEngine
) -> None:
    """The engine runs RapidOCR's own steps plus the classifier's verdict: on an upright page the same lines as its
    `__call__`; on an upside-down one the lines are read as they stand (the pipeline then turns the page and reads
    it again), so only the verdict is compared."""
    page = next(p for p in PAGES if p.name == name)
    image = Image.open(page.path).convert("RGB")
    result = engine.recognize(image)
    assert result.upside_down is not None and (result.upside_down > 0.8 if upside_down else result.upside_down < 0.1)
    model, lock = engine._model()
    with lock:
        out = model(_bgr(image), use_det=True, use_cls=True, use_rec=True)
    theirs = {quad_from_points(b.tolist()) for b, s in zip(out.boxes, out.scores, strict=True) if s >= 0.9}
    assert theirs
    if not upside_down:
        assert theirs <= {line.box for line in result.lines}
