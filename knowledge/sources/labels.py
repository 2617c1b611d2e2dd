"""US label text (public domain): DailyMed SPL sections, openFDA fixtures and openFDA excerpts, as passages."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

from knowledge.sources.catalog import source
from knowledge.sources.records import PassageRecord

# The sections worth citing to a caregiver, with their display titles.
SECTIONS = {
    "drug_interactions": "Drug interactions",
    "contraindications": "Contraindications",
    "boxed_warning": "Boxed warning",
    "warnings_and_cautions": "Warnings and precautions",
    "warnings": "Warnings",
    "dosage_and_administration": "Dosage and administration",
    "indications_and_usage": "Indications and usage",
    "adverse_reactions": "Adverse reactions",
    "information_for_patients": "Information for patients",
}
_EXCERPT_SECTIONS = {
    "Indications and Usage": "indications_and_usage",
    "Dosage and Administration": "dosage_and_administration",
    "Contraindications": "contraindications",
    "Warnings and Precautions": "warnings_and_cautions",
    "Drug Interactions": "drug_interactions",
    "Adverse Reactions": "adverse_reactions",
}
CHUNK_CHARS = 1200


def chunk(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """Split on sentence ends into pieces of about `size` characters, so each passage is citable on its own."""
    text = " ".join(text.split())
    if len(text) <= size:
        return [text] if text else []
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind(". ", start + size // 2, end)
            end = cut + 1 if cut > 0 else end
        pieces.append(text[start:end].strip())
        start = end
    return [p for p in pieces if p]


def _spl(source_name: str, filename: str) -> Iterator[PassageRecord]:
    with gzip.open(source(source_name).path / filename, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            names = [n for n in rec.get("generic_name", []) + rec.get("substance_name", []) if n]
            if not names:
                continue
            stem = rec.get("file", "").removesuffix(".xml")
            for field, title in SECTIONS.items():
                for si, text in enumerate(rec.get(field, [])):
                    for ci, piece in enumerate(chunk(text)):
                        yield PassageRecord(
                            passage_id=f"{source_name}:{stem}:{field}:{si}:{ci}",
                            refs=tuple(f"name:{n}" for n in names),
                            section=field,
                            lang="en",
                            title=f"{names[0]} label — {title}",
                            text=piece,
                            source=source_name,
                            record=f"set_id {rec.get('set_id', '')} v{rec.get('version', '')}",
                        )


def load_passages() -> Iterator[PassageRecord]:
    yield from _spl("dailymed", "spl_sections.jsonl.gz")
    yield from _spl("openfda_fixtures", "spl_sections.jsonl.gz")
    with open(source("openfda_excerpts").path / "drug_labels.json", encoding="utf-8") as f:
        for i, rec in enumerate(json.load(f)):
            field = _EXCERPT_SECTIONS.get(rec["section"], rec["section"].lower().replace(" ", "_"))
            yield PassageRecord(
                passage_id=f"openfda_excerpts:{rec['drug']}:{field}:{i}",
                refs=(f"name:{rec['drug']}",),
                section=field,
                lang="en",
                title=f"{rec['drug']} label — {rec['section']} (excerpt)",
                text=" ".join(rec["text"].split()),
                source="openfda_excerpts",
                record=f"drug_labels.json[{i}]",
            )
