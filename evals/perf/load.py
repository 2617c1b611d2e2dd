"""Load on the HTTP service over loopback, against a real server started on a free 127.0.0.1 port.

`main`: a bounded load test: N concurrent clients for a fixed time, mixing photo chats (real OCR), text chats and
interaction checks. Reports throughput, p50/p95/p99 per kind, status counts (429 and 503 apart: deliberate
backpressure), and the server's memory, sampled every second with psutil: RSS when ready, the peak, first- and
last-quarter means, and the least-squares slope over the second half of the run, of every sample and of the floor
(the least RSS within 10 s: what stays between photo readings, whose buffers come and go by a hundred MB or more).
The first half is warm-up (worker threads and their malloc arenas and SQLite page caches appearing, caches filling,
models' first use at new input sizes); a floor that keeps rising through the second half is what a leak looks like,
so "flat" is judged on the floor's slope alone. Exits 1 on any 5xx other than 503. Not part of `make test`: `make
load`, figures in var/bench/load.json.

`throughput`: the benchmark's section: a fixed number of requests of one kind (text chat, or chat with a new
photo each time) shared by 1, 4 or 8 concurrent clients; requests per second and latency at each level.

    python -m evals.perf.load [--clients 32] [--seconds 120] [--malloc-arena-max N]
    python -m evals.perf.bench --sections throughput
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import psutil

from evals.perf.bench_service import QUESTIONS, leaflet, photo_message, questions
from evals.perf.local_server import local_server, percentiles
from evals.perf.results import Figure

CHECKS = [["华法林", "阿司匹林"], ["warfarin", "ibuprofen"], ["氨氯地平", "辛伐他汀"], ["metformin", "paracetamol"]]
# Photo chats draw from a small pool: some are new readings (OCR), repeats are the owner's stored readings.
PHOTOS = 24
KINDS = ["photo", "text", "check"]
WEIGHTS = [0.2, 0.5, 0.3]
# A floor rising slower than this (MB per minute) over the second half, by two standard errors, counts as flat:
# RSS moves by a few MB as pages are touched and returned, and one minute of samples cannot resolve less.
FLAT_MB_PER_MIN = 5.0
FLOOR_WINDOW_S = 10.0


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


async def _sample_memory(pid: int, until: float, samples: list[tuple[float, float, int]]) -> None:
    """(seconds since start, RSS in MB, threads) of the server, once a second."""
    process = psutil.Process(pid)
    start = time.monotonic()
    while time.monotonic() < until:
        samples.append((time.monotonic() - start, process.memory_info().rss / 2**20, process.num_threads()))
        await asyncio.sleep(1.0)


def _slope(points: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Least-squares fit y = a + b*t: (b, its standard error, a)."""
    n = len(points)
    if n < 3:
        return 0.0, 0.0, points[0][1] if points else 0.0
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    stt = sum((t - mt) ** 2 for t, _ in points)
    b = sum((t - mt) * (y - my) for t, y in points) / stt
    a = my - b * mt
    residual = sum((y - a - b * t) ** 2 for t, y in points)
    return b, math.sqrt(residual / (n - 2) / stt), a


def memory_report(at_ready: float, samples: list[tuple[float, float, int]]) -> dict[str, object]:
    """RSS figures that tell warm-up from steady-state growth (see the module docstring)."""
    if not samples:
        return {"at_ready": round(at_ready)}
    rss = [(t, m) for t, m, _ in samples]
    quarter = max(1, len(rss) // 4)
    half_t = rss[-1][0] / 2
    second_half = [(t, m) for t, m in rss if t >= half_t]
    slope, stderr, intercept = _slope(second_half)
    # RSS swings by a hundred MB or more as photos are read and their buffers freed; what stays between
    # readings is the floor (the least RSS within FLOOR_WINDOW_S around each sample), and a leak raises it.
    floor = [
        (t, min(m for u, m in rss if abs(u - t) <= FLOOR_WINDOW_S / 2))
        for t, _ in rss
        if t >= half_t and t + FLOOR_WINDOW_S / 2 <= rss[-1][0]  # whole windows only: a cut one reads high
    ]
    floor_slope, floor_stderr, _ = _slope(floor)
    level_mid = intercept + slope * half_t
    level_end = intercept + slope * rss[-1][0]
    per_min = floor_slope * 60
    return {
        "at_ready": round(at_ready),
        "peak": round(max(m for _, m in rss)),
        "first_quarter_mean": round(sum(m for _, m in rss[:quarter]) / quarter),
        "last_quarter_mean": round(sum(m for _, m in rss[-quarter:]) / quarter),
        "warm_up_growth": round(level_mid - at_ready),
        "second_half_slope_mb_per_min": round(slope * 60, 1),
        "second_half_slope_stderr": round(stderr * 60, 1),
        "second_half_growth": round(level_end - level_mid),
        "second_half_floor_slope_mb_per_min": round(per_min, 1),
        "second_half_floor_slope_stderr": round(floor_stderr * 60, 1),
        "memory": _verdict(per_min, floor_stderr * 60),
        "threads_peak": max(n for _, _, n in samples),
        "threads_last": samples[-1][2],
    }


def _verdict(slope: float, stderr: float) -> str:
    """flat or growing only when two standard errors either side of the floor's slope agree."""
    if slope + 2 * stderr <= FLAT_MB_PER_MIN:
        return "flat"
    if slope - 2 * stderr > FLAT_MB_PER_MIN:
        return "growing"
    return "inconclusive: run longer (--seconds)"


async def _run(base: str, pid: int, clients: int, seconds: float) -> dict[str, object]:
    photos = [photo_message(leaflet(i)) for i in range(PHOTOS)]
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    memory: list[tuple[float, float, int]] = []
    at_ready = psutil.Process(pid).memory_info().rss / 2**20
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(
        _sample_memory(pid, until, memory),
        *(_client(base, until, random.Random(i), photos, latencies, statuses) for i in range(clients)),
    )
    elapsed = time.monotonic() - started
    total = sum(statuses.values())
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
        "requests": total,
        "throughput_rps": round(total / elapsed, 2),
        "latency_ms": {kind: percentiles(v) for kind, v in sorted(latencies.items())},
        "latency_ms_all": percentiles([x for v in latencies.values() for x in v]),
        "statuses": dict(sorted(statuses.items())),
        "rate_limited_429": statuses.get("429", 0),
        "busy_503": statuses.get("503", 0),
        "server_errors_5xx_not_503": sum(n for s, n in statuses.items() if s.startswith("5") and s != "503"),
        "transport_errors": sum(n for s, n in statuses.items() if s.startswith("transport")),
        "rss_mb": memory_report(at_ready, memory),
        "rss_samples": [[round(t, 1), round(m, 1), n] for t, m, n in memory],
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
    parser.add_argument(
        "--malloc-arena-max",
        type=int,
        help="MALLOC_ARENA_MAX for the server (glibc makes up to 8 arenas per core for its many threads)",
    )
    parser.add_argument("--out", type=Path, default=Path("var/bench/load.json"))
    args = parser.parse_args()
    if args.malloc_arena_max:
        os.environ["MALLOC_ARENA_MAX"] = str(args.malloc_arena_max)  # the server inherits this environment
    with local_server("load") as server:
        results = asyncio.run(_run(server.base_url, server.pid, args.clients, args.seconds))
    print(json.dumps({k: v for k, v in results.items() if k != "rss_samples"}, indent=2, ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    if results["server_errors_5xx_not_503"] or results["transport_errors"]:
        raise SystemExit("server errors other than deliberate 503 backpressure")


if __name__ == "__main__":
    main()
