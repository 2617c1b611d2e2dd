"""The rendered page set the ocr, fields and latency suites share: rendered once per run by evals.render (with
ground truth) and read once by the real OCR pipeline."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.base import EvalContext
from evals.render.pages import PLAN, render_page
from ingestion.document import ParsedDocument

FULL_COUNT = 208  # 13 passes over the 16 kinds x degradations x rotations of the plan
QUICK_COUNT = 4
SEED = 2024


@dataclass
class Page:
    name: str
    path: Path
    truth: dict[str, Any]
    doc: ParsedDocument
    seconds: float


def dataset_name(ctx: EvalContext) -> str:
    return f"evals.render seed={SEED} count={QUICK_COUNT if ctx.quick else FULL_COUNT}"


def read_pages(ctx: EvalContext) -> list[Page]:
    if "pages" in ctx.shared:
        pages: list[Page] = ctx.shared["pages"]
        return pages
    count = QUICK_COUNT if ctx.quick else FULL_COUNT
    folder = ctx.out / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    ocr = ctx.components.ocr
    pages = []
    for i in tqdm(range(count), desc="ocr pages", unit="page"):
        spec = PLAN[i % len(PLAN)]
        name = f"{i:03d}_{spec.kind}_{spec.columns}col_{spec.degradation}_r{spec.rotation}"
        data, ext, truth = render_page(spec, seed=SEED * 100_000 + i)
        path = folder / f"{name}.{ext}"
        path.write_bytes(data)
        (folder / f"{name}.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
        started = time.perf_counter()
        doc = ocr.read(data, path.name)
        pages.append(Page(name, path, truth, doc, time.perf_counter() - started))
    ctx.shared["pages"] = pages
    return pages
