"""`make bench`: every benchmark in one process run, contenders side by side, medians after warm-up, ratios
against each stage's baseline and a verdict against the issue's targets.

    python -m evals.perf.bench [--quick] [--out var/bench] [--hnsw-1m]
                               [--sections ocr,photos,forwarded,check,questions,throughput,faiss,startup,batch]

Sections:
    ocr         the RxLens pipeline vs bare RapidOCR vs Tesseract on the fixture pages (time, CER), cached re-read
    photos      dense phone photos (2,000-2,200 px, 12-megapixel originals, forwarded copies): photo -> answer, time
                per stage, bare RapidOCR side by side, CER and drug recall; a per-photo table in photos.md
    forwarded   resized, recompressed copies of a photo read before, answered from the cache (read() and photo ->
                answer), the fingerprint and lookup alone, and the false-match check (`evals.perf.bench_forwarded`)
    check       knowledge-base load and `check` of 2, 10 and 30 drugs through the Python API
    questions   a text question, a photo question (new photo, same photo again) and the checks, Python API and HTTP
    throughput  text and photo chat requests at 1, 4 and 8 concurrent clients over HTTP
    faiss       FAISS search time, build time and recall@10 at 10k, 100k and 1M vectors: flat vs HNSW vs IVF
    startup     server start-up to ready, its memory once warm, knowledge-base build time
    batch       OCR pages/s and embedding passages/s at batch sizes 1, 8 and 32, on the device picked by itself

Writes bench.json (every figure with its samples and settings, and the machine) and bench.md (the table) into
--out, and prints the table. Timings on a shared machine are noisy: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from app.config import get_settings
from evals.perf import bench_check, bench_forwarded, bench_ocr, bench_photos, bench_retrieval, bench_service, load
from evals.perf.local_server import RunningServer, local_server
from evals.perf.machine import describe
from evals.perf.results import BenchReport, Figure

# as the table shows them
SECTIONS = ("ocr", "photos", "forwarded", "check", "questions", "throughput", "faiss", "startup", "batch")
SERVER_SECTIONS = {"startup", "questions", "throughput"}  # measured first, against one server


def _sections(value: str) -> list[str]:
    asked = [s.strip() for s in value.split(",") if s.strip()]
    unknown = set(asked) - set(SECTIONS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    return [s for s in SECTIONS if s in asked]


def run(sections: list[str], quick: bool, out: Path, hnsw_1m: bool = False) -> BenchReport:
    """Run the sections (the server's first, against one server started here), write bench.json and bench.md."""
    started = time.perf_counter()
    report = BenchReport(describe(), sections, quick)
    if report.machine["cpus"] <= 2:
        report.notes.append("2 cores: every contender shares them with the others' leftovers and anything else running")
    if SERVER_SECTIONS & set(sections):
        with local_server("bench") as server:
            _server_sections(report, server, sections, quick)
    if "ocr" in sections:
        _log("ocr: pipeline vs bare RapidOCR vs Tesseract")
        report.add(bench_ocr.run(limit=4 if quick else 0), "ocr")
    if "photos" in sections:
        _log("photos: phone photos, originals and forwarded copies, stage by stage")
        figures, table = bench_photos.run(quick)
        report.add(figures, "photos")
        out.mkdir(parents=True, exist_ok=True)
        (out / "photos.md").write_text(table + "\n", encoding="utf-8")
        print(table)
    if "forwarded" in sections:
        _log("forwarded: copies of a photo read before, answered from the cache")
        figures, checked = bench_forwarded.run(quick)
        report.add(figures, "forwarded")
        report.notes += checked.lines()
    if "check" in sections:
        _log("check: Python API")
        report.add(bench_check.run(get_settings().knowledge_base, quick), "check")
    if "faiss" in sections:
        _faiss(report, quick, hnsw_1m)
    if "batch" in sections:
        _log("batch: OCR and embedding")
        report.add(_batches(quick), "batch")
    if "startup" in sections:
        _log("startup: knowledge-base build")
        report.add(bench_service.kb_build(quick), "startup")
    for fig in report.figures:
        statuses = fig.settings.get("statuses")
        if statuses and set(statuses) != {"200"}:
            report.notes.append(f"{fig.stage}, {fig.contender}: responses {statuses}")
    report.seconds = time.perf_counter() - started
    report.write(out)
    return report


def _server_sections(report: BenchReport, server: RunningServer, sections: list[str], quick: bool) -> None:
    if "questions" in sections:
        _log("questions: Python API")
        report.add(bench_service.python_api(quick), "questions")
        _log("questions: HTTP")
        report.add(bench_service.http(server, quick), "questions")
    if "throughput" in sections:
        counts = {"text": (10, 20, 40), "photo": (2, 4, 8)} if quick else {"text": (40, 80, 120), "photo": (6, 12, 16)}
        seed = 100_000  # every photo a new upload, across levels too
        for kind, requests in counts.items():
            for clients, n in zip((1, 4, 8), requests, strict=True):
                _log(f"throughput: {kind}, {clients} clients, {n} requests")
                report.add([load.throughput(server.base_url, kind, clients, n, seed)], "throughput")
                seed += n
    if "startup" in sections:
        # Read after every request above, so "warm" means warm.
        report.add(bench_service.server_figures(server), "startup")


def _faiss(report: BenchReport, quick: bool, hnsw_1m: bool) -> None:
    sizes = (2_000, 10_000) if quick else (10_000, 100_000, 1_000_000)
    _log(f"faiss: {sizes}")
    hnsw_max = 1_000_000 if hnsw_1m else 100_000
    report.add(bench_retrieval.faiss_scaling(sizes, hnsw_max=hnsw_max, timed_queries=20 if quick else 50), "faiss")
    report.notes.append(
        "FAISS vectors are synthetic (a 256-centre mixture at the default embedder's 512 dimensions), queries "
        "from the same mixture; recall@10 is against exact flat search; one-query searches on one OpenMP thread"
    )
    if max(sizes) > hnsw_max:
        report.notes.append("HNSW is left out at 1M vectors (tens of minutes to build on 2 cores); --hnsw-1m adds it")


def _batches(quick: bool) -> list[Figure]:
    from knowledge.retrieval.chunks import kb_chunks
    from knowledge.store import KnowledgeBase

    settings = get_settings()
    sizes = (1, 2, 4) if quick else (1, 8, 32)
    figures = bench_ocr.batch(sizes=sizes, workers=settings.ocr_workers)
    texts = [c.text for c in kb_chunks(KnowledgeBase(settings.knowledge_base))]
    figures += bench_retrieval.embedding_batches(settings.embedder, texts, sizes, rounds=1 if quick else 3)
    return figures


def _log(message: str) -> None:
    logging.getLogger("rxlens.bench").warning("%s", message)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (a smoke run)")
    parser.add_argument("--sections", type=_sections, default=list(SECTIONS))
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    parser.add_argument("--hnsw-1m", action="store_true", help="also build HNSW over 1M vectors (slow)")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(message)s", level=logging.WARNING)
    report = run(args.sections, args.quick, args.out, args.hnsw_1m)
    print(report.to_markdown())
    print(f"written {args.out / 'bench.json'} and {args.out / 'bench.md'} in {report.seconds:.0f} s")


if __name__ == "__main__":
    main()
