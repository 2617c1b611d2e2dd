"""What every OCR engine returns: recognised lines with a confidence and a four-point box.

Engines differ (a local detector + recogniser, a remote vision-language model) but they all speak `OcrLine`
and `OcrResult`, so the stages after OCR (layout, fields, drug mentions) never know which engine ran.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from PIL import Image

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]


def quad_from_points(points: Sequence[Sequence[float]]) -> Quad:
    """Four (x, y) points as an immutable quad of floats (rounded to 0.1 px: finer is noise)."""
    if len(points) != 4:
        raise ValueError(f"a box needs 4 points, got {len(points)}")
    p = [(round(float(x), 1), round(float(y), 1)) for x, y in points]
    return (p[0], p[1], p[2], p[3])


def quad_from_rect(x0: float, y0: float, x1: float, y1: float) -> Quad:
    return quad_from_points([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


@dataclass(frozen=True)
class OcrLine:
    """One recognised line of text.

    `box` is four (x, y) points (clockwise from the text's top-left) in the coordinates of the image as
    decoded (EXIF orientation applied), whatever rotation or resizing the pipeline did internally.
    `page` is the page index for multi-page PDFs (0 for images).
    """

    text: str
    confidence: float
    box: Quad
    page: int = 0

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """Axis-aligned bounds (x0, y0, x1, y1)."""
        xs = [p[0] for p in self.box]
        ys = [p[1] for p in self.box]
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def width(self) -> float:
        """Length along the text direction (top edge)."""
        (x0, y0), (x1, y1) = self.box[0], self.box[1]
        return math.hypot(x1 - x0, y1 - y0)

    @property
    def height(self) -> float:
        """Extent across the text direction (left edge)."""
        (x0, y0), (x3, y3) = self.box[0], self.box[3]
        return math.hypot(x3 - x0, y3 - y0)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "bbox": [list(p) for p in self.box],
        }
        if self.page:
            out["page"] = self.page
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OcrLine:
        """The inverse of `to_json` (the box exactly as stored)."""
        p = [(float(x), float(y)) for x, y in data["bbox"]]
        if len(p) != 4:
            raise ValueError(f"a box needs 4 points, got {len(p)}")
        return cls(data["text"], float(data["confidence"]), (p[0], p[1], p[2], p[3]), int(data.get("page", 0)))


@dataclass
class OcrResult:
    """An engine's answer for one image: lines in the engine's own order, and the image size it saw.

    `upside_down`: the share of the text (0..1) the engine's own 0/180 line classifier found upside down, or None
    for an engine without one. The orientation stage takes a low share as proof that a page is upright.
    `timings_ms`: milliseconds per step inside the engine (RapidOCR: detection, direction, recognition, recheck,
    reread), which the pipeline reports as `ocr.<step>` next to its own stages; empty for an engine that cannot
    tell.
    """

    lines: list[OcrLine]
    width: int
    height: int
    engine: str
    upside_down: float | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class OcrEngine(Protocol):
    """Turns one RGB image into lines. Boxes are in that image's pixel coordinates."""

    name: str

    def recognize(self, image: Image.Image) -> OcrResult: ...


@runtime_checkable
class StripReader(Protocol):
    """Reads one image that holds a single row of text without detecting or rotating it.

    The orientation stage uses it to ask "does this crop read as text when turned this way?".
    """

    def read_strip(self, image: Image.Image) -> tuple[str, float]: ...
