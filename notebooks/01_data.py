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
# # 1. The data
#
# The challenge {cite}`icbhi2024challenge` recorded fMRI from 20 participants
# while each watched 30 short videos {cite}`dicrosta2020caav`, 10 of negative,
# 10 of neutral and 10 of positive valence, and rated each video on a
# 9-point scale. Every trial is reduced to the mean BOLD signal of the 246
# regions of the Brainnetome atlas {cite}`fan2016brainnetome`, sampled once a
# second for 25 seconds: the last 5 s of fixation, 15 s of video
# (samples 5 to 19) and 5 s after it.
#
# This chapter loads a folder in the challenge's layout, checks it, and looks
# at what a model will be fed. It runs on
# **{glue:text}`data_source`**.
#
# To use the real challenge data, set `data_dir` below (or run
# `make book DATA_DIR=/path/to/challenge`); nothing else changes.

# %% tags=["parameters"]
import os  # the profile defaults to $FMRIEMO_PROFILE where it is set

data_dir = ""          # challenge folder holding Train/ and Test/; empty: the built-in surrogate
labels_csv = ""        # optional released-labels CSV (Participant,Trial,CLASS,LEVEL)
surrogate_seed = 2024  # seed of the surrogate data set (used when data_dir is empty)
seed = 0               # seed for the example trial shown below
profile = os.environ.get("FMRIEMO_PROFILE", "full")  # "quick" (CI, Binder), "full" (the book) or "paper"
cache_dir = ""         # where the surrogate and trained models are cached; empty: ~/.cache/fmriemo

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from fmriemo.book import maps, plots
from fmriemo.book.chapter import glue, hand_over, open_chapter
from fmriemo.book.findings import DataSource
from fmriemo.book.text import data_source_text, planted_text
from fmriemo.data import atlas, preprocess
from fmriemo.data.dataset import CLASS_NAMES, class_level_table
from fmriemo.data.loader import folder_tree
from fmriemo.evaluation.calibration import between_share

chapter = open_chapter("01_data", globals())  # parameters checked; the data, its folder, what the surrogate planted
ds, folder, truth = chapter.data, chapter.folder, chapter.truth  # truth: None on real data

# %% tags=["remove-input"]
glue("data_source", data_source_text(data_dir, surrogate_seed))

# %% [markdown]
# ## The folder
#
# The loader (`fmriemo.data.loader.load_challenge`) expects `Train/P01 ...`
# with `fMRI_data.npz` (key `data`, trials x 246 x 25) and `labels.npz`
# (CLASS, LEVEL per trial), and `Test/P17 ...` with fMRI only. Names are
# matched ignoring case; physiology files are not needed. Anything else stops
# with one message naming the file, so `fmriemo check DATA_DIR` is the first
# thing to run on a new copy.

# %%
print(folder_tree(folder))

# %%
summary = ds.summary()
overview = pd.DataFrame({
    "participants": {s: len(v) for s, v in summary["participants"].items()},
    "trials": summary["trials"],
    "labelled trials": summary["labelled_trials"],
})
overview

# %% tags=["remove-input"]
glue("n_train_participants", overview.loc["train", "participants"])
glue("n_test_participants", overview.loc["test", "participants"])
glue("n_train_trials", overview.loc["train", "labelled trials"])
glue("n_test_labelled", overview.loc["test", "labelled trials"])

# %% [markdown]
# There are {glue:text}`n_train_participants` training participants with
# {glue:text}`n_train_trials` labelled trials, and
# {glue:text}`n_test_participants` test participants, of whose trials
# {glue:text}`n_test_labelled` have released labels (the challenge's Phase II
# released 9 per test participant).
#
# ## Labels: valence class and rating
#
# CLASS is the video's predefined category; LEVEL is the participant's own
# rating. The two agree in sign most of the time but not always: people
# sometimes rate a "neutral" clip as mildly pleasant, or a positive clip as 0.

# %%
train = ds.subset(ds.labelled_train)
tab = class_level_table(train.y_class, train.y_level)
plots.class_level_heatmap(tab, title="Training trials by CLASS (rows) and LEVEL (columns)")
plt.show()

# %% tags=["remove-input"]
glue("sign_agree_pct", 100 * np.mean(np.sign(train.y_level) == train.y_class))
glue("level0_pct", 100 * pd.Series(train.y_level).value_counts(normalize=True).get(0.0, 0.0))

# %% [markdown]
# The sign of the rating equals the class in
# {glue:text}`sign_agree_pct:.0f`% of training trials, and
# {glue:text}`level0_pct:.0f`% of all ratings are 0: the 9-level task is
# heavily unbalanced, which matters when reading its F1 scores later.
#
# ## One trial
#
# Raw values are scanner intensities. Each region has its own baseline (the
# horizontal bands below), thousands of units apart, while the changes within
# a trial are tens of units: a median of {glue:text}`temporal_sd_pct:.2f`% of the
# region's mean intensity.

# %%
rng = np.random.default_rng(seed)
i = int(rng.integers(len(train)))
fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
plots.trial_heatmap(train.X[i], ax=axes[0], title=f"{train.participant[i]} trial {train.trial[i]}: raw")
plots.trial_heatmap(preprocess.percent_change(train.X[i:i + 1])[0], ax=axes[1],
                    title="the same trial: % change from fixation", cbar_label="% change")
plt.show()

# %% tags=["remove-input"]
glue("raw_range", f"{train.X.min():,.0f} to {train.X.max():,.0f}")
glue("median_temporal_sd", float(np.median(train.X.std(axis=2))))
glue("temporal_sd_pct", float(100 * np.median(train.X.std(axis=2) / train.X.mean(axis=2))))

# %% [markdown]
# Across all training trials the raw values range from
# {glue:text}`raw_range`; the median standard deviation of a region within
# one trial is {glue:text}`median_temporal_sd:.0f` units.
#
# ## Time courses by class
#
# Class-average time courses (mean and standard error over trials) of percent
# signal change, with the video shaded. The first three regions are chosen in
# advance from the emotion literature (amygdala, anterior insula, and a
# visual region for the response every video evokes). The last three are the
# regions whose mean change during seconds 8-20 differs most between classes
# on *this* data (one-way ANOVA): they are selected by looking at the
# outcome, so their separation is optimistic by construction.

# %%
pct = preprocess.percent_change(train.X)
window = preprocess.window_mean(pct)
F, p = stats.f_oneway(*[window[train.y_class == c] for c in (-1, 0, 1)])
names = atlas.region_names()
a_priori = [names.index(n) for n in ("mAmyg_L", "dIa_R", "OPC_L")]
data_driven = [int(r) for r in np.argsort(-F) if r not in a_priori][:3]
fig = plots.class_time_courses(pct, train.y_class, a_priori + data_driven, names)
plt.show()

# %% tags=["remove-input"]
glue("top_F_regions", ", ".join(names[r] for r in data_driven))
glue("n_regions_p05", int((p < 0.05).sum()))
glue("n_regions_expected_05", 0.05 * atlas.N_REGIONS)

# %% [markdown]
# {glue:text}`n_regions_p05` of 246 regions differ between classes at
# p < 0.05 (uncorrected; about {glue:text}`n_regions_expected_05:.0f` would by
# chance), the strongest being {glue:text}`top_F_regions`. Note that these
# tests pool trials across participants and treat trials as independent, so
# they are descriptive, not inference.
#
# ## What the paper's min-max scaling does
#
# The paper scales each trial to [0, 1] with one minimum and one maximum over
# the whole 246 x 25 matrix {cite}`seedposter2024`. Because the spread
# between region *baselines* (thousands of units) dwarfs the changes within a
# trial (tens), the scaled trial is mostly a picture of the regions' average
# intensities, which differ by participant. Two alternatives a neuroimager
# would reach for (`fmriemo.data.preprocess`):
#
# * **percent signal change** from the trial's own fixation (first 5 s);
# * **per-participant z-scoring** of each region over all that participant's
#   trials (label-free, so it leaks nothing).
#
# One way to see the difference: for each feature (region x second), the
# share of its variance explained by *which participant* the trial came from
# versus by *which class* the video was (eta squared), averaged over features.

# %%
variants = {
    "min-max (paper)": preprocess.minmax_trial(train.X),
    "% change": pct,
    "participant z-score": preprocess.subject_zscore(train.X, train.participant),
}
eta = pd.DataFrame({name: {"variance explained by participant": between_share(v, train.participant).mean(),
                           "variance explained by class": between_share(v, train.y_class).mean()}
                    for name, v in variants.items()}).T  # eta squared of every feature, averaged over features
eta.style.format("{:.3f}")

# %% tags=["remove-input"]
glue("eta_part_minmax", eta.iloc[0, 0])
glue("eta_part_pct", eta.iloc[1, 0])
glue("eta_class_minmax", eta.iloc[0, 1])
glue("eta_class_pct", eta.iloc[1, 1])

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for ax, (name, v) in zip(axes, variants.items()):
    for c in (-1, 0, 1):
        m = v[train.y_class == c][:, a_priori[0], :].mean(0)
        ax.plot(m, color=plots.CLASS_COLORS[c], label=CLASS_NAMES[c + 1])
    plots.shade_video(ax)
    ax.set(title=f"{name}: {names[a_priori[0]]}", xlabel="second")
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# After min-max scaling, {glue:text}`eta_part_minmax:.2f` of a feature's
# variance is explained by the participant and {glue:text}`eta_class_minmax:.3f`
# by the class; after percent change the participant's share falls to
# {glue:text}`eta_part_pct:.2f` and the class's is {glue:text}`eta_class_pct:.3f`.
# A model fed min-max scaled trials must first learn to ignore who the
# participant is.
#
# ## The 246 regions and the EBR set
#
# Each dot is a Brainnetome region at its centroid (MNI152). The larger dots
# are the 32 "emotion-related" regions that the EBR model is fed, listed by
# the paper's authors and attributed to Lee et al. {cite}`lee2023dimensional`.

# %%
maps.highlight_regions(atlas.ebr_indices(), title="EBR regions (large) among all 246")
plt.show()
atlas.regions().loc[list(atlas.EBR_INDICES), ["index", "name", "lobe", "gyrus", "hemisphere"]].reset_index(drop=True)

# %% tags=["remove-input"]
glue("n_ebr", len(atlas.EBR_INDICES))
glue("ebr_unpaired", ", ".join(atlas.ebr_unpaired()))
glue("n_ebr_unpaired", len(atlas.ebr_unpaired()))

# %% [markdown]
# The list has {glue:text}`n_ebr` entries, but {glue:text}`n_ebr_unpaired`
# of them ({glue:text}`ebr_unpaired`) appear in one hemisphere only while
# the rest come in left-right pairs. It may be a transcription slip in the
# authors' list; this book uses the list exactly as published.

# %%
if truth is not None:  # the surrogate: the regions that carry its signal are known
    maps.highlight_regions(truth["planted_regions"], title="surrogate: regions carrying planted signal")
    plt.show()

# %% tags=["remove-input"]
if truth is not None:
    glue("n_planted", len(truth["planted_regions"]))
    glue("n_planted_in_ebr", len(np.intersect1d(truth["planted_regions"], atlas.ebr_indices())))
glue("planted_text", planted_text(truth))

# %% [markdown]
# ```{admonition} About the surrogate
# :class: note
# When no `data_dir` is given the book generates a surrogate data set in the
# challenge's exact layout (`fmriemo.data.surrogate`), calibrated on
# summary statistics of the real recordings: region baselines, participant
# offsets, slow drift between trials, within-trial noise and its
# autocorrelation, a global signal and a response to every video.
# {glue:text}`planted_text` It is as hard
# as the real data for a linear model (about half the trials classified
# correctly across participants) and it lets later chapters check whether a
# method finds the regions that really carry the signal, which real data
# cannot tell. None of the methods read the planted set; only the checks do.
# ```

# %% [markdown]
# ## What the verdict reads from this chapter
#
# The numbers of this page that the verdict's rules and sentences use, handed
# over as the chapter's finding (`fmriemo.book.findings.DataSource`), each
# under the name the prose above glues it with. It is all the verdict reads
# from this page.

# %%
hand_over(DataSource)
