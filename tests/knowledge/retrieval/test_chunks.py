from __future__ import annotations

from knowledge.retrieval.chunks import MAX_CHUNK_CHARS, Chunk, document_chunks, kb_chunks, split_text
from knowledge.store import KnowledgeBase


def test_split_keeps_chinese_and_english_sentences_whole() -> None:
    text = (
        "华法林会增加出血风险。请定期检查INR！Take it at the same time each day. Do not double a dose? 如有黑便请就医。"
    )
    pieces = split_text(text, max_chars=40)
    assert len(pieces) > 1
    assert all(len(p) <= 40 for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    for piece in pieces:
        assert piece.endswith(("。", "！", ".", "?")), piece


def test_split_does_not_cut_decimals_and_hard_cuts_run_on_text() -> None:
    assert split_text("Take 2.5 mg daily. Then 5 mg.", 20) == ["Take 2.5 mg daily.", "Then 5 mg."]
    run_on = "头痛、" * 100
    pieces = split_text(run_on, 120)
    assert all(len(p) <= 120 for p in pieces) and "".join(pieces) == run_on.strip()
    assert split_text("  ", 10) == []


def test_kb_chunks_cover_every_passage_with_unique_ids(kb: KnowledgeBase) -> None:
    passages = kb.passages()
    chunks = kb_chunks(kb)
    assert len({c.id for c in chunks}) == len(chunks)
    assert {c.passage_id for c in chunks} == {p.id for p in passages}
    assert all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert all(c.owner is None and c.document_id is None for c in chunks)
    split = [c for c in chunks if c.id != c.passage_id]
    assert split, "some passages are longer than one chunk"
    assert all(c.refs for c in chunks)


def test_document_chunks_carry_owner_field_and_boxes_and_round_trip_json() -> None:
    box = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))
    chunks = document_chunks(
        owner="alice",
        document_id="d1",
        field="usage",
        text="口服。一次1片，一日1次。",
        lang="zh",
        title="苯磺酸氨氯地平片",
        refs=("drug:amlodipine",),
        boxes=(box,),
    )
    assert [c.id for c in chunks] == ["doc:d1:usage"]
    c = chunks[0]
    assert (c.owner, c.document_id, c.field, c.section, c.boxes) == ("alice", "d1", "usage", "usage", (box,))
    assert Chunk.from_json(c.to_json()) == c
