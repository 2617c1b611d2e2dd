"""The `rxlens` command line: build the knowledge base, check drugs, read images, self-check.

Each command is a thin shell over the library: parse arguments, call one function, print the result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.config import get_settings
from knowledge.errors import RxLensError

if TYPE_CHECKING:
    from app.config import Settings
    from ingestion.mentions import MentionFinder

cli = typer.Typer(help="RxLens: medication leaflets, prescriptions and drug interactions.", no_args_is_help=True)
kb_cli = typer.Typer(help="Build and inspect the drug knowledge base.", no_args_is_help=True)
cli.add_typer(kb_cli, name="kb")


@cli.command("self-check")
def self_check() -> None:
    """Load every component on the embedded defaults and report whether it works."""
    settings = get_settings()
    typer.echo(f"knowledge base: {settings.knowledge_base}")


@cli.command("ocr")
def ocr(
    image: Annotated[Path, typer.Argument(help="A photo or scan (JPEG, PNG, WebP, HEIC, TIFF, BMP) or a PDF.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print lines, fields, drugs and timings as JSON.")] = False,
) -> None:
    """Read a leaflet, prescription or drug box photo: text in reading order, fields and drugs."""
    from app.config import ocr_config
    from ingestion.pipeline import build_pipeline

    settings = get_settings()
    pipeline = build_pipeline(ocr_config(settings), mention_finder=_mention_finder(settings))
    try:
        doc = pipeline.read(image.read_bytes(), image.name)
    except RxLensError as e:
        typer.echo(e.message, err=True)
        raise typer.Exit(2) from e
    if as_json:
        full = doc.to_json()
        fields = dict(full["fields"])
        if full["medications"]:
            fields["medications"] = full["medications"]
        out = {
            "doc_type": full["doc_type"],
            "lines": full["lines"],
            "fields": fields,
            "drugs": full["drugs"],
            "timings_ms": full["timings_ms"],
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    typer.echo(f"# {doc.doc_type}  ({len(doc.lines)} lines, {doc.timings_ms['total']:.0f} ms)")
    typer.echo(doc.row_text)
    if doc.fields:
        typer.echo("\n## fields")
        for name, f in doc.fields.items():
            typer.echo(f"{name}: {f.value}")
    for m in doc.medications:
        per_day = "as needed" if m.as_needed else f"{m.times_per_day:g}x/day" if m.times_per_day else "?"
        typer.echo(f"- {m.name} {m.strength} {m.dose} {m.route} {m.frequency_text} ({per_day}) {m.duration}".rstrip())
    if doc.drugs:
        typer.echo("\n## drugs")
        for d in doc.drugs:
            fixed = f" (read as {d.mention.corrected_from})" if d.mention.corrected_from else ""
            typer.echo(f"{d.text}: {', '.join(d.ingredients)}{fixed}")
    for w in doc.warnings:
        typer.echo(f"! {w}")


def _mention_finder(settings: Settings) -> MentionFinder | None:
    """The drug lexicon when knowledge provides it and the knowledge base is built; else no drug resolution."""
    try:
        from knowledge.lexicon import Lexicon
        from knowledge.store import KnowledgeBase
    except ImportError:
        return None
    try:
        return Lexicon(KnowledgeBase(settings.knowledge_base))
    except RxLensError as e:
        typer.echo(f"(drug names are not resolved: {e.message})", err=True)
        return None


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
