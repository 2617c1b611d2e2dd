"""Getting image bytes out of a request: base64 strings, data: URIs, and (only when settings allow it) http(s)
URLs fetched under size and time limits from public addresses only.

A URL is resolved once, every address it resolves to is checked, and the connection is made to the checked
address (the hostname is kept for TLS), so a DNS answer that changes between check and fetch cannot steer the
request to a loopback or private service. Redirects are not followed.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import httpx

from app.config import Settings
from app.errors import InvalidInput, UnsupportedMediaType
from ingestion.errors import BadImage, ImageTooLarge

_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
    (b"%PDF", "application/pdf"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
]


def sniff_content_type(data: bytes) -> str:
    """The media type from the bytes themselves (a client's declared type is not trusted when serving back)."""
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypheim", b"ftypheis"):
        return "image/heic"
    return "application/octet-stream"


def decode_base64(value: str, max_bytes: int) -> bytes:
    """Base64 (or a data: URI carrying base64) to bytes, refusing oversize input before decoding it."""
    payload = value.strip()
    if payload.startswith("data:"):
        header, sep, payload = payload.partition(",")
        if not sep or ";base64" not in header:
            raise InvalidInput("A data: URI must be base64-encoded: data:image/jpeg;base64,....")
    if len(payload) * 3 // 4 > max_bytes:
        raise ImageTooLarge(f"The image is larger than the {max_bytes:,}-byte limit; send a smaller photo.")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as e:
        raise BadImage("The image is not valid base64; encode the file's bytes with base64.") from e
    if not data:
        raise InvalidInput("The image is empty (0 bytes); send the photo's bytes, base64-encoded.")
    return data


async def image_from_url(url: str, settings: Settings) -> bytes:
    """The bytes an `image_url` part points at."""
    if url.startswith("data:"):
        return decode_base64(url, settings.max_body_bytes)
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsupportedMediaType(f"image_url scheme {scheme or '(none)'!r} is not supported; send a data: URI.")
    if not settings.allow_remote_images:
        raise UnsupportedMediaType(
            "Remote image URLs are disabled on this server; attach the image as a data: URI "
            "(data:image/jpeg;base64,...)."
        )
    return await _fetch_public(url, settings.remote_image_max_bytes, settings.remote_image_timeout_s)


def _public_address(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise InvalidInput(f"The image host {host!r} could not be resolved.") from e
    addresses = {str(info[4][0]) for info in infos}
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise InvalidInput("The image URL points at a private, loopback or reserved address; that is refused.")
    return sorted(addresses)[0]


async def _fetch_public(url: str, max_bytes: int, timeout_s: float) -> bytes:
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise InvalidInput("The image URL has no host.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _public_address(host, port)
    netloc = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((parts.scheme, f"{netloc}:{port}", parts.path or "/", parts.query, ""))
    headers = {"host": parts.netloc.rsplit("@", 1)[-1]}
    try:
        async with (
            httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client,
            client.stream("GET", pinned, headers=headers, extensions={"sni_hostname": host}) as response,
        ):
            if response.status_code != 200:
                raise InvalidInput(f"Fetching the image URL answered HTTP {response.status_code}.")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise ImageTooLarge(f"The remote image is larger than the {max_bytes:,}-byte limit.")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > max_bytes:
                    raise ImageTooLarge(f"The remote image is larger than the {max_bytes:,}-byte limit.")
            return bytes(data)
    except httpx.TimeoutException as e:
        raise InvalidInput(f"Fetching the image URL took longer than {timeout_s:g} s.") from e
    except httpx.HTTPError as e:
        raise InvalidInput("The image URL could not be fetched.") from e
