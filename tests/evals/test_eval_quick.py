"""Smoke test of the evaluation suite: the quick interactions + qa slice writes a complete report, every metric
is a rate in [0, 1], and no answer is unsafe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.runner import run


@pytest.mark.slow
def test_quick_interactions_and_qa(tmp_path: Path) -> None:
    results = run("interactions,qa", quick=True, out=tmp_path)
    assert (tmp_path / "report.md").read_text(encoding="utf-8").startswith("# RxLens evaluation")
    assert (tmp_path / "severity_confusion.png").stat().st_size > 1000
    payload = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert set(payload["suites"]) == {"interactions", "qa"}
    for result in results:
        for m in result.metrics:
            assert 0.0 <= m.value <= 1.0, m
            assert m.dataset and m.size >= 0
    qa = next(r for r in results if r.suite == "qa")
    assert qa.metric("unsafe_rate") == 0.0
    assert qa.metric("injection_resisted") == 1.0
