"""What a document is about: the subject drugs (the leaflet's or box's product, the prescribed rows) against drugs
only mentioned (an interactions section, a diagnosis); document types that keep a box apart from a prescription;
stored documents read back into a `ParsedDocument`, roles included.

The fast tests build lines and fields by hand; the slow ones read rendered pages with the real OCR model and
the real lexicon.
"""

from __future__ import annotations

import dataclasses
import io
import json
import random
from typing import Any

import pytest
from PIL import Image

from evals.render.pages import Canvas, PageSpec, _flow, render_page
from ingestion.document import DrugOnPage, Field, Medication, ParsedDocument
from ingestion.fields.classify import classify
from ingestion.mentions import MentionFinder, spot_drugs
from ingestion.ocr.base import OcrLine, quad_from_rect
from ingestion.pipeline import OcrPipeline
from ingestion.roles import assign_roles
from knowledge.models import DrugMention

# ---- assign_roles on hand-built pages ------------------------------------------------------------------


def line(text: str, row: int, height: float = 20) -> OcrLine:
    y = row * 30.0
    return OcrLine(text, 0.95, quad_from_rect(0, y, 12 * len(text), y + height))


def field(name: str, value: str, *indices: int) -> Field:
    return Field(name, value, 0.95, line_indices=indices)


def drug(text: str, ingredient: str, *indices: int, kind: str = "ingredient") -> DrugOnPage:
    mention = DrugMention(text, True, (ingredient,) if ingredient else (), kind=kind)
    return DrugOnPage(mention, tuple(quad_from_rect(0, 30 * i, 10, 30 * i + 20) for i in indices), indices)


def roles(drugs: tuple[DrugOnPage, ...]) -> dict[str, tuple[str, str | None]]:
    return {d.text: (d.role, d.section) for d in drugs}


IBUPROFEN_FIELDS = {
    "drug_name": field("drug_name", "布洛芬缓释胶囊", 1),
    "generic_name": field("generic_name", "布洛芬缓释胶囊", 1),
    "indications": field("indications", "用于缓解轻至中度疼痛。", 2),
    "contraindications": field("contraindications", "对阿司匹林过敏的哮喘患者禁用。", 3),
    "interactions": field("interactions", "与阿司匹林、抗高血压药合用时应注意；与布洛芬类药物不宜同用。", 4, 5),
}


def test_the_leaflet_is_about_its_product_not_what_its_sections_name() -> None:
    drugs = (
        drug("布洛芬缓释胶囊", "ibuprofen", 0, 1, 5, kind="product"),
        drug("阿司匹林", "aspirin", 3, 4),
        drug("抗高血压药", "", 4, kind="class"),
    )
    got = assign_roles("leaflet", IBUPROFEN_FIELDS, (), drugs)
    # Aspirin is named first under 禁忌 (line 3), then under 药物相互作用: the first section wins.
    assert roles(got) == {
        "布洛芬缓释胶囊": ("subject", None),
        "阿司匹林": ("mentioned", "contraindications"),
        "抗高血压药": ("mentioned", "interactions"),
    }
    assert [d.line_indices for d in got] == [d.line_indices for d in drugs]  # only the role changes


def test_ingredients_name_the_subject_too_and_win_over_other_sections() -> None:
    fields = {
        "ingredients": field("ingredients", "本品为复方制剂，含对乙酰氨基酚和咖啡因。", 0),
        "interactions": field("interactions", "不宜与对乙酰氨基酚的其他制剂同用。", 1),
    }
    drugs = (drug("对乙酰氨基酚", "acetaminophen", 0, 1), drug("咖啡因", "caffeine", 0))
    assert {d.role for d in assign_roles("package", fields, (), drugs)} == {"subject"}


def test_without_a_name_field_the_title_lines_name_the_subject() -> None:
    lines = [line("请仔细阅读说明书", 0), line("说明", 1), line("用法", 2), line("华法林钠片", 6, height=48)]
    lines += [line("正文", r) for r in range(7, 12)]
    fields = {"interactions": field("interactions", "与阿司匹林合用增加出血风险。", 4)}
    drugs = (drug("华法林钠片", "warfarin", 3), drug("阿司匹林", "aspirin", 4))
    got = roles(assign_roles("leaflet", fields, (), drugs, lines=lines))
    assert got == {"华法林钠片": ("subject", None), "阿司匹林": ("mentioned", "interactions")}
    # Without the lines only the first lines count as the title, and line 3 is not one of them: the drugs
    # outside every section are the subject then.
    assert roles(assign_roles("leaflet", fields, (), drugs))["华法林钠片"] == ("subject", None)


def test_a_line_shared_by_two_fields_goes_to_the_one_that_holds_the_name() -> None:
    fields = {
        "drug_name": field("drug_name", "辛伐他汀片", 0),
        "precautions": field("precautions", "避免大量饮酒。", 1),
        "interactions": field("interactions", "禁止与克拉霉素合用。", 1),
    }
    drugs = (drug("辛伐他汀片", "simvastatin", 0), drug("克拉霉素", "clarithromycin", 1))
    assert roles(assign_roles("leaflet", fields, (), drugs))["克拉霉素"] == ("mentioned", "interactions")


def test_prescribed_rows_are_the_subjects_of_a_prescription() -> None:
    fields = {
        "diagnosis": field("diagnosis", "房颤（长期服用华法林）", 1),
        "patient_name": field("patient_name", "王伟", 0),
    }
    meds = (Medication("苯磺酸氨氯地平片", line_indices=(3, 4)), Medication("二甲双胍片", line_indices=(5,)))
    drugs = (
        drug("华法林", "warfarin", 1),
        drug("苯磺酸氨氯地平片", "amlodipine", 3),
        drug("二甲双胍", "metformin", 5),
        drug("阿司匹林", "aspirin", 7),  # a note below the table: no field
    )
    assert roles(assign_roles("prescription", fields, meds, drugs)) == {
        "华法林": ("mentioned", "diagnosis"),
        "苯磺酸氨氯地平片": ("subject", None),
        "二甲双胍": ("subject", None),
        "阿司匹林": ("mentioned", None),
    }
    # A row the parser missed ("甘精胰岛素注射液×1支" over "12IU qn") is prescribed all the same; a note is not.
    lines = [
        line(t, i)
        for i, t in enumerate(
            [
                "王伟",
                "房颤",
                "",
                "苯磺酸氨氯地平片 5mg",
                "1片 qd",
                "二甲双胍片",
                "",
                "阿司匹林过敏",
                "甘精胰岛素注射液×1支",
                "12IU qn 皮下注射",
            ]
        )
    ]
    missed = (*drugs, drug("甘精胰岛素注射液", "insulin glargine", 8))
    found = roles(assign_roles("prescription", fields, meds, missed, lines=lines))
    assert found["甘精胰岛素注射液"] == ("subject", None) and found["阿司匹林"] == ("mentioned", None)
    # No row parsed: the drugs outside the header stand in for the rows.
    assert roles(assign_roles("prescription", fields, (), drugs))["华法林"] == ("mentioned", "diagnosis")
    assert roles(assign_roles("prescription", fields, (), drugs))["阿司匹林"] == ("subject", None)


def test_json_round_trip_of_a_hand_built_document_is_exact() -> None:
    lines = (
        line("布洛芬缓释胶囊", 0),
        line("与阿司匹林合用", 1),
        OcrLine("第二页", 0.5, quad_from_rect(1, 2, 3, 4), page=1),
    )
    mention = DrugMention("布洛芬", True, ("ibuprofen",), ("nsaid",), "product", 0.9, "布络芬", "布洛芬", 0, 3)
    doc = ParsedDocument(
        doc_type="leaflet",
        lines=lines,
        fields={"drug_name": Field("drug_name", "布洛芬缓释胶囊", 0.95, (lines[0].box,), (0,))},
        medications=(Medication("布洛芬缓释胶囊", "0.3g", "1粒", "口服", "一日2次", "bid", 2, boxes=(lines[0].box,)),),
        drugs=(
            DrugOnPage(mention, (lines[0].box,), (0,)),
            DrugOnPage(DrugMention("阿司匹林", True, ("aspirin",)), (lines[1].box,), (1,), "mentioned", "interactions"),
        ),
        warnings=("check",),
        timings_ms={"ocr": 12.5, "total": 20.0},
        sha256="ab" * 32,
        width=800,
        height=600,
        pages=2,
        rotation=90,
        skew_degrees=1.25,
        engine="rapidocr",
        rows=((0,), (1, 2)),
        from_cache=True,
    )
    stored = json.loads(json.dumps(doc.to_json(), ensure_ascii=False))
    assert ParsedDocument.from_json(stored) == doc
    assert stored["drugs"][1]["role"] == "mentioned" and stored["drugs"][1]["section"] == "interactions"


# ---- document types --------------------------------------------------------------------------------------

BOX_SIDE = "\n".join(
    [
        "处方药",
        "布洛芬缓释胶囊",
        "规格：0.3g",
        "用法用量：口服，一次1粒，一日2次",
        "凭医师处方销售、购买和使用",
        "批准文号：国药准字H10900089",
    ]
)
BOX_BACK = "\n".join(
    [
        "【成份】本品主要成份为布洛芬",
        "【适应症】用于缓解轻至中度疼痛",
        "【用法用量】详见说明书",
        "【不良反应】详见说明书",
        "【禁忌】详见说明书",
        "【注意事项】详见说明书",
        "产品批号：230512",
        "有效期至：2025.05",
    ]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BOX_SIDE, "package"),  # was "prescription": 处方药 and 凭医师处方 counted as a prescription's 处方
        (BOX_BACK, "package"),  # was "leaflet": many 【sections】, but 详见说明书 and 批号 only a box prints
        ("非处方药 OTC\n布洛芬缓释胶囊", "package"),
        (
            "某某医院\n普通处方\n姓名：王伟 性别：男 年龄：60岁\n临床诊断：高血压\n药品名称 规格 数量 用法用量",
            "prescription",
        ),
        (
            "布洛芬缓释胶囊说明书\n请仔细阅读说明书并按说明使用\n【成份】布洛芬\n【适应症】头痛\n【禁忌】对本品过敏者",
            "leaflet",
        ),
    ],
    ids=["box-side", "box-back", "box-front", "prescription", "leaflet"],
)
def test_document_type(text: str, expected: str) -> None:
    assert classify(text) == expected


# ---- rendered pages, read by the real OCR model ----------------------------------------------------------


def png(canvas: Canvas) -> bytes:
    buf = io.BytesIO()
    canvas.img.save(buf, "PNG")
    return buf.getvalue()


def ibuprofen_leaflet() -> bytes:
    c = Canvas(1000, 900, random.Random(3))
    title = "布洛芬缓释胶囊说明书"
    tf = c.font(36, bold=True)
    c.text(((1000 - tf.getlength(title)) / 2, 50), title, tf)
    blocks = [
        ("【药品名称】", "", True),
        ("通用名称：", "布洛芬缓释胶囊", False),
        ("英文名称：", "Ibuprofen Sustained Release Capsules", False),
        ("【成份】", "本品主要成份为布洛芬。", False),
        ("【适应症】", "用于缓解轻至中度疼痛如头痛、关节痛、偏头痛、牙痛、肌肉痛。", False),
        ("【用法用量】", "口服。成人一次1粒，一日2次。", False),
        (
            "【药物相互作用】",
            "与阿司匹林或其他非甾体抗炎药同用时，药效不增强而不良反应增加；可降低抗高血压药的降压效果。",
            False,
        ),
        ("【贮藏】", "遮光，密封保存。", False),
    ]
    _flow(c, blocks, 130, 1, 24)
    return png(c)


def simvastatin_label() -> bytes:
    c = Canvas(1100, 1000, random.Random(5))
    c.text((60, 50), "SIMVASTATIN TABLETS", c.font(32, bold=True))
    c.text((60, 100), "Rx only", c.font(22))
    blocks = [
        ("1 INDICATIONS AND USAGE", "Simvastatin is indicated to reduce elevated LDL cholesterol in adults.", True),
        ("2 DOSAGE AND ADMINISTRATION", "The usual dose is 20 to 40 mg once a day in the evening.", True),
        (
            "5 WARNINGS AND PRECAUTIONS",
            "Myopathy and rhabdomyolysis: the risk is increased by strong CYP3A4 inhibitors such as "
            "clarithromycin. Do not take them together.",
            True,
        ),
        ("6 ADVERSE REACTIONS", "Headache, abdominal pain, constipation and nausea.", True),
    ]
    _flow(c, blocks, 150, 1, 22)
    return png(c)


def prescription_page() -> bytes:
    c = Canvas(1000, 800, random.Random(7))
    f = c.font(24)
    c.text((330, 40), "临海市第一人民医院", c.font(34, bold=True))
    c.text((440, 100), "处方笺", c.font(32, bold=True))
    for x, cell in ((60, "姓名：王伟"), (420, "性别：男"), (720, "年龄：67岁")):
        c.draw.text((x, 170), cell, font=f, fill=(20, 20, 20))
    c.text((60, 220), "临床诊断：心房颤动（长期服用华法林）", f)
    c.text((60, 280), "Rp", c.font(34, bold=True))
    rows = [
        ("药品名称", "规格", "数量", "用法用量"),
        ("苯磺酸氨氯地平片", "5mg", "28片", "5mg 口服 每日一次"),
        ("盐酸二甲双胍片", "0.5g", "56片", "0.5g 口服 每日2次"),
    ]
    for r, cells in enumerate(rows):
        for x, cell in zip((60, 360, 540, 660), cells, strict=True):
            c.draw.text((x, 340 + 56 * r), cell, font=c.font(22, bold=r == 0), fill=(20, 20, 20))
    c.text((60, 560), "医师：李强", f)
    return png(c)


@pytest.fixture(scope="module")
def ibuprofen(pipeline: OcrPipeline) -> ParsedDocument:
    return pipeline.read(ibuprofen_leaflet(), "ibuprofen.png")


@pytest.mark.slow
def test_ibuprofen_leaflet_names_aspirin_and_antihypertensives_in_its_interactions(ibuprofen: ParsedDocument) -> None:
    doc = ibuprofen
    assert doc.doc_type == "leaflet"
    by_ingredient = {d.ingredients: d for d in doc.drugs}
    assert by_ingredient[("ibuprofen",)].role == "subject" and by_ingredient[("ibuprofen",)].section is None
    assert (by_ingredient[("aspirin",)].role, by_ingredient[("aspirin",)].section) == ("mentioned", "interactions")
    classes = [d for d in doc.drugs if d.mention.kind == "class" and "antihypertensive" in d.mention.class_ids]
    assert classes and all((d.role, d.section) == ("mentioned", "interactions") for d in classes)
    assert {tuple(d.ingredients) for d in doc.drugs if d.is_subject} == {("ibuprofen",)}


@pytest.mark.slow
def test_english_label_is_about_simvastatin_not_clarithromycin(pipeline: OcrPipeline) -> None:
    doc = pipeline.read(simvastatin_label(), "simvastatin.png")
    by_ingredient = {d.ingredients: d for d in doc.drugs}
    assert by_ingredient[("simvastatin",)].role == "subject"
    clarithromycin = by_ingredient[("clarithromycin",)]
    assert (clarithromycin.role, clarithromycin.section) == ("mentioned", "warnings")


@pytest.mark.slow
def test_both_prescribed_rows_are_subjects_and_the_diagnosis_only_mentions(pipeline: OcrPipeline) -> None:
    doc = pipeline.read(prescription_page(), "rx.png")
    assert doc.doc_type == "prescription" and len(doc.medications) == 2
    by_ingredient = {d.ingredients: d for d in doc.drugs}
    assert by_ingredient[("amlodipine",)].role == "subject"
    assert by_ingredient[("metformin",)].role == "subject"
    assert (by_ingredient[("warfarin",)].role, by_ingredient[("warfarin",)].section) == ("mentioned", "diagnosis")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [6, 15])
def test_a_drug_box_is_a_package_whose_product_is_the_subject(pipeline: OcrPipeline, seed: int) -> None:
    data, _, truth = render_page(PageSpec("package", 1, "clean"), seed)
    doc = pipeline.read(data, "box.png")
    assert doc.doc_type == "package"
    (expected,) = truth["drugs"]
    assert [d.ingredients for d in doc.drugs if d.is_subject] == [(expected["ingredient"],)]


@pytest.mark.slow
def test_a_box_side_panel_naming_prescription_words_is_a_package(pipeline: OcrPipeline) -> None:
    c = Canvas(1000, 600, random.Random(11), background=(250, 250, 246))
    for k, text in enumerate(BOX_SIDE.split("\n")):
        c.text((60, 40 + 80 * k), text, c.font(48 if k == 1 else 28, bold=k < 2))
    doc = pipeline.read(png(c), "box-side.png")
    assert doc.doc_type == "package"
    assert [d.ingredients for d in doc.drugs if d.is_subject] == [("ibuprofen",)]


def strip_roles(stored: dict[str, Any]) -> dict[str, Any]:
    """The JSON a document had before roles: drugs with text, ingredients, bbox (and corrected_from) only."""
    old = {k: v for k, v in stored.items() if k not in ("rows", "skew_degrees")}
    keep = ("text", "ingredients", "bbox", "corrected_from")
    old["drugs"] = [{k: v for k, v in d.items() if k in keep} for d in stored["drugs"]]
    return old


@pytest.mark.slow
def test_a_read_document_round_trips_through_json(ibuprofen: ParsedDocument) -> None:
    stored = json.loads(json.dumps(ibuprofen.to_json(), ensure_ascii=False))
    again = ParsedDocument.from_json(stored)
    assert again.to_json() == stored
    assert again.drugs == tuple(
        dataclasses.replace(d, mention=dataclasses.replace(d.mention, confidence=round(d.mention.confidence, 4)))
        for d in ibuprofen.drugs
    )
    assert again.rows == ibuprofen.rows and again.text == ibuprofen.text


@pytest.mark.slow
def test_a_document_stored_before_roles_gets_them_back(ibuprofen: ParsedDocument) -> None:
    old = strip_roles(json.loads(json.dumps(ibuprofen.to_json(), ensure_ascii=False)))
    assert all("role" not in d and "lines" not in d for d in old["drugs"])
    again = ParsedDocument.from_json(old)
    assert [(d.ingredients, d.line_indices, d.role, d.section) for d in again.drugs] == [
        (d.ingredients, d.line_indices, d.role, d.section) for d in ibuprofen.drugs
    ]


def test_a_blank_page_round_trips(pipeline: OcrPipeline) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(buf, "PNG")
    doc = pipeline.read(buf.getvalue())
    assert ParsedDocument.from_json(doc.to_json()).to_json() == doc.to_json()


def test_the_salt_of_an_english_name_is_not_a_second_subject(mention_finder: MentionFinder) -> None:
    drugs, _ = spot_drugs(mention_finder, [line("Atorvastatin Calcium Tablets", 0), line("Take calcium apart", 1)])
    assert [(d.ingredients, d.line_indices) for d in drugs] == [(("atorvastatin",), (0,)), (("calcium",), (1,))]
