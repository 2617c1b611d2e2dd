"""Latency of the HTTP service: text chat and chat with a leaflet photo, over a real uvicorn server on loopback,
plus the server's memory once warm. Prints a table and writes var/bench/service.json.

    python -m evals.perf.bench_service [--text 50] [--photo 10]
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from pathlib import Path

import httpx

from evals.perf.local_server import local_server, percentiles, rss_mb
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


def _leaflet(seed: int) -> bytes:
    from io import BytesIO

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--text", type=int, default=50)
    parser.add_argument("--photo", type=int, default=10)
    args = parser.parse_args()
    with local_server("bench") as server, httpx.Client(base_url=server.base_url, timeout=120) as client:

        def chat(content: object) -> float:
            t = time.perf_counter()
            r = client.post(
                "/v1/chat/completions", json={"model": "rxlens", "messages": [{"role": "user", "content": content}]}
            )
            r.raise_for_status()
            return (time.perf_counter() - t) * 1000

        for q in QUESTIONS:
            chat(q)
        text = [chat(QUESTIONS[i % len(QUESTIONS)] + f" ({i})") for i in range(args.text)]
        photo = []
        for i in range(args.photo):
            uri = "data:image/png;base64," + base64.b64encode(_leaflet(i)).decode()
            photo.append(
                chat(
                    [
                        {"type": "text", "text": "这药能和辛伐他汀一起吃吗？"},
                        {"type": "image_url", "image_url": {"url": uri}},
                    ]
                )
            )
        results = {
            "startup_to_ready_s": round(server.ready_s, 1),
            "text_chat_ms": percentiles(text),
            "photo_chat_ms": percentiles(photo),
            "server_rss_mb_warm": round(rss_mb(server.pid), 0),
        }
    print(json.dumps(results, indent=2))
    out = Path("var/bench/service.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
