"""A real `rxlens serve` on a free loopback port, for the benchmarks that measure the service from outside:
temporary user data, the built KB index, no rate limit (one local owner stands in for many users). Also the
latency and memory figures those benchmarks share."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    pid: int
    ready_s: float


@contextmanager
def local_server(prefix: str, ready_timeout_s: float = 180) -> Iterator[RunningServer]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    var = tempfile.mkdtemp(prefix=f"rxlens-{prefix}-")
    env = {
        **os.environ,
        "RXLENS_DATABASE_URL": f"sqlite:///{var}/{prefix}.sqlite",
        "RXLENS_INDEX_PATH": f"{var}/index",
        "RXLENS_KB_INDEX_PATH": str(Path("var/index/kb").resolve()),
        "RXLENS_RATE_LIMIT_PER_MINUTE": "0",
    }
    started = time.monotonic()
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() - started > ready_timeout_s or server.poll() is not None:
                raise SystemExit("server did not become ready")
            time.sleep(0.2)
        yield RunningServer(base, server.pid, time.monotonic() - started)
    finally:
        server.terminate()
        server.wait(timeout=30)


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    s = sorted(samples)

    def at(q: float) -> float:
        return round(s[min(len(s) - 1, int(len(s) * q))], 1)

    return {"p50": round(statistics.median(s), 1), "p95": at(0.95), "p99": at(0.99), "n": len(s)}


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process in MB: now (VmRSS) or at its peak (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0
