# The two set-up commands of the README:
#   make book   executes every chapter notebook at the default scale and builds the HTML book
#   make test   runs the unit tests and strict nbval on the committed notebooks
# Both create the environment (.venv, exact pins from constraints.txt) and fetch the offline assets
# when missing. Python 3.11 is expected (3.10+ works); override with `make PYTHON=python3.12 ...`.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.camlib-installed
export CAMLIB_STATIC_PROGRESS := 1
export PYTHONHASHSEED := 0
export OMP_NUM_THREADS := 2

.PHONY: env assets notebooks book unit nbval test retrain browser-deps bench clean

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --upgrade pip
	$(PY) -m pip install --disable-pip-version-check -c constraints.txt -e ".[book,test,text,bench]"
	$(PY) -m pip install --disable-pip-version-check -c constraints.txt --no-deps rapidocr-onnxruntime grad-cam
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

assets: env
	$(PY) -m camlib.data.fetch

# the scorecard page reads the claims the chapters record as they run, so it comes last
notebooks: assets
	$(PY) scripts/execute_notebooks.py book/cam_in_30_lines.ipynb notebooks/*.ipynb book/scorecard.ipynb

book: notebooks
	$(VENV)/bin/jupyter-book build . --builder html --warningiserror --keep-going
	@echo "book: open _build/html/index.html"

# Headless Chromium for tests/test_book_browser.py (Debian packages; apt-get as root or via sudo).
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	elif sudo -n true 2>/dev/null; then sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	else echo "browser-deps: install chromium and chromium-driver (root needed: sudo apt-get install chromium chromium-driver)" >&2; exit 1; fi

unit: assets browser-deps
	CAMLIB_REQUIRE_BROWSER=1 $(PY) -m pytest -p no:cacheprovider --durations=15 tests

# two notebooks at a time (pytest-xdist, each notebook whole on one worker), one thread each: the chapters print the
# same at one thread as at two (tests/test_reader_machine.py), and on two cores this is faster than one at a time
NBVAL_WORKERS ?= 2
nbval: assets
	OMP_NUM_THREADS=1 $(PY) -m pytest -n $(NBVAL_WORKERS) --dist loadfile --nbval book/cam_in_30_lines.ipynb notebooks/ --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 7200 -p no:cacheprovider

# nbval first: the unit tests' reader's-machine check then reuses the cached composites and trunk maps
# (inference, not training) that the chapters made
test: nbval unit

# retrain every shipped network in a scratch folder and compare its metrics with the manifest (not in CI: about
# an hour on 2 cores); `$(PY) -m camlib.commands.retrain` alone trains and ships the missing or stale ones
retrain: assets
	$(PY) -m camlib.commands.retrain --check

bench: assets
	$(PY) bench/run_all.py

clean:
	rm -rf _build
