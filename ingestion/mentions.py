"""Drug mentions on the page: the lexicon finds drug names in the recognised text (correcting OCR near-misses
such as 安禄地平 -> 氨氯地平); this module maps each mention back to the boxes of the lines it came from,
merges repeats of the same drug, and flags doses whose unit is implausible for that drug.

The lexicon lives in `knowledge` and is reached only through the small `MentionFinder` Protocol, so the
pipeline can run without it (no drugs then) and tests can use a double.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol, runtime_checkable

from ingestion.document import DrugOnPage, Medication
from ingestion.fields.text import STRENGTH
from ingestion.ocr.base import OcrLine
from knowledge.models import DrugMention
from knowledge.normalize import core_forms


@runtime_checkable
class MentionFinder(Protocol):
    """What ingestion needs from the drug lexicon (`knowledge.lexicon.Lexicon` provides it)."""

    def find_mentions(self, text: str) -> list[DrugMention]:
        """Drug names in free text, with `start`/`end` offsets into `text` and lower-case INN ingredients."""
        ...

    def typical_daily_dose(self, ingredient: str) -> tuple[float, str] | None:
        """(amount, unit) of the WHO defined daily dose, e.g. (5.0, "mg"); None where unknown."""
        ...

    def resolve_row_name(self, text: str) -> DrugMention:
        """The drug named at the head of a medication row (a two-letter brand, a misread name: corrected)."""
        ...


# Conversion to milligrams; units that are not masses (U, IU, ml) are not compared.
_TO_MG = {
    "mg": 1.0,
    "毫克": 1.0,
    "g": 1000.0,
    "克": 1000.0,
    "mcg": 0.001,
    "μg": 0.001,
    "µg": 0.001,
    "ug": 0.001,
    "微克": 0.001,
}
IMPLAUSIBLE_RATIO = 100.0
_WINDOW = 40  # characters after a drug name in which its strength is looked for


def to_mg(amount: float, unit: str) -> float | None:
    factor = _TO_MG.get(unit.lower() if unit.isascii() else unit)
    return None if factor is None else amount * factor


def spot_drugs(
    finder: MentionFinder, lines: Sequence[OcrLine], medications: Sequence[Medication] = ()
) -> tuple[list[DrugOnPage], list[str]]:
    """Distinct recognised drugs on the page (with the boxes of every line each appears on) and dose warnings.

    Args:
        finder: the lexicon.
        lines: OCR lines in reading order (a name wrapped across two lines is still found).
        medications: parsed medication rows, whose strength and dose are checked against their drug too.
    """
    text, starts = _joined(lines)
    mentions = _without_salts(text, [m for m in finder.find_mentions(text) if m.recognized])
    grouped: dict[tuple[str, ...], tuple[DrugMention, list[int]]] = {}
    for mention in mentions:
        key = mention.ingredients or mention.class_ids or (mention.matched or mention.text,)
        indices = _lines_of(starts, mention.start, mention.end)
        if key in grouped:
            grouped[key][1].extend(i for i in indices if i not in grouped[key][1])
        else:
            grouped[key] = (mention, indices)
    for mention, index in _row_names(finder, lines, starts, medications):
        key = mention.ingredients
        if key and key not in grouped:
            mentions.append(mention)
            grouped[key] = (mention, [index])
    drugs = [
        DrugOnPage(mention=m, boxes=tuple(lines[i].box for i in idx), line_indices=tuple(idx))
        for m, idx in grouped.values()
    ]
    return drugs, _dose_warnings(finder, text, [m for m in mentions if m.ingredients], medications)


def _row_names(
    finder: MentionFinder, lines: Sequence[OcrLine], starts: Sequence[int], medications: Sequence[Medication]
) -> list[tuple[DrugMention, int]]:
    """The drugs that head medication rows, with the line each is written on: the row's strength says a drug is
    named there, so the lexicon takes what free text would not ("可定 10mg", "Clopdogel 75 mg" read for
    Clopidogrel, "LoSartan100mg"), a correction marked for the user to confirm."""
    out: list[tuple[DrugMention, int]] = []
    for med in medications:
        index = next((i for i in med.line_indices if med.name in lines[i].text), None)
        if index is None:
            continue
        mention = finder.resolve_row_name(med.name)
        if mention.recognized:
            start = starts[index] + lines[index].text.index(med.name)
            out.append((replace(mention, start=start, end=start + len(med.name)), index))
    return out


def _without_salts(text: str, mentions: Sequence[DrugMention]) -> list[DrugMention]:
    """Drop the salt word of an English name: "Atorvastatin Calcium Tablets" names atorvastatin, not calcium too.

    The salt is found by the lexicon's own normalisation: the name with the word after it reduces to the name.
    """
    kept: list[DrugMention] = []
    for m in mentions:
        prev = kept[-1] if kept else None
        if (
            prev is not None
            and m.text.isascii()
            and not text[prev.end : m.start].strip()
            and core_forms(f"{prev.text} {m.text}")[-1:] == core_forms(prev.text)[-1:]
        ):
            continue
        kept.append(m)
    return kept


def _dose_warnings(
    finder: MentionFinder, text: str, mentions: Sequence[DrugMention], medications: Sequence[Medication]
) -> list[str]:
    """Amounts written next to a drug (or in its medication row) that are >= 100x off its DDD.

    "5 mcg" next to amlodipine (DDD 5 mg) is 1000x too small: almost certainly a misread or miswritten unit.
    """
    seen: set[tuple[str, str]] = set()
    warnings: list[str] = []
    for k, mention in enumerate(mentions):
        stop = mentions[k + 1].start if k + 1 < len(mentions) else len(text)
        window = text[mention.end : min(stop, mention.end + _WINDOW)]
        amounts = [m.group(0) for m in STRENGTH.finditer(window)]
        for med in medications:
            if mention.text in med.name:
                amounts += [a for a in (med.strength, med.dose) if a]
        for amount in amounts:
            for ingredient in mention.ingredients:
                if (ingredient, amount) in seen:
                    continue
                seen.add((ingredient, amount))
                message = _check(finder, mention.text, ingredient, amount)
                if message:
                    warnings.append(message)
    return warnings


def _check(finder: MentionFinder, name: str, ingredient: str, amount_text: str) -> str | None:
    m = STRENGTH.search(amount_text)
    ddd = finder.typical_daily_dose(ingredient)
    if not m or ddd is None:
        return None
    written = to_mg(float(m.group(1)), m.group(2))
    usual = to_mg(ddd[0], ddd[1])
    if written is None or usual is None or written <= 0 or usual <= 0:
        return None
    ratio = written / usual
    if ratio >= IMPLAUSIBLE_RATIO or ratio <= 1 / IMPLAUSIBLE_RATIO:
        direction = "above" if ratio > 1 else "below"
        factor = ratio if ratio > 1 else 1 / ratio
        return (
            f"Implausible dose: '{amount_text}' for {name} ({ingredient}) is about {factor:,.0f}x {direction} "
            f"its usual daily dose of {ddd[0]:g} {ddd[1]}. "
            "Check the unit on the original (mg / g / mcg) before relying on it."
        )
    return None


def _joined(lines: Sequence[OcrLine]) -> tuple[str, list[int]]:
    """The lines joined by newlines, and where each line starts in that text."""
    starts: list[int] = []
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line.text) + 1
    return "\n".join(line.text for line in lines), starts


def _lines_of(starts: list[int], start: int, end: int) -> list[int]:
    first = max(0, bisect.bisect_right(starts, start) - 1)
    last = max(first, bisect.bisect_right(starts, max(start, end - 1)) - 1)
    return list(range(first, last + 1))
