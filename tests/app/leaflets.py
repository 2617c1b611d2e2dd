"""Leaflets as users photograph them: the product's own sections name other drugs (its interactions and
contraindications), so a test can tell an answer about the asked pair from one about the drugs merely named.

The ibuprofen text follows the interaction and contraindication sections of Chinese OTC ibuprofen sustained-release
capsule leaflets (布洛芬缓释胶囊), wrapped as a phone photo of the paper would show it.
"""

from __future__ import annotations

import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

IBUPROFEN_LEAFLET: tuple[tuple[str, bool], ...] = (
    ("布洛芬缓释胶囊说明书", True),
    ("【药品名称】通用名称：布洛芬缓释胶囊", False),
    ("【成份】本品主要成份为布洛芬。", False),
    (
        "【适应症】用于缓解轻至中度疼痛，如头痛、关节痛、牙痛、肌肉痛、神经痛、痛经；也用于普通感冒或流行性感冒引起的发热。",
        False,
    ),
    ("【用法用量】口服。成人一次1粒，一日2次（早晚各一次）。", False),
    ("【禁忌】1.对其他非甾体抗炎药过敏者禁用。2.孕妇及哺乳期妇女禁用。3.对阿司匹林过敏的哮喘患者禁用。", False),
    (
        "【药物相互作用】1.本品与其他解热、镇痛、抗炎药物同用时可增加胃肠道不良反应，并可能导致溃疡。"
        "2.本品与肝素、双香豆素等抗凝药同用时，可导致凝血酶原时间延长，增加出血倾向。"
        "3.本品与地高辛、甲氨蝶呤、口服降血糖药物同用时，能使这些药物的血药浓度增高，不宜同用。"
        "4.本品与呋塞米同用时，后者的排钠和降压作用减弱；与抗高血压药同用时，也降低后者的降压效果。",
        False,
    ),
    ("【贮藏】密封保存。", False),
)
# The leaflet's subject and the drugs its sections merely name.
IBUPROFEN_SUBJECT = "ibuprofen"
IBUPROFEN_MENTIONED = {"aspirin", "heparin", "dicoumarol", "digoxin", "methotrexate", "furosemide"}


def render(paragraphs: tuple[tuple[str, bool], ...], font_path: str, index: int = 0, width: int = 26) -> bytes:
    """A white page with each paragraph wrapped at `width` characters; titles larger, as printed."""
    lines = [(t, title) for text, title in paragraphs for t in textwrap.wrap(text, width)]
    image = Image.new("RGB", (1000, 90 + 52 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, (text, title) in enumerate(lines):
        font = ImageFont.truetype(font_path, 40 if title else 32, index=index)
        draw.text((40, 40 + 52 * i), text, font=font, fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
