"""A photo's fingerprint, to know a forwarded copy of a photo already read: a perceptual hash and a thumbnail.

A messaging app resizes and recompresses a photo it forwards, so a copy has other bytes than the photo read
before, and the SHA-256 the caches are keyed by misses it. `fingerprint` computes, from the upload's bytes and in
a few milliseconds (a JPEG is decoded at 1/2 to 1/8 scale by its own DCT, `Image.draft`), the image as a person
sees it (EXIF orientation applied) reduced to a greyscale thumbnail of `THUMB` x `THUMB` pixels, a 64-bit DCT
hash of it (pHash) and the full size. `likeness` compares two thumbnails block by block: a recompressed or
resized copy differs from its original a little everywhere, while another leaflet printed on the same template
differs a lot somewhere (a name, a strength, a paragraph), so the verdict rests on the worst block, never on a
mean that a few changed words barely move. `same_photo` is the one decision: pHash near, aspect ratio within
`ASPECT_TOLERANCE`, worst block under `WORST_BLOCK`. The thresholds are measured on rendered pages
(`python -m evals.perf.bench_forwarded`, figures in the README under "Forwarded copies").
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageOps

from ingestion.intake import sniff, to_rgb

THUMB = 256  # thumbnail side: fine enough that a changed drug name or number moves a block (64 KB kept)
BLOCK = 8  # block side in thumbnail pixels (32 x 32 blocks)
# Copies measured up to 6 bits apart (960 px q60); a looser gate only costs thumbnail comparisons (0.2 ms each).
HASH_DISTANCE = 12  # pHash bits a copy may differ by before the thumbnails are compared at all
ASPECT_TOLERANCE = 0.01  # a resized copy keeps its aspect ratio to rounding (measured: under 0.1%)
# Mean absolute difference of the worst block, on the contrast-stretched 0..1 scale. Measured: copies (down to 720
# px q40, WebP q50) at most 0.060; two different pages of one template at least 0.156 (the same drug's leaflet
# from two makers), of different templates 0.275. Near the geometric mean of the two, 1.5x from the copies.
WORST_BLOCK = 0.09
_FORMATS = {"jpeg", "png", "webp", "heif", "tiff", "bmp"}
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


@dataclass(frozen=True, eq=False)
class ImagePrint:
    """What is kept of a photo to recognise a copy of it; it cannot be turned back into readable text.

    Attributes:
        phash: 64-bit DCT perceptual hash of the thumbnail.
        width, height: of the full image as a person sees it (EXIF orientation applied): the frame of its boxes.
        thumb: `THUMB` x `THUMB` greyscale thumbnail (uint8, contrast stretched), aspect ratio not kept
            (compared separately).
    """

    phash: int
    width: int
    height: int
    thumb: np.ndarray

    @property
    def aspect(self) -> float:
        return self.width / self.height

    @property
    def nbytes(self) -> int:
        return int(self.thumb.nbytes) + 64


@dataclass(frozen=True)
class Likeness:
    """How alike two fingerprints are: pHash bits apart, relative aspect difference, worst and mean block."""

    distance: int
    aspect: float
    worst_block: float
    mean: float

    @property
    def same(self) -> bool:
        return self.distance <= HASH_DISTANCE and self.aspect <= ASPECT_TOLERANCE and self.worst_block <= WORST_BLOCK


def fingerprint(data: bytes, max_pixels: int = 40_000_000) -> ImagePrint | None:
    """The fingerprint of a single-image upload, or None (a PDF, an image over `max_pixels`, bytes that do not
    decode): the caller then reads the upload as usual, and intake refuses what is wrong with it."""
    if sniff(data) not in _FORMATS:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > max_pixels:
                return None  # never decode a bomb here; intake refuses it with its own message
            orientation = image.getexif().get(0x0112, 1)
            width, height = image.size
            if orientation in _ROTATED:
                width, height = height, width
            if image.format == "JPEG":
                # The smallest DCT scale still twice the thumbnail a side: at the thumbnail's own size the scaled
                # IDCT aliases text, and a copy would differ from its original by more than another page does.
                image.draft("L", (2 * THUMB, 2 * THUMB))
            image.load()
            upright = ImageOps.exif_transpose(image) if orientation != 1 else image
            grey = upright if upright.mode == "L" else to_rgb(upright).convert("L")
            # Lanczos, not a box: a box filter aliases strokes differently at each source size (a box reduction
            # down to twice the thumbnail first halves the time and changes nothing measurable).
            small = grey.resize((THUMB, THUMB), Image.Resampling.LANCZOS, reducing_gap=2.0)
            thumb = _stretched(np.asarray(small, dtype=np.float32))
    except Exception:  # any decoding failure: not fingerprinted, and intake reports it
        return None
    return ImagePrint(phash=_phash(thumb), width=width, height=height, thumb=thumb)


def likeness(a: ImagePrint, b: ImagePrint) -> Likeness:
    """Compare two fingerprints (cheap hash and aspect first; the thumbnails only when both are near)."""
    distance = (a.phash ^ b.phash).bit_count()
    aspect = abs(a.aspect - b.aspect) / max(a.aspect, b.aspect)
    if distance > HASH_DISTANCE or aspect > ASPECT_TOLERANCE:
        return Likeness(distance, aspect, float("inf"), float("inf"))
    blocks = _block_differences(a.thumb, b.thumb)
    return Likeness(distance, aspect, float(blocks.max()), float(blocks.mean()))


def same_photo(a: ImagePrint, b: ImagePrint) -> bool:
    """True when `b` is `a` resized or recompressed (or the reverse), not merely a page of the same layout."""
    return likeness(a, b).same


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _stretched(grey: np.ndarray) -> np.ndarray:
    """Contrast stretched to 0..255 between the 1st and 99.5th percentiles: a copy's tone curve may shift."""
    lo, hi = np.percentile(grey, (1.0, 99.5))
    return np.clip((grey - lo) * (255.0 / max(float(hi - lo), 1.0)), 0, 255).round().astype(np.uint8)


def _block_differences(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = np.abs(a.astype(np.float32) - b.astype(np.float32)) / 255.0
    n = THUMB // BLOCK
    return diff[: n * BLOCK, : n * BLOCK].reshape(n, BLOCK, n, BLOCK).mean(axis=(1, 3))


@cache
def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2 / n)
    m[0] /= np.sqrt(2)
    return m.astype(np.float32)


def _phash(thumb: np.ndarray) -> int:
    """pHash: the 8 x 8 lowest frequencies of a 32 x 32 DCT, each bit set when above their median (DC left out)."""
    small = np.asarray(Image.fromarray(thumb).resize((32, 32), Image.Resampling.BOX), dtype=np.float32)
    d = _dct_matrix(32)
    low = (d @ small @ d.T)[:8, :8].flatten()
    bits = low > np.median(low[1:])
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))
