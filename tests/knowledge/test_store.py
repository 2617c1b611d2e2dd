"""The loaded knowledge base keeps its memory bounded: interaction records read on demand are an LRU, looking up
names that are not there adds nothing, and the threads that read the file share a few connections."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from knowledge import store
from knowledge.interactions import InteractionEngine
from knowledge.lexicon import Lexicon
from knowledge.store import KnowledgeBase


def test_interaction_records_are_kept_within_their_bound(kb_path: Path) -> None:
    kb = KnowledgeBase(kb_path, interaction_cache_size=50)
    ids = sorted(i for i, _ in kb.pairs.values())[:500]
    for interaction_id in ids:
        assert kb.interaction(interaction_id).interaction_id == interaction_id
        assert len(kb._interaction_cache) <= 50
    assert len(kb._interaction_cache) == 50
    # Least recently used goes first: the last 50 read are the ones kept, and a hit refreshes an entry.
    assert list(kb._interaction_cache) == ids[-50:]
    kb.interaction(ids[-50])
    kb.interaction(ids[0])
    assert ids[-50] in kb._interaction_cache and ids[-49] not in kb._interaction_cache


def test_no_interaction_cache_reads_every_record_from_the_file(kb_path: Path) -> None:
    kb = KnowledgeBase(kb_path, interaction_cache_size=0)
    first = next(iter(kb.pairs.values()))[0]
    assert kb.interaction(first) == kb.interaction(first)
    assert len(kb._interaction_cache) == 0


def test_looking_up_unknown_names_adds_nothing(kb: KnowledgeBase, lexicon: Lexicon, engine: InteractionEngine) -> None:
    sizes = (len(kb.names), len(kb.classes_of), len(kb.direct_members), len(kb.class_children))
    for i in range(300):
        lexicon.find_mentions(f"zorblaxin{i} 佐布拉克{i}片")
        engine.check([f"unknownium{i}", f"class:nothing{i}", f"drug:nothing{i}"])
    assert (len(kb.names), len(kb.classes_of), len(kb.direct_members), len(kb.class_children)) == sizes
    # Plain dicts, not defaultdicts: a `kb.names[word]` anywhere would otherwise store an entry per word.
    assert all(type(d) is dict for d in (kb.names, kb.classes_of, kb.direct_members, kb.class_children))


def test_threads_that_come_and_go_share_a_few_connections(kb_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each question runs on new threads (LangChain's parallel steps); they borrow kept connections rather than
    open one each, and no more than IDLE_CONNECTIONS stay open."""
    kb = KnowledgeBase(kb_path, interaction_cache_size=0)
    opened: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def counting(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(store.sqlite3, "connect", counting)
    ids = sorted(i for i, _ in kb.pairs.values())[:64]
    for interaction_id in ids:  # one after another, each on a thread of its own
        thread = threading.Thread(target=kb.interaction, args=(interaction_id,))
        thread.start()
        thread.join()
    assert len(opened) == 0  # the connection that loaded the tables served them all
    with ThreadPoolExecutor(32) as pool:  # many at once: more open for a while, few stay
        list(pool.map(kb.interaction, ids * 4))
    assert len(kb._idle) <= store.IDLE_CONNECTIONS
