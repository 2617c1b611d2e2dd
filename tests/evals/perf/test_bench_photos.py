"""The photo set of `make bench-photos`: rendered the same way every run, at the sizes and densities the issue
names, and its figures (photo -> answer against the targets, pipeline vs bare RapidOCR, stages, CER, recall)."""

from __future__ import annotations

import dataclasses

from evals.perf.bench_photos import ANSWER_STAGE, BARE, OURS, STAGES, PhotoRun, figures, photo_set, render, table


def test_the_set_is_dense_phone_photos_originals_and_forwarded_copies() -> None:
    specs = photo_set()
    assert [s.capture for s in specs].count("phone") == 8 and len(specs) == 16
    assert {s.capture for s in specs} == {"phone", "original", "forwarded"}
    assert len(photo_set(quick=True)) == 4 and any(s.rotation == 180 for s in photo_set(quick=True))
    phone = render(specs[1])  # a two-column Chinese leaflet
    assert phone.data == render(specs[1]).data  # the same bytes every run
    assert 2000 <= max(phone.width, phone.height) <= 2200 and phone.lines >= 40 and phone.drugs
    forwarded = render(dataclasses.replace(specs[1], capture="forwarded"))
    assert max(forwarded.width, forwarded.height) == 1280 and forwarded.truth == phone.truth


def test_the_figures_put_the_pipeline_beside_bare_rapidocr() -> None:
    photo = render(photo_set(quick=True)[2])  # a prescription
    stages = {stage: 10.0 for stage in STAGES} | {"ocr.recognition": 300.0}
    runs = [
        PhotoRun(
            photo, stages, read_ms=900 + k, answer_ms=50, bare_ms=2000, cer=0.1, bare_cer=9.0, recall=1.0, lines_read=31
        )
        for k in range(3)
    ]
    figs = {(f.stage, f.contender): f for f in figures(runs)}
    answer = figs[(ANSWER_STAGE, OURS)]
    assert answer.value == 951 and all(t.met(answer.value) for t in answer.targets)  # 2.5 s and the 1.2 s aim
    assert figs[("OCR of one photo (phone photos)", OURS)].baseline == BARE
    assert figs[("stage of a photo (all photos)", "ocr.recognition")].value == 300
    assert figs[("drug recall (all photos)", OURS)].value == 1.0
    assert "| photo | size | lines |" in table(runs) and "p50 951 ms" in table(runs)
