# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Verdict
#
# Each claim of the paper {cite}`seedposter2024`, what this book found on
# **{glue:text}`data_source`**, and a plain reading. The numbers are read from
# the results files of the chapters executed in this build (each chapter writes
# `results/<chapter>.json`; this page reads them), so they change when the book
# is rebuilt on other data or with other parameters. Every chapter's results
# are linked for download under this page's title.

# %% tags=["parameters"]
import os  # the profile defaults to $FMRIEMO_PROFILE where it is set

chapters_dir = ""      # folder of the executed chapters; empty: this notebook's folder
profile = os.environ.get("FMRIEMO_PROFILE", "full")  # the chapters' profile (the sheet re-runs their splits)
data_dir = ""          # the chapters' data: the sheet's checks run on it; empty: the built-in surrogate
labels_csv = ""        # optional released-labels CSV
surrogate_seed = 2024  # seed of the surrogate data set
cache_dir = ""         # cache for data; empty: ~/.cache/fmriemo

# %% tags=["remove-input"]
from pathlib import Path

from fmriemo.book import results
from fmriemo.book import verdict as verdict_rules
from fmriemo.book.chapter import glue, table

folder = (Path(chapters_dir) if chapters_dir else Path.cwd()) / results.FOLDER
found = {stem: results.load(folder, stem) for stem in verdict_rules.CHAPTERS}  # one line each if missing
results.start("10_verdict", folder, found["01_data"].settings)
v = verdict_rules.collect(found)  # the values the rules read: fmriemo/book/verdict.py SOURCES
ch1, ch4 = found["01_data"], found["04_level_task"]
glue("data_source", ch1["data_source"])
for key, value in v.items():
    glue(key, value)
glue("c8_recovery_text", verdict_rules.recovery_text(v))
glue("training_text", verdict_rules.training_text(v))
glue("rating_text", verdict_rules.rating_text(v))
glue("class_corr_text", verdict_rules.class_corr_text(v))
glue("scope_text", verdict_rules.scope_text(ch1["data_source"].startswith("the built-in surrogate")))

# %%
verdict = table("verdict", verdict_rules.claims(v, ch4["majority_level"]))  # the rules: fmriemo/book/verdict.py
verdict.style.hide(axis="index")

# %% tags=["remove-input"]
glue("n_supported", int((verdict["reading"] == "supported").sum()))
glue("n_untested", int(verdict["reading"].str.startswith("could not").sum()))
glue("n_claims", len(verdict))

# %% [markdown]
# Of the paper's {glue:text}`n_claims` claims listed, {glue:text}`n_supported`
# hold up on this data by the rules in the table's last column (stated and
# tested in `fmriemo/book/verdict.py`: a claim about new participants needs a
# permutation or paired p-value below 0.05 and an interval clear of chance), and
# {glue:text}`n_untested` could not be tested because the models they rest on
# were not trained past their plateau. {glue:text}`training_text`
#
# **On the paper's own split** the three methods' mean macro F1 over seeds
# are {glue:text}`c3_asb:.2f` (ASB), {glue:text}`c3_van:.2f` (Vanilla) and
# {glue:text}`c3_ebr:.2f` (EBR); ASB ranked first in
# {glue:text}`c3_wins:.3g` of {glue:text}`c3_seeds:.0f` seeds, and one run's
# 95% interval spans {glue:text}`c3_asb_lo:.2f` to {glue:text}`c3_asb_hi:.2f`:
# 48 test trials cannot order methods this close.
#
# **On new participants**, the question a user has, ASB classifies
# {glue:text}`c7_asb:.2f` of trials correctly (interval over participants
# {glue:text}`c7_asb_lo:.2f` to {glue:text}`c7_asb_hi:.2f`, chance
# {glue:text}`c7_chance:.2f`). A linear model on percent signal change
# reaches {glue:text}`c7_logreg:.2f` (permutation p =
# {glue:text}`c7_perm_logreg:.3f`) and this book's Compact model
# {glue:text}`c7_compact:.2f`.
#
# **The SE maps**: their top regions overlap the EBR set
# {glue:text}`c6_overlap:.0f` times where {glue:text}`c6_expected:.1f` are
# expected by chance; maps from different seeds correlate
# {glue:text}`c6_stab:.2f`; the maps of the three classes correlate
# {glue:text}`class_corr_text`; and they correlate
# {glue:text}`c8_se_ig:.2f` with integrated gradients and
# {glue:text}`c8_se_occ:.2f` with occlusion of the same models.
# {glue:text}`c8_recovery_text`
#
# **The rating**: {glue:text}`rating_text`
#
# ```{admonition} What this page does not say
# :class: note
# {glue:text}`scope_text`
# ```

# %% [markdown]
# ## Appendix: the leakage and practice sheet
#
# Every protocol of the book, and the paper's own, against the kinds of
# leakage that invalidate decoding studies {cite}`kapoor2023leakage` and the
# checklist of prediction practice for neuroimaging
# {cite}`poldrack2020prediction`. No cell is typed in: each is computed when
# this page runs, from the data set and the split functions the chapters
# call (which participants, trials and order twins land on both sides of a
# split; whether each preprocessing gives a trial the same values with or
# without the other trials present), from label-scrambling runs of the
# linear read-outs (a fold's labels shuffled: its predictions must not move),
# or from the chapters' results files. Hover over a mark for the reason; under
# the grid, the open cells are spelled out with their evidence, and every
# cell in the block below them.

# %% tags=["remove-input"]
from IPython.display import HTML

from fmriemo.book import sheet
from fmriemo.data.source import open_dataset

ds = open_dataset(data_dir, labels_csv, surrogate_seed, cache_dir)
long = table("leakage_sheet", sheet.build(ds, found, profile))
glue("sheet_open", int((long["status"] == "open").sum()))
glue("sheet_open_paper", int(((long["status"] == "open") & (long["protocol"] == sheet.PROTOCOLS["paper"][0])).sum()))
glue("sheet_cells", len(long))
glue("sheet_open_text", sheet.open_text(long))
HTML(sheet.to_html(long))

# %% [markdown]
# Of the {glue:text}`sheet_cells` cells, {glue:text}`sheet_open` are open,
# {glue:text}`sheet_open_paper` of them in the paper's own protocol.
# {glue:text}`sheet_open_text`

# %% tags=["remove-input"]
HTML(sheet.details_html(long))

