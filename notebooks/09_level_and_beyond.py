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
# # 9. The rating, done better
#
# The paper predicts the 9-level rating with a separate 9-way classifier. But
# the rating is mostly implied by the class (chapter 1), and the challenge
# scores it with SMAPE, which charges a wrong sign fully and a near miss of the
# right sign only partly. So a class-aware predictor suggests itself: predict
# the class, then give the rating that minimises SMAPE over the training
# trials of that class ({glue:text}`level_table`).
#
# Here both are compared on participants held out from training
# ({glue:text}`n_folds` folds of participants, checkpoints chosen on
# {glue:text}`n_val` other participants inside each training fold), by class
# error, SMAPE and the challenge score, with 95% intervals from a bootstrap
# over participants.

# %% tags=["parameters"]
import os  # the profile defaults to $FMRIEMO_PROFILE where it is set

data_dir = ""          # challenge folder; empty: the built-in surrogate
labels_csv = ""        # optional released-labels CSV
surrogate_seed = 2024  # seed of the surrogate data set
seed = 0               # training seed
protocol = None        # "groupkfold", "order" or "loso"; None: the profile's, as in chapter 7
k = None               # folds for "groupkfold"; None: the profile's (full: 3, quick: 4)
n_val = 2              # validation participants inside each training fold
class_models = ["asb", "compact"]  # class models for the class-aware rating (ASB's classes are always used)
profile = os.environ.get("FMRIEMO_PROFILE", "full")  # $FMRIEMO_PROFILE (Binder: quick); "quick" (CI) or "full" (the published book)
epochs = None          # epoch budget; None: the profile's
device = "auto"        # "auto", "cpu" or "cuda"
cache_dir = ""         # cache for data and trained models; empty: ~/.cache/fmriemo

# %%
import matplotlib.pyplot as plt
import numpy as np

from fmriemo import heldout, level, plots
from fmriemo.book import glue, setup, table
from fmriemo.profiles import Settings

ds = setup("09_level_and_beyond", data_dir, labels_csv, surrogate_seed, cache_dir, profile)
settings = Settings.resolve(profile, epochs=epochs, device=device, cache_dir=cache_dir, seed=seed, n_seeds=1,
                            protocol=protocol, k=k, n_val=n_val)  # as in chapter 7, one seed
protocol, k = settings.protocol, settings.k
folds = heldout.group_folds(ds, protocol, k)
glue("n_folds", len(folds))
glue("n_val", n_val)
lab = (ds.split == "train") & ds.labelled
full_table = level.smape_optimal_levels(ds.y_class[lab], ds.y_level[lab])
glue("level_table", ", ".join(f"class {c}: rating {v}" for c, v in full_table.items()) + " on all training trials")

level9 = heldout.fold_runs(ds, "asb", "level", settings=settings)
class_models = ["asb"] + [m for m in class_models if m != "asb"]  # the paper's combination needs ASB
class_runs = {m: heldout.fold_runs(ds, m, "class", settings=settings) for m in class_models}
logreg = heldout.run_baselines(ds, "class", protocol, k, [seed], kinds=("logreg",))

# one row per held-out trial, with every combination's predicted class and rating
trials = level.heldout_rating_trials(ds, folds, level9, class_runs, logreg)
glue("n_trials", len(trials))

combos = {"ASB class + ASB 9-way rating (paper)": ("asb_class", "level_model_level")}
for m in class_models:
    combos[f"{plots.METHOD_LABELS.get(m, m)} class + class-aware rating"] = (f"{m}_class", f"{m}_aware_level")
combos["linear class + class-aware rating"] = ("logreg_class", "logreg_aware_level")
combos["always neutral, 0"] = (None, None)
combos["true class + class-aware rating (bound)"] = ("class", "oracle_aware_level")

# %%
results = level.score_predictors(trials, combos)
keys = {"ASB class + ASB 9-way rating (paper)": "paper9", "ASB class + class-aware rating": "asb_aware",
        "Compact (this book) class + class-aware rating": "compact_aware",
        "linear class + class-aware rating": "logreg_aware", "always neutral, 0": "neutral",
        "true class + class-aware rating (bound)": "oracle"}
for name, key in keys.items():
    for col, suffix in (("score", ""), ("rating SMAPE", "_smape"), ("score_lo", "_lo"), ("score_hi", "_hi")):
        glue(f"{key}{suffix}", float(results.loc[name, col]) if name in results.index else float("nan"))
table("rating_rules", results).round(4)

# %%
fig, ax = plt.subplots(figsize=(8, 3.6))
order = results.sort_values("score", ascending=False).index
y = np.arange(len(order))
ax.errorbar(results.loc[order, "score"], y, xerr=[results.loc[order, "score"] - results.loc[order, "score_lo"],
            results.loc[order, "score_hi"] - results.loc[order, "score"]], fmt="o", capsize=4)
ax.set_yticks(y, order)
ax.set_xlabel("challenge score on held-out participants (lower is better)")
plt.show()

# %% [markdown]
# With ASB's class predictions, the paper's 9-way rating model gives a rating
# SMAPE of {glue:text}`paper9_smape:.3f` and a score of
# {glue:text}`paper9:.4f` ({glue:text}`paper9_lo:.3f` to
# {glue:text}`paper9_hi:.3f`); the class-aware rating from the same class
# predictions gives SMAPE {glue:text}`asb_aware_smape:.3f` and a score of
# {glue:text}`asb_aware:.4f`. With the Compact model's classes the
# class-aware score is {glue:text}`compact_aware:.4f`, with the linear
# model's {glue:text}`logreg_aware:.4f`. For scale: "neutral, 0" for every
# trial scores {glue:text}`neutral:.4f`, and the true class with the
# class-aware rating {glue:text}`oracle:.4f`: what one rating per class can
# do when the class is perfect.
#
# The lesson for the challenge: the score is mostly decided by the class
# (60% of it directly, and most of the rating error through the sign), so
# effort spent on a separate rating model is better spent on the class.
