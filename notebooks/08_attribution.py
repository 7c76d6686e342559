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
# # 8. Do the SE weights mark the regions that matter?
#
# ASB's input SE weights are gains, not measurements of importance
# (chapter 6). This chapter sets them beside two attribution methods that do
# measure an effect on the model's output, on the same held-out participants
# and the same models as chapter 7:
#
# * **integrated gradients** (captum): the gradient of the predicted class
#   integrated along a path from an all-zero input, summed in absolute value
#   over the 25 seconds of each region;
# * **occlusion**: how much the predicted class's probability changes when
#   one region's time course is replaced by its average over the test trials.
#
# For each outer fold and seed ({glue:text}`n_runs` models) the three maps are
# computed on that fold's held-out trials, then compared: do they agree, are
# they stable across folds and seeds, and (on the surrogate) which one finds
# the regions that carry the planted signal? A linear model's coefficients on
# percent-change features serve as a reference map.

# %% tags=["parameters"]
import os  # the profile defaults to $FMRIEMO_PROFILE where it is set

data_dir = ""          # challenge folder; empty: the built-in surrogate
labels_csv = ""        # optional released-labels CSV
surrogate_seed = 2024  # seed of the surrogate data set
seed = 0               # first training seed
n_seeds = None         # training seeds per fold; None: the profile's, as in chapter 7
protocol = None        # "loso" or "groupkfold"; None: the profile's, as in chapter 7
k = None               # folds for "groupkfold"; None: the profile's, as in chapter 7
n_val = 2              # validation participants inside each training fold
interactive_map = "ig"  # the map shown in 3-D: "se", "ig", "occlusion" or "logreg"
ig_steps = None        # integrated-gradients steps; None: the profile's (full: 32, quick: 8)
profile = os.environ.get("FMRIEMO_PROFILE", "full")  # "quick" (CI, Binder), "full" (the book) or "paper"
epochs = None          # epoch budget; None: the profile's
device = "auto"        # "auto", "cpu" or "cuda"
cache_dir = ""         # cache for data and trained models; empty: ~/.cache/fmriemo

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from fmriemo.book import maps, text
from fmriemo.book.chapter import glue, hand_over, open_chapter, table
from fmriemo.book.findings import Attribution
from fmriemo.data import preprocess
from fmriemo.evaluation import attribution, heldout, regions
from fmriemo.evaluation.baselines import baseline_pipeline
from fmriemo.profiles import profile_row

chapter = open_chapter("08_attribution", globals(), progress=False)  # the data, chapter 7's settings, the planted truth
ds, settings, truth = chapter.data, chapter.settings, chapter.truth  # truth: None on real data
steps = ig_steps or profile_row(profile)["ig_steps"]

# %%
METHODS = {"se": "SE weight", "ig": "integrated gradients", "occlusion": "occlusion"}
runs = heldout.fold_runs(ds, "asb", "class", settings=settings)  # chapter 7's ASB fold models
X = preprocess.minmax_trial(ds.X)
per_run = [attribution.region_maps(r.load_model(), X[r.test_index], tuple(METHODS), n_steps=steps) for _, _, r in runs]
stacked = {m: np.stack([pr[m] for pr in per_run]) for m in METHODS}
mean_maps = {m: v.mean(0) for m, v in stacked.items()}

# reference: a linear model on percent-change features, fitted on all training participants
lab = ds.labelled_train
lin = baseline_pipeline("logreg").fit(ds.X[lab].reshape(lab.sum(), -1), ds.labels("class", lab))
mean_maps["logreg"] = np.abs(lin[-1].coef_).mean(0)
LABELS = {**METHODS, "logreg": "linear model |coefficient|"}

# %% tags=["remove-input"]
glue("n_runs", len(runs))
glue("ig_steps", steps)

# %% [markdown]
# ## The maps side by side (mean over folds and seeds)

# %%
fig, axes = plt.subplots(len(mean_maps), 1, figsize=(11, 2.9 * len(mean_maps)))
for ax, (m, v) in zip(axes, mean_maps.items()):
    maps.region_markers(v, title=LABELS[m], cmap="magma", axes=ax)
plt.show()

# %% [markdown]
# The same kind of interactive view as chapter 6's SE map, here for
# {glue:text}`interactive_label` (drag to rotate; the ten regions with the
# largest values are named).

# %%
if interactive_map not in LABELS:
    raise ValueError(f"interactive_map must be one of {', '.join(LABELS)}, got {interactive_map!r}")
maps.interactive_markers(mean_maps[interactive_map], title=LABELS[interactive_map], cmap="magma")

# %% tags=["remove-input"]
glue("interactive_label", LABELS[interactive_map])

# %% [markdown]
# ## Do they agree?
#
# Spearman rank correlation between the maps of the same model on the same
# trials, averaged over the {glue:text}`n_runs` models.

# %%
pairs = [("se", "ig"), ("se", "occlusion"), ("ig", "occlusion")]
agree = pd.DataFrame({f"{LABELS[a]} vs {LABELS[b]}": [
    np.mean([stats.spearmanr(pr[a], pr[b]).statistic for pr in per_run])] for a, b in pairs},
    index=["mean Spearman"]).T
table("agreement", agree).round(3)

# %% tags=["remove-input"]
glue("rho_se_ig", float(agree.iloc[0, 0]))
glue("rho_se_occ", float(agree.iloc[1, 0]))
glue("rho_ig_occ", float(agree.iloc[2, 0]))

# %% [markdown]
# The SE weights correlate {glue:text}`rho_se_ig:.2f` with integrated
# gradients and {glue:text}`rho_se_occ:.2f` with occlusion; the two
# attribution methods correlate {glue:text}`rho_ig_occ:.2f` with each other.
#
# ## Are they stable across folds and seeds?
#
# Mean pairwise Spearman correlation between the maps of different models
# (different held-out participants and seeds), and the overlap of their top-20
# regions.

# %%
stab = pd.DataFrame({LABELS[m]: regions.map_stability(v, 20) for m, v in stacked.items()}).T
table("stability", stab[["spearman", "topk_jaccard", "pairs"]]).round(3)

# %% tags=["remove-input"]
for m in METHODS:
    glue(f"stab_{m}", float(stab.loc[LABELS[m], "spearman"]))

# %% [markdown]
# Across models, SE-weight maps correlate {glue:text}`stab_se:.2f` on average,
# integrated-gradients maps {glue:text}`stab_ig:.2f` and occlusion maps
# {glue:text}`stab_occlusion:.2f`.
#
# ## Which map finds the planted regions? (surrogate only)

# %%
rec = None
if truth is not None:  # the surrogate: which map ranks the regions that carry its signal highest
    planted = np.array(truth["planted_regions"])
    rec = pd.DataFrame({
        "AUROC of the mean map": {LABELS[m]: regions.ranking_auroc(v, planted) for m, v in mean_maps.items()},
        f"precision at {len(planted)}": {LABELS[m]: regions.precision_at_k(v, planted, len(planted))
                                         for m, v in mean_maps.items()},
        "AUROC per model (mean)": {LABELS[m]: np.mean([regions.ranking_auroc(x, planted) for x in stacked[m]])
                                   for m in METHODS},
    })
rec.round(3) if rec is not None else "Real data: the regions that carry the signal are unknown."

# %% tags=["remove-input"]
auc = rec["AUROC of the mean map"] if rec is not None else None
for m, name in LABELS.items():
    glue(f"auc_{m}", float(auc[name]) if auc is not None else float("nan"))
glue("best_recovery", auc.idxmax() if auc is not None else "not measurable on real data")
glue("recovery_text", text.attribution_recovery_text(auc))

# %% [markdown]
# {glue:text}`recovery_text`
#
# ```{admonition} Reading this chapter
# :class: important
# SE weights can only be read as a brain map if they agree with methods that
# measure what a region does to the output, and if they are stable across
# the people and seeds a model is trained on. Where the numbers above are
# low, the paper's maps describe one trained network, not the brain. And an
# attribution of a model that does not beat chance on new participants
# (chapter 7) explains noise, however stable it looks.
# ```

# %% [markdown]
# ## What the verdict reads from this chapter
#
# The numbers of this page that the verdict's rules and sentences use, handed
# over as the chapter's finding (`fmriemo.book.findings.Attribution`), each
# under the name the prose above glues it with. It is all the verdict reads
# from this page.

# %%
hand_over(Attribution)
