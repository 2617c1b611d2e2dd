"""Page layouts: Chinese leaflets (【section】 style), US prescribing information, Chinese hospital
prescriptions (处方笺, with a table and a red stamp), Chinese drug boxes and US pharmacy labels.

Every page records its ground truth while it draws: the text lines in reading order, the fields, the
medication rows and the drugs on it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from evals.render.degrade import degrade, encode
from evals.render.sources import DRUGS, Drug, cmekg_rows, english_sections, terms

FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/wqy"))


@dataclass(frozen=True)
class PageSpec:
    kind: str  # leaflet_zh | leaflet_en | prescription | package | label
    columns: int = 1
    degradation: str = "clean"  # clean | mild | hard
    rotation: int = 0  # 0 | 90 | 180 | 270, clockwise, applied last

    @property
    def doc_type(self) -> str:
        return {"leaflet_zh": "leaflet", "leaflet_en": "leaflet"}.get(self.kind, self.kind)


# The first 16 entries are the committed fixture set; larger sets cycle through the plan.
PLAN: tuple[PageSpec, ...] = (
    PageSpec("leaflet_zh", 1, "clean"),
    PageSpec("leaflet_zh", 2, "clean"),
    PageSpec("leaflet_en", 1, "clean"),
    PageSpec("leaflet_en", 2, "mild"),
    PageSpec("prescription", 1, "clean"),
    PageSpec("prescription", 1, "mild"),
    PageSpec("package", 1, "clean"),
    PageSpec("label", 1, "mild"),
    PageSpec("leaflet_zh", 2, "mild"),
    PageSpec("leaflet_zh", 1, "hard"),
    PageSpec("leaflet_en", 1, "hard"),
    PageSpec("prescription", 1, "hard"),
    PageSpec("leaflet_zh", 1, "clean", 90),
    PageSpec("prescription", 1, "clean", 180),
    PageSpec("leaflet_en", 2, "clean", 270),
    PageSpec("package", 1, "mild", 90),
)


@cache
def font_files() -> tuple[tuple[str, int], ...]:
    """(path, index) of the Simplified-Chinese faces installed (Noto Sans/Serif CJK SC, WenQuanYi)."""
    found = []
    for d in FONT_DIRS:
        for path in sorted(d.glob("*.tt[cf]")):
            for index in range(8):
                try:
                    name = ImageFont.truetype(str(path), 20, index=index).getname()[0] or ""
                except OSError:
                    break
                if name.endswith(" SC") or "WenQuanYi" in name:
                    found.append((str(path), index))
    if not found:
        raise RuntimeError("No CJK font found: install fonts-noto-cjk and fonts-wqy-zenhei (make debian).")
    return tuple(found)


@cache
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


class Canvas:
    """A page being drawn and its ground-truth lines in reading order."""

    def __init__(self, width: int, height: int, rng: random.Random, background: tuple[int, int, int] = (255, 255, 255)):
        self.img = Image.new("RGB", (width, height), background)
        self.draw = ImageDraw.Draw(self.img)
        self.rng = rng
        faces = font_files()
        self.face = faces[rng.randrange(len(faces))]
        bold = [f for f in faces if "Bold" in f[0]]
        self.bold_face = bold[0] if bold else self.face
        self.lines: list[str] = []

    def font(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        path, index = self.bold_face if bold else self.face
        return _font(path, index, size)

    def wrap(
        self, text: str, font: ImageFont.FreeTypeFont, width: float, first_width: float | None = None
    ) -> list[str]:
        """Wrap at characters for CJK and at spaces for Latin words."""
        tokens = re.findall(r"[A-Za-z0-9.,;:%/()\[\]'\"+\-–—’‘“”&*®]+ ?|\s|.", text)
        lines: list[str] = []
        current = ""
        limit = first_width if first_width is not None else width
        for tok in tokens:
            if font.getlength(current + tok.rstrip()) <= limit or not current:
                current += tok
                continue
            lines.append(current.rstrip())
            current = tok.lstrip()
            limit = width
        if current.strip():
            lines.append(current.rstrip())
        return lines

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        font: ImageFont.FreeTypeFont,
        fill: tuple[int, int, int] = (20, 20, 20),
        record: bool = True,
    ) -> None:
        self.draw.text(xy, text, font=font, fill=fill)
        if record:
            self.lines.append(text)

    def centred(self, y: float, text: str, font: ImageFont.FreeTypeFont) -> None:
        """A line centred across the page (a hospital's name, 处方笺)."""
        self.text(((self.img.width - font.getlength(text)) / 2, y), text, font)

    def grid(
        self,
        table: list[list[str]],
        cols: list[int],
        top: int,
        row_h: int,
        size: int,
        pad: tuple[int, int] = (8, 14),
        rule: int = 1,
    ) -> int:
        """A ruled table, the title row in bold: each row's cells drawn at its column's left edge plus `pad`, each
        row one truth line; `cols` are the rules' x positions (one more than the columns). Returns its bottom."""
        for r, cells in enumerate(table):
            for k, cell in enumerate(cells):
                xy = (cols[k] + pad[0], top + r * row_h + pad[1])
                self.draw.text(xy, cell, font=self.font(size, bold=r == 0), fill=(20, 20, 20))
            self.lines.append(" ".join(cells))
        bottom = top + len(table) * row_h
        for r in range(len(table) + 1):
            self.draw.line((cols[0], top + r * row_h, cols[-1], top + r * row_h), fill=(90, 90, 90), width=rule)
        for x in cols:
            self.draw.line((x, top, x, bottom), fill=(90, 90, 90), width=rule)
        return bottom


@dataclass
class Truth:
    doc_type: str
    fields: dict[str, str] = field(default_factory=dict)
    medications: list[dict[str, Any]] = field(default_factory=list)
    drugs: list[dict[str, str]] = field(default_factory=list)


def _flow(
    canvas: Canvas, blocks: list[tuple[str, str, bool]], top: int, columns: int, size: int, margin: int = 60
) -> None:
    """Lay out (header, body, bold-header) blocks in one or two columns, recording lines in reading order.

    A header with a body on the same line ("【成份】...") is drawn inline; a heading alone is drawn on its own.
    """
    w, h = canvas.img.size
    gap = 50
    col_w = (w - 2 * margin - (columns - 1) * gap) / columns
    body_font = canvas.font(size)
    head_font = canvas.font(size, bold=True)
    step = int(size * 1.55)
    items: list[tuple[str, str]] = []  # (kind, text): kind "head" | "inline" | "body"
    for header, body, own_line in blocks:
        if own_line:
            items.append(("head", header))
            items += [("body", ln) for ln in canvas.wrap(body, body_font, col_w)]
        else:
            first = canvas.wrap(header + body, body_font, col_w)
            items.append(("inline", first[0]))
            items += [("body", ln) for ln in first[1:]]
    per_col = max(1, (h - top - margin) // step)
    if columns == 2:
        per_col = min(per_col, (len(items) + 1) // 2)
    for i, (kind, text) in enumerate(items[: per_col * columns]):
        col, row = divmod(i, per_col)
        x = margin + col * (col_w + gap)
        y = top + row * step
        if kind == "head":
            canvas.text((x, y), text, head_font)
        elif kind == "inline" and text.startswith("【"):
            header = text[: text.index("】") + 1]
            canvas.draw.text((x, y), header, font=head_font, fill=(20, 20, 20))
            canvas.draw.text(
                (x + head_font.getlength(header), y), text[len(header) :], font=body_font, fill=(20, 20, 20)
            )
            canvas.lines.append(text)
        else:
            canvas.text((x, y), text, body_font)


def _company(rng: random.Random) -> str:
    return rng.choice(["华康", "恒瑞达", "康宁", "济民", "瑞和", "安泰"]) + rng.choice(
        ["制药有限公司", "药业股份有限公司", "药业有限公司"]
    )


def _approval(rng: random.Random) -> str:
    return f"国药准字H{rng.randint(1990, 2023)}{rng.randint(0, 9999):04d}"


def _drug_truth(drug: Drug, text: str) -> dict[str, str]:
    return {"text": text, "ingredient": drug.inn}


def leaflet_zh(rng: random.Random, columns: int) -> tuple[Canvas, Truth]:
    rows = cmekg_rows()
    drug = rng.choice([d for d in DRUGS if d.inn in rows])
    row = rows[drug.inn]
    c = Canvas(1000, 1400, rng)
    title = f"{drug.product_zh}说明书"
    tf = c.font(36, bold=True)
    c.text(((1000 - tf.getlength(title)) / 2, 50), title, tf)
    approval, company = _approval(rng), _company(rng)
    ingredients = f"本品主要成份为{drug.zh}。"
    indications = "用于" + "、".join(terms(row["indications(适应症)"], 6)) + "。"
    adverse = "、".join(terms(row["adverse_reactions(不良反应)"], 10)) + "等。"
    contra = "、".join(terms(row["contraindications(禁忌)"], 5)) or f"对{drug.zh}过敏者禁用"
    interactions = "、".join(terms(row["interaction_mentions(药物相互作用)"], 5))
    dosage = (
        row["dosage(用法用量)"].split("|")[0].strip()
        or f"口服。一次{drug.usual_dose}，一日{drug.per_day}次，或遵医嘱。"
    )
    fields = {
        "drug_name": drug.product_zh,  # under 【药品名称】 the 通用名称 is the product's name
        "generic_name": drug.product_zh,
        "english_name": drug.product_en,
        "ingredients": ingredients,
        "indications": indications,
        "strength": drug.strength,
        "dosage": dosage,
        "adverse_reactions": adverse,
        "contraindications": contra + ("。" if not contra.endswith("。") else ""),
        "interactions": (f"与{interactions}合用时应注意。" if interactions else "尚不明确。"),
        "storage": "遮光，密封保存。",
        "approval_number": approval,
        "manufacturer": company,
    }
    blocks = [
        ("【药品名称】", "", True),
        ("通用名称：", drug.product_zh, False),
        ("英文名称：", drug.product_en, False),
        ("【成份】", fields["ingredients"], False),
        ("【适应症】", fields["indications"], False),
        ("【规格】", fields["strength"], False),
        ("【用法用量】", fields["dosage"], False),
        ("【不良反应】", fields["adverse_reactions"], False),
        ("【禁忌】", fields["contraindications"], False),
        ("【药物相互作用】", fields["interactions"], False),
        ("【贮藏】", fields["storage"], False),
        ("【批准文号】", fields["approval_number"], False),
        ("【生产企业】", fields["manufacturer"], False),
    ]
    blocks = [(h, b, own) for h, b, own in blocks]
    _flow(c, blocks, 130, columns, 24 if columns == 1 else 22)
    truth = Truth("leaflet", fields, drugs=[_drug_truth(drug, drug.zh)])
    return c, truth


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("; "))
    return cut[: end + 1] if end > limit // 2 else cut[: cut.rfind(" ")] + "."


EN_FIELDS = {
    "INDICATIONS AND USAGE": "indications",
    "DOSAGE AND ADMINISTRATION": "dosage",
    "CONTRAINDICATIONS": "contraindications",
    "WARNINGS AND PRECAUTIONS": "warnings",
    "ADVERSE REACTIONS": "adverse_reactions",
    "DRUG INTERACTIONS": "interactions",
}


def leaflet_en(rng: random.Random, columns: int) -> tuple[Canvas, Truth]:
    sections = english_sections()
    drug = rng.choice([d for d in DRUGS if len(sections.get(d.inn, {})) >= 4])
    c = Canvas(1100, 1500, rng)
    title = drug.product_en.upper()
    tf = c.font(32, bold=True)
    c.text((60, 50), title, tf)
    c.text((60, 100), "Rx only", c.font(22))
    fields: dict[str, str] = {"drug_name": title}
    blocks = []
    limit = 300 if columns == 1 else 240
    for number, (heading, name) in enumerate(EN_FIELDS.items(), start=1):
        text = sections[drug.inn].get(heading)
        if not text:
            continue
        body = _cut(text, limit)
        fields[name] = body
        blocks.append((f"{number} {heading}", body, True))
    _flow(c, blocks, 150, columns, 21 if columns == 1 else 20)
    return c, Truth("leaflet", fields, drugs=[_drug_truth(drug, drug.inn)])


FREQUENCIES: tuple[tuple[str, str, float | None], ...] = (
    ("每日一次", "qd", 1),
    ("一日1次", "qd", 1),
    ("每日两次", "bid", 2),
    ("每日2次", "bid", 2),
    ("一日3次", "tid", 3),
    ("每日三次", "tid", 3),
    ("一日四次", "qid", 4),
    ("qd", "qd", 1),
    ("bid", "bid", 2),
    ("tid", "tid", 3),
    ("qid", "qid", 4),
    ("q8h", "q8h", 3),
    ("q12h", "q12h", 2),
    ("qn", "qn", 1),
    ("每晚一次", "qn", 1),
    ("prn", "prn", None),
    ("必要时", "prn", None),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "秀英",
    "建华",
    "志强",
]
DIAGNOSES = [
    "原发性高血压",
    "2型糖尿病",
    "急性上呼吸道感染",
    "高脂血症",
    "冠心病",
    "胃食管反流病",
    "过敏性鼻炎",
    "社区获得性肺炎",
]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _stamp(canvas: Canvas, cx: int, cy: int, r: int) -> None:
    """A translucent red seal over the text, as hospitals stamp prescriptions."""
    overlay = Image.new("RGBA", canvas.img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(overlay)
    red = (210, 30, 40, 150)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=5)
    d.ellipse((cx - r + 9, cy - r + 9, cx + r - 9, cy + r - 9), outline=red, width=2)
    s = r * 0.35
    pts = []
    import math

    for k in range(10):
        rad = s if k % 2 == 0 else s * 0.4
        a = -math.pi / 2 + k * math.pi / 5
        pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
    d.polygon(pts, fill=red)
    canvas.img = Image.alpha_composite(canvas.img.convert("RGBA"), overlay).convert("RGB")
    canvas.draw = ImageDraw.Draw(canvas.img)


def prescription(rng: random.Random, columns: int) -> tuple[Canvas, Truth]:
    c = Canvas(1000, 1300, rng)
    hospital = f"{rng.choice(['江州', '临海', '云川', '青山', '北河'])}市第{rng.choice('一二三四五六')}人民医院"
    c.centred(50, hospital, c.font(38, bold=True))
    c.centred(110, "处方笺", c.font(34, bold=True))
    f = c.font(24)
    patient, sex, age = _name(rng), rng.choice(["男", "女"]), f"{rng.randint(18, 86)}岁"
    dept = rng.choice(["心内科", "内分泌科", "呼吸内科", "消化内科", "全科"])
    date = f"{rng.randint(2022, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    diagnosis = rng.choice(DIAGNOSES)
    doctor = _name(rng)
    row1 = [f"姓名：{patient}", f"性别：{sex}", f"年龄：{age}"]
    row2 = [f"科别：{dept}", f"日期：{date}"]
    for y, cells in ((190, row1), (240, row2)):
        xs = [60, 420, 720][: len(cells)] if len(cells) == 3 else [60, 560]
        for x, cell in zip(xs, cells, strict=True):
            c.draw.text((x, y), cell, font=f, fill=(20, 20, 20))
        c.lines.append(" ".join(cells))
    c.text((60, 290), f"临床诊断：{diagnosis}", f)
    c.draw.line((50, 340, 950, 340), fill=(60, 60, 60), width=2)
    c.text((60, 355), "Rp", c.font(34, bold=True))
    # The medication table: a header row and one row per medication, with grid lines.
    cols = [60, 360, 540, 640, 950]
    header = ["药品名称", "规格", "数量", "用法用量"]
    top = 410
    row_h = 56
    drugs = rng.sample(list(DRUGS), rng.randint(2, 4))
    meds: list[dict[str, Any]] = []
    table_rows: list[list[str]] = [header]
    for drug in drugs:
        freq_text, freq, per_day = rng.choice(FREQUENCIES)
        route = rng.choice(["口服", "口服", "po"])
        count = rng.choice([7, 14, 28])
        strength = drug.strength
        quantity = f"{count}{drug.unit_form}"
        dose = rng.choice([drug.usual_dose, f"1{drug.unit_form}"])
        duration = rng.choice(["", "", "7天", "14天"])
        usage = f"{dose} {route} {freq_text}" + (f" 共{duration}" if duration else "")
        table_rows.append([drug.product_zh, strength, quantity, usage])
        meds.append(
            {
                "name": drug.product_zh,
                "strength": strength,
                "dose": dose,
                "route": route,
                "frequency_text": freq_text,
                "frequency": freq,
                "times_per_day": per_day,
                "duration": duration,
                "quantity": quantity,
            }
        )
    for r, cells in enumerate(table_rows):
        y = top + r * row_h
        for k, cell in enumerate(cells):
            font = c.font(22, bold=(r == 0))
            c.draw.text((cols[k] + 8, y + 14), cell, font=font, fill=(20, 20, 20))
        c.lines.append(" ".join(cells))
    bottom = top + len(table_rows) * row_h
    for r in range(len(table_rows) + 1):
        c.draw.line((cols[0], top + r * row_h, cols[-1], top + r * row_h), fill=(90, 90, 90), width=1)
    for x in cols:
        c.draw.line((x, top, x, bottom), fill=(90, 90, 90), width=1)
    fee = f"金额：{rng.randint(20, 300)}.{rng.randint(0, 99):02d}元"
    y = bottom + 60
    c.draw.text((60, y), f"医师：{doctor}", font=f, fill=(20, 20, 20))
    c.draw.text((560, y), fee, font=f, fill=(20, 20, 20))
    c.lines.append(f"医师：{doctor} {fee}")
    _stamp(c, 190, y + 15, 70)
    fields = {
        "hospital": hospital,
        "patient_name": patient,
        "sex": sex,
        "age": age,
        "department": dept,
        "date": date,
        "diagnosis": diagnosis,
        "doctor": doctor,
    }
    return c, Truth("prescription", fields, meds, [_drug_truth(d, d.zh) for d in drugs])


def package(rng: random.Random, columns: int) -> tuple[Canvas, Truth]:
    drug = rng.choice(DRUGS)
    c = Canvas(1000, 640, rng, background=(250, 250, 246))
    band = rng.choice([(0, 120, 110), (30, 80, 160), (170, 40, 50), (230, 150, 20)])
    c.draw.rectangle((0, 0, 1000, 40), fill=band)
    c.draw.rectangle((0, 600, 1000, 640), fill=band)
    rx = rng.choice(["处方药", "OTC"])
    c.text((60, 70), rx, c.font(26, bold=True))
    name_font = c.font(56, bold=True)
    c.text((60, 130), drug.product_zh, name_font)
    c.text((60, 215), drug.product_en, c.font(28))
    count = rng.choice([12, 24, 28, 30, 48])
    strength_line = f"规格：{drug.strength}"
    qty = f"{count}{drug.unit_form}/盒"
    f = c.font(30)
    c.draw.text((60, 290), strength_line, font=f, fill=(20, 20, 20))
    c.draw.text((560, 290), qty, font=f, fill=(20, 20, 20))
    c.lines.append(f"{strength_line} {qty}")
    approval, company = _approval(rng), _company(rng)
    c.text((60, 420), approval, c.font(24))
    c.text((60, 470), company, c.font(26))
    fields = {
        "drug_name": drug.product_zh,
        "english_name": drug.product_en,
        "strength": drug.strength,
        "quantity": qty,
        "approval_number": approval,
        "manufacturer": company,
    }
    return c, Truth("package", fields, drugs=[_drug_truth(drug, drug.zh)])


EN_FREQ: tuple[tuple[str, str, float | None], ...] = (
    ("ONCE DAILY", "qd", 1),
    ("TWICE DAILY", "bid", 2),
    ("THREE TIMES DAILY", "tid", 3),
    ("EVERY 8 HOURS", "q8h", 3),
    ("EVERY 12 HOURS", "q12h", 2),
    ("AT BEDTIME", "qn", 1),
    ("AS NEEDED FOR PAIN", "prn", None),
)


def label(rng: random.Random, columns: int) -> tuple[Canvas, Truth]:
    drug = rng.choice(DRUGS)
    c = Canvas(1000, 560, rng, background=(255, 255, 250))
    pharmacy = rng.choice(["RIVERSIDE PHARMACY", "MAPLE STREET PHARMACY", "GREENFIELD DRUG"])
    c.draw.rectangle((0, 0, 1000, 70), fill=(20, 60, 130))
    c.text((40, 18), pharmacy, c.font(30, bold=True), fill=(255, 255, 255))
    f = c.font(26)
    rx = f"Rx# {rng.randint(1000000, 9999999)}"
    date = f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(2022, 2025)}"
    patient = rng.choice(["JOHN SMITH", "MARIA GARCIA", "LI WEI", "EMILY CHEN", "JAMES BROWN"])
    doctor = "DR. " + rng.choice(["A. PATEL", "S. KIM", "R. JONES", "M. LOPEZ"])
    strength = (
        drug.strength.replace("mg", " MG").replace("g", " G")
        if "mg" in drug.strength
        else drug.strength.replace("g", " G")
    )
    name_line = f"{drug.product_en.upper()} {strength}"
    freq_text, freq, per_day = rng.choice(EN_FREQ)
    directions = f"TAKE 1 {'CAPSULE' if drug.unit_form == '粒' else 'TABLET'} BY MOUTH {freq_text}"
    qty = f"QTY: {rng.choice([30, 60, 90])}"
    refills = f"REFILLS: {rng.randint(0, 3)}"
    for x, y, text in ((40, 95, rx), (600, 95, f"DATE: {date}")):
        c.draw.text((x, y), text, font=f, fill=(20, 20, 20))
    c.lines.append(f"{rx} DATE: {date}")
    c.text((40, 145), patient, c.font(30, bold=True))
    c.text((40, 205), name_line, c.font(28, bold=True))
    c.text((40, 265), directions, f)
    for x, y, text in ((40, 335, qty), (600, 335, refills)):
        c.draw.text((x, y), text, font=f, fill=(20, 20, 20))
    c.lines.append(f"{qty} {refills}")
    c.text((40, 395), f"PRESCRIBER: {doctor}", f)
    c.text((40, 455), "Rx only. Keep out of reach of children.", c.font(22))
    fields = {
        "pharmacy": pharmacy,
        "patient_name": patient,
        "drug_name": name_line,
        "strength": drug.strength.upper(),  # printed inside the name line
        "directions": directions,
        "quantity": qty.split(": ")[1],
        "doctor": doctor,
        "date": date,
    }
    med = {
        "name": drug.product_en.upper(),
        "strength": strength,
        "dose": "1",
        "route": "BY MOUTH",
        "frequency_text": freq_text,
        "frequency": freq,
        "times_per_day": per_day,
        "duration": "",
        "quantity": qty.split(": ")[1],
    }
    return c, Truth("label", fields, [med], [_drug_truth(drug, drug.inn)])


BUILDERS = {
    "leaflet_zh": leaflet_zh,
    "leaflet_en": leaflet_en,
    "prescription": prescription,
    "package": package,
    "label": label,
}


def render_page(spec: PageSpec, seed: int) -> tuple[bytes, str, dict[str, Any]]:
    """Render one page. Returns (encoded bytes, file extension, ground truth)."""
    rng = random.Random(seed)
    canvas, truth = BUILDERS[spec.kind](rng, spec.columns)
    img, done, quality = degrade(canvas.img, spec.degradation, rng)
    if spec.rotation:
        img = img.rotate(-spec.rotation, expand=True)  # Pillow rotates counter-clockwise
    data, ext = encode(img, quality)
    gt = {
        "kind": spec.kind,
        "doc_type": truth.doc_type,
        "columns": spec.columns,
        "degradation": spec.degradation,
        "rotation": spec.rotation,
        "applied": done,
        "seed": seed,
        "width": img.width,
        "height": img.height,
        "font": Path(canvas.face[0]).name,
        "lines": canvas.lines,
        "text": "\n".join(canvas.lines),
        "fields": truth.fields,
        "medications": truth.medications,
        "drugs": truth.drugs,
    }
    return data, ext, gt
