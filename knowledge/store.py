"""The compiled knowledge base, loaded once into the shapes the lexicon and the engine need.

Names, drugs, classes and the pair index live in memory (a few MB); interaction texts and sources are read from
the SQLite file on demand, so loading stays well under a second.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from knowledge.build import SCHEMA_VERSION
from knowledge.errors import KnowledgeBaseMissing
from knowledge.models import Interaction, Severity, SourceRef
from knowledge.severity import SourceGrade


@dataclass(frozen=True)
class NameEntry:
    display: str
    lang: str
    kind: str  # generic | synonym | brand | product | class
    targets: tuple[str, ...]  # ingredient ids, or one class id when kind == "class"
    source: str


@dataclass(frozen=True)
class DrugInfo:
    id: str
    name_zh: str | None
    atc_codes: tuple[str, ...]
    ddd: float | None
    ddd_unit: str | None


@dataclass(frozen=True)
class Passage:
    id: str
    kind: str
    section: str
    lang: str
    title: str
    text: str
    source: str
    record: str
    license: str
    refs: tuple[str, ...]


DEFAULT_INTERACTION_CACHE = 4096
IDLE_CONNECTIONS = 8


class KnowledgeBase:
    """Read access to one compiled knowledge base file. Thread-safe for reads."""

    def __init__(self, path: Path, interaction_cache_size: int = DEFAULT_INTERACTION_CACHE) -> None:
        """
        Args:
            path: the compiled SQLite file (`rxlens kb build`).
            interaction_cache_size: interactions kept in memory once read, least recently used dropped first
                (about 1 KB each; 0 reads every one from the file).
        """
        path = Path(path)
        if not path.exists():
            raise KnowledgeBaseMissing(f"No knowledge base at {path}. Build it with `rxlens kb build` (or `make kb`).")
        self.path = path
        self._idle: list[sqlite3.Connection] = []
        self._idle_lock = threading.Lock()
        # Interaction rows are immutable, and the same few pairs are asked about again and again.
        self.interaction_cache_size = interaction_cache_size
        self._interaction_cache: OrderedDict[int, Interaction] = OrderedDict()
        self._cache_lock = threading.Lock()
        with self._connection() as con:
            self._read_tables(con)

    def _read_tables(self, con: sqlite3.Connection) -> None:
        version = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if not version or version[0] != SCHEMA_VERSION:
            raise KnowledgeBaseMissing(
                f"The knowledge base at {self.path} is from another version. Rebuild it with `rxlens kb build --force`."
            )
        self.input_hash = con.execute("SELECT value FROM meta WHERE key='input_hash'").fetchone()[0]
        self.names: dict[str, list[NameEntry]] = defaultdict(list)
        for norm_, display, lang, kind, targets, source in con.execute(
            "SELECT norm, display, lang, kind, targets, source FROM names"
        ):
            self.names[norm_].append(NameEntry(display, lang, kind, tuple(targets.split("|")), source))
        self.drugs: dict[str, DrugInfo] = {
            r[0]: DrugInfo(r[0], r[1], tuple((r[2] or "").split()), r[3], r[4])
            for r in con.execute("SELECT id, name_zh, atc_codes, ddd, ddd_unit FROM drugs")
        }
        self.class_names: dict[str, tuple[str, str]] = {
            r[0]: (r[1], r[2]) for r in con.execute("SELECT id, name_en, name_zh FROM classes")
        }
        self.class_children: dict[str, list[str]] = defaultdict(list)
        for parent, child in con.execute("SELECT class_id, child_id FROM class_includes"):
            self.class_children[parent].append(child)
        self.direct_members: dict[str, set[str]] = defaultdict(set)
        self.classes_of: dict[str, set[str]] = defaultdict(set)
        for class_id, drug in con.execute("SELECT DISTINCT class_id, drug_id FROM class_members"):
            self.direct_members[class_id].add(drug)
            self.classes_of[drug].add(class_id)
        # Plain dicts once loaded: looking up a name that is not there must not add an empty entry for it (the
        # memory would grow with every distinct word users send).
        self.names = dict(self.names)
        # Fixed-dose products our curated list names (Hyzaar = losartan + hydrochlorothiazide): each pair of their
        # ingredients is a combination the product's label approves (knowledge/severity.py, rule 6).
        # An English brand is preferred, then the first in alphabetical order, so the name is stable across builds.
        self.combinations: dict[frozenset[str], str] = {}
        products = sorted(
            (e.lang != "en", e.display, e.targets)
            for entries in self.names.values()
            for e in entries
            if e.source == "rxlens_curated" and e.kind == "brand" and len(e.targets) > 1
        )
        for _, display, targets in products:
            for i, x in enumerate(targets):
                for y in targets[i + 1 :]:
                    self.combinations.setdefault(frozenset((x, y)), display)
        self.class_children = dict(self.class_children)
        self.direct_members = dict(self.direct_members)
        self.classes_of = dict(self.classes_of)
        severities = {s.value: s for s in Severity}
        self.pairs: dict[tuple[str, str], tuple[int, Severity]] = {
            (a, b): (i, severities[s]) for i, a, b, s in con.execute("SELECT id, a, b, severity FROM interactions")
        }
        # Every entity ("drug:x" / "class:y") some source holds an interaction record for: a drug outside it has
        # no interaction data at all, which is not the same as "no interaction known".
        self._covered: frozenset[str] = frozenset(e for pair in self.pairs for e in pair)
        self.sources: dict[str, tuple[str, str]] = {
            r[0]: (r[1], r[2]) for r in con.execute("SELECT name, title, license FROM sources")
        }

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection, borrowed from a few kept open. Not one per thread: the threads that read come
        and go (LangChain starts new ones for every question), and each would open a connection, fill its page
        cache and drop it again."""
        try:
            con = self._idle.pop()  # atomic: no lock on the way out, taken for every record read
        except IndexError:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        try:
            yield con
        finally:
            with self._idle_lock:
                kept = len(self._idle) < IDLE_CONNECTIONS
                if kept:
                    self._idle.append(con)
            if not kept:
                con.close()

    def members(self, class_id: str) -> set[str]:
        """All ingredients of a class, through its sub-classes."""
        out = set(self.direct_members.get(class_id, ()))
        for child in self.class_children.get(class_id, ()):
            out |= self.members(child)
        return out

    def leaf_classes(self, class_id: str) -> list[str]:
        """The class itself plus its direct sub-classes: the groups a class-word finding is reported by."""
        return [class_id, *self.class_children.get(class_id, ())]

    def pair(self, x: str, y: str) -> tuple[int, Severity] | None:
        """Look up an entity pair ("drug:a", "class:b"), in either order."""
        return self.pairs.get((x, y) if x < y else (y, x))

    def combined_in(self, a: str, b: str) -> str:
        """A fixed-dose product holding both ingredients (its brand name), or "" when our list knows none."""
        return self.combinations.get(frozenset((a, b)), "")

    def has_interaction_data(self, ingredient: str) -> bool:
        """Whether any source holds an interaction record for this ingredient, directly or through one of its
        classes (the same places `InteractionEngine.pair` looks)."""
        if f"drug:{ingredient}" in self._covered:
            return True
        return any(f"class:{c}" in self._covered for c in self.classes_of.get(ingredient, ()))

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._interaction_cache.clear()

    def interaction(self, interaction_id: int) -> Interaction:
        with self._cache_lock:
            cached = self._interaction_cache.get(interaction_id)
            if cached is not None:
                self._interaction_cache.move_to_end(interaction_id)
                return cached
        found = self._read_interaction(interaction_id)
        if self.interaction_cache_size > 0:
            with self._cache_lock:
                self._interaction_cache[interaction_id] = found
                while len(self._interaction_cache) > self.interaction_cache_size:
                    self._interaction_cache.popitem(last=False)
        return found

    def _read_interaction(self, interaction_id: int) -> Interaction:
        with self._connection() as con:
            row = con.execute(
                "SELECT a, b, severity, summary, mechanism, management, evidence, agreeing, explained "
                "FROM interactions WHERE id=?",
                (interaction_id,),
            ).fetchone()
            source_rows = con.execute(
                "SELECT source, record, license, severity_word, grade, kind, explained FROM interaction_sources "
                "WHERE interaction_id=? ORDER BY source, record",
                (interaction_id,),
            ).fetchall()
        sources = tuple(SourceRef(name, record, license_, word) for name, record, license_, word, *_ in source_rows)
        grades = tuple(
            SourceGrade(name, record, Severity(grade), kind, bool(explained))
            for name, record, _, _, grade, kind, explained in source_rows
        )
        return Interaction(
            a=row[0],
            b=row[1],
            severity=Severity(row[2]),
            summary=row[3] or "",
            mechanism=row[4] or "",
            management=row[5] or "",
            sources=sources,
            interaction_id=interaction_id,
            evidence=row[6],
            agreeing=tuple(k for k in row[7].split("|") if k),
            explained=bool(row[8]),
            grades=grades,
        )

    def interaction_zh(self, interaction_id: int) -> tuple[str, str]:
        with self._connection() as con:
            row = con.execute(
                "SELECT summary_zh, management_zh FROM interactions WHERE id=?", (interaction_id,)
            ).fetchone()
        return (row[0] or "", row[1] or "") if row else ("", "")

    def passages(self, refs: list[str] | None = None) -> list[Passage]:
        """Passages about any of `refs` ("drug:x", "class:y"), or all passages when refs is None. With refs, only
        those passages and their refs are read (the answer chain asks this for one drug per question)."""
        where, args = "", list(refs or ())
        if refs is not None:
            marks = ",".join("?" * len(refs))
            where = f" WHERE id IN (SELECT passage_id FROM passage_refs WHERE ref IN ({marks}))"
        with self._connection() as con:
            rows = con.execute(
                "SELECT id, kind, section, lang, title, text, source, record, license FROM passages"
                + where
                + " ORDER BY id",
                args,
            ).fetchall()
            ref_map: dict[str, list[str]] = defaultdict(list)
            wanted = f"WHERE passage_id IN (SELECT id FROM passages{where})" if where else ""
            for pid, ref in con.execute(f"SELECT passage_id, ref FROM passage_refs {wanted}", args):
                ref_map[pid].append(ref)
        out = [
            Passage(pid, kind, section, lang, title, text, source, record, license_, tuple(ref_map.get(pid, ())))
            for pid, kind, section, lang, title, text, source, record, license_ in rows
        ]
        return out
