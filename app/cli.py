"""The `rxlens` command line: build the knowledge base, check drugs, read images, self-check.

Each command is a thin shell over the library: parse arguments, call one function, print the result.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.config import get_settings
from knowledge.errors import RxLensError
from knowledge.normalize import has_cjk

if TYPE_CHECKING:
    from knowledge.store import KnowledgeBase

cli = typer.Typer(help="RxLens: medication leaflets, prescriptions and drug interactions.", no_args_is_help=True)
kb_cli = typer.Typer(help="Build and inspect the drug knowledge base.", no_args_is_help=True)
cli.add_typer(kb_cli, name="kb")


@cli.command("check")
def check(
    drugs: Annotated[
        list[str], typer.Argument(help="Drug names in Chinese or English: generic, brand, or a class word.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable result.")] = False,
) -> None:
    """Check every pair of DRUGS for interactions and duplicate therapy."""
    from app.check_report import render
    from knowledge.interactions import InteractionEngine
    from knowledge.store import KnowledgeBase

    engine = InteractionEngine(_open_kb(KnowledgeBase))
    result = engine.check(drugs)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render(result, engine.lexicon, zh=any(has_cjk(d) for d in drugs)))


@cli.command("self-check")
def self_check() -> None:
    """Load every component on the embedded defaults and report whether it works."""
    from knowledge.interactions import InteractionEngine
    from knowledge.store import KnowledgeBase

    settings = get_settings()
    started = time.perf_counter()
    kb = _open_kb(KnowledgeBase)
    engine = InteractionEngine(kb)
    loaded = time.perf_counter() - started
    result = engine.check(["warfarin", "aspirin"])
    ok = any(i.severity.rank >= 3 for i in result.interactions)
    typer.echo(f"knowledge base  {settings.knowledge_base}  loaded in {loaded * 1000:.0f} ms")
    typer.echo(f"check           warfarin + aspirin -> {'major, as expected' if ok else 'WRONG'}")
    if not ok:
        raise typer.Exit(1)


def _open_kb(kb_class: type[KnowledgeBase]) -> KnowledgeBase:
    try:
        return kb_class(get_settings().knowledge_base)
    except RxLensError as e:
        typer.echo(e.message, err=True)
        raise typer.Exit(2) from e


@kb_cli.command("build")
def kb_build(
    out: Annotated[
        Path | None, typer.Option(help="Where to write the SQLite file (default: the settings' path).")
    ] = None,
    exclude_noncommercial: Annotated[
        bool, typer.Option("--exclude-noncommercial", help="Drop records whose only sources forbid commercial use.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Rebuild even when the inputs are unchanged.")] = False,
    index: Annotated[
        bool, typer.Option(help="Also build the retrieval index (var/index/kb) with the configured embedder.")
    ] = True,
) -> None:
    """Compile knowledge/data/ into one SQLite knowledge base, then its retrieval index."""
    from knowledge.build import build

    settings = get_settings()
    target = out or settings.knowledge_base
    started = time.perf_counter()
    report = build(target, exclude_noncommercial=exclude_noncommercial, force=force)
    if report.skipped:
        typer.echo(f"{target}: up to date (inputs unchanged); use --force to rebuild")
    else:
        typer.echo(f"{target}: built in {time.perf_counter() - started:.1f} s")
        for table, n in report.counts.items():
            typer.echo(f"  {table:22} {n:>9,}")
        if report.unresolved:
            typer.echo("  names no source could resolve (left out):")
            for what, n in report.unresolved.items():
                typer.echo(f"    {what:38} {n:>7,}")
    if index:
        _build_kb_index(target, force)


def _build_kb_index(kb_file: Path, force: bool) -> None:
    from app.retrieval import embedder_for
    from knowledge.retrieval.kb_index import build_kb_index
    from knowledge.store import KnowledgeBase

    settings = get_settings()
    try:
        kb = KnowledgeBase(kb_file)
        embedder = embedder_for(settings)
        report = build_kb_index(kb, embedder, settings.kb_index_dir, force, settings.hnsw_threshold, settings.faiss_gpu)
    except RxLensError as e:
        typer.echo(e.message, err=True)
        raise typer.Exit(2) from e
    where = settings.kb_index_dir
    if report.skipped:
        typer.echo(f"{where}: up to date ({embedder.name}, {report.chunks:,} chunks)")
    else:
        typer.echo(
            f"{where}: {report.chunks:,} chunks embedded with {embedder.name} in {report.seconds:.1f} s "
            f"({report.bytes / 1e6:.1f} MB)"
        )


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
