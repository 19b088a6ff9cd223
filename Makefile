# The two set-up commands of the README:
#   make book   executes every chapter notebook at the default scale and builds the HTML book
#   make test   runs the unit tests and strict nbval on the committed notebooks
# Both create the environment (.venv, exact pins from constraints.txt) and fetch the offline assets
# when missing. Python 3.11 is expected (3.10+ works); override with `make PYTHON=python3.12 ...`.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.camlib-installed
ASSETS := data/assets/.complete
export CAMLIB_STATIC_PROGRESS := 1
export PYTHONHASHSEED := 0
export OMP_NUM_THREADS := 2
export MPLBACKEND := Agg

.PHONY: env assets notebooks book unit nbval test browser bench clean

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --upgrade pip
	$(PY) -m pip install --disable-pip-version-check -c constraints.txt -e ".[book,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

assets: env
	$(PY) -m camlib.data.fetch

notebooks: assets
	$(PY) scripts/execute_notebooks.py notebooks/*.ipynb

book: notebooks
	$(PY) -m jupyter_book build . --builder html --warningiserror --keep-going
	@echo "book: open _build/html/index.html"

unit: assets
	$(PY) -m pytest tests

nbval: assets
	$(PY) -m pytest --nbval notebooks/ --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

test: unit nbval

clean:
	rm -rf _build
