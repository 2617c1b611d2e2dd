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
# A line is read the other way from its page only when the 0/180 classifier is this sure, the line is at least this
# many times longer than high, and the turned reading is this much surer.
LINE_FLIP_SCORE = 0.95
LINE_FLIP_ASPECT = 8
LINE_FLIP_MARGIN = 0.05
PAD = 8


@dataclass(frozen=True)
class RapidOcrConfig:
    """Settings for the bundled RapidOCR model.

    Attributes:
        device: "auto" (CUDA when onnxruntime offers it, else CPU), "cpu" or "cuda".
        threads: onnxruntime intra-op threads; None means one per usable core.
        text_score: lines the recogniser is less sure of than this are dropped.
        rec_model_path: a recogniser ONNX file to use instead of the bundled PP-OCRv6 small one (a larger PP-OCR
            recogniser, e.g. PP-OCRv5 server rec converted with paddle2onnx); None keeps the bundled model.
        rec_keys_path: its character dictionary, for a model without one in its ONNX metadata.
    """

    device: str = "auto"
    threads: int | None = None
    text_score: float = 0.5
    rec_model_path: str | None = None
    rec_keys_path: str | None = None


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
_models: dict[tuple[str, int, str | None, str | None], tuple[Any, threading.Lock]] = {}
_models_lock = threading.Lock()


def rapidocr_params(
    device: str, threads: int, rec_model_path: str | None = None, rec_keys_path: str | None = None
) -> dict[str, Any]:
    """RapidOCR's settings for a resolved device ("cpu" or "cuda"), a number of onnxruntime threads and, when
    given, a recogniser model of one's own (a local file: nothing is downloaded)."""
    params: dict[str, Any] = {
        "Global.log_level": "warning",
        # Keep every line: weak ones are re-read before `text_score` is applied (recognize()).
        "Global.text_score": 0.0,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.use_cuda": device == "cuda",
    }
    if rec_model_path:
        if not os.path.isfile(rec_model_path):
            raise OcrUnavailable(
                f"OCR recogniser model {rec_model_path!r} is not a file. Set RXLENS_OCR_REC_MODEL_PATH to a local "
                "PP-OCR recogniser .onnx file, or unset it to use the bundled model."
            )
        params["Rec.model_path"] = rec_model_path
    if rec_keys_path:
        params["Rec.rec_keys_path"] = rec_keys_path
    return params


def _shared_model(
    device: str, threads: int, rec_model_path: str | None = None, rec_keys_path: str | None = None
) -> tuple[Any, threading.Lock]:
    key = (device, threads, rec_model_path, rec_keys_path)
    with _models_lock:
        entry = _models.get(key)
        if entry is None:
            from rapidocr import RapidOCR

            started = time.perf_counter()
            model = RapidOCR(params=rapidocr_params(device, threads, rec_model_path, rec_keys_path))
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
        return _shared_model(self.device, self.threads, self.config.rec_model_path, self.config.rec_keys_path)

    def warm_up(self) -> None:
        """Load the model now (and run it once) rather than on the first user request."""
        self.recognize(Image.new("RGB", (64, 32), "white"))

    def recognize(self, image: Image.Image) -> OcrResult:
        from rapidocr.ch_ppocr_rec.typings import TextRecOutput

        model, lock = self._model()
        with lock:
            # RapidOCR.__call__ step by step (rapidocr 3.10), keeping the classifier's output it throws away.
            # Detection and the 0/180 classifier first (its verdicts tell the orientation stage whether the page is
            # upright); the recogniser then reads the lines as they stand (see `_recognise`).
            model.update_params(use_det=True, use_cls=True, use_rec=False)
            original = model.load_img(_bgr(image))
            resized, record = model.preprocess_img(original)
            det, cls, _, crops = model.run_ocr_steps(resized, record)
            verdicts = cls.cls_res or []
            upside_down = _upside_down_share(verdicts, [crop.shape[1] for crop in crops])
            rec = self._recognise(model, crops, verdicts) if crops else TextRecOutput()
            model.update_params(use_rec=True)
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

    @staticmethod
    def _recognise(model: Any, crops: list[np.ndarray], verdicts: Sequence[tuple[str, float]]) -> Any:
        """Read the crops as they stand; only a long line the 0/180 classifier is sure is upside down is also read
        turned, and the surer reading kept.

        The page's own direction is decided once, by `ingestion.orientation` (which re-reads a turned page whole);
        the classifier's verdict on a short crop is noise: on handwriting-style pages it turned "qd" into "pb"
        and "Sig: 1 tab po tid x7d" into "PLx P70d 907 1." (CER 24%; read as they stand, 1.4%).
        """
        rec = model.recognize_txt(list(crops))
        doubt = [
            k
            for k, (crop, (label, score)) in enumerate(zip(crops, verdicts, strict=False))
            if "180" in label and score > LINE_FLIP_SCORE and crop.shape[1] >= LINE_FLIP_ASPECT * crop.shape[0]
        ]
        if doubt:
            other = model.recognize_txt([np.ascontiguousarray(np.rot90(crops[k], 2)) for k in doubt])
            for j, k in enumerate(doubt):
                if float(other.scores[j]) > float(rec.scores[k]) + LINE_FLIP_MARGIN:
                    rec.txts = (*rec.txts[:k], other.txts[j], *rec.txts[k + 1 :])
                    rec.scores = [*rec.scores[:k], other.scores[j], *rec.scores[k + 1 :]]
        return rec

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
