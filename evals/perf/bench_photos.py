"""The photos users really send, timed stage by stage: dense phone captures of leaflets (Chinese and English, one
and two columns, one upside down), a drug box and prescriptions at 2,000-2,200 px with 33-74 lines; the same
pages as 12-megapixel originals (about 4000 px on the long side); and as forwarded through a messaging app
(long side 1,280 px, JPEG quality 75). Rendered at run time with a fixed seed, so every run reads the same set.

Per photo: the RxLens pipeline's time per stage (decode, OCR detection, direction, recognition, re-reads,
orientation, layout, fields, mentions), the photo -> answer time (the reading plus a question about it through
the chain, as `rxlens ask --image` does), bare RapidOCR (`RapidOCR()(img)`, same device and threads) on the same
image, CER against the rendered text, and drug recall (the drugs drawn on the page found in the reading). The
contenders take turns on each photo, so contention from anything else running hits them alike.

    python -m evals.perf.bench --sections photos [--quick]      # or: make bench-photos
"""

from __future__ import annotations

import dataclasses
import io
import logging
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from evals.metrics import cer
from evals.perf.results import Figure, Target, percentile
from evals.render.degrade import degrade
from evals.render.pages import FREQUENCIES, Canvas, _flow, _name, _stamp
from evals.render.sources import DRUGS, Drug, cmekg_rows, english_sections, terms

log = logging.getLogger("rxlens.bench")

BARE = "bare RapidOCR"
OURS = "RxLens pipeline"
ANSWER_STAGE = "photo -> answer (phone photos)"
ANSWER_TARGETS = (Target(2500.0), Target(1200.0))  # the issue: at most 2.5 s at p50, aim 1.2 s
QUESTIONS = {"zh": "这药能和降压药一起吃吗？", "en": "Can I take this with my blood pressure pill?"}
SEED = 20_260_417
PHONE_SIDE = (2000, 2200)
ORIGINAL_SIDE = 4000  # a 12-megapixel phone camera: 4000 x 3000
FORWARDED_SIDE, FORWARDED_QUALITY = 1280, 75  # what WeChat / WhatsApp make of a photo
# The engine's own steps, as the pipeline reports them ("ocr.<step>"), then the pipeline's stages after OCR.
STAGES = (
    "decode",
    "ocr.detection",
    "ocr.direction",
    "ocr.recognition",
    "ocr.recheck",
    "ocr.reread",
    "orient",
    "layout",
    "fields",
    "mentions",
    "confirmation",
)
LINE_BUCKETS = ((0, 39), (40, 59), (60, 999))


@dataclass(frozen=True)
class PhotoSpec:
    """One photo of the set: a page `kind`, its `columns`, how it was taken (`capture`: phone, original or
    forwarded), turned `rotation` degrees clockwise, drawn from `seed`."""

    kind: str  # leaflet_zh | leaflet_en | prescription | package
    columns: int
    capture: str  # phone | original | forwarded
    seed: int
    rotation: int = 0

    @property
    def name(self) -> str:
        turned = f"-rot{self.rotation}" if self.rotation else ""
        return f"{self.kind}-{self.columns}col{turned}-{self.capture}-{self.seed % 100}"

    @property
    def lang(self) -> str:
        return "en" if self.kind == "leaflet_en" else "zh"


@dataclass(frozen=True)
class Photo:
    spec: PhotoSpec
    data: bytes
    width: int
    height: int
    truth: str  # the text drawn, in reading order
    lines: int
    drugs: tuple[str, ...]  # ingredients (lower-case INNs) drawn on the page


def photo_set(quick: bool = False) -> list[PhotoSpec]:
    """The set: 8 phone captures, 3 12-megapixel originals and 5 forwarded copies (quick: 4 photos)."""
    phone = [
        PhotoSpec("leaflet_zh", 1, "phone", SEED + 1),
        PhotoSpec("leaflet_zh", 2, "phone", SEED + 2),
        PhotoSpec("leaflet_en", 1, "phone", SEED + 3),
        PhotoSpec("leaflet_en", 2, "phone", SEED + 4),
        PhotoSpec("leaflet_zh", 1, "phone", SEED + 5, rotation=180),
        PhotoSpec("package", 2, "phone", SEED + 6),
        PhotoSpec("prescription", 1, "phone", SEED + 7),
        PhotoSpec("prescription", 1, "phone", SEED + 8),
    ]
    if quick:
        return [phone[1], phone[4], phone[6], dataclasses.replace(phone[3], capture="forwarded")]
    original = [dataclasses.replace(phone[i], capture="original") for i in (1, 2, 6)]
    forwarded = [dataclasses.replace(phone[i], capture="forwarded") for i in (0, 1, 3, 5, 6)]
    return phone + original + forwarded


# --- the pages: denser than the fixture pages, drawn at phone resolution -------------------------------------


_ZH_NOTES = (
    "用药期间应定期检查血压、肝功能及肾功能，如出现异常应及时就医。",
    "驾驶车辆或操作机器者慎用，服药后如出现头晕、乏力应暂停上述活动。",
    "本品应在医师指导下使用，不得自行增加剂量或延长疗程。",
    "如正在使用其他药品，使用本品前请咨询医师或药师。",
    "请将本品放在儿童不能接触的地方，性状发生改变时禁止使用。",
    "老年患者肝肾功能减退，应从小剂量开始，根据反应逐渐调整剂量。",
)
_RX_NOTES = (
    "请按医嘱按时服药，漏服时不要在下次服药时加倍。",
    "服药期间如出现皮疹、呼吸困难等过敏反应，请立即停药并就医。",
    "本处方当日有效，取药后请当面核对药品名称、规格和数量。",
    "慢性病患者请定期复诊，由医师根据血压、血糖及肝肾功能调整用药方案。",
    "药品请放在儿童接触不到的地方，过期或变质的药品请交回药房统一处理。",
    "如同时服用中药、保健品或非处方药，请告知医师或药师，避免重复用药或相互作用。",
    "用药咨询请拨打药学门诊电话，工作日上午八点至下午五点。",
)
_ZH_FIXED = (
    ("【性状】", "本品为白色或类白色片，除去包衣后显白色。", False),
    ("【孕妇及哺乳期妇女用药】", "孕妇及哺乳期妇女应权衡利弊后慎用，哺乳期妇女用药期间应暂停哺乳。", False),
    ("【儿童用药】", "儿童用药的安全性和有效性尚未确立，应在医师指导下使用。", False),
    ("【老年用药】", "老年患者的清除率降低，一般无需调整剂量，但应密切观察。", False),
    ("【药物过量】", "过量服用可能出现严重不良反应，应立即停药并给予对症及支持治疗。", False),
    ("【贮藏】", "遮光，密封，在阴凉干燥处（不超过20℃）保存。", False),
    ("【包装】", "铝塑泡罩包装，每板7片，每盒2板或4板。", False),
    ("【有效期】", "24个月。", False),
    (
        "【药理毒理】",
        "本品通过选择性作用于相应靶点发挥药理作用。动物实验中，大剂量给药可见体重增长减缓及肝脏重量增加，"
        "未见明显致畸作用；遗传毒性试验结果为阴性。长期给药未见致癌性增加。",
        False,
    ),
    (
        "【药代动力学】",
        "口服后吸收良好，血药浓度约在服药后一至四小时达峰，生物利用度不受食物影响。本品主要经肝脏代谢，"
        "代谢产物大部分随尿液排出，少量随粪便排出，消除半衰期约为十至十二小时，连续给药数日后达稳态。",
        False,
    ),
    (
        "【临床试验】",
        "一项多中心、随机、双盲、安慰剂对照试验共入选一千二百例患者，治疗十二周后，本品组的主要疗效指标较基线"
        "显著改善，与安慰剂组相比差异有统计学意义。本品组不良事件发生率为百分之十二点四，安慰剂组为百分之十点八，"
        "因不良事件停药的比例两组相近。亚组分析显示，年龄、性别及基线肾功能对疗效无明显影响。",
        False,
    ),
    (
        "【警示语】",
        "本品含有可能引起过敏反应的成分，既往对同类药物过敏者禁用。用药期间出现严重皮肤反应、肝功能异常或"
        "血液系统异常时，应立即停药并采取相应治疗措施。合并使用抗凝药、降压药或降糖药时应监测相关指标。",
        False,
    ),
)


def _leaflet_zh(rng: random.Random, columns: int) -> tuple[Canvas, list[Drug]]:
    rows = cmekg_rows()
    drug = rng.choice([d for d in DRUGS if d.inn in rows])
    row = rows[drug.inn]
    width, height, size = (1500, 2100, 30) if columns == 1 else (1560, 2200, 26)
    c = Canvas(width, height, rng)
    title = f"{drug.product_zh}说明书"
    tf = c.font(44, bold=True)
    c.text(((width - tf.getlength(title)) / 2, 50), title, tf)
    interactions = "、".join(terms(row["interaction_mentions(药物相互作用)"], 8))
    blocks = [
        ("【药品名称】", "", True),
        ("通用名称：", drug.product_zh, False),
        ("英文名称：", drug.product_en, False),
        ("【成份】", f"本品主要成份为{drug.zh}。辅料为微晶纤维素、羧甲淀粉钠、硬脂酸镁。", False),
        _ZH_FIXED[0],
        ("【适应症】", "用于" + "、".join(terms(row["indications(适应症)"], 10)) + "。", False),
        ("【规格】", drug.strength, False),
        ("【用法用量】", f"口服。一次{drug.usual_dose}，一日{drug.per_day}次，或遵医嘱。", False),
        ("【不良反应】", "、".join(terms(row["adverse_reactions(不良反应)"], 40)) + "等。", False),
        ("【禁忌】", "、".join(terms(row["contraindications(禁忌)"], 8)) or f"对{drug.zh}过敏者禁用。", False),
        ("【注意事项】", "".join(rng.sample(_ZH_NOTES, len(_ZH_NOTES))), False),
        *_ZH_FIXED[1:4],
        *(_ZH_FIXED[8:10] if columns == 1 else ()),
        ("【药物相互作用】", f"与{interactions}合用时应注意。" if interactions else "尚不明确。", False),
        *_ZH_FIXED[4:8],
        *(_ZH_FIXED[8:] if columns == 2 else ()),
        ("【批准文号】", f"国药准字H{rng.randint(1990, 2023)}{rng.randint(0, 9999):04d}", False),
        ("【生产企业】", rng.choice(["华康制药有限公司", "恒瑞达药业股份有限公司", "济民药业有限公司"]), False),
    ]
    _flow(c, blocks, 140, columns, size)
    return c, [drug]


def _leaflet_en(rng: random.Random, columns: int) -> tuple[Canvas, list[Drug]]:
    sections = english_sections()
    drug = rng.choice([d for d in DRUGS if len(sections.get(d.inn, {})) >= 5])
    width, height, size, limit = (1500, 2100, 25, 560) if columns == 1 else (1600, 2200, 20, 620)
    c = Canvas(width, height, rng)
    c.text((60, 50), drug.product_en.upper(), c.font(40, bold=True))
    c.text((60, 110), "Rx only", c.font(26))
    blocks = []
    titles = ("INDICATIONS AND USAGE", "DOSAGE AND ADMINISTRATION", "CONTRAINDICATIONS", "WARNINGS AND PRECAUTIONS")
    for number, heading in enumerate((*titles, "ADVERSE REACTIONS", "DRUG INTERACTIONS"), start=1):
        text = sections[drug.inn].get(heading)
        if text:
            cut = text[:limit]
            blocks.append((f"{number} {heading}", cut[: cut.rfind(" ")] + ".", True))
    _flow(c, blocks, 170, columns, size)
    return c, [drug]


def _package(rng: random.Random, columns: int) -> tuple[Canvas, list[Drug]]:
    """A drug box photographed with its front and side panel: big names on the front, dense text on the side."""
    rows = cmekg_rows()
    drug = rng.choice([d for d in DRUGS if d.inn in rows])
    row = rows[drug.inn]
    c = Canvas(2100, 1500, rng, background=(250, 250, 246))
    band = rng.choice([(0, 120, 110), (30, 80, 160), (170, 40, 50)])
    c.draw.rectangle((0, 0, 820, 50), fill=band)
    c.draw.rectangle((820, 0, 830, 1500), fill=(200, 200, 196))  # the box's edge
    c.text((60, 90), rng.choice(["处方药", "OTC"]), c.font(36, bold=True))
    c.text((60, 170), drug.product_zh, c.font(60 if len(drug.product_zh) < 9 else 48, bold=True))
    c.wrap(drug.product_en, c.font(34), 700)
    for k, part in enumerate(c.wrap(drug.product_en, c.font(34), 700)):
        c.text((60, 270 + 50 * k), part, c.font(34))
    c.text((60, 420), f"规格：{drug.strength}", c.font(38))
    c.text((60, 490), f"{rng.choice([12, 24, 28, 30])}{drug.unit_form}/盒", c.font(38))
    c.text((60, 1300), f"国药准字H{rng.randint(1990, 2023)}{rng.randint(0, 9999):04d}", c.font(30))
    c.text((60, 1360), rng.choice(["华康制药有限公司", "恒瑞达药业股份有限公司"]), c.font(30))
    side = Canvas(1270, 1500, rng, background=(250, 250, 246))
    side.face = c.face
    blocks = [
        ("【成份】", f"本品主要成份为{drug.zh}。", False),
        ("【适应症】", "用于" + "、".join(terms(row["indications(适应症)"], 8)) + "。", False),
        ("【用法用量】", f"口服。一次{drug.usual_dose}，一日{drug.per_day}次，或遵医嘱。", False),
        ("【不良反应】", "、".join(terms(row["adverse_reactions(不良反应)"], 16)) + "等。", False),
        ("【禁忌】", "、".join(terms(row["contraindications(禁忌)"], 6)) or f"对{drug.zh}过敏者禁用。", False),
        ("【注意事项】", "".join(_ZH_NOTES[:3]), False),
        _ZH_FIXED[5],
        _ZH_FIXED[7],
        ("【生产日期】", f"20{rng.randint(22, 25)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}", False),
        ("【产品批号】", f"{rng.randint(100000, 999999)}", False),
    ]
    _flow(side, blocks, 60, 1, 26)
    c.img.paste(side.img.crop((0, 0, 1270, 1500)), (830, 0))
    c.lines += side.lines
    return c, [drug]


def _prescription(rng: random.Random, columns: int) -> tuple[Canvas, list[Drug]]:
    """A hospital prescription with six to eight rows and the pharmacy's notes: about 33 lines at 1500x2100."""
    c = Canvas(1500, 2100, rng)
    hospital = f"{rng.choice(['江州', '临海', '云川', '青山', '北河'])}市第{rng.choice('一二三四五六')}人民医院"
    c.centred(60, hospital, c.font(54, bold=True))
    c.centred(140, "处方笺", c.font(46, bold=True))
    f = c.font(32)
    c.text((80, 240), f"姓名：{_name(rng)}  性别：{rng.choice(['男', '女'])}  年龄：{rng.randint(40, 86)}岁", f)
    c.text(
        (80, 300),
        f"科别：{rng.choice(['心内科', '内分泌科', '全科'])}  日期：2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        f,
    )
    c.text((80, 360), f"临床诊断：{rng.choice(['原发性高血压', '2型糖尿病', '冠心病', '高脂血症'])}", f)
    c.draw.line((70, 420, 1430, 420), fill=(60, 60, 60), width=3)
    c.text((80, 440), "Rp", c.font(46, bold=True))
    drugs = rng.sample(list(DRUGS), rng.randint(6, 8))
    cols, top, row_h = [80, 560, 800, 940, 1430], 520, 74
    table = [["药品名称", "规格", "数量", "用法用量"]]
    for drug in drugs:
        freq_text = rng.choice(FREQUENCIES)[0]
        table.append(
            [
                drug.product_zh,
                drug.strength,
                f"{rng.choice([7, 14, 28])}{drug.unit_form}",
                f"{drug.usual_dose} {rng.choice(['口服', 'po'])} {freq_text}",
            ]
        )
    bottom = c.grid(table, cols, top, row_h, 30, pad=(10, 18), rule=2)
    y = bottom + 40
    c.text((80, y), "用药说明：", c.font(32, bold=True))
    small = c.font(28)
    for note in [*rng.sample(_ZH_NOTES, len(_ZH_NOTES)), *_RX_NOTES]:
        for part in c.wrap(note, small, 1330):
            y += 48
            c.text((80, y), part, small)
    y += 80
    c.text((80, y), f"医师：{_name(rng)}  审核药师：{_name(rng)}  调配：{_name(rng)}", f)
    c.text((80, y + 60), f"核对：{_name(rng)}  金额：{rng.randint(40, 600)}.00元", f)
    _stamp(c, 300, y + 30, 100)
    return c, drugs


_BUILDERS: dict[str, Callable[[random.Random, int], tuple[Canvas, list[Drug]]]] = {
    "leaflet_zh": _leaflet_zh,
    "leaflet_en": _leaflet_en,
    "package": _package,
    "prescription": _prescription,
}


def _scale(img: Image.Image, long_side: int) -> Image.Image:
    ratio = long_side / max(img.size)
    return img.resize((round(img.width * ratio), round(img.height * ratio)), Image.Resampling.LANCZOS)


def _jpeg(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def render(spec: PhotoSpec) -> Photo:
    """Draw a page at phone resolution (2,000-2,200 px) and take it as `spec.capture` says: as the phone saved it
    (a mild photo: tilt, blur, noise, JPEG), as the camera's 12-megapixel original, or forwarded (1,280 px, q75)."""
    rng = random.Random(spec.seed)
    canvas, drugs = _BUILDERS[spec.kind](rng, spec.columns)
    page = canvas.img
    if spec.capture == "original":
        page = _scale(page, ORIGINAL_SIDE)
    img, _, quality = degrade(page, "mild", rng)
    if spec.capture == "phone" and max(img.size) > PHONE_SIDE[1]:
        img = _scale(img, PHONE_SIDE[1])
    if spec.rotation:
        img = img.rotate(-spec.rotation, expand=True)
    if spec.capture == "forwarded":
        img, quality = _scale(img, FORWARDED_SIDE), FORWARDED_QUALITY
    data = _jpeg(img, 92 if spec.capture == "original" else (quality or 85))
    truth = "\n".join(canvas.lines)
    return Photo(spec, data, img.width, img.height, truth, len(canvas.lines), tuple(d.inn for d in drugs))


# --- the measurement ----------------------------------------------------------------------------------------


@dataclass
class PhotoRun:
    """One photo read by each contender."""

    photo: Photo
    stages: dict[str, float]  # the pipeline's timings_ms
    read_ms: float
    answer_ms: float
    bare_ms: float
    cer: float
    bare_cer: float
    recall: float  # share of the page's drugs found in the reading
    lines_read: int

    @property
    def total_ms(self) -> float:
        return self.read_ms + self.answer_ms


def measure(quick: bool = False, repeat: int = 1) -> tuple[list[PhotoRun], dict[str, Any]]:
    """Every photo read by the pipeline (and asked about) and by bare RapidOCR, `repeat` times in turn; the
    median time of the repeats is kept, CER and recall from the first read. Also returns the engine's settings."""
    from rapidocr import RapidOCR

    from app.components import Components
    from app.config import get_settings, ocr_config
    from app.documents import document_context
    from ingestion.intake import Intake
    from ingestion.ocr.rapid import RapidOcrEngine
    from ingestion.pipeline import OcrPipeline, build_pipeline

    components = Components(get_settings())
    config = dataclasses.replace(ocr_config(components.settings), cache_entries=0)  # every read a real read
    pipeline: OcrPipeline = build_pipeline(config, mention_finder=components.lexicon)
    assert isinstance(pipeline.engine, RapidOcrEngine)
    engine = pipeline.engine
    bare: Any = RapidOCR(
        params={
            "Global.log_level": "warning",
            "EngineConfig.onnxruntime.intra_op_num_threads": engine.threads,
            "EngineConfig.onnxruntime.use_cuda": engine.device == "cuda",
        }
    )
    intake = Intake(config.limits)
    photos = [render(spec) for spec in photo_set(quick)]
    # Warm-up: both models, the chain and the lexicon, on a photo of the set.
    components.chain.ask(QUESTIONS["zh"])
    pipeline.read(photos[0].data)
    bare(np.asarray(intake.decode(photos[0].data).pages[0])[:, :, ::-1])
    runs = []
    for photo in photos:
        samples: dict[str, list[float]] = {"read": [], "answer": [], "bare": []}
        stage_samples: list[dict[str, float]] = []
        first_text, bare_text, found = "", "", set[str]()
        lines_read = 0
        for round_ in range(repeat):
            started = time.perf_counter()
            doc = pipeline.read(photo.data, photo.spec.name + ".jpg")
            samples["read"].append(_ms(started))
            started = time.perf_counter()
            context = document_context(photo.spec.name, doc, components.lexicon)
            components.chain.ask(QUESTIONS[photo.spec.lang], documents=[context])
            samples["answer"].append(_ms(started))
            stage_samples.append(doc.timings_ms)
            started = time.perf_counter()
            image = intake.decode(photo.data).pages[0]
            out = bare(np.ascontiguousarray(np.asarray(image)[:, :, ::-1]))
            samples["bare"].append(_ms(started))
            if round_ == 0:
                first_text, bare_text = doc.text, "\n".join(out.txts or ())
                found = {i for d in doc.drugs for i in d.ingredients}
                lines_read = len(doc.lines)
        stages = {k: statistics.median(s.get(k, 0.0) for s in stage_samples) for k in stage_samples[0]}
        run = PhotoRun(
            photo,
            stages,
            statistics.median(samples["read"]),
            statistics.median(samples["answer"]),
            statistics.median(samples["bare"]),
            100 * cer(photo.truth, first_text),
            100 * cer(photo.truth, bare_text),
            sum(d in found for d in photo.drugs) / max(1, len(photo.drugs)),
            lines_read,
        )
        log.warning(
            "photos: %-40s %4dx%-4d %2d lines  read %5.0f ms  answer %4.0f ms  bare %5.0f ms  CER %.2f%% (bare %.2f%%)",
            photo.spec.name,
            photo.width,
            photo.height,
            photo.lines,
            run.read_ms,
            run.answer_ms,
            run.bare_ms,
            run.cer,
            run.bare_cer,
        )
        runs.append(run)
    used = {**dataclasses.asdict(engine.config), "device": engine.device, "threads": engine.threads}
    return runs, used


def figures(runs: list[PhotoRun], settings: dict[str, Any] | None = None) -> list[Figure]:
    """The section's figures: photo -> answer per capture (phone photos with the issue's targets), pipeline vs
    bare RapidOCR, the pipeline's stages, recognition by line count, CER and drug recall."""
    base = {"photos": len(runs), **(settings or {})}
    out: list[Figure] = []
    for capture in ("phone", "original", "forwarded"):
        group = [r for r in runs if r.photo.spec.capture == capture]
        if not group:
            continue
        what = {"phone": "phone photos", "original": "12-megapixel originals", "forwarded": "forwarded copies"}[capture]
        sizes = sorted({f"{r.photo.width}x{r.photo.height}" for r in group})
        s = {**base, "capture": capture, "photos": len(group), "sizes": sizes}
        stage = ANSWER_STAGE if capture == "phone" else f"photo -> answer ({what})"
        targets = ANSWER_TARGETS if capture == "phone" else ()
        out.append(Figure(stage, OURS, "ms", [r.total_ms for r in group], "median", None, targets, s))
        out.append(Figure(f"OCR of one photo ({what})", BARE, "ms", [r.bare_ms for r in group], "median", None, (), s))
        out.append(Figure(f"OCR of one photo ({what})", OURS, "ms", [r.read_ms for r in group], "median", BARE, (), s))
        out.append(Figure(f"CER ({what})", BARE, "%", [r.bare_cer for r in group], "mean", None, (), s))
        out.append(Figure(f"CER ({what})", OURS, "%", [r.cer for r in group], "mean", BARE, (), s))
    for stage in (*STAGES, "answer"):
        samples = [r.answer_ms if stage == "answer" else r.stages.get(stage, 0.0) for r in runs]
        out.append(Figure("stage of a photo (all photos)", stage, "ms", samples, "median", None, (), base))
    for lo, hi in LINE_BUCKETS:
        group = [r for r in runs if lo <= r.photo.lines <= hi]
        if group:
            label = f"{lo}-{hi} lines" if hi < 999 else f"{lo}+ lines"
            s = {**base, "photos": len(group)}
            out.append(
                Figure(
                    "recognition by lines on the page",
                    label,
                    "ms",
                    [r.stages["ocr.recognition"] for r in group],
                    settings=s,
                )
            )
    out.append(Figure("drug recall (all photos)", OURS, "share", [r.recall for r in runs], "mean", None, (), base))
    return out


def table(runs: list[PhotoRun]) -> str:
    """One row per photo: size, lines, each stage, the totals, bare RapidOCR, CER and recall."""
    head = ["photo", "size", "lines", *STAGES, "read", "answer", "photo->answer", BARE, "CER %", "bare CER %", "recall"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        cells = [
            r.photo.spec.name,
            f"{r.photo.width}x{r.photo.height}",
            str(r.photo.lines),
            *(f"{r.stages.get(s, 0.0):.0f}" for s in STAGES),
            f"{r.read_ms:.0f}",
            f"{r.answer_ms:.0f}",
            f"{r.total_ms:.0f}",
            f"{r.bare_ms:.0f}",
            f"{r.cer:.2f}",
            f"{r.bare_cer:.2f}",
            f"{r.recall:.2f}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    phone = [r.total_ms for r in runs if r.photo.spec.capture == "phone"]
    if phone:
        rows.append("")
        rows.append(
            f"Phone photos, photo -> answer: p50 {statistics.median(phone):.0f} ms, "
            f"p95 {percentile(phone, 0.95):.0f} ms; "
            f"all photos: pipeline / bare RapidOCR = "
            f"{statistics.median(r.read_ms for r in runs) / statistics.median(r.bare_ms for r in runs):.2f}"
        )
    return "\n".join(rows)


def run(quick: bool = False) -> tuple[list[Figure], str]:
    """The section for `make bench`: figures and the per-photo table (a note of the report)."""
    runs, used = measure(quick, repeat=1 if quick else 2)
    settings = {"seed": SEED, "repeat": 1 if quick else 2, "ocr": used}
    return figures(runs, settings), table(runs)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
