"""A bounded load test of the HTTP service on loopback: N concurrent clients for a fixed time, mixing photo chats
(real OCR), text chats and interaction checks, against a real server started here on a free 127.0.0.1 port.

Reports throughput, p50/p95/p99 per kind, status counts (429 and 503 apart: deliberate backpressure), and the
server's peak RSS with its first- and last-quarter averages (memory should stay flat). Exits 1 on any 5xx
other than 503. Not part of `make test`: `make load`, figures in var/bench/load.json.

    python -m evals.perf.load [--clients 32] [--seconds 120]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

from evals.perf.bench_service import QUESTIONS, _leaflet
from evals.perf.local_server import local_server, percentiles, rss_mb

CHECKS = [["华法林", "阿司匹林"], ["warfarin", "ibuprofen"], ["氨氯地平", "辛伐他汀"], ["metformin", "paracetamol"]]
# Photo chats draw from a small pool: some are new readings (OCR), repeats are the owner's stored readings.
PHOTOS = 24
KINDS = ["photo", "text", "check"]
WEIGHTS = [0.2, 0.5, 0.3]


async def _client(
    base: str,
    until: float,
    rng: random.Random,
    uris: list[str],
    latencies: dict[str, list[float]],
    statuses: Counter[str],
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        while time.monotonic() < until:
            kind = rng.choices(KINDS, WEIGHTS)[0]
            body: dict[str, object]
            if kind == "photo":
                content: object = [
                    {"type": "text", "text": "这药能和辛伐他汀一起吃吗？"},
                    {"type": "image_url", "image_url": {"url": rng.choice(uris)}},
                ]
                path, body = "/v1/chat/completions", {"messages": [{"role": "user", "content": content}]}
            elif kind == "text":
                question = f"{rng.choice(QUESTIONS)} ({rng.randrange(10_000)})"
                path, body = "/v1/chat/completions", {"messages": [{"role": "user", "content": question}]}
            else:
                path, body = "/v1/interactions/check", {"drugs": rng.choice(CHECKS)}
            started = time.perf_counter()
            try:
                r = await client.post(path, json=body)
                status = str(r.status_code)
            except httpx.HTTPError as e:
                status = f"transport:{type(e).__name__}"
            latencies[kind].append((time.perf_counter() - started) * 1000)
            statuses[status] += 1
            if status in ("429", "503"):
                await asyncio.sleep(float(r.headers.get("retry-after", "1")))


async def _sample_rss(pid: int, until: float, samples: list[tuple[float, float]]) -> None:
    start = time.monotonic()
    while time.monotonic() < until:
        samples.append((time.monotonic() - start, rss_mb(pid)))
        await asyncio.sleep(1.0)


async def _run(base: str, pid: int, clients: int, seconds: float) -> dict[str, object]:
    uris = ["data:image/png;base64," + base64.b64encode(_leaflet(i)).decode() for i in range(PHOTOS)]
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    rss: list[tuple[float, float]] = []
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(
        _sample_rss(pid, until, rss),
        *(_client(base, until, random.Random(i), uris, latencies, statuses) for i in range(clients)),
    )
    elapsed = time.monotonic() - started
    total = sum(statuses.values())
    quarter = max(1, len(rss) // 4)
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": total,
        "throughput_rps": round(total / elapsed, 2),
        "latency_ms": {kind: percentiles(v) for kind, v in sorted(latencies.items())},
        "latency_ms_all": percentiles([x for v in latencies.values() for x in v]),
        "statuses": dict(sorted(statuses.items())),
        "rate_limited_429": statuses.get("429", 0),
        "busy_503": statuses.get("503", 0),
        "server_errors_5xx_not_503": sum(n for s, n in statuses.items() if s.startswith("5") and s != "503"),
        "transport_errors": sum(n for s, n in statuses.items() if s.startswith("transport")),
        "rss_mb": {
            "peak": round(max(m for _, m in rss), 0) if rss else 0,
            "first_quarter_mean": round(sum(m for _, m in rss[:quarter]) / quarter, 0) if rss else 0,
            "last_quarter_mean": round(sum(m for _, m in rss[-quarter:]) / quarter, 0) if rss else 0,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args()
    with local_server("load") as server:
        results = asyncio.run(_run(server.base_url, server.pid, args.clients, args.seconds))
    print(json.dumps(results, indent=2, ensure_ascii=False))
    out = Path("var/bench/load.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    if results["server_errors_5xx_not_503"] or results["transport_errors"]:
        raise SystemExit("server errors other than deliberate 503 backpressure")


if __name__ == "__main__":
    main()
