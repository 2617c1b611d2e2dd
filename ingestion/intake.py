"""Intake: turn uploaded bytes into upright RGB pages, or refuse them with an error a person can act on.

Checks run cheapest first and before any pixel is decoded: byte size, magic bytes, then the dimensions in the
header (a 100 000 x 100 000 PNG is a few KB on disk and 30 GB in memory), then the PDF page count. Only then
is anything decoded. Every refusal is its own error class (with a `reason`), so callers and tests can tell an
empty upload from a truncated JPEG from a decompression bomb.

Normalisation: EXIF orientation applied (boxes are reported in the image as a person sees it), first frame of
animations, CMYK / 16-bit / palette / alpha converted to 8-bit RGB on white.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pillow_heif
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ingestion.errors import BadImage, ImageTooLarge, ImageTooSmall

ACCEPTED = "JPEG, PNG, WebP, HEIC, TIFF, BMP or PDF"

# HEIC/HEIF (iPhone photos) through the pillow-heif plugin, a declared dependency.
pillow_heif.register_heif_opener()


class EmptyUpload(BadImage):
    reason = "empty"


class NotAnImage(BadImage):
    reason = "not_an_image"


class TruncatedImage(BadImage):
    reason = "truncated"


class CorruptImage(BadImage):
    reason = "corrupt"


class TooManyBytes(ImageTooLarge):
    reason = "too_many_bytes"


class TooManyPixels(ImageTooLarge):
    reason = "too_many_pixels"


class TooManyPages(ImageTooLarge):
    reason = "too_many_pages"


class SideTooSmall(ImageTooSmall):
    reason = "too_small"


@dataclass(frozen=True)
class IntakeLimits:
    """What an upload may be. The app builds this from its settings.

    Attributes:
        max_bytes: largest upload accepted.
        max_pixels: largest width x height of one page (checked from the header, before decoding).
        max_pdf_pages: most pages a PDF may have.
        min_side: smallest width or height that can still hold a readable line of text.
        pdf_dpi: resolution PDF pages are rendered at.
    """

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_pdf_pages: int = 8
    min_side: int = 32
    pdf_dpi: int = 200


@dataclass
class DecodedUpload:
    """The pages of one upload as 8-bit RGB images, and what was done to get there."""

    pages: list[Image.Image]
    format: str
    notes: list[str] = field(default_factory=list)


def sniff(data: bytes) -> str:
    """The container format from magic bytes: jpeg, png, gif, webp, tiff, bmp, heif, pdf, text or unknown."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:2] == b"BM":
        return "bmp"
    if head[4:8] == b"ftyp" and head[8:12] in (
        b"heic",
        b"heix",
        b"heim",
        b"heis",
        b"mif1",
        b"msf1",
        b"hevc",
        b"avif",
    ):
        return "heif"
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    # Text (a .txt or .html renamed .jpg): valid UTF-8 that is almost all printable. A character cut at the
    # sample's end decodes as U+FFFD, hence the small allowance.
    text = data[:2048].decode("utf-8", errors="replace")
    printable = sum(ch != "\ufffd" and (ch.isprintable() or ch in "\r\n\t") for ch in text)
    if text and printable >= 0.95 * len(text) and text.count("\ufffd") <= 3:
        return "text"
    return "unknown"


_DETECTED = {"text": "text", "unknown": "unknown bytes"}


class Intake:
    """Validates and decodes uploads under fixed limits."""

    _largest_limit = 0

    def __init__(self, limits: IntakeLimits | None = None) -> None:
        self.limits = limits or IntakeLimits()
        # Pillow's own bomb guard (it raises at twice this) is a process-wide backstop behind this instance's
        # header check: keep it at the largest limit any Intake uses, so it never refuses what a limit allows.
        Intake._largest_limit = max(Intake._largest_limit, self.limits.max_pixels)
        Image.MAX_IMAGE_PIXELS = Intake._largest_limit
        # Truncated files must fail, not decode into half-grey pages.
        ImageFile.LOAD_TRUNCATED_IMAGES = False

    def decode(self, data: bytes, filename: str | None = None) -> DecodedUpload:
        """Decode one upload into RGB pages.

        Raises:
            EmptyUpload, NotAnImage, TruncatedImage, CorruptImage (all BadImage),
            TooManyBytes, TooManyPixels, TooManyPages (all ImageTooLarge), SideTooSmall (ImageTooSmall).
        """
        limits = self.limits
        name = f" {filename!r}" if filename else ""
        if not data:
            raise EmptyUpload(f"The upload{name} is empty (0 bytes). Choose the photo again and re-send it.")
        if len(data) > limits.max_bytes:
            raise TooManyBytes(
                f"The upload{name} is {len(data) / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.1f} MB. "
                "Send a smaller photo (a phone's 'medium' size is plenty to read a leaflet)."
            )
        kind = sniff(data)
        if kind in _DETECTED:
            raise NotAnImage(f"The file{name} is not an image (detected: {_DETECTED[kind]}). Upload a {ACCEPTED}.")
        if kind == "pdf":
            return DecodedUpload(pages=self._pdf_pages(data, name), format="pdf")
        return self._image(data, kind, name)

    def _check_size(self, width: int, height: int, name: str, what: str = "image") -> None:
        limits = self.limits
        if width * height > limits.max_pixels:
            raise TooManyPixels(
                f"The {what}{name} is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); the limit "
                f"is {limits.max_pixels / 1e6:.0f} megapixels. Resize it or take the photo at a lower resolution."
            )
        if min(width, height) < limits.min_side:
            raise SideTooSmall(
                f"The {what}{name} is only {width} x {height} pixels, too small to hold readable text "
                f"(at least {limits.min_side} pixels a side). Send a larger photo, closer to the text."
            )

    def _image(self, data: bytes, kind: str, name: str) -> DecodedUpload:
        notes: list[str] = []
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the header check below decides
                image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            # Pillow's guard fired while reading the header; its message carries the declared pixel count.
            declared = re.search(r"\((\d+) pixels\)", str(exc))
            size = f" ({int(declared.group(1)) / 1e6:,.0f} megapixels)" if declared else ""
            raise TooManyPixels(
                f"The image{name} declares more pixels{size} than the limit of {self.limits.max_pixels / 1e6:.0f} "
                "megapixels (a decompression bomb, or a huge scan). Resize it or take the photo at a lower resolution."
            ) from exc
        except UnidentifiedImageError as exc:
            raise CorruptImage(
                f"The file{name} starts like a {kind.upper()} image but cannot be read. Re-export it as a {ACCEPTED}."
            ) from exc
        except (OSError, SyntaxError, EOFError, ValueError) as exc:
            raise self._damaged(exc, kind, name) from exc
        # Header only so far: refuse bombs and specks before decoding a single pixel.
        self._check_size(image.width, image.height, name)
        if getattr(image, "n_frames", 1) > 1:
            notes.append("animated image: only the first frame was read")
            image.seek(0)
        try:
            image.load()
        except (OSError, SyntaxError, EOFError, ValueError) as exc:
            raise self._damaged(exc, kind, name) from exc
        if image.getexif().get(0x0112, 1) != 1:
            notes.append("EXIF orientation applied")
            upright: Image.Image = ImageOps.exif_transpose(image)
        else:
            upright = image
        return DecodedUpload(pages=[to_rgb(upright)], format=kind, notes=notes)

    @staticmethod
    def _damaged(exc: BaseException, kind: str, name: str) -> BadImage:
        text = str(exc).lower()
        if "truncated" in text or "broken data stream" in text or isinstance(exc, EOFError):
            return TruncatedImage(
                f"The {kind.upper()} image{name} is truncated (the file ends early). Upload it again, or "
                "re-save it and send the complete file."
            )
        return CorruptImage(
            f"The {kind.upper()} image{name} is damaged and cannot be decoded. Re-save it as a {ACCEPTED}."
        )

    def _pdf_pages(self, data: bytes, name: str) -> list[Image.Image]:
        import pypdfium2 as pdfium

        limits = self.limits
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise CorruptImage(
                f"The PDF{name} is damaged or password-protected and cannot be opened. Export it again, or "
                "upload a photo of the page."
            ) from exc
        try:
            count = len(pdf)
            if count == 0:
                raise CorruptImage(f"The PDF{name} has no pages. Upload the document's pages as a PDF or photo.")
            if count > limits.max_pdf_pages:
                raise TooManyPages(
                    f"The PDF{name} has {count} pages; at most {limits.max_pdf_pages} are read. Upload only the "
                    "pages with the leaflet or prescription."
                )
            scale = limits.pdf_dpi / 72
            pages = []
            for index in range(count):
                page = pdf[index]
                w_pt, h_pt = page.get_size()
                self._check_size(round(w_pt * scale), round(h_pt * scale), name, what=f"PDF page {index + 1}")
                pages.append(page.render(scale=scale).to_pil().convert("RGB"))
            return pages
        finally:
            pdf.close()


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB on a white background, whatever the mode (CMYK, 16-bit, palette, alpha, 1-bit)."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(image, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        # 16-bit scans often use a fraction of the range; stretch what is there.
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        return Image.fromarray(scaled.clip(0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode != "RGB":
        return image.convert("RGB")
    return image
