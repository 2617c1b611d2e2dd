"""Property tests on the field parsers: any text an OCR engine can produce (any script, control characters,
right-to-left marks, half a table) is parsed without an exception, and every way of writing a dosing frequency
that the parser knows round-trips to its code and times per day, whatever surrounds it.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion.fields.classify import classify
from ingestion.fields.leaflet import parse_leaflet
from ingestion.fields.package import parse_package
from ingestion.fields.prescription import normalise_frequency, parse_header, parse_prescription
from ingestion.fields.text import make_rows
from ingestion.ocr.base import OcrLine

# Everything but lone surrogates, weighted towards what prescriptions are made of.
any_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
rx_text = st.text(
    alphabet=st.sampled_from(list("每日一二三四次口服片mgqdbitdhn 0123456789：:【】\u200f\u202e\x00\t必要时晚睡前")),
    max_size=60,
)
line_text = st.one_of(any_text, rx_text)


def page(texts: list[str]) -> tuple[list[OcrLine], list[list[int]]]:
    lines = [
        OcrLine(t, 0.9, [[0, 40 * i], [500, 40 * i], [500, 40 * i + 30], [0, 40 * i + 30]]) for i, t in enumerate(texts)
    ]
    return lines, [[i] for i in range(len(lines))]


@settings(max_examples=300, deadline=None)
@given(line_text)
def test_frequency_and_classifier_take_any_text(text: str) -> None:
    freq = normalise_frequency(text)
    if freq is not None:
        assert freq.text and freq.text in text
        assert freq.times_per_day is None or freq.times_per_day > 0
    assert isinstance(classify(text), str)


@settings(max_examples=150, deadline=None)
@given(st.lists(line_text, max_size=12))
def test_every_parser_takes_any_page(texts: list[str]) -> None:
    lines, rows = page(texts)
    row_objs = make_rows(lines, rows)
    for fields in (parse_leaflet(lines, row_objs), parse_header(lines, row_objs)):
        assert all(isinstance(v.value, str) for v in fields.values())
    fields, medications = parse_prescription(lines, row_objs)
    assert all(isinstance(v.value, str) for v in fields.values())
    fields, medications = parse_package(lines, row_objs)
    assert isinstance(medications, list)


KNOWN = [
    ("qd", "qd", 1),
    ("bid", "bid", 2),
    ("tid", "tid", 3),
    ("qid", "qid", 4),
    ("b.i.d.", "bid", 2),
    ("TWICE DAILY", "bid", 2),
    ("three times a day", "tid", 3),
    ("每日三次", "tid", 3),
    ("一日3次", "tid", 3),
    ("每天两次", "bid", 2),
    ("每日1次", "qd", 1),
    ("每晚一次", "qn", 1),
    ("睡前服用", "qn", 1),
    ("q8h", "q8h", 3),
    ("每12小时一次", "q12h", 2),
    ("every 6 hours", "q6h", 4),
    ("必要时", "prn", None),
    ("prn", "prn", None),
]
# Context that holds no frequency of its own and cannot glue onto a Latin abbreviation.
context = st.text(alphabet=st.sampled_from(list("口服片剂，。 ：【】饭后温水送")), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(KNOWN), context, context)
def test_known_frequencies_round_trip_in_any_context(
    known: tuple[str, str, int | None], before: str, after: str
) -> None:
    written, code, per_day = known
    freq = normalise_frequency(f"{before} {written} {after}")
    assert freq is not None and freq.code == code, (written, freq)
    assert freq.times_per_day == per_day
    assert freq.text.lower() == written.lower() or written.lower().startswith(freq.text.lower())


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=24))
def test_every_n_hours_means_24_over_n_a_day(hours: int) -> None:
    for written in (f"q{hours}h", f"每{hours}小时一次", f"every {hours} hours"):
        freq = normalise_frequency(written)
        assert freq is not None and freq.code == f"q{hours}h" and freq.times_per_day == round(24 / hours, 2)


def test_a_signature_under_its_label_is_the_doctor() -> None:
    lines, rows = page(["北河市第三人民医院", "姓名：张明", "Rp", "阿莫西林胶囊 0.25g 1粒 po tid", "医师", "郭娟"])
    assert parse_header(lines, make_rows(lines, rows))["doctor"].value == "郭娟"
    lines, rows = page(["医师", "阿莫西林胶囊"])  # a drug under the label is no signature
    assert "doctor" not in parse_header(lines, make_rows(lines, rows))


def test_pharmacy_label_pharmacy_patient_and_no_directions_as_english_name() -> None:
    texts = [
        "GREENFIELD DRUG",
        "Rx# 3594502",
        "JAMES BROWN",
        "DIGOXIN TABLETS 0.25 MG",
        "TAKE 1 TABLET BY MOUTH EVERY 8 HOURS",
        "PRESCRIBER: DR. A. PATEL",
    ]
    lines, rows = page(texts)
    fields, _ = parse_package(lines, make_rows(lines, rows))
    assert fields["pharmacy"].value == "GREENFIELD DRUG"
    assert fields["patient_name"].value == "JAMES BROWN"
    assert "english_name" not in fields
    lines, rows = page(["HEALTHY CARE", "DIGOXIN TABLETS 0.25 MG"])  # no Rx number: a box, not a label
    assert "patient_name" not in parse_package(lines, make_rows(lines, rows))[0]
