"""POST /v1/ocr with the real OCR pipeline: HunyuanOCR's request shape, the reading `rxlens ocr --json` prints,
and one cache with the chat path (the same bytes are read once, whichever endpoint sees them first)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.app.api.conftest import leaflet_png

pytestmark = [pytest.mark.slow]


def _new_photo() -> bytes:
    """A leaflet no other test renders, so the first reading really runs OCR."""
    return leaflet_png(
        ("苯磺酸氨氯地平片说明书", f"批号 {uuid.uuid4().hex[:8]}", "【药物相互作用】与辛伐他汀合用时需注意。")
    )


def _ocr_runs(client: httpx.Client) -> float:
    line = next(x for x in client.get("/metrics").text.splitlines() if x.startswith("rxlens_ocr_seconds_count"))
    return float(line.split()[-1])


def test_a_repeated_image_is_answered_from_the_cache_on_both_paths(shared_client: httpx.Client) -> None:
    png = _new_photo()
    body = {"image": base64.b64encode(png).decode(), "task_type": "doc_parser"}
    runs = _ocr_runs(shared_client)
    started = time.perf_counter()
    first = shared_client.post("/v1/ocr", json=body)
    first_s = time.perf_counter() - started
    assert first.status_code == 200, first.text
    assert _ocr_runs(shared_client) == runs + 1
    started = time.perf_counter()
    again = shared_client.post("/v1/ocr", json=body)
    again_ms = (time.perf_counter() - started) * 1000
    print(f"/v1/ocr of a new photo {first_s:.1f} s, the same photo again {again_ms:.1f} ms")
    assert again.status_code == 200 and again_ms < 50
    assert set(again.json()["timings_ms"]) == {"cache", "total"}
    assert {**again.json(), "timings_ms": None} == {**first.json(), "timings_ms": None}
    plain = shared_client.post("/v1/ocr", json={**body, "task_type": "plain_ocr"}).json()
    assert plain["lines"] == first.json()["lines"] and plain["text"] == first.json()["text"]
    assert plain["fields"] is None and plain["drugs"] is None
    # The chat path finds the same reading: no second OCR for the photo, and it is then stored as a document.
    url = "data:image/png;base64," + body["image"]
    chat = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "这药能和辛伐他汀一起吃吗？"},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            }
        ]
    }
    answer = shared_client.post("/v1/chat/completions", json=chat)
    assert answer.status_code == 200, answer.text
    assert answer.json()["rxlens"]["documents"][0]["lines"] == first.json()["lines"]
    assert _ocr_runs(shared_client) == runs + 1
    # ... and /v1/ocr now reads the stored document's reading.
    assert shared_client.post("/v1/ocr", json=body).json()["lines"] == first.json()["lines"]
    assert _ocr_runs(shared_client) == runs + 1


def _set(items: list[dict]) -> list[dict]:
    """Without the keys whose value is unset (the CLI leaves `corrected_from` out, the API says null)."""
    return [{k: v for k, v in item.items() if v is not None} for item in items]


def test_the_reading_is_the_one_rxlens_ocr_json_prints(shared_client: httpx.Client, tmp_path: Path) -> None:
    png = _new_photo()
    api = shared_client.post("/v1/ocr", json={"image": base64.b64encode(png).decode(), "task_type": "doc_parser"})
    assert api.status_code == 200, api.text
    path = tmp_path / "leaflet.png"
    path.write_bytes(png)
    printed = CliRunner().invoke(cli, ["ocr", str(path), "--json"])
    assert printed.exit_code == 0, printed.output
    cli_out = json.loads(printed.output)
    out = api.json()
    assert out["doc_type"] == cli_out["doc_type"]
    assert out["lines"] == [{**line, "page": line.get("page", 0)} for line in cli_out["lines"]]
    assert _set(out["drugs"]) == _set(cli_out["drugs"]) and out["drugs"]
    # The CLI lists a prescription's medications among its fields; the API keeps them apart.
    assert out["fields"] == {k: v for k, v in cli_out["fields"].items() if k != "medications"}
    assert out["medications"] == cli_out["fields"].get("medications", [])
    assert out["text"] == "\n".join(line["text"] for line in cli_out["lines"])
