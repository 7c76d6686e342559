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
# the chapters executed in this build (each chapter glues them; this page
# collects them), so they change when the book is rebuilt on other data or
# with other parameters.

# %% tags=["remove-cell"]
# Where fmriemo is not installed (a hosted notebook service opened on this
# repository), install it from the checkout that holds this notebook.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("fmriemo") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", ".."], check=True)

# %% tags=["parameters"]
import os  # the profile defaults to $FMRIEMO_PROFILE where it is set

chapters_dir = ""      # folder of the executed chapters; empty: this notebook's folder
profile = os.environ.get("FMRIEMO_PROFILE", "full")  # $FMRIEMO_PROFILE (Binder: quick); unused here; kept so every chapter takes the same parameters
data_dir = ""          # unused here (the chapters' data are reported)
labels_csv = ""        # unused here
surrogate_seed = 2024  # unused here
cache_dir = ""         # unused here

# %%
from pathlib import Path

import numpy as np
import pandas as pd

from fmriemo import verdict as verdict_rules
from fmriemo.book import glue, read_glued

folder = Path(chapters_dir) if chapters_dir else Path.cwd()


def chapter(stem):
    nb = folder / f"{stem}.ipynb"
    return read_glued(nb) if nb.exists() else {}


def num(values, key):
    try:
        return float(values[key])
    except (KeyError, TypeError, ValueError):
        return float("nan")


ch1, ch3, ch4, ch5 = chapter("01_data"), chapter("03_class_task"), chapter("04_level_task"), chapter("05_challenge")
ch6, ch7, ch8, ch9 = chapter("06_brain_maps"), chapter("07_held_out"), chapter("08_attribution"), \
    chapter("09_level_and_beyond")
glue("data_source", ch1.get("data_source", "'(chapter 1 not executed)'").strip("'\""))

v = {
    "c3_asb": num(ch3, "asb_f1_mean"), "c3_van": num(ch3, "vanilla_f1_mean"), "c3_ebr": num(ch3, "ebr_f1_mean"),
    "c3_wins": num(ch3, "asb_wins"), "c3_seeds": num(ch3, "n_seeds"),
    "c3_asb_lo": num(ch3, "asb_acc_lo"), "c3_asb_hi": num(ch3, "asb_acc_hi"),
    "c4_asb": num(ch4, "asb_f1_mean"), "c4_const": num(ch4, "const_f1"),
    "c4_rand": num(ch4, "rand_f1_mean"), "c4_rand_p95": num(ch4, "rand_f1_p95"),
    "c5_p1": num(ch5, "p1_main"), "c5_p2": num(ch5, "p2_main"), "c5_neutral": num(ch5, "p1_neutral"),
    "c6_overlap": num(ch6, "ebr_overlap"), "c6_expected": num(ch6, "ebr_expected"), "c6_p": num(ch6, "ebr_p"),
    "c6_stab": num(ch6, "stab_spearman"), "c6_class_corr": num(ch6, "class_map_corr"),
    "c7_asb": num(ch7, "acc_asb"), "c7_asb_lo": num(ch7, "acc_asb_lo"), "c7_asb_hi": num(ch7, "acc_asb_hi"),
    "c7_van": num(ch7, "acc_vanilla"), "c7_ebr": num(ch7, "acc_ebr"), "c7_chance": num(ch7, "chance"),
    "c7_p_av": num(ch7, "p_asb_vs_vanilla"), "c7_p_ae": num(ch7, "p_asb_vs_ebr"),
    "c7_perm_asb": num(ch7, "perm_p_asb"), "c7_logreg": num(ch7, "acc_logreg"),
    "c7_compact": num(ch7, "acc_compact"), "c7_perm_logreg": num(ch7, "perm_p_logreg"),
    "c8_se_ig": num(ch8, "rho_se_ig"), "c8_se_occ": num(ch8, "rho_se_occ"), "c8_auc_se": num(ch8, "auc_se"),
    "c8_auc_ig": num(ch8, "auc_ig"), "c8_stab_se": num(ch8, "stab_se"),
    "c9_paper": num(ch9, "paper9"), "c9_aware": num(ch9, "asb_aware"),
    "c3_plateau": num(ch3, "n_on_plateau"), "c3_runs": num(ch3, "n_runs"),
    "c4_plateau": num(ch4, "n_on_plateau"), "c4_runs": num(ch4, "n_runs"),
    **{f"c7_plateau_{m}": num(ch7, f"plateau_{m}") for m in ("asb", "vanilla", "ebr")},
    **{f"c7_runs_{m}": num(ch7, f"runs_{m}") for m in ("asb", "vanilla", "ebr")},
}
for key, value in v.items():
    glue(key, value)
glue("c8_recovery_text",
     f"On the surrogate, where the signal's regions are known, SE weights find them with an AUROC of "
     f"{v['c8_auc_se']:.2f} against {v['c8_auc_ig']:.2f} for integrated gradients."
     if np.isfinite(v["c8_auc_se"]) else
     "On real data the regions that carry the signal are unknown, so which map finds them cannot be scored.")


glue("training_text", verdict_rules.training_text(v))
verdict = verdict_rules.claims(v, ch4.get("majority_level", "?"))  # the rules: fmriemo/verdict.py
corr = v["c6_class_corr"]
glue("class_corr_text", "more than 0.999" if corr > 0.999 else f"at least {corr:.2f}")
on_surrogate = ch1.get("data_source", "").strip("'\"").startswith("the built-in surrogate")
glue("scope_text",
     "These readings are about the method's behaviour on the built-in surrogate, data calibrated to look like "
     "the challenge's, not about the brain. Rebuild the book with the real data (`make book DATA_DIR=...`) and "
     "this page is recomputed from those chapters." if on_surrogate else
     "These readings come from the training participants and the released test labels of this data set; "
     "the numbers of a 48-trial split or of four test participants carry the intervals shown in the chapters.")
glue("n_supported", int((verdict["reading"] == "supported").sum()))
glue("n_untested", int(verdict["reading"].str.startswith("could not").sum()))
glue("n_claims", len(verdict))
verdict.style.hide(axis="index")

# %% [markdown]
# Of the paper's {glue:text}`n_claims` claims listed, {glue:text}`n_supported`
# hold up on this data by the rules in the table's last column (stated and
# tested in `fmriemo/verdict.py`: a claim about new participants needs a
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
# **The rating**: a class-aware rating built on ASB's class predictions
# scores {glue:text}`c9_aware:.4f` on held-out participants against
# {glue:text}`c9_paper:.4f` for the paper's 9-way rating model.
#
# ```{admonition} What this page does not say
# :class: note
# {glue:text}`scope_text`
# ```
