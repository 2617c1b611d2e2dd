"""A forwarded photo is not read twice: a resized, recompressed copy of a photo read before is found by its
fingerprint and answered with the earlier reading scaled to the copy, while another leaflet printed on the same
template (the dangerous look-alike) is never taken for it."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from evals.render.pages import PageSpec, render_page
from ingestion.cache import ResultCache
from ingestion.document import DrugOnPage, Field, Medication, ParsedDocument
from ingestion.fingerprint import ASPECT_TOLERANCE, WORST_BLOCK, fingerprint, likeness, same_photo
from ingestion.ocr.base import OcrLine, quad_from_rect
from knowledge.models import DrugMention

LEAFLET_2COL = PageSpec("leaflet_zh", 2, "clean")
PRESCRIPTION = PageSpec("prescription", 1, "clean")
# The closest pairs of different pages on one template among 60 rendered (see evals/perf/bench_forwarded.py): the
# same drug's leaflet from two makers (approval number and maker differ), and two prescriptions of one hospital.
LOOK_ALIKES = [(LEAFLET_2COL, 1003, 1005), (LEAFLET_2COL, 1002, 1004), (PRESCRIPTION, 3001, 3005)]


def page(spec: PageSpec, seed: int) -> bytes:
    return render_page(spec, seed)[0]


def forwarded(data: bytes, long_side: int, quality: int) -> bytes:
    """What a messaging app sends on: resized to `long_side` (Lanczos), JPEG at `quality`."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    scale = long_side / max(image.size)
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


COPIES = {"1280 px q70": (1280, 70), "1280 px q50": (1280, 50), "960 px q60": (960, 60)}


@pytest.mark.parametrize("spec,seed", [(LEAFLET_2COL, 1003), (PRESCRIPTION, 3001)])
@pytest.mark.parametrize("copy", list(COPIES))
def test_a_forwarded_copy_is_the_same_photo(spec: PageSpec, seed: int, copy: str) -> None:
    original = page(spec, seed)
    a, b = fingerprint(original), fingerprint(forwarded(original, *COPIES[copy]))
    assert a is not None and b is not None
    found = likeness(a, b)
    assert found.same, found
    assert found.worst_block < WORST_BLOCK / 1.5  # with room: the measured worst copy is about half the threshold


@pytest.mark.parametrize("copy", list(COPIES))
def test_a_forwarded_copy_of_a_phone_size_photo_is_the_same_photo(copy: str) -> None:
    # A camera's JPEG is decoded at 1/4 scale by its DCT (Image.draft), its copy at full or half scale.
    camera = Image.open(io.BytesIO(page(LEAFLET_2COL, 1003))).resize((2160, 3024), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    camera.save(out, "JPEG", quality=92)
    original = out.getvalue()
    a, b = fingerprint(original), fingerprint(forwarded(original, *COPIES[copy]))
    assert a is not None and b is not None and (a.width, a.height) == (2160, 3024)
    assert likeness(a, b).same, likeness(a, b)


@pytest.mark.parametrize("spec,seed_a,seed_b", LOOK_ALIKES)
def test_another_leaflet_on_the_same_template_is_not(spec: PageSpec, seed_a: int, seed_b: int) -> None:
    a_bytes, b_bytes = page(spec, seed_a), page(spec, seed_b)
    assert a_bytes != b_bytes
    a, b = fingerprint(a_bytes), fingerprint(b_bytes)
    assert a is not None and b is not None
    found = likeness(a, b)
    # Same layout: the hash and the aspect ratio cannot tell them apart; the worst block does.
    assert found.distance <= 4 and found.aspect <= ASPECT_TOLERANCE
    assert not found.same and found.worst_block > WORST_BLOCK * 1.5
    # Nor is a forwarded copy of one taken for the other.
    copy = fingerprint(forwarded(b_bytes, 1280, 50))
    assert copy is not None and not same_photo(a, copy)


def test_what_is_not_a_single_image_has_no_fingerprint() -> None:
    assert fingerprint(b"%PDF-1.4 not really") is None
    assert fingerprint(b"\xff\xd8\xff\xe0 truncated") is None
    assert fingerprint(page(PRESCRIPTION, 3001), max_pixels=1000) is None  # never decoded past the limit


def test_exif_orientation_is_applied_before_fingerprinting() -> None:
    original = page(PRESCRIPTION, 3001)
    image = Image.open(io.BytesIO(original)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, shown turned 90 degrees clockwise
    out = io.BytesIO()
    image.rotate(90, expand=True).save(out, "JPEG", quality=80, exif=exif)
    a, b = fingerprint(original), fingerprint(out.getvalue())
    assert a is not None and b is not None
    assert (b.width, b.height) == (a.width, a.height) and same_photo(a, b)


def synthetic(sha: str, width: int = 1000, height: int = 1400) -> ParsedDocument:
    box = quad_from_rect(100, 200, 300, 240)
    line = OcrLine("阿莫西林胶囊", 0.95, box)
    mention = DrugMention(text="阿莫西林", recognized=True, ingredients=("amoxicillin",), start=0, end=4)
    return ParsedDocument(
        doc_type="prescription",
        lines=(line,),
        fields={"drug_name": Field("drug_name", "阿莫西林胶囊", 0.95, (box,), (0,))},
        medications=(Medication("阿莫西林胶囊", boxes=(box,), line_indices=(0,)),),
        drugs=(DrugOnPage(mention, (box,), (0,)),),
        warnings=(),
        timings_ms={"total": 1.0},
        sha256=sha,
        width=width,
        height=height,
    )


def test_scaled_to_moves_every_box_into_the_copy_frame() -> None:
    doc = synthetic("a")
    half = doc.scaled_to(500, 700)
    expected = quad_from_rect(50, 100, 150, 120)
    assert (half.width, half.height) == (500, 700)
    assert half.lines[0].box == expected
    assert half.fields["drug_name"].boxes == (expected,)
    assert half.medications[0].boxes == (expected,)
    assert half.drugs[0].boxes == (expected,)
    assert half.text == doc.text and half.rows == doc.rows and half.drugs[0].line_indices == (0,)
    assert doc.scaled_to(1000, 1400) == doc
    assert ParsedDocument.from_json(half.to_json()) == half


def test_cache_answers_a_copy_scaled_and_marked_and_forgets_its_fingerprint_with_it() -> None:
    original = page(PRESCRIPTION, 3001)
    copy = forwarded(original, 960, 60)
    key, copy_key = hashlib.sha256(original).hexdigest(), hashlib.sha256(copy).hexdigest()
    cache = ResultCache(max_entries=1)
    assert cache.recall(key, original) is None  # a miss keeps the fingerprint for the put
    cache.put(key, synthetic(key))
    assert cache.bytes_used > 64 * 1024  # the thumbnail is counted
    hit = cache.recall(copy_key, copy)
    assert hit is not None and hit.near_duplicate and hit.sha256 == copy_key
    size = Image.open(io.BytesIO(copy)).size
    assert (hit.width, hit.height) == size
    assert hit.lines[0].box == synthetic(key).scaled_to(*size).lines[0].box
    assert (cache.hits, cache.near_hits, cache.misses) == (1, 1, 1)
    look_alike = page(PRESCRIPTION, 3005)
    assert cache.recall(hashlib.sha256(look_alike).hexdigest(), look_alike) is None
    cache.put("other", synthetic("other"))  # evicts the first entry, fingerprint and all
    assert cache.recall(copy_key, copy) is None


def test_exact_only_cache_does_not_look_for_copies() -> None:
    original = page(PRESCRIPTION, 3001)
    key = hashlib.sha256(original).hexdigest()
    cache = ResultCache(near_duplicates=False)
    cache.recall(key, original)
    cache.put(key, synthetic(key))
    copy = forwarded(original, 960, 60)
    assert cache.recall(hashlib.sha256(copy).hexdigest(), copy) is None
