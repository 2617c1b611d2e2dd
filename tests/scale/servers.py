"""Real servers as subprocesses for the job and cluster tests: redis-server on a free loopback port in a tmp dir,
`rxlens worker` (real Celery worker processes) and `rxlens serve` (real API processes). Nothing is mocked."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

RXLENS = str(Path(sys.executable).with_name("rxlens"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


@dataclass
class RedisServer:
    """redis-server without persistence (uploads are medical data: nothing is written to disk)."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        args += ["--save", "", "--appendonly", "no", "--protected-mode", "yes"]
        log = (self.directory / "redis.log").open("wb")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        client = self.client()
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("redis-server did not start: " + _tail(self.directory / "redis.log")) from None
                time.sleep(0.05)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@dataclass
class Service:
    """An rxlens subprocess (a worker or an API server) with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: no clean-up, no acknowledgement, as a crash or an OOM kill."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return _tail(self.log)


def _spawn(name: str, args: list[str], env: Mapping[str, str], logs: Path) -> tuple[subprocess.Popen[bytes], Path]:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MALLOC_ARENA_MAX": "2", **env}
    process = subprocess.Popen(args, env=full_env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    return process, log


def start_worker(name: str, env: Mapping[str, str], logs: Path, client: redis.Redis, timeout_s: float = 180) -> Service:
    """`rxlens worker`, returned once it has warmed up and takes jobs."""
    process, log = _spawn(name, [RXLENS, "worker", "--name", name], env, logs)
    service = Service(name, process, log)
    deadline = time.monotonic() + timeout_s
    while not client.exists(f"rxlens:worker:{name}"):
        if process.poll() is not None or time.monotonic() > deadline:
            service.stop()
            raise RuntimeError(f"worker {name} did not start:\n{service.output()}")
        time.sleep(0.1)
    return service


def start_api(
    name: str, env: Mapping[str, str], logs: Path, port: int | None = None, timeout_s: float = 240
) -> Service:
    """`rxlens serve`, returned once /readyz says ready (models loaded and warmed up)."""
    port = port or free_port()
    process, log = _spawn(name, [RXLENS, "serve", "--host", "127.0.0.1", "--port", str(port)], env, logs)
    service = Service(name, process, log, port)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{service.url}/readyz", timeout=2).status_code == 200:
                return service
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            service.stop()
            raise RuntimeError(f"API {name} did not start:\n{service.output()}")
        time.sleep(0.2)
