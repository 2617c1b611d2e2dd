"""Coverage figures of a compiled knowledge base, for `rxlens kb stats` and the closing notes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

TABLES = ("drugs", "names", "classes", "class_members", "interactions", "interaction_sources", "passages")


def table_counts(con: sqlite3.Connection) -> dict[str, int]:
    return {t: int(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES}


def coverage(path: Path) -> dict[str, object]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def one(sql: str) -> int:
        return int(con.execute(sql).fetchone()[0])

    drugs = one("SELECT COUNT(*) FROM drugs")
    with_interactions = one(
        "SELECT COUNT(*) FROM drugs d WHERE EXISTS (SELECT 1 FROM interactions i WHERE i.a = 'drug:' || d.id "
        "OR i.b = 'drug:' || d.id)"
    )
    out: dict[str, object] = {
        "tables": table_counts(con),
        "drugs_with_chinese_name": one("SELECT COUNT(*) FROM drugs WHERE name_zh IS NOT NULL"),
        "drugs_with_atc_code": one("SELECT COUNT(*) FROM drugs WHERE atc_codes != ''"),
        "drugs_with_a_class": one("SELECT COUNT(DISTINCT drug_id) FROM class_members"),
        "drugs_in_some_interaction": with_interactions,
        "drugs_total": drugs,
        "names_by_language_and_kind": {
            f"{lang}/{kind}": n
            for lang, kind, n in con.execute("SELECT lang, kind, COUNT(*) FROM names GROUP BY lang, kind ORDER BY 1, 2")
        },
        "interactions_by_severity": dict(
            con.execute("SELECT severity, COUNT(*) FROM interactions GROUP BY severity ORDER BY 2 DESC").fetchall()
        ),
        "interaction_records_by_source": dict(
            con.execute("SELECT source, COUNT(*) FROM interaction_sources GROUP BY source ORDER BY 2 DESC").fetchall()
        ),
        "interactions_with_mechanism_text": one("SELECT COUNT(*) FROM interactions WHERE mechanism != ''"),
        "class_level_rules": one("SELECT COUNT(*) FROM interactions WHERE a LIKE 'class:%' OR b LIKE 'class:%'"),
        "passages_by_kind_and_language": {
            f"{kind}/{lang}": n
            for kind, lang, n in con.execute("SELECT kind, lang, COUNT(*) FROM passages GROUP BY kind, lang ORDER BY 1")
        },
    }
    con.close()
    return out
