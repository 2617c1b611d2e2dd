"""Forwarded photos: a resized, recompressed copy of a photo read before is answered from the cache.

`python -m evals.perf.bench_forwarded [--quick] [--no-chat] [--out var/bench/forwarded]` prints a table and
writes `bench.json` / `bench.md`:

- speed: a dense rendered page (a two-column Chinese leaflet) photographed at phone size (3,024 px, JPEG q92) is
  read once through `OcrPipeline.read()` (its cache on); then its forwarded copies (1,280 px JPEG q75, 960 px JPEG
  q60, 1,280 px JPEG q50), each answered from the cache by likeness, end to end through `read()` (target < 50
  ms), and through the chat's photo -> answer path in this process (`read()`, the document as context,
  `chain.ask`, as `evals.perf.bench_service` times it); the fingerprint alone (decode at reduced scale + pHash +
  thumbnail) and the lookup alone (hash search + thumbnail comparison over a full cache);
- false matches: rendered pages of ten templates (leaflets, prescriptions, boxes, labels; clean, mild and hard),
  several different pages per template. Every page's copies (1,280 px q70 and q50, 960 px q60, 720 px q40,
  1,280 px WebP q50) must be found (`same_photo`); no two different pages may be, above all two pages of the same
  template (the same drug's leaflet from two makers, two prescriptions of one hospital). The closest look-alike
  and the farthest copy are printed against the thresholds of `ingestion.fingerprint`.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from evals.perf.machine import describe
from evals.perf.results import BenchReport, Figure, Target, time_ms
from evals.render.pages import PageSpec, render_page
from ingestion import fingerprint as fp
from ingestion.cache import ResultCache
from ingestion.ocr.rapid import RapidOcrEngine
from ingestion.pipeline import OcrPipeline

STAGE = "forwarded photo, answered from the cache"
DENSE = PageSpec("leaflet_zh", 2, "clean")
PHONE_SIDE = 3024
COPIES = {
    "1280 px JPEG q75": (1280, 75, "JPEG"),
    "960 px JPEG q60": (960, 60, "JPEG"),
    "1280 px JPEG q50": (1280, 50, "JPEG"),
}
CHECK_COPIES = {
    "1280 px q70": (1280, 70, "JPEG"),
    "1280 px q50": (1280, 50, "JPEG"),
    "960 px q60": (960, 60, "JPEG"),
    "720 px q40": (720, 40, "JPEG"),
    "1280 px WebP q50": (1280, 50, "WEBP"),
}
TEMPLATES = (
    PageSpec("leaflet_zh", 1, "clean"),
    PageSpec("leaflet_zh", 2, "clean"),
    PageSpec("leaflet_en", 1, "clean"),
    PageSpec("prescription", 1, "clean"),
    PageSpec("package", 1, "clean"),
    PageSpec("label", 1, "clean"),
    PageSpec("prescription", 1, "mild"),
    PageSpec("leaflet_en", 2, "mild"),
    PageSpec("label", 1, "mild"),
    PageSpec("prescription", 1, "hard"),
)


def resized(data: bytes, long_side: int, quality: int, fmt: str = "JPEG") -> bytes:
    """What a messaging app sends on: at most `long_side` pixels (Lanczos), re-encoded at `quality`."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    scale = long_side / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, fmt, quality=quality)
    return out.getvalue()


def phone_photo(seed: int = 7) -> bytes:
    """A dense rendered page at a phone camera's size."""
    data = render_page(DENSE, seed)[0]
    return resized(data, PHONE_SIDE, 92) if max(Image.open(io.BytesIO(data)).size) < PHONE_SIDE else data


@dataclass
class FalseMatches:
    pages: int
    copies: int
    copies_found: int
    farthest_copy: float  # worst block of the least alike copy
    same_template_pairs: int
    same_template_matched: int
    closest_same_template: float  # worst block of the most alike pair of different pages on one template
    closest_same_template_bits: int
    other_pairs: int
    other_matched: int
    closest_other: float

    def lines(self) -> list[str]:
        return [
            f"copies found: {self.copies_found}/{self.copies} (the least alike copy's worst block "
            f"{self.farthest_copy:.3f}; threshold {fp.WORST_BLOCK})",
            f"different pages of one template taken for each other: {self.same_template_matched}/"
            f"{self.same_template_pairs} pairs (the most alike pair's worst block {self.closest_same_template:.3f}, "
            f"its pHash {self.closest_same_template_bits} bits apart)",
            f"pages of different templates taken for each other: {self.other_matched}/{self.other_pairs} "
            f"(closest worst block {self.closest_other:.3f})",
        ]


def false_matches(per_template: int) -> FalseMatches:
    pages = {
        (t, k): render_page(spec, seed=1000 * t + k)[0] for t, spec in enumerate(TEMPLATES) for k in range(per_template)
    }
    # Two seeds can draw the same page (same drug, same maker): that is the same photo, not a look-alike.
    distinct = {hashlib.sha256(d).hexdigest(): key for key, d in pages.items()}
    prints = {key: fp.fingerprint(pages[key]) for key in distinct.values()}
    copies = found = 0
    farthest = 0.0
    for key, original in prints.items():
        assert original is not None
        for long_side, quality, fmt in CHECK_COPIES.values():
            copy = fp.fingerprint(resized(pages[key], long_side, quality, fmt))
            assert copy is not None
            likeness = fp.likeness(original, copy)
            copies += 1
            found += likeness.same
            farthest = max(farthest, likeness.worst_block)
    same = [0, 0]
    other = [0, 0]
    closest_same, closest_same_bits, closest_other = float("inf"), 0, float("inf")
    for a, b in itertools.combinations(prints, 2):
        pa, pb = prints[a], prints[b]
        assert pa is not None and pb is not None
        blocks = float(fp._block_differences(pa.thumb, pb.thumb).max())  # regardless of the hash gate
        matched = fp.same_photo(pa, pb)
        if a[0] == b[0]:
            same[0] += 1
            same[1] += matched
            if blocks < closest_same:
                closest_same, closest_same_bits = blocks, fp.hamming(pa.phash, pb.phash)
        else:
            other[0] += 1
            other[1] += matched
            closest_other = min(closest_other, blocks)
    return FalseMatches(
        len(prints),
        copies,
        found,
        farthest,
        same[0],
        same[1],
        closest_same,
        closest_same_bits,
        other[0],
        other[1],
        closest_other,
    )


def run(quick: bool = False, chat: bool = True) -> tuple[list[Figure], FalseMatches]:
    repeat = 10 if quick else 30
    engine = RapidOcrEngine()
    finder = None
    components = None
    if chat:
        from app.components import Components
        from app.config import get_settings

        components = Components(get_settings())
        components.chain.ask("warfarin and aspirin together?")
        finder = components.lexicon
    pipeline = OcrPipeline(engine, mention_finder=finder, cache=ResultCache())
    pipeline.read(render_page(DENSE, 1)[0], "warm-up.png")  # the model loads outside the figures
    photo = phone_photo()
    size = Image.open(io.BytesIO(photo)).size
    started = time.perf_counter()
    first = pipeline.read(photo, "photo.jpg")
    read_ms = (time.perf_counter() - started) * 1000
    settings = {
        "page": f"{DENSE.kind}, {DENSE.columns} columns, {size[0]}x{size[1]} JPEG q92",
        "lines": len(first.lines),
    }
    figures = [Figure(STAGE, "first reading of the photo", "ms", [read_ms], statistic="value", settings=settings)]
    for name, (long_side, quality, fmt) in COPIES.items():
        copy = resized(photo, long_side, quality, fmt)
        doc = pipeline.read(copy, "forwarded.jpg")
        if not doc.near_duplicate:
            raise RuntimeError(f"the {name} copy was not found in the cache")
        samples = time_ms(lambda copy=copy: pipeline.read(copy, "forwarded.jpg"), repeat)  # type: ignore[misc]
        figures.append(
            Figure(
                STAGE,
                f"{name}: OcrPipeline.read()",
                "ms",
                samples,
                baseline="first reading of the photo",
                targets=(Target(50),),
                settings={"bytes": len(copy)},
            )
        )
        if components is not None:
            from app.documents import document_context

            def ask(copy: bytes = copy) -> None:
                doc = pipeline.read(copy, "forwarded.jpg")
                context = document_context(f"photo#{doc.sha256[:12]}", doc, components.lexicon)
                components.chain.ask("这药能和华法林一起吃吗？", documents=[context])

            figures.append(
                Figure(STAGE, f"{name}: photo question answered (Python API)", "ms", time_ms(ask, repeat // 3))
            )
    copy = resized(photo, 1280, 75)
    figures.append(Figure("fingerprint", "1280 px JPEG q75", "ms", time_ms(lambda: fp.fingerprint(copy), repeat)))
    figures.append(
        Figure("fingerprint", f"{size[0]}x{size[1]} JPEG q92", "ms", time_ms(lambda: fp.fingerprint(photo), repeat))
    )
    full = ResultCache()
    for seed in range(255):  # a full cache of other pages, then the photo
        data = render_page(TEMPLATES[seed % len(TEMPLATES)], seed=50_000 + seed)[0]
        key = hashlib.sha256(data).hexdigest()
        full.recall(key, data)
        full.put(key, first)
    key = hashlib.sha256(photo).hexdigest()
    full.recall(key, photo)
    full.put(key, first)
    found = fp.fingerprint(copy)
    assert found is not None

    def lookup() -> None:
        with full._lock:
            assert any(fp.same_photo(full._prints[k], found) for k in full._near(found))

    figures.append(
        Figure("lookup in a full cache (256 photos)", "hash search + comparison", "ms", time_ms(lookup, repeat))
    )
    return figures, false_matches(3 if quick else 6)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and pages")
    parser.add_argument("--no-chat", action="store_true", help="leave out the chat's photo -> answer path")
    parser.add_argument("--out", type=Path, default=Path("var/bench/forwarded"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = BenchReport(describe(), ["forwarded"], args.quick)
    figures, checked = run(args.quick, chat=not args.no_chat)
    report.add(figures, "forwarded")
    report.notes += checked.lines()
    report.notes.append(
        f"thresholds: pHash within {fp.HASH_DISTANCE} bits, aspect ratio within {fp.ASPECT_TOLERANCE:.0%}, worst "
        f"{fp.BLOCK}x{fp.BLOCK} block of the {fp.THUMB}x{fp.THUMB} thumbnails under {fp.WORST_BLOCK} "
        f"({checked.pages} distinct pages of {len(TEMPLATES)} templates, {len(CHECK_COPIES)} copies each)"
    )
    report.seconds = time.perf_counter() - started
    json_path, md_path = report.write(args.out)
    print(report.to_markdown())
    print(f"wrote {json_path} and {md_path}")
    print(json.dumps({"false_matches": checked.__dict__}, indent=1))


if __name__ == "__main__":
    main()
