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
# # 6. SE-weight brain maps
#
# The paper's figures read ASB's input SE weights as a map of the regions the
# model "selected". This chapter draws those maps and then asks three
# questions of them: do the weights overlap the literature's emotion regions
# (EBR) more than chance; are they stable across training seeds; and, on the
# surrogate where the signal-carrying regions are known, do they find them?
#
# The weights are taken on **held-out participants**: chapter 5's Phase I
# ASB class models, {glue:text}`n_seeds` of them, applied to every trial of
# the test participants, who took no part in training.
# {glue:text}`models_text`

# %% tags=["parameters"]
import os  # the profile defaults to $FMRIEMO_PROFILE where it is set

data_dir = ""          # challenge folder; empty: the built-in surrogate
labels_csv = ""        # optional released-labels CSV
surrogate_seed = 2024  # seed of the surrogate data set
seed = 0               # first training seed
n_seeds = None         # training seeds, at least 2 (stability needs two); None: chapter 3's (full: 3, quick: 2)
phase1_split = "auto"  # as in chapter 5: "auto": chapter 3's models; "participants": checkpoints on others
n_val = 3              # training participants held out for checkpoint selection (the "participants" split)
top_k = 20             # size of the "top regions" set
profile = os.environ.get("FMRIEMO_PROFILE", "full")  # "quick" (CI, Binder), "full" (the book) or "paper"
epochs = None          # epoch budget; None: the profile's
device = "auto"        # "auto", "cpu" or "cuda"
cache_dir = ""         # cache for data and trained models; empty: ~/.cache/fmriemo

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from fmriemo.book import maps, plots, text
from fmriemo.book.chapter import glue, hand_over, open_chapter, table
from fmriemo.book.findings import BrainMaps
from fmriemo.challenge.phases import train_phase1
from fmriemo.challenge.submission import evaluation_labels
from fmriemo.data import atlas
from fmriemo.data.dataset import CLASS_NAMES, CLASS_VALUES
from fmriemo.evaluation import regions

chapter = open_chapter("06_brain_maps", globals(), paper_task="class",  # chapter 3's seeds: its runs are the maps' models
                       relations={"n_seeds": (n_seeds is None or n_seeds >= 2,
                                              "must be at least 2 (the maps' stability across seeds needs two)")})
ds, settings, folder, truth = chapter  # truth: None on real data
if len(settings.seeds) < 2:
    raise ValueError(f"n_seeds must be at least 2 (the maps' stability across seeds needs two); profile {profile!r} "
                     f"gives {len(settings.seeds)}: set n_seeds")
seeds = list(settings.seeds)
labels, _ = evaluation_labels(ds, folder)

# chapter 5's Phase I class models (by default chapter 3's, on every test trial), one per seed
runs = {s: train_phase1(ds, "asb", settings.replace(seeds=(s,)), tasks=("class",), split=phase1_split)["class"]
        for s in seeds}
gates = {s: r.gates for s, r in runs.items()}          # [test trials, 246] per seed
seed_maps = np.stack([g.mean(0) for g in gates.values()])
weights = seed_maps.mean(0)

# %% tags=["remove-input"]
glue("n_seeds", len(seeds))
glue("models_text", text.phase1_split_text(ds, {"asb": "ASB"}, phase1_split, seeds, n_val))
glue("n_trials", int(len(runs[seeds[0]].test_index)))
glue("w_min", float(weights.min()))
glue("w_max", float(weights.max()))
glue("w_sd", float(weights.std()))
glue("within_trial_sd", float(np.mean([g.std(1).mean() for g in gates.values()])))

# %% [markdown]
# ## The map
#
# Mean input SE weight of each region over the {glue:text}`n_trials`
# held-out trials and the seeds. The colour scale spans the 2nd to 98th
# percentile of the weights, so that the differences between regions show.

# %%
maps.region_markers(weights, title="ASB input SE weight (mean over held-out trials and seeds)", cmap="magma")
plt.show()

# %% [markdown]
# The mean weights run from {glue:text}`w_min:.3f` to {glue:text}`w_max:.3f`
# (standard deviation across regions {glue:text}`w_sd:.3f`); within a single
# trial the weights spread by {glue:text}`within_trial_sd:.3f` on average.
# An interactive view (drag to rotate; the ten regions with the largest
# weights are named):

# %%
maps.interactive_markers(weights, title="ASB input SE weights", cmap="magma")

# %%
top = maps.top_regions(weights, top_k)
top["value"] = top["value"].round(4)
table("top_regions", top.rename(columns={"value": "mean weight", "index": "region index"}))

# %% [markdown]
# ## By class
#
# The same mean, separately for the trials of each class (where the class is
# known), and the positive-minus-negative difference. If the gate were
# selecting emotion-specific regions, the class maps would differ where the
# classes differ.

# %%
known = dict(zip(zip(labels.Participant, labels.Trial), labels.CLASS))  # the classes this build knows
classes = {s: np.array([known.get(k, np.nan) for k in zip(ds.participant[r.test_index], ds.trial[r.test_index])])
           for s, r in runs.items()}
class_maps = {c: np.mean([gates[s][classes[s] == c].mean(0) for s in runs if (classes[s] == c).any()]
                         or [np.full(atlas.N_REGIONS, np.nan)], axis=0) for c in CLASS_VALUES}
plots.class_maps(class_maps)
plt.show()
pd.DataFrame({CLASS_NAMES[c + 1]: maps.top_regions(class_maps[c], 10)["name"] for c in CLASS_VALUES})

# %%
class_map_corr = np.nanmin([stats.spearmanr(class_maps[a], class_maps[b]).statistic  # the least similar pair
                            for a, b in ((-1, 0), (-1, 1), (0, 1))])
class_diff_max = np.nanmax(np.abs(class_maps[1] - class_maps[-1]))  # the largest positive-minus-negative difference
pd.Series({"least Spearman correlation between class maps": class_map_corr,
           "largest |positive - negative| weight": class_diff_max}).round(4)

# %% tags=["remove-input"]
glue("class_map_corr", float(class_map_corr))
glue("class_diff_max", float(class_diff_max))

# %% [markdown]
# The three class maps have a Spearman rank correlation of at least
# {glue:text}`class_map_corr:.2f` with one another, and the largest
# positive-minus-negative difference of any region is
# {glue:text}`class_diff_max:.4f` (on the weights' 0-1 scale). A correlation
# near 1 with differences this small means the gate weights the regions the
# same way whatever the valence of the trial: it does not select regions
# *for* an emotion.
#
# ## Overlap with the literature's emotion regions

# %%
overlap, p_hyper = regions.hypergeom_overlap(regions.top_k(weights, top_k), atlas.EBR_INDICES, atlas.N_REGIONS)
by_seed = pd.DataFrame([regions.hypergeom_overlap(regions.top_k(m, top_k), atlas.EBR_INDICES, atlas.N_REGIONS)
                        for m in seed_maps], columns=["EBR regions in the top", "p"], index=[f"seed {s}" for s in seeds])
by_seed.loc["mean map"] = [overlap, p_hyper]
ebr_auroc = regions.ranking_auroc(weights, atlas.EBR_INDICES)  # do EBR regions rank above the rest? (0.5: no)
table("overlap_by_seed", by_seed).round(4)

# %% tags=["remove-input"]
glue("n_seeds_overlap", int((by_seed.drop(index="mean map")["p"] < 0.05).sum()))
glue("top_k", top_k)
glue("ebr_overlap", overlap)
glue("ebr_expected", top_k * len(atlas.EBR_INDICES) / atlas.N_REGIONS)
glue("ebr_p", p_hyper)
glue("ebr_auroc", ebr_auroc)

# %% [markdown]
# {glue:text}`ebr_overlap` of the top {glue:text}`top_k` regions are EBR
# regions, where {glue:text}`ebr_expected:.1f` would be expected by chance
# (hypergeometric p = {glue:text}`ebr_p:.3f`); the map of each seed alone
# overlaps beyond chance (p < 0.05) for {glue:text}`n_seeds_overlap` of the
# {glue:text}`n_seeds` seeds. Ranking all regions by weight
# separates EBR regions from the rest with an AUROC of
# {glue:text}`ebr_auroc:.2f` (0.5 is chance).
#
# ## Are the maps stable across seeds?

# %%
stab = regions.map_stability(seed_maps, top_k)  # mean pairwise Spearman and top-k Jaccard over the seeds' maps
print(f"mean Spearman {stab['spearman']:.2f}, mean top-{top_k} Jaccard {stab['topk_jaccard']:.2f}")
pd.DataFrame([[stats.spearmanr(a, b).statistic for b in seed_maps] for a in seed_maps],
             index=[f"seed {s}" for s in seeds], columns=[f"seed {s}" for s in seeds]).round(2)

# %% tags=["remove-input"]
glue("stab_spearman", stab["spearman"])
glue("stab_jaccard", stab["topk_jaccard"])

# %% [markdown]
# Across {glue:text}`n_seeds` seeds, the maps agree with a mean pairwise Spearman correlation of
# {glue:text}`stab_spearman:.2f`, and their top-{glue:text}`top_k` sets share
# {glue:text}`stab_jaccard:.2f` of their regions on average (Jaccard). A map
# that changes with the seed cannot be read as a property of the brain.
#
# ## What do the weights track?
#
# The gate sees each region's mean over the trial after the paper's min-max
# scaling, which is mostly the region's baseline intensity (chapter 1). If the
# weights follow baseline intensity, they say more about the scanner signal
# than about emotion.

# %%
mean_raw = ds.X[ds.split == "train"].mean(axis=(0, 2))
rho_raw = stats.spearmanr(weights, mean_raw).statistic
fig, ax = plt.subplots(figsize=(5, 3.6))
ax.scatter(mean_raw, weights, s=10, alpha=0.7)
ax.set(xlabel="region's mean raw intensity", ylabel="mean SE weight", title=f"Spearman {rho_raw:.2f}")
plt.show()

# %% tags=["remove-input"]
glue("rho_raw", float(rho_raw))

# %% [markdown]
# The Spearman correlation between a region's mean weight and its mean raw
# intensity is {glue:text}`rho_raw:.2f`.
#
# ## Does the map find the planted regions? (surrogate only)

# %%
rec = None
if truth is not None:  # the surrogate: how well the map ranks the regions that carry its signal
    planted = np.array(truth["planted_regions"])
    rec = {"n_planted": len(planted), "planted_p_at_k": regions.precision_at_k(weights, planted, len(planted)),
           "planted_auroc": regions.ranking_auroc(weights, planted), "planted_chance": len(planted) / atlas.N_REGIONS,
           "planted_auroc_min": min(regions.ranking_auroc(m, planted) for m in seed_maps),
           "planted_auroc_max": max(regions.ranking_auroc(m, planted) for m in seed_maps)}
    maps.highlight_regions(planted, title="planted regions (for comparison with the map above)")
    plt.show()
text.planted_recovery_text(rec)

# %% tags=["remove-input"]
for key in ("n_planted", "planted_p_at_k", "planted_auroc", "planted_chance", "planted_auroc_min", "planted_auroc_max"):
    glue(key, rec[key] if rec else float("nan"))
glue("planted_text", text.planted_recovery_text(rec))

# %% [markdown]
# {glue:text}`planted_text`
#
# ```{admonition} What the SE weights can and cannot be taken to mean
# :class: important
# An input SE weight is a gain the network applies to a region for one
# trial, computed from that trial's time-averaged input. It is what the
# network found convenient for the objective at its checkpoint, not a
# measured relevance: a region with a high weight may still contribute
# nothing to the decision (later layers can ignore it), a region with a low
# weight can matter a great deal, and the same accuracy can come with very
# different weightings. The weights can be taken as a description of one
# trained model. They cannot be read as the brain's emotion regions unless
# they are stable across seeds and participants, differ between classes, and
# agree with attribution methods that measure effect on the output; the
# numbers above show how far each of those holds on the data this book ran on.
# ```

# %% [markdown]
# ## What the verdict reads from this chapter
#
# The numbers of this page that the verdict's rules and sentences use, handed
# over as the chapter's finding (`fmriemo.book.findings.BrainMaps`), each
# under the name the prose above glues it with. It is all the verdict reads
# from this page.

# %%
hand_over(BrainMaps)
