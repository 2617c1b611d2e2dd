"""Which way up is the page? Coarse rotation (0/90/180/270) and the residual skew of the text lines.

Measured rather than guessed: the first OCR pass already gives text boxes. Their shape says whether the text
runs across or down the image (0/180 vs 90/270). To tell 0 from 180 (or 90 from 270) the longest lines are
cropped, turned both ways, laid side by side in one strip and read with the recogniser alone (no 0/180
classifier); the way that yields more confidently read characters wins. One strip per candidate costs two
recogniser calls instead of a second full OCR pass for every upright page. Most pages need not even that: when
the text runs across and the engine's own 0/180 line classifier read at most `UPRIGHT_SHARE` of it as upside
down, the page is upright (measured on 70 rendered pages: upright pages 0.00-0.13 apart from English
one-column leaflets at 0.5-0.6, which still get the strips; upside-down pages 1.00).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image

from ingestion.ocr.base import OcrLine, Point, Quad, StripReader

STRIP_HEIGHT = 48  # the recogniser's input height
UPRIGHT_SHARE = 0.2  # at most this share of the text read upside down by the line classifier: the page is upright
UPRIGHT_MIN_LINES = 2  # one line is too little evidence to skip the strips
_TRANSPOSE_CLOCKWISE = {
    90: Image.Transpose.ROTATE_270,  # Pillow names rotations counter-clockwise
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class Orientation:
    """`rotation`: degrees clockwise that turn the image upright. `scores`: evidence per candidate (empty when
    the strips were not read). `evidence`: what decided ("strips", "line classifier" or "no text")."""

    rotation: int
    scores: dict[int, float] = field(default_factory=dict)
    evidence: str = "strips"


def rotate_clockwise(image: Image.Image, degrees: int) -> Image.Image:
    """Turn an image by a multiple of 90 degrees clockwise, losslessly."""
    degrees %= 360
    return image if degrees == 0 else image.transpose(_TRANSPOSE_CLOCKWISE[degrees])


def unrotate_point(point: Point, degrees: int, width: int, height: int) -> Point:
    """Map a point of the image turned `degrees` clockwise back to the original (width x height) image."""
    u, v = point
    degrees %= 360
    if degrees == 90:
        return (round(v, 1), round(height - u, 1))
    if degrees == 180:
        return (round(width - u, 1), round(height - v, 1))
    if degrees == 270:
        return (round(width - v, 1), round(u, 1))
    return (u, v)


def unrotate_quad(box: Quad, degrees: int, width: int, height: int) -> Quad:
    p = [unrotate_point(pt, degrees, width, height) for pt in box]
    return (p[0], p[1], p[2], p[3])


def _is_vertical(line: OcrLine) -> bool:
    x0, y0, x1, y1 = line.bbox
    return (y1 - y0) > 1.3 * (x1 - x0)


def _is_horizontal(line: OcrLine) -> bool:
    x0, y0, x1, y1 = line.bbox
    return (x1 - x0) > 1.3 * (y1 - y0)


class OrientationDetector:
    """Decides the page rotation from first-pass OCR lines and a recogniser that reads strips as they are."""

    def __init__(self, reader: StripReader, samples: int = 6, max_strip_width: int = 2400) -> None:
        self.reader = reader
        self.samples = samples
        self.max_strip_width = max_strip_width

    def detect(self, image: Image.Image, lines: Sequence[OcrLine], upside_down: float | None = None) -> Orientation:
        """The rotation that turns `image` upright, from its first-pass `lines` and, when the engine has a 0/180
        line classifier, the share of the text it found upside down (`OcrResult.upside_down`)."""
        vertical = sum(len(ln.text) for ln in lines if _is_vertical(ln))
        horizontal = sum(len(ln.text) for ln in lines if _is_horizontal(ln))
        if vertical == 0 and horizontal == 0:
            return Orientation(0, evidence="no text")
        sideways = vertical > horizontal
        if (
            not sideways
            and upside_down is not None
            and upside_down <= UPRIGHT_SHARE
            and sum(1 for ln in lines if _is_horizontal(ln)) >= UPRIGHT_MIN_LINES
        ):
            return Orientation(0, evidence="line classifier")
        candidates = (90, 270) if sideways else (0, 180)
        shaped = [ln for ln in lines if (_is_vertical(ln) if sideways else _is_horizontal(ln))]
        chosen = sorted(shaped, key=lambda ln: len(ln.text), reverse=True)[: self.samples]
        crops = [self._crop(image, ln) for ln in chosen]
        scores = {angle: self._score(crops, angle) for angle in candidates}
        best = max(candidates, key=lambda a: scores[a])
        return Orientation(best, scores)

    @staticmethod
    def _crop(image: Image.Image, line: OcrLine) -> Image.Image:
        x0, y0, x1, y1 = line.bbox
        pad = 2
        box = (
            max(0, int(x0) - pad),
            max(0, int(y0) - pad),
            min(image.width, int(x1) + pad),
            min(image.height, int(y1) + pad),
        )
        return image.crop(box).convert("L")

    def _score(self, crops: Sequence[Image.Image], angle: int) -> float:
        """Confidently read characters when every crop is turned `angle` clockwise."""
        parts: list[Image.Image] = []
        width = 0
        gap = STRIP_HEIGHT // 2
        for crop in crops:
            turned = rotate_clockwise(crop, angle)
            w = max(1, round(turned.width * STRIP_HEIGHT / max(1, turned.height)))
            if parts and width + gap + w > self.max_strip_width:
                break
            parts.append(turned.resize((w, STRIP_HEIGHT), Image.Resampling.BILINEAR))
            width += w + (gap if width else 0)
        if not parts:
            return 0.0
        strip = Image.new("L", (width + 2 * gap, STRIP_HEIGHT + 2 * 8), 255)
        x = gap
        for part in parts:
            strip.paste(part, (x, 8))
            x += part.width + gap
        text, score = self.reader.read_strip(strip.convert("RGB"))
        return score * len(text.strip())


def estimate_skew(lines: Sequence[OcrLine]) -> float:
    """The median baseline angle (degrees, positive = clockwise in image coordinates) of long lines."""
    angles: list[tuple[float, float]] = []
    for ln in lines:
        (x0, y0), (x1, y1) = ln.box[0], ln.box[1]
        length = math.hypot(x1 - x0, y1 - y0)
        if length > 2.5 * max(ln.height, 1.0) and len(ln.text) >= 4:
            angles.append((math.degrees(math.atan2(y1 - y0, x1 - x0)), length))
    if not angles:
        return 0.0
    angles.sort()
    half = sum(w for _, w in angles) / 2
    acc = 0.0
    for angle, w in angles:
        acc += w
        if acc >= half:
            return round(angle, 2)
    return 0.0
