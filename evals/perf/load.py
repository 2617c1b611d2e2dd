"""Load on the HTTP service over loopback, against a real server started on a free 127.0.0.1 port.

`main`: a bounded load test: N concurrent clients for a fixed time, mixing photo chats (real OCR), text chats
and interaction checks. Reports throughput, p50/p95/p99 per kind, status counts (429 and 503 apart: deliberate
backpressure), and the server's peak RSS with its first- and last-quarter averages (memory should stay flat).
Exits 1 on any 5xx other than 503. Not part of `make test`: `make load`, figures in var/bench/load.json.

`throughput`: the benchmark's section: a fixed number of requests of one kind (text chat, or chat with a new
photo each time) shared by 1, 4 or 8 concurrent clients; requests per second and latency at each level.

    python -m evals.perf.load [--clients 32] [--seconds 120]
    python -m evals.perf.bench --sections throughput
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

from evals.perf.bench_service import QUESTIONS, leaflet, photo_message, questions
from evals.perf.local_server import local_server, percentiles, rss_mb
from evals.perf.results import Figure

CHECKS = [["华法林", "阿司匹林"], ["warfarin", "ibuprofen"], ["氨氯地平", "辛伐他汀"], ["metformin", "paracetamol"]]
# Photo chats draw from a small pool: some are new readings (OCR), repeats are the owner's stored readings.
PHOTOS = 24
KINDS = ["photo", "text", "check"]
WEIGHTS = [0.2, 0.5, 0.3]


async def _client(
    base: str,
    until: float,
    rng: random.Random,
    photos: list[list[dict[str, object]]],
    latencies: dict[str, list[float]],
    statuses: Counter[str],
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        while time.monotonic() < until:
            kind = rng.choices(KINDS, WEIGHTS)[0]
            body: dict[str, object]
            if kind == "photo":
                content: object = rng.choice(photos)
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
    photos = [photo_message(leaflet(i)) for i in range(PHOTOS)]
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    rss: list[tuple[float, float]] = []
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(
        _sample_rss(pid, until, rss),
        *(_client(base, until, random.Random(i), photos, latencies, statuses) for i in range(clients)),
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


async def _drain(base: str, queue: list[dict[str, object]], latencies: list[float], statuses: Counter[str]) -> None:
    """One client: posts chat requests from the shared queue until it is empty."""
    async with httpx.AsyncClient(base_url=base, timeout=180) as client:
        while queue:
            body = queue.pop()
            started = time.perf_counter()
            try:
                r = await client.post("/v1/chat/completions", json=body)
                statuses[str(r.status_code)] += 1
            except httpx.HTTPError as e:
                statuses[f"transport:{type(e).__name__}"] += 1
            latencies.append((time.perf_counter() - started) * 1000)


def throughput(base: str, kind: str, clients: int, requests: int, first_seed: int = 100_000) -> Figure:
    """`requests` chat requests of one kind ("text", or "photo": a new leaflet each, so each is really read)
    shared by `clients` concurrent clients; the figure is requests per second over the whole batch."""
    if kind == "photo":
        contents: list[object] = [photo_message(leaflet(first_seed + i)) for i in range(requests)]
    else:
        asked = questions()
        contents = [f"{next(asked)} [{first_seed}]" for _ in range(requests)]
    queue: list[dict[str, object]] = [{"messages": [{"role": "user", "content": c}]} for c in contents]
    latencies: list[float] = []
    statuses: Counter[str] = Counter()

    async def run_all() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(_drain(base, queue, latencies, statuses) for _ in range(clients)))
        return time.perf_counter() - started

    elapsed = asyncio.run(run_all())
    settings = {
        "requests": requests,
        "seconds": round(elapsed, 2),
        "latency_ms": percentiles(latencies),
        "statuses": dict(sorted(statuses.items())),
    }
    label = "client" if clients == 1 else "clients"
    return Figure(
        f"throughput, {kind} chat over HTTP",
        f"{clients} {label}",
        "req/s",
        [requests / elapsed],
        "value",
        "1 client",
        settings=settings,
    )


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
