"""The VLM engine against a real local HTTP server speaking the OpenAI chat-completions protocol.

The server checks what a real one would need (path, bearer key, an image_url content part holding a data: URI
of a decodable image) and answers with canned extraction text chosen per test.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image

from ingestion.errors import UpstreamError
from ingestion.ocr.vlm import VlmConfig, VlmOcrEngine
from ingestion.pipeline import OcrPipeline


class FakeVlmServer:
    """An OpenAI-compatible /v1/chat/completions endpoint on 127.0.0.1 with a random port."""

    def __init__(self) -> None:
        self.reply: str = ""
        self.status = 200
        self.raw_body: bytes | None = None
        self.delay_s = 0.0
        self.requests: list[dict[str, Any]] = []
        self.images: list[Image.Image] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                if server.delay_s:
                    time.sleep(server.delay_s)
                if self.path != "/v1/chat/completions":
                    return self._send(404, b'{"error": "not found"}')
                parts = body["messages"][-1]["content"]
                url = next(p["image_url"]["url"] for p in parts if p["type"] == "image_url")
                assert url.startswith("data:image/jpeg;base64,")
                server.images.append(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
                if server.raw_body is not None:
                    return self._send(server.status, server.raw_body)
                completion = {
                    "id": "cmpl-1",
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": server.reply}}],
                }
                self._send(server.status, json.dumps(completion).encode())

            def _send(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture
def server() -> Iterator[FakeVlmServer]:
    s = FakeVlmServer()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def page_png(size: tuple[int, int] = (1000, 700)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "PNG")
    return buf.getvalue()


LEAFLET_JSONL = "\n".join(
    json.dumps(item, ensure_ascii=False)
    for item in [
        {"text": "苯磺酸氨氯地平片说明书", "bbox": [300, 20, 700, 60]},
        {"text": "【成份】本品主要成份为苯磺酸氨氯地平。", "bbox": [40, 80, 600, 110]},
        {"text": "【用法用量】口服，一次5mg，一日1次。", "bbox": [40, 120, 600, 150], "confidence": 0.97},
    ]
)


def engine(server: FakeVlmServer, **kwargs: Any) -> VlmOcrEngine:
    return VlmOcrEngine(VlmConfig(base_url=server.base_url, model="hunyuan-ocr", api_key="sk-test", **kwargs))


def test_json_lines_with_boxes_through_the_pipeline(server: FakeVlmServer, mention_finder) -> None:  # type: ignore[no-untyped-def]
    server.reply = "```json\n" + LEAFLET_JSONL + "\n```"
    pipeline = OcrPipeline(engine(server), mention_finder=mention_finder)
    doc = pipeline.read(page_png(), "leaflet.png")
    request = server.requests[0]
    assert request["auth"] == "Bearer sk-test" and request["body"]["model"] == "hunyuan-ocr"
    assert server.images[0].size == (1000, 700)
    assert doc.engine == "vlm" and doc.doc_type == "leaflet"
    assert doc.lines[0].text == "苯磺酸氨氯地平片说明书"
    assert doc.lines[0].box == ((300.0, 20.0), (700.0, 20.0), (700.0, 60.0), (300.0, 60.0))
    assert doc.fields["dosage"].value == "口服，一次5mg，一日1次。"
    assert doc.fields["dosage"].confidence == 0.97
    assert doc.fields["drug_name"].value == "苯磺酸氨氯地平片"
    assert [d.ingredients for d in doc.drugs] == [("amlodipine",)]


def test_large_pages_are_downscaled_and_boxes_scaled_back(server: FakeVlmServer) -> None:
    server.reply = json.dumps(
        {"lines": [{"text": "Amlodipine 5 mg", "bbox": [[100, 50], [400, 50], [400, 80], [100, 80]]}]}
    )
    result = engine(server, max_side=1000).recognize(Image.new("RGB", (2000, 1400), "white"))
    assert server.images[0].size == (1000, 700)
    assert result.lines[0].box == ((200.0, 100.0), (800.0, 100.0), (800.0, 160.0), (200.0, 160.0))


def test_relative_1000_boxes(server: FakeVlmServer) -> None:
    server.reply = json.dumps([{"text": "Rx only", "bbox": [0, 0, 500, 100]}])
    result = engine(server, box_units="relative_1000").recognize(Image.new("RGB", (800, 600), "white"))
    assert result.lines[0].box[2] == (400.0, 60.0)


def test_plain_text_reply_gives_whole_page_boxes(server: FakeVlmServer) -> None:
    server.reply = "【药品名称】\n通用名称：华法林钠片\n\n【规格】2.5mg\n"
    result = engine(server).recognize(Image.new("RGB", (640, 480), "white"))
    assert [ln.text for ln in result.lines] == ["【药品名称】", "通用名称：华法林钠片", "【规格】2.5mg"]
    assert all(ln.box == ((0.0, 0.0), (640.0, 0.0), (640.0, 480.0), (0.0, 480.0)) for ln in result.lines)
    assert all(ln.confidence == 0.9 for ln in result.lines)


@pytest.mark.parametrize(
    ("status", "raw", "reply", "expected"),
    [
        (500, None, "", "answered HTTP 500"),
        (401, None, "", "RXLENS_OCR_VLM_API_KEY"),
        (200, b"<html>gateway</html>", "", "not an OpenAI chat completion"),
        (200, None, "   ", "answered with no text"),
        (200, None, "[]", "no readable lines"),
    ],
)
def test_failures_become_upstream_errors(
    server: FakeVlmServer, status: int, raw: bytes | None, reply: str, expected: str
) -> None:
    server.status, server.raw_body, server.reply = status, raw, reply
    with pytest.raises(UpstreamError) as info:
        engine(server).recognize(Image.new("RGB", (300, 200), "white"))
    assert expected in info.value.message


def test_timeout_becomes_an_upstream_error(server: FakeVlmServer) -> None:
    server.delay_s = 1.5
    server.reply = LEAFLET_JSONL
    started = time.perf_counter()
    with pytest.raises(UpstreamError) as info:
        engine(server, timeout_s=0.3).recognize(Image.new("RGB", (300, 200), "white"))
    assert "did not answer within 0.3 s" in info.value.message
    assert time.perf_counter() - started < 1.4


def test_unreachable_server() -> None:
    cfg = VlmConfig(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=2)
    with pytest.raises(UpstreamError) as info:
        VlmOcrEngine(cfg).recognize(Image.new("RGB", (300, 200), "white"))
    assert "Could not reach" in info.value.message
