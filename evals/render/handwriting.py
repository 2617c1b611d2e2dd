"""Hard prescriptions with ground truth: handwritten ones (Chinese and English) and printed ones in the layouts
Chinese hospitals print.

Handwritten pages are a printed form (hospital, 处方笺 / Rx, field labels) filled in by hand: LXGW WenKai
(fonts-lxgw-wenkai) for Chinese, dkg handwriting (fonts-dkg-handwriting) for English, each glyph jittered on its
own (offset, size, rotation, spacing), every line slanted and wobbling along a wavy baseline, in blue or black ink,
the way doctors write ("5mg qd po", "1# tid 饭后", "×7天", "50μg 晨起空腹", "Sig: 1 tab po bid x10d"); a red
seal sometimes lies over the drug lines. The per-glyph jitter is written here rather than taken from `handright`,
which pins pillow<11 (this project needs pillow>=11). Printed pages cover the layouts the team's first renderer
did not: usage on its own line under the drug ("用法：5mg qd 口服"), a table with one column per usage part,
and two columns of drug blocks. Both then get the photo effects of `evals.render.degrade` and some are turned
90/180/270 degrees.

Drug names are real products and brands the knowledge base resolves (苯磺酸氨氯地平片, 络活喜, Norvasc, 优甲乐,
Synthroid, 来得时 ...), with strengths they are sold in. Truth, per page: the text lines in reading order, the
document type, header fields, and per medication its drug (INN), name as written, strength, dose, frequency code,
duration (days) and quantity.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from evals.render.degrade import degrade, encode
from evals.render.pages import DIAGNOSES, Canvas, _name, _stamp

HAND_ZH = Path("/usr/share/fonts/truetype/lxgw-wenkai")
HAND_EN = Path("/usr/share/fonts/truetype/fifthhorseman")
SUBSETS = ("handwriting_zh", "handwriting_en", "hospital_layouts")


@dataclass(frozen=True)
class RxDrug:
    """A product as doctors write it: names (generic product and brand) and the strengths it is sold in."""

    inn: str
    names_zh: tuple[str, ...]
    names_en: tuple[str, ...]
    strengths_zh: tuple[str, ...]
    strengths_en: tuple[str, ...]
    unit_zh: str  # 片 / 粒 / 支 / ml
    unit_en: str  # tab / cap / ...
    frequencies: tuple[str, ...]  # codes this drug is usually given at
    fixed_dose: str = ""  # a dose not derived from the strength (insulin units, syrup millilitres)
    route_zh: str = "口服"
    route_en: str = "po"


RX_DRUGS: tuple[RxDrug, ...] = (
    RxDrug("amlodipine", ("苯磺酸氨氯地平片", "络活喜"), ("Amlodipine", "Norvasc"), ("5mg", "10mg"), ("5mg", "10mg"),
           "片", "tab", ("qd",)),
    RxDrug("atorvastatin", ("阿托伐他汀钙片", "立普妥"), ("Atorvastatin", "Lipitor"), ("10mg", "20mg"),
           ("10mg", "20mg", "40mg"), "片", "tab", ("qn", "qd")),
    RxDrug("clopidogrel", ("硫酸氢氯吡格雷片", "波立维"), ("Clopidogrel", "Plavix"), ("75mg",), ("75mg",),
           "片", "tab", ("qd",)),
    RxDrug("metformin", ("盐酸二甲双胍片", "格华止"), ("Metformin", "Glucophage"), ("0.5g", "0.85g"),
           ("500mg", "850mg"), "片", "tab", ("bid", "tid")),
    RxDrug("nifedipine", ("硝苯地平控释片", "拜新同"), ("Nifedipine", "Adalat"), ("30mg",), ("30mg", "60mg"),
           "片", "tab", ("qd",)),
    RxDrug("levothyroxine", ("左甲状腺素钠片", "优甲乐"), ("Levothyroxine", "Synthroid"), ("50μg", "100μg"),
           ("50mcg", "100mcg"), "片", "tab", ("qd",)),
    RxDrug("metoprolol", ("酒石酸美托洛尔片", "倍他乐克"), ("Metoprolol", "Lopressor"), ("25mg", "50mg"),
           ("25mg", "50mg"), "片", "tab", ("bid",)),
    RxDrug("valsartan", ("缬沙坦胶囊", "代文"), ("Valsartan", "Diovan"), ("80mg",), ("80mg", "160mg"),
           "粒", "cap", ("qd",)),
    RxDrug("omeprazole", ("奥美拉唑肠溶胶囊", "洛赛克"), ("Omeprazole", "Prilosec"), ("20mg",), ("20mg",),
           "粒", "cap", ("qd", "bid")),
    RxDrug("rosuvastatin", ("瑞舒伐他汀钙片", "可定"), ("Rosuvastatin", "Crestor"), ("10mg",), ("10mg", "20mg"),
           "片", "tab", ("qn",)),
    RxDrug("losartan", ("氯沙坦钾片", "科素亚"), ("Losartan", "Cozaar"), ("50mg", "100mg"), ("50mg", "100mg"),
           "片", "tab", ("qd",)),
    RxDrug("furosemide", ("呋塞米片",), ("Furosemide", "Lasix"), ("20mg",), ("20mg", "40mg"), "片", "tab",
           ("qd",)),
    RxDrug("spironolactone", ("螺内酯片",), ("Spironolactone", "Aldactone"), ("20mg",), ("25mg",), "片", "tab",
           ("qd", "bid")),
    RxDrug("warfarin", ("华法林钠片",), ("Warfarin", "Coumadin"), ("2.5mg", "3mg"), ("5mg",), "片", "tab",
           ("qd",)),
    RxDrug("amoxicillin", ("阿莫西林胶囊",), ("Amoxicillin", "Amoxil"), ("0.25g",), ("500mg",), "粒", "cap",
           ("tid", "q8h")),
    RxDrug("insulin glargine", ("甘精胰岛素注射液", "来得时"), ("Insulin glargine", "Lantus"), (), (), "支", "pen",
           ("qn",), fixed_dose="12IU", route_zh="皮下注射", route_en="sc"),
    RxDrug("lactulose", ("乳果糖口服溶液", "杜密克"), ("Lactulose",), (), (), "瓶", "bottle", ("bid",),
           fixed_dose="15ml"),
    RxDrug("sertraline", ("盐酸舍曲林片", "左洛复"), ("Sertraline", "Zoloft"), ("50mg",), ("50mg",), "片", "tab",
           ("qd",)),
    RxDrug("aspirin", ("阿司匹林肠溶片", "拜阿司匹灵"), ("Aspirin",), ("100mg",), ("81mg",), "片", "tab", ("qd",)),
    RxDrug("nitroglycerin", ("硝酸甘油片",), ("Nitroglycerin",), ("0.5mg",), ("0.4mg",), "片", "tab", ("prn",),
           route_zh="舌下含服", route_en="SL"),
    RxDrug("ibuprofen", ("布洛芬缓释胶囊", "芬必得"), ("Ibuprofen", "Motrin"), ("0.3g",), ("400mg",), "粒", "tab",
           ("bid", "prn", "q8h")),
    RxDrug("lisinopril", ("赖诺普利片",), ("Lisinopril", "Zestril"), ("10mg",), ("10mg", "20mg"), "片", "tab",
           ("qd",)),
)  # fmt: skip

# How each frequency code is written by hand: (text, code). qhs and qn are both "at night" (code qn).
_WRITTEN_ZH = {
    "qd": ("qd", "qd", "每日一次", "Qd"),
    "bid": ("bid", "bid", "每日2次", "Bid"),
    "tid": ("tid", "tid", "每日三次"),
    "qn": ("qn", "qhs", "睡前"),
    "q8h": ("q8h",),
    "prn": ("prn", "必要时"),
}
_WRITTEN_EN = {
    "qd": ("qd", "daily", "once daily"),
    "bid": ("bid", "BID", "twice daily"),
    "tid": ("tid", "TID"),
    "qn": ("qhs", "at bedtime", "qn"),
    "q8h": ("q8h",),
    "prn": ("prn", "PRN"),
}
_TIMING_ZH = ("饭后", "饭前", "晨起空腹", "")


@dataclass(frozen=True)
class HardSpec:
    subset: str  # handwriting_zh | handwriting_en | hospital_layouts
    layout: str = "form"  # handwriting: form; hospital: usage_line | table | two_column
    degradation: str = "clean"  # clean | mild | hard
    rotation: int = 0
    number: int = 0  # its place in the full plan: the page's seed, the same in the quick slice

    @property
    def name(self) -> str:
        return f"{self.number:02d}_{self.subset}_{self.layout}_{self.degradation}_r{self.rotation}"


def plan(quick: bool = False) -> list[HardSpec]:
    """The evaluation set: 20 Chinese and 16 English handwritten pages, 18 printed hospital layouts (54 pages);
    `quick` keeps two of each subset."""
    degr = ("clean", "mild", "mild", "hard")
    specs: list[HardSpec] = []
    for i in range(20):
        rot = {6: 180, 13: 90, 17: 180}.get(i, 0)
        specs.append(HardSpec("handwriting_zh", "form", degr[i % 4], rot))
    for i in range(16):
        rot = {5: 180, 11: 270}.get(i, 0)
        specs.append(HardSpec("handwriting_en", "form", degr[i % 4], rot))
    layouts = ("usage_line", "table", "two_column")
    for i in range(18):
        rot = {7: 90, 14: 180}.get(i, 0)
        specs.append(HardSpec("hospital_layouts", layouts[i % 3], ("clean", "mild", "hard")[(i // 3) % 3], rot))
    specs = [HardSpec(s.subset, s.layout, s.degradation, s.rotation, n) for n, s in enumerate(specs)]
    if quick:
        picked: list[HardSpec] = []
        for subset in SUBSETS:
            picked += [s for s in specs if s.subset == subset and s.degradation != "hard" and not s.rotation][:2]
        return picked
    return specs


@cache
def _hand_font(lang: str, size: int, variant: int) -> ImageFont.FreeTypeFont:
    if lang == "zh":
        files = ("LXGWWenKai-Regular.ttf", "LXGWWenKai-Light.ttf", "LXGWWenKai-Bold.ttf")
        folder = HAND_ZH
    else:
        files = ("dkg.ttf", "dkgIt.ttf", "dkgBd.ttf")
        folder = HAND_EN
    path = folder / files[variant % len(files)]
    if not path.exists():
        raise RuntimeError(
            f"Handwriting font {path} is missing: install fonts-lxgw-wenkai and fonts-dkg-handwriting (make debian)."
        )
    return ImageFont.truetype(str(path), size)


class Hand:
    """One writer: a font, an ink, a slant and how unsteady the hand is, kept for the whole page."""

    def __init__(self, lang: str, rng: random.Random, size: int) -> None:
        self.rng = rng
        self.lang = lang
        self.size = size
        self.variant = rng.randrange(3)
        self.font = _hand_font(lang, size, self.variant)
        self.ink = rng.choice([(25, 35, 120), (20, 20, 25), (35, 45, 90)])
        self.slant = rng.uniform(-0.12, 0.28)  # shear: positive leans right, as most hands do
        self.wobble = rng.uniform(1.0, 3.5)  # baseline amplitude, px
        self.jitter = rng.uniform(0.8, 1.6)  # per-glyph scale of offsets and rotation

    def write(self, canvas: Canvas, xy: tuple[float, float], text: str, record: bool = True) -> float:
        """Write `text` with its baseline near xy; returns the x where the writing ended."""
        rng, size = self.rng, self.size
        pad = size
        width = int(self.font.getlength(text) * 1.15 + 2 * pad + 10)
        layer = Image.new("L", (width, size * 3), 0)
        x = float(pad)
        phase, period = rng.uniform(0, 6.28), rng.uniform(120, 260)
        for ch in text:
            advance = self.font.getlength(ch)
            if ch == " ":
                x += advance * rng.uniform(0.9, 1.5)
                continue
            scale = rng.uniform(0.9, 1.1)
            glyph_font = _hand_font(self.lang, max(8, round(size * scale)), self.variant)
            tile = Image.new("L", (size * 2, size * 2), 0)
            ImageDraw.Draw(tile).text((size * 0.5, size * 0.3), ch, font=glyph_font, fill=255)
            tile = tile.rotate(rng.uniform(-5, 5) * self.jitter, resample=Image.Resampling.BICUBIC)
            dy = self.wobble * math.sin(x / period * 6.28 + phase) + rng.uniform(-1.5, 1.5) * self.jitter
            layer.paste(255, (round(x - size * 0.5), round(size * 0.7 + dy - size * 0.3)), tile)
            x += advance * scale * rng.uniform(0.95, 1.1) + rng.uniform(-0.5, 1.5)
        # Slant the whole line about its baseline.
        base = size * 1.6
        layer = layer.transform(
            layer.size, Image.Transform.AFFINE, (1, self.slant, -self.slant * base, 0, 1, 0), Image.Resampling.BICUBIC
        )
        if rng.random() < 0.3:
            layer = layer.filter(ImageFilter.MaxFilter(3))  # a heavier pen
        ink = Image.new("RGB", layer.size, self.ink)
        left, top = round(xy[0] - pad), round(xy[1] - size * 0.7)
        canvas.img.paste(ink, (left, top), layer)
        canvas.draw = ImageDraw.Draw(canvas.img)
        if record:
            canvas.lines.append(text)
        return left + x + 4


def _amount(text: str) -> tuple[float, str]:
    import re

    m = re.match(r"(\d+(?:\.\d+)?)(.*)", text)
    assert m, text
    return float(m.group(1)), m.group(2)


def _fmt(amount: float) -> str:
    return f"{amount:g}"


def _prescribe(drug: RxDrug, lang: str, rng: random.Random, printed: bool = False) -> dict[str, Any]:
    """One medication as a doctor would order it, with its truth and the pieces the layouts write."""
    names = drug.names_zh if lang == "zh" else drug.names_en
    name = rng.choice(names)
    strengths = drug.strengths_zh if lang == "zh" else drug.strengths_en
    strength = rng.choice(strengths) if strengths else ""
    code = rng.choice(drug.frequencies)
    written = _WRITTEN_ZH if lang == "zh" else _WRITTEN_EN
    freq_text = written[code][0] if printed else rng.choice(written[code])
    if drug.fixed_dose:
        dose = drug.fixed_dose
        dose_written = dose if lang == "zh" or not dose.endswith("IU") else dose.replace("IU", " units")
        dose_truth = dose
    else:
        amount, unit = _amount(strength)
        tablets = rng.choice([1, 1, 2]) if code != "prn" else 1
        style = rng.choice(["amount", "amount", "count"])
        if style == "amount":
            dose_truth = f"{_fmt(amount * tablets)}{unit}"
            dose_written = dose_truth
        else:
            unit_word = drug.unit_zh if lang == "zh" else drug.unit_en
            dose_truth = f"{tablets}{unit_word}"
            if lang == "zh":
                dose_written = rng.choice([f"{tablets}#", f"{tablets}{unit_word}"]) if not printed else dose_truth
            else:
                dose_written = f"{tablets} {unit_word}" + ("s" if tablets > 1 else "")
    days = rng.choice([0, 7, 7, 14, 30]) if code != "prn" else 0
    per_day = {"qd": 1, "bid": 2, "tid": 3, "qn": 1, "q8h": 3, "prn": 1}[code]
    units_per_dose = 1 if drug.fixed_dose else max(1, int(_amount(dose_truth)[0] / _amount(strength)[0]))
    count = 1 if drug.fixed_dose else units_per_dose * per_day * (days or 14)
    unit_word = drug.unit_zh if lang == "zh" else drug.unit_en
    quantity = f"{count}{unit_word}" if lang == "zh" else str(count)
    return {
        "drug": drug.inn,
        "name": name,
        "strength": strength,
        "dose": dose_truth,
        "dose_written": dose_written,
        "route": drug.route_zh if lang == "zh" else drug.route_en,
        "frequency_text": freq_text,
        "frequency": code,
        "duration_days": days,
        "quantity": quantity,
        "timing": rng.choice(_TIMING_ZH) if lang == "zh" else rng.choice(["", "", "with meals"]),
    }


def _public(med: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in med.items() if k not in {"dose_written", "timing"}}


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2023, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _form_header_zh(c: Canvas, rng: random.Random, hand: Hand | None) -> dict[str, str]:
    """The printed 处方笺 header; values by hand when `hand` is given, else printed."""
    city = rng.choice(["江州", "临海", "云川", "青山", "北河", "东湖"])
    hospital = f"{city}市{rng.choice(['第一', '第二', '中心', '人民'])}医院"
    c.centred(50, hospital, c.font(38, bold=True))
    c.centred(108, "处方笺", c.font(32, bold=True))
    f = c.font(24)
    patient, sex, age = _name(rng), rng.choice(["男", "女"]), f"{rng.randint(18, 88)}岁"
    dept = rng.choice(["心内科", "内分泌科", "神经内科", "消化内科", "全科"])
    date = _date(rng)
    diagnosis = rng.choice(DIAGNOSES)
    values = {"patient_name": patient, "sex": sex, "age": age, "department": dept, "date": date}
    rows = [
        [("姓名：", patient, 60), ("性别：", sex, 400), ("年龄：", age, 680)],
        [("科别：", dept, 60), ("日期：", date, 560)],
        [("临床诊断：", diagnosis, 60)],
    ]
    y = 180
    for row in rows:
        parts = []
        for label, value, x in row:
            c.draw.text((x, y), label, font=f, fill=(20, 20, 20))
            vx = x + f.getlength(label) + 4
            if hand is not None:
                hand.write(c, (vx, y + 4), value, record=False)
            else:
                c.draw.text((vx, y), value, font=f, fill=(20, 20, 20))
            parts.append(label + value)
        c.lines.append(" ".join(parts))
        y += 52
    values["diagnosis"] = diagnosis
    values["hospital"] = hospital
    c.draw.line((50, 345, 950, 345), fill=(60, 60, 60), width=2)
    return values


def handwriting_zh(rng: random.Random) -> tuple[Canvas, dict[str, Any]]:
    c = Canvas(1000, 1300, rng)
    hand = Hand("zh", rng, rng.choice([30, 32, 34]))
    fields = _form_header_zh(c, rng, hand)
    c.text((60, 360), "Rp", c.font(34, bold=True))
    drugs = rng.sample(RX_DRUGS, rng.randint(2, 4))
    meds = [_prescribe(d, "zh", rng) for d in drugs]
    y: float = 440
    for med in meds:
        qty = med["quantity"]
        first = f"{med['name']} {med['strength']}×{qty}" if med["strength"] else f"{med['name']} ×{qty}"
        hand.write(c, (90 + rng.uniform(-10, 10), y), first)
        y += hand.size * 1.9
        usage_parts = [med["dose_written"], med["frequency_text"]]
        if rng.random() < 0.6:
            usage_parts.append(med["route"])
        if med["timing"]:
            usage_parts.append(med["timing"])
        if med["duration_days"]:
            usage_parts.append(f"×{med['duration_days']}天")
        lead = rng.choice(["Sig: ", "用法：", ""])
        hand.write(c, (140 + rng.uniform(-10, 10), y), lead + " ".join(usage_parts))
        y += hand.size * 2.4
    doctor = _name(rng)
    f = c.font(24)
    c.draw.text((560, y + 40), "医师：", font=f, fill=(20, 20, 20))
    hand.write(c, (560 + f.getlength("医师：") + 4, y + 44), doctor, record=False)
    c.lines.append(f"医师：{doctor}")
    fields["doctor"] = doctor
    if rng.random() < 0.6:  # the pharmacy's seal over the drug lines
        _stamp(c, rng.randint(350, 800), rng.randint(460, int(y)), rng.randint(55, 80))
    else:
        _stamp(c, 720, int(y) + 50, 70)
    return c, {"doc_type": "prescription", "fields": fields, "medications": [_public(m) for m in meds]}


def handwriting_en(rng: random.Random) -> tuple[Canvas, dict[str, Any]]:
    c = Canvas(1000, 1300, rng)
    hand = Hand("en", rng, rng.choice([36, 38, 40]))
    place = rng.choice(["Riverside", "Maple", "Northgate", "Lakeview"])
    clinic = f"{place} {rng.choice(['Family Clinic', 'Medical Group'])}"
    c.text((60, 50), clinic, c.font(36, bold=True))
    f = c.font(24)
    first = rng.choice(["John", "Mary", "Robert", "Linda", "James", "Susan", "Wei", "Ana"])
    last = rng.choice(["Smith", "Garcia", "Chen", "Johnson", "Brown", "Lee", "Miller"])
    patient, age, date = f"{first} {last}", str(rng.randint(20, 90)), _date(rng)
    parts = []
    for label, value, x, top in (("Name: ", patient, 60, 140), ("Age: ", age, 600, 140), ("Date: ", date, 60, 200)):
        c.draw.text((x, top), label, font=f, fill=(20, 20, 20))
        hand.write(c, (x + f.getlength(label) + 6, top + 6), value, record=False)
        parts.append(label + value)
    c.lines.append(f"{parts[0]} {parts[1]}")
    c.lines.append(parts[2])
    c.draw.line((50, 260, 950, 260), fill=(60, 60, 60), width=2)
    c.text((60, 280), "Rx", c.font(40, bold=True))
    drugs = rng.sample(RX_DRUGS, rng.randint(2, 4))
    meds = [_prescribe(d, "en", rng) for d in drugs]
    y = 370.0
    for med in meds:
        strength = f" {med['strength'].replace('mg', ' mg').replace('mcg', ' mcg')}" if med["strength"] else ""
        hand.write(c, (90, y), f"{med['name']}{strength} #{med['quantity']}")
        y += hand.size * 1.8
        sig = ["Sig:", med["dose_written"], med["route"], med["frequency_text"]]
        if med["timing"]:
            sig.append(med["timing"])
        if med["duration_days"]:
            sig.append(rng.choice([f"x{med['duration_days']}d", f"x {med['duration_days']} days"]))
        hand.write(c, (130, y), " ".join(sig))
        y += hand.size * 2.3
    doctor = f"Dr. {rng.choice(['Patel', 'Nguyen', 'Wilson', 'Kim', 'Rossi'])}"
    hand.write(c, (600, y + 40), doctor)
    fields = {"patient_name": patient, "age": age, "date": date}
    if rng.random() < 0.5:
        _stamp(c, rng.randint(400, 800), rng.randint(380, int(y)), rng.randint(50, 70))
    return c, {"doc_type": "prescription", "fields": fields, "medications": [_public(m) for m in meds]}


def _usage_zh(med: dict[str, Any]) -> str:
    parts = [med["dose"], med["frequency_text"], med["route"]]
    if med["timing"]:
        parts.append(med["timing"])
    if med["duration_days"]:
        parts.append(f"共{med['duration_days']}天")
    return "用法：" + " ".join(parts)


def hospital_layout(rng: random.Random, layout: str) -> tuple[Canvas, dict[str, Any]]:
    c = Canvas(1000, 1300, rng)
    fields = _form_header_zh(c, rng, None)
    c.text((60, 360), "Rp", c.font(34, bold=True))
    f = c.font(24)
    n = rng.randint(2, 4) if layout != "two_column" else rng.choice([2, 4])
    meds = [_prescribe(d, "zh", rng, printed=True) for d in rng.sample(RX_DRUGS, n)]
    y = 430
    if layout == "usage_line":
        for k, med in enumerate(meds, 1):
            head = f"{k}. {med['name']} {med['strength']}×{med['quantity']}".replace("  ", " ")
            c.text((70, y), head, f)
            c.text((110, y + 42), _usage_zh(med), f)
            y += 110
    elif layout == "two_column":
        for k in range(0, len(meds), 2):
            pair = meds[k : k + 2]
            for col, med in enumerate(pair):
                x = 70 + col * 460
                c.draw.text((x, y), f"{med['name']} {med['strength']}×{med['quantity']}", font=f, fill=(20, 20, 20))
                c.draw.text((x + 20, y + 42), _usage_zh(med), font=c.font(22), fill=(20, 20, 20))
            # Reading order: a whole block per drug (left column first), as the truth lists them.
            for med in pair:
                c.lines.append(f"{med['name']} {med['strength']}×{med['quantity']}")
                c.lines.append(_usage_zh(med))
            y += 120
    else:  # table: one column per usage part
        cols = [60, 330, 450, 540, 620, 700, 800, 950]
        header = ["药品名称", "规格", "单次量", "频次", "途径", "天数", "总量"]
        rows = [header]
        for med in meds:
            days = f"{med['duration_days']}天" if med["duration_days"] else ""
            rows.append([med["name"], med["strength"], med["dose"], med["frequency_text"], med["route"], days,
                         med["quantity"]])  # fmt: skip
        row_h = 54
        small = c.font(20)
        for r, cells in enumerate(rows):
            for k, cell in enumerate(cells):
                c.draw.text((cols[k] + 6, y + r * row_h + 15), cell, font=small, fill=(20, 20, 20))
            c.lines.append(" ".join(x for x in cells if x))
        for r in range(len(rows) + 1):
            c.draw.line((cols[0], y + r * row_h, cols[-1], y + r * row_h), fill=(90, 90, 90), width=1)
        for x in cols:
            c.draw.line((x, y, x, y + len(rows) * row_h), fill=(90, 90, 90), width=1)
        y += len(rows) * row_h
    doctor = _name(rng)
    c.text((560, y + 50), f"医师：{doctor}", f)
    fields["doctor"] = doctor
    _stamp(c, 200, int(y) + 60, 65)
    return c, {"doc_type": "prescription", "fields": fields, "medications": [_public(m) for m in meds]}


def render_hard(spec: HardSpec, seed: int) -> tuple[bytes, str, dict[str, Any]]:
    """Render one page of the set. Returns (encoded bytes, file extension, ground truth)."""
    rng = random.Random(seed)
    if spec.subset == "handwriting_zh":
        canvas, truth = handwriting_zh(rng)
    elif spec.subset == "handwriting_en":
        canvas, truth = handwriting_en(rng)
    else:
        canvas, truth = hospital_layout(rng, spec.layout)
    img, done, quality = degrade(canvas.img, spec.degradation, rng)
    if spec.rotation:
        img = img.rotate(-spec.rotation, expand=True)
    data, ext = encode(img, quality)
    truth.update(
        {
            "subset": spec.subset,
            "layout": spec.layout,
            "degradation": spec.degradation,
            "rotation": spec.rotation,
            "applied": done,
            "seed": seed,
            "lines": canvas.lines,
            "text": "\n".join(canvas.lines),
            "drugs": [{"ingredient": m["drug"], "name": m["name"]} for m in truth["medications"]],
        }
    )
    return data, ext, truth
