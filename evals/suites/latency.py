"""Latency p50/p95 per stage: the OCR pipeline's own stages on the rendered pages, the interaction check, the
retrieval search and the whole answer chain on a slice of the questions."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict

import matplotlib.pyplot as plt
from tqdm import tqdm

from evals.base import EvalResult, Evaluator, Metric
from evals.datasets import questions as gold_questions
from evals.suites.pages import dataset_name, read_pages


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class LatencyEvaluator(Evaluator):
    name = "latency"

    def run(self) -> EvalResult:
        comps = self.ctx.components
        stages: dict[str, list[float]] = defaultdict(list)
        for page in read_pages(self.ctx):
            for stage, ms in page.doc.timings_ms.items():
                stages[f"ocr.{stage}"].append(ms)
        questions = [q for q in gold_questions.load() if not q.image][:: 20 if self.ctx.quick else 4]
        for q in tqdm(questions, desc="latency", unit="q"):
            t = time.perf_counter()
            comps.engine.check(list(q.drugs) or [q.question])
            stages["engine.check"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            comps.retriever.search(q.question, k=6)
            stages["retrieval.search"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            comps.chain.ask(q.question)
            stages["chain.ask"].append((time.perf_counter() - t) * 1000)
        metrics = []
        for stage, values in stages.items():
            ds = dataset_name(self.ctx) if stage.startswith("ocr.") else "evals/data/questions/questions.jsonl"
            s = {"unit": "ms", "quick": self.ctx.quick, "cpu threads": "shared machine"}
            metrics.append(Metric(f"p50_{stage}", statistics.median(values), ds, len(values), s, False))
            metrics.append(Metric(f"p95_{stage}", percentile(values, 0.95), ds, len(values), s, False))
        return EvalResult(self.name, "p95_chain.ask", metrics, plots=[self._plot(stages)])

    def _plot(self, stages: dict[str, list[float]]) -> str:
        names = sorted(stages)
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.boxplot([stages[n] for n in names], showfliers=False)
        ax.set_xticks(range(1, len(names) + 1), names, rotation=40, ha="right", fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel("ms")
        ax.set_title("Latency per stage")
        fig.tight_layout()
        name = "latency.png"
        fig.savefig(self.ctx.out / name, dpi=100)
        plt.close(fig)
        return name
