# Deep Reinforcement Learning in JAX: every task a learner, instructor or contributor runs.
# A fresh machine needs only python3 (>= 3.11) and make: each target sets up .venv from the lock first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-from-lock
SOLUTION_NOTEBOOKS := $(patsubst %.py,%.ipynb,$(wildcard solutions/[0-9][0-9]_*.py))
NBVAL_SANITIZE := tests/nbval_sanitize.cfg
# Chapters run on the CPU. Without this, jax also probes for a GPU and prints a warning into every notebook.
export JAX_PLATFORMS ?= cpu
export PYTHONHASHSEED := 0
# JAX's persistent compilation cache, in a course-local folder: a program that one process compiled
# (a unit test, the solutions' nbval pass, an earlier run) is loaded by the next one instead of being
# compiled again. The cache key includes XLA_FLAGS and the library versions, so test-isa and an
# upgrade compile afresh. Switch it off with `make test JAX_CACHE=`.
# Its limit, measured (make bench, "Chapters"): JAX never writes a program that holds a host callback
# to the cache (jax/_src/compiler.py, _cache_write). Training runs made of course_lib's code alone
# (dqn/ppo.make_train without the learner's code) are traced without their input checks, which cannot
# fail there (course_lib._validate.library_only), so they are cached. A run that holds the learner's
# code keeps its checks, and a progress bar is a callback too: those compile again each run.
# Every other program is cached, however quick its compile: chapter 01 compiles about 155 programs under
# 0.5 s each, 4 s in all, and its second run read them back in 0.3 s (0.82 of the first run, against
# 0.96 with a 0.5 s floor, side by side in one sitting; make bench's "Chapters" gives today's figures).
JAX_CACHE ?= $(CURDIR)/.cache/jax
ifneq ($(strip $(JAX_CACHE)),)
export JAX_COMPILATION_CACHE_DIR := $(JAX_CACHE)
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS ?= 0
endif

.PHONY: help setup test test-isa book test-browser vendor bench lab progress chapters execute lock clean

help:
	@echo "make test      set up .venv if needed, then run every test (library, sync, notebooks, book)"
	@echo "make test-isa  nbval on solutions/ again, XLA compiling for a lower instruction set (AVX)"
	@echo "make book      set up .venv if needed, then build the static site in jupyter_book/_build/html"
	@echo "make test-browser  build the book, then check every chapter page in headless Chromium (needs Debian's chromium, chromium-driver)"
	@echo "make vendor    fetch the book's MathJax from the npm registry at its pinned version (needs npm; the files are committed)"
	@echo "make bench     measure the course's code against gymnax, gymnasium and Python loops, and time every chapter (~20 min)"
	@echo "make lab       JupyterLab on the chapters (.py files open as notebooks)"
	@echo "make progress  check every exercise in your chapters/ and print a table (changes none of your files)"
	@echo "make chapters  regenerate chapters/ from solutions/ (skips a chapter you edited; ARGS=--force backs it up first)"
	@echo "make execute   re-run every solution notebook whose .py changed, storing its outputs"
	@echo "make lock      write requirements.lock from the current .venv"

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m tools.lab_settings $(VENV)
	touch $@

# Two notebooks at a time, one kernel each (XLA compiles on one thread, so a lone kernel leaves a core
# idle); the cells of one notebook stay in order in one kernel.
NBVAL_PARALLEL := -n 2 --dist loadscope

# The chapters' nbval pass runs a fresh generation in FRESH_CHAPTERS, never the files in chapters/, which
# may hold a learner's work. The --check names a chapter a learner edited without failing; it fails on a
# chapter that is out of date and untouched, and on any difference at all when CI is set (strict).
FRESH_CHAPTERS := .cache/chapters

test: $(STAMP)
	$(BIN)/python -m tools.make_chapters --check
	$(BIN)/python -m pytest tests -n 2 --dist loadfile --cov=course_lib --cov-report=term-missing:skip-covered --cov-fail-under=90
	$(BIN)/python -m pytest --nbval solutions/ --nbval-sanitize-with $(NBVAL_SANITIZE) -p no:randomly $(NBVAL_PARALLEL)
	$(BIN)/python -m tools.make_chapters --fresh $(FRESH_CHAPTERS)
	$(BIN)/python -m pytest --nbval-lax $(FRESH_CHAPTERS) $(NBVAL_PARALLEL)

# Results must hold on every CPU. XLA can only lower the instruction set it compiles for, so a second
# nbval pass with AVX (below AVX2 and AVX-512) runs other floating-point code, and other training runs,
# on the same machine: every compared output and every assertion must survive it. CI runs both.
LOWER_ISA ?= AVX
test-isa: $(STAMP)
	XLA_FLAGS="--xla_cpu_max_isa=$(LOWER_ISA) $(XLA_FLAGS)" $(BIN)/python -m pytest --nbval solutions/ --nbval-sanitize-with $(NBVAL_SANITIZE) -p no:randomly $(NBVAL_PARALLEL)

book: $(STAMP)
	$(BIN)/python -m tools.book_notebooks
	$(BIN)/jupyter-book build jupyter_book --warningiserror --keep-going
	@echo
	@echo "The book is built. Open: file://$(CURDIR)/jupyter_book/_build/html/index.html"

# The built book in headless Chromium, served on 127.0.0.1: equations typeset offline, no console
# errors, solutions folded until clicked, animations that play, no code wider than its column, the
# learner's notebook as the download. Screenshots: jupyter_book/_build/screenshots/. Needs Debian's
# chromium and chromium-driver (.ci/run installs them), so make test does not run it.
test-browser: book
	$(BIN)/python -m pytest tests/browser -m browser --no-cov -p no:randomly

# The book's MathJax, from the npm registry at the version and sha512 pinned in tools/vendor_assets.py,
# into jupyter_book/_vendor/ (committed, so set-up and make book need no npm and no network).
vendor: $(STAMP)
	$(BIN)/python -m tools.vendor_assets

# The bench extra (gymnax) is locked apart and laid over .venv with --no-deps: see the lock's header.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps -r benchmarks/requirements-bench.lock
	$(BIN)/python -m benchmarks --book jupyter_book

lab: $(STAMP)
	$(BIN)/jupyter lab chapters/ $(if $(filter 0,$(shell id -u)),--allow-root)

# Each exercise's answer and check in your chapters/, not the whole chapter: see course_lib/learner_progress.py.
progress: $(STAMP)
	$(BIN)/python -m course_lib.learner_progress chapters

chapters: $(STAMP)
	$(BIN)/python -m tools.make_chapters $(ARGS)

execute: $(STAMP) $(SOLUTION_NOTEBOOKS)

solutions/%.ipynb: solutions/%.py $(STAMP)
	$(BIN)/jupytext --to ipynb --execute $<

lock: $(STAMP)
	$(BIN)/python -m tools.write_lock

clean:
	rm -rf jupyter_book/_build jupyter_book/chapters .pytest_cache .coverage
