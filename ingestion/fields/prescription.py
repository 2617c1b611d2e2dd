"""Prescription fields: the header (hospital, patient name/sex/age, department, diagnosis, doctor, date) and
one `Medication` per medication row, with the dosing frequency normalised.

Frequencies are written many ways: Latin abbreviations (qd, bid, tid, qid, q8h, q12h, qn, prn), Chinese
(每日三次, 一日3次, 每日2次, 每晚一次, 必要时) and English label phrases (TWICE DAILY, EVERY 8 HOURS, AT BEDTIME).
`normalise_frequency` maps each to one code and the number of times per day it implies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingestion.document import Field, Medication
from ingestion.fields.text import STRENGTH, Row, make_field
from ingestion.ocr.base import OcrLine

_CN_NUM = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "1": 1,
    "2": 2,
    "3": 3,
    "4": 4,
    "5": 5,
    "6": 6,
}
_EN_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_CODE_FOR = {1: "qd", 2: "bid", 3: "tid", 4: "qid"}
_L, _R = r"(?<![A-Za-z])", r"(?![A-Za-z])"


@dataclass(frozen=True)
class Frequency:
    """A normalised dosing frequency. `times_per_day` is None for as-needed dosing."""

    code: str
    times_per_day: float | None
    text: str
    as_needed: bool = False
    at_night: bool = False


# Ordered: the more specific patterns first (q8h before qd; 每晚 before 每日).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(_L + r"(prn|p\.r\.n\.?)" + _R + r"|必要时|需要时|按需|as needed", re.I), "prn"),
    (
        re.compile(_L + r"(qn|q\.n\.|hs|h\.s\.)" + _R + r"|每晚(一次|1次)?|睡前(服用|服)?|at bedtime|nightly", re.I),
        "qn",
    ),
    (
        re.compile(
            _L + r"q\s*(\d{1,2})\s*h" + _R + r"|每\s*(\d{1,2})\s*小时(一次|1次)?|every\s*(\d{1,2})\s*hours?",
            re.I,
        ),
        "qNh",
    ),
    (re.compile(_L + r"(qod|q\.o\.d\.)" + _R + r"|隔日(一次|1次)|every other day", re.I), "qod"),
    (
        re.compile(_L + r"(qd|q\.d\.|od)" + _R + r"|once (a )?daily|once a day|" + _L + "daily" + _R, re.I),
        "qd",
    ),
    (re.compile(_L + r"(bid|b\.i\.d\.)" + _R + r"|twice (a )?daily|twice a day", re.I), "bid"),
    (re.compile(_L + r"(tid|t\.i\.d\.)" + _R + r"|three times (a )?da(il)?y", re.I), "tid"),
    (re.compile(_L + r"(qid|q\.i\.d\.)" + _R + r"|four times (a )?da(il)?y", re.I), "qid"),
    (re.compile(r"(每日|一日|每天|日)\s*([一二两三四五六1-6])\s*次"), "cn"),
    (re.compile(r"(one|two|three|four|[1-4])\s*times\s*(a|per)?\s*da(il)?y", re.I), "en"),
)


def normalise_frequency(text: str) -> Frequency | None:
    """The first dosing frequency written in `text`, normalised; None if there is none."""
    best: tuple[int, Frequency] | None = None
    for pattern, kind in _PATTERNS:
        m = pattern.search(text)
        if not m or (best is not None and m.start() >= best[0]):
            continue
        found = m.group(0)
        if kind == "prn":
            freq = Frequency("prn", None, found, as_needed=True)
        elif kind == "qn":
            freq = Frequency("qn", 1, found, at_night=True)
        elif kind == "qNh":
            hours = int(next(g for g in m.groups() if g and g.isdigit()))
            if hours == 0:
                continue
            freq = Frequency(f"q{hours}h", round(24 / hours, 2), found)
        elif kind == "qod":
            freq = Frequency("qod", 0.5, found)
        elif kind == "cn":
            n = _CN_NUM[m.group(2)]
            freq = Frequency(_CODE_FOR.get(n, f"{n}x/d"), n, found)
        elif kind == "en":
            n = _EN_NUM[m.group(1).lower()]
            freq = Frequency(_CODE_FOR.get(n, f"{n}x/d"), n, found)
        else:
            freq = Frequency(kind, {"qd": 1, "bid": 2, "tid": 3, "qid": 4}[kind], found)
        best = (m.start(), freq)
    return best[1] if best else None


_HEADER: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("patient_name", re.compile(r"姓\s*名\s*[:：]\s*([\u4e00-\u9fffA-Za-z·]{1,8})")),
    ("sex", re.compile(r"性\s*别\s*[:：]\s*([男女])")),
    ("age", re.compile(r"年\s*龄\s*[:：]\s*(\d{1,3}\s*[岁月天]?)")),
    ("department", re.compile(r"(?:科\s*别|科\s*室)\s*[:：]\s*([\u4e00-\u9fff]{2,8})")),
    ("date", re.compile(r"日\s*期\s*[:：]\s*(\d{4}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}\s*日?)")),
    ("diagnosis", re.compile(r"(?:临床诊断|诊\s*断)\s*[:：]\s*(.+)$")),
    ("doctor", re.compile(r"(?:医\s*师|医\s*生)\s*[:：]\s*([\u4e00-\u9fff]{2,4})")),
)
_DOCTOR_LABEL = re.compile(r"(?:处方)?(?:医\s*师|医\s*生)\s*(?:签名|签字)?\s*[:：]?")

ROUTE = re.compile(
    r"口服|舌下含服|含服|静脉滴注|静滴|静注|肌内注射|肌注|皮下注射|外用|吸入|雾化吸入|滴眼|"
    + _L
    + r"(po|p\.o\.|iv|im|ih|sc|inh)"
    + _R
    + r"|by mouth|orally",
    re.I,
)
_FORM = (
    r"(片|胶囊|颗粒|丸|散|口服液|注射液|注射剂|滴眼液|软膏|乳膏|栓|贴|喷雾剂|混悬液|糖浆|Tablets?|Capsules?|Injection)"
)
_NAME = re.compile(r"([\u4e00-\u9fff（）()A-Za-z]{2,20}?" + _FORM + r")")
_DOSE = re.compile(r"(?:一次|每次)?\s*(\d+(?:\.\d+)?\s*(?:mg|g|μg|µg|mcg|ug|ml|mL|片|粒|袋|支|滴|喷|U|IU))(?![A-Za-z])")
_QUANTITY = re.compile(r"(?:[×xX*]\s*)?(\d+\s*(?:片|粒|袋|支|瓶|盒|板))(?!\s*/)")
_DURATION = re.compile(r"共?\s*(\d+\s*(?:天|日|周))|[×xX]\s*(\d+)\s*d\b|for\s+(\d+\s+days?)", re.I)


def parse_header(lines: Sequence[OcrLine], rows: Sequence[Row]) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for row in rows:
        for index, text in zip(row.indices, row.cells, strict=True):
            for name, pattern in _HEADER:
                if name in fields:
                    continue
                m = pattern.search(text)
                if m:
                    fields[name] = make_field(name, m.group(1).strip(), lines, [index])
            if "hospital" not in fields and re.search(r"(医院|卫生院|诊所|卫生服务中心)$", text.strip()):
                fields["hospital"] = make_field("hospital", text.strip(), lines, [index])
    if "doctor" not in fields:  # "医师" printed as a label, the signature on the next line
        for i in range(len(lines) - 1):
            name = lines[i + 1].text.strip()
            if _DOCTOR_LABEL.fullmatch(lines[i].text.strip()) and re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name):
                fields["doctor"] = make_field("doctor", name, lines, [i + 1])
                break
    return fields


def parse_medication(row: Row, lines: Sequence[OcrLine]) -> Medication | None:
    """A medication from one table row (or one prescription line); None if the row is not one."""
    text = row.text
    freq = normalise_frequency(text)
    strength_m = STRENGTH.search(text)
    name_m = _NAME.search(row.cells[0]) or _NAME.search(text)
    if name_m is None or (freq is None and strength_m is None):
        return None
    name = name_m.group(1)
    cells = row.cells
    if len(cells) >= 3:
        # A table row: name | strength | quantity | usage (dose, route, frequency, duration).
        usage = cells[-1]
        middle = " ".join(cells[1:-1])
    else:
        after = text[text.find(name) + len(name) :] if name in text else text
        usage = after
        middle = after
    strength = strength_m.group(0).replace(" ", "") if strength_m else ""
    qty_m = _QUANTITY.search(middle)
    # Free text: the dose is what is left once the strength and the pack quantity are taken out.
    usage_left = usage
    if usage is middle:
        for m in (strength_m if strength_m and strength_m.group(0) in usage else None, qty_m):
            if m is not None:
                usage_left = usage_left.replace(m.group(0), " ", 1)
    dose_m = _DOSE.search(usage_left)
    route_m = ROUTE.search(text)
    dur_m = _DURATION.search(usage)
    duration = (dur_m.group(1) or (f"{dur_m.group(2)}d" if dur_m.group(2) else dur_m.group(3)) or "") if dur_m else ""
    indices = list(row.indices)
    return Medication(
        name=name,
        strength=strength,
        dose=dose_m.group(1).replace(" ", "") if dose_m else "",
        route=route_m.group(0) if route_m else "",
        frequency_text=freq.text if freq else "",
        frequency=freq.code if freq else "",
        times_per_day=freq.times_per_day if freq else None,
        as_needed=bool(freq and freq.as_needed),
        at_night=bool(freq and freq.at_night),
        duration=duration.replace(" ", ""),
        quantity=qty_m.group(1).replace(" ", "") if qty_m else "",
        confidence=min(lines[i].confidence for i in indices),
        boxes=tuple(lines[i].box for i in indices),
        line_indices=tuple(indices),
    )


def parse_prescription(lines: Sequence[OcrLine], rows: Sequence[Row]) -> tuple[dict[str, Field], list[Medication]]:
    fields = parse_header(lines, rows)
    meds = []
    for row in rows:
        if re.search(r"药品名称|用法用量|姓\s*名|诊\s*断|医\s*师", row.text):
            continue  # the table's header row and the prescription header are not medications
        med = parse_medication(row, lines)
        if med is not None:
            meds.append(med)
    return fields, meds
