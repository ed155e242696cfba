# cryvideo — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Re-install when the dependency list changes.
STAMP := $(VENV)/.installed-$(shell cat setup.cfg setup.py | cksum | cut -d' ' -f1)
DEMO := examples/demo.mp4
export TF_CPP_MIN_LOG_LEVEL ?= 3
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test test-fast lint install venv train-default benchmarks clean help

help:
	@echo "make demo           set up .venv, then run 'cryvideo predict' on the bundled demo clip"
	@echo "make test           set up .venv, then run the whole test suite"
	@echo "make test-fast      tests without the slow ones"
	@echo "make lint           ruff"
	@echo "make train-default  retrain the bundled default models (needs ../shared)"
	@echo "make benchmarks     re-run the benchmark scripts (results in benchmarks/results/)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python setup.cfg setup.py
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	-$(BIN)/python data_prep/warm_caches.py
	-$(BIN)/python data_prep/fetch_face_models.py
	rm -f $(VENV)/.installed-*
	touch $@

install venv: $(STAMP)

$(DEMO): | $(STAMP)
	$(BIN)/python data_prep/make_demo_clip.py --out $(DEMO)

demo: $(STAMP) $(DEMO)
	$(BIN)/cryvideo predict $(DEMO)

test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=25

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check cryvideo tests data_prep benchmarks

train-default: $(STAMP)
	$(BIN)/python data_prep/train_default.py

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/bench_frames_memory.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
