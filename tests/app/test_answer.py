"""Taking a deleted document's quotes out of a stored answer."""

from __future__ import annotations

from app.answer import DELETED_SOURCE, QUOTE_CHARS, quoted, without_document

LONG = "与辛伐他汀合用时，辛伐他汀的剂量不应超过每日20mg。" * 12


def _stored(composer: str = "template") -> tuple[str, dict[str, object]]:
    answer = (
        "注意：氨氯地平和辛伐他汀合用有中度相互作用 [1]\n"
        f"  您上传的说明书【药物相互作用】写道：“{quoted(LONG)}” [2]\n"
        "  您上传的说明书【用法用量】写道：“口服，一次5mg” [3]\n请咨询药师。"
    )
    citations = [
        {"id": 1, "source": "ddinter", "text": "Amlodipine may increase simvastatin exposure."},
        {"id": 2, "source": "uploaded document", "text": LONG, "document_id": "d1", "field": "interactions",
         "bbox": [[0, 0], [1, 0], [1, 1], [0, 1]]},
        {"id": 3, "source": "uploaded document", "text": "口服，一次5mg", "document_id": "d2", "field": "dosage"},
    ]  # fmt: skip
    return answer, {"answer": answer, "language": "zh", "composer": composer, "citations": citations}


def test_quotes_and_citations_of_the_deleted_document_go_the_rest_stays() -> None:
    answer, result = _stored()
    assert len(quoted(LONG)) == QUOTE_CHARS + 1
    text, redacted = without_document(answer, result, "d1")
    assert "辛伐他汀的剂量" not in text and "已被删除" in text
    assert text.startswith("注意：氨氯地平和辛伐他汀合用有中度相互作用 [1]") and "[2]" in text
    assert "口服，一次5mg" in text  # another document's quote is not touched
    assert redacted["answer"] == text
    gone = redacted["citations"][1]  # type: ignore[index]
    assert gone == {"id": 2, "source": DELETED_SOURCE, "text": "", "document_id": "d1", "field": "interactions"}
    assert redacted["citations"][2]["text"] == "口服，一次5mg"  # type: ignore[index]
    assert result["citations"][1]["text"] == LONG  # type: ignore[index]  # the input is not changed


def test_an_answer_that_does_not_cite_the_document_is_returned_as_it_is() -> None:
    answer, result = _stored()
    assert without_document(answer, result, "d9") == (answer, result)


def test_a_rephrased_answer_that_cited_the_document_is_replaced_whole() -> None:
    _, result = _stored(composer="llm")
    text, redacted = without_document("辛伐他汀每日不超过20mg，见说明书 [2]。请咨询药师。", result, "d1")
    assert "辛伐他汀" not in text and "已被删除" in text and redacted["answer"] == text
