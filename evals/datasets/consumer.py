"""The consumer set: questions people ask about one drug that are not about a combination.

Dose, side effects, overdose and antidotes, pregnancy, storage, how to take it, exercise; Chinese and English;
most text-only, some with a leaflet photo (the question then says "这个药" / "this"). Each question is labelled
with the drug (INN) and the label section that answers it, and with the ids of the knowledge-base passages of that
section for that drug when the knowledge base holds one (`passages` joined to `passage_refs`), or
`section_in_kb: false` when our sources hold no such section for the drug: an honest answer then says so.

`python -m evals.datasets.consumer` rebuilds evals/data/consumer/consumer.jsonl (needs var/knowledge.sqlite).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "evals" / "data" / "consumer"
ITEMS = FOLDER / "consumer.jsonl"


@dataclass(frozen=True)
class ConsumerItem:
    id: str
    lang: str
    question: str
    drug: str  # INN
    section: str  # the label section that answers it (knowledge-base section names where it has one)
    section_in_kb: bool
    gold: tuple[str, ...] = ()  # passage ids of that section for that drug
    image: dict[str, Any] | None = None  # a leaflet photo (render spec), when the question is about "this"
    topic: str = ""  # dose | side_effects | overdose | pregnancy | storage | how_to_take | exercise | ...
    sources: tuple[str, ...] = field(default_factory=tuple)


# (question, lang, drug, section, topic); sections the knowledge base lacks are named as US labels name them.
_TEXT: tuple[tuple[str, str, str, str, str], ...] = (
    ("What is the usual dose of metformin?", "en", "metformin", "dosage_and_administration", "dose"),
    ("How much atorvastatin should I take a day?", "en", "atorvastatin", "dosage_and_administration", "dose"),
    ("How should warfarin be dosed?", "en", "warfarin", "dosage_and_administration", "dose"),
    ("What is the starting dose of sertraline?", "en", "sertraline", "dosage_and_administration", "dose"),
    ("How often do I take omeprazole?", "en", "omeprazole", "dosage_and_administration", "how_to_take"),
    ("Should I take metformin with food?", "en", "metformin", "dosage_and_administration", "how_to_take"),
    ("What are the side effects of lisinopril?", "en", "lisinopril", "adverse_reactions", "side_effects"),
    ("Does amlodipine cause ankle swelling?", "en", "amlodipine", "adverse_reactions", "side_effects"),
    ("What side effects does clopidogrel have?", "en", "clopidogrel", "adverse_reactions", "side_effects"),
    ("Common side effects of gabapentin?", "en", "gabapentin", "adverse_reactions", "side_effects"),
    ("What are the side effects of losartan?", "en", "losartan", "adverse_reactions", "side_effects"),
    ("Who should not take ibuprofen?", "en", "ibuprofen", "contraindications", "contraindications"),
    ("Who should not take amoxicillin?", "en", "amoxicillin", "contraindications", "contraindications"),
    ("Is levothyroxine unsafe for anyone?", "en", "levothyroxine", "contraindications", "contraindications"),
    ("What warnings come with digoxin?", "en", "digoxin", "warnings_and_cautions", "warnings"),
    (
        "Can I exercise hard while taking atorvastatin? My muscles ache.",
        "en",
        "atorvastatin",
        "warnings_and_cautions",
        "exercise",
    ),
    ("Is it OK to run marathons on metoprolol?", "en", "metoprolol", "warnings_and_cautions", "exercise"),
    (
        "What should patients know before taking alprazolam?",
        "en",
        "alprazolam",
        "information_for_patients",
        "how_to_take",
    ),
    (
        "What should I tell my doctor before starting warfarin?",
        "en",
        "warfarin",
        "information_for_patients",
        "how_to_take",
    ),
    ("What is prednisone used for?", "en", "prednisone", "indications_and_usage", "uses"),
    ("What does furosemide treat?", "en", "furosemide", "indications_and_usage", "uses"),
    ("What reverses heparin?", "en", "heparin", "overdosage", "overdose"),
    ("What is the antidote for a warfarin overdose?", "en", "warfarin", "overdosage", "overdose"),
    ("What happens if someone takes too much digoxin?", "en", "digoxin", "overdosage", "overdose"),
    ("Can I take simvastatin while pregnant?", "en", "simvastatin", "pregnancy", "pregnancy"),
    ("How should I store amoxicillin suspension?", "en", "amoxicillin", "how_supplied", "storage"),
    ("二甲双胍一天吃几次？", "zh", "metformin", "dosage_and_administration", "dose"),
    ("阿托伐他汀一次吃多少？", "zh", "atorvastatin", "dosage_and_administration", "dose"),
    ("华法林怎么吃？", "zh", "warfarin", "dosage_and_administration", "how_to_take"),
    ("奥美拉唑饭前吃还是饭后吃？", "zh", "omeprazole", "dosage_and_administration", "how_to_take"),
    ("氨氯地平有什么副作用？", "zh", "amlodipine", "adverse_reactions", "side_effects"),
    ("辛伐他汀的不良反应有哪些？", "zh", "simvastatin", "adverse_reactions", "side_effects"),
    ("吃对乙酰氨基酚有什么副作用？", "zh", "paracetamol", "adverse_reactions", "side_effects"),
    ("肝素有什么不良反应？", "zh", "heparin", "adverse_reactions", "side_effects"),
    ("氯吡格雷有什么副作用", "zh", "clopidogrel", "adverse_reactions", "side_effects"),
    ("舍曲林会有哪些不良反应？", "zh", "sertraline", "adverse_reactions", "side_effects"),
    ("哪些人不能吃布洛芬？", "zh", "ibuprofen", "contraindications", "contraindications"),
    ("什么人禁用阿莫西林？", "zh", "amoxicillin", "contraindications", "contraindications"),
    ("二甲双胍有什么禁忌？", "zh", "metformin", "contraindications", "contraindications"),
    ("吃阿托伐他汀能做剧烈运动吗？", "zh", "atorvastatin", "warnings_and_cautions", "exercise"),
    ("美托洛尔要注意什么？", "zh", "metoprolol", "warnings_and_cautions", "warnings"),
    ("泼尼松是治什么的？", "zh", "prednisone", "indications_and_usage", "uses"),
    ("肝素过量用什么解救？", "zh", "heparin", "overdosage", "overdose"),
    ("华法林吃多了怎么办？", "zh", "warfarin", "overdosage", "overdose"),
    ("孕妇能吃布洛芬吗？", "zh", "ibuprofen", "pregnancy", "pregnancy"),
    ("怀孕了还能吃辛伐他汀吗？", "zh", "simvastatin", "pregnancy", "pregnancy"),
    ("硝苯地平怎么保存？", "zh", "nifedipine", "how_supplied", "storage"),
    ("地高辛中毒有什么表现？", "zh", "digoxin", "overdosage", "overdose"),
)

# Photo questions: a Chinese or US leaflet of the drug is attached and the question says "this".
_PHOTO: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("这个药一次吃几粒？", "zh", "ibuprofen-zh", "ibuprofen", "dosage_and_administration", "dose"),
    ("这个药有什么副作用？", "zh", "ibuprofen-zh", "ibuprofen", "adverse_reactions", "side_effects"),
    ("这个药哪些人不能吃？", "zh", "warfarin-zh", "warfarin", "contraindications", "contraindications"),
    ("这个药怎么吃？", "zh", "metformin-zh", "metformin", "dosage_and_administration", "how_to_take"),
    ("What are the side effects of this?", "en", "clopidogrel-en", "clopidogrel", "adverse_reactions", "side_effects"),
    ("How much of this should I take?", "en", "ibuprofen-en", "ibuprofen", "dosage_and_administration", "dose"),
    ("Can I take this while pregnant?", "en", "ibuprofen-en", "ibuprofen", "pregnancy", "pregnancy"),
    ("Who should not take this?", "en", "simvastatin-en", "simvastatin", "contraindications", "contraindications"),
)

# Sections our label sources never carry as citable passages (the knowledge base keeps the ones listed in
# knowledge/sources/labels.py): overdosage, pregnancy and storage are answered by no passage.
_NOT_IN_KB_SECTIONS = {"overdosage", "pregnancy", "how_supplied"}


def _gold(db: sqlite3.Connection, drug: str, section: str) -> tuple[str, ...]:
    rows = db.execute(
        "SELECT p.id FROM passages p JOIN passage_refs r ON r.passage_id = p.id "
        "WHERE r.ref = ? AND p.section = ? AND p.kind IN ('label', 'product') ORDER BY p.id",
        (f"drug:{drug}", section),
    ).fetchall()
    return tuple(r[0] for r in rows)


def _leaflet_specs() -> dict[str, dict[str, Any]]:
    """The focus set's leaflet pages, keyed by document: the consumer photos reuse them."""
    from evals.datasets import focus

    return {i.doc: i.image for i in focus.load() if i.doc_type == "leaflet"}


def build(kb_path: Path | None = None) -> list[ConsumerItem]:
    if kb_path is None:
        from app.config import get_settings

        kb_path = Path(get_settings().knowledge_base)
    db = sqlite3.connect(f"file:{kb_path}?mode=ro", uri=True)
    specs = _leaflet_specs()
    items: list[ConsumerItem] = []
    rows: list[tuple[str, str, str | None, str, str, str]] = [
        (q, lang, None, drug, section, topic) for q, lang, drug, section, topic in _TEXT
    ]
    rows += [(q, lang, doc, drug, section, topic) for q, lang, doc, drug, section, topic in _PHOTO]
    for n, (question, lang, doc, drug, section, topic) in enumerate(rows, start=1):
        gold = () if section in _NOT_IN_KB_SECTIONS else _gold(db, drug, section)
        items.append(
            ConsumerItem(
                id=f"c{n:03d}",
                lang=lang,
                question=question,
                drug=drug,
                section=section,
                section_in_kb=bool(gold),
                gold=gold,
                image=specs[doc] if doc else None,
                topic=topic,
                sources=("knowledge base passages (var/knowledge.sqlite)",) if gold else (),
            )
        )
    db.close()
    FOLDER.mkdir(parents=True, exist_ok=True)
    with open(ITEMS, "w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")
    return items


def load(path: Path = ITEMS) -> list[ConsumerItem]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                d["gold"] = tuple(d["gold"])
                d["sources"] = tuple(d.get("sources") or ())
                out.append(ConsumerItem(**d))
    return out


if __name__ == "__main__":
    built = build()
    missing = sum(1 for i in built if not i.section_in_kb)
    print(f"consumer: {len(built)} questions ({missing} whose section the knowledge base lacks) -> {ITEMS}")
