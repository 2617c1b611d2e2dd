"""Prescription fields: the header (hospital, patient name/sex/age, department, diagnosis, doctor, date) and
one `Medication` per medication row, with the dosing frequency normalised.

Frequencies are written many ways: Latin abbreviations (qd, bid, tid, qid, q8h, q12h, qn, prn), Chinese
(每日三次, 一日3次, 每日2次, 每晚一次, 必要时) and English label phrases (TWICE DAILY, EVERY 8 HOURS, AT BEDTIME).
`normalise_frequency` maps each to one code and the number of times per day it implies.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

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
    repaired: bool = False  # read from a misread form ("9hs" for "qhs"): to be confirmed


# Ordered: the more specific patterns first (q8h before qd; 每晚 before 每日).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(_L + r"(prn|p\.r\.n\.?)" + _R + r"|必要时|需要时|按需|as needed", re.I), "prn"),
    (
        re.compile(
            _L + r"(qn|q\.n\.|qhs|hs|h\.s\.)" + _R + r"|每晚(一次|1次)?|睡前(服用|服)?|at bedtime|nightly", re.I
        ),
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


# Handwritten q read as 9 ("9hs", "9d", "98h") or as a where no word is made ("ahs", "a8h"; not "an", "ad"): the
# Latin code is taken with the letter put back, and the frequency is marked `repaired` so that the row is shown to
# the user to confirm.
_Q_AS_9 = re.compile(r"(?<![\w.×])(?:9(hs|n|d|od|\d{1,2}h)|a(hs|\d{1,2}h))(?![A-Za-z0-9])")


# Handwritten frequency words with one letter misread ("dzily", "dily", "onfe daily"): put back, and marked
# `repaired` like the q read as 9.
_FREQUENCY_WORDS = ("daily", "twice", "once", "nightly", "bedtime", "needed")
_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{4,8}(?![A-Za-z])")


def _word_put_back(m: re.Match[str]) -> str:
    word = m.group(0).lower()
    if word in _FREQUENCY_WORDS:
        return m.group(0)
    near = [w for w in _FREQUENCY_WORDS if Levenshtein.distance(word, w) == 1]
    return near[0] if len(near) == 1 else m.group(0)


def repaired_frequency(text: str) -> str:
    """`text` with a handwritten q the recogniser read as 9 put back ("9hs" -> "qhs"), and frequency words it
    misread by one letter ("dzily" -> "daily"); unchanged otherwise."""
    return _WORD.sub(_word_put_back, _Q_AS_9.sub(lambda m: "q" + (m.group(1) or m.group(2)), text))


def normalise_frequency(text: str) -> Frequency | None:
    """The first dosing frequency written in `text`, normalised; None if there is none."""
    found = _normalise_frequency(text)
    if found is None:
        repaired = repaired_frequency(text)
        found = _normalise_frequency(repaired) if repaired != text else None
        if found is not None:
            written = found.text.replace("q", "9", 1)  # the same length: the text as it stands on the page
            text_read = written if written in text else found.text
            found = Frequency(found.code, found.times_per_day, text_read, found.as_needed, found.at_night, True)
    return found


def _normalise_frequency(text: str) -> Frequency | None:
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
    # OCR often drops the gap before the next label ("姓名：王芳性别：女"): the name stops at it.
    (
        "patient_name",
        re.compile(
            r"姓\s*名\s*[:：]\s*([\u4e00-\u9fffA-Za-z·]{1,8}?)"
            r"(?=\s*(?:性\s*别|年\s*龄|科\s*[别室]|日\s*期|床\s*号|费\s*别|门\s*诊号)|[^\u4e00-\u9fffA-Za-z·]|$)"
        ),
    ),
    ("sex", re.compile(r"性\s*别\s*[:：]\s*([男女])")),
    ("age", re.compile(r"年\s*龄\s*[:：]\s*(\d{1,3}\s*[岁月天]?)")),
    ("department", re.compile(r"(?:科\s*别|科\s*室)\s*[:：]\s*([\u4e00-\u9fff]{2,8})")),
    ("date", re.compile(r"日\s*期\s*[:：]\s*(\d{4}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}\s*日?)")),
    ("diagnosis", re.compile(r"(?:临床诊断|诊\s*断)\s*[:：]\s*(.+)$")),
    ("doctor", re.compile(r"(?:医\s*师|医\s*生)\s*[:：]\s*([\u4e00-\u9fff]{2,4})")),
    # An English prescription pad: "Name: Ana Garcia  Age: 80", "Date: 2023-07-03".
    ("patient_name", re.compile(r"\bName\s*[:：;]\s*([A-Za-z][A-Za-z.' -]{1,40}?)(?=\s+Age\b|\s*$)")),
    ("age", re.compile(r"\bAge\s*[:：;]\s*(\d{1,3})\b")),
    ("date", re.compile(r"\bDate\s*[:：;]\s*(\d{4}\s*-\s*\d{1,2}\s*-\s*\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4})")),
)
_DOCTOR_LABEL = re.compile(r"(?:处方)?(?:医\s*师|医\s*生)\s*(?:签名|签字)?\s*[:：]?")

ROUTE = re.compile(
    r"口服|舌下含服|含服|静脉滴注|静滴|静注|肌内注射|肌注|皮下注射|外用|吸入|雾化吸入|滴眼|"
    + _L
    + r"(po|p\.o\.|iv|im|ih|sc|inh|SL)"
    + _R
    + r"|by mouth|orally|sublingual",
    re.I,
)
_FORM = (
    r"(片|胶囊|颗粒|丸|散|口服液|口服溶液|注射液|注射剂|滴眼液|软膏|乳膏|栓|贴|喷雾剂|混悬液|糖浆|"
    r"Tablets?|Capsules?|Injection)"
)
_NAME = re.compile(r"([\u4e00-\u9fff（）()A-Za-z]{2,20}?" + _FORM + r")")
_DOSE = re.compile(
    r"(?:一次|每次)?\s*(\d+(?:\.\d+)?\s*(?:(?:mg|g|μg|µg|mcg|ug|ml|mL|片|粒|袋|支|滴|喷|IU|U|units?|tabs?|caps?)"
    r"(?![A-Za-z])|#))",
    re.I,
)
_QUANTITY = re.compile(r"(?:[×xX*]\s*)?(\d+\s*(?:片|粒|袋|支|瓶|盒|板))(?!\s*/)")
_PACK = re.compile(r"(?:[×xX*]\s*(\d+\s*(?:片|粒|袋|支|瓶|盒|板)?)|#\s*(\d+))(?!\s*/)")  # ×28片, #30
_DURATION = re.compile(r"共?\s*(\d+\s*(?:天|日|周))|[×xX]\s*(\d+)\s*(?:d|days?)\b|for\s+(\d+\s+days?)", re.I)
# "5mgqd": OCR drops the space between a dose and the Latin code after it, which hides both.
_GLUED = re.compile(
    r"(\d(?:mg|g|mcg|μg|µg|ug|ml|iu|u|片|粒|#))(?=(?:q\d{1,2}h|qd|bid|tid|qid|qn|qhs|qod|prn|po|sl|sc|iv|im)(?![A-Za-z]))",
    re.I,
)
_IU_MISREAD = re.compile(r"(\d)\s*[|lI]U\b")  # "12|U": IU with its I read as a bar
_IU_AS_1U = re.compile(r"(?<![\d.])(\d+)1U\b")  # "121U": 12 IU with its I read as a 1
MAX_UNITS_PER_DOSE = 100  # insulin and heparin doses in units: more at once is a misread ("121U" for "12IU")


def repaired_units(usage: str) -> tuple[str, bool]:
    """Usage text with IU put right where the recogniser read its I as a bar or a 1 ("12|U", "121U": 12 IU; a
    "1U" is taken for IU only where the number it would make is more units than anyone injects at once), and
    whether a 1 was taken for an I (a guess the user confirms)."""
    usage = _IU_MISREAD.sub(r"\1IU", usage)
    guessed = False

    def as_iu(m: re.Match[str]) -> str:
        nonlocal guessed
        if int(m.group(1) + "1") <= MAX_UNITS_PER_DOSE:
            return m.group(0)
        guessed = True
        return f"{m.group(1)}IU"

    return _IU_AS_1U.sub(as_iu, usage), guessed


# "Sig:" as handwriting gets read: "Sia:", "Sis", "eSig", "Sig400mg".
_USAGE_LABEL = re.compile(r"^\s*(?:用\s*法(?:用量)?\s*[:：;.]|[a-z]?Si[gas](?![A-Za-z])\s*[:：;.]?|S\s*[:：])\s*", re.I)
# Handwritten amounts as the recogniser reads them: o for 0 ("2omg", "1oo mg"), "ma"/"mq"/"m9" for mg, "mca" for
# mcg.
_O_IN_NUMBER = re.compile(
    r"(?<![A-Za-z])(?:\d[\do]*|o\d[\do]*)(?=\s*(?:mg|mcg|m\s?[aq]|m9(?!\d)|mc[aq]|ml)(?![A-Za-z]))", re.I
)
_MCG_READ = re.compile(r"(?<=\d)\s*mc[aq](?![A-Za-z])", re.I)
_MG_READ = re.compile(r"(?<=\d)\s*(?:m\s?[aq]|m9(?!\d))(?![A-Za-z])", re.I)


def repaired_amounts(text: str) -> str:
    """Latin amounts with the recogniser's usual handwriting misreads put right ("2omg" -> "20mg", "81 ma" ->
    "81mg", "50 mca" -> "50mcg"); the strength check (`ingestion.confirmation`) still vets the result."""
    text = _O_IN_NUMBER.sub(lambda m: m.group(0).replace("o", "0").replace("O", "0"), text)
    return _MG_READ.sub("mg", _MCG_READ.sub("mcg", text))


_SKIP = re.compile(r"药品名称|用法用量|姓\s*名|诊\s*断|医\s*师|\bName\s*[:：]|\bDate\s*[:：]")

# Column titles of a prescription's medication table and the part of a medication each holds.
_COLUMN_TITLES: tuple[tuple[str, str], ...] = (
    ("药品名称|名称|药品", "name"),
    ("规格", "strength"),
    ("单次量|单次剂量|用量|剂量", "dose"),
    ("频次|频率|次数", "frequency"),
    ("途径|给药途径|用法$", "route"),
    ("天数|疗程", "duration"),
    ("数量|总量", "quantity"),
    ("用法用量|用法及用量", "usage"),
)

_HEAD = re.compile(
    r"^\s*(?:\d{1,2}\s*[.、)]\s*)?([A-Za-z\u4e00-\u9fff][A-Za-z\u4e00-\u9fff./ -]{1,24}?)\s*"
    r"[\do]*\d[\do]*(?:\.\d+)?\s*(?:mg|g|mcg|μg|µg|ug|ml|IU|m\s?[aq]|m9(?!\d)|mc[aq])(?![A-Za-z])",
    re.I,
)
_NOT_A_NAME = re.compile(r"每次|一次|每日|规格|剂量|用量|金额|合计|^(?:Take|Each|Dose|Disp|Qty)\b", re.I)

NameFinder = Callable[[str], Sequence[tuple[int, int]]]
"""Where drug names stand in a text: [start, end) spans (the lexicon's mentions, see `ingestion.pipeline`)."""


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
    for i, line in enumerate(lines):  # a printed label with its value handwritten beside it, read as two lines
        m = _PAD_LABEL.fullmatch(line.text.strip())
        if m is None or _PAD_FIELDS[m.group(1).lower()] in fields:
            continue
        name = _PAD_FIELDS[m.group(1).lower()]
        value = _beside(lines, i)
        if value is not None and _PAD_VALUE[name].fullmatch(lines[value].text.strip()):
            fields[name] = make_field(name, lines[value].text.strip(), lines, [value])
    if "doctor" not in fields:  # "医师" printed as a label, the signature on the next line
        for i in range(len(lines) - 1):
            name = lines[i + 1].text.strip()
            if _DOCTOR_LABEL.fullmatch(lines[i].text.strip()) and re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name):
                fields["doctor"] = make_field("doctor", name, lines, [i + 1])
                break
    return fields


_PAD_LABEL = re.compile(r"(Name|Age|Date)\s*[:：;]?", re.I)
_PAD_FIELDS = {"name": "patient_name", "age": "age", "date": "date"}
_PAD_VALUE = {
    "patient_name": re.compile(r"[A-Za-z][A-Za-z.' -]{1,40}"),
    "age": re.compile(r"\d{1,3}"),
    "date": re.compile(r"\d{4}\s*-\s*\d{1,2}\s*-\s*\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}"),
}


def _beside(lines: Sequence[OcrLine], label: int) -> int | None:
    """The line written just right of a label line, on its level (its box overlaps the label's height)."""
    _x0, y0, x1, y1 = lines[label].bbox
    best: tuple[float, int] | None = None
    for k, other in enumerate(lines):
        a0, b0, _a1, b1 = other.bbox
        overlap = min(y1 + (y1 - y0), b1) - max(y0, b0)
        if k == label or a0 < x1 - 5 or overlap <= 0 or a0 - x1 > 6 * (y1 - y0):
            continue
        if best is None or a0 < best[0]:
            best = (a0, k)
    return best[1] if best else None


def _name_in(text: str, find_names: NameFinder | None) -> str | None:
    """The drug name a cell starts a medication with: a product name with its form (苯磺酸氨氯地平片), else the
    name the lexicon finds (络活喜, Prilosec, Insulin glargine)."""
    m = _NAME.search(text)
    spans = list(find_names(text)) if find_names is not None else []
    if m and (not spans or any(m.start() <= a < m.end() or a <= m.start() < b for a, b in spans)):
        return m.group(1)
    if spans:
        a, b = spans[0]
        # Keep a form word written right after the name (络活喜片), not the amount.
        tail = re.match(_FORM, text[b:])
        return text[a : b + (tail.end() if tail else 0)].strip()
    # A name the lexicon does not know (a misread "Spironolactore", a brand it lacks) still heads its row when a
    # strength follows it; the row is kept, and `ingestion.confirmation` asks the user to confirm the name.
    head = _HEAD.match(text)
    if head and not _USAGE_LABEL.match(text):
        name = head.group(1).strip()
        if not (ROUTE.search(name) or normalise_frequency(name) or _NOT_A_NAME.search(name)):
            return name
    return None


def _is_usage(text: str) -> bool:
    text = _GLUED.sub(r"\1 ", text)  # "50mgqd ×14天"
    return bool(_USAGE_LABEL.search(text) or normalise_frequency(text) or ROUTE.search(text) or _DOSE.match(text))


@dataclass
class _Item:
    """One medication being assembled: the line(s) that name it and the usage line(s) attached to it."""

    name: str
    head: str  # the text that names it (name, strength, pack quantity)
    indices: list[int]
    usage: list[str]
    quantity: str = ""  # from a table's quantity column


def _build(item: _Item, lines: Sequence[OcrLine]) -> Medication:
    head_after = item.head[item.head.find(item.name) + len(item.name) :] if item.name in item.head else item.head
    head_after = repaired_amounts(head_after)
    strength_m = STRENGTH.search(head_after)
    pack_m = _PACK.search(head_after)
    usage = " ".join(_USAGE_LABEL.sub("", u) for u in item.usage)
    usage, units_guessed = repaired_units(repaired_amounts(usage))
    usage = _GLUED.sub(r"\1 ", usage)
    if not usage:  # one line: what follows the strength and the pack is the usage
        rest = head_after
        for m in (strength_m, pack_m):
            if m is not None:
                rest = rest.replace(m.group(0), " ", 1)
        usage = _USAGE_LABEL.sub("", rest.strip())
    quantity = item.quantity
    if not quantity and pack_m is not None:
        quantity = (pack_m.group(1) or pack_m.group(2) or "").replace(" ", "")
    freq = normalise_frequency(usage) or normalise_frequency(item.head)
    dose_m = _DOSE.search(usage)
    route_m = ROUTE.search(usage) or ROUTE.search(head_after)
    dur_m = _DURATION.search(usage)
    duration = (dur_m.group(1) or (f"{dur_m.group(2)}d" if dur_m.group(2) else dur_m.group(3)) or "") if dur_m else ""
    indices = list(dict.fromkeys(item.indices))
    return Medication(
        name=item.name,
        strength=strength_m.group(0).replace(" ", "") if strength_m else "",
        dose=dose_m.group(1).replace(" ", "") if dose_m else "",
        route=route_m.group(0) if route_m else "",
        frequency_text=freq.text if freq else "",
        frequency=freq.code if freq else "",
        times_per_day=freq.times_per_day if freq else None,
        as_needed=bool(freq and freq.as_needed),
        at_night=bool(freq and freq.at_night),
        duration=duration.replace(" ", ""),
        quantity=quantity,
        confidence=min(lines[i].confidence for i in indices),
        boxes=tuple(lines[i].box for i in indices),
        line_indices=tuple(indices),
        repaired=("dose",) if units_guessed and dose_m and "IU" in dose_m.group(1) else (),
    )


def parse_medication(row: Row, lines: Sequence[OcrLine], find_names: NameFinder | None = None) -> Medication | None:
    """A medication from one table row (or one prescription line); None if the row is not one."""
    text = row.text
    name = _name_in(row.cells[0], find_names) or _name_in(text, find_names)
    if name is None or (normalise_frequency(text) is None and STRENGTH.search(text) is None):
        return None
    cells = row.cells
    if len(cells) >= 3:
        # A table row without titles: name | strength | quantity | usage (dose, route, frequency, duration).
        qty_m = _QUANTITY.search(" ".join(cells[1:-1]))
        quantity = qty_m.group(1).replace(" ", "") if qty_m else ""
        return _build(_Item(name, " ".join(cells[:2]), list(row.indices), [cells[-1]], quantity), lines)
    return _build(_Item(name, text, list(row.indices), []), lines)


@dataclass(frozen=True)
class _Table:
    """A medication table's columns: (position, part) per column title, positions measured along `direction`,
    the unit vector of its title line's reading direction (a photo turned 90 degrees reads down the image)."""

    direction: tuple[float, float]
    columns: list[tuple[float, str]]

    def span(self, line: OcrLine) -> tuple[float, float]:
        """Where a line starts and ends along the table's reading direction."""
        ux, uy = self.direction
        along = [x * ux + y * uy for x, y in line.box]
        return min(along), max(along)

    def part_at(self, line: OcrLine) -> str:
        start, end = self.span(line)
        return min(self.columns, key=lambda c: abs(c[0] - (start + end) / 2))[1]


def _columns(row: Row, lines: Sequence[OcrLine]) -> _Table | None:
    """The columns of a medication table's title row; None if the row is not one."""
    (x0, y0), (x1, y1) = lines[row.indices[0]].box[:2]
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    table = _Table(((x1 - x0) / length, (y1 - y0) / length), [])
    for index, cell in zip(row.indices, row.cells, strict=True):
        words = [w for w in re.split(r"\s+", cell.strip()) if w]
        start, end = table.span(lines[index])
        step = (end - start) / max(1, len(words))
        for k, word in enumerate(words):  # titles OCR merged into one box: spread them over its width
            part = next((p for pattern, p in _COLUMN_TITLES if re.fullmatch(pattern, word)), None)
            if part is not None:
                table.columns.append((start + step * (k + 0.5), part))
    parts = [p for _, p in table.columns]
    return table if "name" in parts and len(table.columns) >= 3 else None


_TABLE_NAME = re.compile(r"[A-Za-z\u4e00-\u9fff][A-Za-z\u4e00-\u9fff（）() .-]{1,29}")


def _table_item(row: Row, lines: Sequence[OcrLine], table: _Table, find_names: NameFinder | None) -> _Item | None:
    """A table row read by its columns' titles: each cell goes to the title nearest its centre."""
    parts: dict[str, list[str]] = {}
    for index, cell in zip(row.indices, row.cells, strict=True):
        parts.setdefault(table.part_at(lines[index]), []).append(cell)
    name_cell = " ".join(parts.get("name", []))
    name = _name_in(name_cell, find_names) if name_cell else None
    if name is None and parts.keys() & {"strength", "dose"} and _TABLE_NAME.fullmatch(name_cell.strip()):
        # the name column of a row with an amount names a drug, known to the lexicon or not (可定, a brand it
        # takes only where a row says so); `ingestion.confirmation` asks about a name it does not know
        name = name_cell.strip()
    if name is None:
        return None
    head = f"{name_cell} {' '.join(parts.get('strength', []))}"
    usage = " ".join(" ".join(parts.get(p, [])) for p in ("dose", "frequency", "route", "duration", "usage"))
    quantity = " ".join(parts.get("quantity", [])).replace(" ", "")
    return _Item(name, head, list(row.indices), [usage], quantity)


def parse_prescription(
    lines: Sequence[OcrLine], rows: Sequence[Row], find_names: NameFinder | None = None
) -> tuple[dict[str, Field], list[Medication]]:
    """The header fields and one medication per prescribed drug, whatever the layout: a table (read by its
    column titles where it has them), a drug line with its usage on the next line(s) ("用法：5mg qd 口服",
    "Sig: 1 tab po bid"), two columns of such blocks, or one line per drug."""
    fields = parse_header(lines, rows)
    built: list[_Item | Medication] = []
    columns: _Table | None = None
    pending: list[_Item] = []  # the drug(s) of the last naming row, waiting for their usage lines
    for row in rows:
        if columns is None and re.search(r"药品名称|名称", row.text):
            columns = _columns(row, lines)
            if columns is not None:
                continue
        if columns is not None and len(row.cells) >= 3:
            found = _table_item(row, lines, columns, find_names)
            if found is not None:
                built.append(found)
                pending = []
                continue
        if _SKIP.search(row.text):
            pending = []
            continue  # the table's title row and the prescription header are not medications
        names = [_name_in(cell, find_names) for cell in row.cells]
        if len(row.cells) >= 3 and names[0] is not None and columns is None:
            med_row = parse_medication(row, lines, find_names)
            if med_row is not None:
                built.append(med_row)
                pending = []
                continue
        if any(names):
            if len(row.cells) >= 2 and all(names):  # two columns: one drug per cell
                pending = [_Item(n, c, [i], []) for n, c, i in zip(names, row.cells, row.indices, strict=True) if n]
            else:
                first = next(n for n in names if n)
                pending = [_Item(first, row.text, list(row.indices), [])]
            built += pending
            continue
        if pending and _is_usage(row.text):
            targets = [p for p in pending if normalise_frequency(p.head) is None]
            if not targets:
                pending = []
                continue
            if len(targets) > 1 and len(row.cells) == len(targets):
                for item, cell, index in zip(targets, row.cells, row.indices, strict=True):
                    item.usage.append(cell)
                    item.indices.append(index)
            else:
                targets[-1].usage.append(row.text)
                targets[-1].indices += list(row.indices)
            continue
        pending = []
    meds: list[Medication] = []
    for entry in built:
        med = entry if isinstance(entry, Medication) else _build(entry, lines)
        if med.frequency or med.strength or med.dose:
            meds.append(med)
    return fields, meds
