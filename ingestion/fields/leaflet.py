"""Leaflet fields: Chinese 【section】 leaflets (and the 成份：/适应症： panels on box backs) and US
prescribing information (INDICATIONS AND USAGE, DOSAGE AND ADMINISTRATION ...).

A section runs from its heading to the next heading, in reading order; its value is the text after the
heading, wrapped lines joined. OCR often reads 【 as [ or ［, so brackets are matched loosely.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingestion.document import Field
from ingestion.fields.text import Row, join_text, make_field
from ingestion.ocr.base import OcrLine

ZH_SECTIONS: dict[str, str] = {
    "药品名称": "drug_name",
    "通用名称": "generic_name",
    "商品名称": "brand_name",
    "英文名称": "english_name",
    "汉语拼音": "pinyin",
    "成份": "ingredients",
    "成分": "ingredients",
    "性状": "description",
    "适应症": "indications",
    "功能主治": "indications",
    "规格": "strength",
    "用法用量": "dosage",
    "不良反应": "adverse_reactions",
    "禁忌": "contraindications",
    "注意事项": "precautions",
    "孕妇及哺乳期妇女用药": "pregnancy",
    "儿童用药": "pediatric_use",
    "老年用药": "geriatric_use",
    "老年患者用药": "geriatric_use",
    "药物相互作用": "interactions",
    "药物过量": "overdosage",
    "临床试验": "clinical_trials",
    "药理毒理": "pharmacology",
    "药代动力学": "pharmacokinetics",
    "贮藏": "storage",
    "包装": "package",
    "有效期": "shelf_life",
    "执行标准": "standard",
    "批准文号": "approval_number",
    "生产企业": "manufacturer",
    "上市许可持有人": "marketing_authorization_holder",
    # Box back panels: these only end the section before them (an address is not a drug fact worth a field
    # of its own, but without them the holder's name would swallow the rest of the panel).
    "地址": "address",
    "生产厂": "manufacturer",
    "生产地址": "manufacturer_address",
    "分装企业": "packager",
    "企业名称": "manufacturer",
}

# "Composition: ..." style English headings (bilingual box backs); all-caps label headings are EN_SECTIONS.
EN_COLON: dict[str, str] = {
    "composition": "ingredients",
    "ingredients": "ingredients",
    "active ingredient": "ingredients",
    "active ingredients": "ingredients",
    "description": "description",
    "indications": "indications",
    "uses": "indications",
    "dosage and administration": "dosage",
    "directions": "dosage",
    "warnings": "warnings",
    "storage": "storage",
}

EN_SECTIONS: dict[str, str] = {
    "INDICATIONS AND USAGE": "indications",
    "INDICATIONS": "indications",
    "DOSAGE AND ADMINISTRATION": "dosage",
    "DOSAGE FORMS AND STRENGTHS": "strength",
    "CONTRAINDICATIONS": "contraindications",
    "WARNINGS AND PRECAUTIONS": "warnings",
    "WARNINGS": "warnings",
    "PRECAUTIONS": "precautions",
    "ADVERSE REACTIONS": "adverse_reactions",
    "DRUG INTERACTIONS": "interactions",
    "USE IN SPECIFIC POPULATIONS": "specific_populations",
    "OVERDOSAGE": "overdosage",
    "DESCRIPTION": "description",
    "HOW SUPPLIED/STORAGE AND HANDLING": "storage",
    "STORAGE AND HANDLING": "storage",
}

_ZH_NAMES = "|".join(sorted(ZH_SECTIONS, key=len, reverse=True))
# 【成份】... or, at the start of a line, 成份：... (box backs, plain leaflets).
_ZH_BRACKETED = re.compile(r"[【\[［〖|I]\s*(" + _ZH_NAMES + r")\s*[】\]］〗|I]\s*[:：]?")
_ZH_COLON = re.compile(r"^\s*(" + _ZH_NAMES + r")\s*[:：]")
_ZH_SPACED = re.compile(r"\s+(?=[\u4e00-\u9fff]\s*[:：])|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_EN_COLON = re.compile(r"^\s*(" + "|".join(sorted(EN_COLON, key=len, reverse=True)) + r")\s*:\s*", re.I)
_EN_HEADING = re.compile(
    r"^\s*(?:\d+(?:\.\d+)?\s+)?("
    + "|".join(sorted((re.escape(k) for k in EN_SECTIONS), key=len, reverse=True))
    + r")\b\s*:?\s*"
)


def _headings(text: str) -> list[tuple[int, int, str]]:
    """(start, end, field name) of every section heading in one line."""
    found = [(m.start(), m.end(), ZH_SECTIONS[m.group(1)]) for m in _ZH_BRACKETED.finditer(text)]
    if not found:
        # "地    址：" is printed letter-spaced; match on the text with those spaces taken out.
        squeezed = _ZH_SPACED.sub("", text[:12]) + text[12:]
        m = _ZH_COLON.match(squeezed)
        if m:
            end = m.end() + (len(text) - len(squeezed))
            found.append((0, end, ZH_SECTIONS[m.group(1)]))
    if not found:
        m = _EN_COLON.match(text)
        if m:
            found.append((m.start(), m.end(), EN_COLON[m.group(1).lower()]))
    if not found:
        m = _EN_HEADING.match(text)
        if m and m.group(1) == m.group(1).upper() and text[: m.end()].strip() == text[: m.end()].strip().upper():
            found.append((m.start(), m.end(), EN_SECTIONS[m.group(1)]))
    return found


def parse_leaflet(lines: Sequence[OcrLine], rows: Sequence[Row]) -> dict[str, Field]:
    """Section fields of a leaflet (or a box back panel), keyed by English snake_case names."""
    sections: list[tuple[str, list[str], list[int]]] = []
    preamble: list[int] = []
    for row in rows:
        for index, text in zip(row.indices, row.cells, strict=True):
            heads = _headings(text)
            if not heads:
                if sections:
                    sections[-1][1].append(text)
                    sections[-1][2].append(index)
                else:
                    preamble.append(index)
                continue
            if heads[0][0] > 0 and sections:
                sections[-1][1].append(text[: heads[0][0]])
            for k, (_, end, name) in enumerate(heads):
                stop = heads[k + 1][0] if k + 1 < len(heads) else len(text)
                sections.append((name, [text[end:stop]], [index]))
    fields: dict[str, Field] = {}
    for name, parts, indices in sections:
        value = join_text(parts)
        if name == "drug_name" and not value:
            continue  # 【药品名称】 alone on its line: the names follow as 通用名称：/英文名称：
        if name in fields and _is_latin(value) != _is_latin(fields[name].value):
            name = f"{name}_en" if _is_latin(value) else name  # a bilingual panel: keep both languages apart
        if name in fields:
            if not value:
                continue
            old = fields[name]
            value = join_text([old.value, value])
            indices = list(old.line_indices) + indices
        fields[name] = make_field(name, value, lines, indices)
    if "drug_name" not in fields:
        title = _title(lines, preamble)
        if "generic_name" in fields:
            g = fields["generic_name"]
            fields["drug_name"] = make_field("drug_name", g.value, lines, g.line_indices)
        elif title is not None:
            fields["drug_name"] = title
    return fields


def _is_latin(text: str) -> bool:
    return not re.search(r"[\u4e00-\u9fff]", text)


def _title(lines: Sequence[OcrLine], preamble: Sequence[int]) -> Field | None:
    """The leaflet's title line: "XX片说明书" or an all-capitals product name above the first section."""
    for i in preamble:
        text = lines[i].text.strip()
        if text.endswith("说明书") and len(text) > 3:
            return make_field("drug_name", text.removesuffix("说明书").strip(), lines, [i])
        if len(text) > 4 and text.upper() == text and re.search(r"[A-Z]{4}", text) and "RX ONLY" not in text.upper():
            return make_field("drug_name", text, lines, [i])
    return None
