"""Reading order: the order a person reads the lines in, including two-column leaflets.

RapidOCR returns lines roughly top to bottom, which interleaves the two columns of a leaflet. Here lines are
de-skewed, a gutter (a vertical band no narrow line crosses) is looked for in the middle of the text block,
and if both sides hold prose (lines filling most of their column, unlike table cells) the page is read column
by column; full-width lines (titles, headings across both columns) cut the page into bands read in turn.
Lines on the same visual row (table cells) are grouped into rows, left to right.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ingestion.ocr.base import OcrLine


@dataclass(frozen=True)
class Layout:
    """`order`: line indices in reading order. `rows`: the same indices grouped into visual rows.
    `columns`: 1 or 2."""

    order: list[int]
    rows: list[list[int]]
    columns: int


@dataclass
class _Box:
    index: int
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def h(self) -> float:
        return self.y1 - self.y0

    @property
    def w(self) -> float:
        return self.x1 - self.x0


def _deskewed(lines: Sequence[OcrLine], skew: float) -> list[_Box]:
    theta = math.radians(-skew)
    c, s = math.cos(theta), math.sin(theta)
    boxes = []
    for i, ln in enumerate(lines):
        pts = [(x * c - y * s, x * s + y * c) for x, y in ln.box]
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        boxes.append(_Box(i, min(xs), min(ys), max(xs), max(ys)))
    return boxes


def group_rows(boxes: Sequence[_Box]) -> list[list[_Box]]:
    """Boxes that overlap vertically by more than half the smaller height share a row; rows sorted by x."""
    rows: list[list[_Box]] = []
    spans: list[tuple[float, float]] = []
    for b in sorted(boxes, key=lambda b: (b.cy, b.x0)):
        if rows:
            top, bottom = spans[-1]
            overlap = min(bottom, b.y1) - max(top, b.y0)
            if overlap > 0.5 * min(bottom - top, b.h):
                rows[-1].append(b)
                spans[-1] = (min(top, b.y0), max(bottom, b.y1))
                continue
        rows.append([b])
        spans.append((b.y0, b.y1))
    return [sorted(r, key=lambda b: b.x0) for r in rows]


def _find_gutter(boxes: Sequence[_Box]) -> float | None:
    """The x of the gap between two prose columns, or None for a single-column page (or a table)."""
    if len(boxes) < 6:
        return None
    left = min(b.x0 for b in boxes)
    right = max(b.x1 for b in boxes)
    width = right - left
    if width <= 0:
        return None
    cells = int(width) + 1
    coverage = [0] * cells
    for b in boxes:
        if b.w > 0.8 * width:
            continue  # a full-width line spans any gutter; it only cuts the page into bands
        for x in range(max(0, int(b.x0 - left)), min(cells, int(b.x1 - left) + 1)):
            coverage[x] += 1
    lo, hi = int(0.25 * width), int(0.75 * width)
    # A title or heading may cross the gutter (or end just inside it): allow a few crossings.
    allowed = max(1, len(boxes) // 12)
    heights = sorted(b.h for b in boxes)
    min_gap = max(0.015 * width, 0.8 * heights[len(heights) // 2])
    best: tuple[float, float] | None = None  # (gap width, centre)
    start = None
    for x in range(lo, hi + 2):
        low = x <= hi and coverage[x] <= allowed
        if low and start is None:
            start = x
        elif not low and start is not None:
            if x - start >= min_gap and (best is None or x - start > best[0]):
                best = (x - start, left + (start + x) / 2)
            start = None
    if best is None:
        return None
    gutter = best[1]
    median_h = heights[len(heights) // 2]

    def prose(side: list[_Box], edge: float) -> bool:
        """Prose: most lines start at the column's left edge and many run close to its other edge (table cells
        start at several x positions and stop short)."""
        if len(side) < 3:
            return False
        x0 = min(b.x0 for b in side)
        col_w = max(1.0, edge - x0)
        aligned = sum(1 for b in side if b.x0 - x0 <= 2 * median_h) / len(side)
        full = sum(1 for b in side if b.w >= 0.6 * col_w) / len(side)
        return aligned >= 0.6 and full >= 0.4

    lefts = [b for b in boxes if b.x1 <= gutter]
    rights = [b for b in boxes if b.x0 >= gutter]
    if not (prose(lefts, gutter) and prose(rights, max(b.x1 for b in rights) if rights else gutter)):
        return None
    return gutter


def reading_order(lines: Sequence[OcrLine], skew: float = 0.0) -> Layout:
    """Order lines (boxes in an upright frame) as a person reads them.

    Args:
        lines: OCR lines whose boxes are in an upright page frame.
        skew: the page's baseline angle in degrees (from `orientation.estimate_skew`), undone before ordering.
    """
    boxes = _deskewed(lines, skew)
    gutter = _find_gutter(boxes)
    if gutter is None:
        rows = group_rows(boxes)
        return Layout(order=[b.index for r in rows for b in r], rows=[[b.index for b in r] for r in rows], columns=1)
    spanning = sorted((b for b in boxes if b.x0 < gutter < b.x1), key=lambda b: b.cy)
    bands: list[list[_Box]] = [[] for _ in range(len(spanning) + 1)]
    for b in boxes:
        if b.x0 < gutter < b.x1:
            continue
        bands[sum(1 for s in spanning if s.cy < b.cy)].append(b)
    ordered_rows: list[list[_Box]] = []
    for i, members in enumerate(bands):
        ordered_rows += group_rows([b for b in members if b.x1 <= gutter])
        ordered_rows += group_rows([b for b in members if b.x1 > gutter])
        if i < len(spanning):
            ordered_rows.append([spanning[i]])
    return Layout(
        order=[b.index for r in ordered_rows for b in r],
        rows=[[b.index for b in r] for r in ordered_rows],
        columns=2,
    )
