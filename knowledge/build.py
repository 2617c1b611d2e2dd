"""`rxlens kb build`: compile the sources under knowledge/data/ into one SQLite knowledge base.

The build is deterministic (sorted inserts, no timestamps; the meta table records a hash of the inputs) and
idempotent (it writes a temporary file and renames it over the old one, and skips work when the inputs and
options are unchanged). Every row it writes names its source; `exclude_noncommercial` drops the sources whose
licence forbids commercial use (DDInter, WHO ATC) before anything is merged.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from knowledge.normalize import core_forms, has_cjk, norm
from knowledge.severity import Reconciled, SourceGrade, reconcile
from knowledge.sources import ansm, atc, chinese, curated, ddinter, drugbank, fda_unii, labels, mcp_rules, ndfrt, onc
from knowledge.sources.catalog import DATA_DIR, SOURCES
from knowledge.sources.records import ClassDef, NameRecord, PairRecord, PassageRecord
from knowledge.stats import table_counts

SCHEMA_VERSION = "2"  # 2: evidence, agreeing, explained; each source's grade and kind

# DrugBank's common name is the canonical id except where the INN (or the name every caregiver uses) differs.
CANONICAL_OVERRIDES = {"DB00316": "paracetamol", "DB00945": "aspirin", "DB01356": "lithium"}
# A salt entry of DrugBank is the same medicine as its parent ("lithium carbonate" is lithium, "fentanyl citrate"
# is fentanyl): interaction records are filed under either, so both must be one ingredient. Salts of these mineral
# ions stay ingredients of their own (calcium carbonate is an antacid, not "calcium").
MINERALS = {
    "calcium",
    "magnesium",
    "sodium",
    "potassium",
    "iron",
    "ferrous",
    "ferric",
    "zinc",
    "aluminium",
    "aluminum",
    "barium",
    "silver",
    "bismuth",
}
# ... and salts whose anion is the medicine: choline salicylate is a salicylate (an NSAID), not choline.
ACTIVE_ANIONS = {"salicylate"}

# When several sources explain the same pair, the text comes from the most explanatory one.
TEXT_PRIORITY = [
    "rxlens_curated",
    "drug_interaction_mcp",
    "ansm",  # explained, in French: after the English explanations
    "ndfrt",
    "onc_high_priority",
    "onc_non_interruptive",
    "ddinter",
]

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (name TEXT PRIMARY KEY, title TEXT, license TEXT, commercial INTEGER, url TEXT);
CREATE TABLE drugs (id TEXT PRIMARY KEY, name_en TEXT NOT NULL, name_zh TEXT, drugbank_id TEXT,
                    atc_codes TEXT, ddd REAL, ddd_unit TEXT);
CREATE TABLE names (norm TEXT NOT NULL, display TEXT NOT NULL, lang TEXT NOT NULL, kind TEXT NOT NULL,
                    targets TEXT NOT NULL, source TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX names_norm ON names(norm);
CREATE TABLE classes (id TEXT PRIMARY KEY, name_en TEXT NOT NULL, name_zh TEXT NOT NULL);
CREATE TABLE class_includes (class_id TEXT NOT NULL, child_id TEXT NOT NULL);
CREATE TABLE class_members (class_id TEXT NOT NULL, drug_id TEXT NOT NULL, source TEXT NOT NULL);
CREATE TABLE interactions (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b TEXT NOT NULL, severity TEXT NOT NULL,
                           summary TEXT, mechanism TEXT, management TEXT, summary_zh TEXT, management_zh TEXT,
                           evidence TEXT NOT NULL, agreeing TEXT NOT NULL, explained INTEGER NOT NULL);
CREATE UNIQUE INDEX interactions_pair ON interactions(a, b);
CREATE TABLE interaction_sources (interaction_id INTEGER NOT NULL, source TEXT NOT NULL, record TEXT NOT NULL,
                                  license TEXT NOT NULL, severity_word TEXT NOT NULL,
                                  grade TEXT NOT NULL, kind TEXT NOT NULL, explained INTEGER NOT NULL);
CREATE INDEX interaction_sources_id ON interaction_sources(interaction_id);
CREATE TABLE passages (id TEXT PRIMARY KEY, kind TEXT NOT NULL, section TEXT, lang TEXT NOT NULL, title TEXT,
                       text TEXT NOT NULL, source TEXT NOT NULL, record TEXT NOT NULL, license TEXT NOT NULL);
CREATE TABLE passage_refs (passage_id TEXT NOT NULL, ref TEXT NOT NULL);
CREATE INDEX passage_refs_ref ON passage_refs(ref);
"""

# Ingredients that stand in a product's 成份 list as excipients (buffers, preservatives, tonicity agents).
EXCIPIENT_ENTITIES = frozenset(
    f"drug:{name}"
    for name in (
        "benzyl alcohol",
        "sodium bicarbonate",
        "sorbitol",
        "citric acid",
        "sodium citrate",
        "sodium chloride",
        "polysorbate 80",
        "mannitol",
        "sucrose",
        "trehalose",
        "histidine",
        "edetic acid",
        "glycine",
        "sodium hydroxide",
        "hydrochloric acid",
    )
)


@dataclass
class BuildReport:
    path: Path
    skipped: bool
    counts: dict[str, int] = field(default_factory=dict)
    unresolved: dict[str, int] = field(default_factory=dict)


def input_hash(exclude_noncommercial: bool) -> str:
    h = hashlib.sha256(f"{SCHEMA_VERSION}|{exclude_noncommercial}".encode())
    for path in sorted(p for p in DATA_DIR.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(DATA_DIR)).encode())
        h.update(path.read_bytes())
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


def _explains(r: PairRecord) -> bool:
    return bool(r.mechanism or r.management)


def _not_synonyms() -> set[tuple[str, str]]:
    """DrugBank synonyms that name another medicine (curated/not_synonyms.csv): (norm(name), DrugBank id)."""
    with open(DATA_DIR / "curated" / "not_synonyms.csv", encoding="utf-8", newline="") as f:
        return {(norm(r["name"]), r["drugbank_id"]) for r in csv.DictReader(f)}


class _Merged:
    """An interaction being merged across sources."""

    def __init__(self) -> None:
        self.records: list[PairRecord] = []

    def grades(self) -> list[SourceGrade]:
        """Each source record's grade once (a rule expanded over a brand and its generic is one record)."""
        out: dict[tuple[str, str], SourceGrade] = {}
        for r in sorted(self.records, key=lambda r: (r.source, r.record)):
            out.setdefault((r.source, r.record), SourceGrade.of(r.source, r.record, r.severity, _explains(r)))
        return list(out.values())

    def reconciled(self) -> Reconciled:
        """Sources weighed by kind (knowledge/severity.py): a label's major is never lowered, a bare database
        grade never outranks a label, an ONC non-interruptive pair is at most moderate."""
        return reconcile(self.grades())

    def text(self, attr: str) -> str:
        for name in TEXT_PRIORITY:
            for r in sorted(self.records, key=lambda r: r.record):
                value = getattr(r, attr)
                if r.source == name and value:
                    return str(value)
        return ""


class Builder:
    def __init__(self, exclude_noncommercial: bool = False) -> None:
        self.allowed = {n for n, s in SOURCES.items() if s.commercial or not exclude_noncommercial}
        self.vocab: dict[str, str] = {}  # drugbank id -> canonical id
        self.db_of: dict[str, str] = {}  # canonical id -> drugbank id
        self.en_index: dict[str, set[str]] = defaultdict(set)  # norm(english name) -> drugbank ids
        self.en_primary: dict[str, str] = {}  # norm(common name) -> drugbank id
        self.used: set[str] = set()  # drugbank ids that some source refers to
        self.classes: list[ClassDef] = []
        self.class_alias: dict[str, str] = {}
        self.names: dict[tuple[str, str, str], NameRecord] = {}
        self.zh_name: dict[str, str] = {}
        self.atc_codes: dict[str, set[str]] = defaultdict(set)
        self.ddd: dict[str, tuple[float, str]] = {}
        self.members: set[tuple[str, str, str]] = set()
        self.pairs: dict[tuple[str, str], _Merged] = defaultdict(_Merged)
        self.passages: list[tuple[PassageRecord, str, tuple[str, ...]]] = []
        self.unresolved: Counter[str] = Counter()
        self.curated_names: dict[str, tuple[str, ...]] = {}
        self.synonyms: dict[str, tuple[str, ...]] = {}
        self.zh_index: dict[str, tuple[str, ...]] = {}  # norm(chinese name) -> canonical ids
        self.zh_not_names: set[str] = set()
        self.zh_passage_done: set[str] = set()
        self.wiki_codes = {code for code, _, _ in chinese.wikipedia_atc()}

    # ---- resolution of refs -------------------------------------------------------------------------

    def resolve(self, ref: str, context: str) -> list[str]:
        """A ref to entity ids: "drug:<canonical>" or "class:<id>". Empty when nothing matches."""
        if ref.startswith("db:"):
            db = ref[3:]
            if db in self.vocab:
                self.used.add(db)
                return [f"drug:{self.vocab[db]}"]
            self.unresolved[context] += 1
            return []
        if ref.startswith("class:"):
            return [ref]
        name = ref[5:]
        found = self._resolve_name(name, depth=0)
        if not found:
            self.unresolved[context] += 1
        return found

    def _resolve_name(self, name: str, depth: int) -> list[str]:
        key = norm(name)
        if key in self.curated_names and depth == 0:
            out = [e for t in self.curated_names[key] for e in self._resolve_name(t, depth + 1)]
            if out:
                return out
        if key in self.class_alias:
            return [f"class:{self.class_alias[key]}"]
        for k in core_forms(name):
            db = self.en_primary.get(k)
            if db is None:
                ids = self.en_index.get(k, set())
                db = min(ids) if len(ids) == 1 else None
            if db is not None:
                self.used.add(db)
                return [f"drug:{self.vocab[db]}"]
        if has_cjk(name):
            for k in core_forms(name):
                hit = self.zh_index.get(k)
                if hit:
                    return [f"drug:{h}" for h in hit]
        return []

    # ---- steps ---------------------------------------------------------------------------------------

    def load_vocabulary(self) -> None:
        wrong = _not_synonyms()
        salts = []
        for d in drugbank.load_vocabulary():
            if d.is_salt:
                salts.append(d)
            canonical = CANONICAL_OVERRIDES.get(d.drugbank_id, d.name.lower())
            self.vocab[d.drugbank_id] = canonical
            self.db_of.setdefault(canonical, d.drugbank_id)
            self.en_primary.setdefault(norm(d.name), d.drugbank_id)
            self.en_primary.setdefault(norm(canonical), d.drugbank_id)
            self.synonyms[d.drugbank_id] = tuple(s for s in d.synonyms if (norm(s), d.drugbank_id) not in wrong)
            for s in self.synonyms[d.drugbank_id]:
                self.en_index[norm(s)].add(d.drugbank_id)
        for d in salts:
            words = d.name.lower().split()
            parent = " ".join(words[:-1])
            if len(words) < 2 or words[0] in MINERALS or words[-1] in ACTIVE_ANIONS:
                continue
            ids = self.en_index.get(norm(parent), set())
            parent_db = self.en_primary.get(norm(parent)) or (min(ids) if len(ids) == 1 else None)
            if parent_db and parent_db != d.drugbank_id:
                self.vocab[d.drugbank_id] = self.vocab[parent_db]

    def load_classes(self) -> None:
        self.classes = curated.load_classes()
        for c in self.classes:
            for alias in (c.class_id, c.name_en, *c.aliases_en, *c.aliases_zh):
                self.class_alias.setdefault(norm(alias), c.class_id)
        for r in curated.load_names():
            self.curated_names[norm(r.name)] = tuple(t[5:] for t in r.targets)
        self.zh_not_names = {norm(n) for n in curated.zh_not_names()}

    def add_name(self, rec: NameRecord, entities: Iterable[str]) -> None:
        ids = tuple(sorted({e[5:] for e in entities if e.startswith("drug:")}))
        if not ids or rec.source not in self.allowed:
            return
        key = (norm(rec.name), rec.kind, "|".join(ids))
        if not key[0] or key in self.names or (rec.lang == "zh" and key[0] in self.zh_not_names):
            return
        if rec.source != "rxlens_curated" and key[0] in self.curated_names:
            return  # a curated name is a correction of the other sources (拜新同 is nifedipine, not nicardipine)
        self.names[key] = NameRecord(rec.name, rec.lang, rec.kind, ids, rec.source, rec.record)
        if rec.lang == "zh":
            self.zh_index.setdefault(key[0], ids)
            if rec.kind == "generic" and len(ids) == 1:
                self.zh_name.setdefault(ids[0], rec.name)

    def load_chinese(self) -> None:
        for rec in curated.load_names():
            if rec.kind == "source_spelling":
                continue  # a source's misspelling: resolves that source's rows, never offered to users
            self.add_name(rec, [e for t in rec.targets for e in self.resolve(t, "curated names")])
        for rec in chinese.cmekg_inn_pairs():
            self.add_name(rec, self.resolve(rec.targets[0], "cmekg inn pairs"))
        for code, zh, en in chinese.wikipedia_atc():
            ents = self.resolve(f"name:{en}", "wikipedia atc")
            self.add_name(NameRecord(zh, "zh", "generic", (), "wikipedia_atc_zh", code), ents)
            for e in ents:
                if "wikipedia_atc_zh" in self.allowed:
                    self.atc_codes[e[5:]].add(code)
        for rec in chinese.cedict_names():
            self.add_name(rec, self.resolve(rec.targets[0], "cedict"))
        for r in chinese.yuanyanyao():
            ents = self.resolve(f"name:{r['productNameEn']}", "yuanyanyao") or self._resolve_name(r["genericName"], 0)
            rec_id = f"yuanyanyao_drugs.csv id {r['id']}"
            for name, lang, kind in (
                (r["genericName"], "zh", "generic"),
                (r["productName"], "zh", "product"),
                (r["brandName"], "zh", "brand"),
                (r["brandNameEn"], "en", "brand"),
                (r["productNameEn"], "en", "product"),
            ):
                if name:
                    self.add_name(NameRecord(name, lang, kind, (), "yuanyanyao", rec_id), ents)
        self._load_cmekg_products()

    def load_brands(self) -> None:
        """Brand names of other sources (FDA UNII), after the curated and Chinese names they must not override."""
        for rec in fda_unii.load_names():
            self.add_name(rec, [e for t in rec.targets for e in self.resolve(t, rec.source)])

    def _load_cmekg_products(self) -> None:
        brand_votes: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
        stem_votes: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
        brand_record: dict[str, str] = {}
        for i, row in enumerate(chinese.cmekg_products(), start=2):
            if row.get("tcm_like") == "True":
                continue
            zh = row["zh_name"].strip()
            ents = self._resolve_name(zh, 0)
            trusted_brands = True
            generic = row.get("generic_name_zh(通用名)", "").split(" | ")[0].strip()
            if not ents and generic:
                ents = self._resolve_name(generic, 0)
            if not ents:  # a combination product: its active ingredients
                found = []
                for cand in chinese.product_active_candidates(row):
                    found += self._resolve_name(cand, 0)
                # CMeKG lists an injection's buffers and preservatives among its 成份 (修美乐: citric acid and
                # sorbitol, not adalimumab): they are never the product's active ingredients.
                active = sorted(set(found) - EXCIPIENT_ENTITIES)
                ents = active if len(active) >= 2 or (active and len(active) < len(set(found))) else []
                # Such a row's 商品名 list is no evidence for its brands (甲泼尼龙 listed with 优泌乐, insulin lispro).
                trusted_brands = len(active) == len(set(found))
            if not ents and not chinese.looks_combined(row):  # "Clopidogrel Bisulfate Tablets"
                ents = next((e for en in row["en_names"].split(" | ") if (e := self._resolve_name(en, 0))), [])
            if not ents:
                self.unresolved["cmekg products"] += 1
                continue
            key = tuple(sorted(ents))
            record = f"cmekg_drug_products.csv:{i}"
            self.add_name(NameRecord(zh, "zh", "product", (), "cmekg", record), ents)
            for brand in row.get("brand_names_zh(商品名)", "").split(" | ") if trusted_brands else ():
                brand = brand.strip()
                if 2 <= len(brand) <= 10 and brand != zh:
                    brand_votes[brand][key] += 1
                    brand_record.setdefault(brand, record)
            if len(ents) == 1:
                self._product_passages(row, ents[0], record)
                for name in (zh, generic):  # 硫酸氢氯吡格雷片 -> 氯吡格雷, the name people use
                    stem = core_forms(name)[-1] if name else ""
                    if len(stem) >= 3 and has_cjk(stem):
                        stem_votes[stem][key] += 1
                        brand_record.setdefault(stem, record)
        for brand, votes in sorted(brand_votes.items()):
            (best, n), *rest = votes.most_common()
            if rest and rest[0][1] == n:
                continue  # a brand claimed by two different products: ambiguous, left out
            self.add_name(NameRecord(brand, "zh", "brand", (), "cmekg", brand_record[brand]), best)
        for stem, votes in sorted(stem_votes.items()):
            if len(votes) > 1 or stem in self.zh_index or stem in self.class_alias:
                continue  # two drugs share the stem, or it already names something: left out
            self.add_name(NameRecord(stem, "zh", "generic", (), "cmekg", brand_record[stem]), next(iter(votes)))

    def _product_passages(self, row: dict[str, str], entity: str, record: str) -> None:
        fields = {
            "contraindications(禁忌)": ("contraindications", "禁忌"),
            "interaction_mentions(药物相互作用)": ("drug_interactions", "药物相互作用"),
            "dosage(用法用量)": ("dosage_and_administration", "用法用量"),
            "adverse_reactions(不良反应)": ("adverse_reactions", "不良反应"),
        }
        drug = entity[5:]
        if drug in self.zh_passage_done:
            return
        added = False
        for column, (section, title) in fields.items():
            text = row.get(column, "").replace(" | ", "、").strip()
            if len(text) < 4 or text in ("尚不明确", "尚不明确。"):
                continue
            pid = f"cmekg:{drug}:{section}"
            self.passages.append(
                (
                    PassageRecord(pid, (), section, "zh", f"{row['zh_name']}【{title}】", text, "cmekg", record),
                    "product",
                    (entity,),
                )
            )
            added = True
        if added:
            self.zh_passage_done.add(drug)

    def load_atc(self) -> None:
        if "who_atc" not in self.allowed:
            return
        for e in atc.load_entries():
            ents = self._resolve_name(e.name, 0)
            if len(ents) != 1 or not ents[0].startswith("drug:"):
                continue
            drug = ents[0][5:]
            self.atc_codes[drug].add(e.code)
            if e.ddd is not None and (drug not in self.ddd or e.route == "O"):
                self.ddd[drug] = (e.ddd, e.unit)

    def load_memberships(self) -> None:
        for c in self.classes:
            for m in c.members:
                for e in self.resolve(f"name:{m}", f"class {c.class_id} members"):
                    if e.startswith("drug:"):
                        self.members.add((c.class_id, e[5:], "rxlens_curated"))
            if not c.atc_prefixes:
                continue
            for drug, codes in self.atc_codes.items():
                for code in codes:
                    if code.startswith(c.atc_prefixes):
                        src = "wikipedia_atc_zh" if code in self.wiki_codes else "who_atc"
                        if src in self.allowed:
                            self.members.add((c.class_id, drug, src))

    def load_pairs(self) -> None:
        loaders: list[Callable[[], Iterable[PairRecord]]] = [
            curated.load_class_rules,
            mcp_rules.load_pairs,
            ndfrt.load_pairs,
            onc.load_pairs,
            ansm.load_pairs,
            ddinter.load_pairs,
        ]
        for loader in loaders:
            for rec in loader():
                if rec.source not in self.allowed:
                    continue
                drug_level_only = rec.source.startswith("onc_")  # ONC rows name drugs; a class there is a sheet error
                for a in self.resolve(rec.a, f"pairs {rec.source}"):
                    for b in self.resolve(rec.b, f"pairs {rec.source}"):
                        if drug_level_only and (a.startswith("class:") or b.startswith("class:")):
                            self.unresolved[f"pairs {rec.source} (class word in a drug column)"] += 1
                        elif a != b:
                            self.pairs[(a, b) if a < b else (b, a)].records.append(rec)

    def load_passages(self) -> None:
        for p in labels.load_passages():
            ents = tuple(sorted({e for r in p.refs for e in self._resolve_name(r[5:], 0)}))
            if ents:
                self.passages.append((p, "label", ents))
            else:
                self.unresolved["label passages"] += 1
        for row in curated.load_class_rule_quotes():
            refs = tuple(
                e
                for side in (row["a"], row["b"])
                for e in ([side] if side.startswith("class:") else self._resolve_name(side, 0))
            )
            text = f"{row['summary']} {row['mechanism']} {row['management']} Label: \u201c{row['quote']}\u201d"
            self.passages.append(
                (
                    PassageRecord(
                        f"curated:{row['rule_id']}",
                        (),
                        "interaction_rule",
                        "en",
                        f"{row['a']} + {row['b']} ({row['label_drug']} label)",
                        text,
                        "rxlens_curated",
                        f"{row['rule_id']} set_id {row['label_set_id']}",
                    ),
                    "interaction",
                    refs,
                )
            )
            if row.get("summary_zh"):
                self.passages.append(
                    (
                        PassageRecord(
                            f"curated:{row['rule_id']}:zh",
                            (),
                            "interaction_rule",
                            "zh",
                            f"{row['a']} + {row['b']}",
                            f"{row['summary_zh']} {row['management_zh']}",
                            "rxlens_curated",
                            row["rule_id"],
                        ),
                        "interaction",
                        refs,
                    )
                )
        for rule in mcp_rules.load_rules():
            rule_ents = sorted({e for n in rule.drug_a + rule.drug_b for e in self._resolve_name(n, 0)})
            text = f"{rule.description} Mechanism: {rule.mechanism} What to do: {rule.recommendation}"
            title = f"{' / '.join(rule.drug_a[:2])} + {' / '.join(rule.drug_b[:2])}"
            passage = PassageRecord(
                f"mcp:{rule.number}",
                (),
                "interaction_rule",
                "en",
                title,
                text,
                "drug_interaction_mcp",
                f"rule {rule.number} ({rule.citation})",
            )
            self.passages.append((passage, "interaction", tuple(rule_ents)))

    # ---- writing -------------------------------------------------------------------------------------

    def write(self, path: Path, digest: str) -> dict[str, int]:
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        con = sqlite3.connect(tmp)
        con.executescript(SCHEMA)
        lic = {n: s.license for n, s in SOURCES.items()}
        con.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            sorted(
                {
                    "schema_version": SCHEMA_VERSION,
                    "input_hash": digest,
                    "sources": json.dumps(sorted(self.allowed)),
                }.items()
            ),
        )
        con.executemany(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?)",
            [
                (s.name, s.title, s.license, int(s.commercial), s.url)
                for s in SOURCES.values()
                if s.name in self.allowed
            ],
        )
        # The drug table holds every ingredient some source refers to.
        drugs = sorted({self.vocab[db] for db in self.used} | {m[1] for m in self.members})
        con.executemany(
            "INSERT INTO drugs VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    d,
                    d,
                    self.zh_name.get(d),
                    self.db_of.get(d),
                    " ".join(sorted(self.atc_codes.get(d, ()))),
                    self.ddd.get(d, (None, None))[0],
                    self.ddd.get(d, (None, None))[1],
                )
                for d in drugs
            ],
        )
        names = []
        for d in drugs:
            db = self.db_of.get(d)
            names.append((norm(d), d, "en", "generic", d, "drugbank_vocabulary", db or ""))
            for s in self.synonyms.get(db or "", ()):
                k = norm(s)
                if len(k) >= 3 and self.en_index.get(k) == {db}:
                    names.append((k, s, "en", "synonym", d, "drugbank_vocabulary", db or ""))
        for (k, kind, targets), r in self.names.items():
            names.append((k, r.name, r.lang, kind, targets, r.source, r.record))
        for c in self.classes:
            for alias in sorted({c.class_id, c.name_en, *c.aliases_en, *c.aliases_zh}):
                lang = "zh" if has_cjk(alias) else "en"
                names.append((norm(alias), alias, lang, "class", c.class_id, "rxlens_curated", "classes.csv"))
        con.executemany("INSERT INTO names VALUES (?, ?, ?, ?, ?, ?, ?)", sorted(set(names)))
        con.executemany(
            "INSERT INTO classes VALUES (?, ?, ?)",
            sorted((c.class_id, c.name_en, c.name_zh) for c in self.classes),
        )
        con.executemany(
            "INSERT INTO class_includes VALUES (?, ?)",
            sorted((c.class_id, i) for c in self.classes for i in c.includes),
        )
        con.executemany("INSERT INTO class_members VALUES (?, ?, ?)", sorted(self.members))
        rows, src_rows = [], []
        for n, ((a, b), merged) in enumerate(sorted(self.pairs.items()), start=1):
            graded = merged.reconciled()
            rows.append(
                (
                    n,
                    a,
                    b,
                    graded.severity.value,
                    merged.text("summary"),
                    merged.text("mechanism"),
                    merged.text("management"),
                    merged.text("summary_zh"),
                    merged.text("management_zh"),
                    graded.evidence,
                    "|".join(graded.agreeing),
                    int(graded.explained),
                )
            )
            seen = set()
            for rec in sorted(merged.records, key=lambda r: (r.source, r.record)):
                if (rec.source, rec.record) not in seen:
                    seen.add((rec.source, rec.record))
                    g = SourceGrade.of(rec.source, rec.record, rec.severity, _explains(rec))
                    src_rows.append(
                        (
                            n,
                            rec.source,
                            rec.record,
                            lic[rec.source],
                            rec.severity_word,
                            g.severity.value,
                            g.kind,
                            int(g.explained),
                        )
                    )
        con.executemany("INSERT INTO interactions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.executemany("INSERT INTO interaction_sources VALUES (?, ?, ?, ?, ?, ?, ?, ?)", src_rows)
        passages: dict[str, tuple[str | int, ...]] = {}
        refs: set[tuple[str, str]] = set()
        for p, kind, ents in self.passages:
            if p.source not in self.allowed or p.passage_id in passages:
                continue
            passages[p.passage_id] = (
                p.passage_id,
                kind,
                p.section,
                p.lang,
                p.title,
                p.text,
                p.source,
                p.record,
                lic[p.source],
            )
            refs.update((p.passage_id, e) for e in ents)
        con.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", sorted(passages.values()))
        con.executemany("INSERT INTO passage_refs VALUES (?, ?)", sorted(refs))
        con.commit()
        counts = table_counts(con)
        con.execute("VACUUM")
        con.close()
        os.replace(tmp, path)
        return counts


def build(out: Path, exclude_noncommercial: bool = False, force: bool = False, progress: bool = True) -> BuildReport:
    """Compile the knowledge base to `out`. Skips the work when `out` already holds a build of the same inputs."""
    out.parent.mkdir(parents=True, exist_ok=True)
    digest = input_hash(exclude_noncommercial)
    if out.exists() and not force:
        try:
            con = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
            row = con.execute("SELECT value FROM meta WHERE key='input_hash'").fetchone()
            con.close()
            if row and row[0] == digest:
                return BuildReport(out, skipped=True)
        except sqlite3.DatabaseError:
            pass
    b = Builder(exclude_noncommercial)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("vocabulary", b.load_vocabulary),
        ("classes", b.load_classes),
        ("chinese names", b.load_chinese),
        ("brand names", b.load_brands),
        ("ATC", b.load_atc),
        ("class members", b.load_memberships),
        ("interactions", b.load_pairs),
        ("passages", b.load_passages),
    ]
    bar = tqdm(steps, desc="kb build", unit="step", disable=not progress)
    for label, step in bar:
        bar.set_postfix_str(label)
        step()
    counts = b.write(out, digest)
    return BuildReport(out, skipped=False, counts=counts, unresolved=dict(sorted(b.unresolved.items())))
