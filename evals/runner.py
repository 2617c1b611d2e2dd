"""Runs the chosen suites with shared components and writes report.md, results.json and the plots.

rxlens-eval --suite all --out var/eval/report        # or: python -m evals --suite all
rxlens-eval --suite focus,consumer --quick
"""

from __future__ import annotations

import time
from pathlib import Path

from evals.base import EvalContext, EvalResult, Evaluator
from evals.report import write

SUITES = ("ocr", "fields", "handwriting", "retrieval", "interactions", "qa", "focus", "consumer", "latency")


def _evaluator(name: str) -> type[Evaluator]:
    # Imported on demand: the ocr suites load the OCR model, the retrieval suite the embedders.
    if name == "ocr":
        from evals.suites.ocr import OcrEvaluator

        return OcrEvaluator
    if name == "fields":
        from evals.suites.ocr import FieldsEvaluator

        return FieldsEvaluator
    if name == "handwriting":
        from evals.suites.handwriting import HandwritingEvaluator

        return HandwritingEvaluator
    if name == "retrieval":
        from evals.suites.retrieval import RetrievalEvaluator

        return RetrievalEvaluator
    if name == "interactions":
        from evals.suites.interactions import InteractionsEvaluator

        return InteractionsEvaluator
    if name == "qa":
        from evals.suites.qa import QaEvaluator

        return QaEvaluator
    if name == "focus":
        from evals.suites.focus import FocusEvaluator

        return FocusEvaluator
    if name == "consumer":
        from evals.suites.consumer import ConsumerEvaluator

        return ConsumerEvaluator
    if name == "latency":
        from evals.suites.latency import LatencyEvaluator

        return LatencyEvaluator
    raise ValueError(f"unknown suite {name!r}: choose from {', '.join(SUITES)} or all")


def run(suites: str, quick: bool, out: Path) -> list[EvalResult]:
    from app.components import Components
    from app.config import get_settings

    names = list(SUITES) if suites == "all" else [s.strip() for s in suites.split(",") if s.strip()]
    classes = [_evaluator(n) for n in names]
    out.mkdir(parents=True, exist_ok=True)
    ctx = EvalContext(Components(get_settings()), out, quick)
    started = time.perf_counter()
    results = []
    for cls in classes:
        result = cls(ctx).run()
        results.append(result)
        m = result.primary_metric
        print(f"{result.suite}: {m.name} = {m.value:.3f} (n={m.size})", flush=True)
        write(results, out, quick, time.perf_counter() - started)  # a report after every suite
    return results
