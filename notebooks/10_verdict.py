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
# **{glue:text}`c1_data_source`**, and a plain reading. The numbers are read from
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
from fmriemo.book.parameters import check_parameters

check_parameters(globals())  # one line naming a parameter that cannot be used
folder = (Path(chapters_dir) if chapters_dir else Path.cwd()) / results.FOLDER
found = {stem: results.load(folder, stem) for stem in verdict_rules.CHAPTERS}  # one line each if missing
results.start("10_verdict", folder, found["01_data"].settings)
evidence = verdict_rules.gather(found)  # findings, comparisons and gates: fmriemo/book/verdict.py
for finding in evidence.findings():  # what each chapter handed over, glued as c<chapter>_<field>
    for field, value in finding.record().items():
        glue(f"c{int(finding.CHAPTER[:2])}_{field}", value)
glue("c8_recovery_text", verdict_rules.recovery_text(evidence.attribution))
glue("training_text", verdict_rules.training_text(evidence))
glue("rating_text", verdict_rules.rating_text(evidence.beyond))
glue("class_corr_text", verdict_rules.class_corr_text(evidence.maps))
glue("scope_text", verdict_rules.scope_text(evidence.data.data_source.startswith("the built-in surrogate")))

# %%
verdict = table("verdict", verdict_rules.claims(evidence))  # the rules: fmriemo/book/verdict.py
verdict.style.hide(axis="index")

# %% tags=["remove-input"]
glue("n_supported", int((verdict["reading"] == verdict_rules.SUPPORTED).sum()))
glue("n_partly", int((verdict["reading"] == verdict_rules.PARTLY).sum()))
glue("n_not_supported", int((verdict["reading"] == verdict_rules.NOT_SUPPORTED).sum()))
glue("n_unresolved", int((verdict["reading"] == verdict_rules.NOT_RESOLVED).sum()))
glue("n_claims", len(verdict))

# %% [markdown]
# Of the paper's {glue:text}`n_claims` claims listed, {glue:text}`n_supported`
# hold up on this data, {glue:text}`n_partly` partly, and
# {glue:text}`n_not_supported` are contradicted by the evidence; the
# remaining {glue:text}`n_unresolved` are **not resolved at this budget**:
# the evidence this build gathered cannot rank the methods either way, and
# the last column says why. A claim is never read as supported because one
# run happened to come out ahead, and never read as refuted because the
# models were not trained long enough: the two are different statements.
# {glue:text}`training_text`
#
# ## How the readings are decided
#
# Every claim rests on comparisons, each recorded by a chapter: a method
# against another (or against chance, random guessing, always "neutral, 0"),
# its difference averaged over the training seeds, and a 95% interval that
# resamples both the seeds of each model and the people or trials it is
# scored on. The rules (tested in `fmriemo/book/verdict.py`, one designed case
# for each row below and a property test over random evidence):
#
# 1. A comparison **ranks** two methods when its interval excludes zero, the
#    sign of the difference holds for most seeds, and every trained model in
#    it has at least two seeds. Otherwise it is not resolved, and says why.
# 2. A ranking **against** a claim is read first, whatever else holds.
# 3. A ranking **for** a claim also needs every run of both methods to have
#    left its validation plateau and to have finished before the epoch cap:
#    a run that kept a checkpoint on its plateau was never trained, and one
#    the cap cut off was still learning.
#
# The table below is every comparison the claims rest on, with its numbers,
# the runs' flags and the outcome of these rules.

# %%
decisions = table("decisions", verdict_rules.decision_table(evidence))
decisions.style.hide(axis="index").format({"difference": "{:+.3f}"}, na_rep="-")

# %% [markdown]
# **On the paper's own split** the three methods' mean macro F1 over seeds
# are {glue:text}`c3_asb_f1_mean:.2f` (ASB), {glue:text}`c3_vanilla_f1_mean:.2f` (Vanilla) and
# {glue:text}`c3_ebr_f1_mean:.2f` (EBR); ASB ranked first in
# {glue:text}`c3_asb_wins:.3g` of {glue:text}`c3_n_seeds:.0f` seeds, and one run's
# 95% interval spans {glue:text}`c3_asb_acc_lo:.2f` to {glue:text}`c3_asb_acc_hi:.2f`:
# 48 test trials cannot order methods this close.
#
# **On new participants**, the question a user has, ASB classifies
# {glue:text}`c7_acc_asb:.2f` of trials correctly over {glue:text}`c7_n_seeds:.0f`
# seeds (interval over participants and seeds {glue:text}`c7_acc_asb_lo:.2f` to
# {glue:text}`c7_acc_asb_hi:.2f`, chance {glue:text}`c7_chance:.2f`). A linear
# model on percent signal change reaches {glue:text}`c7_acc_logreg:.2f`
# (permutation p = {glue:text}`c7_perm_p_logreg:.3f`) and this book's Compact
# model {glue:text}`c7_acc_compact:.2f`.
#
# **The SE maps**: their top regions overlap the EBR set
# {glue:text}`c6_ebr_overlap:.0f` times where {glue:text}`c6_ebr_expected:.1f` are
# expected by chance; maps from different seeds correlate
# {glue:text}`c6_stab_spearman:.2f`; the maps of the three classes correlate
# {glue:text}`class_corr_text`; and they correlate
# {glue:text}`c8_rho_se_ig:.2f` with integrated gradients and
# {glue:text}`c8_rho_se_occ:.2f` with occlusion of the same models.
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
# {cite}`poldrack2020prediction`. No cell is typed in: each status is
# computed when this page runs, from evidence gathered on the data set with
# the code the chapters call: which participants, trials and order twins land
# on both sides of every split (the deep models' own nested splits included);
# whether each preprocessing gives a trial the same values with or without
# the other trials present; how well a classifier that sees only the trial's
# position in the session does across each split (a position that predicts
# the class is a feature a model could read from slow drifts of the fMRI);
# whether the test trials' classes and ratings are distributed as the
# training trials' are; label-scrambling runs of chapter 7's own baselines,
# the search and the time-resolved read-outs (a fold's labels shuffled: its
# predictions must not move); and the chapters' results files. A test feeds
# every cell the evidence that opens it. Hover over a mark for the reason;
# under the grid, the open cells are spelled out with their evidence, and
# every cell in the block below them.

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

