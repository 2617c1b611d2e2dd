"""Normalising drug names for matching: width, case, punctuation, strengths, salts and dosage forms.

The knowledge base stores names in the form `norm()` returns; the lexicon normalises user text the same way, so
"苯磺酸氨氯地平片 5mg", "Amlodipine Besylate Tablets" and "amlodipine" all meet at one key.
"""

from __future__ import annotations

import re
import unicodedata

_CJK = re.compile(r"[\u3400-\u9fff]")
_STRENGTH = re.compile(
    r"(\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|μg|ug|g|ml|mL|iu|IU|u|%|毫克|微克|克|毫升|单位|万单位)"
    r"(?:\s*/\s*\d*\s*(?:ml|mL|g|片|粒|支|袋|tab|tablet))?)",
    re.IGNORECASE,
)
_PAREN = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")
_PUNCT = re.compile(r"[\s\-_,.;:·•'\"/\\|+*&（）()【】\[\]{}<>《》、，。；：！？!?®™©]+")

# Dosage forms, longest first so that "缓释片" goes before "片".
_FORMS_ZH = sorted(
    [
        "缓释片",
        "控释片",
        "肠溶片",
        "分散片",
        "咀嚼片",
        "泡腾片",
        "含片",
        "口崩片",
        "口腔崩解片",
        "薄膜衣片",
        "糖衣片",
        "舌下片",
        "片剂",
        "片",
        "缓释胶囊",
        "肠溶胶囊",
        "软胶囊",
        "硬胶囊",
        "胶囊剂",
        "胶囊",
        "颗粒剂",
        "颗粒",
        "干混悬剂",
        "混悬液",
        "口服溶液",
        "口服液",
        "溶液",
        "糖浆",
        "滴剂",
        "注射用",
        "注射液",
        "针剂",
        "输液",
        "粉针",
        "冻干粉",
        "乳膏",
        "软膏",
        "凝胶",
        "贴剂",
        "贴片",
        "贴膜",
        "滴眼液",
        "眼膏",
        "喷雾剂",
        "气雾剂",
        "吸入剂",
        "栓剂",
        "栓",
        "散剂",
        "丸",
        "酊",
        "搽剂",
        "洗剂",
        "缓释",
        "控释",
        "肠溶",
    ],
    key=len,
    reverse=True,
)
# Salt and ester prefixes of Chinese generic names (苯磺酸氨氯地平 -> 氨氯地平). Never stripped when the rest
# would be empty or a single character: 氯化钾 is itself the ingredient.
_SALTS_ZH_PREFIX = sorted(
    [
        "苯磺酸左旋",
        "苯磺酸",
        "甲磺酸",
        "马来酸",
        "盐酸",
        "硫酸氢",
        "硫酸",
        "磷酸",
        "酒石酸",
        "琥珀酸",
        "富马酸",
        "枸橼酸",
        "柠檬酸",
        "醋酸",
        "乳酸",
        "门冬氨酸",
        "氢溴酸",
        "草酸",
        "葡萄糖酸",
        "碳酸",
        "硝酸",
        "水杨酸",
        "甲苯磺酸",
        "对甲苯磺酸",
        "丙酸",
        "戊酸",
        "丁酸",
        "二丙酸",
        "双羟萘酸",
        "苯甲酸",
    ],
    key=len,
    reverse=True,
)
_SALTS_ZH_SUFFIX = sorted(["钠", "钾", "钙", "镁", "锌", "盐", "酯"], key=len, reverse=True)

_FORMS_EN = [
    "extended release",
    "sustained release",
    "delayed release",
    "modified release",
    "controlled release",
    "orally disintegrating",
    "film coated",
    "enteric coated",
    "chewable",
    "dispersible",
    "effervescent",
    "tablets",
    "tablet",
    "tabs",
    "tab",
    "capsules",
    "capsule",
    "caps",
    "softgels",
    "softgel",
    "granules",
    "injection",
    "for injection",
    "solution",
    "oral solution",
    "suspension",
    "syrup",
    "cream",
    "ointment",
    "gel",
    "patch",
    "drops",
    "spray",
    "inhaler",
    "suppositories",
    "suppository",
    "powder",
    "sr",
    "er",
    "xr",
    "xl",
    "cr",
    "dr",
    "ec",
    "hcl",
]
_SALTS_EN = [
    "hydrochloride",
    "dihydrochloride",
    "besylate",
    "besilate",
    "mesylate",
    "mesilate",
    "maleate",
    "tartrate",
    "succinate",
    "fumarate",
    "citrate",
    "sodium",
    "potassium",
    "calcium",
    "magnesium",
    "sulfate",
    "sulphate",
    "phosphate",
    "acetate",
    "bromide",
    "hydrobromide",
    "dipropionate",
    "propionate",
    "valerate",
    "trihydrate",
    "dihydrate",
    "monohydrate",
    "hemihydrate",
    "hyclate",
    "disoproxil",
    "axetil",
    "medoxomil",
    "cilexetil",
    "bitartrate",
    "nitrate",
    "gluconate",
    "lactate",
    "tosylate",
    "camsylate",
    "pamoate",
    "etexilate",
    "bisulfate",
    "hydrogen sulfate",
    "hydrogen sulphate",
    "monobenzoate",
    "benzoate",
    "malate",
    "oxalate",
    "esylate",
    "dimesylate",
    "xinafoate",
    "furoate",
]
# Counter-ion words of running text: right after a drug name ("losartan potassium", "sildenafil citrate") they are
# part of that name, never a drug of their own. Wider than `_SALTS_EN` (which `core_forms` strips, and the build
# resolves source names with) by the ions that are drugs or ions only when they stand alone.
COUNTER_IONS_EN = frozenset(
    [w for w in _SALTS_EN if " " not in w]
    + [
        "dipotassium",
        "disodium",
        "dicalcium",
        "carbonate",
        "bicarbonate",
        "chloride",
        "iodide",
        "hydroiodide",
        "hemifumarate",
        "hydrogen",
        "anhydrous",
        "hemisulfate",
        "sesquihydrate",
        "pentahydrate",
        "hexahydrate",
        "succinate",
        "bisulphate",
        "estolate",
        "stearate",
        "decanoate",
        "enanthate",
        "cypionate",
        "palmitate",
    ]
)
# The same in Chinese: salt words before (枸橼酸西地那非, 硫酸氢氯吡格雷) and after (氯沙坦钾, 阿托伐他汀钙) a name.
SALT_PREFIXES_ZH = tuple(_SALTS_ZH_PREFIX)
SALT_SUFFIXES_ZH = ("二钠", "二钾", "双钠", "钠盐", "钾盐", "钙盐", "镁盐", "钠", "钾", "钙", "镁", "锌")
_FORMS_EN_RE = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in sorted(_FORMS_EN, key=len, reverse=True)) + r")\b")
_SALTS_EN_RE = re.compile(r"\b(?:" + "|".join(_SALTS_EN) + r")\b")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def fold(text: str) -> str:
    """Unicode-fold (full-width to half-width), lower-case, drop ® and the like; keep spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\s+", " ", text).strip()


def norm(text: str) -> str:
    """The matching key: folded, punctuation and spaces removed."""
    return _PUNCT.sub("", fold(text))


def strip_strength(text: str) -> str:
    return _STRENGTH.sub(" ", text)


def core_forms(text: str) -> list[str]:
    """Successively simpler matching keys for a product-style name, most specific first.

    "苯磺酸氨氯地平片 5mg" -> ["苯磺酸氨氯地平片5mg", "苯磺酸氨氯地平片", "苯磺酸氨氯地平", "氨氯地平"].
    "Amlodipine Besylate Tablets, 5 mg" -> [..., "amlodipinebesylate", "amlodipine"].
    """
    keys: list[str] = []

    def add(s: str) -> None:
        k = norm(s)
        if k and k not in keys:
            keys.append(k)

    folded = fold(text)
    add(folded)
    s = _PAREN.sub(" ", strip_strength(folded))
    add(s)
    if has_cjk(s):
        z = norm(s)
        changed = True
        while changed:
            changed = False
            for form in _FORMS_ZH:
                if z.endswith(form) and len(z) > len(form) + 1:
                    z = z[: -len(form)]
                    changed = True
                    break
        add(z)
        for salt in _SALTS_ZH_PREFIX:
            if z.startswith(salt) and len(z) - len(salt) >= 2:
                add(z[len(salt) :])
                break
        for salt in _SALTS_ZH_SUFFIX:
            if z.endswith(salt) and len(z) - len(salt) >= 2:
                add(z[: -len(salt)])
                break
    else:
        e = _FORMS_EN_RE.sub(" ", re.sub(r"[-_/]", " ", s))
        add(e)
        add(_SALTS_EN_RE.sub(" ", e))
    return keys
