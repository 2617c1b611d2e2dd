"""What a person should confirm: a confidence for every field of every medication row, lowered where the medical
context doubts the value, and `needs_confirmation` on the rows and drugs below `CONFIRM_BELOW`.

The medical context, after MinerU's prescription mode:
- the drug name: recognised by the lexicon (a name it had to correct, 安禄地平 -> 氨氯地平, gets at most
  `CORRECTED`; a name it does not know at all `UNKNOWN_NAME`);
- the strength: one the drug is made in (`ingestion.fields.strengths`; 2 mg atorvastatin or 5 mcg amlodipine
  is not), and the dose: half to four times a strength it is made in;
- a field read only by putting a likely misread right (`Medication.repaired`) is in doubt;
- the frequency: a prescription row whose usage matches none of the frequency grammar's forms is in doubt, as is
  a prescription row with no dose, or a dose of more than `MAX_UNITS_PER_DOSE` units.
Each field starts from the OCR confidence of the row's weakest line; a failed check caps it at `DOUBTFUL`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from ingestion.document import DrugOnPage, Medication
from ingestion.fields.prescription import MAX_UNITS_PER_DOSE, normalise_frequency
from ingestion.fields.strengths import check_amount, marketed_strengths
from ingestion.mentions import MentionFinder

CONFIRM_BELOW = 0.8  # a field with less confidence than this is shown to the user to confirm
DOUBTFUL = 0.3  # the confidence of a value a medical check contradicts
UNKNOWN_NAME = 0.4  # a row whose name the lexicon does not recognise
_UNITS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:IU|U|units?|单位)", re.I)
CORRECTED = 0.6  # a name the lexicon recognised only by correcting it (安禄地平 -> 氨氯地平)


def _made_in(ingredient: str) -> str:
    made = sorted(marketed_strengths().get(ingredient, ()))
    return ", ".join(f"{s * 1000:g} mcg" if s < 1 else f"{s:g} mg" for s in made)


def review_medication(
    med: Medication, finder: MentionFinder | None, prescription: bool
) -> tuple[Medication, tuple[str, ...], list[str]]:
    """The row with its field confidences and flag, the ingredients its name resolves to, and warnings."""
    base = med.confidence
    conf: dict[str, float] = {}
    warnings: list[str] = []
    ingredients: tuple[str, ...] = ()
    mention = finder.resolve_row_name(med.name) if finder is not None else None
    if mention is not None and mention.recognized:
        ingredients = mention.ingredients
        conf["name"] = min(base, mention.confidence, CORRECTED) if mention.corrected_from else base
    elif finder is not None:
        conf["name"] = min(base, UNKNOWN_NAME)
    for key, text, is_dose in (("strength", med.strength, False), ("dose", med.dose, True)):
        if not text:
            continue
        conf[key] = base
        for ingredient in ingredients:
            if check_amount(ingredient, text, dose=is_dose) is False:
                conf[key] = min(base, DOUBTFUL)
                what = "dose" if is_dose else "strength"
                warnings.append(
                    f"Check the {what} '{text}' of {med.name}: {ingredient} is made in {_made_in(ingredient)}; "
                    "a misread digit or unit (2 mg for 20 mg, mcg for mg) is likely."
                )
    units = _UNITS.fullmatch(med.dose.strip()) if med.dose else None
    if units and float(units.group(1)) > MAX_UNITS_PER_DOSE:
        conf["dose"] = min(base, DOUBTFUL)
        warnings.append(f"Check the dose '{med.dose}' of {med.name}: more than {MAX_UNITS_PER_DOSE} units at once.")
    for key in med.repaired:  # read only by putting a likely misread right: the user confirms it
        conf[key] = min(base, DOUBTFUL)
    if prescription:
        if not med.dose:  # every prescribed row states how much; none read means part of the row was lost
            conf["dose"] = min(base, DOUBTFUL)
        freq = normalise_frequency(med.frequency_text) if med.frequency else None
        conf["frequency"] = base if freq is not None and not freq.repaired else min(base, DOUBTFUL)
    flagged = any(v < CONFIRM_BELOW for v in conf.values())
    return dataclasses.replace(med, field_confidence=conf, needs_confirmation=flagged), ingredients, warnings


def review(
    medications: Sequence[Medication],
    drugs: Sequence[DrugOnPage],
    finder: MentionFinder | None,
    doc_type: str,
    line_confidence: Sequence[float],
) -> tuple[list[Medication], list[DrugOnPage], list[str]]:
    """Field confidences and confirmation flags for a page's medications and drugs, with what to check."""
    prescription = doc_type == "prescription"
    reviewed: list[Medication] = []
    flagged_ingredients: set[str] = set()
    warnings: list[str] = []
    for med in medications:
        checked, ingredients, notes = review_medication(med, finder, prescription)
        reviewed.append(checked)
        warnings += notes
        if checked.needs_confirmation:
            flagged_ingredients.update(ingredients)
    rows = {i for med in medications for i in med.line_indices}
    out: list[DrugOnPage] = []
    for drug in drugs:
        m = drug.mention
        # a prescribed drug whose row was not read (no strength, dose or frequency for it): the user checks it
        unread_row = prescription and drug.is_subject and not rows & set(drug.line_indices)
        weakest = min((line_confidence[i] for i in drug.line_indices), default=0.0)
        flag = (
            m.corrected_from is not None
            or m.confidence < CONFIRM_BELOW
            or weakest < CONFIRM_BELOW
            or (drug.is_subject and bool(flagged_ingredients & set(m.ingredients)))
            or unread_row
        )
        out.append(dataclasses.replace(drug, needs_confirmation=flag))
    return reviewed, out, warnings
