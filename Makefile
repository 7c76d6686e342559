# The README's two commands: `make book` and `make test`.
PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
PROFILE ?= full
DATA_DIR ?=
LABELS_CSV ?=
CACHE_DIR ?=
SURROGATE_SEED ?=
STAMP   := $(VENV)/.installed

.PHONY: setup book chapters html linkcheck test bench clean clean-cache

setup: $(STAMP)

# The venv is (re)built when missing or when the dependencies change.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[book,test]"
	touch $(STAMP)

# Execute every chapter with papermill, then build the static HTML.
book: chapters html
	@echo "The book is at $(CURDIR)/book/_build/html/index.html"

chapters: $(STAMP)
	$(VENV)/bin/fmriemo chapters --out book/chapters --profile $(PROFILE) \
	  $(if $(DATA_DIR),--data-dir "$(DATA_DIR)") $(if $(LABELS_CSV),--labels "$(LABELS_CSV)") \
	  $(if $(CACHE_DIR),--cache-dir "$(CACHE_DIR)") $(if $(SURROGATE_SEED),--surrogate-seed $(SURROGATE_SEED))

html: $(STAMP)
	$(VENV)/bin/jupyter-book build -W --keep-going book/

# Internal links of the built HTML must resolve; external ones are listed (not fetched offline).
linkcheck: $(STAMP)
	$(PY) -m fmriemo.linkcheck book/_build/html

test: $(STAMP)
	$(VENV)/bin/python -m pytest -ra

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/train_speed.py

clean:
	rm -rf book/_build book/chapters

clean-cache:
	rm -rf $${FMRIEMO_CACHE:-$$HOME/.cache/fmriemo}
