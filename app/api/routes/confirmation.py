"""`/v1/documents/{id}/drugs`: a document's drug list, as read or as the user confirmed it.

A prescription or box is read by OCR, and an entry the reading was unsure of (`needs_confirmation`) or a name
that matches no drug could be a misreading (氨氯地平 read as 安禄地平, 20 mg as 2 mg). GET shows the list with those
entries marked; PUT stores the list the user confirmed or corrected with the document (inside its stored reading),
and from then on every question about the document uses it: its drugs are the document's subjects, a drug left
out is no longer one, and a name we do not recognise is answered as unrecognised, never dropped. Owner-scoped
like every document route: another owner's document answers 404, as one that never existed.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.api.deps import ComponentsDep, OwnerDep
from app.api.schemas import ConfirmDrugsRequest, DrugListOut, ErrorResponse, ListedDrugOut
from app.documents import (
    CONFIRMED_KEY,
    MAX_LISTED_DRUGS,
    MAX_NAME_CHARS,
    ListedDrug,
    confirmed_drugs,
    read_drug_list,
    resolve_entry,
)
from app.errors import InvalidInput
from app.persistence.tables import DocumentRow, utcnow
from knowledge.lexicon import Lexicon

router = APIRouter(prefix="/v1/documents", tags=["documents"])

MAX_DETAIL_CHARS = 100  # strength, dose, frequency: "5mg", "1片", "每日三次 饭后"
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorResponse} for s in (400, 401, 404, 422, 429)}


@router.get("/{document_id}/drugs", response_model=DrugListOut, responses=_ERRORS)
async def get_drug_list(document_id: str, components: ComponentsDep, owner: OwnerDep) -> DrugListOut:
    """The document's drug list: the one the user confirmed, else the one read, entries the reading was unsure
    of marked `needs_confirmation`."""
    row = await run_in_threadpool(components.documents.get, owner, document_id)
    return drug_list_out(row, components.lexicon)


@router.put("/{document_id}/drugs", response_model=DrugListOut, responses=_ERRORS)
async def confirm_drug_list(
    document_id: str, body: ConfirmDrugsRequest, components: ComponentsDep, owner: OwnerDep
) -> DrugListOut:
    """Confirm or correct the document's drug list: send the whole list (each name as the user confirms or types
    it, optionally strength, dose and frequency). It replaces an earlier confirmation; the next question about
    the document uses it."""
    entries = _checked(body)
    confirmed = {"drugs": [e.to_json() for e in entries], "at": utcnow().isoformat()}
    row = await run_in_threadpool(components.documents.set_confirmed, owner, document_id, confirmed)
    return drug_list_out(row, components.lexicon)


def drug_list_out(row: DocumentRow, lexicon: Lexicon) -> DrugListOut:
    confirmed = confirmed_drugs(row.parsed)
    entries = confirmed if confirmed is not None else read_drug_list(row.parsed)
    drugs: list[ListedDrugOut] = []
    for entry in entries:
        found = resolve_entry(entry, lexicon)
        ingredients = list(dict.fromkeys(i for m in found for i in m.ingredients))
        drugs.append(
            ListedDrugOut(
                name=entry.name,
                strength=entry.strength,
                dose=entry.dose,
                frequency=entry.frequency,
                recognized=bool(found),
                ingredients=ingredients,
                ingredient_names={lang: [lexicon.display_name(i, lang) for i in ingredients] for lang in ("zh", "en")},
                corrected_from=next((m.corrected_from for m in found if m.corrected_from), None),
                confidence=entry.confidence,
                needs_confirmation=entry.needs_confirmation,
            )
        )
    status: Literal["read", "needs_confirmation", "confirmed"]
    if confirmed is not None:
        status = "confirmed"
    elif any(e.needs_confirmation for e in entries):
        status = "needs_confirmation"
    else:
        status = "read"
    at = row.parsed.get(CONFIRMED_KEY, {}).get("at") if confirmed is not None else None
    return DrugListOut(
        document_id=row.id,
        doc_type=row.doc_type,
        status=status,
        confirmed_at=datetime.fromisoformat(at) if isinstance(at, str) else None,
        drugs=drugs,
        unrecognized=[d.name for d in drugs if not d.recognized],
    )


def _checked(body: ConfirmDrugsRequest) -> list[ListedDrug]:
    """The list as sent, trimmed and without repeats; 400 saying what to change where it cannot be stored."""
    if not body.drugs:
        raise InvalidInput(
            "The drug list is empty: send at least one drug, e.g. {'drugs': [{'name': '氨氯地平'}]}. To keep the "
            "list as read, send it back unchanged."
        )
    if len(body.drugs) > MAX_LISTED_DRUGS:
        raise InvalidInput(f"The list holds {len(body.drugs)} drugs; at most {MAX_LISTED_DRUGS} can be confirmed.")
    out: dict[str, ListedDrug] = {}
    for n, drug in enumerate(body.drugs):
        name = " ".join(drug.name.split())
        if not name:
            raise InvalidInput(f"drugs.{n}.name is empty: type the drug's name, or leave the entry out.")
        if len(name) > MAX_NAME_CHARS:
            raise InvalidInput(
                f"drugs.{n}.name is {len(name)} characters; a drug name is at most {MAX_NAME_CHARS}. Type the name "
                "only: strength, dose and frequency have their own fields."
            )
        details: dict[str, str] = {k: " ".join(getattr(drug, k).split()) for k in ("strength", "dose", "frequency")}
        for key, value in {"name": name, **details}.items():
            # Not storable in every database's JSON (PostgreSQL refuses NUL), and never part of a drug's name.
            if any(unicodedata.category(ch) == "Cc" for ch in value):
                raise InvalidInput(f"drugs.{n}.{key} holds a control character: type it as plain text.")
        for key, value in details.items():
            if len(value) > MAX_DETAIL_CHARS:
                raise InvalidInput(
                    f"drugs.{n}.{key} is {len(value)} characters; at most {MAX_DETAIL_CHARS} (e.g. '5mg', 'qd')."
                )
        entry = ListedDrug(
            name=name, strength=details["strength"], dose=details["dose"], frequency=details["frequency"]
        )
        out.setdefault(name.casefold(), entry)
    return list(out.values())
