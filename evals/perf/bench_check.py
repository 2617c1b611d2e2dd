"""Benchmark of the drug-knowledge stage: knowledge-base size, load time, and `check` of 2, 10 and 30 drugs.

Prints a table and writes JSON (var/bench/check.json). Medians over repeated runs after a warm-up; the
interaction-row cache is cleared before every timed `check`, so each run pays for its own lookups.

    make bench-kb      # or: python -m evals.perf.bench_check
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from app.config import get_settings
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


def _median_ms(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    path = get_settings().knowledge_base
    load_ms = _median_ms(lambda: KnowledgeBase(path), 5)
    kb = KnowledgeBase(path)
    lexicon_ms = _median_ms(lambda: Lexicon(kb), 3)
    engine = InteractionEngine(kb)

    def timed_check(drugs: list[str]) -> None:
        kb.clear_cache()
        engine.check(drugs)

    for _ in range(3):
        timed_check(DRUGS_30)
    results = {
        "kb_file_mb": round(path.stat().st_size / 1e6, 1),
        "kb_load_ms": round(load_ms, 1),
        "lexicon_build_ms": round(lexicon_ms, 1),
        "check_2_drugs_ms": round(_median_ms(lambda: timed_check(DRUGS_10[:2]), 200), 3),
        "check_10_drugs_45_pairs_ms": round(_median_ms(lambda: timed_check(DRUGS_10), 100), 3),
        "check_30_drugs_435_pairs_ms": round(_median_ms(lambda: timed_check(DRUGS_30), 20), 3),
        "check_class_word_ibuprofen_vs_blood_pressure_pills_ms": round(
            _median_ms(lambda: timed_check(["ibuprofen", "blood-pressure pill"]), 20), 3
        ),
    }
    targets = {"kb_load_ms": 1000.0, "check_10_drugs_45_pairs_ms": 5.0}
    print(f"{'measure':58} {'value':>10}  target")
    for key, value in results.items():
        target = targets.get(key)
        mark = "" if target is None else (f"< {target:g}  {'ok' if value < target else 'MISSED'}")
        print(f"{key:58} {value:>10}  {mark}")
    out = Path(get_settings().var_dir) / "bench" / "check.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
