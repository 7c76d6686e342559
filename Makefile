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

.PHONY: setup book chapters html linkcheck browse test bench mutants clean clean-cache

setup: $(STAMP)

# The venv is (re)built when missing or when the dependencies change.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[book,test,cluster]"
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
	$(PY) -m fmriemo.book.linkcheck book/_build/html

# Open every page of the built book in headless Chromium (Debian's chromium package); screenshots
# under book/_build/html/screenshots.
browse: $(STAMP)
	$(PY) -m fmriemo.book.browser book/_build/html

# The tests spread over the CPU cores (pytest-xdist): the tests of one module stay on one worker
# (the chapter tests share their executed chapters and cache), modules handed out in the order
# collected, so that the long chapter modules start first; TEST_JOBS=0 runs them in this process.
TEST_JOBS ?= auto
test: $(STAMP)
	$(VENV)/bin/python -m pytest -ra -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/train_speed.py

# Mutation testing (mutmut) of the functions that decide the book's conclusions: the statistics,
# splits, the checkpoint rule, the cache key, challenge scoring, Phase II, the rating rule and the
# verdict's rules, against the tests marked `conclusions`. Not part of `make test` (it takes long);
# the survivors are written to benchmarks/mutants.txt.
MUTANTS ?= fmriemo.evaluation.statistics.x_permutation_vs_chance* fmriemo.evaluation.statistics.x_participant_sign_flip* \
  fmriemo.evaluation.statistics.x_bootstrap* fmriemo.evaluation.statistics.x_paired* \
  fmriemo.evaluation.statistics.x_mcnemar_exact* fmriemo.evaluation.statistics.x_compare_participants* \
  fmriemo.evaluation.statistics.x_compare_trials* fmriemo.evaluation.statistics.x_predictive_chance* \
  fmriemo.evaluation.statistics.x_sign_flip_clusters* fmriemo.evaluation.statistics.x__seed_differences* \
  fmriemo.evaluation.statistics.xǁComparisonǁ* \
  fmriemo.data.splits.x_group_folds* fmriemo.data.splits.x_nested_split* fmriemo.data.splits.x_order_groups* \
  fmriemo.data.splits.x_paper_split* fmriemo.training.loop.xǁEarlyStoppingǁ* fmriemo.training.loop.xǁPlateauWatchǁ* \
  fmriemo.training.runs.x_run_key* fmriemo.training.runs.x_numerics* \
  fmriemo.training.loop.x_plateau_exit* fmriemo.training.loop.x_still_improving* \
  fmriemo.training.config.xǁTrainConfigǁidentity* \
  fmriemo.metrics.x_smape* fmriemo.metrics.x_challenge_score* fmriemo.challenge.submission.x_score_tables* \
  fmriemo.challenge.phases.x_fine_tune_key* \
  fmriemo.challenge.ratings.x_smape_optimal_levels* fmriemo.challenge.ratings.x_class_aware_levels* \
  fmriemo.evaluation.timeresolved.x_clusters_over_time* fmriemo.evaluation.search.x__scored_features* \
  fmriemo.book.verdict.x_evidence_direction* fmriemo.book.verdict.x_rank* fmriemo.book.verdict.xǁGateǁ* \
  fmriemo.book.verdict.x_asb_claim* fmriemo.book.verdict.x_decodes_claim* fmriemo.book.verdict.x_level_claim* \
  fmriemo.book.verdict.x_score_claim* fmriemo.book.verdict.x_maps_claim* fmriemo.book.verdict.x__outcome* \
  fmriemo.book.sheet.x__*_cell* fmriemo.book.sheet.x_cells* fmriemo.book.findings.xǁFindingǁ* fmriemo.book.findings.x__number*

mutants: $(STAMP)
	$(PY) -m pip install --quiet "mutmut>=3.8,<4"
	$(VENV)/bin/mutmut run $(MUTANTS)
	$(VENV)/bin/mutmut results > benchmarks/mutants.txt || true
	@echo "surviving mutants: benchmarks/mutants.txt"

clean:
	rm -rf book/_build book/chapters

clean-cache:
	rm -rf $${FMRIEMO_CACHE:-$$HOME/.cache/fmriemo}
