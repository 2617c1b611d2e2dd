"""The caregiver page in a real browser: Debian's headless Chromium, driven by Playwright, against the real app
under uvicorn (real OCR, knowledge base, retrieval index and SQLite file). A caregiver attaches a leaflet photo,
asks whether the medicine can be taken with simvastatin, and reads the answer, its verdict, its numbered sources,
the box on the photo a source points to and the drugs read from the photo; then switches the page to English.

Skipped only where no Chromium binary is installed (`make test` installs Debian's `chromium`). A screenshot of
each language is saved under var/screenshots/ for a person to look at.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.api.conftest import AppFactory, LiveServer, leaflet_png

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("ingestion.pipeline") is None, reason="the OCR pipeline is not merged"),
]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
# Playwright drives the system's browser: it never downloads one of its own (`playwright install` cannot work
# offline), so these are the flags a root user in a container needs, and nothing reaches out to the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The leaflet as leaflet_png() draws it: 34 px text lines 70 px apart from y=40; the interaction sentence is line 2.
LINE_TOP, LINE_STEP = 40, 70
INTERACTION_LINE = 2
BADGE_COLOURS = {"avoid": "rgb(179, 38, 30)", "caution": "rgb(178, 106, 0)"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def browser_page(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A page in a fresh Chinese browser; the window size from an indirect parameter, else 900x1200."""
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no Chromium binary on this machine: `apt-get install chromium` (`make test` installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",  # a fresh profile: no stored language, key or medication list
            executable_path=binary,
            headless=True,
            args=CHROMIUM_ARGS,
            locale="zh-CN",
            viewport=getattr(request, "param", {"width": 900, "height": 1200}),
        )
        context.set_default_timeout(15_000)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


@pytest.fixture
def server(make_app: AppFactory) -> Iterator[LiveServer]:
    with LiveServer(make_app()) as live:
        yield live


def highlighted_pixels(page: Any, quad: list[list[float]]) -> dict[str, float]:
    """How much of the quad's bounding rectangle on the canvas is tinted by the highlight, and how much of the
    page above the quad (which must stay untinted)."""
    return page.evaluate(
        """(quad) => {
            const c = document.getElementById("photo");
            const g = c.getContext("2d");
            const xs = quad.map((p) => p[0]), ys = quad.map((p) => p[1]);
            const x = Math.floor(Math.min(...xs)), y = Math.floor(Math.min(...ys));
            const w = Math.ceil(Math.max(...xs)) - x, h = Math.ceil(Math.max(...ys)) - y;
            const tinted = (top, h) => {
                const d = g.getImageData(x, top, w, h).data;
                let n = 0;
                for (let i = 0; i < d.length; i += 4) {
                    const [r, gr, b] = [d[i], d[i + 1], d[i + 2]];
                    if (r > 235 && gr > 225 && b > 150 && b < 225) n++;  // yellow over white paper
                }
                return n / (w * h);
            };
            return { inside: tinted(y, h), above: tinted(0, y - 4), width: c.width, height: c.height };
        }""",
        quad,
    )


def test_a_caregiver_asks_about_a_leaflet_photo_in_the_browser(
    browser_page: Any, server: LiveServer, tmp_path: Path
) -> None:
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    photo = tmp_path / "amlodipine-leaflet.png"
    photo.write_bytes(leaflet_png())

    page.goto(server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh"  # from the browser's language
    assert page.locator("#send").inner_text() == "提问"

    page.set_input_files("#file", str(photo))
    assert page.locator("#file-name").inner_text() == photo.name
    page.fill("#question", "这药能和辛伐他汀一起吃吗？")
    with page.expect_response(lambda r: r.url.endswith("/v1/chat/completions"), timeout=45_000) as answered:
        page.click("#send")
    assert answered.value.ok, answered.value.text()
    rxlens, stages = streamed(answered.value)
    # The photo was read from the moment it was chosen (the page showed "reading" itself); the question names
    # the stored document, so the server's stages start after the reading.
    assert stages == ["recognising", "checking", "writing"], stages
    asked = answered.value.request.post_data_json
    assert asked["rxlens"]["document_ids"] == [rxlens["documents"][0]["id"]]
    assert not [p for m in asked["messages"] for p in m["content"] if p.get("type") == "image_url"]
    verdict = rxlens["verdict"]
    assert verdict in BADGE_COLOURS, rxlens

    # The answer, in the page's (and the question's) language, under a verdict badge of the verdict's colour.
    reply = page.locator(".msg:has(.badge)").last
    reply.wait_for()
    # The card shows the verdict and the one-sentence answer; the rest and the sources fold out.
    assert not reply.locator("ol.citations").is_visible()
    reply.locator("details.more > summary").click()
    answer = reply.locator(".lead-text").inner_text() + "\n" + (reply.locator(".rest").text_content() or "")
    assert CJK.search(answer) and "辛伐他汀" in answer, answer
    badge = reply.locator(".badge")
    assert badge.inner_text() == {"avoid": "不建议合用", "caution": "需要注意"}[verdict]
    assert verdict in (badge.get_attribute("class") or "").split()
    assert badge.evaluate("(b) => getComputedStyle(b).backgroundColor") == BADGE_COLOURS[verdict]

    # Numbered sources, numbered as the answer's [n] markers are.
    items = reply.locator("ol.citations li")
    numbers = [int(v) for v in items.evaluate_all("(lis) => lis.map((li) => li.value)")]
    assert numbers == [c["id"] for c in rxlens["citations"]] and numbers
    assert set(int(n) for n in re.findall(r"\[(\d+)\]", answer)) <= set(numbers)

    # The drugs read from the photo, and the photo itself.
    assert page.locator("#photo-card").is_visible()
    fields = page.locator("#fields").inner_text()
    assert "药品" in fields and "amlodipine" in fields, fields
    assert "药物相互作用" in fields and "interactions" not in fields  # field names in the page's language

    # A source taken from the photo: clicking it draws its box over the interaction sentence on the photo.
    from_photo = reply.locator("ol.citations li.boxed", has_text="辛伐他汀").first
    from_photo.click()
    page.wait_for_function("() => document.getElementById('photo').dataset.highlight")
    assert "active" in (from_photo.get_attribute("class") or "")
    assert from_photo.inner_text().startswith("您的照片 · 药物相互作用: ")
    quad = [[float(v) for v in p] for p in json_attr(page, "#photo", "data-highlight")]
    ys = [p[1] for p in quad]
    xs = [p[0] for p in quad]
    # The quoted sentence's own line (line 2): not the 【药物相互作用】 heading above it, not line 3.
    sentence_top = LINE_TOP + LINE_STEP * INTERACTION_LINE
    assert (
        sentence_top - 15 <= min(ys) <= sentence_top + 10 and sentence_top + 30 <= max(ys) < sentence_top + LINE_STEP
    ), quad
    assert min(xs) < 120 and max(xs) - min(xs) > 300, quad  # the sentence starts at x=40 and is ~800 px long
    canvas = page.locator("#photo")
    assert canvas.is_visible() and (canvas.bounding_box() or {}).get("width", 0) > 300
    tint = highlighted_pixels(page, quad)
    assert tint["width"] == 1100 and tint["inside"] > 0.3 and tint["above"] < 0.01, tint

    screenshot(page, "caregiver-page-zh.png")

    # A follow-up without the photo is still about the photographed medicine.
    page.fill("#question", "那和阿司匹林呢？")
    with page.expect_response(lambda r: r.url.endswith("/v1/chat/completions"), timeout=30_000) as answered:
        page.click("#send")
    follow_up, _ = streamed(answered.value)
    assert follow_up["conversation_id"] == rxlens["conversation_id"]
    assert follow_up["asked"][0]["a"]["ingredients"] == ["amlodipine"]
    assert follow_up["asked"][0]["b"]["ingredients"] == ["aspirin"]
    page.wait_for_function("() => document.querySelectorAll('.msg .badge').length === 2")
    first_line = page.locator(".msg:has(.badge)").last.locator(".lead-text").inner_text()
    assert "氨氯地平" in first_line and "阿司匹林" in first_line, first_line

    # Switch to English: the labels change, the choice is remembered, and an English question gets an English
    # answer under an English badge, in the same conversation.
    page.click("#lang")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#send").inner_text() == "Ask" and page.locator("#lang").inner_text() == "中文"
    assert page.locator("#question").get_attribute("placeholder") == "e.g. Can I take this with aspirin?"
    assert "Interactions" in page.locator("#fields").inner_text()
    page.fill("#question", "Can I take amlodipine with simvastatin?")
    with page.expect_response(lambda r: r.url.endswith("/v1/chat/completions"), timeout=30_000) as answered:
        page.click("#send")
    english, _ = streamed(answered.value)
    assert english["conversation_id"] == rxlens["conversation_id"] and english["language"] == "en"
    reply = page.locator(".msg:has(.badge)").last
    page.wait_for_function("() => document.querySelectorAll('.msg .badge').length === 3")
    assert not CJK.search(reply.locator(".lead-text").inner_text() + (reply.locator(".rest").text_content() or ""))
    assert reply.locator(".badge").inner_text() == {"avoid": "Avoid", "caution": "Caution"}[english["verdict"]]
    screenshot(page, "caregiver-page-en.png")

    page.reload()
    assert page.locator("#send").inner_text() == "Ask"
    page.click("#lang")
    assert page.locator("#send").inner_text() == "提问"
    assert not errors, errors


PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 800}


@pytest.mark.parametrize("browser_page", [PHONE, DESKTOP], indirect=True, ids=["390x844", "1280x800"])
def test_the_page_fits_the_window_shows_progress_errors_and_keeps_the_chat(
    browser_page: Any, server: LiveServer, tmp_path: Path
) -> None:
    page = browser_page
    size = page.viewport_size
    errors: list[str] = []
    requested: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requested.append(r.url))
    page.goto(server.url + "/")
    assert_fits(page)
    ask_box = page.locator("#ask").bounding_box() or {}
    assert ask_box["height"] <= 0.15 * 844, ask_box  # the question bar leaves the screen to the answer
    add = page.locator("#med-form button").bounding_box() or {}
    assert add["x"] + add["width"] <= size["width"] and add["height"] < 60, add  # one line, inside the window

    # A text file renamed .png: a Chinese sentence saying what was wrong, never the API's English message.
    fake = tmp_path / "not-a-photo.png"
    fake.write_text("this is not an image\n" * 20)
    page.set_input_files("#file", str(fake))
    page.click("#send")
    error = page.locator(".msg.error").last
    error.wait_for(timeout=30_000)
    said = error.inner_text()
    assert CJK.search(said) and "照片" in said and not re.search(r"[a-z]{3,}", said), said  # no English prose

    # A photo and a question: progress stages from the server, then a card that opens with the verdict and
    # the one-sentence answer, everything else folded; the photo in the user's own bubble.
    photo = tmp_path / "leaflet.png"
    photo.write_bytes(leaflet_png())
    page.set_input_files("#file", str(photo))
    page.fill("#question", "这药能和辛伐他汀一起吃吗？")
    with page.expect_response(lambda r: r.url.endswith("/v1/chat/completions"), timeout=45_000) as answered:
        page.click("#send")
    rxlens, stages = streamed(answered.value)
    assert stages == ["recognising", "checking", "writing"], stages  # read already, as it was chosen
    reply = page.locator(".msg.assistant").last
    reply.wait_for()
    badge = {"avoid": "不建议合用", "caution": "需要注意"}[rxlens["verdict"]]
    first_line = reply.inner_text().split("\n")[0]
    assert first_line.startswith(badge) and "辛伐他汀" in first_line, first_line
    assert not reply.locator("ol.citations").is_visible() and not reply.locator(".rest").is_visible()
    thumb = page.locator(".msg.user img.thumb").last
    page.wait_for_function("() => [...document.querySelectorAll('.msg.user img.thumb')].some((i) => i.naturalWidth)")
    assert thumb.is_visible()
    shown = page.locator("#chat .msg").all_inner_texts()
    reply.locator("details.more > summary").click()
    assert reply.locator("ol.citations").is_visible()
    names = reply.locator("ol.citations li > span").all_inner_texts()
    assert names and all(CJK.search(n.split(": ")[0]) or n.startswith("DDInter:") for n in names), names
    assert not [n for n in names if re.search(r"rxlens_curated|drug_interaction_mcp|openfda|ansm", n.split(": ")[0])]
    assert_fits(page)
    screenshot(page, f"caregiver-answer-{size['width']}x{size['height']}.png")
    page.set_viewport_size({"width": 320, "height": 640})  # the narrowest phone still has no horizontal scroll
    assert_fits(page)
    add = page.locator("#med-form button").bounding_box() or {}
    assert add["x"] + add["width"] <= 320 and add["height"] < 60, add
    page.set_viewport_size(size)

    # The chat survives a reload (the photo re-fetched from the document), and a new chat empties it.
    page.reload()
    page.locator(".msg.assistant").first.wait_for()
    assert page.locator("#chat .msg").all_inner_texts() == shown and page.locator("#photo-card").is_visible()
    page.wait_for_function("() => [...document.querySelectorAll('.msg.user img.thumb')].some((i) => i.naturalWidth)")
    page.click("#new-chat")
    assert page.locator("#chat .msg").count() == 0
    page.reload()
    assert page.locator("#chat .msg").count() == 0
    assert page.evaluate("() => JSON.parse(localStorage.getItem('rxlens.chat')).conversation") is None
    page.fill("#question", "华法林和阿司匹林能一起吃吗？")
    with page.expect_response(lambda r: r.url.endswith("/v1/chat/completions"), timeout=30_000) as answered:
        page.click("#send")
    fresh, _ = streamed(answered.value)
    assert fresh["conversation_id"] != rxlens["conversation_id"]

    # Labels in the page's language: dosing from the frequency read, sources by the names people know.
    assert page.evaluate("() => whenText({ frequency: '' })") == "未读到服用频次"
    assert page.evaluate("() => whenText({ frequency: 'prn', as_needed: true })") == "需要时服用"
    assert page.evaluate("() => scheduleOf({ frequency: 'q8h', times_per_day: 3 })") == ["06:00", "14:00", "22:00"]
    assert page.evaluate("() => scheduleOf({ frequency: 'qn', times_per_day: 1, at_night: true })") == ["21:00"]
    assert page.evaluate("() => sourceName({ source: 'ansm' })") == "法国药监局相互作用目录"
    assert page.evaluate("() => sourceName({ source: 'openfda_excerpts, dailymed' })") == "美国药品说明书"
    assert page.evaluate("() => sourceName({ source: 'rxlens_curated, ddinter' })") == "美国药品说明书、DDInter"
    assert page.evaluate("() => fieldLabel('manufacturer_address')") == "生产地址"
    assert not [u for u in requested if u.endswith("/favicon.ico")]
    assert not errors, errors


def assert_fits(page: Any) -> None:
    """No horizontal scroll at this window width."""
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


def streamed(response: Any) -> tuple[dict[str, Any], list[str]]:
    """The result (the last chunk's `rxlens`) and the progress stages of a streamed chat completion."""
    result: dict[str, Any] = {}
    stages: list[str] = []
    for line in response.text().splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        rxlens = json.loads(line[6:]).get("rxlens") or {}
        if "progress" in rxlens:
            stages.append(rxlens["progress"]["stage"])
        elif rxlens:
            result = rxlens
    assert result, response.text()
    return result, stages


def screenshot(page: Any, name: str) -> None:
    """The whole page as a phone-width window as tall as the page shows it, so the sticky question bar sits at
    the bottom instead of over the photo (as it would in a stitched full-page capture)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": page.evaluate("document.body.scrollHeight")})
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / name))
    page.set_viewport_size(size)


def json_attr(page: Any, selector: str, name: str) -> Any:
    return json.loads(page.locator(selector).get_attribute(name) or "null")
