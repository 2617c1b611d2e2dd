"""Property tests: the resolver takes any text a user or an OCR engine can produce without failing, and never
invents ingredients for it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.lexicon import Lexicon

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(text)
def test_resolve_never_fails_and_ingredients_are_known(lexicon: Lexicon, s: str) -> None:
    m = lexicon.resolve(s)
    assert m.recognized == bool(m.ingredients or m.class_ids)
    assert all(i in lexicon.kb.drugs for i in m.ingredients)


@settings(max_examples=300, deadline=None)
@given(text)
def test_mention_spans_point_into_the_text(lexicon: Lexicon, s: str) -> None:
    for m in lexicon.find_mentions(s):
        assert 0 <= m.start < m.end <= len(s)
        assert s[m.start : m.end] == m.text


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["布洛芬", "氨氯地平", "华法林", "二甲双胍"]),
    st.text(alphabet="。，、 \n（）abc123", max_size=8),
)
def test_known_names_are_found_whatever_surrounds_them(lexicon: Lexicon, name: str, noise: str) -> None:
    found = lexicon.find_mentions(noise + name + noise)
    assert any(m.text == name for m in found)
