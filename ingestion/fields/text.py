"""Shared text shapes for the field parsers: rows of lines, joining across line breaks, value building.

A row is one visual row of the page (table cells side by side); parsers read rows so that "姓名：张伟  性别：男"
or a medication table row is seen whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingestion.document import Field
from ingestion.ocr.base import OcrLine


@dataclass(frozen=True)
class Row:
    """One visual row: the indices of its lines (into the document's lines) and their texts, left to right."""

    indices: tuple[int, ...]
    cells: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.cells)


def make_rows(lines: Sequence[OcrLine], rows: Sequence[Sequence[int]]) -> list[Row]:
    return [Row(tuple(r), tuple(lines[i].text for i in r)) for r in rows]


_LATIN_END = re.compile(r"[A-Za-z0-9,;:.)%]$")
_LATIN_START = re.compile(r"^[A-Za-z0-9(]")


def join_text(parts: Sequence[str]) -> str:
    """Join wrapped lines: no space inside Chinese text, one space between Latin words."""
    out = ""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if out and _LATIN_END.search(out) and _LATIN_START.match(part):
            out += " "
        out += part
    return out


def make_field(name: str, value: str, lines: Sequence[OcrLine], indices: Sequence[int]) -> Field:
    """A field whose confidence is that of its weakest line."""
    idx = tuple(dict.fromkeys(indices))
    conf = min((lines[i].confidence for i in idx), default=0.0)
    return Field(
        name=name,
        value=value.strip(),
        confidence=conf,
        boxes=tuple(lines[i].box for i in idx),
        line_indices=idx,
    )


STRENGTH = re.compile(
    r"(\d+(?:\.\d+)?)\s*(mg|MG|Mg|g|G|mcg|MCG|μg|µg|ug|ml|mL|ML|IU|U|万单位|单位|毫克|克|微克|毫升)(?![A-Za-z])"
)
