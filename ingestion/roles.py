"""What a document is about: each drug on the page is its subject or only mentioned in it.

An ibuprofen leaflet names aspirin, heparin and digoxin in its 【药物相互作用】 section; it is about ibuprofen
alone. The decision is made here, once, from where each drug stands on the page:

- prescription: the drugs of the prescribed medication rows are subjects, and so are drugs below the first row
  outside every header field whose line reads like a row (an amount, a pack count, a frequency: a row the parser
  missed is still prescribed); drugs elsewhere (diagnosis, notes)
  are mentioned. When no row could be parsed, drugs outside every header field stand in for the rows.
- leaflet, package (a drug box), label and other: the drugs in the product's name fields (drug, generic, brand and
  English names, ingredients) are subjects. Failing that, the drugs in the title lines (the first lines, or text
  much larger than the rest, outside every section) are. A page whose name field names a product we cannot
  resolve then has no subject (it is about that unknown product); a page without any name field takes the drugs
  written outside every section.
- everything else is mentioned, with `section` set to the field it is first named in (in reading order).

A drug named in a name field and again in, say, the interactions section is a subject.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # document.py calls this module to give stored drugs their roles: types only, no cycle
    from ingestion.document import DrugOnPage, Field, Medication
    from ingestion.ocr.base import OcrLine

SUBJECT = "subject"
MENTIONED = "mentioned"

# Fields that name the product itself (leaflet sections, box front, label); "_en" variants come from bilingual panels.
NAME_FIELDS = frozenset(
    {"drug_name", "generic_name", "brand_name", "trade_name", "product_name", "english_name", "pinyin", "ingredients"}
)
TITLE_LINES = 3  # the first lines of a page hold its title
TITLE_HEIGHT = 1.4  # ... and so does text this many times taller than the median line


def is_name_field(name: str) -> bool:
    return name.removesuffix("_en") in NAME_FIELDS


def assign_roles(
    doc_type: str,
    fields: Mapping[str, Field],
    medications: Sequence[Medication],
    drugs: Sequence[DrugOnPage],
    *,
    lines: Sequence[OcrLine] = (),
) -> tuple[DrugOnPage, ...]:
    """The drugs with `role` ("subject" | "mentioned") and `section` set, in their original order.

    Args:
        doc_type: leaflet | prescription | package | label | other.
        fields: the document's fields (their `line_indices` locate them).
        medications: prescription rows (their `line_indices` locate them).
        drugs: the drugs found on the page (their `line_indices` locate them).
        lines: the page's lines; when given, unusually tall lines count as title lines too.

    Returns:
        One `DrugOnPage` per input drug; `section` is None for subjects and for drugs named outside every field.
    """
    covering = _fields_by_line(fields)

    def in_fields(drug: DrugOnPage, keep: bool) -> list[str]:
        """Names of the fields on the drug's lines: name fields (keep=True) or the others."""
        found: list[str] = []
        for i in sorted(drug.line_indices):
            names = [n for n in covering.get(i, ()) if is_name_field(n) == keep]
            # A line shared by two fields: prefer the one whose text holds the drug's name.
            named = [n for n in names if drug.text and drug.text.lower() in fields[n].value.lower()]
            found += [n for n in (named or names) if n not in found]
        return found

    if doc_type == "prescription":
        rows = {i for med in medications for i in med.line_indices}
        if rows:
            subjects = {k for k, d in enumerate(drugs) if rows & set(d.line_indices)}
            # A drug in the prescription's body whose row could not be parsed (an insulin row with "12IU qn" under
            # it) is still prescribed: below the first row and outside every header field, it is a subject too
            # (and flagged for confirmation, as its row was not read).
            first_row = min(rows)
            drug_lines = {i for d in drugs for i in d.line_indices}
            subjects |= {
                k
                for k, d in enumerate(drugs)
                if d.line_indices
                and min(d.line_indices) > first_row
                and not _on_field_lines(d, covering)
                and _reads_like_a_row(d, lines, drug_lines)
            }
        else:
            subjects = {k for k, d in enumerate(drugs) if not _on_field_lines(d, covering)}
    else:
        subjects = {k for k, d in enumerate(drugs) if in_fields(d, keep=True)}
        if not subjects:  # the title lines, outside every section (a name field may hold a misread heading)
            in_sections = {i for i, names in covering.items() if not all(is_name_field(n) for n in names)}
            titles = _title_lines(lines) - in_sections
            subjects = {k for k, d in enumerate(drugs) if any(i in titles for i in d.line_indices)}
        # A page that names its product in a name field we could not resolve is about that unknown product: a
        # drug its sections name never stands in for it.
        named = any(is_name_field(n) and f.value.strip() for n, f in fields.items())
        if not subjects and not named:
            subjects = {k for k, d in enumerate(drugs) if not _on_field_lines(d, covering)}
    out = []
    for k, drug in enumerate(drugs):
        if k in subjects:
            out.append(dataclasses.replace(drug, role=SUBJECT, section=None))
        else:
            sections = in_fields(drug, keep=False)
            out.append(dataclasses.replace(drug, role=MENTIONED, section=sections[0] if sections else None))
    return tuple(out)


# What a prescribed row carries and a note does not: an amount, a pack count or a frequency.
_ROW_MARKS = re.compile(
    r"\d\s*(?:mg|g|ml|μg|mcg|iu|u|片|粒|支|瓶|盒|袋|丸)\b|[×xX]\s*\d|\b(?:qd|bid|tid|qid|qn|qhs|prn|q\d+h)\b|每日|每天|每晚",
    re.I,
)


def _reads_like_a_row(drug: DrugOnPage, lines: Sequence[OcrLine], drug_lines: set[int]) -> bool:
    """The drug's line, or the usage line under it (one naming no other drug), holds an amount or a frequency (a
    note such as "阿司匹林过敏" does not)."""
    under = max(drug.line_indices) + 1
    indices = [*drug.line_indices, *(() if under in drug_lines else (under,))]
    return any(_ROW_MARKS.search(lines[i].text) for i in indices if i < len(lines))


def _fields_by_line(fields: Mapping[str, Field]) -> dict[int, list[str]]:
    covering: dict[int, list[str]] = {}
    for name, f in fields.items():
        for i in f.line_indices:
            covering.setdefault(i, []).append(name)
    return covering


def _on_field_lines(drug: DrugOnPage, covering: Mapping[int, list[str]]) -> bool:
    return any(i in covering for i in drug.line_indices)


def _title_lines(lines: Sequence[OcrLine]) -> set[int]:
    titles = set(range(TITLE_LINES))
    if len(lines) > TITLE_LINES:
        median = statistics.median(ln.height for ln in lines)
        titles |= {i for i, ln in enumerate(lines) if median > 0 and ln.height >= TITLE_HEIGHT * median}
    return titles
