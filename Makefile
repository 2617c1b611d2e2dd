# Two entry points on a fresh machine: `make serve` and `make test`. Each creates .venv when it is
# missing, installs torch (pinned, CPU wheel) first, then the project, then builds the knowledge base.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
KB := var/knowledge.sqlite

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONHASHSEED := 0

.PHONY: serve test lint typecheck pytest kb bench bench-photos load eval eval-quick eval-handwriting eval-retrieval debian clean db-migrate \
	cluster cluster-down cluster-test load-cluster fault-cluster

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

# Debian packages the project uses (fonts for rendered test images, handwriting fonts for the hard prescriptions,
# tesseract as the OCR baseline, chromium for the browser test of the web page, driven by Playwright without a
# browser download of its own, an emoji font for its screenshots, and PostgreSQL, which the persistence and API tests
# start a throwaway server of).
# Installed only when missing, so a machine that has them is not touched.
debian:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
DEBIAN_PACKAGES := fonts-noto-cjk fonts-wqy-zenhei fonts-wqy-microhei tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng chromium fonts-noto-color-emoji redis-server fonts-lxgw-wenkai fonts-dkg-handwriting postgresql

# The user database's schema to the newest Alembic revision (the service also does this at start-up). The database is
# RXLENS_DATABASE_URL (PostgreSQL: postgresql+psycopg://user@host:port/db), else var/rxlens.sqlite.
db-migrate: $(STAMP)
	$(BIN)/python -c "from app.config import get_settings; from app.persistence.database import Database; Database(get_settings().database).dispose()"

# `rxlens kb build` hashes its inputs and returns at once when the knowledge base and its retrieval index
# (rebuilt only when its chunks or the embedder change) are up to date.
kb: $(STAMP)
	$(BIN)/rxlens kb build --out $(KB)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) kb
	$(BIN)/pytest

test: debian $(STAMP) lint typecheck kb pytest

# glibc gives each of the server's many threads (request pool, OCR, a few per question for LangChain's parallel
# steps) one of up to 8 arenas per core; two kept peak RSS 100 to 250 MB lower, at no throughput cost we could
# measure on the shared 2-core machine (make load).
SERVE_ENV := MALLOC_ARENA_MAX=2

serve: debian $(STAMP) kb
	@echo "RxLens: http://127.0.0.1:8000/"
	$(SERVE_ENV) $(BIN)/rxlens serve --host 127.0.0.1 --port 8000

# Every benchmark side by side in one process run: OCR, check, questions (Python API and HTTP), throughput,
# FAISS scaling, start-up and memory, batches. Prints the table, writes var/bench/bench.json and bench.md.
# BENCH_ARGS="--sections ocr,check" runs some sections; "--quick" is a smoke run.
bench: debian $(STAMP) kb
	$(BIN)/python -m evals.perf.bench $(BENCH_ARGS)

# Only the phone-photo set (dense 2,000-2,200 px captures, 12-megapixel originals, forwarded copies): photo -> answer
# and time per stage beside bare RapidOCR, CER, drug recall (the per-photo table in var/bench/photos.md); then
# forwarded copies of a photo read before, answered from the cache, and the check that no other page is taken for one.
bench-photos: debian $(STAMP) kb
	$(BIN)/python -m evals.perf.bench --sections photos,forwarded $(BENCH_ARGS)

# 32 clients for 2 minutes on loopback against a server run as `make serve` runs it (LOAD_ARGS="--seconds 60" to
# shorten, SERVE_ENV= for glibc's default arenas); figures, with the server's RSS every second, in var/bench/load.json.
load: debian $(STAMP) kb
	$(SERVE_ENV) $(BIN)/python -m evals.perf.load $(LOAD_ARGS)

# On this machine, in the background: redis-server, PostgreSQL, two API processes (ports 8000 and 8001, one user
# database) and two OCR workers (`rxlens worker`); returns once all are ready (about a minute). Pids, ports and logs
# in var/cluster/. `make cluster-down` stops them.
cluster: debian $(STAMP) kb
	$(SERVE_ENV) $(BIN)/python -m evals.perf.cluster_load up --dir var/cluster --ports 8000,8001 --workers 2

cluster-down: $(STAMP)
	$(BIN)/python -m evals.perf.cluster_load down --dir var/cluster

# Against a running `make cluster`: photos and questions across both API processes (LOAD_ARGS="--seconds 120");
# figures in var/bench/cluster_load.json. fault-cluster SIGKILLs a worker and an API process during uploads and
# fails unless every acknowledged upload ends done (it leaves the cluster one worker and one API process short).
load-cluster: $(STAMP)
	$(BIN)/python -m evals.perf.cluster_load load --dir var/cluster $(LOAD_ARGS)

fault-cluster: $(STAMP)
	$(BIN)/python -m evals.perf.cluster_load fault --dir var/cluster

# The cross-node tests (tests/scale/): their own Redis, PostgreSQL, two API processes and two workers on free
# ports; a few minutes, so not part of `make test`.
cluster-test: debian $(STAMP) kb
	RXLENS_CLUSTER_TESTS=1 $(BIN)/pytest tests/scale

eval: debian $(STAMP) kb
	$(BIN)/rxlens-eval --suite all --out var/eval/report

eval-quick: $(STAMP) kb
	$(BIN)/rxlens-eval --suite all --quick --out var/eval/quick

# Hard prescriptions: 54 handwritten (zh, en) and printed hospital-layout pages rendered with truth, read by the OCR
# pipeline (about 2 minutes on 2 idle cores); report in var/eval/handwriting.
eval-handwriting: debian $(STAMP) kb
	$(BIN)/rxlens-eval --suite handwriting --out var/eval/handwriting

eval-retrieval: $(STAMP) kb
	$(BIN)/python -m evals.retrieval_eval

clean:
	rm -rf var .mypy_cache .pytest_cache .ruff_cache
