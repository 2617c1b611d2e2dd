"""Confirming the drug list read from a prescription, in a real browser (Debian's Chromium, Playwright) at phone
size against the real app: the photo is read first, the list shows with the name the reading was unsure of
marked, the user's empty list is refused in Chinese, the corrected list (one drug edited, one removed, one added)
is what the answer is about, and the next question in the conversation uses it too.

Screenshots of the list and of the answer go to var/screenshots/ (confirm-*.png) for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.app.api.conftest import LiveServer
from tests.app.api.routes.test_confirmation import prescription_png
from tests.app.web.test_browser import PHONE, assert_fits, browser_page, screenshot, streamed

__all__ = ["browser_page"]  # the fixture: a fresh Chinese Chromium page

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROWS = (
    "安禄地平片 5mg 14片 用法：1片 口服 每日一次",
    "阿司匹林肠溶片 100mg 30片 用法：1片 口服 每日一次",
)
ENGLISH_WORDS = re.compile(r"[A-Za-z]{3,}")


@pytest.mark.parametrize("browser_page", [PHONE], indirect=True, ids=["390x844"])
def test_a_caregiver_corrects_the_drug_list_before_the_answer(
    browser_page: Any, server: LiveServer, tmp_path: Path
) -> None:
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    photo = tmp_path / "prescription.png"
    photo.write_bytes(prescription_png(ROWS))
    page.goto(server.url + "/")

    page.set_input_files("#file", str(photo))
    page.fill("#question", "这药能和辛伐他汀一起吃吗？")
    with page.expect_response(lambda r: r.url.endswith("/drugs"), timeout=45_000) as listed:
        page.click("#send")
    assert listed.value.ok
    card = page.locator("#confirm-card")
    card.wait_for()
    rows = card.locator(".confirm-list li")
    assert rows.count() == 2
    names = [rows.nth(i).locator(".drug-name").input_value() for i in range(2)]
    assert names == ["安禄地平片", "阿司匹林肠溶片"], names
    # The corrected guess is marked and says what it was taken for; the plainly read row is not marked.
    unsure = rows.nth(0)
    assert "unsure" in (unsure.get_attribute("class") or "")
    assert unsure.locator(".flag").inner_text() == "⚠ 请核对"
    assert unsure.locator(".known").inner_text() == "识别为：氨氯地平"
    assert not rows.nth(1).locator(".flag").count()
    assert rows.nth(0).locator(".drug-strength").input_value() == "5mg"
    flag_colour = unsure.evaluate("(li) => getComputedStyle(li).backgroundColor")
    assert flag_colour != rows.nth(1).evaluate("(li) => getComputedStyle(li).backgroundColor")
    assert not page.locator(".msg.assistant").count()  # no answer before the list is confirmed
    assert_fits(page)
    screenshot(page, "confirm-list-390x844.png")

    # An empty list: the server refuses it (400) and the page says so in Chinese; the card stays.
    rows.nth(1).locator(".remove-drug").click()
    rows.nth(0).locator(".drug-name").fill("")
    with page.expect_response(lambda r: r.url.endswith("/drugs") and r.request.method == "PUT") as refused:
        card.locator(".confirm-drugs").click()
    assert refused.value.status == 400
    said = card.locator(".confirm-error").inner_text()
    assert "药品清单不能为空" in said and not ENGLISH_WORDS.search(said), said

    # Edited, one removed (above), one added: confirmed, then answered from that list.
    rows.nth(0).locator(".drug-name").fill("硝苯地平片")
    rows.nth(0).locator(".drug-strength").fill("20mg")
    card.locator(".add-drug").click()
    card.locator(".confirm-list li").nth(1).locator(".drug-name").fill("华法林")
    with page.expect_response(lambda r: r.url.endswith("/v1/chat/completions"), timeout=45_000) as answered:
        card.locator(".confirm-drugs").click()
    rxlens, _ = streamed(answered.value)
    assert sorted(p["a"]["ingredients"][0] for p in rxlens["asked"]) == ["nifedipine", "warfarin"], rxlens["asked"]
    assert all(p["b"]["ingredients"] == ["simvastatin"] for p in rxlens["asked"])
    assert rxlens["needs_confirmation"] == [] and rxlens["documents"][0]["confirmed"]["drugs"][1]["name"] == "华法林"
    assert not page.locator("#confirm-card").count()
    assert page.locator(".msg.confirmed").inner_text() == "已确认的药品：硝苯地平片 20mg、华法林"
    page.locator(".msg.assistant").last.wait_for()
    assert "已确认的药品" in page.locator("#fields").inner_text()
    # The dosing schedule is the confirmed list's: the kept row's frequency (qd), the added drug's none read.
    schedule = page.locator("#schedule").inner_text()
    assert "硝苯地平片 20mg" in schedule and "08:00" in schedule and "华法林" in schedule, schedule
    assert "安禄地平片" not in schedule and "阿司匹林" not in schedule, schedule

    # The next question, without the photo: still the confirmed list, never the amlodipine read from the photo.
    page.fill("#question", "那和阿司匹林呢？")
    with page.expect_response(lambda r: r.url.endswith("/v1/chat/completions"), timeout=30_000) as answered:
        page.click("#send")
    follow_up, _ = streamed(answered.value)
    assert follow_up["conversation_id"] == rxlens["conversation_id"]
    asked = {(p["a"]["ingredients"][0], p["b"]["ingredients"][0]) for p in follow_up["asked"]}
    assert ("warfarin", "aspirin") in asked and not {a for a, _ in asked} - {"nifedipine", "warfarin"}, asked
    page.wait_for_function("() => document.querySelectorAll('.msg.assistant').length === 2")
    lead = page.locator(".msg.assistant").last.locator(".lead-text").inner_text()
    assert "华法林" in lead and "氨氯地平" not in lead, lead
    assert_fits(page)
    screenshot(page, "confirm-answer-390x844.png")

    # The note survives a reload, with the chat.
    page.reload()
    page.locator(".msg.assistant").first.wait_for()
    assert page.locator(".msg.confirmed").inner_text() == "已确认的药品：硝苯地平片 20mg、华法林"
    # A new chat with the same photo: the stored correction holds, so the list is not asked again.
    page.click("#new-chat")
    page.set_input_files("#file", str(photo))
    page.fill("#question", "这药能和辛伐他汀一起吃吗？")
    with page.expect_response(lambda r: r.url.endswith("/v1/chat/completions"), timeout=30_000) as answered:
        page.click("#send")
    fresh, _ = streamed(answered.value)
    assert fresh["conversation_id"] != rxlens["conversation_id"]
    assert sorted(p["a"]["ingredients"][0] for p in fresh["asked"]) == ["nifedipine", "warfarin"], fresh["asked"]
    assert not page.locator("#confirm-card").count()

    # "New chat" while a list waits for confirmation drops it and its question, and the page takes the next one.
    other = tmp_path / "another-prescription.png"
    other.write_bytes(prescription_png(("安禄地平片 5mg 28片 用法：1片 口服 每日一次",)))
    page.set_input_files("#file", str(other))
    page.click("#send")
    card.wait_for(timeout=30_000)
    page.click("#new-chat")
    assert not page.locator("#confirm-card").count() and page.locator("#chat .msg").count() == 0
    assert page.locator("#send").is_enabled()

    # Every word of the list is in English too, the refusal included.
    assert page.evaluate("() => Object.keys(T.zh).filter((k) => !(k in T.en))") == []
    assert page.evaluate("() => CONFIRM_ERRORS.en.invalid_input").startswith("The list cannot be empty")
    assert not errors, errors
