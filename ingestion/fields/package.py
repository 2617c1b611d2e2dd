"""Drug box and pharmacy label fields: name, English name, strength, quantity, approval number (国药准字),
manufacturer; for pharmacy labels also the directions (parsed into a `Medication`), prescriber and date.

A box front has no headings, so the product name is found by look: the tallest line of Chinese text that ends
in a dosage form (片, 胶囊 ...), or on an English label the capitalised name followed by a strength.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ingestion.document import Field, Medication
from ingestion.fields.prescription import ROUTE, normalise_frequency
from ingestion.fields.text import STRENGTH, Row, make_field
from ingestion.ocr.base import OcrLine

_FORM_END = re.compile(r"(片|胶囊|颗粒|丸|口服液|注射液|滴眼液|软膏|乳膏|缓释片|肠溶片|分散片|混悬液|糖浆)$")
_EN_FORM = re.compile(r"\b(Tablets?|Capsules?|Injection|Suspension|Solution|Cream|Ointment)\b", re.I)
_APPROVAL = re.compile(r"国药准字\s*[:：]?\s*([HZSJBTF]{1,2}\s*\d{8})")
_MAKER = re.compile(
    r"(?:生产企业|生产厂|生\s*产\s*厂|Manufactured by|Mfd\. by)\s*[:：]?\s*(.+)"
    r"|(.{2,30}(?:有限公司|股份公司|制药厂|药厂))"
)
_QTY = re.compile(r"(\d+\s*[片粒袋支]\s*[/／]\s*[盒瓶板]|\d+\s*[片粒袋支](?:胶囊)?|QTY\s*:?\s*(\d+))", re.I)
_LABEL_NAME = re.compile(r"^[A-Z][A-Z \-]{3,}\s\d+(?:\.\d+)?\s?(?:MG|G|MCG|ML)\b")


_RX_NUMBER = re.compile(r"\bRx\s*#|\bREFILLS\b", re.I)
_CAPS_NAME = re.compile(r"[A-Z][A-Z.'\-]*(?: [A-Z][A-Z.'\-]*){1,3}")


def _label_people(
    lines: Sequence[OcrLine], fields: dict[str, Field], put: Callable[[str, str, Sequence[int]], None]
) -> None:
    """A US pharmacy label prints the pharmacy in its top line and the patient, in capitals, right above the drug."""
    if lines and _CAPS_NAME.fullmatch(lines[0].text.strip()):
        put("pharmacy", lines[0].text.strip(), [0])
    name = fields.get("drug_name")
    if name is None or not name.line_indices or name.line_indices[0] == 0:
        return
    above = name.line_indices[0] - 1
    text = lines[above].text.strip()
    if above > 0 and _CAPS_NAME.fullmatch(text) and not re.search(r"PHARMACY|DRUG|PRESCRIBER|DATE", text):
        put("patient_name", text, [above])


def parse_package(lines: Sequence[OcrLine], rows: Sequence[Row]) -> tuple[dict[str, Field], list[Medication]]:
    """Fields of a box or a pharmacy label, and for a label the medication its directions describe."""
    fields: dict[str, Field] = {}

    def put(name: str, value: str, indices: Sequence[int]) -> None:
        if name not in fields and value.strip():
            fields[name] = make_field(name, value, lines, indices)

    named = [i for i, ln in enumerate(lines) if _FORM_END.search(ln.text.strip()) and len(ln.text.strip()) >= 3]
    if named:
        best = max(named, key=lambda i: lines[i].height)
        put("drug_name", lines[best].text.strip(), [best])
    for i, ln in enumerate(lines):
        text = ln.text.strip()
        if _LABEL_NAME.match(text):
            put("drug_name", text, [i])
        if (
            _EN_FORM.search(text)
            and len(text) <= 60
            and ":" not in text
            and not re.search(r"[\u4e00-\u9fff]", text)
            and not _LABEL_NAME.match(text)
            and not re.match(r"TAKE\b", text, re.I)
        ):
            put("english_name", text, [i])
        m = _APPROVAL.search(text)
        if m:
            put("approval_number", "国药准字" + m.group(1).replace(" ", ""), [i])
        m = re.search(r"规\s*格\s*[:：]\s*(\S+)", text)
        if m:
            put("strength", m.group(1), [i])
        m = _MAKER.search(text)
        if m:
            put("manufacturer", (m.group(1) or m.group(2) or "").strip(), [i])
        m = re.search(r"(?:PRESCRIBER|Prescriber)\s*:?\s*(.+)$", text)
        if m:
            put("doctor", m.group(1), [i])
        m = re.search(r"DATE\s*:?\s*(\d{1,2}/\d{1,2}/\d{2,4})", text, re.I)
        if m:
            put("date", m.group(1), [i])
        if re.search(r"PHARMACY|DRUG\s*STORE|药房|大药房", text, re.I):
            put("pharmacy", text, [i])
        if re.match(r"TAKE\b", text, re.I):
            put("directions", text, [i])
    if any(_RX_NUMBER.search(ln.text) for ln in lines):
        _label_people(lines, fields, put)
    for i, ln in enumerate(lines):
        m = _QTY.search(ln.text)
        if m:
            put("quantity", m.group(2) or m.group(1).replace(" ", ""), [i])
        if "strength" not in fields:
            s = STRENGTH.search(ln.text)
            if s and "国药准字" not in ln.text:
                put("strength", s.group(0).replace(" ", ""), [i])
    meds: list[Medication] = []
    if "directions" in fields and "drug_name" in fields:
        directions = fields["directions"]
        freq = normalise_frequency(directions.value)
        name_field = fields["drug_name"]
        strength_m = STRENGTH.search(name_field.value)
        dose_m = re.search(r"TAKE\s+(\d+(?:\.\d+)?|ONE|TWO)\b", directions.value, re.I)
        route_m = ROUTE.search(directions.value)
        indices = tuple(dict.fromkeys(name_field.line_indices + directions.line_indices))
        meds.append(
            Medication(
                name=name_field.value[: strength_m.start()].strip() if strength_m else name_field.value,
                strength=strength_m.group(0) if strength_m else "",
                dose=dose_m.group(1) if dose_m else "",
                route=route_m.group(0) if route_m else "",
                frequency_text=freq.text if freq else "",
                frequency=freq.code if freq else "",
                times_per_day=freq.times_per_day if freq else None,
                as_needed=bool(freq and freq.as_needed),
                at_night=bool(freq and freq.at_night),
                quantity=fields["quantity"].value if "quantity" in fields else "",
                confidence=min(lines[i].confidence for i in indices),
                boxes=tuple(lines[i].box for i in indices),
                line_indices=indices,
            )
        )
    return fields, meds
