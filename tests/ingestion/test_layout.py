"""Reading order: two-column leaflets are read column by column; tables and one-column pages row by row."""

from __future__ import annotations

import math

import pytest

from ingestion.document import ParsedDocument
from ingestion.layout import reading_order
from ingestion.ocr.base import OcrLine, quad_from_rect
from tests.ingestion.conftest import PAGES, Page, normalise


def box_line(text: str, x0: float, y0: float, x1: float, h: float = 24) -> OcrLine:
    return OcrLine(text, 0.99, quad_from_rect(x0, y0, x1, y0 + h))


def test_two_prose_columns_with_a_title_across_them() -> None:
    lines = [box_line("TITLE", 300, 10, 700)]
    for k in range(6):
        lines.append(box_line(f"R{k}", 520, 60 + 30 * k, 940 if k != 5 else 700))
        lines.append(box_line(f"L{k}", 60, 60 + 30 * k, 480 if k != 5 else 300))
    lines.append(box_line("FOOTER", 60, 300, 940))
    lines.append(box_line("R6", 520, 340, 930))
    lines.append(box_line("L6", 60, 340, 470))
    layout = reading_order(lines)
    order = [lines[i].text for i in layout.order]
    assert layout.columns == 2
    assert order == ["TITLE", *[f"L{k}" for k in range(6)], *[f"R{k}" for k in range(6)], "FOOTER", "L6", "R6"]


def test_table_rows_are_read_across() -> None:
    lines = []
    for k in range(5):
        y = 100 + 50 * k
        lines += [
            box_line("用法", 650, y, 900),
            box_line("药名", 60, y, 300),
            box_line("5mg", 360, y, 420),
            box_line("28片", 540, y, 600),
        ]
    layout = reading_order(lines)
    assert layout.columns == 1
    assert [[lines[i].text for i in row] for row in layout.rows] == [["药名", "5mg", "28片", "用法"]] * 5


def test_skewed_table_rows_stay_together() -> None:
    """A table photographed 6 degrees off: each row's right cells sit lower than its left cell."""
    slope = math.tan(math.radians(6))
    cells = [(60, 300), (340, 420), (460, 700)]
    lines = []
    for k in range(4):
        for c, (x0, x1) in enumerate(cells):
            y0, y1 = 100 + 40 * k + x0 * slope, 100 + 40 * k + x1 * slope
            lines.append(OcrLine(f"{k}{c}", 0.9, ((x0, y0), (x1, y1), (x1, y1 + 24), (x0, y0 + 24))))
    layout = reading_order(lines, skew=6.0)
    assert layout.columns == 1
    assert [[lines[i].text for i in row] for row in layout.rows] == [[f"{k}0", f"{k}1", f"{k}2"] for k in range(4)]
    # Without undoing the skew, the rows fall apart: the test would catch a layout that ignored it.
    assert reading_order(lines, skew=0.0).rows != layout.rows


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if p.truth["columns"] == 2], ids=lambda p: p.name)
def test_two_column_pages_follow_the_ground_truth_order(page: Page, read_pages: dict[str, ParsedDocument]) -> None:
    """Each ground-truth line is found, in order, in the text read (a column mix-up would break the order)."""
    read = normalise(read_pages[page.name].text)
    at = 0
    misses = 0
    for truth_line in page.truth["lines"]:
        probe = normalise(truth_line)[:12]
        found = read.find(probe, at)
        if found < 0:
            misses += 1  # an OCR error inside the probe; CER tests judge those
            continue
        at = found + len(probe)
    # Out of order, every line after a misplaced one is looked for past it and missed: about half the page.
    assert misses <= max(1, len(page.truth["lines"]) // 10)
