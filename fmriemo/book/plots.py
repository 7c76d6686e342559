"""One plotting style for the whole book, and the figures several chapters draw. Models are named and
coloured by their registry entry (:func:`fmriemo.models.registry.label`)."""
from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import FancyBboxPatch

from ..data.dataset import CLASS_NAMES, CLASS_VALUES
from ..data.surrogate import VIDEO_OFFSET, VIDEO_ONSET
from ..models.registry import label, names
from . import maps

__all__ = [
    "CLASS_COLORS", "MODEL_COLORS", "color", "set_style", "shade_video", "class_level_heatmap", "trial_heatmap", "class_time_courses",
    "confusion_heatmaps", "learning_curves", "budget_curves", "method_bars", "architecture_diagram",
    "se_block_diagram", "challenge_scores", "class_maps", "interval_dots", "per_participant", "seed_spread",
    "accuracy_by_second", "generalisation_matrices",
]

CLASS_COLORS = {-1: "#C44E52", 0: "#8C8C8C", 1: "#4C72B0"}


#: the book's colour of each of its models; another model (a user's, registered through ``$FMRIEMO_MODELS``)
#: takes the next unused colour of seaborn's "deep" palette, in registration order
MODEL_COLORS = {"vanilla": "#4C72B0", "asb": "#DD8452", "ebr": "#55A868", "compact": "#8172B3"}


def color(name: str, default: str | None = "#777777") -> str | None:
    """A model's colour in the book's plots.

    Parameters
    ----------
    name : str
        A model's name.
    default : str or None, default="#777777"
        The colour of anything that is not a registered model (a baseline, an ensemble).

    Returns
    -------
    color : str or None
        :data:`MODEL_COLORS`, the next palette colour for another registered model, or ``default``.
    """
    if name in MODEL_COLORS:
        return MODEL_COLORS[name]
    others = [n for n in names() if n not in MODEL_COLORS]
    if name not in others:
        return default
    taken = {c.lower() for c in MODEL_COLORS.values()}
    free = [c for c in sns.color_palette("deep").as_hex() if c.lower() not in taken]
    return free[others.index(name) % len(free)]


def set_style() -> None:
    """The book's style: seaborn whitegrid, readable sizes, tight layout.
    """
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    # nilearn's glass brains use axes that tight layout cannot arrange; they lay themselves out
    warnings.filterwarnings("ignore", message="This figure includes Axes that are not compatible with tight_layout")
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 120, "figure.autolayout": True,
                         "axes.titleweight": "bold"})


def shade_video(ax, label: bool = True) -> None:
    """Shade the seconds the video plays.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes.
    label : bool, default=True
        Give the shading a legend label.
    """
    ax.axvspan(VIDEO_ONSET, VIDEO_OFFSET - 1, color="#F2C14E", alpha=0.18, lw=0,
               label="video" if label else None)


def class_level_heatmap(table: pd.DataFrame, ax=None, title: str = "Trials by CLASS and LEVEL"):
    """The trial counts of each CLASS (rows) and LEVEL (columns) as an annotated heatmap.

    Parameters
    ----------
    table : pandas.DataFrame
        Counts, classes by levels.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; None: a new figure.
    title : str, default="Trials by CLASS and LEVEL"
        The title.

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    ax = ax or plt.subplots(figsize=(7, 2.6))[1]
    sns.heatmap(table, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax)
    ax.set_yticklabels([f"{v} {n}" for v, n in zip(CLASS_VALUES, CLASS_NAMES)], rotation=0)
    ax.set_title(title)
    return ax


def trial_heatmap(x: np.ndarray, ax=None, title: str = "", cbar_label: str = "intensity"):
    """One trial as a regions x seconds image.

    Parameters
    ----------
    x : ndarray of shape (n_regions, n_seconds)
        The trial.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; None: a new figure.
    title : str, default=""
        The title.
    cbar_label : str, default="intensity"
        The colour bar's label.

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    ax = ax or plt.subplots(figsize=(6, 5))[1]
    im = ax.imshow(x, aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set_xlabel("second")
    ax.set_ylabel("region (row of the 246-region matrix)")
    ax.axvline(VIDEO_ONSET - 0.5, color="w", lw=1, ls="--")
    ax.axvline(VIDEO_OFFSET - 0.5, color="w", lw=1, ls="--")
    plt.colorbar(im, ax=ax, label=cbar_label)
    ax.set_title(title)
    return ax


def class_time_courses(X: np.ndarray, y_class: np.ndarray, regions: list[int], names: list[str],
                       ylabel: str = "% change from fixation", ncols: int = 3):
    """Class-average time courses (mean +/- SEM over trials) of a few regions, the video shaded.

    Parameters
    ----------
    X : ndarray of shape (n_trials, n_regions, n_seconds)
        Trials.
    y_class : ndarray of int
        Their classes.
    regions : list of int
        Regions drawn, one panel each.
    names : list of str
        Their names.
    ylabel : str, default="% change from fixation"
        The y axis's label.
    ncols : int, default=3
        Panels per row.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    n = len(regions)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 2.8 * nrows), sharex=True, squeeze=False)
    t = np.arange(X.shape[2])
    for ax, r in zip(axes.flat, regions):
        shade_video(ax, label=(r == regions[0]))
        for c in CLASS_VALUES:
            v = X[y_class == c, r, :]
            m, se = v.mean(0), v.std(0, ddof=1) / np.sqrt(len(v))
            ax.plot(t, m, color=CLASS_COLORS[c], label=CLASS_NAMES[c + 1])
            ax.fill_between(t, m - se, m + se, color=CLASS_COLORS[c], alpha=0.2, lw=0)
        ax.set_title(names[r], fontsize=10)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    for ax in axes[-1]:
        ax.set_xlabel("second")
    axes.flat[0].legend(fontsize=8, loc="upper left")
    return fig


def confusion_heatmaps(confusions: dict, title: str = "", normalise: bool = False):
    """One confusion-matrix heatmap per method, side by side.

    Parameters
    ----------
    confusions : dict of str to pandas.DataFrame
        Method -> confusion matrix (true classes in rows).
    title : str, default=""
        The figure's title.
    normalise : bool, default=False
        Show each row as shares of its true class.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    n = len(confusions)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n + 0.5, 3.4), squeeze=False)
    for ax, (name, cm) in zip(axes[0], confusions.items()):
        data = cm.div(cm.sum(1).replace(0, 1), axis=0) if normalise else cm
        sns.heatmap(data, annot=cm if not normalise else True, fmt="d" if not normalise else ".2f",
                    cmap="Blues", cbar=False, ax=ax, square=True)
        ax.set_title(label(name))
    fig.suptitle(title)
    return fig


def learning_curves(histories: dict, metric: str = "val_acc", best: dict | None = None):
    """Training and validation curves of several runs: loss (left) and a metric (right).

    Parameters
    ----------
    histories : dict of str to dict
        Model name -> its run's history.
    metric : str, default="val_acc"
        The history's column drawn on the right.
    best : dict of str to int or None, default=None
        Model name -> kept epoch, marked by a dotted line.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.4))
    for name, h in histories.items():
        col = color(name, None)
        lab = label(name)
        a1.plot(h["epoch"], h["train_loss"], color=col, ls="--", lw=1)
        a1.plot(h["epoch"], np.asarray(h["val_loss"]), color=col, lw=1.5, label=lab)
        a2.plot(h["epoch"], h[metric], color=col, lw=1.5, label=lab)
        if best and name in best:
            a2.axvline(best[name], color=col, lw=0.8, ls=":")
    a1.set(xlabel="epoch", ylabel="loss (dashed: train CE, solid: val CE + L2)", yscale="log")
    a2.set(xlabel="epoch", ylabel=metric.replace("_", " "))
    a2.legend()
    return fig


def budget_curves(runs: dict, metric: str = "val_acc", smooth: int = 25):
    """One panel per method: a metric over epochs for every seed, with kept checkpoints and plateaus.

    Each run's kept checkpoint is marked (a dot, open when it is on the plateau; a triangle when the
    epoch cap ended the run while it was still improving), and a band is shaded up to its plateau exit.

    Parameters
    ----------
    runs : dict of (str, int) to fmriemo.training.runs.RunResult
        Keyed by (method, seed).
    metric : str, default="val_acc"
        The history's column drawn.
    smooth : int, default=25
        Epochs of the running mean.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    methods = list(dict.fromkeys(m for m, _ in runs))
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 3.2), sharey=True, squeeze=False)
    for ax, m in zip(axes[0], methods):
        col = color(m, None)
        for (mm, seed), r in runs.items():
            if mm != m:
                continue
            v = np.asarray(r.history[metric], float)
            k = min(smooth, len(v))
            sm = np.convolve(v, np.ones(k) / k, mode="valid")
            ax.plot(np.arange(k, len(v) + 1), sm, color=col, lw=1, alpha=0.8)
            ax.plot(r.best_epoch, v[r.best_epoch - 1], ">" if r.still_improving else "o",
                    color="k" if r.on_plateau else col, ms=6 if r.still_improving else 5,
                    mfc="white" if r.on_plateau else col)
            if r.plateau_exit:
                ax.axvspan(0, r.plateau_exit, color="0.85", alpha=0.25, lw=0)
        ax.set(title=label(m), xlabel="epoch")
    axes[0][0].set_ylabel(f"{metric.replace('_', ' ')} (running mean of {smooth})")
    fig.tight_layout()
    return fig


def method_bars(df: pd.DataFrame, value: str, lo: str, hi: str, ax=None, chance: float | None = None,
                title: str = ""):
    """Point estimates with interval whiskers, one bar per method.

    Parameters
    ----------
    df : pandas.DataFrame
        Indexed by method.
    value, lo, hi : str
        Its columns of the estimate and the interval's ends.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; None: a new figure.
    chance : float or None, default=None
        A chance line.
    title : str, default=""
        The title.

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    ax = ax or plt.subplots(figsize=(5, 3))[1]
    x = np.arange(len(df))
    cols = [color(m) for m in df.index]
    ax.bar(x, df[value], color=cols, alpha=0.85)
    ax.errorbar(x, df[value], yerr=[df[value] - df[lo], df[hi] - df[value]], fmt="none", ecolor="k",
                capsize=4)
    if chance is not None:
        ax.axhline(chance, color="k", ls=":", lw=1, label="chance")
        ax.legend()
    ax.set_xticks(x, [label(m) for m in df.index])
    ax.set_ylabel(value)
    ax.set_title(title)
    return ax


def _box(ax, xy, text, w=2.2, h=0.55, fill="#DCE6F2", fontsize=8.5):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04",
                                fc=fill, ec="#333333", lw=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, a, b, color="#333333"):
    ax.annotate("", xy=b, xytext=a, arrowprops=dict(arrowstyle="->", color=color, lw=1,
                                                    shrinkA=12, shrinkB=12))


def architecture_diagram(method: str = "asb", n_out: int = 3):
    """The residual SE-CNN as a block diagram (conv units are conv -> [ReLU] -> SE -> BN).

    Parameters
    ----------
    method : str, default="asb"
        "asb", "vanilla" or "ebr".
    n_out : int, default=3
        Outputs.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    c_in = 32 if method == "ebr" else 246
    fig, ax = plt.subplots(figsize=(11, 5.2))
    ax.set_xlim(-1, 13)
    ax.set_ylim(-0.7, 6.4)
    ax.axis("off")
    main, skip, gate, head = "#DCE6F2", "#F6E3C6", "#F4C7C3", "#DDEBD5"
    y0 = 5.7
    _box(ax, (0.5, y0), f"input\n{c_in} regions x 25 s", fill="white")
    x_in = (0.5, y0)
    if method == "asb":
        _box(ax, (0.5, 4.6), "SE gate over 246 regions\n(ASB's region weights)", fill=gate)
        _arrow(ax, x_in, (0.5, 4.6))
        x_in = (0.5, 4.6)
    if method == "ebr":
        ax.text(0.5, 6.25, "EBR: 32 of 246 regions selected", ha="center", fontsize=8, color="#555555")
    _box(ax, (3.3, 4.6), "conv 32 + ReLU\nSE, BN  -> a", fill=main)
    _box(ax, (6.1, 4.6), "conv 64 + ReLU\nSE, BN", fill=main)
    _box(ax, (6.1, 3.3), f"conv 64 ({c_in}->64)\nSE, BN (shortcut)", fill=skip)
    _box(ax, (7.6, 2.2), "b = sum", w=1.2, fill="white")
    _box(ax, (9.5, 4.6), "conv 128 + ReLU\nSE, BN", fill=main)
    _box(ax, (9.5, 3.3), f"conv 128 ({c_in}->128)\nSE, BN (shortcut)", fill=skip)
    _box(ax, (9.5, 1.2), "conv 128 (a->128)\nSE, BN (shortcut)", fill=skip)
    _box(ax, (11.6, 2.2), "c = sum", w=1.2, fill="white")
    _box(ax, (11.6, 0.2), f"flatten 3200 -> 512 -> 100\n-> {n_out} (softmax)", w=2.6, fill=head)
    _arrow(ax, x_in, (3.3, 4.6))
    _arrow(ax, (3.3, 4.6), (6.1, 4.6))
    _arrow(ax, x_in, (6.1, 3.3))
    _arrow(ax, (6.1, 4.6), (7.6, 2.2))
    _arrow(ax, (6.1, 3.3), (7.6, 2.2))
    _arrow(ax, (7.6, 2.2), (9.5, 4.6))
    _arrow(ax, x_in, (9.5, 3.3))
    _arrow(ax, (3.3, 4.6), (9.5, 1.2))
    for src in ((9.5, 4.6), (9.5, 3.3), (9.5, 1.2)):
        _arrow(ax, src, (11.6, 2.2))
    _arrow(ax, (11.6, 2.2), (11.6, 0.2))
    ax.text(-0.9, -0.55, "blue: main path (ReLU, L2 penalty)   orange: shortcut (no activation, no penalty)"
            "   red: input SE gate (ASB only)", fontsize=8, color="#444444")
    ax.set_title(label(method) + ": residual 1D CNN with SE blocks (kernel 3, 'same' padding)")
    return fig


def se_block_diagram(channels: int = 246, reduction: int = 16):
    """The squeeze-and-excitation block.

    Parameters
    ----------
    channels : int, default=246
        Its channels.
    reduction : int, default=16
        Its reduction ratio.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    hidden = channels // reduction
    fig, ax = plt.subplots(figsize=(11, 1.9))
    ax.set_xlim(-0.6, 13.6)
    ax.set_ylim(-0.6, 1.2)
    ax.axis("off")
    steps = [f"x\n{channels} x 25", f"squeeze: mean\nover time -> {channels}",
             f"dense {channels}->{hidden}\nReLU", f"dense {hidden}->{channels}\nsigmoid -> g in (0,1)",
             "scale: x * g\n(one weight per channel)"]
    xs = np.linspace(0.6, 12.4, len(steps))
    for i, (x, s) in enumerate(zip(xs, steps)):
        _box(ax, (x, 0.4), s, w=2.3, h=0.8, fill="#F4C7C3" if 0 < i < 4 else "#DCE6F2", fontsize=8.5)
        if i:
            _arrow(ax, (xs[i - 1], 0.4), (x, 0.4))
    ax.set_title(f"squeeze-and-excitation block (reduction {reduction})")
    return fig


def challenge_scores(names: list, phase1: pd.DataFrame, phase2: pd.DataFrame, crossfit: pd.DataFrame,
                     references, paper_phase1: float):
    """Chapter 5's figure of challenge scores.

    Each model's Phase I score with its interval, its Phase II score on the unreleased trials and its
    cross-fitted estimate where there are some, the reference predictions (drawn as lines where present)
    and the paper's Phase I score.

    Parameters
    ----------
    names : list of str
        The models' row labels.
    phase1 : pandas.DataFrame
        :func:`fmriemo.challenge.phases.score_table` of Phase I.
    phase2 : pandas.DataFrame
        :func:`fmriemo.challenge.phases.phase2_scores`.
    crossfit : pandas.DataFrame
        :func:`fmriemo.challenge.phases.phase2_crossfit`.
    references : iterable of str
        The reference predictions' rows of ``phase1``.
    paper_phase1 : float
        The paper's Phase I score.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(7, 3.4))
    x = np.arange(len(names))
    p1 = phase1.loc[names]
    ax.errorbar(x - 0.1, p1["score"], yerr=[p1["score"] - p1["score_lo"], p1["score_hi"] - p1["score"]], fmt="o",
                label="Phase I", capsize=4)
    if len(phase2):
        ax.plot(x + 0.1, phase2.loc[names, "Phase II"], "s", label="Phase II (unreleased trials)")
    if len(crossfit):
        cf = crossfit.loc[names]
        est = cf["Phase II (cross-fitted)"]
        ax.errorbar(x + 0.2, est, yerr=[est - cf["lo"], cf["hi"] - est], fmt="^", capsize=4,
                    label="Phase II, cross-fitted (released trials)")
    for row, style in zip(references, ("k", "g")):
        if row in phase1.index:
            ax.axhline(phase1.loc[row, "score"], color=style, ls=":", lw=1, label=row)
    ax.axhline(paper_phase1, color="#DD8452", ls="--", lw=1, label="paper ASB, Phase I")
    ax.set_xticks(x, names)
    ax.set_ylabel("challenge score (lower is better)")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1, 0.5))
    return fig


def class_maps(maps_by_class: dict, diff_title: str = "positive - negative"):
    """One glass brain per class, on one colour scale, and the difference of two classes on a diverging
    scale.

    Parameters
    ----------
    maps_by_class : dict of int to array-like
        Class (-1, 0, 1) -> per-region values; the difference is of classes 1 and -1.
    diff_title : str, default="positive - negative"
        The difference panel's title.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    values = np.concatenate(list(maps_by_class.values()))
    vmin, vmax = np.nanpercentile(values, [2, 98])
    diff = maps_by_class[1] - maps_by_class[-1]
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    for ax, c in zip(axes, CLASS_VALUES):
        maps.region_markers(maps_by_class[c], title=CLASS_NAMES[c + 1], cmap="magma", vmin=vmin, vmax=vmax,
                            display_mode="z", axes=ax, colorbar=c == 1)
    lim = float(np.nanmax(np.abs(diff)))
    maps.region_markers(diff, title=diff_title, cmap="coolwarm", vmin=-lim, vmax=lim, display_mode="z", axes=axes[3])
    return fig


def interval_dots(frame: pd.DataFrame, value: str, lo: str, hi: str, xlabel: str, ascending: bool = True,
                  chance: float | None = None, label: str | None = None, figsize=(9, 3.6)):
    """One row per entry, sorted by its estimate: the estimate with its interval whiskers, and an optional
    chance line (held-out accuracies in chapter 7, challenge scores in chapter 9).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per entry.
    value, lo, hi : str
        Its columns of the estimate and the interval's ends.
    xlabel : str
        The x axis's label.
    ascending : bool, default=True
        Sort order.
    chance : float or None, default=None
        A chance line.
    label : str or None, default=None
        The estimates' legend label.
    figsize : tuple, default=(9, 3.6)
        The figure's size.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=figsize)
    order = frame.sort_values(value, ascending=ascending).index
    y = np.arange(len(order))
    v = frame.loc[order, value]
    ax.errorbar(v, y, xerr=[v - frame.loc[order, lo], frame.loc[order, hi] - v], fmt="o", capsize=4, label=label)
    if chance is not None:
        ax.axvline(chance, color="k", ls=":", label="chance")
    ax.set_yticks(y, order)
    ax.set_xlabel(xlabel)
    if label or chance is not None:
        ax.legend(fontsize=8)
    return fig


def per_participant(per_p: pd.DataFrame, models, chance: float):
    """Every held-out participant's accuracy, one column of dots per model with its mean, and chance.

    Parameters
    ----------
    per_p : pandas.DataFrame
        Columns model, participant, accuracy
        (:func:`fmriemo.evaluation.heldout.per_participant_accuracy`).
    models : list of str
        The models drawn, in order.
    chance : float
        The chance line.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(10, 3.6))
    for i, m in enumerate(models):
        v = per_p[per_p.model == m]["accuracy"]
        ax.scatter(np.full(len(v), i) + np.random.default_rng(i).uniform(-0.15, 0.15, len(v)), v, s=14, alpha=0.7)
        ax.plot([i - 0.25, i + 0.25], [v.mean()] * 2, color="k")
    ax.axhline(chance, color="k", ls=":")
    ax.set_xticks(range(len(models)), models, rotation=30)
    ax.set_ylabel("accuracy of one participant")
    return fig


def seed_spread(f1: pd.DataFrame, targets: pd.Series, optimism: pd.DataFrame):
    """How much one run depends on its seed, and how lucky its checkpoint was.

    Left: every run's test F1 at every budget it reached, one column of dots per budget and method, with
    the paper's F1 as a dashed line. Right: each run's validation accuracy at its kept epoch against the
    mean of its neighbouring epochs on the same validation trials: a dot above the diagonal is a
    checkpoint chosen on a lucky fluctuation.

    Parameters
    ----------
    f1 : pandas.DataFrame
        Columns method, seed, budget, test_f1 (:func:`fmriemo.evaluation.paper.f1_by_seed`).
    targets : pandas.Series
        The paper's F1, by method.
    optimism : pandas.DataFrame
        :func:`fmriemo.evaluation.paper.selection_optimism`.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 3.6), gridspec_kw={"width_ratios": [2, 1]})
    budgets = list(dict.fromkeys(f1["budget"]))
    methods = list(dict.fromkeys(f1["method"]))
    width = 0.8 / max(1, len(methods))
    for j, m in enumerate(methods):
        g = f1[f1.method == m]
        x = np.array([budgets.index(b) for b in g["budget"]]) + (j - (len(methods) - 1) / 2) * width
        a1.scatter(x, g["test_f1"], s=18, color=color(m, None), label=label(m), alpha=0.85)
        if m in targets.index:
            a1.axhline(targets[m], color=color(m, None), ls="--", lw=0.8)
    a1.set_xticks(range(len(budgets)), [f"{b:,}" if b != "kept" else "chapter's rule" for b in budgets])
    a1.set(xlabel="epoch budget", ylabel="test macro F1 (one dot a seed)", title="F1 by seed (dashed: paper)")
    a1.legend(fontsize=8)
    for m, g in optimism.groupby("method", sort=False):
        a2.scatter(g["neighbouring epochs"], g["validation accuracy"], s=22, color=color(m, None), label=label(m))
    lo = float(np.nanmin(optimism[["validation accuracy", "neighbouring epochs"]].to_numpy())) if len(optimism) else 0
    a2.plot([lo, 1], [lo, 1], color="k", lw=0.8, ls=":")
    a2.set(xlabel="validation accuracy, neighbouring epochs", ylabel="validation accuracy, kept epoch",
           title="checkpoint selection (same trials)")
    return fig



def accuracy_by_second(curves: dict, clusters: dict, windows, chance: float, ylabel: str = "accuracy"):
    """Time-resolved decoding, one panel per preprocessing.

    Each panel shows the accuracy per second with its interval, the significant clusters as a bar above
    chance, chance dashed, the video shaded, and under them the windows the book's decoders read.

    Parameters
    ----------
    curves : dict of str to pandas.DataFrame
        Preprocessing -> ``accuracy``, ``lo``, ``hi`` per second
        (:func:`fmriemo.evaluation.timeresolved.summary`).
    clusters : dict of str to pandas.DataFrame
        Preprocessing -> ``first second``, ``last second``, ``p``
        (:func:`fmriemo.evaluation.timeresolved.clusters_over_time`).
    windows : iterable of (str, int, int)
        (label, start, stop) of each window.
    chance : float
        The chance line.
    ylabel : str, default="accuracy"
        The y axis's label.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    n = len(curves)
    fig, axes = plt.subplots(2, n, figsize=(4.4 * n + 1.5, 5.2), sharex=True, squeeze=False, layout="constrained",
                             gridspec_kw={"height_ratios": [3, 1.3]})
    for j, (name, c) in enumerate(curves.items()):
        ax = axes[0, j]
        shade_video(ax, label=j == 0)
        sec = np.asarray(c.index)
        ax.fill_between(sec, c["lo"], c["hi"], color="#4C72B0", alpha=0.25, lw=0, label="95% interval")
        ax.plot(sec, c["accuracy"], color="#4C72B0", marker="o", ms=3, label="held-out participants")
        ax.axhline(chance, color="k", ls="--", lw=1, label="chance")
        top = float(np.nanmax(c["hi"])) + 0.02
        sig = clusters.get(name, pd.DataFrame(columns=["first second", "last second", "p"]))
        for i, (_, cl) in enumerate(sig[sig["p"] < 0.05].iterrows()):
            ax.plot([cl["first second"] - 0.4, cl["last second"] + 0.4], [top, top], color="#C44E52", lw=4,
                    solid_capstyle="butt", label="cluster, p < 0.05" if i == 0 else None)
        ax.set_title(name)
        if j == 0:
            ax.set_ylabel(ylabel)
            ax.legend(fontsize=7, loc="upper left")
        low = axes[1, j]
        for i, (_, a, b) in enumerate(windows):
            low.plot([a - 0.4, b - 1 + 0.4], [i, i], color="#55A868", lw=5, solid_capstyle="butt")
        low.set_yticks(range(len(windows)))
        low.set_yticklabels([w[0] for w in windows] if j == 0 else [], fontsize=7)
        low.grid(False, axis="y")
        low.set_ylim(len(windows) - 0.5, -0.5)
        low.set_xlabel("second of the trial")
        shade_video(low, label=False)
    axes[1, 0].set_xlim(-0.6, 24.6)
    return fig


def generalisation_matrices(matrices: dict, chance: float):
    """Temporal generalisation: one heatmap per preprocessing, centred on chance, the diagonal dotted.

    Parameters
    ----------
    matrices : dict of str to pandas.DataFrame
        Preprocessing -> matrix, trained at second t in rows, tested at t' in columns
        (:func:`fmriemo.evaluation.timeresolved.generalisation`).
    chance : float
        The colour scale's centre.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    n = len(matrices)
    fig, axes = plt.subplots(1, n, figsize=(4.4 * n + 1, 4.2), squeeze=False, layout="constrained")
    spread = max(float(np.nanmax(np.abs(m.to_numpy() - chance))) for m in matrices.values())
    for ax, (name, m) in zip(axes[0], matrices.items()):
        im = ax.imshow(m.to_numpy(), origin="lower", cmap="RdBu_r", vmin=chance - spread, vmax=chance + spread,
                       interpolation="nearest")
        ax.plot([0, m.shape[1] - 1], [0, m.shape[0] - 1], color="k", ls=":", lw=1)
        ax.grid(False)
        ax.set_xlabel("tested at second")
        ax.set_ylabel("trained at second")
        ax.set_title(name, fontsize=10)
    fig.colorbar(im, ax=list(axes[0]), label="accuracy (chance in white)", shrink=0.85)
    return fig
