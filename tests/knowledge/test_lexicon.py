from __future__ import annotations

import pytest

from knowledge.lexicon import Lexicon


@pytest.mark.parametrize(
    ("text", "ingredient"),
    [
        ("布洛芬", "ibuprofen"),
        ("芬必得", "ibuprofen"),
        ("Advil", "ibuprofen"),
        ("ibuprofen sustained-release capsules 0.3g", "ibuprofen"),
        ("苯磺酸氨氯地平片 5mg", "amlodipine"),
        ("Amlodipine Besylate Tablets", "amlodipine"),
        ("络活喜", "amlodipine"),
        ("Norvasc", "amlodipine"),
        ("华法林钠片", "warfarin"),
        ("盐酸二甲双胍缓释片（0.5g）", "metformin"),
        ("氯化钾缓释片", "potassium chloride"),
        ("Potassium Chloride Extended-Release Tablets", "potassium chloride"),
        ("acetaminophen", "paracetamol"),
        ("扑热息痛", "paracetamol"),
        ("Acetylsalicylic acid", "aspirin"),
        ("硝酸甘油", "nitroglycerin"),
        ("万艾可", "sildenafil"),
        ("碘海醇", "iohexol"),
        ("氢氯噻嗪", "hydrochlorothiazide"),
    ],
)
def test_names_resolve_to_their_ingredient(lexicon: Lexicon, text: str, ingredient: str) -> None:
    m = lexicon.resolve(text)
    assert m.recognized, text
    assert m.ingredients == (ingredient,)
    assert m.corrected_from is None


@pytest.mark.parametrize(
    ("typo", "ingredient"),
    [
        ("安禄地平", "amlodipine"),
        ("二甲双肌", "metformin"),
        ("Amlodipne", "amlodipine"),
        ("Ibuprofne", "ibuprofen"),
    ],
)
def test_near_misses_are_corrected_and_flagged(lexicon: Lexicon, typo: str, ingredient: str) -> None:
    m = lexicon.resolve(typo)
    assert m.ingredients == (ingredient,)
    assert m.corrected_from == typo
    assert m.confidence < 1.0


@pytest.mark.parametrize(
    ("text", "class_id"),
    [
        ("my blood-pressure pill", "antihypertensive"),
        ("blood pressure pills", "antihypertensive"),
        ("降压药", "antihypertensive"),
        ("降压片", "antihypertensive"),
        ("statin", "statin"),
        ("他汀", "statin"),
        ("blood thinner", "anticoagulant"),
        ("抗凝药", "anticoagulant"),
        ("止痛药", "analgesic"),
        ("painkiller", "analgesic"),
        ("antibiotic", "antibiotic"),
        ("消炎药", "antibiotic"),
        ("iodinated contrast", "iodinated_contrast"),
        ("MAO inhibitors", "maoi"),  # plural of a class word
        ("monoamine oxidase inhibitors", "maoi"),
    ],
)
def test_class_words_resolve_to_a_class_with_members(lexicon: Lexicon, text: str, class_id: str) -> None:
    m = lexicon.resolve(text)
    assert m.is_class
    assert m.class_ids == (class_id,)
    assert len(lexicon.kb.members(class_id)) >= 3


def test_class_members_come_with_chinese_names(lexicon: Lexicon) -> None:
    members = lexicon.kb.members("antihypertensive")
    assert {"amlodipine", "lisinopril", "losartan", "hydrochlorothiazide", "metoprolol"} <= members
    assert lexicon.class_name("ace_inhibitor", "zh").startswith("血管紧张素")


def test_combination_products_map_to_every_ingredient(lexicon: Lexicon) -> None:
    assert set(lexicon.resolve("Augmentin").ingredients) == {"amoxicillin", "clavulanic acid"}
    assert set(lexicon.resolve("Bactrim").ingredients) == {"sulfamethoxazole", "trimethoprim"}


@pytest.mark.parametrize("text", ["Zorblax", "快乐丸子片", "", "   ", "the", "12345"])
def test_unknown_text_stays_unknown(lexicon: Lexicon, text: str) -> None:
    m = lexicon.resolve(text)
    assert not m.recognized
    assert m.ingredients == () and m.class_ids == ()


def test_find_mentions_in_free_text_with_offsets(lexicon: Lexicon) -> None:
    text = "这药能和降压片一起吃吗？我在吃苯磺酸氨氯地平片。Can my father take Advil with amlodipne?"
    found = lexicon.find_mentions(text)
    by_text = {m.text: m for m in found}
    assert by_text["降压片"].class_ids == ("antihypertensive",)
    assert by_text["苯磺酸氨氯地平片"].ingredients == ("amlodipine",)
    assert by_text["Advil"].ingredients == ("ibuprofen",)
    assert by_text["amlodipne"].corrected_from == "amlodipne"
    for m in found:
        assert text[m.start : m.end] == m.text


def test_find_mentions_ignores_ordinary_leaflet_prose(lexicon: Lexicon) -> None:
    prose = "Take one tablet daily with water. Store at room temperature. Keep out of reach of children."
    assert lexicon.find_mentions(prose) == []


def test_typical_daily_dose_comes_from_who_ddd(lexicon: Lexicon) -> None:
    assert lexicon.typical_daily_dose("amlodipine") == (5.0, "mg")
    assert lexicon.typical_daily_dose("no-such-drug") is None


@pytest.mark.parametrize(
    ("sentence", "names"),
    [
        ("华法林和双氯芬酸能一起吃吗？", ["华法林", "双氯芬酸"]),
        ("我在吃地高辛，还能吃胺碘酮吗？", ["地高辛", "胺碘酮"]),
        ("阿普唑仑和芬太尼能一起吃吗？", ["阿普唑仑", "芬太尼"]),
    ],
)
def test_exact_names_win_over_near_misses_that_start_a_character_early(
    lexicon: Lexicon, sentence: str, names: list[str]
) -> None:
    """Found by the evals' unsafe answers: "吃地高辛" was corrected to 甲地高辛 and "和芬太尼" to 舒芬太尼."""
    found = lexicon.find_mentions(sentence)
    assert [m.text for m in found] == names
    assert all(m.corrected_from is None for m in found)


@pytest.mark.parametrize("text", ["去甲华法林", "甲基布洛芬", "右阿司匹林"])
def test_a_name_after_a_derivative_prefix_is_not_that_name(lexicon: Lexicon, text: str) -> None:
    """去甲肾上腺素 is not 肾上腺素: an unknown word that ends in a known name stays unknown, never the shorter drug."""
    assert not lexicon.resolve(text).recognized
    assert [m.ingredients for m in lexicon.find_mentions(f"我在吃{text}，还能吃布洛芬吗")] == [("ibuprofen",)]


def test_chinese_names_of_high_priority_drugs_and_their_salts(lexicon: Lexicon) -> None:
    expected = {
        "去甲肾上腺素": "norepinephrine",  # not 肾上腺素 (epinephrine) inside it
        "琥珀胆碱": "succinylcholine",  # not 胆碱 (choline)
        "苯乙肼": "phenelzine",
        "反苯环丙胺": "tranylcypromine",
        "氯吡格雷": "clopidogrel",  # only 硫酸氢氯吡格雷 was named before
        "利扎曲普坦": "rizatriptan",  # 苯甲酸利扎曲普坦
    }
    for text, ingredient in expected.items():
        assert lexicon.resolve(text).ingredients == (ingredient,), text
    assert lexicon.resolve("氨酚曲马多").ingredients == ("paracetamol", "tramadol")  # 氨酚 is the paracetamol part


def test_everyday_words_sources_list_as_drugs_are_not_mentions(lexicon: Lexicon) -> None:
    text = "本品活性成分为布洛芬，白金色铝塑包装"
    assert [m.ingredients for m in lexicon.find_mentions(text)] == [("ibuprofen",)]


@pytest.mark.parametrize(
    ("text", "ingredient"),
    [
        ("losartan potassium", "losartan"),
        ("sildenafil citrate", "sildenafil"),
        ("lithium carbonate", "lithium"),
        ("amlodipine besylate", "amlodipine"),
        ("clorazepate dipotassium", "clorazepic acid"),
        ("clopidogrel hydrogen sulfate", "clopidogrel"),
        ("氯沙坦钾", "losartan"),
        ("枸橼酸西地那非", "sildenafil"),
        ("碳酸锂", "lithium"),
        ("苯磺酸氨氯地平", "amlodipine"),
        ("硫酸氢氯吡格雷", "clopidogrel"),
        ("阿托伐他汀钙片", "atorvastatin"),
    ],
)
def test_a_counter_ion_belongs_to_the_drug_it_names(lexicon: Lexicon, text: str, ingredient: str) -> None:
    """Salts were drugs of their own: "losartan potassium" gave potassium ("avoid" with ibuprofen)."""
    assert [(m.text, m.ingredients) for m in lexicon.find_mentions(text)] == [(text, (ingredient,))]
    assert lexicon.resolve(text).ingredients == (ingredient,)
    found = lexicon.find_mentions(f"Can I take {text} with ibuprofen? 能和布洛芬一起吃吗")
    assert [m.ingredients for m in found] == [(ingredient,), ("ibuprofen",), ("ibuprofen",)]


def test_a_salt_written_as_its_own_word_stays_with_its_drug_and_potassium_alone_is_a_drug(lexicon: Lexicon) -> None:
    assert [m.ingredients for m in lexicon.find_mentions("choline salicylate")] == [("choline salicylate",)]
    assert [m.ingredients for m in lexicon.find_mentions("potassium chloride tablets")] == [("potassium chloride",)]
    assert [m.ingredients for m in lexicon.find_mentions("氯化钾缓释片")] == [("potassium chloride",)]
    found = lexicon.find_mentions("losartan and potassium; aspirin, sodium bicarbonate")
    assert [m.ingredients for m in found] == [("losartan",), ("potassium",), ("aspirin",), ("sodium bicarbonate",)]
    # a salt word that begins a name of its own is that name: 硝酸异山梨 is isosorbide dinitrate, not 硝酸 + 异山梨醇
    found = lexicon.find_mentions("硝酸异山梨醇、硝酸甘油")
    assert [m.ingredients for m in found] == [("isosorbide dinitrate",), ("nitroglycerin",)]


@pytest.mark.parametrize(
    "text",
    [
        "包装：聚乙烯瓶装，铝塑泡罩包装",
        "我有高血压和糖尿病",
        "My father has hypertension.",
        "magnesium stearate",
        "硬脂酸镁",
    ],
)
def test_packaging_excipient_and_disease_words_are_not_drugs(lexicon: Lexicon, text: str) -> None:
    """聚乙烯瓶 (a polyethylene bottle) was corrected to 聚乙烯醇, "hypertension" to Hypertensin (angiotensin II)."""
    assert lexicon.find_mentions(text) == []
    assert not lexicon.resolve(text).recognized


def test_an_excipient_list_names_no_active_drug(lexicon: Lexicon) -> None:
    zh = "【成份】本品主要成份为布洛芬。辅料为：淀粉、硬脂酸镁、羟丙甲纤维素、聚乙二醇、\n乳糖。【适应症】"
    assert [m.ingredients for m in lexicon.find_mentions(zh)] == [("ibuprofen",)]
    en = (
        "Active ingredient: ibuprofen 200 mg. Inactive ingredients: lactose, magnesium stearate, microcrystalline "
        "cellulose, polyethylene glycol, talc. Do not take with warfarin."
    )
    assert [m.ingredients for m in lexicon.find_mentions(en)] == [("ibuprofen",), ("warfarin",)]
    # an excipient word inside a sentence is not a list: what follows is still read
    found = lexicon.find_mentions("对本品及辅料过敏者、正在服用单胺氧化酶抑制剂者禁用")
    assert [m.class_ids for m in found] == [("maoi",)]


@pytest.mark.parametrize("text", ["呋喃苯胺", "Coumarin", "besylate", "lactose", "聚乙烯瓶"])
def test_a_known_chemical_word_is_not_corrected_into_another_drug(lexicon: Lexicon, text: str) -> None:
    """呋喃苯胺 (furosemide's old name cut short) became 呋喃硫胺 (fursultiamine), "Coumarin" became coumadin."""
    assert not lexicon.resolve(text).recognized
    assert lexicon.find_mentions(f"我在吃{text}") == []


def test_furosemides_old_chinese_name_is_a_name(lexicon: Lexicon) -> None:
    m = lexicon.resolve("呋喃苯胺酸")
    assert m.ingredients == ("furosemide",)
    assert m.corrected_from is None


def test_every_correction_says_what_it_was_taken_for(lexicon: Lexicon) -> None:
    """A notice printed “呋喃苯胺”按“”理解: `matched` was empty beside `corrected_from`."""
    typos = ["安禄地平", "二甲双肌", "氨氧地平", "格列苯脲", "Amlodipne", "warfrin", "metformn", "moclobamide"]
    mentions = [lexicon.resolve(t) for t in typos]
    mentions += lexicon.find_mentions("我在吃安禄地平和二甲双肌。Can I take warfrin with metformn?")
    assert len([m for m in mentions if m.corrected_from]) == len(typos) + 4
    for m in mentions:
        assert m.corrected_from is None or m.matched.strip(), m


@pytest.mark.parametrize(
    ("sentence", "ingredients"),
    [
        ("波立维和耐信能一起吃吗？", [("clopidogrel",), ("esomeprazole",)]),
        ("耐信能和波立维一起吃吗", [("esomeprazole",), ("clopidogrel",)]),
        ("我在吃耐信", [("esomeprazole",)]),
        ("代文和耐信能一起吃吗", [("valsartan",), ("esomeprazole",)]),
        ("东北和修正", []),  # two-character brands that are everyday words, with no drug beside them
    ],
)
def test_two_character_brands_count_when_listed_or_taken(
    lexicon: Lexicon, sentence: str, ingredients: list[tuple[str, ...]]
) -> None:
    """耐信 (esomeprazole) resolved alone, but running text skipped every two-character brand."""
    assert [m.ingredients for m in lexicon.find_mentions(sentence)] == ingredients


@pytest.mark.parametrize(
    ("text", "ingredient"),
    [
        ("可定", "rosuvastatin"),  # a two-character brand: not taken in free text, but it heads a row
        ("Clopdogel", "clopidogrel"),  # handwriting read with two slips in nine letters
        ("Sirondlactore", "spironolactone"),
        ("Nitredycerin", "nitroglycerin"),
        ("Lactdose", None),  # lactulose or lactase, two slips each: not guessed
        ("Furoswide", None),  # furosemide, but rutoside only one edit further: not guessed
        ("Tablets", None),
        ("Coumarin", None),  # in acenocoumarol and dicoumarol: chemistry, not a misread coumadin
    ],
)
def test_a_row_heading_name_allows_more_slips_when_one_drug_is_clearly_nearest(
    lexicon: Lexicon, text: str, ingredient: str | None
) -> None:
    mention = lexicon.resolve_row_name(text)
    if ingredient is None:
        assert not mention.recognized
        return
    assert mention.ingredients == (ingredient,)
    assert (mention.corrected_from is not None) is text.isascii()
    assert not lexicon.find_mentions(f"{text} 10mg")  # in free text, still not a drug
