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
    from app.config import Settings
    from ingestion.mentions import MentionFinder
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


@cli.command("ask")
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Chinese or English.")],
    image: Annotated[
        list[Path] | None, typer.Option("--image", help="A leaflet, box or prescription photo (repeatable).")
    ] = None,
    meds: Annotated[str | None, typer.Option("--meds", help="The user's own medication list, comma-separated.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable answer.")] = False,
) -> None:
    """Answer a question about medicines, with the verdict first and a citation for every statement."""
    from app.components import Components

    components = Components(get_settings())
    try:
        documents = []
        if image:
            from app.documents import document_context

            for path in image:
                doc = components.ocr.read(path.read_bytes(), path.name)
                documents.append(document_context(f"{path.name}#{doc.sha256[:12]}", doc, components.lexicon))
        medications = [m for m in (meds or "").split(",") if m.strip()]
        answer = components.chain.ask(question, documents=documents, medications=medications)
    except RxLensError as e:
        typer.echo(e.message, err=True)
        raise typer.Exit(2) from e
    if as_json:
        typer.echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return
    typer.echo(answer.answer)
    if answer.citations:
        typer.echo("")
        for c in answer.citations:
            where = f" ({c.field}, box {c.bbox})" if c.document_id else ""
            typer.echo(f"[{c.id}] {c.source}{where}: {c.text[:200]}")


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


@cli.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default: the settings' host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: the settings' port, 8000).")] = None,
) -> None:
    """Serve the HTTP API and the caregiver web page."""
    import logging

    import uvicorn

    from app.api.main import create_app

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    if settings.local_mode and host not in ("127.0.0.1", "localhost", "::1"):
        # Without API keys every caller is the one local owner: exposing that on a network would hand every
        # stored prescription to anyone who can reach the port.
        typer.echo(
            f"Refusing to bind {host}: no API keys are configured (local mode). Set RXLENS_API_KEYS='owner:key,...' "
            "to serve on a network address.",
            err=True,
        )
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    mode = "local mode (no API keys)" if settings.local_mode else f"{len(settings.api_key_hashes)} API key(s)"
    typer.echo(f"RxLens serving on http://{host}:{port}/  ({mode}; API docs at /docs)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", access_log=False)


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


@kb_cli.command("vectors")
def kb_vectors(
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh",
            help="Rewrite the shipped vectors (knowledge/data/kb_vectors/) for the current passages, embedding only "
            "those no cache holds; commit the file afterwards.",
        ),
    ] = False,
) -> None:
    """Show how many knowledge-base passages the shipped vector cache covers, or regenerate it (--refresh)."""
    import logging

    from app.retrieval import embedder_for
    from knowledge.retrieval.chunks import kb_chunks
    from knowledge.retrieval.kb_index import local_cache_path, refresh_shipped_vectors
    from knowledge.retrieval.vector_cache import VectorCache, embed_probe, shipped_cache_path, text_key
    from knowledge.store import KnowledgeBase

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    kb = _open_kb(KnowledgeBase)
    try:
        embedder = embedder_for(settings)
        if refresh:
            report = refresh_shipped_vectors(kb, embedder, settings.kb_index_dir)
            typer.echo(
                f"{report.path}: {report.count:,} passages ({report.embedded:,} embedded now), "
                f"{report.bytes / 1e6:.1f} MB"
            )
            return
        keys = {text_key(c.index_text) for c in kb_chunks(kb)}
        probe = embed_probe(embedder)
        for label, path in (
            ("shipped", shipped_cache_path(embedder.name)),
            ("local", local_cache_path(settings.kb_index_dir, embedder)),
        ):
            cache = VectorCache.load(path, embedder, probe) if path.exists() else None
            held = 0 if cache is None else sum(k in cache for k in keys)
            state = "missing" if not path.exists() else "unusable" if cache is None else f"{len(cache):,} vectors"
            typer.echo(f"{label:8} {path}: {state}; covers {held:,} of {len(keys):,} current passages")
    except RxLensError as e:
        typer.echo(e.message, err=True)
        raise typer.Exit(2) from e


@kb_cli.command("stats")
def kb_stats() -> None:
    """Print row counts and coverage figures of the built knowledge base."""
    from knowledge.stats import coverage

    path = get_settings().knowledge_base
    if not path.exists():
        typer.echo(f"No knowledge base at {path}. Build it with `rxlens kb build`.", err=True)
        raise typer.Exit(2)
    typer.echo(json.dumps(coverage(path), ensure_ascii=False, indent=2))


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


@cli.command("worker")
def worker(
    name: Annotated[str | None, typer.Option(help="This worker's name (default: host and process id).")] = None,
    loglevel: Annotated[str, typer.Option(help="Celery's log level.")] = "INFO",
    gpu: Annotated[
        int | None, typer.Option(help="Run on this GPU alone (CUDA_VISIBLE_DEVICES) with the CUDA provider.")
    ] = None,
) -> None:
    """Read uploads from the job queue (RXLENS_REDIS_URL): one Celery worker process, one job at a time.

    Run one per GPU (`--gpu 0`, `--gpu 1` ...), or one per two to four CPU cores; each loads the OCR model once.
    SIGTERM finishes the job at hand; a worker killed mid-job loses nothing (another takes the job after
    RXLENS_JOB_VISIBILITY_TIMEOUT_S).
    """
    import logging
    import os

    if gpu is not None:
        # Before any model loads: this process sees its one GPU as device 0, and refuses to start without CUDA
        # (RXLENS_OCR_DEVICE=cuda) rather than silently reading on the CPU.
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
        os.environ["RXLENS_OCR_DEVICE"] = "cuda"

    from app.jobs.worker import run_worker

    settings = get_settings()
    if not settings.redis_url:
        typer.echo("`rxlens worker` needs RXLENS_REDIS_URL (redis://host:port/db), shared with the API.", err=True)
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        run_worker(settings, name=name, loglevel=loglevel)
    except RxLensError as e:  # a worker that cannot read (no CUDA for --gpu, no model file) says why and stops
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from e


@cli.command("ingest")
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Photos, PDFs (one document each), folders.")],
    owner: Annotated[str, typer.Option(help="Whose documents they become (the API's owner name).")] = "local",
    concurrency: Annotated[
        int | None, typer.Option(help="Files in flight (default: the OCR threads here, 16 through the queue).")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here (one entry per file).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report instead of the summary.")] = False,
) -> None:
    """Store many photos and PDFs as documents: a progress bar, files already stored skipped (resumable), a
    summary. Through the job queue when RXLENS_REDIS_URL is set (start `rxlens worker`s), else in this process."""
    import asyncio

    from tqdm import tqdm

    from app.components import Components
    from app.jobs.batch import collect
    from app.jobs.batch import ingest as ingest_files

    settings = get_settings()
    try:
        files = collect(paths)
    except FileNotFoundError as e:
        typer.echo(f"No such file or folder: {e}", err=True)
        raise typer.Exit(2) from e
    queue = "celery" if settings.redis_url else "in-process"
    concurrency = concurrency or (min(16, settings.job_queue_max) if settings.redis_url else settings.ocr_workers)
    components = Components(settings)
    bar = tqdm(total=len(files), unit="file", disable=as_json, dynamic_ncols=True)

    def done(result: object) -> None:
        bar.update(1)

    try:
        result = asyncio.run(
            ingest_files(files, owner, components.jobs, components.documents, concurrency, queue, on_done=done)
        )
    finally:
        bar.close()
        components.close()
    body = result.to_json()
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(body, ensure_ascii=False, indent=2))
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        counts = body["counts"]
        typer.echo(
            f"{len(files)} file(s) in {result.seconds:.1f} s ({queue}, {concurrency} in flight): "
            + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("stored", "skipped", "duplicate", "failed"))
            + f"; {result.read_per_second:.2f} read/s"
        )
        for f in result.files:
            if f.status == "failed":
                typer.echo(f"  failed  {f.path}: [{f.error_code}] {f.error}")
    if body["counts"].get("failed"):
        raise typer.Exit(1)


def _mention_finder(settings: Settings) -> MentionFinder | None:
    """The drug lexicon when the knowledge base is built; else the text is read without drug resolution."""
    from knowledge.lexicon import Lexicon
    from knowledge.store import KnowledgeBase

    try:
        return Lexicon(KnowledgeBase(settings.knowledge_base))
    except RxLensError as e:
        typer.echo(f"(drug names are not resolved: {e.message})", err=True)
        return None


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
