"""Retrieval recall@1/5/10 and MRR on the labelled retrieval questions, per embedder and for BM25-only,
dense-only and hybrid (wraps evals/retrieval_eval.py). BM25-only is the lexical baseline.

The quick slice uses the configured embedder and its ready index; the full run also embeds the knowledge base
with every other embedder (minutes each; indexes kept under var/index/eval/<embedder>/).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from evals import retrieval_eval as rx
from evals.base import EvalResult, Evaluator, Metric
from knowledge.lexicon import Lexicon
from knowledge.retrieval.bm25 import Bm25Tokenizer
from knowledge.retrieval.embedders import get_embedder
from knowledge.retrieval.hybrid import HybridRetriever, class_parents, mention_refs
from knowledge.retrieval.kb_index import build_kb_index, open_kb_index


class RetrievalEvaluator(Evaluator):
    name = "retrieval"
    dataset = "evals/data/retrieval/questions.jsonl"

    def run(self) -> EvalResult:
        comps = self.ctx.components
        settings = comps.settings
        kb = comps.kb
        questions = rx.load_questions()
        if self.ctx.quick:
            questions = questions[::3]
        refs = {q.id: mention_refs(Lexicon(kb).find_mentions(q.question)) for q in questions}
        results: list[rx.RunResult] = []
        main = comps.retriever
        results.append(rx.evaluate(main, questions, "bm25", None, "-"))
        results.append(rx.evaluate(main, questions, "bm25", refs, "-"))
        for spec in [settings.embedder] + (
            [] if self.ctx.quick else [e for e in rx.EMBEDDERS if e != settings.embedder]
        ):
            if spec == settings.embedder:
                retriever = main
            else:
                embedder = get_embedder(spec)
                directory = settings.index_dir / "eval" / spec
                build_kb_index(kb, embedder, directory)
                retriever = HybridRetriever(
                    open_kb_index(kb, embedder, directory),
                    embedder,
                    Bm25Tokenizer.for_knowledge_base(kb),
                    classes_of=kb.classes_of,
                    class_parents=class_parents(kb.class_children),
                )
            name = retriever.embedder.name
            results.append(rx.evaluate(retriever, questions, "dense", None, name))
            results.append(rx.evaluate(retriever, questions, "hybrid", None, name))
            results.append(rx.evaluate(retriever, questions, "hybrid", refs, name))
        metrics = []
        for r in results:
            s = {"embedder": r.embedder, "mode": r.mode, "depth": rx.DEPTH, "quick": self.ctx.quick}
            key = f"{r.embedder}/{r.mode}"
            for metric in ("recall_at_1", "recall_at_5", "recall_at_10", "mrr"):
                metrics.append(Metric(f"{metric}[{key}]", getattr(r, metric), self.dataset, len(questions), s))
        main_key = f"{main.embedder.name}/hybrid+refs"
        metrics.insert(
            0,
            Metric(
                "recall_at_5",
                next(m.value for m in metrics if m.name == f"recall_at_5[{main_key}]"),
                self.dataset,
                len(questions),
                {"run": main_key, "quick": self.ctx.quick},
            ),
        )
        return EvalResult(
            self.name,
            "recall_at_5",
            metrics,
            tables=[rx.to_markdown(results, len(questions))],
            plots=[self._plot(results)],
        )

    def _plot(self, results: list[rx.RunResult]) -> str:
        fig, ax = plt.subplots(figsize=(8, 4))
        for r in results:
            ax.plot(
                [1, 5, 10], [r.recall_at_1, r.recall_at_5, r.recall_at_10], marker="o", label=f"{r.embedder} {r.mode}"
            )
        ax.set_xlabel("k")
        ax.set_ylabel("recall@k")
        ax.set_ylim(0, 1)
        ax.set_title("Retrieval recall@k by embedder and mode")
        ax.legend(fontsize=7)
        fig.tight_layout()
        name = "recall_by_embedder.png"
        fig.savefig(self.ctx.out / name, dpi=100)
        plt.close(fig)
        return name
