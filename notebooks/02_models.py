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
# # 2. The models
#
# The three methods share one network: a residual 1D convolutional network
# in which every convolution is followed by a squeeze-and-excitation (SE)
# block {cite}`hu2018squeeze` and batch normalisation. The 246 regions are the
# input channels and the 25 seconds the axis the convolutions slide along.
# This chapter builds the three forms from the authors' description in
# PyTorch (`fmriemo.models`), counts their parameters, draws them, and
# follows one trial through ASB's input gate.

# %% tags=["parameters"]
import os  # the profile defaults to $FMRIEMO_PROFILE where it is set

data_dir = ""          # challenge folder; empty: the built-in surrogate
labels_csv = ""        # optional released-labels CSV
surrogate_seed = 2024  # seed of the surrogate data set
seed = 0               # training seed of the ASB model used in the worked example
profile = os.environ.get("FMRIEMO_PROFILE", "full")  # "quick" (CI, Binder), "full" (the book) or "paper"
epochs = None          # epoch budget; None: the profile's
device = "auto"        # "auto", "cpu" or "cuda"
cache_dir = ""         # cache for data and trained models; empty: ~/.cache/fmriemo

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from fmriemo.book import plots
from fmriemo.book.chapter import glue, open_chapter
from fmriemo.data import atlas, preprocess
from fmriemo.models.registry import build_model, count_parameters, label, layer_table, paper_methods
from fmriemo.evaluation.paper import run_paper_protocol

chapter = open_chapter("02_models", globals(), paper_task="class")  # the data, and chapter 3's settings
ds, settings = chapter.data, chapter.settings

# %% [markdown]
# ## The SE block
#
# An SE block summarises each channel by its mean over time ("squeeze"),
# passes the summaries through a small bottleneck of two dense layers
# ("excitation"), and multiplies each channel by the resulting weight between
# 0 and 1. The weight of a channel therefore depends on the whole input: it is
# a gain computed per trial, not a fixed importance.

# %%
plots.se_block_diagram(246, 16)
plt.show()

# %% [markdown]
# ## The network
#
# Every convolution unit is conv (kernel 3, 'same' padding) -> ReLU (main
# path only) -> SE -> batch norm. The second stage adds a shortcut from the
# input; the third adds shortcuts from both the input and the first stage.
# Main-path convolutions and the two hidden dense layers carry an L2 penalty
# of 0.01 on their kernels.

# %%
plots.architecture_diagram("asb", 3)
plt.show()

# %%
params = pd.DataFrame([{"method": label(m), "task": task, "parameters": count_parameters(build_model(m, task))}
                       for m in paper_methods() for task in ("class", "level")])
params.pivot(index="method", columns="task", values="parameters")

# %% tags=["remove-input"]
asb = build_model("asb", "class")
glue("params_asb_class", count_parameters(asb))
glue("params_asb_class_m", count_parameters(asb) / 1e6)
glue("params_dense_share", 100 * count_parameters(asb.fc1) / count_parameters(asb))
glue("params_input_se", count_parameters(asb.input_se))

# %% [markdown]
# The ASB class model has {glue:text}`params_asb_class` parameters
# (about {glue:text}`params_asb_class_m:.1f` million, as the authors report),
# {glue:text}`params_dense_share:.0f`% of them in the dense layer from the
# flattened 128 x 25 features to 512 units. The input SE block that makes ASB
# adds only {glue:text}`params_input_se` parameters (246 -> 15 -> 246). With
# 384 training trials, this is a network with thousands of parameters per
# trial: it can memorise the training set, so what it learns depends on the
# checkpoint rule and the validation set.

# %%
layer_table(asb)

# %% [markdown]
# ## What ASB's input gate does to a trial
#
# Below, a trained ASB class model (the paper's split and recipe, seed
# {glue:text}`example_seed`) meets one held-out trial. All of chapter 3's
# runs (every method and seed) train beside it in one pool, so that no core
# waits while one run finishes, and chapter 3 reads them from the cache. The gate squeezes each of the 246 min-max-scaled regions to
# its mean over the 25 seconds, maps that vector through the bottleneck, and
# scales each region by its weight.

# %%
runs, _ = run_paper_protocol(ds, "class", paper_methods(), settings)  # chapter 3's runs, this one among them
run = runs[("asb", seed)]
model = run.load_model()
i = int(run.test_index[0])
x = torch.as_tensor(preprocess.minmax_trial(ds.X[i:i + 1]))
with torch.no_grad():
    squeezed = x.mean(dim=2)
    gates = model.input_se.gates(x)
    gated = x * gates.unsqueeze(2)
# The model reads the same gates through its own method (what the brain maps of chapter 6 average).
assert torch.allclose(model.input_gates(x), gates)
g = gates[0].numpy()
gate_corr = np.corrcoef(squeezed[0].numpy(), g)[0, 1]  # do the gates follow the regions' means?
print(f"gates {g.min():.3f} to {g.max():.3f}; correlation with the squeezed means {gate_corr:.2f}")

# %% tags=["remove-input"]
glue("example_seed", seed)
glue("gate_min", float(g.min()))
glue("gate_max", float(g.max()))
glue("gate_corr_mean", float(gate_corr))

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), gridspec_kw={"width_ratios": [1, 0.5, 1]})
plots.trial_heatmap(x[0].numpy(), ax=axes[0], title="input (min-max scaled)", cbar_label="scaled")
axes[1].barh(np.arange(246), g, color="#DD8452", height=1.0)
axes[1].set(ylim=(245.5, -0.5), xlabel="gate weight", title="input SE weights", ylabel="region")
plots.trial_heatmap(gated[0].numpy(), ax=axes[2], title="gated input", cbar_label="scaled x weight")
plt.show()

# %% [markdown]
# For this trial the weights run from {glue:text}`gate_min:.3f` to
# {glue:text}`gate_max:.3f`. Their correlation with the squeezed input (each
# region's mean scaled value) is {glue:text}`gate_corr_mean:.2f`. Since
# min-max scaling leaves each region's level mostly set by its baseline
# intensity (chapter 1), the gate can be a function of baseline intensity as
# much as of anything emotional. The weights are gains the network found
# useful, not a demonstrated map of importance; reading them as a brain map
# needs a check against an attribution method and across seeds.

# %%
top = pd.DataFrame({"region": atlas.region_names(), "weight": g}).sort_values("weight", ascending=False)
pd.concat({"highest weights": top.head(8).reset_index(drop=True),
           "lowest weights": top.tail(8).iloc[::-1].reset_index(drop=True)}, axis=1)
