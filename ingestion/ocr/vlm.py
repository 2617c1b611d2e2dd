"""OCR by a vision-language model behind an OpenAI-compatible chat-completions endpoint (vLLM, Ollama,
SGLang serving HunyuanOCR, MinerU, Qwen-VL ...).

The page goes as an `image_url` content part holding a data: URI, with a prompt asking for one JSON object per
line ({"text", "bbox"}). Models that follow the prompt give boxes; models that answer in plain text still
give lines, boxed as the whole page. Every failure (timeout, HTTP error, an answer that is not text) becomes an
`UpstreamError` that names the server and what to check. Image bytes and recognised text are never logged.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
from PIL import Image

from ingestion.errors import UpstreamError
from ingestion.ocr.base import OcrLine, OcrResult, Quad, quad_from_points, quad_from_rect

log = logging.getLogger(__name__)

PROMPT = (
    "You are an OCR engine for medicine leaflets, prescriptions and drug packages. Read every line of text in "
    "the image in reading order (for two columns: the whole left column, then the right). Answer with JSON "
    'lines only, one object per text line: {"text": "<the line exactly as printed>", "bbox": [x0, y0, x1, y1]} '
    "with pixel coordinates in the image. Do not translate, summarise or correct the text."
)


@dataclass(frozen=True)
class VlmConfig:
    """Where the model is and how to talk to it.

    Attributes:
        base_url: the API root, e.g. "http://127.0.0.1:8000/v1".
        model: the served model name.
        api_key: sent as a Bearer token when set.
        timeout_s: for the whole request.
        max_side: the page is downscaled so its longer side is at most this (boxes are scaled back).
        box_units: "pixels" or "relative_1000" (Qwen-VL style 0..1000 coordinates).
        assumed_confidence: VLMs give no per-line confidence; this is reported instead.
    """

    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 60.0
    max_side: int = 1600
    box_units: str = "pixels"
    assumed_confidence: float = 0.9


class VlmOcrEngine:
    """OCR through a remote vision-language model."""

    name = "vlm"

    def __init__(self, config: VlmConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        self._client = client or httpx.Client(timeout=config.timeout_s)

    @property
    def url(self) -> str:
        return self.config.base_url.rstrip("/") + "/chat/completions"

    def recognize(self, image: Image.Image) -> OcrResult:
        scale = min(1.0, self.config.max_side / max(image.size))
        sent = image if scale >= 1.0 else image.resize((round(image.width * scale), round(image.height * scale)))
        buf = io.BytesIO()
        sent.convert("RGB").save(buf, "JPEG", quality=90)
        data_uri = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
        body = {
            "model": self.config.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": PROMPT},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Read this page."},
                        {"type": "image_url", "image_url": {"url": data_uri}},
                    ],
                },
            ],
        }
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        started = time.perf_counter()
        content = self._post(body, headers)
        lines = parse_reply(content, sent.width, sent.height, self.config, 1.0 / scale)
        log.info(
            "VLM OCR: %d lines in %.0f ms (image %dx%d)",
            len(lines),
            (time.perf_counter() - started) * 1000,
            *sent.size,
        )
        return OcrResult(lines=lines, width=image.width, height=image.height, engine=self.name)

    def _post(self, body: dict[str, Any], headers: dict[str, str]) -> str:
        where = f"the OCR model server at {self.config.base_url}"
        try:
            response = self._client.post(self.url, json=body, headers=headers, timeout=self.config.timeout_s)
        except httpx.TimeoutException as exc:
            raise UpstreamError(
                f"{where} did not answer within {self.config.timeout_s:g} s. Check that it is running and not "
                "overloaded, or raise RXLENS_OCR_VLM_TIMEOUT_S."
            ) from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"Could not reach {where} ({type(exc).__name__}). Check RXLENS_OCR_VLM_BASE_URL."
            ) from exc
        if response.status_code != 200:
            hint = " Check RXLENS_OCR_VLM_API_KEY." if response.status_code in (401, 403) else ""
            raise UpstreamError(f"{where} answered HTTP {response.status_code} instead of a reading.{hint}")
        try:
            payload = response.json()
            content = payload["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise UpstreamError(
                f"{where} answered something that is not an OpenAI chat completion. Check that the URL points at "
                "an OpenAI-compatible /v1 API."
            ) from exc
        if isinstance(content, list):  # some servers return content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str) or not content.strip():
            raise UpstreamError(
                f"{where} answered with no text. Check that the model '{self.config.model}' reads images."
            )
        return content


def _box(raw: Any, width: int, height: int, config: VlmConfig, back: float) -> Quad | None:
    """A box from [x0,y0,x1,y1], 8 numbers or 4 points, scaled to the image the caller gave."""
    try:
        flat = [float(v) for v in ([c for p in raw for c in p] if raw and isinstance(raw[0], list | tuple) else raw)]
    except (TypeError, ValueError):
        return None
    if config.box_units == "relative_1000":
        flat = [v / 1000 * (width if k % 2 == 0 else height) for k, v in enumerate(flat)]
    flat = [v * back for v in flat]
    if len(flat) == 4:
        x0, y0, x1, y1 = flat
        return quad_from_rect(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    if len(flat) == 8:
        return quad_from_points([(flat[k], flat[k + 1]) for k in range(0, 8, 2)])
    return None


def parse_reply(content: str, width: int, height: int, config: VlmConfig, back: float = 1.0) -> list[OcrLine]:
    """Lines from a model's answer: a JSON array, an object with "lines", JSON lines, or plain text.

    Plain-text lines (and JSON lines without a usable box) get the whole page as their box.
    """
    text = re.sub(r"^```[a-zA-Z]*\s*|\s*```$", "", content.strip())
    page = quad_from_rect(0, 0, width * back, height * back)
    items: list[Any] = []
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict):
            parsed = parsed.get("lines", parsed.get("text_lines", [parsed]))
        items = parsed if isinstance(parsed, list) else []
    except ValueError:
        items = []
        for raw in text.splitlines():
            raw = raw.strip().rstrip(",")
            if not raw:
                continue
            try:
                items.append(json.loads(raw) if raw.startswith("{") else raw)
            except ValueError:
                items.append(raw)
    lines: list[OcrLine] = []
    for item in items:
        if isinstance(item, str):
            if item.strip():
                lines.append(OcrLine(item.strip(), config.assumed_confidence, page))
            continue
        if not isinstance(item, dict) or not str(item.get("text", "")).strip():
            continue
        raw_box = item.get("bbox", item.get("box", item.get("polygon")))
        box = _box(raw_box, width, height, config, back) if raw_box else None
        conf = item.get("confidence", item.get("score"))
        try:
            confidence = float(conf) if conf is not None else config.assumed_confidence
        except (TypeError, ValueError):
            confidence = config.assumed_confidence
        lines.append(OcrLine(str(item["text"]).strip(), confidence, box or page))
    if not lines:
        raise UpstreamError("The OCR model answered, but with no readable lines. Check that the model reads images.")
    return lines
