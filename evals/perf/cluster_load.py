"""RxLens as a cluster on one machine, and the load and fault runs against it.

`up` starts, in the background: redis-server (no persistence: uploads are medical data), PostgreSQL (initdb into
the cluster's folder; run as the `postgres` user when we are root), two API processes (`rxlens serve`, ports 8000
and 8001, one user database) and two OCR workers (`rxlens worker`), and returns once every one is ready. Their
pids, ports and URLs are in `<dir>/state.json`; logs in `<dir>/logs/`. `down` stops them (SIGTERM, then SIGKILL).

`load`: clients across both API processes for a fixed time, half of them uploading new photos (`wait=false`, then
polling the job: job completion p50/p95) and half asking questions (chat latency p50/p95).
`throughput`: a batch of new photos uploaded at once through both API processes, with the workers running now:
photos read per second (`--workers 1` stops one worker first).
`fault`: uploads through both API processes while a worker and an API process are SIGKILLed: every upload that
was acknowledged (202) must end done, polled through the surviving API process. Exits 1 otherwise.

    python -m evals.perf.cluster_load up [--dir var/cluster] [--ports 8000,8001] [--workers 2]
    python -m evals.perf.cluster_load load [--seconds 60] [--clients 8]
    python -m evals.perf.cluster_load throughput [--photos 24] [--workers 1|2]
    python -m evals.perf.cluster_load fault [--photos 24]
    python -m evals.perf.cluster_load down
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from evals.perf.bench_service import leaflet, photo_message, questions
from evals.perf.local_server import percentiles

DIR = Path("var/cluster")
OWNERS = {"alice": "cluster-key-alice-0123456789", "bob": "cluster-key-bob-0123456789ab"}
RXLENS = str(Path(sys.executable).with_name("rxlens"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def headers(owner: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {OWNERS[owner]}"}


@dataclass
class Process:
    name: str
    pid: int
    port: int | None = None

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        try:  # a zombie (killed, not yet reaped) is not alive
            return Path(f"/proc/{self.pid}/stat").read_text().split()[2] != "Z"
        except OSError:
            return False

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)


@dataclass
class Cluster:
    """The cluster's processes; `state.json` in `directory` lets another command find them."""

    directory: Path
    redis_port: int = 0
    pg_port: int = 0
    redis: Process | None = None
    apis: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    pg_root: str = ""  # PostgreSQL's data and sockets; outside `directory` when run as root (see start_postgres)

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    @property
    def pg_data(self) -> Path:
        return Path(self.pg_root or self.directory) / "pg"

    @property
    def api_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{a.port}" for a in self.apis]

    @property
    def live_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{a.port}" for a in self.apis if a.alive()]

    def save(self) -> None:
        self.state_file.write_text(json.dumps(asdict(self), default=str, indent=2))

    @classmethod
    def load(cls, directory: Path) -> Cluster:
        raw = json.loads((directory / "state.json").read_text())
        return cls(
            directory=directory,
            redis_port=raw["redis_port"],
            pg_port=raw["pg_port"],
            redis=Process(**raw["redis"]) if raw["redis"] else None,
            apis=[Process(**p) for p in raw["apis"]],
            workers=[Process(**p) for p in raw["workers"]],
            env=raw["env"],
            pg_root=raw.get("pg_root", ""),
        )

    # ---- starting ---------------------------------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str], port: int | None = None, user: str | None = None) -> Process:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("ab")
        full_env = {**os.environ, **self.env}
        process = subprocess.Popen(
            args, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, user=user
        )
        return Process(name, process.pid, port)

    def start_redis(self) -> None:
        self.redis_port = self.redis_port or free_port()
        args = ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        self.redis = self._spawn("redis", [*args, "--save", "", "--appendonly", "no"], self.redis_port)
        _wait(lambda: _redis_ping(self.redis_port), 15, "redis-server")

    def start_postgres(self) -> str:
        """PostgreSQL in the cluster's folder; returns the SQLAlchemy URL of its `rxlens` database."""
        binaries = _pg_binaries()
        user = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
        self.pg_port = self.pg_port or free_port()
        if user and not self.pg_root:
            # The `postgres` user must reach its data directory, and a test's tmp dir (0700, root's) is not
            # reachable: a folder of its own under /tmp.
            self.pg_root = tempfile.mkdtemp(prefix="rxlens-cluster-pg-")
            Path(self.pg_root).chmod(0o755)
            shutil.chown(self.pg_root, user)
        sockets = Path(self.pg_root or self.directory) / "pg-sockets"
        sockets.mkdir(parents=True, exist_ok=True)
        if user:
            shutil.chown(sockets, user)
        if not self.pg_data.exists():
            self.pg_data.mkdir(parents=True)
            if user:
                shutil.chown(self.pg_data, user)
            _run(
                [str(binaries / "initdb"), "-D", str(self.pg_data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                user,
            )
        options = f"-h 127.0.0.1 -p {self.pg_port} -k {sockets} -c max_connections=200"
        log = Path(self.pg_root or self.logs) / "postgres.log"
        self.logs.mkdir(parents=True, exist_ok=True)
        _run([str(binaries / "pg_ctl"), "-D", str(self.pg_data), "-o", options, "-l", str(log), "-w", "start"], user)
        exists = subprocess.run(
            [
                str(binaries / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.pg_port),
                "-U",
                "postgres",
                "-tAc",
                "SELECT 1 FROM pg_database WHERE datname='rxlens'",
            ],
            capture_output=True,
            text=True,
            user=user,
        ).stdout.strip()
        if exists != "1":
            _run(
                [str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "rxlens"],
                user,
            )
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.pg_port}/rxlens"

    def start_worker(self, name: str) -> Process:
        worker = self._spawn(name, [RXLENS, "worker", "--name", name])
        self.workers.append(worker)
        _wait(lambda: _redis_exists(self.redis_port, f"rxlens:worker:{name}") or not worker.alive(), 300, name)
        if not worker.alive():
            raise RuntimeError(f"worker {name} stopped; see {self.logs / (name + '.log')}")
        return worker

    def start_api(self, name: str, port: int) -> Process:
        api = self._spawn(name, [RXLENS, "serve", "--host", "127.0.0.1", "--port", str(port)], port)
        self.apis.append(api)
        _wait(lambda: _ready(port) or not api.alive(), 300, name)
        if not api.alive():
            raise RuntimeError(f"API {name} stopped; see {self.logs / (name + '.log')}")
        return api

    def up(self, ports: list[int], workers: int, database_url: str | None = None, **env: str) -> Cluster:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.start_redis()
        database = database_url or self.start_postgres()
        var = self.directory / "var"
        var.mkdir(exist_ok=True)
        self.env = {
            "RXLENS_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "RXLENS_DATABASE_URL": database,
            "RXLENS_VAR_DIR": str(var.resolve()),
            "RXLENS_KB_PATH": os.environ.get("RXLENS_KB_PATH", str(Path("var/knowledge.sqlite").resolve())),
            "RXLENS_KB_INDEX_PATH": os.environ.get("RXLENS_KB_INDEX_PATH", str(Path("var/index/kb").resolve())),
            "RXLENS_API_KEYS": ",".join(f"{o}:{k}" for o, k in OWNERS.items()),
            "RXLENS_RATE_LIMIT_PER_MINUTE": "0",
            "RXLENS_JOB_VISIBILITY_TIMEOUT_S": "20",
            "RXLENS_JOB_QUEUE_MAX": "256",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "MALLOC_ARENA_MAX": "2",
            **env,
        }
        self.save()
        # The workers first, one after the other (each loads the OCR model), then the API processes (the first
        # creates the tables; the second finds them).
        for n in range(workers):
            self.start_worker(f"worker{n + 1}")
            self.save()
        for n, port in enumerate(ports):
            self.start_api(f"api{n + 1}", port)
            self.save()
        return self

    # ---- stopping ---------------------------------------------------------------------------------------------

    def down(self) -> None:
        for p in [*self.apis, *self.workers]:
            p.signal(signal.SIGTERM)
        _wait(lambda: not any(p.alive() for p in [*self.apis, *self.workers]), 30, "processes to stop", fail=False)
        for p in [*self.apis, *self.workers]:
            p.signal(signal.SIGKILL)
        if self.pg_data.exists():
            user = "postgres" if os.geteuid() == 0 else None
            subprocess.run(
                [str(_pg_binaries() / "pg_ctl"), "-D", str(self.pg_data), "-m", "fast", "stop"],
                user=user,
                capture_output=True,
            )
        if self.pg_root:
            shutil.rmtree(self.pg_root, ignore_errors=True)
        if self.redis is not None:
            self.redis.signal(signal.SIGTERM)
            _wait(lambda: not self.redis or not self.redis.alive(), 10, "redis to stop", fail=False)
        self.state_file.unlink(missing_ok=True)


def _pg_binaries() -> Path:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "initdb").exists():
            return d
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install -y postgresql).")


def _run(args: list[str], user: str | None) -> None:
    if user:
        pwd.getpwnam(user)
    done = subprocess.run(args, capture_output=True, text=True, user=user, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}")


def _wait(ready: Any, timeout_s: float, what: str, fail: bool = True) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            if fail:
                raise RuntimeError(f"{what}: not ready after {timeout_s:g} s")
            return
        time.sleep(0.2)


def _redis(port: int) -> Any:
    import redis

    return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)


def _redis_ping(port: int) -> bool:
    try:
        return bool(_redis(port).ping())
    except Exception:
        return False


def _redis_exists(port: int, key: str) -> bool:
    try:
        return bool(_redis(port).exists(key))
    except Exception:
        return False


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# ---- load, throughput, fault -----------------------------------------------------------------------------------


async def upload_and_wait(
    client: httpx.AsyncClient, urls: list[str], n: int, owner: str, seed: int, timeout_s: float = 600
) -> dict[str, Any]:
    """Upload a new photo through `urls[n % len]` with wait=false, then poll its job through any live API."""
    started = time.perf_counter()
    url = urls[n % len(urls)]
    files = {"file": (f"photo-{seed}.png", leaflet(seed), "image/png")}
    r = await client.post(f"{url}/v1/documents?wait=false", files=files, headers=headers(owner))
    out: dict[str, Any] = {"status_code": r.status_code, "api": url}
    if r.status_code != 202:
        return out
    job_id = r.json()["job_id"]
    out["job_id"] = job_id
    deadline = time.monotonic() + timeout_s
    attempt = 0
    while time.monotonic() < deadline:
        attempt += 1
        try:
            job = await client.get(f"{urls[(n + attempt) % len(urls)]}/v1/jobs/{job_id}", headers=headers(owner))
            body = job.json()
        except (httpx.HTTPError, ValueError):  # that API process is down: ask the other
            await asyncio.sleep(0.1)
            continue
        if body.get("status") in ("done", "failed"):
            out.update(job=body["status"], attempts=body.get("attempts"), seconds=time.perf_counter() - started)
            return out
        await asyncio.sleep(0.2)
    out["job"] = "timeout"
    return out


async def run_load(cluster: Cluster, seconds: float, clients: int) -> dict[str, Any]:
    urls = cluster.live_urls
    jobs: list[dict[str, Any]] = []
    chats: list[tuple[int, float]] = []
    stop = time.monotonic() + seconds
    texts = questions()
    seed = int(time.time()) % 1_000_000 * 100

    async def photo_client(i: int) -> None:
        n = 0
        while time.monotonic() < stop:
            n += 1
            jobs.append(await upload_and_wait(client, urls, i + n, "alice" if n % 2 else "bob", seed + i * 1000 + n))

    async def question_client(i: int) -> None:
        n = 0
        while time.monotonic() < stop:
            n += 1
            t = time.perf_counter()
            body = {"model": "rxlens", "messages": [{"role": "user", "content": next(texts)}]}
            r = await client.post(
                f"{urls[(i + n) % len(urls)]}/v1/chat/completions", json=body, headers=headers("alice")
            )
            chats.append((r.status_code, time.perf_counter() - t))

    async def photo_chat(i: int) -> None:
        """A chat turn with a new photo answers in one request (it waits for its job)."""
        t = time.perf_counter()
        body = {
            "model": "rxlens",
            "messages": [{"role": "user", "content": photo_message(leaflet(seed + 999_000 + i))}],
        }
        r = await client.post(f"{urls[i % len(urls)]}/v1/chat/completions", json=body, headers=headers("bob"))
        chats.append((r.status_code, time.perf_counter() - t))

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=600) as client:
        tasks = [photo_client(i) for i in range(clients // 2)] + [question_client(i) for i in range(clients // 2)]
        await asyncio.gather(*tasks, photo_chat(0), photo_chat(1))
    elapsed = time.perf_counter() - started
    done = [j for j in jobs if j.get("job") == "done"]
    return {
        "seconds": round(elapsed, 1),
        "clients": clients,
        "apis": len(urls),
        "workers": sum(p.alive() for p in cluster.workers),
        "uploads": len(jobs),
        "uploads_done": len(done),
        "upload_statuses": dict(_count(j["status_code"] for j in jobs)),
        "jobs": dict(_count(j.get("job", "refused") for j in jobs)),
        "photos_per_s": round(len(done) / elapsed, 3),
        "job_completion_ms": percentiles([j["seconds"] * 1000 for j in done]),
        "chats": len(chats),
        "chat_statuses": dict(_count(s for s, _ in chats)),
        "chat_ms": percentiles([t * 1000 for s, t in chats if s == 200]),
    }


async def run_throughput(cluster: Cluster, photos: int) -> dict[str, Any]:
    urls = cluster.live_urls
    seed = int(time.time()) % 1_000_000 * 100 + 50
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=900) as client:
        results = await asyncio.gather(
            *(upload_and_wait(client, urls, n, "alice", seed + n, timeout_s=900) for n in range(photos))
        )
    elapsed = time.perf_counter() - started
    done = [r for r in results if r.get("job") == "done"]
    return {
        "workers": sum(p.alive() for p in cluster.workers),
        "apis": len(urls),
        "photos": photos,
        "done": len(done),
        "seconds": round(elapsed, 1),
        "photos_per_s": round(len(done) / elapsed, 3),
        "job_completion_ms": percentiles([r["seconds"] * 1000 for r in done]),
    }


async def run_fault(cluster: Cluster, photos: int) -> dict[str, Any]:
    """Upload `photos` new photos through both APIs; SIGKILL a worker once a third were acknowledged and an API
    process once half were; then poll every acknowledged job through the survivor until it ends."""
    urls = cluster.api_urls
    seed = int(time.time()) % 1_000_000 * 100 + 70
    acknowledged: list[tuple[str, str]] = []  # (job_id, owner)
    refused: list[int | str] = []
    killed: list[str] = []
    victim_api = cluster.apis[-1]
    victim_worker = cluster.workers[0]
    async with httpx.AsyncClient(timeout=60) as client:
        for n in range(photos):
            live = [u for u, a in zip(urls, cluster.apis, strict=True) if a.alive()]
            url = live[n % len(live)]
            owner = "alice" if n % 2 else "bob"
            files = {"file": (f"fault-{n}.png", leaflet(seed + n), "image/png")}
            try:
                r = await client.post(f"{url}/v1/documents?wait=false", files=files, headers=headers(owner))
                if r.status_code == 202:
                    acknowledged.append((r.json()["job_id"], owner))
                else:
                    refused.append(r.status_code)
            except httpx.HTTPError as e:  # the API process died under the request: not acknowledged
                refused.append(type(e).__name__)
            if len(acknowledged) == photos // 3 and victim_worker.alive():
                victim_worker.signal(signal.SIGKILL)
                killed.append(victim_worker.name)
            if len(acknowledged) == photos // 2 and victim_api.alive():
                victim_api.signal(signal.SIGKILL)
                killed.append(victim_api.name)
        survivor = urls[0]
        started = time.perf_counter()
        outcome: dict[str, str] = {}
        attempts: dict[str, int] = {}
        deadline = time.monotonic() + 600
        while len(outcome) < len(acknowledged) and time.monotonic() < deadline:
            for job_id, owner in acknowledged:
                if job_id in outcome:
                    continue
                body = (await client.get(f"{survivor}/v1/jobs/{job_id}", headers=headers(owner))).json()
                if body["status"] in ("done", "failed"):
                    outcome[job_id] = body["status"] if body["status"] == "done" else body["error"]["code"]
                    attempts[job_id] = body["attempts"]
            await asyncio.sleep(0.5)
    ends = _count(outcome.get(j, "not finished") for j, _ in acknowledged)
    return {
        "photos": photos,
        "acknowledged": len(acknowledged),
        "refused": dict(_count(refused)),
        "killed": killed,
        "ends": dict(ends),
        "retried_jobs": sum(1 for a in attempts.values() if a > 1),
        "seconds_to_finish_after_uploads": round(time.perf_counter() - started, 1),
        "all_done": ends.get("done", 0) == len(acknowledged) and len(acknowledged) > 0,
    }


def _count(items: Any) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "load", "throughput", "fault"])
    parser.add_argument("--dir", type=Path, default=DIR)
    parser.add_argument("--ports", default="8000,8001")
    parser.add_argument("--workers", type=int, default=None, help="up: workers to start; throughput: to keep.")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    args = parser.parse_args()
    if args.command == "up":
        if (args.dir / "state.json").exists():
            sys.exit(f"A cluster is running (or was not stopped): {args.dir / 'state.json'}; `make cluster-down`.")
        cluster = Cluster(args.dir)
        try:
            cluster.up([int(p) for p in args.ports.split(",")], args.workers or 2)
        except Exception:
            cluster.down()
            raise
        print(
            f"cluster ready: APIs {', '.join(cluster.api_urls)}; {len(cluster.workers)} workers; "
            f"redis :{cluster.redis_port}; PostgreSQL :{cluster.pg_port}; logs {cluster.logs}"
        )
        return
    cluster = Cluster.load(args.dir)
    if args.command == "down":
        cluster.down()
        print("cluster stopped")
        return
    if args.command == "throughput" and args.workers is not None:
        for extra in [w for w in cluster.workers if w.alive()][args.workers :]:
            extra.signal(signal.SIGTERM)
            _wait(lambda w=extra: not w.alive(), 60, "a worker to stop")
    run = {
        "load": lambda: run_load(cluster, args.seconds, args.clients),
        "throughput": lambda: run_throughput(cluster, args.photos),
        "fault": lambda: run_fault(cluster, args.photos),
    }[args.command]
    result = asyncio.run(run())
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"cluster_{args.command}.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    if args.command == "fault" and not result["all_done"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
