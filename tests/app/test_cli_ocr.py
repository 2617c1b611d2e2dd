"""`rxlens ocr IMAGE [--json]` on a real rendered prescription, with the real OCR model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "images"
runner = CliRunner()


@pytest.mark.slow
def test_ocr_json_shape() -> None:
    image = FIXTURES / "004_prescription_1col_clean_r0.png"
    truth = json.loads(image.with_suffix(".json").read_text(encoding="utf-8"))
    result = runner.invoke(cli, ["ocr", str(image), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"doc_type", "lines", "fields", "drugs", "timings_ms"}
    assert out["doc_type"] == "prescription"
    assert set(out["lines"][0]) == {"text", "confidence", "bbox"}
    assert out["fields"]["patient_name"]["value"] == truth["fields"]["patient_name"]
    assert [m["frequency"] for m in out["fields"]["medications"]] == [m["frequency"] for m in truth["medications"]]
    assert {"decode", "ocr", "total"} <= set(out["timings_ms"])


@pytest.mark.slow
def test_ocr_readable_text() -> None:
    result = runner.invoke(cli, ["ocr", str(FIXTURES / "006_package_1col_clean_r0.png")])
    assert result.exit_code == 0, result.output
    truth = json.loads((FIXTURES / "006_package_1col_clean_r0.json").read_text(encoding="utf-8"))
    assert result.stdout.startswith("# package")
    assert f"drug_name: {truth['fields']['drug_name']}" in result.stdout


def test_ocr_refusal_exits_with_the_message(tmp_path: Path) -> None:
    fake = tmp_path / "note.jpg"
    fake.write_text("not a photo\n" * 10)
    result = runner.invoke(cli, ["ocr", str(fake)])
    assert result.exit_code == 2
    assert "not an image" in result.output
