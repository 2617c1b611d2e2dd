"""Smoke run of `make bench`: the quick `check` section end to end writes a strict JSON document and the
markdown table with the check targets (no timing is asserted: the machine may be busy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.perf import bench


@pytest.mark.slow
def test_quick_check_section_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench.main(["--quick", "--sections", "check", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    data = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    json.dumps(data, allow_nan=False)
    assert data["sections"] == ["check"] and data["machine"]["cpus"] >= 1
    stages = {f["stage"] for f in data["figures"]}
    assert {"knowledge base", "check of 2 drugs (1 pairs)", "check of 30 drugs (435 pairs)"} <= stages
    ten = next(f for f in data["figures"] if f["stage"] == "check of 10 drugs (45 pairs)")
    assert ten["n"] == 10 and ten["value"] > 0 and ten["targets"][0]["describe"] == "< 5 ms"
    assert isinstance(ten["targets"][0]["met"], bool)
    table = (tmp_path / "bench.md").read_text(encoding="utf-8")
    assert "| check of 10 drugs (45 pairs) | Python API |" in table and table.strip() in printed


def test_unknown_sections_are_refused() -> None:
    with pytest.raises(SystemExit):
        bench.main(["--sections", "ocr,gpu"])
