"""Pages drawn from a given content spec rather than a random draw: the focus set's leaflets, drug boxes, pharmacy
labels and hospital prescriptions, whose text (sections naming other drugs, brand names, several medication
rows) the dataset chooses. Same canvas, fonts, stamp and degradations as `pages.py`.

A spec is a plain dict (stored in the dataset's JSONL):
- ``{"kind": "leaflet_zh" | "leaflet_en", "title", "blocks": [[header, body], ...]}``
- ``{"kind": "package", "brand", "name", "name_en", "strength", "quantity", "notes": [line, ...]}``
- ``{"kind": "label", "pharmacy", "patient", "drug_line", "directions", "auxiliary": [line, ...]}``
- ``{"kind": "prescription", "hospital", "patient", "diagnosis", "rows": [[name, strength, quantity, usage], ...]}``
plus ``"seed"`` and optionally ``"degradation"`` (clean | mild | hard).
"""

from __future__ import annotations

import random
from typing import Any

from evals.render.degrade import degrade, encode
from evals.render.pages import Canvas, _flow, _stamp


def _leaflet(spec: dict[str, Any], rng: random.Random) -> Canvas:
    zh = spec["kind"] == "leaflet_zh"
    blocks = [(h, b, not zh) for h, b in spec["blocks"]]
    size = 22 if zh else 20
    probe = Canvas(1100, 10, random.Random(0))  # measure first: the page is as tall as its text
    font = probe.font(size)
    lines = sum(len(probe.wrap(h + b if zh else b, font, 980)) + (0 if zh else 1) for h, b, _ in blocks)
    c = Canvas(1100, int(200 + lines * size * 1.55 * 1.1), rng)
    tf = c.font(34, bold=True)
    c.text(((1100 - tf.getlength(spec["title"])) / 2 if zh else 60, 50), spec["title"], tf)
    _flow(c, blocks, 130, 1, size)
    return c


def _package(spec: dict[str, Any], rng: random.Random) -> Canvas:
    notes = spec.get("notes", [])
    c = Canvas(1000, 560 + 44 * len(notes), rng, background=(250, 250, 246))
    band = rng.choice([(0, 120, 110), (30, 80, 160), (170, 40, 50)])
    c.draw.rectangle((0, 0, 1000, 36), fill=band)
    c.text((60, 60), spec.get("rx", "处方药"), c.font(26, bold=True))
    c.text((60, 110), spec["brand"], c.font(60, bold=True))
    c.text((60, 200), spec["name"], c.font(40, bold=True))
    c.text((60, 265), spec["name_en"], c.font(26))
    f = c.font(28)
    c.text((60, 330), f"规格：{spec['strength']}  {spec['quantity']}", f)
    y = 400
    small = c.font(24)
    for line in notes:
        for part in c.wrap(line, small, 880):
            c.text((60, y), part, small)
            y += 40
    c.img = c.img.crop((0, 0, 1000, y + 40))
    from PIL import ImageDraw

    c.draw = ImageDraw.Draw(c.img)
    return c


def _label(spec: dict[str, Any], rng: random.Random) -> Canvas:
    aux = spec.get("auxiliary", [])
    c = Canvas(1000, 520 + 48 * len(aux), rng, background=(255, 255, 250))
    c.draw.rectangle((0, 0, 1000, 70), fill=(20, 60, 130))
    c.text((40, 18), spec["pharmacy"], c.font(30, bold=True), fill=(255, 255, 255))
    f = c.font(26)
    c.text((40, 95), f"Rx# {rng.randint(1000000, 9999999)}  DATE: 0{rng.randint(1, 9)}/1{rng.randint(0, 9)}/2024", f)
    c.text((40, 145), spec["patient"], c.font(30, bold=True))
    c.text((40, 205), spec["drug_line"], c.font(30, bold=True))
    c.text((40, 265), spec["directions"], f)
    c.text((40, 325), f"QTY: {rng.choice([30, 60, 90])}  REFILLS: {rng.randint(0, 3)}", f)
    y = 400
    for line in aux:  # auxiliary warning stickers, yellow as pharmacies print them
        c.draw.rectangle((30, y - 6, 970, y + 38), fill=(255, 236, 120))
        c.text((40, y), line, c.font(24, bold=True))
        y += 48
    return c


def _prescription(spec: dict[str, Any], rng: random.Random) -> Canvas:
    rows = spec["rows"]
    c = Canvas(1000, 760 + 56 * len(rows), rng)
    c.centred(50, spec["hospital"], c.font(38, bold=True))
    c.centred(110, "处方笺", c.font(34, bold=True))
    f = c.font(24)
    c.text((60, 190), f"姓名：{spec['patient']}  性别：{spec.get('sex', '男')}  年龄：{spec.get('age', '72岁')}", f)
    c.text(
        (60, 240), f"科别：{spec.get('department', '心内科')}  日期：2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", f
    )
    c.text((60, 290), f"临床诊断：{spec['diagnosis']}", f)
    c.draw.line((50, 340, 950, 340), fill=(60, 60, 60), width=2)
    c.text((60, 355), "Rp", c.font(34, bold=True))
    cols = [60, 400, 560, 660, 950]
    top, row_h = 410, 56
    bottom = c.grid([["药品名称", "规格", "数量", "用法用量"], *rows], cols, top, row_h, 21)
    y = bottom + 60
    c.text((60, y), f"医师：{spec.get('doctor', '李明')}    金额：{rng.randint(40, 400)}.00元", f)
    _stamp(c, 190, y + 15, 70)
    return c


_BUILDERS = {
    "leaflet_zh": _leaflet,
    "leaflet_en": _leaflet,
    "package": _package,
    "label": _label,
    "prescription": _prescription,
}


def render_document(spec: dict[str, Any]) -> tuple[bytes, str, str]:
    """Render a spec. Returns (encoded image, file extension, the text drawn in reading order)."""
    rng = random.Random(spec.get("seed", 0))
    canvas = _BUILDERS[spec["kind"]](spec, rng)
    img, _, quality = degrade(canvas.img, spec.get("degradation", "clean"), rng)
    data, ext = encode(img, quality)
    return data, ext, "\n".join(canvas.lines)
