"""Photo-like degradations for rendered pages: blur, noise, low contrast, shadow, perspective, rotation,
JPEG artefacts and half resolution. `mild` is a decent phone photo; `hard` is a bad one."""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageFilter


def _noise(img: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    arr = np.asarray(img, dtype=np.float32)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, sigma, arr.shape)
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))


def _contrast(img: Image.Image, lo: int, hi: int) -> Image.Image:
    arr = np.asarray(img, dtype=np.float32)
    return Image.fromarray((lo + arr * (hi - lo) / 255).astype(np.uint8))


def _shadow(img: Image.Image, rng: random.Random, strength: float) -> Image.Image:
    """A soft diagonal shadow (a hand or phone over the page)."""
    w, h = img.size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    ramp = (xx * np.cos(angle) + yy * np.sin(angle)) / (w + h)
    ramp = (ramp - ramp.min()) / max(1e-6, float(ramp.max() - ramp.min()))
    factor = 1 - strength * ramp
    arr = np.asarray(img, dtype=np.float32) * factor[:, :, None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _perspective(img: Image.Image, rng: random.Random, amount: float) -> Image.Image:
    w, h = img.size
    d = amount * min(w, h)
    src = [
        (rng.uniform(0, d), rng.uniform(0, d)),
        (w - rng.uniform(0, d), rng.uniform(0, d)),
        (w - rng.uniform(0, d), h - rng.uniform(0, d)),
        (rng.uniform(0, d), h - rng.uniform(0, d)),
    ]
    dst = [(0, 0), (w, 0), (w, h), (0, h)]
    # Solve for the 8 coefficients mapping output (dst) to input (src) pixels.
    a = []
    b = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b += [u, v]
    coeffs = np.linalg.solve(np.array(a, dtype=np.float64), np.array(b, dtype=np.float64))
    return img.transform(
        (w, h),
        Image.Transform.PERSPECTIVE,
        tuple(coeffs),
        Image.Resampling.BICUBIC,
        fillcolor=(235, 235, 230),
    )


def _rotate(img: Image.Image, degrees: float) -> Image.Image:
    return img.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(240, 240, 236))


def degrade(img: Image.Image, level: str, rng: random.Random) -> tuple[Image.Image, dict[str, object], int | None]:
    """Apply a degradation level. Returns the image, what was done, and the JPEG quality (None: keep PNG)."""
    done: dict[str, object] = {}
    quality: int | None = None
    if level == "mild":
        angle = round(rng.uniform(-2.5, 2.5), 2)
        img = _rotate(img, angle)
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 0.7)))
        img = _noise(img, rng, rng.uniform(3, 6))
        quality = rng.randint(55, 70)
        done = {"angle": angle, "blur": True, "noise": True}
    elif level == "hard":
        angle = round(rng.choice([-1, 1]) * rng.uniform(4, 10), 2)
        # A whole page photographed from further away: captured at 1.4x, then halved below (text ~15 px high).
        img = img.resize((round(img.width * 1.4), round(img.height * 1.4)), Image.Resampling.BICUBIC)
        img = _perspective(img, rng, 0.03)
        img = _rotate(img, angle)
        img = _shadow(img, rng, rng.uniform(0.25, 0.4))
        img = _contrast(img, rng.randint(50, 80), rng.randint(185, 215))
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 1.2)))
        img = _noise(img, rng, rng.uniform(5, 8))
        img = img.resize((img.width // 2, img.height // 2), Image.Resampling.LANCZOS)
        quality = rng.randint(30, 45)
        done = {
            "angle": angle,
            "perspective": 0.03,
            "shadow": True,
            "low_contrast": True,
            "blur": True,
            "noise": True,
            "half_resolution": True,
        }
    if quality is not None:
        done["jpeg_quality"] = quality
    return img, done, quality


def encode(img: Image.Image, quality: int | None) -> tuple[bytes, str]:
    buf = io.BytesIO()
    if quality is None:
        img.save(buf, "PNG", optimize=True)
        return buf.getvalue(), "png"
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue(), "jpg"
