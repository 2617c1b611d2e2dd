"""The default OCR engine: RapidOCR with its bundled PP-OCR ONNX models (detector, line classifier, recogniser).

Only the bundled default models work offline (any other model type or language makes RapidOCR download).
The model loads once, lazily, on first use, and is shared by every engine built with the same settings:
loading costs seconds and hundreds of MB. Calls are serialised with a lock because RapidOCR keeps per-call
switches (use_det/use_cls/use_rec) as instance state, and onnxruntime already uses every core for one call.
The full pass runs RapidOCR's own steps (rapidocr is pinned) rather than its `__call__`, which drops the
line classifier's verdicts: they tell the orientation stage, for free, whether a page is upright.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from ingestion.errors import OcrUnavailable
from ingestion.ocr.base import OcrLine, OcrResult, quad_from_points

log = logging.getLogger(__name__)

REREAD_BELOW = 0.9  # lines read with less confidence are read again on their own
PAD = 8


@dataclass(frozen=True)
class RapidOcrConfig:
    """Settings for the bundled RapidOCR model.

    Attributes:
        device: "auto" (CUDA when onnxruntime offers it, else CPU), "cpu" or "cuda".
        threads: onnxruntime intra-op threads; None means one per usable core.
        text_score: lines the recogniser is less sure of than this are dropped.
    """

    device: str = "auto"
    threads: int | None = None
    text_score: float = 0.5


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, which in a container can be fewer than os.cpu_count()
    (onnxruntime with more intra-op threads than cores spins threads against each other)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def cuda_available() -> bool:
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def resolve_device(device: str) -> str:
    """The device a config really runs on; refuses "cuda" where onnxruntime has no CUDA provider."""
    if device not in {"auto", "cpu", "cuda"}:
        raise OcrUnavailable(
            f"OCR device {device!r} is not one of auto, cpu, cuda. Set RXLENS_OCR_DEVICE to one of them."
        )
    if device == "cuda" and not cuda_available():
        raise OcrUnavailable(
            "OCR device 'cuda' was asked for but onnxruntime offers no CUDAExecutionProvider. "
            "Install onnxruntime-gpu with a matching CUDA, or set RXLENS_OCR_DEVICE=auto."
        )
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    return device


# One loaded model per distinct setting, each with its own call lock (shared by every engine using it).
_models: dict[tuple[str, int], tuple[Any, threading.Lock]] = {}
_models_lock = threading.Lock()


def rapidocr_params(device: str, threads: int) -> dict[str, Any]:
    """RapidOCR's settings for a resolved device ("cpu" or "cuda") and a number of onnxruntime threads."""
    return {
        "Global.log_level": "warning",
        # Keep every line: weak ones are re-read before `text_score` is applied (recognize()).
        "Global.text_score": 0.0,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.use_cuda": device == "cuda",
    }


def _shared_model(device: str, threads: int) -> tuple[Any, threading.Lock]:
    key = (device, threads)
    with _models_lock:
        entry = _models.get(key)
        if entry is None:
            from rapidocr import RapidOCR

            started = time.perf_counter()
            model = RapidOCR(params=rapidocr_params(device, threads))
            entry = _models[key] = (model, threading.Lock())
            log.info("RapidOCR ready on %s with %d threads in %.0f ms", device, threads, _ms(started))
        return entry


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _upside_down_share(verdicts: Sequence[tuple[str, float]] | None, widths: Sequence[int]) -> float | None:
    """The share of the text, by crop width, that the 0/180 line classifier read as upside down (whatever its
    confidence); None when it saw no line."""
    if not verdicts or len(verdicts) != len(widths) or sum(widths) == 0:
        return None
    return sum(w for (label, _), w in zip(verdicts, widths, strict=True) if "180" in label) / sum(widths)


def _bgr(image: Image.Image) -> np.ndarray:
    # RapidOCR treats a 3-channel array as BGR (OpenCV order).
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


class RapidOcrEngine:
    """OCR with the bundled RapidOCR models. Cheap to construct; the model loads on first use."""

    name = "rapidocr"

    def __init__(self, config: RapidOcrConfig | None = None) -> None:
        self.config = config or RapidOcrConfig()
        self.device = resolve_device(self.config.device)
        self.threads = self.config.threads or usable_cores()

    def _model(self) -> tuple[Any, threading.Lock]:
        return _shared_model(self.device, self.threads)

    def warm_up(self) -> None:
        """Load the model now (and run it once) rather than on the first user request."""
        self.recognize(Image.new("RGB", (64, 32), "white"))

    def recognize(self, image: Image.Image) -> OcrResult:
        model, lock = self._model()
        with lock:
            # RapidOCR.__call__ step by step (rapidocr 3.10), keeping the classifier's output it throws away.
            model.update_params(use_det=True, use_cls=True, use_rec=True)
            original = model.load_img(_bgr(image))
            resized, record = model.preprocess_img(original)
            det, cls, rec, crops = model.run_ocr_steps(resized, record)
            upside_down = _upside_down_share(cls.cls_res, [crop.shape[1] for crop in crops])
            out = model.build_final_output(original, det, cls, rec, crops, record)
        lines: list[OcrLine] = []
        if out.txts:
            for box, text, score in zip(out.boxes, out.txts, out.scores, strict=True):
                line = OcrLine(text=str(text), confidence=float(score), box=quad_from_points(box.tolist()))
                if line.confidence < REREAD_BELOW and line.width > 4 * line.height:
                    line = self._reread(image, line)
                if line.confidence >= self.config.text_score:
                    lines.append(line)
        return OcrResult(lines=lines, width=image.width, height=image.height, engine=self.name, upside_down=upside_down)

    def _reread(self, image: Image.Image, line: OcrLine) -> OcrLine:
        """Read a weak line again from its own rectified, padded crop; keep whichever reading is surer.

        Measured: RapidOCR's batched recogniser sometimes garbles one long line (0.67 confidence, half the
        words lost) that it reads perfectly (0.999) on its own.
        """
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = line.box
        w, h = max(1, round(line.width)), max(1, round(line.height))
        crop = image.transform((w, h), Image.Transform.QUAD, (x0, y0, x3, y3, x2, y2, x1, y1), Image.Resampling.BICUBIC)
        padded = Image.new("RGB", (w + 2 * PAD, h + 2 * PAD), "white")
        padded.paste(crop, (PAD, PAD))
        text, score = self.read_strip(padded)
        if score > line.confidence and text.strip():
            return OcrLine(text=text, confidence=score, box=line.box, page=line.page)
        return line

    def read_strip(self, image: Image.Image) -> tuple[str, float]:
        """Recognise one text row as is: no detection, no 0/180 classifier (orientation decides that)."""
        model, lock = self._model()
        with lock:
            out = model(_bgr(image), use_det=False, use_cls=False, use_rec=True)
        if not out.txts:
            return "", 0.0
        return str(out.txts[0]), float(out.scores[0])
