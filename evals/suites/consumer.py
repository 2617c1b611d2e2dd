"""Questions that are not about a combination: does the answer cite the label section that answers them?

Over evals/data/consumer (dose, side effects, overdose, pregnancy, storage, how to take, exercise; zh/en; some
with a leaflet photo read by the real OCR pipeline). An answer scores when a citation is a gold passage of the
labelled section for that drug (its `record` is the passage id, or the passage's record and its `field`, where
given, the section; without a field its text must be that passage's text), or, when our sources hold no such section
(`section_in_kb` false), when it says so: `to_json()["topic"]["found"] is False`.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from evals.base import EvalResult, Evaluator, Metric
from evals.datasets import consumer as consumer_set
from evals.datasets.consumer import ConsumerItem

if TYPE_CHECKING:
    from app.chain import DocumentContext

QUICK_ITEMS = 10


def cites_section(result: dict[str, Any], gold: dict[str, tuple[str, str, str]]) -> bool:
    """Whether a citation is one of the gold passages. `gold`: passage id -> (record, section, text)."""
    for c in result.get("citations") or []:
        record, field, text = c.get("record"), c.get("field"), str(c.get("text", ""))
        if record in gold:  # the citation names the passage itself
            return True
        for g_record, g_section, g_text in gold.values():
            if record != g_record:
                continue
            if field is not None and field == g_section:
                return True
            head = text.rstrip("…")[:80]
            if field is None and head and head in g_text:
                return True
    return False


# A section of the user's own leaflet or label (its field name) that answers what a label section answers.
_DOCUMENT_FIELDS = {
    "dosage_and_administration": {"dosage", "dosage_and_administration"},
    "adverse_reactions": {"adverse_reactions"},
    "contraindications": {"contraindications"},
    "warnings_and_cautions": {"warnings", "precautions", "warnings_and_precautions", "warnings_and_cautions"},
    "information_for_patients": {"precautions", "information_for_patients"},
    "indications_and_usage": {"indications", "indications_and_usage"},
}


def cites_own_document(result: dict[str, Any], section: str) -> bool:
    """Whether the answer quotes the section of the user's own photographed document that answers the question
    (the leaflet in the user's hand is the best source there is for it)."""
    fields = _DOCUMENT_FIELDS.get(section, {section})
    return any(c.get("document_id") and c.get("field") in fields for c in result.get("citations") or [])


def says_missing(result: dict[str, Any]) -> bool:
    topic = result.get("topic")
    return isinstance(topic, dict) and topic.get("found") is False


def answered(result: dict[str, Any], item: ConsumerItem, gold: dict[str, tuple[str, str, str]]) -> bool:
    if item.image is not None and cites_own_document(result, item.section):
        return True
    return cites_section(result, gold) if item.section_in_kb else says_missing(result)


class ConsumerEvaluator(Evaluator):
    name = "consumer"
    dataset = "evals/data/consumer/consumer.jsonl"

    def run(self) -> EvalResult:
        comps = self.ctx.components
        items = consumer_set.load()
        if self.ctx.quick:
            items = items[:: max(1, len(items) // QUICK_ITEMS)][:QUICK_ITEMS]
        gold = self._gold(items)
        contexts = self._read([i for i in items if i.image])
        graded = []
        for item in tqdm(items, desc="consumer", unit="q"):
            docs = [contexts[item.id]] if item.image else []
            result = comps.chain.ask(item.question, docs).to_json()
            graded.append((item, result, answered(result, item, gold[item.id])))
        return self._result(graded)

    def _gold(self, items: list[ConsumerItem]) -> dict[str, dict[str, tuple[str, str, str]]]:
        db = sqlite3.connect(f"file:{self.ctx.components.settings.knowledge_base}?mode=ro", uri=True)
        out: dict[str, dict[str, tuple[str, str, str]]] = {}
        for item in items:
            rows = [
                db.execute("SELECT id, record, section, text FROM passages WHERE id = ?", (pid,)).fetchone()
                for pid in item.gold
            ]
            out[item.id] = {r[0]: (r[1], r[2], r[3]) for r in rows if r}
        db.close()
        return out

    def _read(self, items: list[ConsumerItem]) -> dict[str, DocumentContext]:
        from app.documents import document_context
        from evals.render.documents import render_document

        comps = self.ctx.components
        out: dict[str, DocumentContext] = {}
        for item in tqdm(items, desc="consumer pages", unit="page"):
            assert item.image is not None
            data, ext, _ = render_document(item.image)
            out[item.id] = document_context(item.id, comps.ocr.read(data, f"{item.id}.{ext}"), comps.lexicon)
        return out

    def _result(self, graded: list[tuple[ConsumerItem, dict[str, Any], bool]]) -> EvalResult:
        settings = {"composer": self.ctx.components.composer.name, "quick": self.ctx.quick}

        def rate(name: str, sub: list[tuple[ConsumerItem, dict[str, Any], bool]]) -> Metric:
            return Metric(name, sum(ok for *_, ok in sub) / max(1, len(sub)), self.dataset, len(sub), settings)

        metrics = [
            rate("consumer_section_answered", graded),
            rate("consumer_cites_section", [g for g in graded if g[0].section_in_kb]),
            rate("consumer_says_missing", [g for g in graded if not g[0].section_in_kb]),
            rate("consumer_photo", [g for g in graded if g[0].image]),
            Metric(
                "consumer_info_verdict",
                sum(r.get("verdict") == "info" for _, r, _ in graded) / max(1, len(graded)),
                self.dataset,
                len(graded),
                settings,
            ),
        ]
        for lang in ("zh", "en"):
            metrics.append(rate(f"consumer_section_answered_{lang}", [g for g in graded if g[0].lang == lang]))
        failures: list[dict[str, Any]] = [
            {
                "id": item.id,
                "q": item.question,
                "drug": item.drug,
                "section": item.section,
                "in_kb": item.section_in_kb,
                "verdict": r.get("verdict"),
                "topic": r.get("topic"),
                "cited": [f"{c.get('record')}/{c.get('field')}" for c in r.get("citations") or []][:4],
            }
            for item, r, ok in graded
            if not ok
        ]
        return EvalResult(self.name, "consumer_section_answered", metrics, failures=failures)
