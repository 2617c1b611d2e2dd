"""Hard prescriptions: usage lines attached to their drug whatever the layout, short handwritten lines read the
right way up (real OCR on rendered images), and doses a drug is not made in flagged for confirmation."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image, ImageDraw, ImageFont

from evals.render.handwriting import _hand_font
from evals.render.pages import font_files
from ingestion.confirmation import CONFIRM_BELOW, review, review_medication
from ingestion.document import DrugOnPage, Medication, ParsedDocument
from ingestion.fields.prescription import NameFinder, normalise_frequency, parse_prescription
from ingestion.fields.text import make_rows
from ingestion.mentions import MentionFinder, spot_drugs
from ingestion.ocr.base import OcrLine, quad_from_rect
from ingestion.ocr.rapid import RapidOcrEngine
from ingestion.pipeline import OcrPipeline


@pytest.fixture(scope="module")
def names(mention_finder: MentionFinder) -> NameFinder:
    def spans(text: str) -> list[tuple[int, int]]:
        return [(m.start, m.end) for m in mention_finder.find_mentions(text) if m.recognized and m.ingredients]

    return spans


def _page(*rows: tuple[str, ...]) -> tuple[list[OcrLine], list[list[int]]]:
    """Lines laid out as rows of cells (each cell 400 px wide), one visual row per tuple."""
    lines: list[OcrLine] = []
    grouped: list[list[int]] = []
    for r, cells in enumerate(rows):
        grouped.append([])
        for c, text in enumerate(cells):
            grouped[-1].append(len(lines))
            lines.append(OcrLine(text, 0.95, quad_from_rect(60 + 460 * c, 40 * r, 440 + 460 * c, 40 * r + 30)))
    return lines, grouped


def _parse(names: NameFinder, *rows: tuple[str, ...]) -> list[Medication]:
    lines, grouped = _page(*rows)
    return parse_prescription(lines, make_rows(lines, grouped), names)[1]


def test_usage_on_the_next_line_belongs_to_the_drug_above(names: NameFinder) -> None:
    meds = _parse(
        names,
        ("临床诊断：高血压",),
        ("1. 苯磺酸氨氯地平片 5mg×28片",),
        ("用法：5mg qd 口服",),
        ("2. 立普妥 20mg×14片",),
        ("用法：1片 qn 口服 共14天",),
    )
    got = [(m.name, m.strength, m.dose, m.frequency, m.route, m.duration, m.quantity) for m in meds]
    assert got == [
        ("苯磺酸氨氯地平片", "5mg", "5mg", "qd", "口服", "", "28片"),
        ("立普妥", "20mg", "1片", "qn", "口服", "14天", "14片"),
    ]
    assert meds[0].line_indices == (1, 2)  # both lines' boxes, for the page to highlight


def test_two_columns_pair_each_usage_with_the_drug_above_it(names: NameFinder) -> None:
    meds = _parse(
        names,
        ("呋塞米片 20mg×7片", "波立维 75mg×28片"),
        ("用法：20mg qd 口服 共7天", "用法：75mg qd 口服"),
    )
    assert [(m.name, m.dose, m.frequency, m.duration) for m in meds] == [
        ("呋塞米片", "20mg", "qd", "7天"),
        ("波立维", "75mg", "qd", ""),
    ]


def test_handwritten_english_sig_line(names: NameFinder) -> None:
    meds = _parse(
        names, ("Rx",), ("Prilosec 20 mg #14",), ("Sig: 1 cap po bid x7d",), ("Lantus",), ("Sig 12 units qhs",)
    )
    assert [(m.name, m.strength, m.dose, m.frequency, m.duration, m.quantity) for m in meds] == [
        ("Prilosec", "20mg", "1cap", "bid", "7d", "14"),
        ("Lantus", "", "12units", "qn", "", ""),
    ]


def test_handwritten_amounts_as_the_recogniser_misreads_them(names: NameFinder) -> None:
    meds = _parse(
        names,
        ("Rx",),
        ("Aspirin 81 ma #14",),
        ("Sia: 162ma po daily x7d",),
        ("Glucophage 85o mg #28",),
        ("Sig 1700mgpo bid",),
        ("Levothyroxine 50 mca #14",),
        ("Sig: 2omcg po qd",),
    )
    assert [(m.strength, m.dose, m.route, m.frequency, m.duration, m.quantity) for m in meds] == [
        ("81mg", "162mg", "po", "qd", "7d", "14"),
        ("850mg", "1700mg", "po", "bid", "", "28"),
        ("50mcg", "20mcg", "po", "qd", "", "14"),
    ]


def test_a_table_is_read_by_its_column_titles(names: NameFinder) -> None:
    lines = []
    titles = ["药品名称", "规格", "单次量", "频次", "途径", "天数", "总量"]
    xs = [60, 330, 450, 540, 620, 700, 800]
    rows: list[list[int]] = []
    for r, cells in enumerate([titles, ["华法林钠片", "3mg", "3mg", "qd", "口服", "7天", "7片"]]):
        rows.append([])
        for x, text in zip(xs, cells, strict=True):
            rows[-1].append(len(lines))
            lines.append(OcrLine(text, 0.95, quad_from_rect(x + 6, 54 * r, x + 6 + 14 * len(text), 54 * r + 24)))
    meds = parse_prescription(lines, make_rows(lines, rows), names)[1]
    assert [(m.name, m.strength, m.dose, m.frequency, m.route, m.duration, m.quantity) for m in meds] == [
        ("华法林钠片", "3mg", "3mg", "qd", "口服", "7天", "7片")
    ]


@pytest.mark.slow
@pytest.mark.parametrize("face", ["handwriting", "printed"])
def test_qd_alone_on_a_short_line_is_read_right_way_up(face: str) -> None:
    """RapidOCR's per-line 0/180 classifier turns short crops over: in both faces below its own pipeline reads
    "qd" as "pb" (checked with rapidocr 3.10). Lines are read as they stand; the page's direction is decided once
    for the whole page (ingestion.orientation), so "pb" written as "pb" stays "pb"."""
    if face == "handwriting":
        font = _hand_font("zh", 44, 1)  # LXGW WenKai Light
    else:
        path, index = font_files()[0]
        font = ImageFont.truetype(path, 40, index=index)
    engine = RapidOcrEngine()
    for texts in (["qd", "bid", "po"], ["pb"]):
        img = Image.new("RGB", (600, 80 + 90 * len(texts)), "white")
        draw = ImageDraw.Draw(img)
        for k, text in enumerate(texts):
            draw.text((60, 40 + 90 * k), text, font=font, fill=(20, 20, 30))
        assert [line.text for line in engine.recognize(img).lines] == texts


def _printed_prescription(lines: list[str]) -> bytes:
    img = Image.new("RGB", (900, 120 + 60 * len(lines)), "white")
    path, index = font_files()[0]
    font = ImageFont.truetype(path, 30, index=index)
    draw = ImageDraw.Draw(img)
    for k, text in enumerate(lines):
        draw.text((50, 40 + 60 * k), text, font=font, fill=(20, 20, 20))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.slow
def test_a_strength_the_drug_is_not_made_in_is_flagged_for_confirmation(pipeline: OcrPipeline) -> None:
    data = _printed_prescription(
        [
            "处方笺",
            "临床诊断：高脂血症",
            "阿托伐他汀钙片 2mg×14片",
            "用法：2mg qn 口服",
            "苯磺酸氨氯地平片 5mg×28片",
            "用法：5mg qd 口服",
        ]
    )
    doc = pipeline.read(data, "rx.png")
    out = json.loads(json.dumps(doc.to_json(), ensure_ascii=False))
    assert out["doc_type"] == "prescription"
    by_name = {m["name"]: m for m in out["medications"]}
    atorvastatin, amlodipine = by_name["阿托伐他汀钙片"], by_name["苯磺酸氨氯地平片"]
    assert atorvastatin["needs_confirmation"] is True
    assert atorvastatin["field_confidence"]["strength"] < CONFIRM_BELOW
    assert atorvastatin["field_confidence"]["dose"] < CONFIRM_BELOW
    assert amlodipine["needs_confirmation"] is False
    assert min(amlodipine["field_confidence"].values()) >= CONFIRM_BELOW
    drugs = {d["ingredients"][0]: d for d in out["drugs"]}
    assert drugs["atorvastatin"]["needs_confirmation"] is True
    assert drugs["amlodipine"]["needs_confirmation"] is False
    assert any("atorvastatin is made in" in w and "20 mg" in w for w in out["warnings"])
    back = ParsedDocument.from_json(out).to_json()  # what the API stores and serves again
    assert back["medications"] == out["medications"] and back["drugs"] == out["drugs"]


@pytest.mark.parametrize(
    ("name", "strength", "dose", "flagged"),
    [
        ("苯磺酸氨氯地平片", "5mg", "5mg", False),
        ("苯磺酸氨氯地平片", "5mcg", "5mcg", True),  # mcg written for mg
        ("Lipitor", "20mg", "40mg", False),  # two tablets
        ("Lipitor", "20mg", "200mg", True),
        ("优甲乐", "50μg", "1片", False),
        ("盐酸二甲双胍片", "0.5g", "0.5g", False),
        ("盐酸二甲双胍片", "0.5g", "", True),  # a prescribed row with no dose read
        ("来得时", "", "12IU", False),
        ("来得时", "", "121U", True),  # "12IU" with its I read as 1
    ],
)
def test_strengths_and_doses_are_checked_against_what_the_drug_is_made_in(
    mention_finder: MentionFinder, name: str, strength: str, dose: str, flagged: bool
) -> None:
    med = Medication(name, strength=strength, dose=dose, frequency="qd", frequency_text="qd", confidence=0.97)
    checked, ingredients, warnings = review_medication(med, mention_finder, prescription=True)
    assert ingredients
    assert checked.needs_confirmation is flagged
    assert bool(warnings) is (flagged and bool(dose))


def test_a_frequency_read_with_9_for_q_is_kept_but_flagged(names: NameFinder, mention_finder: MentionFinder) -> None:
    lines, grouped = _page(("立普妥 10mg×14片",), ("Sig: 1片 9d 口服",))
    med = parse_prescription(lines, make_rows(lines, grouped), names)[1][0]
    assert (med.frequency, med.frequency_text) == ("qd", "9d")
    checked, _, _ = review_medication(med, mention_finder, prescription=True)
    assert checked.needs_confirmation and checked.field_confidence["frequency"] < CONFIRM_BELOW


def test_documents_stored_before_confirmation_flags_still_load() -> None:
    med = Medication("阿托伐他汀钙片", strength="20mg", confidence=0.9, needs_confirmation=True,
                     field_confidence={"strength": 0.3})  # fmt: skip
    old = med.to_json()
    del old["needs_confirmation"], old["field_confidence"]
    back = Medication.from_json(old)
    assert back.needs_confirmation is False and back.field_confidence == {}
    assert Medication.from_json(med.to_json()) == med
    drug_json = {"text": "阿托伐他汀", "ingredients": ["atorvastatin"], "bbox": [], "lines": [], "role": "subject"}
    assert DrugOnPage.from_json(drug_json).needs_confirmation is False


def test_a_name_the_lexicon_does_not_know_keeps_its_row_and_asks_for_confirmation(
    names: NameFinder, mention_finder: MentionFinder
) -> None:
    meds = _parse(names, ("Rx",), ("Xqvrtalon 25 mg #30",), ("Sig: 1 tab po qd",), ("Spironolactore 25 mg",))
    assert [(m.name, m.strength, m.dose, m.frequency) for m in meds] == [
        ("Xqvrtalon", "25mg", "1tab", "qd"),
        ("Spironolactore", "25mg", "", ""),
    ]
    unknown, ingredients, _ = review_medication(meds[0], mention_finder, prescription=True)
    assert ingredients == () and unknown.needs_confirmation and unknown.field_confidence["name"] < CONFIRM_BELOW
    corrected, ingredients, _ = review_medication(meds[1], mention_finder, prescription=True)
    assert ingredients == ("spironolactone",) and corrected.field_confidence["name"] < CONFIRM_BELOW
    assert _parse(names, ("每次 5mg 口服 qd",)) == []  # a usage line alone names no drug


def test_an_english_pad_header_value_written_beside_its_label() -> None:
    lines = [
        OcrLine("Name:", 0.99, quad_from_rect(60, 140, 130, 165)),
        OcrLine("Susan Lee", 0.9, quad_from_rect(140, 146, 330, 186)),
        OcrLine("Age:", 0.99, quad_from_rect(600, 140, 660, 165)),
        OcrLine("57", 0.9, quad_from_rect(668, 146, 710, 186)),
        OcrLine("Date:", 0.99, quad_from_rect(60, 200, 130, 225)),
        OcrLine("2026-11-08", 0.9, quad_from_rect(140, 206, 330, 246)),
    ]
    rows = make_rows(lines, [[i] for i in range(len(lines))])
    fields = parse_prescription(lines, rows)[0]
    assert {k: f.value for k, f in fields.items()} == {"patient_name": "Susan Lee", "age": "57", "date": "2026-11-08"}
    assert fields["age"].line_indices == (3,)


def test_a_header_read_without_its_gaps_keeps_each_value_apart() -> None:
    """OCR drops the space before the next label: "姓名：王芳性别：女" was once the name "王芳性别"."""
    lines = [
        OcrLine("姓名：王芳性别：女 年龄：68岁", 0.99, quad_from_rect(40, 40, 700, 80)),
        OcrLine("姓名: 李四年龄:40岁", 0.99, quad_from_rect(40, 100, 500, 140)),
    ]
    fields = parse_prescription(lines[:1], make_rows(lines[:1], [[0]]))[0]
    assert (fields["patient_name"].value, fields["sex"].value, fields["age"].value) == ("王芳", "女", "68岁")
    assert parse_prescription(lines[1:], make_rows(lines[1:], [[0]]))[0]["patient_name"].value == "李四"


def test_insulin_units_with_the_i_read_as_1_are_put_right_and_flagged(
    names: NameFinder, mention_finder: MentionFinder
) -> None:
    lines, grouped = _page(("甘精胰岛素注射液 ×1支",), ("用法：121U qn 皮下注射",), ("来得时 ×1支",), ("用法：11U qn",))
    guessed, plain = parse_prescription(lines, make_rows(lines, grouped), names)[1]
    assert (guessed.dose, guessed.repaired) == ("12IU", ("dose",))  # 121 units at once is no dose: 12 IU
    checked, _, _ = review_medication(guessed, mention_finder, prescription=True)
    assert checked.needs_confirmation and checked.field_confidence["dose"] < CONFIRM_BELOW
    assert (plain.dose, plain.repaired) == ("11U", ())  # 11 units is a dose: left as read
    assert Medication.from_json(guessed.to_json()) == guessed


@pytest.mark.parametrize(
    ("rows", "ingredient", "corrected"),
    [
        ((("1. 可定 10mg×14片",), ("用法：10mg qn 口服",)), "rosuvastatin", False),  # a two-character brand
        ((("Rx",), ("LoSartan100mg#30",), ("Sig: 1 tab po qd",)), "losartan", False),  # glued to its strength
        ((("Rx",), ("Clopdogel 75 mg #7",), ("Sig: 1 tab po qd",)), "clopidogrel", True),  # handwriting misread
    ],
)
def test_a_drug_heading_its_row_is_on_the_page_even_where_free_text_would_not_take_it(
    names: NameFinder, mention_finder: MentionFinder, rows: tuple[tuple[str, ...], ...], ingredient: str,
    corrected: bool,
) -> None:  # fmt: skip
    lines, grouped = _page(*rows)
    meds = parse_prescription(lines, make_rows(lines, grouped), names)[1]
    drugs, _ = spot_drugs(mention_finder, lines, meds)
    drug = next(d for d in drugs if d.ingredients == (ingredient,))
    assert drug.line_indices == meds[0].line_indices[:1]
    assert (drug.mention.corrected_from is not None) is corrected
    text = "\n".join(line.text for line in lines)
    assert text[drug.mention.start : drug.mention.end] == meds[0].name
    _, reviewed, _ = review(meds, drugs, mention_finder, "prescription", [line.confidence for line in lines])
    assert next(d for d in reviewed if d.ingredients == (ingredient,)).needs_confirmation is corrected


def test_usage_glued_to_its_dose_and_g_read_as_9_are_still_read(names: NameFinder) -> None:
    meds = _parse(names, ("左洛复50mg×14片",), ("50mgqd ×14天",), ("盐酸舍曲林片50m9×7片",), ("50mg qd 口服",))
    assert [(m.strength, m.dose, m.frequency) for m in meds] == [("50mg", "50mg", "qd"), ("50mg", "50mg", "qd")]


def test_a_table_row_whose_name_free_text_would_not_take_is_kept(names: NameFinder) -> None:
    meds = _parse(
        names,
        ("药品名称", "规格", "单次量", "频次", "途径"),
        ("可定", "10mg", "10mg", "qn", "口服"),
        ("呋塞米片", "20mg", "40mg", "qd", "口服"),
        ("合计", "", "", "", ""),
    )
    assert [(m.name, m.strength, m.dose, m.frequency) for m in meds] == [
        ("可定", "10mg", "10mg", "qn"),
        ("呋塞米片", "20mg", "40mg", "qd"),
    ]


@pytest.mark.parametrize(
    ("usage", "code"),
    [
        ("Sig: 75mg po dzily with meals", "qd"),
        ("Sig 25mg po twice dily x7d", "bid"),
        ("Sig 1 tab onfe daily", "qd"),
        ("Sig: 10mg ahs 口服", "qn"),  # q read as a
    ],
)
def test_a_frequency_word_with_one_letter_misread_is_read_and_flagged(usage: str, code: str) -> None:
    freq = normalise_frequency(usage)
    assert freq is not None and freq.code == code
    assert freq.repaired is ("onfe" not in usage)  # "onfe daily" still says daily as written
    for text in ("take with meals", "dose once", "take an hour before meals", "ad lib"):
        assert normalise_frequency(text) is None


def test_handwritten_amounts_and_names_the_recogniser_splits_are_read(names: NameFinder) -> None:
    meds = _parse(names, ("Rx",), ("Nitrog/ycerin 0.4 m a14",), ("Sig 100m a po BID",))
    assert [(m.name, m.strength, m.dose, m.frequency) for m in meds] == [("Nitrog/ycerin", "0.4mg", "100mg", "bid")]


def test_a_table_photographed_sideways_keeps_its_columns(names: NameFinder) -> None:
    """Boxes stay in the photo's frame: on a page turned 90 degrees the columns run down the image."""
    lines, grouped = _page(
        ("药品名称", "规格", "单次量", "频次"), ("拜新同", "30mg", "30mg", "qd"), ("拜阿司匹灵", "100mg", "200mg", "qd")
    )
    height = 2000.0
    turned = [  # the photo turned 90 degrees clockwise: (x, y) -> (height - y, x)
        OcrLine(ln.text, ln.confidence, tuple((height - y, x) for x, y in ln.box))  # type: ignore[arg-type]
        for ln in lines
    ]
    for page in (lines, turned):
        meds = parse_prescription(page, make_rows(page, grouped), names)[1]
        assert [(m.name, m.strength, m.dose, m.frequency) for m in meds] == [
            ("拜新同", "30mg", "30mg", "qd"),
            ("拜阿司匹灵", "100mg", "200mg", "qd"),
        ]
