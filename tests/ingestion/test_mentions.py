"""Drug mentions: every drug on a rendered page is found, with boxes on the lines it was read from; OCR
near-misses are corrected by the lexicon; implausible dose units are flagged."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw, ImageFont

from ingestion.document import ParsedDocument
from ingestion.mentions import MentionFinder, spot_drugs
from ingestion.ocr.base import OcrLine, quad_from_rect
from ingestion.pipeline import OcrPipeline
from tests.ingestion.conftest import PAGES, Page


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_drug_on_the_page_is_found(page: Page, read_pages: dict[str, ParsedDocument]) -> None:
    doc = read_pages[page.name]
    found = {i for d in doc.drugs for i in d.ingredients}
    expected = {d["ingredient"] for d in page.truth["drugs"]}
    assert expected <= found, f"missing {expected - found}"
    for drug in doc.drugs:
        assert drug.boxes and len(drug.boxes) == len(drug.line_indices)
        # Each box is the box of a line that holds the name (or, wrapped, part of it).
        assert (
            any(drug.text.lower() in doc.lines[i].text.lower() for i in drug.line_indices) or len(drug.line_indices) > 1
        )


def line(text: str, y: float = 0) -> OcrLine:
    return OcrLine(text, 0.9, quad_from_rect(0, y, 10 * len(text), y + 20))


def test_spans_map_to_lines_and_repeats_merge(mention_finder: MentionFinder) -> None:
    lines = [line("【药品名称】苯磺酸氨氯地平片"), line("本品与华法林合用", 30), line("氨氯地平的半衰期长", 60)]
    drugs, warnings = spot_drugs(mention_finder, lines)
    by_ingredient = {d.ingredients: d for d in drugs}
    assert set(by_ingredient) == {("amlodipine",), ("warfarin",)}
    assert by_ingredient[("amlodipine",)].line_indices == (0, 2)
    assert by_ingredient[("amlodipine",)].boxes == (lines[0].box, lines[2].box)
    assert by_ingredient[("warfarin",)].line_indices == (1,)
    assert warnings == []


def test_a_name_wrapped_across_two_lines_gets_both_boxes(mention_finder: MentionFinder) -> None:
    # find_mentions sees lines joined by newlines; a name split by the wrap is not a name, but one that ends a
    # line must not take the next line's box.
    lines = [line("用于高血压，与二甲双胍"), line("合用时应注意", 30)]
    drugs, _ = spot_drugs(mention_finder, lines)
    assert [d.line_indices for d in drugs] == [(0,)]


def test_implausible_dose_unit_is_flagged(mention_finder: MentionFinder) -> None:
    lines = [line("苯磺酸氨氯地平片 5mcg 口服 每日一次"), line("二甲双胍 0.5g 每日两次", 30)]
    _, warnings = spot_drugs(mention_finder, lines)
    assert len(warnings) == 1
    assert "5mcg" in warnings[0] and "amlodipine" in warnings[0] and "1,000x below" in warnings[0]
    _, fine = spot_drugs(mention_finder, [line("苯磺酸氨氯地平片 5mg 口服 每日一次")])
    assert fine == []
    _, grams = spot_drugs(mention_finder, [line("Warfarin 5 g daily")])
    assert grams and "above" in grams[0]


@pytest.mark.slow
def test_ocr_misread_is_corrected_and_the_dose_checked_on_a_real_image(pipeline: OcrPipeline) -> None:
    """A rendered prescription line with a misread drug (氨氧地平 for 氨氯地平, a confusion OCR really makes)
    and a wrong unit (mcg)."""
    from evals.render.pages import font_files

    path, index = font_files()[0]
    font = ImageFont.truetype(path, 30, index=index)
    img = Image.new("RGB", (900, 200), "white")
    draw = ImageDraw.Draw(img)
    draw.text((30, 40), "苯磺酸氨氧地平片 5mcg 口服 每日一次", font=font, fill="black")
    draw.text((30, 110), "Warfarin Sodium Tablets 2.5 mg", font=font, fill="black")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    doc = pipeline.read(buf.getvalue(), "rx.png")
    amlodipine = next(d for d in doc.drugs if d.ingredients == ("amlodipine",))
    assert "氨氧地平" in (amlodipine.mention.corrected_from or "")  # the span as printed, salt and form included
    assert amlodipine.to_json()["corrected_from"] == amlodipine.mention.corrected_from
    assert any(d.ingredients == ("warfarin",) for d in doc.drugs)
    assert any("5mcg" in w and "amlodipine" in w for w in doc.warnings)
    assert not any("warfarin" in w for w in doc.warnings)
