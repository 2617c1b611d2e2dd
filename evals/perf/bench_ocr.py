"""OCR benchmark, side by side on the same pages in one run: our pipeline vs bare RapidOCR (same model, its own
line order, no orientation, layout or fields) vs Debian Tesseract (chi_sim+eng, through the `tesseract` CLI),
plus the pipeline's cached re-read. Time per page and mean CER, with ratios against bare RapidOCR; the
contenders take turns on each page, so contention from anything else running hits them alike.

Also `batch`: pages per second when a batch of 1, 8 or 32 pages is handed to the service's OCR pool at once,
on whatever device the engine picked by itself (CUDA when onnxruntime offers it).

    python -m evals.perf.bench --sections ocr,batch      # the committed fixture pages
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from evals.metrics import cer
from evals.perf.results import Figure, Target
from ingestion.cache import ResultCache
from ingestion.intake import Intake
from ingestion.ocr.rapid import RapidOcrEngine
from ingestion.pipeline import OcrPipeline

FIXTURE_PAGES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "images"
STAGE = "OCR of a page"
CER_STAGE = "OCR character error rate"
BARE = "bare RapidOCR"


def load_pages(directory: Path, limit: int = 0) -> list[tuple[Path, dict[str, Any]]]:
    """Rendered pages with their ground truth (`*.json` next to each image)."""
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


def run(directory: Path = FIXTURE_PAGES, limit: int = 0, repeat: int = 1) -> list[Figure]:
    """Every page read by every contender `repeat` times (after one warm-up page); CER from the first read."""
    pages = load_pages(directory, limit)
    engine = RapidOcrEngine()
    engine.warm_up()
    # Bare RapidOCR as its README shows it: a fresh instance with default settings, called on the image; only
    # the device and thread count are ours, so both run on the same hardware.
    from rapidocr import RapidOCR

    bare: Any = RapidOCR(
        params={
            "Global.log_level": "warning",
            "EngineConfig.onnxruntime.intra_op_num_threads": engine.threads,
            "EngineConfig.onnxruntime.use_cuda": engine.device == "cuda",
        }
    )
    bare(np.full((64, 64, 3), 255, dtype=np.uint8))
    ours = OcrPipeline(engine, cache=None)
    cached = OcrPipeline(engine, cache=ResultCache())
    tesseract = shutil.which("tesseract") is not None
    intake = Intake()

    def read_ours(path: Path, data: bytes) -> str:
        return ours.read(data, path.name).text

    def read_bare(path: Path, data: bytes) -> str:
        image = intake.decode(data).pages[0]
        out = bare(np.ascontiguousarray(np.asarray(image)[:, :, ::-1]))
        return "\n".join(out.txts or ())

    def read_cached(path: Path, data: bytes) -> str:
        return cached.read(data, path.name).text

    contenders: dict[str, Callable[[Path, bytes], str]] = {
        "RxLens pipeline": read_ours,
        BARE: read_bare,
        "cached re-read": read_cached,
    }
    if tesseract:
        contenders["Tesseract 5 (CLI)"] = lambda path, _data: _tesseract(path)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    errors: dict[str, list[float]] = {name: [] for name in contenders}
    read_ours(pages[0][0], pages[0][0].read_bytes())  # warm-up: first-call allocations
    for path, truth in pages:
        data = path.read_bytes()
        cached.read(data, path.name)  # the first read fills the cache; the timed ones are re-reads
        for round_ in range(repeat):
            for name, read in contenders.items():
                started = time.perf_counter()
                text = read(path, data)
                times[name].append((time.perf_counter() - started) * 1000)
                if round_ == 0:
                    errors[name].append(100 * cer(truth["text"], text))
    settings = {
        "pages": len(pages),
        "directory": str(directory),
        "repeat": repeat,
        "ocr_device": engine.device,
        "ocr_threads": engine.threads,
        "rotated_pages": sum(1 for _, t in pages if t["rotation"]),
    }
    figures = []
    for name in contenders:
        targets: tuple[Target, ...] = ()
        if name == "RxLens pipeline":
            targets = (Target(1.10, on="ratio"),)
        elif name == "cached re-read":
            targets = (Target(20.0),)
        figures.append(Figure(STAGE, name, "ms", times[name], "median", BARE, targets, settings))
    for name in contenders:
        if name != "cached re-read":
            note = {**settings, "note": "bare engines read rotated pages in the wrong order and lose columns"}
            figures.append(Figure(CER_STAGE, name, "%", errors[name], "mean", BARE, (), note))
    return figures


def batch(directory: Path = FIXTURE_PAGES, sizes: tuple[int, ...] = (1, 8, 32), workers: int = 2) -> list[Figure]:
    """Pages per second for a batch of N pages handed at once to a pool of `workers` threads (the service's OCR
    pool), pages cycled from `directory`; cache off, so every page is really read."""
    pages = [p.read_bytes() for p, _ in load_pages(directory)]
    engine = RapidOcrEngine()
    engine.warm_up()
    pipeline = OcrPipeline(engine, cache=None)
    pipeline.read(pages[0])
    figures = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for size in sizes:
            batch_pages = [pages[i % len(pages)] for i in range(size)]
            started = time.perf_counter()
            list(pool.map(pipeline.read, batch_pages))
            rate = size / (time.perf_counter() - started)
            targets = (Target(12.0, below=False),) if engine.device == "cuda" else ()
            settings = {"batch": size, "workers": workers, "ocr_device": engine.device, "ocr_threads": engine.threads}
            figures.append(
                Figure(
                    "OCR pages per second", f"batch {size}", "pages/s", [rate], "value", "batch 1", targets, settings
                )
            )
    return figures
