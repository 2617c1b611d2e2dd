"""Intake refuses each kind of bad upload with its own error, and normalises every odd-but-valid image."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from ingestion.errors import BadImage, ImageTooLarge, ImageTooSmall
from ingestion.intake import (
    CorruptImage,
    EmptyUpload,
    Intake,
    IntakeLimits,
    NotAnImage,
    SideTooSmall,
    TooManyBytes,
    TooManyPages,
    TooManyPixels,
    TruncatedImage,
    sniff,
)


def encode(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def page(size: tuple[int, int] = (300, 200), color: tuple[int, int, int] = (250, 250, 250)) -> Image.Image:
    img = Image.new("RGB", size, color)
    img.paste((10, 10, 10), (20, 20, 120, 40))  # a dark bar, so orientation and colour survive checks
    return img


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but carries almost no data: a decompression bomb's shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def pdf_with_pages(count: int) -> bytes:
    images = [page((400, 500)) for _ in range(count)]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=72)
    return buf.getvalue()


intake = Intake(IntakeLimits(max_bytes=2_000_000, max_pixels=20_000_000, max_pdf_pages=3, min_side=32))


def refused(data: bytes, filename: str = "upload.jpg") -> Exception:
    with pytest.raises((BadImage, ImageTooLarge, ImageTooSmall)) as info:
        intake.decode(data, filename)
    return info.value


def test_each_bad_upload_has_its_own_error_and_reason() -> None:
    jpeg = encode(page(), "JPEG", quality=90)
    png = encode(page(), "PNG")
    cases = {
        "empty": (b"", EmptyUpload),
        "text named .jpg": ("This is not a photo, it is a note.\n用法用量：一次一片\n".encode() * 20, NotAnImage),
        "truncated JPEG": (jpeg[: len(jpeg) // 2], TruncatedImage),
        "truncated PNG": (png[: len(png) * 2 // 3], TruncatedImage),
        "bomb": (png_header_only(100_000, 100_000), TooManyPixels),
        "too many bytes": (b"\xff\xd8\xff" + b"\x00" * 2_100_000, TooManyBytes),
        "too many PDF pages": (pdf_with_pages(4), TooManyPages),
        "5x5 image": (encode(Image.new("RGB", (5, 5), "white"), "PNG"), SideTooSmall),
        "corrupt PNG": (
            png_header_only(300, 200)[:29] + b"\x00\x00\x00\x00" + png_header_only(300, 200)[33:],
            CorruptImage,
        ),
    }
    reasons = set()
    for label, (data, expected) in cases.items():
        error = refused(data)
        assert type(error) is expected, label
        assert error.message and "." in error.message, label
        reasons.add(error.reason)  # type: ignore[attr-defined]
    assert len(reasons) == len(set(map(lambda c: c[1], cases.values())))


def test_messages_say_what_was_wrong_and_what_to_do() -> None:
    error = refused(b"%!PS-Adobe plain text pretending" * 10)
    assert "not an image" in error.message and "Upload a JPEG, PNG" in error.message
    assert "(detected: text)" in error.message
    error = refused(png_header_only(100_000, 100_000))
    assert "10,000 megapixels" in error.message and "limit of 20 megapixels" in error.message
    # Below Pillow's own guard (twice the limit) the header check speaks, with the exact dimensions.
    error = refused(png_header_only(6000, 4000))
    assert isinstance(error, TooManyPixels) and "6000 x 4000 pixels (24 megapixels)" in error.message


def test_bomb_is_refused_from_the_header_before_decoding() -> None:
    # The IDAT holds 64 bytes: decoding would fail as truncated. Refusing as too many pixels proves the header
    # check runs first (and Pillow's own guard sits behind it).
    assert isinstance(refused(png_header_only(20_000, 20_000)), TooManyPixels)
    assert isinstance(refused(png_header_only(5000, 4500)), TooManyPixels)
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS >= 20_000_000


def test_sniff_tells_formats_apart() -> None:
    assert sniff(encode(page(), "PNG")) == "png"
    assert sniff(encode(page(), "JPEG")) == "jpeg"
    assert sniff(encode(page(), "WEBP")) == "webp"
    assert sniff(encode(page(), "TIFF")) == "tiff"
    assert sniff(encode(page(), "BMP")) == "bmp"
    assert sniff(pdf_with_pages(1)) == "pdf"
    assert sniff(b"<html><body>hi</body></html>") == "text"
    assert sniff(bytes(range(256)) * 4) == "unknown"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "BMP"])
def test_common_formats_decode_to_rgb(fmt: str) -> None:
    decoded = intake.decode(encode(page(), fmt), f"x.{fmt.lower()}")
    assert decoded.pages[0].mode == "RGB" and decoded.pages[0].size == (300, 200)


def test_heic_decodes() -> None:
    import pillow_heif

    heif = pillow_heif.from_pillow(page())
    buf = io.BytesIO()
    heif.save(buf, quality=90)
    decoded = intake.decode(buf.getvalue(), "photo.heic")
    assert decoded.format == "heif" and decoded.pages[0].size == (300, 200)


def test_cmyk_16bit_palette_and_alpha_become_8bit_rgb_on_white() -> None:
    cmyk = intake.decode(encode(page().convert("CMYK"), "JPEG")).pages[0]
    assert cmyk.mode == "RGB" and cmyk.getpixel((200, 150))[0] > 200 and cmyk.getpixel((50, 30))[0] < 60

    arr = np.full((200, 300), 60000, dtype=np.uint16)
    arr[20:40, 20:120] = 1000
    sixteen = intake.decode(encode(Image.fromarray(arr), "PNG")).pages[0]
    assert sixteen.mode == "RGB" and sixteen.getpixel((200, 150)) == (255, 255, 255)
    assert sixteen.getpixel((50, 30)) == (0, 0, 0)

    palette = page().convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    palette.info["transparency"] = palette.getpixel((200, 150))
    pal = intake.decode(encode(palette, "PNG", transparency=palette.getpixel((200, 150)))).pages[0]
    assert pal.mode == "RGB" and pal.getpixel((200, 150)) == (255, 255, 255)

    rgba = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    rgba.paste((10, 10, 10, 255), (20, 20, 120, 40))
    alpha = intake.decode(encode(rgba, "PNG")).pages[0]
    assert alpha.getpixel((200, 150)) == (255, 255, 255) and alpha.getpixel((50, 30)) == (10, 10, 10)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animations_read_their_first_frame(fmt: str) -> None:
    frames = [page(color=(250, 250, 250)), page(color=(0, 0, 200))]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    decoded = intake.decode(data)
    assert decoded.pages[0].getpixel((200, 150))[2] > 200 and decoded.pages[0].getpixel((200, 150))[0] > 200
    assert any("first frame" in n for n in decoded.notes)


def test_exif_orientation_is_applied() -> None:
    img = page((300, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display rotated 90 degrees clockwise
    decoded = intake.decode(encode(img, "JPEG", exif=exif.tobytes()))
    upright = decoded.pages[0]
    assert upright.size == (200, 300)
    # The dark bar at the stored image's top-left ends up at the top-right once turned clockwise.
    assert upright.getpixel((200 - 30, 50))[0] < 80
    assert "EXIF orientation applied" in decoded.notes


def test_pdf_pages_render() -> None:
    decoded = intake.decode(pdf_with_pages(2), "scan.pdf")
    assert decoded.format == "pdf" and len(decoded.pages) == 2
    width, height = decoded.pages[0].size
    assert abs(width - 400 * 200 / 72) <= 1 and abs(height - 500 * 200 / 72) <= 1


def test_pdf_page_pixel_limit_is_checked_before_rendering() -> None:
    tight = Intake(IntakeLimits(max_pixels=1_000_000))
    with pytest.raises(TooManyPixels):
        tight.decode(pdf_with_pages(1))
