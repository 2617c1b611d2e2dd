"""The benchmark report: ratios against each stage's baseline, verdicts on the median, the p95 and the ratio,
and a JSON document and markdown table that show them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.perf.results import BenchReport, Figure, Target, percentile, time_ms

MACHINE = {"cpus": 2, "cpu_model": "Test CPU", "ram_gb": 8.0, "load_average": "0.10, 0.20, 0.30"}


def _report() -> BenchReport:
    report = BenchReport(MACHINE, ["ocr"], quick=True)
    report.add(
        [
            Figure("OCR of a page", "bare", "ms", [100.0, 110.0, 90.0]),
            Figure(
                "OCR of a page",
                "pipeline",
                "ms",
                [104.0, 108.0, 106.0],
                baseline="bare",
                targets=(Target(1.10, on="ratio"),),
            ),
            Figure(
                "text question",
                "HTTP",
                "ms",
                [float(x) for x in range(1, 101)],
                targets=(Target(60.0), Target(90.0, on="p95")),
            ),
            Figure("OCR CER", "pipeline", "%", [0.0, 0.3], "mean"),
            Figure(
                "OCR pages per second",
                "batch 8",
                "pages/s",
                [3.0],
                "value",
                baseline="batch 1",
                targets=(Target(12.0, below=False),),
            ),
        ]
    )
    return report


def test_ratios_and_verdicts() -> None:
    report = _report()
    bare, pipeline, text, cer, batch = report.figures
    assert report.ratio(pipeline) == pytest.approx(106 / 100)
    assert report.ratio(bare) is None  # the baseline itself
    assert report.ratio(batch) is None  # its baseline was not measured in this run
    assert report.verdicts(pipeline) == [True]
    assert text.value == 50.5 and text.p95 == 96.0
    assert report.verdicts(text) == [True, False]  # median met, p95 missed
    assert cer.value == pytest.approx(0.15) and cer.p95 is None
    assert report.verdicts(batch) == [False]  # at least 12 pages/s asked, 3 measured


def test_a_missing_statistic_is_not_a_verdict() -> None:
    report = BenchReport(MACHINE, [], quick=True)
    fig = Figure("s", "c", "ms", [5.0], baseline="absent", targets=(Target(2.0, on="ratio"), Target(9.0, on="p95")))
    report.add([fig])
    assert report.verdicts(fig) == [None, None]


def test_json_and_markdown(tmp_path: Path) -> None:
    report = _report()
    report.notes.append("shared machine")
    json_path, md_path = report.write(tmp_path)
    data = json.loads(json_path.read_text(encoding="utf-8"))
    json.dumps(data, allow_nan=False)  # strict JSON: no NaN anywhere
    assert data["machine"]["cpu_model"] == "Test CPU" and data["quick"] is True
    pipeline = data["figures"][1]
    assert pipeline["ratio"] == pytest.approx(1.06) and pipeline["n"] == 3
    assert pipeline["targets"][0]["met"] is True and pipeline["targets"][0]["describe"] == "ratio < 1.1"
    table = md_path.read_text(encoding="utf-8")
    assert table.startswith("| stage | contender | median | p95 | ratio vs baseline | target | met? |")
    assert "| OCR of a page | pipeline | 106 ms |" in table and "1.06x bare" in table
    assert "| text question | HTTP | 50.5 ms | 96.0 ms |  | < 60 ms; p95 < 90 ms | yes; **no** |" in table
    assert "| OCR CER | pipeline | 0.15 % (mean) |" in table and ">= 12 pages/s" in table
    assert "Test CPU, 2 usable cores" in table and "Note: shared machine" in table


def test_timing_helpers() -> None:
    calls: list[int] = []
    samples = time_ms(lambda: calls.append(1), repeat=4, warm_up=2)
    assert len(samples) == 4 and len(calls) == 6 and all(s >= 0 for s in samples)
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 3.0 and percentile([7.0], 0.95) == 7.0


def test_the_table_keeps_each_stage_together() -> None:
    """Sections measured in another order than shown: each stage one block, its baseline first."""
    report = BenchReport(MACHINE, ["check", "questions"], quick=True)
    report.add([Figure("check", "HTTP", "ms", [3.0], baseline="Python API")], "questions")
    report.add([Figure("text", "HTTP", "ms", [9.0])], "questions")
    report.add([Figure("check", "Python API", "ms", [1.0]), Figure("load", "kb", "ms", [2.0])], "check")
    order = [(f.stage, f.contender) for f in report.table_order()]
    assert order == [("check", "Python API"), ("check", "HTTP"), ("load", "kb"), ("text", "HTTP")]
    rows = [line.split(" | ")[:2] for line in report.to_markdown().splitlines()[2:6]]
    assert rows == [["| check", "Python API"], ["| check", "HTTP"], ["| load", "kb"], ["| text", "HTTP"]]
