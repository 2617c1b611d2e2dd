"""Limits: the body size (before parsing), the bounded OCR queue (503 + Retry-After instead of waiting), and the
refusal to serve a key-less server on a network address."""

from __future__ import annotations

import asyncio
import threading

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.errors import Busy
from app.metrics import Metrics
from app.ocr_gate import OcrGate
from tests.app.api.conftest import AppFactory


def test_oversize_bodies_are_refused_with_413(make_app: AppFactory) -> None:
    with TestClient(make_app(max_body_bytes=2_000)) as client:
        big = {"messages": [{"role": "user", "content": "x" * 5_000}]}
        r = client.post("/v1/chat/completions", json=big)
        assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"

        def chunks():  # no Content-Length: the limit must hold while the body streams in
            for _ in range(10):
                yield b"x" * 500

        r = client.post("/v1/chat/completions", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413


def test_the_ocr_queue_turns_work_away_when_full_and_recovers() -> None:
    async def scenario() -> None:
        metrics = Metrics()
        gate = OcrGate(workers=1, queue_size=1, timeout_s=5, metrics=metrics)
        release = threading.Event()
        running = [asyncio.create_task(gate.run(release.wait)) for _ in range(2)]  # one working, one waiting
        await asyncio.sleep(0.05)
        assert gate.pending == 2 and metrics.ocr_queue_depth._value.get() == 2
        with pytest.raises(Busy) as refused:
            await gate.run(lambda: True)
        assert refused.value.retry_after >= 1 and metrics.ocr_rejected._value.get() == 1
        release.set()
        assert await asyncio.gather(*running) == [True, True]
        assert gate.pending == 0 and await gate.run(lambda: 42) == 42
        gate.shutdown()

    asyncio.run(scenario())


def test_a_slow_reading_times_out_as_busy_and_keeps_its_slot_until_it_ends() -> None:
    async def scenario() -> None:
        gate = OcrGate(workers=1, queue_size=0, timeout_s=0.1, metrics=Metrics())
        release = threading.Event()
        with pytest.raises(Busy, match="longer than"):
            await gate.run(release.wait)
        assert gate.pending == 1  # the thread is still working: its slot is not handed out twice
        release.set()
        await asyncio.sleep(0.05)
        assert gate.pending == 0
        gate.shutdown()

    asyncio.run(scenario())


def test_serve_refuses_a_network_address_without_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RXLENS_API_KEYS", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 2 and "RXLENS_API_KEYS" in result.output
