"""The focus set: photo questions about one pair, over documents that name many other drugs.

A caregiver photographs a leaflet, a box, a pharmacy label or a hospital prescription and asks about one other
drug ("这药能和降压片一起吃吗？"). Real leaflets name five to ten other drugs and classes in their interactions,
contraindications and precautions; a correct answer is about the asked pair, first, and never about two drugs the
document merely names. Each item records the page spec (rendered by `evals.render.documents` and read by the real
OCR pipeline), the question and an optional follow-up turn without the image, the document's subject drug(s), the
drugs it merely mentions, the asked pair and the expected verdict.

Text sources (see evals/data/focus/README.md): DailyMed / openFDA label sections and CMeKG leaflet fields from
knowledge/data where they hold the drug; the approved wording of a few Chinese and US leaflets the sources lack
(quoted, abridged). Expected verdicts come from the knowledge base for the asked pair (what a correct engine
returns for exactly that pair), with the leaflet's own statement on the pair kept beside it where it has one.

`python -m evals.datasets.focus` rebuilds evals/data/focus/focus.jsonl (needs var/knowledge.sqlite).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.datasets.questions import expected_verdict

if TYPE_CHECKING:
    from knowledge.interactions import InteractionEngine
    from knowledge.lexicon import Lexicon

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "evals" / "data" / "focus"
ITEMS = FOLDER / "focus.jsonl"
SEED = 4242


@dataclass(frozen=True)
class Turn:
    """One question turn and the pair it asks about."""

    question: str
    b: str  # the asked drug's INN or the asked class id
    b_kind: str  # drug | class
    b_words: tuple[str, ...]  # how the user wrote it
    expected: str  # avoid | caution | no_known_interaction
    expected_source: str = "knowledge_base"
    label_statement: str | None = None  # what the document itself says about the pair, where it does


@dataclass(frozen=True)
class FocusItem:
    id: str
    lang: str
    doc: str  # the document key: items over one document share its OCR reading
    doc_type: str  # leaflet | package | label | prescription
    image: dict[str, Any]  # the render spec
    subjects: tuple[str, ...]  # INNs the document is about (every row of a prescription)
    a: str  # the asked subject INN
    a_words: tuple[str, ...]  # the subject's names as printed or asked (brand, product)
    mentioned: tuple[str, ...]  # INNs the document merely names
    turn: Turn
    follow_up: Turn | None = None
    sources: tuple[str, ...] = field(default_factory=tuple)


# ---- documents ---------------------------------------------------------------------------------------------
# Chinese leaflets quoted from their approved wording (abridged); knowledge/data holds only CMeKG's term lists
# for these fields, which the text agrees with.

_IBUPROFEN_ZH = [
    ("【药品名称】", "通用名称：布洛芬缓释胶囊 商品名称：芬必得"),
    ("【成份】", "本品主要成份为布洛芬。"),
    (
        "【适应症】",
        "用于缓解轻至中度疼痛如头痛、关节痛、偏头痛、牙痛、肌肉痛、神经痛、痛经。也用于普通感冒或流行性感冒引起的发热。",
    ),
    ("【用法用量】", "口服。成人，一次1粒，一日2次（早晚各一次）。"),
    (
        "【不良反应】",
        "少数病人可出现恶心、呕吐、胃烧灼感或轻度消化不良、胃肠道溃疡及出血、转氨酶升高、头痛、头晕、耳鸣、视力模糊、精神紧张、嗜睡、下肢水肿或体重骤增。",
    ),
    (
        "【禁忌】",
        "1.对其他非甾体抗炎药过敏者禁用。2.孕妇及哺乳期妇女禁用。3.对阿司匹林过敏的哮喘患者禁用。4.严重肝肾功能不全者或严重心力衰竭者禁用。5.正在服用其他含有布洛芬或其他非甾体抗炎药，包括服用已知是特异性环氧化酶-2抑制剂药物的患者禁用。",
    ),
    (
        "【注意事项】",
        "不能同时服用与本品成份相似的其他抗炎药。服用本品期间不得饮酒或含有酒精的饮料。有消化性溃疡史、支气管哮喘、心功能不全、高血压的患者应在医师指导下使用。",
    ),
    (
        "【药物相互作用】",
        "1.饮酒或与其他非甾体抗炎药同用时增加胃肠道副作用，并有致溃疡的危险。长期与对乙酰氨基酚同用时可增加对肾脏的毒副作用。2.与肝素、双香豆素等抗凝药同用时，可导致凝血酶原时间延长，增加出血倾向。3.与地高辛、甲氨蝶呤、口服降血糖药物同用时，能使这些药物的血药浓度增高，不宜同用。4.与呋塞米同用时，后者的排钠和降压作用减弱；与抗高血压药同用时，也降低后者的降压效果。",
    ),
    ("【贮藏】", "密封保存。"),
]
_WARFARIN_ZH = [
    ("【药品名称】", "通用名称：华法林钠片"),
    ("【成份】", "本品主要成份为华法林钠。"),
    (
        "【适应症】",
        "适用于需长期持续抗凝的患者：能防止血栓的形成及发展，用于治疗血栓栓塞性疾病；治疗手术后或创伤后的静脉血栓形成。",
    ),
    ("【用法用量】", "口服。成人常用量：第1～3天3～4mg，3天后可给维持量一日2.5～5mg，根据凝血酶原时间调整剂量。"),
    (
        "【禁忌】",
        "肝肾功能损害、严重高血压、凝血功能障碍伴有出血倾向、活动性溃疡、外伤、先兆流产、近期手术者禁用。妊娠期禁用。",
    ),
    (
        "【药物相互作用】",
        "1.增强本品抗凝作用的药物：阿司匹林、水杨酸钠、胰高血糖素、奎尼丁、吲哚美辛、保泰松、奎宁、甲苯磺丁脲、甲硝唑、别嘌醇、红霉素、氯霉素、头孢菌素类、西咪替丁、氯贝丁酯、对乙酰氨基酚等。2.降低本品抗凝作用的药物：苯妥英钠、巴比妥类、口服避孕药、雌激素、考来烯胺、利福平、维生素K类、氯噻酮、螺内酯、扑米酮等。",
    ),
    ("【贮藏】", "遮光，密封保存。"),
]
_METFORMIN_ZH = [
    ("【药品名称】", "通用名称：盐酸二甲双胍片 商品名称：格华止"),
    ("【成份】", "本品主要成份为盐酸二甲双胍。"),
    ("【适应症】", "首选用于单纯饮食控制及体育锻炼治疗无效的2型糖尿病，特别是肥胖的2型糖尿病。"),
    ("【用法用量】", "口服。从小剂量开始，通常起始剂量为一次0.5g，一日2次；随餐服用。"),
    (
        "【禁忌】",
        "中度和严重肾功能不全，急性或慢性代谢性酸中毒，包括糖尿病酮症酸中毒。需要接受血管内注射碘化造影剂者，应暂时停用本品。",
    ),
    (
        "【药物相互作用】",
        "1.本品与磺脲类药物合用时，可引起低血糖。2.本品与胰岛素合用，可增强降血糖作用，应调整剂量。3.本品可加强抗凝药（如华法林等）的抗凝血作用。4.西咪替丁可增加本品的生物利用度，减少肾脏清除率。5.如同时服用噻嗪类药物或其他利尿剂、糖皮质激素、吩噻嗪、甲状腺制剂、雌激素、口服避孕药、苯妥英、烟酸、钙离子通道阻滞剂和异烟肼等时要密切监测血糖。6.经肾小管排泌的阳离子药物（例如地高辛、吗啡、奎尼丁、雷尼替丁、氨苯蝶啶、甲氧苄啶和万古霉素）理论上可能与本品竞争转运。",
    ),
    ("【贮藏】", "密封保存。"),
]
_CLOPIDOGREL_ZH = [
    ("【药品名称】", "通用名称：硫酸氢氯吡格雷片 商品名称：波立维"),
    ("【成份】", "本品主要成份为硫酸氢氯吡格雷。"),
    (
        "【适应症】",
        "近期心肌梗死患者、近期缺血性卒中患者或确诊外周动脉性疾病的患者；急性冠脉综合征的患者应与阿司匹林联合使用。",
    ),
    ("【用法用量】", "口服。推荐剂量为每天75mg，与或不与食物同服。"),
    ("【禁忌】", "对活性物质或本品任一成分过敏；严重的肝脏损害；活动性病理性出血，如消化性溃疡或颅内出血。"),
    (
        "【药物相互作用】",
        "华法林：因能增加出血强度，不提倡氯吡格雷与华法林合用。糖蛋白IIb/IIIa拮抗剂、肝素、溶栓药物合用时应谨慎。非甾体抗炎药（包括萘普生）与本品合用可增加胃肠道隐性出血。CYP2C19抑制剂：不推荐与奥美拉唑或埃索美拉唑合用。选择性5-羟色胺再摄取抑制剂（如氟西汀、舍曲林）影响血小板活化，合用应谨慎。",
    ),
    ("【贮藏】", "30℃以下保存。"),
]
_ATORVASTATIN_ZH = [
    ("【药品名称】", "通用名称：阿托伐他汀钙片 商品名称：立普妥"),
    ("【成份】", "本品主要成份为阿托伐他汀钙。"),
    ("【适应症】", "高胆固醇血症；冠心病或冠心病等危症患者降低心肌梗死、卒中的风险。"),
    ("【用法用量】", "口服。常用起始剂量为每日10mg，每日一次，可在一天内任何时间服用。"),
    ("【禁忌】", "活动性肝脏疾病；妊娠期及哺乳期妇女；对本品任何成份过敏者。"),
    (
        "【药物相互作用】",
        "与环孢素、克拉霉素、伊曲康唑、HIV蛋白酶抑制剂（如利托那韦）、红霉素合用时本品血药浓度升高，肌病风险增加。与吉非罗齐、其他贝特类、调脂剂量的烟酸或秋水仙碱合用时肌病风险增加。与地高辛合用时应监测地高辛浓度；与口服避孕药合用可增加炔诺酮和炔雌醇浓度。",
    ),
    ("【贮藏】", "密封保存。"),
]
_SIMVASTATIN_ZH = [
    ("【药品名称】", "通用名称：辛伐他汀片 商品名称：舒降之"),
    ("【成份】", "本品主要成份为辛伐他汀。"),
    ("【适应症】", "高脂血症；冠心病患者降低死亡、心肌梗死和卒中的危险。"),
    ("【用法用量】", "口服。一般起始剂量为每天20mg，晚间一次服用。"),
    (
        "【禁忌】",
        "同时服用强效CYP3A4抑制剂（如伊曲康唑、酮康唑、泊沙康唑、HIV蛋白酶抑制剂、红霉素、克拉霉素、泰利霉素和奈法唑酮）；同时服用吉非贝齐、环孢素或达那唑。活动性肝病。妊娠和哺乳期妇女。",
    ),
    (
        "【药物相互作用】",
        "与胺碘酮、氨氯地平或雷诺嗪合用时辛伐他汀每日不超过20mg；与维拉帕米、地尔硫䓬合用时每日不超过10mg。与其他贝特类、烟酸合用时肌病风险增加。可轻度升高地高辛浓度；可增强香豆素类抗凝药（华法林）的作用。",
    ),
    ("【贮藏】", "密封保存。"),
]
_AMLODIPINE_ZH = [
    ("【药品名称】", "通用名称：苯磺酸氨氯地平片 商品名称：络活喜"),
    ("【成份】", "本品主要成份为苯磺酸氨氯地平。"),
    ("【适应症】", "高血压；慢性稳定性心绞痛及血管痉挛性心绞痛。"),
    ("【用法用量】", "口服。通常起始剂量为5mg，每日一次，最大剂量为10mg，每日一次。"),
    ("【禁忌】", "对二氢吡啶类钙拮抗剂或本品任何成份过敏的患者禁用。"),
    (
        "【药物相互作用】",
        "辛伐他汀：与本品合用时辛伐他汀剂量应限制在每日20mg以下。CYP3A4抑制剂：与地尔硫䓬、酮康唑、伊曲康唑、利托那韦、克拉霉素合用可升高本品浓度。与他克莫司、环孢素合用时应监测其血药浓度。西地那非与本品合用时各自独立发挥降压作用。",
    ),
    ("【贮藏】", "密封保存。"),
]

# English label text quoted from the US labels of drugs our label sources lack (public domain).
_ZOCOR_EN = [
    (
        "1 INDICATIONS AND USAGE",
        "ZOCOR is an HMG-CoA reductase inhibitor (statin) indicated as an adjunctive therapy to diet to reduce the risk of total mortality by reducing risk of CHD death, non-fatal myocardial infarction and stroke.",  # noqa: E501
    ),
    (
        "4 CONTRAINDICATIONS",
        "Concomitant administration of strong CYP3A4 inhibitors (e.g., itraconazole, ketoconazole, posaconazole, voriconazole, HIV protease inhibitors, boceprevir, telaprevir, erythromycin, clarithromycin, telithromycin, nefazodone, and cobicistat-containing products). Concomitant administration of gemfibrozil, cyclosporine, or danazol. Active liver disease. Women who are pregnant or may become pregnant.",  # noqa: E501
    ),
    (
        "7 DRUG INTERACTIONS",
        "Do not exceed 10 mg simvastatin daily with verapamil, diltiazem, or dronedarone. Do not exceed 20 mg simvastatin daily with amiodarone, amlodipine, or ranolazine. Avoid large quantities of grapefruit juice. Other fibrates or lipid-modifying doses of niacin increase the risk of myopathy. Coumarin anticoagulants: determine prothrombin time before starting simvastatin. Digoxin: monitor digoxin levels.",  # noqa: E501
    ),
]
_ADVIL_EN = [
    (
        "Drug Facts",
        "Active ingredient (in each tablet): Ibuprofen 200 mg (NSAID). Uses: temporarily relieves minor aches and pains due to headache, muscular aches, toothache, backache, the common cold, menstrual cramps; temporarily reduces fever.",  # noqa: E501
    ),
    (
        "Warnings",
        "Stomach bleeding warning: the chance is higher if you take a blood thinning (anticoagulant) or steroid drug, or take other drugs containing prescription or nonprescription NSAIDs (aspirin, ibuprofen, naproxen, or others). Do not use right before or after heart surgery.",  # noqa: E501
    ),
    (
        "Ask a doctor or pharmacist before use if you are",
        "taking aspirin for heart attack or stroke, because ibuprofen may decrease this benefit of aspirin; under a doctor's care for any serious condition; taking a diuretic; taking any other drug.",  # noqa: E501
    ),
    (
        "Directions",
        "Adults and children 12 years and over: take 1 tablet every 4 to 6 hours while symptoms persist. Do not exceed 6 tablets in 24 hours unless directed by a doctor.",  # noqa: E501
    ),
]


def _table(*rows: Any) -> list[Any]:
    """A literal table of rows: mixed tuple shapes that the type checker need not unify."""
    return list(rows)


def _cmekg_leaflet(inn: str) -> tuple[str, list[tuple[str, str]]]:
    """A Chinese leaflet from the CMeKG product row the page renderer uses for this drug."""
    from evals.render.sources import DRUGS, cmekg_rows, terms

    row = cmekg_rows()[inn]
    drug = next(d for d in DRUGS if d.inn == inn)
    named = "、".join(terms(row["interaction_mentions(药物相互作用)"], 8))
    contra = "、".join(terms(row["contraindications(禁忌)"], 4)) or f"对{drug.zh}过敏者禁用"
    blocks = [
        ("【药品名称】", f"通用名称：{drug.product_zh}"),
        ("【成份】", f"本品主要成份为{drug.zh}。"),
        ("【适应症】", "用于" + "、".join(terms(row["indications(适应症)"], 5)) + "。"),
        ("【用法用量】", f"口服。一次{drug.usual_dose}，一日{drug.per_day}次，或遵医嘱。"),
        ("【不良反应】", "、".join(terms(row["adverse_reactions(不良反应)"], 8)) + "等。"),
        ("【禁忌】", contra + "。"),
        ("【药物相互作用】", f"与{named}合用时应注意。"),
        ("【贮藏】", "遮光，密封保存。"),
    ]
    return f"{drug.product_zh}说明书", blocks


def _label_sentences(lexicon: Lexicon, text: str, subject: str, limit: int) -> str:
    """The sentences of a label section that name another drug or class, up to `limit` characters."""
    out: list[str] = []
    size = 0
    for sentence in re.split(r"(?<=[.;])\s+", text):
        others = [m for m in lexicon.find_mentions(sentence) if m.recognized and subject not in m.ingredients]
        if not others or len(sentence) > limit:
            continue
        if size + len(sentence) > limit:
            break
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)


def _english_leaflet(lexicon: Lexicon, inn: str) -> list[tuple[str, str]]:
    """US label sections (DailyMed / openFDA): the start of the indications, then the sentences of the
    contraindications, warnings and drug-interaction sections that name other drugs."""
    from evals.render.sources import english_sections

    sections = english_sections()[inn]
    blocks: list[tuple[str, str]] = []
    first = re.split(r"(?<=\.)\s+", sections.get("INDICATIONS AND USAGE", ""))[0][:260]
    if first:
        blocks.append(("1 INDICATIONS AND USAGE", first))
    for number, heading, limit in _table(
        (4, "CONTRAINDICATIONS", 380),
        (5, "WARNINGS AND PRECAUTIONS", 300),
        (7, "DRUG INTERACTIONS", 700),
    ):
        body = _label_sentences(lexicon, sections.get(heading, ""), inn, limit)
        if body:
            blocks.append((f"{number} {heading}", body))
    return blocks


@dataclass(frozen=True)
class _Doc:
    key: str
    lang: str
    image: dict[str, Any]
    subjects: tuple[str, ...]
    a_words: dict[str, tuple[str, ...]]  # subject INN -> its names on the page
    source: str
    # (question, asked words, asked subject INN or "" for the only subject, follow-up question, its asked words)
    questions: tuple[tuple[str, str, str, str | None, str | None], ...]


def _documents(lexicon: Lexicon) -> list[_Doc]:
    docs: list[_Doc] = []

    def leaflet_zh(
        key: str,
        inn: str,
        title: str,
        blocks: list[tuple[str, str]],
        names: tuple[str, ...],
        source: str,
        qs: tuple[tuple[str, str, str, str | None, str | None], ...],
    ) -> None:
        spec = {"kind": "leaflet_zh", "title": title, "blocks": [list(b) for b in blocks]}
        docs.append(_Doc(key, "zh", spec, (inn,), {inn: names}, source, qs))

    quoted_zh = "approved Chinese leaflet wording (quoted, abridged)"
    leaflet_zh(
        "ibuprofen-zh",
        "ibuprofen",
        "布洛芬缓释胶囊说明书",
        _IBUPROFEN_ZH,
        ("芬必得", "布洛芬缓释胶囊", "布洛芬"),
        quoted_zh,
        (
            ("这药能和降压片一起吃吗？", "降压片", "", "那和阿司匹林呢？", "阿司匹林"),
            ("我爸在吃降压药，这个能一起吃吗", "降压药", "", "那和华法林呢？", "华法林"),
            ("这个和氨氯地平能一起吃吗？", "氨氯地平", "", None, None),
            (
                "Can my father take this with his blood pressure pills?",
                "blood pressure pills",
                "",
                "And with aspirin?",
                "aspirin",
            ),
        ),
    )
    leaflet_zh(
        "warfarin-zh",
        "warfarin",
        "华法林钠片说明书",
        _WARFARIN_ZH,
        ("华法林钠片", "华法林"),
        quoted_zh,
        (
            ("这药能和阿司匹林一起吃吗？", "阿司匹林", "", "那和布洛芬呢？", "布洛芬"),
            ("吃这个药的时候能吃对乙酰氨基酚吗？", "对乙酰氨基酚", "", None, None),
            ("Can I take this with aspirin?", "aspirin", "", "What about Tylenol?", "Tylenol"),
            ("这个能和阿奇霉素一起用吗？", "阿奇霉素", "", None, None),
        ),
    )
    leaflet_zh(
        "metformin-zh",
        "metformin",
        "盐酸二甲双胍片说明书",
        _METFORMIN_ZH,
        ("格华止", "盐酸二甲双胍片", "二甲双胍"),
        quoted_zh,
        (
            ("这药能和降压片一起吃吗？", "降压片", "", "那和阿司匹林呢？", "阿司匹林"),
            ("这个和缬沙坦能一起吃吗？", "缬沙坦", "", None, None),
            ("Can my mother take this with her blood pressure medicine?", "blood pressure medicine", "", None, None),
        ),
    )
    leaflet_zh(
        "clopidogrel-zh",
        "clopidogrel",
        "硫酸氢氯吡格雷片说明书",
        _CLOPIDOGREL_ZH,
        ("波立维", "硫酸氢氯吡格雷片", "氯吡格雷"),
        quoted_zh,
        (
            ("这药能和奥美拉唑一起吃吗？", "奥美拉唑", "", "那和泮托拉唑呢？", "泮托拉唑"),
            ("这个能和布洛芬一起吃吗？", "布洛芬", "", None, None),
        ),
    )
    leaflet_zh(
        "atorvastatin-zh",
        "atorvastatin",
        "阿托伐他汀钙片说明书",
        _ATORVASTATIN_ZH,
        ("立普妥", "阿托伐他汀钙片", "阿托伐他汀"),
        quoted_zh,
        (
            ("这药能和克拉霉素一起吃吗？", "克拉霉素", "", "那和阿奇霉素呢？", "阿奇霉素"),
            ("这个能和降压片一起吃吗？", "降压片", "", None, None),
        ),
    )
    leaflet_zh(
        "simvastatin-zh",
        "simvastatin",
        "辛伐他汀片说明书",
        _SIMVASTATIN_ZH,
        ("舒降之", "辛伐他汀片", "辛伐他汀"),
        quoted_zh,
        (
            ("这药能和克拉霉素一起吃吗？", "克拉霉素", "", None, None),
            ("这个能和络活喜一起吃吗？", "络活喜", "", None, None),
        ),
    )
    leaflet_zh(
        "amlodipine-zh",
        "amlodipine",
        "苯磺酸氨氯地平片说明书",
        _AMLODIPINE_ZH,
        ("络活喜", "苯磺酸氨氯地平片", "氨氯地平"),
        quoted_zh,
        (
            ("这药能和布洛芬一起吃吗？", "布洛芬", "", "那和阿司匹林呢？", "阿司匹林"),
            ("这个和辛伐他汀能一起吃吗？", "辛伐他汀", "", None, None),
        ),
    )
    cmekg = "CMeKG product row (knowledge/data/cmekg), fields as the page renderer writes them"
    for inn, names, qs in _table(
        (
            "metoprolol",
            ("倍他乐克", "酒石酸美托洛尔片", "美托洛尔"),
            (
                ("这药能和布洛芬一起吃吗？", "布洛芬", "", None, None),
                ("这个能和维拉帕米一起吃吗？", "维拉帕米", "", None, None),
            ),
        ),
        (
            "valsartan",
            ("代文", "缬沙坦胶囊", "缬沙坦"),
            (
                ("这药能和布洛芬一起吃吗？", "布洛芬", "", "那和阿司匹林呢？", "阿司匹林"),
                ("这个能和补钾药一起吃吗？", "补钾药", "", None, None),
            ),
        ),
        (
            "nifedipine",
            ("心痛定", "硝苯地平片", "硝苯地平"),
            (("这药能和克拉霉素一起吃吗？", "克拉霉素", "", None, None),),
        ),
        (
            "digoxin",
            ("地高辛片", "地高辛"),
            (
                ("这药能和克拉霉素一起吃吗？", "克拉霉素", "", None, None),
                ("这个能和呋塞米一起吃吗？", "呋塞米", "", None, None),
            ),
        ),
        ("omeprazole", ("奥美拉唑肠溶片", "奥美拉唑"), (("这药能和氯吡格雷一起吃吗？", "氯吡格雷", "", None, None),)),
    ):
        title, blocks = _cmekg_leaflet(inn)
        leaflet_zh(f"{inn}-zh-cmekg", inn, title, blocks, names, cmekg, qs)

    def leaflet_en(
        key: str,
        inn: str,
        title: str,
        blocks: list[tuple[str, str]],
        names: tuple[str, ...],
        source: str,
        qs: tuple[tuple[str, str, str, str | None, str | None], ...],
    ) -> None:
        spec = {"kind": "leaflet_en", "title": title, "blocks": [list(b) for b in blocks]}
        docs.append(_Doc(key, "en", spec, (inn,), {inn: names}, source, qs))

    dailymed = "DailyMed / openFDA label sections (knowledge/data/dailymed_labels, fda_label_excerpts)"
    for inn, title, names, qs in _table(
        (
            "warfarin",
            "COUMADIN (warfarin sodium) tablets",
            ("Coumadin", "warfarin"),
            (
                ("Can I take this with aspirin?", "aspirin", "", "And with Tylenol?", "Tylenol"),
                ("这药能和阿司匹林一起吃吗？", "阿司匹林", "", None, None),
                ("Is it OK to take this with ibuprofen?", "ibuprofen", "", None, None),
            ),
        ),
        (
            "atorvastatin",
            "LIPITOR (atorvastatin calcium) tablets",
            ("Lipitor", "atorvastatin"),
            (
                (
                    "Can I take this with clarithromycin?",
                    "clarithromycin",
                    "",
                    "And with azithromycin?",
                    "azithromycin",
                ),
                ("My dad takes blood pressure pills. Can he take this too?", "blood pressure pills", "", None, None),
            ),
        ),
        (
            "clopidogrel",
            "PLAVIX (clopidogrel bisulfate) tablets",
            ("Plavix", "clopidogrel"),
            (
                ("Can I take this with omeprazole?", "omeprazole", "", "And with pantoprazole?", "pantoprazole"),
                ("Can I take this with Advil?", "Advil", "", None, None),
            ),
        ),
        (
            "metformin",
            "GLUCOPHAGE (metformin hydrochloride) tablets",
            ("Glucophage", "metformin"),
            (
                (
                    "Can my mother take this with her blood pressure pill?",
                    "blood pressure pill",
                    "",
                    "And with aspirin?",
                    "aspirin",
                ),
                ("这药能和降压片一起吃吗？", "降压片", "", None, None),
            ),
        ),
        (
            "lisinopril",
            "ZESTRIL (lisinopril) tablets",
            ("Zestril", "lisinopril"),
            (
                ("Can I take this with ibuprofen?", "ibuprofen", "", None, None),
                ("Can I take this with a potassium supplement?", "potassium supplement", "", None, None),
            ),
        ),
        (
            "digoxin",
            "LANOXIN (digoxin) tablets",
            ("Lanoxin", "digoxin"),
            (("Can I take this with clarithromycin?", "clarithromycin", "", None, None),),
        ),
        (
            "sertraline",
            "ZOLOFT (sertraline hydrochloride) tablets",
            ("Zoloft", "sertraline"),
            (
                ("Can I take this with ibuprofen?", "ibuprofen", "", None, None),
                ("Can I take this with tramadol?", "tramadol", "", None, None),
            ),
        ),
        (
            "omeprazole",
            "PRILOSEC (omeprazole) delayed-release capsules",
            ("Prilosec", "omeprazole"),
            (("Can I take this with Plavix?", "Plavix", "", None, None),),
        ),
        (
            "amlodipine",
            "NORVASC (amlodipine besylate) tablets",
            ("Norvasc", "amlodipine"),
            (
                ("Can I take this with simvastatin?", "simvastatin", "", None, None),
                ("Can I take this with ibuprofen?", "ibuprofen", "", None, None),
            ),
        ),
    ):
        leaflet_en(f"{inn}-en", inn, title, _english_leaflet(lexicon, inn), names, dailymed, qs)
    zocor = "ZOCOR US label, contraindications and drug interactions (quoted, abridged; public domain)"
    leaflet_en(
        "simvastatin-en",
        "simvastatin",
        "ZOCOR (simvastatin) tablets",
        _ZOCOR_EN,
        ("Zocor", "simvastatin"),
        zocor,
        (
            ("Can I take this with clarithromycin?", "clarithromycin", "", "And with azithromycin?", "azithromycin"),
            ("这药能和克拉霉素一起吃吗？", "克拉霉素", "", None, None),
            ("Can I take this with Norvasc?", "Norvasc", "", None, None),
        ),
    )
    advil = "Advil (ibuprofen) OTC Drug Facts (quoted, abridged)"
    leaflet_en(
        "ibuprofen-en",
        "ibuprofen",
        "Advil (ibuprofen tablets, 200 mg)",
        _ADVIL_EN,
        ("Advil", "ibuprofen"),
        advil,
        (
            (
                "Can my father take this with his blood pressure pills?",
                "blood pressure pills",
                "",
                "And with aspirin?",
                "aspirin",
            ),
            ("这药能和降压片一起吃吗？", "降压片", "", None, None),
            ("Can I take this with Coumadin?", "Coumadin", "", None, None),
        ),
    )

    # Drug boxes: brand, product name, and the side panel's precautions.
    box = "box text: brand and product names; side-panel lines from the leaflets above"
    for key, inn, brand, name, name_en, strength, qty, notes, names, qs in _table(
        (
            "ibuprofen-box",
            "ibuprofen",
            "芬必得",
            "布洛芬缓释胶囊",
            "Ibuprofen Sustained Release Capsules",
            "0.3g",
            "20粒/盒",
            [
                "【注意事项】不能同时服用与本品成份相似的其他抗炎药。",
                "与肝素、双香豆素等抗凝药同用时，可增加出血倾向。",
                "与地高辛、甲氨蝶呤、口服降血糖药物同用时不宜同用。",
            ],
            ("芬必得", "布洛芬缓释胶囊"),
            (("这药能和降压片一起吃吗？", "降压片", "", "那和阿司匹林呢？", "阿司匹林"),),
        ),
        (
            "clopidogrel-box",
            "clopidogrel",
            "波立维",
            "硫酸氢氯吡格雷片",
            "Clopidogrel Bisulfate Tablets",
            "75mg",
            "7片/盒",
            [
                "【药物相互作用】不提倡与华法林合用；不推荐与奥美拉唑或埃索美拉唑合用。",
                "与非甾体抗炎药、肝素合用应谨慎。",
            ],
            ("波立维", "硫酸氢氯吡格雷片"),
            (
                ("这药能和阿司匹林一起吃吗？", "阿司匹林", "", None, None),
                ("Can I take this with Nexium?", "Nexium", "", None, None),
            ),
        ),
        (
            "amlodipine-box",
            "amlodipine",
            "络活喜",
            "苯磺酸氨氯地平片",
            "Amlodipine Besylate Tablets",
            "5mg",
            "7片/盒",
            [
                "【药物相互作用】与辛伐他汀合用时，辛伐他汀每日不超过20mg。",
                "与地尔硫䓬、酮康唑、伊曲康唑、克拉霉素合用可升高本品浓度。",
            ],
            ("络活喜", "苯磺酸氨氯地平片"),
            (("这药能和布洛芬一起吃吗？", "布洛芬", "", None, None),),
        ),
        (
            "metformin-box",
            "metformin",
            "格华止",
            "盐酸二甲双胍片",
            "Metformin Hydrochloride Tablets",
            "0.5g",
            "20片/盒",
            ["【禁忌】需要接受血管内注射碘化造影剂者，应暂时停用本品。", "与磺脲类药物、胰岛素合用可引起低血糖。"],
            ("格华止", "盐酸二甲双胍片"),
            (("这药能和降压药一起吃吗？", "降压药", "", "那和阿司匹林呢？", "阿司匹林"),),
        ),
    ):
        spec = {
            "kind": "package",
            "brand": brand,
            "name": name,
            "name_en": name_en,
            "strength": strength,
            "quantity": qty,
            "notes": notes,
        }
        docs.append(_Doc(key, "zh", spec, (inn,), {inn: names}, box, qs))

    # US pharmacy labels with auxiliary warning stickers that name other drugs.
    sticker = "pharmacy label and auxiliary warning stickers (made up as pharmacies print them)"
    for key, inn, line, aux, names, qs in _table(
        (
            "coumadin-label",
            "warfarin",
            "COUMADIN 5 MG TABLET",
            [
                "DO NOT TAKE ASPIRIN, IBUPROFEN OR NAPROXEN UNLESS YOUR DOCTOR SAYS SO",
                "AVOID LARGE CHANGES IN VITAMIN K FOODS",
            ],
            ("Coumadin",),
            (
                ("Can I take this with Tylenol?", "Tylenol", "", "And with aspirin?", "aspirin"),
                ("这个药能和阿司匹林一起吃吗？", "阿司匹林", "", None, None),
            ),
        ),
        (
            "zocor-label",
            "simvastatin",
            "ZOCOR 40 MG TABLET",
            ["DO NOT TAKE WITH GEMFIBROZIL OR CYCLOSPORINE", "AVOID GRAPEFRUIT JUICE"],
            ("Zocor",),
            (
                ("Can I take this with clarithromycin?", "clarithromycin", "", None, None),
                ("Can I take this with Biaxin?", "Biaxin", "", None, None),
            ),
        ),
        (
            "lipitor-label",
            "atorvastatin",
            "LIPITOR 20 MG TABLET",
            ["TELL YOUR DOCTOR IF YOU TAKE ITRACONAZOLE OR CYCLOSPORINE"],
            ("Lipitor",),
            (("Can I take this with my blood pressure pill?", "blood pressure pill", "", None, None),),
        ),
        (
            "plavix-label",
            "clopidogrel",
            "PLAVIX 75 MG TABLET",
            [
                "ASK YOUR PHARMACIST BEFORE TAKING OMEPRAZOLE OR ESOMEPRAZOLE",
                "DO NOT TAKE WITH WARFARIN UNLESS DIRECTED",
            ],
            ("Plavix",),
            (("Can I take this with aspirin?", "aspirin", "", "And with ibuprofen?", "ibuprofen"),),
        ),
        (
            "glucophage-label",
            "metformin",
            "GLUCOPHAGE 500 MG TABLET",
            ["TELL YOUR DOCTOR BEFORE ANY X-RAY WITH IODINATED CONTRAST", "DO NOT DRINK ALCOHOL"],
            ("Glucophage",),
            (("Can I take this with lisinopril?", "lisinopril", "", None, None),),
        ),
    ):
        spec = {
            "kind": "label",
            "pharmacy": "RIVERSIDE PHARMACY",
            "patient": "LI WEI",
            "drug_line": line,
            "directions": "TAKE 1 TABLET BY MOUTH ONCE DAILY",
            "auxiliary": aux,
        }
        docs.append(_Doc(key, "en", spec, (inn,), {inn: names}, sticker, qs))

    # Hospital prescriptions with several rows; the question names one row by its brand.
    rx = "hospital prescription layout (made-up patient, doctor and hospital); real brand and product names"
    for key, hospital, diagnosis, rows, qs in _table(
        (
            "rx-cardiology",
            "江州市第一人民医院",
            "冠心病 高血压",
            [
                (
                    "clopidogrel",
                    ("波立维", "硫酸氢氯吡格雷片"),
                    "波立维 硫酸氢氯吡格雷片",
                    "75mg",
                    "7片",
                    "75mg 口服 每日一次",
                ),
                (
                    "aspirin",
                    ("拜阿司匹灵", "阿司匹林肠溶片"),
                    "拜阿司匹灵 阿司匹林肠溶片",
                    "100mg",
                    "30片",
                    "100mg 口服 每日一次",
                ),
                (
                    "atorvastatin",
                    ("立普妥", "阿托伐他汀钙片"),
                    "立普妥 阿托伐他汀钙片",
                    "20mg",
                    "7片",
                    "20mg 口服 每晚一次",
                ),
                (
                    "metoprolol",
                    ("倍他乐克", "酒石酸美托洛尔片"),
                    "倍他乐克 酒石酸美托洛尔片",
                    "25mg",
                    "20片",
                    "25mg 口服 每日2次",
                ),
            ],
            (
                ("处方上的波立维能和奥美拉唑一起吃吗？", "奥美拉唑", "clopidogrel", "那和泮托拉唑呢？", "泮托拉唑"),
                ("立普妥能和克拉霉素一起吃吗？", "克拉霉素", "atorvastatin", None, None),
                (
                    "Can the Plavix on this prescription be taken with omeprazole?",
                    "omeprazole",
                    "clopidogrel",
                    None,
                    None,
                ),
            ),
        ),
        (
            "rx-metabolic",
            "临海市第二人民医院",
            "2型糖尿病 高脂血症 高血压",
            [
                (
                    "amlodipine",
                    ("络活喜", "苯磺酸氨氯地平片"),
                    "络活喜 苯磺酸氨氯地平片",
                    "5mg",
                    "7片",
                    "5mg 口服 每日一次",
                ),
                (
                    "metformin",
                    ("格华止", "盐酸二甲双胍片"),
                    "格华止 盐酸二甲双胍片",
                    "0.5g",
                    "20片",
                    "0.5g 口服 每日2次",
                ),
                ("valsartan", ("代文", "缬沙坦胶囊"), "代文 缬沙坦胶囊", "80mg", "7粒", "80mg 口服 每日一次"),
                ("simvastatin", ("舒降之", "辛伐他汀片"), "舒降之 辛伐他汀片", "20mg", "7片", "20mg 口服 每晚一次"),
            ],
            (
                ("舒降之能和克拉霉素一起吃吗？", "克拉霉素", "simvastatin", "那和阿奇霉素呢？", "阿奇霉素"),
                ("处方里的格华止能和布洛芬一起吃吗？", "布洛芬", "metformin", None, None),
                ("Can the Diovan on this prescription be taken with ibuprofen?", "ibuprofen", "valsartan", None, None),
            ),
        ),
        (
            "rx-af",
            "云川市第三人民医院",
            "心房颤动 心力衰竭",
            [
                ("warfarin", ("华法林钠片", "华法林"), "华法林钠片", "2.5mg", "28片", "2.5mg 口服 每日一次"),
                ("digoxin", ("地高辛片", "地高辛"), "地高辛片", "0.125mg", "28片", "0.125mg 口服 每日一次"),
                ("furosemide", ("呋塞米片", "呋塞米"), "呋塞米片", "20mg", "14片", "20mg 口服 每日一次"),
                ("spironolactone", ("螺内酯片", "螺内酯"), "螺内酯片", "20mg", "14片", "20mg 口服 每日一次"),
            ],
            (
                ("处方上的华法林能和阿司匹林一起吃吗？", "阿司匹林", "warfarin", "那和布洛芬呢？", "布洛芬"),
                ("地高辛能和克拉霉素一起吃吗？", "克拉霉素", "digoxin", None, None),
                ("Can the warfarin on this prescription be taken with Tylenol?", "Tylenol", "warfarin", None, None),
            ),
        ),
        (
            "rx-arthritis",
            "青山市第四人民医院",
            "骨关节炎 高血压",
            [
                ("celecoxib", ("西乐葆", "塞来昔布胶囊"), "西乐葆 塞来昔布胶囊", "0.2g", "6粒", "0.2g 口服 每日一次"),
                (
                    "benazepril",
                    ("洛汀新", "盐酸贝那普利片"),
                    "洛汀新 盐酸贝那普利片",
                    "10mg",
                    "14片",
                    "10mg 口服 每日一次",
                ),
                (
                    "omeprazole",
                    ("奥美拉唑肠溶胶囊", "奥美拉唑"),
                    "奥美拉唑肠溶胶囊",
                    "20mg",
                    "14粒",
                    "20mg 口服 每日一次",
                ),
            ],
            (
                ("西乐葆能和降压药一起吃吗？", "降压药", "celecoxib", None, None),
                ("处方上的洛汀新能和补钾药一起吃吗？", "补钾药", "benazepril", None, None),
            ),
        ),
    ):
        subjects = tuple(r[0] for r in rows)
        spec = {
            "kind": "prescription",
            "hospital": hospital,
            "patient": "王建华",
            "diagnosis": diagnosis,
            "rows": [[str(r[k]) for k in range(2, 6)] for r in rows],
        }
        docs.append(_Doc(key, "zh", spec, subjects, {r[0]: r[1] for r in rows}, rx, qs))
    return docs


# ---- building ----------------------------------------------------------------------------------------------


def _asked(lexicon: Lexicon, words: str) -> tuple[str, str]:
    m = lexicon.resolve(words)
    if not m.recognized:
        raise ValueError(f"the asked drug {words!r} is not in the lexicon")
    if m.is_class:
        return m.class_ids[0], "class"
    if len(m.ingredients) != 1:
        raise ValueError(f"{words!r} resolves to {m.ingredients}: ask about one ingredient")
    return m.ingredients[0], "drug"


def _expected(engine: InteractionEngine, a: str, words: str) -> str:
    """The verdict for exactly the asked pair, from the knowledge base."""
    result = engine.check([a, words])
    if any(d.kind == "ingredient" for d in result.duplicates):
        return "avoid"
    worst = max((i.severity.rank for i in result.interactions), default=None)
    if worst is None:
        return "caution" if result.duplicates else "no_known_interaction"
    severity = next(i.severity.value for i in result.interactions if i.severity.rank == worst)
    return expected_verdict("minor" if severity == "unknown" else severity)


def _statement(blocks: list[list[str]] | None, lexicon: Lexicon, b: str, b_kind: str) -> str | None:
    """The document's own sentence about the asked drug or class, where it has one."""
    for _, body in blocks or ():
        for sentence in re.split(r"(?<=[。；.;])\s*", body):
            for m in lexicon.find_mentions(sentence):
                if (b_kind == "drug" and b in m.ingredients) or (b_kind == "class" and b in m.class_ids):
                    return sentence
    return None


def _turn(question: str, words: str, a: str, doc: _Doc, lexicon: Lexicon, engine: InteractionEngine) -> Turn:
    b, kind = _asked(lexicon, words)
    return Turn(
        question=question,
        b=b,
        b_kind=kind,
        b_words=(words,),
        expected=_expected(engine, a, words),
        label_statement=_statement(doc.image.get("blocks"), lexicon, b, kind),
    )


def build(lexicon: Lexicon | None = None, engine: InteractionEngine | None = None) -> list[FocusItem]:
    """Build the set (deterministic: fixed texts, seeded page variation) and write evals/data/focus/."""
    from evals.render.documents import render_document

    if lexicon is None or engine is None:
        from app.components import Components
        from app.config import get_settings

        comps = Components(get_settings())
        lexicon, engine = comps.lexicon, comps.engine
    rng = random.Random(SEED)
    items: list[FocusItem] = []
    for doc in _documents(lexicon):
        image = {**doc.image, "seed": rng.randrange(1 << 30), "degradation": rng.choice(["clean", "clean", "mild"])}
        _, _, text = render_document(image)
        named = {i for m in lexicon.find_mentions(text) if m.recognized for i in m.ingredients}
        mentioned = tuple(sorted(named - set(doc.subjects)))
        for n, (question, words, a, follow, follow_words) in enumerate(doc.questions):
            a = a or doc.subjects[0]
            turn = _turn(question, words, a, doc, lexicon, engine)
            second = _turn(follow, follow_words, a, doc, lexicon, engine) if follow and follow_words else None
            lang = "zh" if re.search(r"[\u4e00-\u9fff]", question) else "en"
            items.append(
                FocusItem(
                    id=f"{doc.key}-{n + 1}",
                    lang=lang,
                    doc=doc.key,
                    doc_type={"leaflet_zh": "leaflet", "leaflet_en": "leaflet"}.get(image["kind"], image["kind"]),
                    image=image,
                    subjects=doc.subjects,
                    a=a,
                    a_words=doc.a_words[a],
                    mentioned=tuple(m for m in mentioned if m != turn.b),
                    turn=turn,
                    follow_up=second,
                    sources=(doc.source,),
                )
            )
    FOLDER.mkdir(parents=True, exist_ok=True)
    with open(ITEMS, "w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")
    return items


def _turn_from(d: dict[str, Any] | None) -> Turn | None:
    if d is None:
        return None
    return Turn(**{**d, "b_words": tuple(d["b_words"])})


def load(path: Path = ITEMS) -> list[FocusItem]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                for key in ("subjects", "a_words", "mentioned", "sources"):
                    d[key] = tuple(d[key])
                d["turn"] = _turn_from(d["turn"])
                d["follow_up"] = _turn_from(d.get("follow_up"))
                out.append(FocusItem(**d))
    return out


if __name__ == "__main__":
    built = build()
    print(f"focus: {len(built)} items over {len({i.doc for i in built})} documents -> {ITEMS}")
