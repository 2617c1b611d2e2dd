"""OCR benchmark, side by side on the same images in one run: our pipeline vs bare RapidOCR (same model, its
own line order, no orientation, layout or fields) vs Debian Tesseract (chi_sim+eng, through the `tesseract`
CLI), plus the pipeline's cached re-read. Median time per page and mean CER, with ratios against bare RapidOCR.

    python -m evals.perf.bench_ocr                       # the committed fixture pages
    python -m evals.perf.bench_ocr --dir var/eval_pages --limit 40

Not part of the test run. Timings include contention from anything else running on the machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from evals.metrics import cer
from ingestion.cache import ResultCache
from ingestion.intake import Intake
from ingestion.ocr.rapid import RapidOcrEngine
from ingestion.pipeline import OcrPipeline

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "images"


def _pages(directory: Path, limit: int) -> list[tuple[Path, dict]]:
    out = []
    for truth in sorted(directory.glob("*.json"))[: limit or None]:
        image = next(p for p in truth.parent.glob(truth.stem + ".*") if p.suffix != ".json")
        out.append((image, json.loads(truth.read_text(encoding="utf-8"))))
    return out


def _tesseract(path: Path) -> str:
    done = subprocess.run(
        ["tesseract", str(path), "stdout", "-l", "chi_sim+eng", "--psm", "3"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args(argv)
    pages = _pages(args.dir, args.limit)
    engine = RapidOcrEngine()
    engine.warm_up()
    # Bare RapidOCR as its README shows it: a fresh instance with default settings, called on the image.
    from rapidocr import RapidOCR

    bare: Any = RapidOCR(params={"Global.log_level": "warning"})
    bare(np.full((64, 64, 3), 255, dtype=np.uint8))
    ours = OcrPipeline(engine, cache=None)
    cached = OcrPipeline(engine, cache=ResultCache())
    have_tesseract = shutil.which("tesseract") is not None
    rows: dict[str, tuple[list[float], list[float]]] = {
        "pipeline": ([], []),
        "bare RapidOCR": ([], []),
        "tesseract": ([], []),
        "cached re-read": ([], []),
    }
    intake = Intake()
    for path, truth in pages:
        data = path.read_bytes()
        t = time.perf_counter()
        doc = ours.read(data, path.name)
        rows["pipeline"][0].append(time.perf_counter() - t)
        rows["pipeline"][1].append(cer(truth["text"], doc.text))

        image = intake.decode(data).pages[0]
        t = time.perf_counter()
        out = bare(np.ascontiguousarray(np.asarray(image)[:, :, ::-1]))
        rows["bare RapidOCR"][0].append(time.perf_counter() - t)
        rows["bare RapidOCR"][1].append(cer(truth["text"], "\n".join(out.txts or ())))

        if have_tesseract:
            t = time.perf_counter()
            text = _tesseract(path)
            rows["tesseract"][0].append(time.perf_counter() - t)
            rows["tesseract"][1].append(cer(truth["text"], text))

        cached.read(data, path.name)
        t = time.perf_counter()
        again = cached.read(data, path.name)
        rows["cached re-read"][0].append(time.perf_counter() - t)
        rows["cached re-read"][1].append(cer(truth["text"], again.text))
        print(
            f"  {path.name}: pipeline {rows['pipeline'][1][-1]:.2%}, bare {rows['bare RapidOCR'][1][-1]:.2%}",
            flush=True,
        )

    base_time = statistics.median(rows["bare RapidOCR"][0])
    base_cer = statistics.mean(rows["bare RapidOCR"][1])
    size = Image.open(pages[0][0]).size
    print(f"\n{len(pages)} pages from {args.dir} (first {size[0]}x{size[1]}); CER = mean over pages")
    # Upright one-column pages: where reading order is trivial, so CER is recognition alone.
    simple = [i for i, (_, t) in enumerate(pages) if not t["rotation"] and t["columns"] == 1]
    header = ("engine", "median ms/page", "x bare", "mean CER", "x bare", "CER upright 1-col")
    print(f"{header[0]:16s} {header[1]:>15s} {header[2]:>8s} {header[3]:>9s} {header[4]:>8s} {header[5]:>18s}")
    for name, (times, errors) in rows.items():
        if not times:
            print(f"{name:16s} {'(not installed)':>15s}")
            continue
        med, err = statistics.median(times), statistics.mean(errors)
        ratio_t = f"{med / base_time:.3f}"
        ratio_c = f"{err / base_cer:.3f}" if base_cer else "-"
        plain = statistics.mean(errors[i] for i in simple) if simple else float("nan")
        print(f"{name:16s} {med * 1000:>15.1f} {ratio_t:>8s} {err:>8.2%} {ratio_c:>8s} {plain:>17.2%}")
    if have_tesseract:
        version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        print(f"({version}; rotated pages are in the set, which bare engines read in the wrong order)")


if __name__ == "__main__":
    main()
