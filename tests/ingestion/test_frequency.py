"""Dosing frequencies as prescriptions write them, normalised to one code and a count per day."""

from __future__ import annotations

import pytest

from ingestion.fields.prescription import normalise_frequency, parse_medication
from ingestion.fields.text import Row
from ingestion.ocr.base import OcrLine, quad_from_rect


@pytest.mark.parametrize(
    ("written", "code", "per_day"),
    [
        ("qd", "qd", 1),
        ("QD", "qd", 1),
        ("bid", "bid", 2),
        ("tid", "tid", 3),
        ("qid", "qid", 4),
        ("q8h", "q8h", 3),
        ("q12h", "q12h", 2),
        ("q6h", "q6h", 4),
        ("qn", "qn", 1),
        ("prn", "prn", None),
        ("每日三次", "tid", 3),
        ("一日3次", "tid", 3),
        ("每日2次", "bid", 2),
        ("每日两次", "bid", 2),
        ("每天一次", "qd", 1),
        ("一日四次", "qid", 4),
        ("每8小时一次", "q8h", 3),
        ("每晚一次", "qn", 1),
        ("睡前服", "qn", 1),
        ("必要时", "prn", None),
        ("隔日一次", "qod", 0.5),
        ("TAKE 1 TABLET BY MOUTH TWICE DAILY", "bid", 2),
        ("three times a day", "tid", 3),
        ("EVERY 12 HOURS", "q12h", 2),
        ("AT BEDTIME", "qn", 1),
        ("AS NEEDED FOR PAIN", "prn", None),
        ("2 times daily", "bid", 2),
    ],
)
def test_normalise_frequency(written: str, code: str, per_day: float | None) -> None:
    freq = normalise_frequency(f"一次1片 口服 {written}")
    assert freq is not None
    assert (freq.code, freq.times_per_day) == (code, per_day)
    assert freq.as_needed == (code == "prn") and freq.at_night == (code == "qn")


@pytest.mark.parametrize("text", ["口服", "Acid reflux, bidirectional effect", "qdx", "每日"])
def test_no_frequency_is_invented(text: str) -> None:
    assert normalise_frequency(text) is None


def test_first_frequency_wins() -> None:
    freq = normalise_frequency("每日三次，必要时加服")
    assert freq is not None and freq.code == "tid"


def _row(*cells: str) -> tuple[Row, list[OcrLine]]:
    lines = [OcrLine(c, 0.95, quad_from_rect(100 * i, 0, 100 * i + 90, 30)) for i, c in enumerate(cells)]
    return Row(tuple(range(len(cells))), cells), lines


def test_table_row_is_split_into_its_parts() -> None:
    row, lines = _row("苯磺酸氨氯地平片", "5mg", "28片", "5mg 口服 每日一次 共7天")
    med = parse_medication(row, lines)
    assert med is not None
    assert (med.name, med.strength, med.quantity, med.dose, med.route) == (
        "苯磺酸氨氯地平片",
        "5mg",
        "28片",
        "5mg",
        "口服",
    )
    assert (med.frequency, med.times_per_day, med.duration) == ("qd", 1, "7天")
    assert med.confidence == 0.95 and len(med.boxes) == 4


def test_free_text_prescription_line() -> None:
    row, lines = _row("阿莫西林胶囊 0.25g×24粒 Sig: 0.5g po tid ×7d")
    med = parse_medication(row, lines)
    assert med is not None
    assert (med.strength, med.quantity, med.dose, med.route, med.frequency, med.duration) == (
        "0.25g",
        "24粒",
        "0.5g",
        "po",
        "tid",
        "7d",
    )


def test_a_row_without_name_or_dosing_is_not_a_medication() -> None:
    assert parse_medication(*_row("医师：王芳", "金额：56.80元")) is None
    assert parse_medication(*_row("临床诊断：高血压")) is None
