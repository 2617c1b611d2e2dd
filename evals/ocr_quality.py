"""OCR quality on a rendered set: CER per page kind and degradation, orientation accuracy, document type,
prescription frequency accuracy, time per page.

    python -m evals.render --out var/eval_pages --count 208 --seed 2024
    python -m evals.ocr_quality --dir var/eval_pages
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

from evals.metrics import cer
from ingestion.ocr.rapid import RapidOcrEngine
from ingestion.pipeline import OcrPipeline


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args(argv)
    pipeline = OcrPipeline(RapidOcrEngine(), cache=None)
    truths = sorted(args.dir.glob("*.json"))[: args.limit or None]
    by_class: dict[str, list[float]] = defaultdict(list)
    by_kind: dict[str, list[float]] = defaultdict(list)
    orient_ok = orient_n = type_ok = freq_ok = freq_n = 0
    times: list[float] = []
    worst: list[tuple[float, str]] = []
    for path in truths:
        truth = json.loads(path.read_text(encoding="utf-8"))
        image = next(p for p in path.parent.glob(path.stem + ".*") if p.suffix != ".json")
        doc = pipeline.read(image.read_bytes(), image.name)
        error = cer(truth["text"], doc.text)
        label = truth["degradation"] if not truth["rotation"] else f"rot{truth['rotation']}"
        by_class[label].append(error)
        by_kind[truth["kind"]].append(error)
        worst.append((error, image.name))
        times.append(doc.timings_ms["total"])
        if truth["rotation"]:
            orient_n += 1
            orient_ok += doc.rotation == (360 - truth["rotation"]) % 360
        else:
            orient_n += 1
            orient_ok += doc.rotation == 0
        type_ok += doc.doc_type == truth["doc_type"]
        if truth["doc_type"] == "prescription":
            expected = [m["frequency"] for m in truth["medications"]]
            got = [m.frequency for m in doc.medications]
            freq_n += len(expected)
            freq_ok += sum(a == b for a, b in zip(expected, got, strict=False))
    print(f"pages: {len(truths)}")
    print(f"{'class':10s} {'n':>4s} {'mean CER':>9s} {'median':>8s} {'max':>8s}")
    for label, errors in [*sorted(by_class.items()), ("--", []), *sorted(by_kind.items())]:
        if not errors:
            print("-" * 43)
            continue
        mean, median = statistics.mean(errors), statistics.median(errors)
        print(f"{label:12s} {len(errors):>4d} {mean:>8.2%} {median:>8.2%} {max(errors):>8.2%}")
    print(f"orientation correct: {orient_ok}/{orient_n}")
    print(f"document type correct: {type_ok}/{len(truths)}")
    print(f"prescription frequencies correct: {freq_ok}/{freq_n}")
    print(f"time per page: median {statistics.median(times):.0f} ms, p90 {sorted(times)[int(0.9 * len(times))]:.0f} ms")
    print("worst pages: " + ", ".join(f"{n} {e:.1%}" for e, n in sorted(worst, reverse=True)[:5]))


if __name__ == "__main__":
    main()
