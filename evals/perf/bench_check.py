"""Benchmark of the drug-knowledge stage through the Python API: knowledge-base size and load time, the lexicon
build, and `check` of 2, 10 and 30 drugs. The interaction-row cache is cleared before every timed `check`, so
each run pays for its own lookups. (The same checks over HTTP are in `bench_service`.)

    python -m evals.perf.bench --sections check
"""

from __future__ import annotations

from pathlib import Path

from evals.perf.results import Figure, Target, time_ms
from knowledge.interactions import InteractionEngine
from knowledge.lexicon import Lexicon
from knowledge.store import KnowledgeBase

DRUGS_10 = [
    "warfarin",
    "aspirin",
    "ibuprofen",
    "lisinopril",
    "amlodipine",
    "simvastatin",
    "metformin",
    "clarithromycin",
    "spironolactone",
    "potassium chloride",
]
DRUGS_30 = [
    *DRUGS_10,
    "sildenafil",
    "nitroglycerin",
    "omeprazole",
    "clopidogrel",
    "sertraline",
    "fluoxetine",
    "digoxin",
    "amiodarone",
    "furosemide",
    "hydrochlorothiazide",
    "losartan",
    "metoprolol",
    "atorvastatin",
    "ciprofloxacin",
    "levothyroxine",
    "prednisone",
    "phenytoin",
    "lithium",
    "alprazolam",
    "tramadol",
]
CHECKS = {2: DRUGS_10[:2], 10: DRUGS_10, 30: DRUGS_30}
CHECK_TARGETS = {10: (Target(5.0),)}


def check_stage(n: int) -> str:
    return f"check of {n} drugs ({n * (n - 1) // 2} pairs)"


def run(path: Path, quick: bool = False) -> list[Figure]:
    """Medians after warm-up; `quick` takes a handful of samples (a smoke run, not a measurement)."""
    loads, lexicons, warm_up = (1, 1, 0) if quick else (5, 3, 1)
    repeats = {2: 10, 10: 10, 30: 3} if quick else {2: 200, 10: 100, 30: 20}
    kb = KnowledgeBase(path)
    engine = InteractionEngine(kb)

    def timed_check(drugs: list[str]) -> None:
        kb.clear_cache()
        engine.check(drugs)

    settings = {"knowledge_base": str(path), "cache": "interaction rows cleared before each run"}
    figures = [
        Figure("knowledge base", "file size", "MB", [path.stat().st_size / 1e6], "value"),
        Figure("knowledge base", "load", "ms", time_ms(lambda: KnowledgeBase(path), loads, warm_up), settings=settings),
        Figure("knowledge base", "lexicon build", "ms", time_ms(lambda: Lexicon(kb), lexicons, warm_up)),
    ]
    for n, drugs in CHECKS.items():
        samples = time_ms(lambda d=drugs: timed_check(d), repeats[n], warm_up=3)  # type: ignore[misc]
        figures.append(
            Figure(
                check_stage(n),
                "Python API",
                "ms",
                samples,
                targets=CHECK_TARGETS.get(n, ()),
                settings={**settings, "drugs": drugs},
            )
        )
    return figures
