"""A photo is read while the question is typed, in a real browser (Debian's Chromium, Playwright) at phone size
against the real app: choosing the photo uploads it at once (`POST /v1/documents?wait=false`, then `/v1/jobs/{id}`),
the question bar says it is being read and then that it is read, and the question names the stored document
instead of sending the photo again: one upload, one reading. A photo chosen and then replaced by another before
asking is deleted again, and so is one chosen when the page is left without asking; the one asked about stays.

A screenshot of the bar with the photo read goes to var/screenshots/early-reading-390x844.png.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.app.api.conftest import LiveServer, leaflet_png
from tests.app.web.test_browser import PHONE, assert_fits, browser_page, screenshot, streamed

__all__ = ["browser_page"]  # the fixture: a fresh Chinese Chromium page

pytestmark = [pytest.mark.integration, pytest.mark.slow]
OTHER_LEAFLET = ("阿司匹林肠溶片说明书", "【用法用量】口服，一次100mg，一日1次。")
THIRD_LEAFLET = ("辛伐他汀片说明书", "【用法用量】口服，一次20mg，每晚1次。")


def documents(page: Any) -> list[str]:
    """The ids of the owner's stored documents, asked by the page itself."""
    listed = page.evaluate("async () => (await (await fetch('/v1/documents')).json()).data.map((d) => d.id)")
    return list(listed)


def stored_ids(server: LiveServer) -> list[str]:
    """The ids of the owner's stored documents, asked outside the page."""
    return [d["id"] for d in httpx.get(f"{server.url}/v1/documents").json()["data"]]


@pytest.mark.parametrize("browser_page", [PHONE], indirect=True, ids=["390x844"])
def test_a_photo_is_read_while_the_question_is_typed(browser_page: Any, server: LiveServer, tmp_path: Path) -> None:
    page = browser_page
    errors: list[str] = []
    uploads: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: uploads.append(r.url) if r.method == "POST" and "/v1/documents" in r.url else None)
    photo = tmp_path / "amlodipine-leaflet.png"
    photo.write_bytes(leaflet_png())
    page.goto(server.url + "/")
    server.wait_ready()  # the models loaded: the figures below are the reading's, not a cold start's

    # Choosing the photo uploads it at once, before a word of the question is typed.
    chosen = time.perf_counter()
    with page.expect_response(lambda r: "/v1/documents?wait=false" in r.url) as accepted:
        page.set_input_files("#file", str(photo))
    assert accepted.value.status == 202 and accepted.value.headers["location"].startswith("/v1/jobs/")
    status = page.locator("#photo-status")
    assert status.inner_text() in ("正在读取照片…", "照片已读好 ✓")
    page.wait_for_function("() => document.getElementById('photo-status').className === 'read'", timeout=45_000)
    read_s = time.perf_counter() - chosen
    assert status.inner_text() == "照片已读好 ✓"
    assert page.locator("#file-name").inner_text() == photo.name
    assert_fits(page)
    screenshot(page, "early-reading-390x844.png")

    # The question names the stored document: no second upload, no image in the request, and the answer still
    # cites the photo with the box of its sentence.
    page.fill("#question", "这药能和辛伐他汀一起吃吗？")
    asked = time.perf_counter()
    with page.expect_response(lambda r: r.url.endswith("/v1/chat/completions"), timeout=30_000) as answered:
        page.click("#send")
    rxlens, stages = streamed(answered.value)
    page.locator(".msg.assistant").last.wait_for()
    answer_s = time.perf_counter() - asked
    print(f"\nphoto read {read_s:.2f} s after it was chosen; answer shown {answer_s:.2f} s after asking")
    body = answered.value.request.post_data_json
    document_id = rxlens["documents"][0]["id"]
    assert body["rxlens"]["document_ids"] == [document_id]
    assert not [p for m in body["messages"] for p in m["content"] if p.get("type") == "image_url"]
    assert stages == ["recognising", "checking", "writing"], stages
    assert [c for c in rxlens["citations"] if c.get("document_id") == document_id and c.get("bbox")], rxlens
    assert len(uploads) == 1, uploads
    assert page.locator(".msg.user img.thumb").count() == 1 and page.locator("#photo-card").is_visible()
    assert status.inner_text() == "" and page.locator("#file-name").inner_text() == ""

    # Another photo chosen, then replaced before asking: the replaced one's document is deleted again (this
    # upload created it), the asked one stays; asking at once waits for the reading still under way.
    first_other = tmp_path / "aspirin-leaflet.png"
    first_other.write_bytes(leaflet_png(OTHER_LEAFLET))
    page.set_input_files("#file", str(first_other))
    page.wait_for_function("() => document.getElementById('photo-status').className === 'read'", timeout=45_000)
    replaced = [d for d in documents(page) if d != document_id]
    assert len(replaced) == 1
    second_other = tmp_path / "simvastatin-leaflet.png"
    second_other.write_bytes(leaflet_png(THIRD_LEAFLET))
    with page.expect_request(lambda r: r.method == "DELETE" and r.url.endswith(replaced[0]), timeout=45_000):
        page.set_input_files("#file", str(second_other))
    page.fill("#question", "这个药怎么吃？")
    with page.expect_response(lambda r: r.url.endswith("/v1/chat/completions"), timeout=45_000) as answered:
        page.click("#send")
    last, _ = streamed(answered.value)
    kept = documents(page)
    assert replaced[0] not in kept and document_id in kept and last["documents"][0]["id"] in kept, kept
    assert len(kept) == 2 and len(uploads) == 3, (kept, uploads)
    page.wait_for_function("() => document.querySelectorAll('.msg.assistant').length === 2")
    assert not errors, errors

    # A photo chosen and read, then the page left without asking: its document is deleted as the page goes.
    left = tmp_path / "left-unasked.png"
    left.write_bytes(leaflet_png((OTHER_LEAFLET[0], "【贮藏】密封，在干燥处保存。")))
    page.set_input_files("#file", str(left))
    page.wait_for_function("() => document.getElementById('photo-status').className === 'read'", timeout=45_000)
    unasked = [d for d in documents(page) if d not in kept]
    assert len(unasked) == 1
    page.goto("about:blank")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and unasked[0] in stored_ids(server):
        time.sleep(0.2)
    assert unasked[0] not in stored_ids(server)
