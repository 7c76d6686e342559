"""The book's figures: what each one draws, from the data it is given."""
import matplotlib

matplotlib.use("Agg")  # figures drawn off-screen in the tests (the chapters keep their own backend)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from fmriemo.book import plots  # noqa: E402
from fmriemo.training.runs import RunResult  # noqa: E402


def _run(method, best, n=120):
    rising = np.r_[np.full(60, 0.33), np.full(n - 60, 0.6)]
    return RunResult(key=method, config={"method": method, "epochs": n, "patience": 30}, split={}, history={"val_acc": rising.tolist()},
                     best_epoch=best, epochs_run=n, seconds=0, test_index=np.arange(2), y_true=np.zeros(2),
                     y_pred=np.zeros(2), proba=np.zeros((2, 3)))


def test_budget_curves_mark_kept_epochs_open_on_the_plateau():
    fig = plots.budget_curves({("asb", 0): _run("asb", 10), ("ebr", 0): _run("ebr", 85)})
    asb, ebr = fig.axes
    assert asb.get_title() == "ASB" and ebr.get_title() == "EBR"
    dot = [line for line in asb.lines if line.get_marker() == "o"][0]
    assert dot.get_markerfacecolor() == "white"  # kept on its plateau: an open dot
    assert [line for line in ebr.lines if line.get_marker() == "o"][0].get_markerfacecolor() != "white"
    assert not [line for line in asb.lines + ebr.lines if line.get_marker() == ">"]
    plt.close(fig)


def test_budget_curves_mark_runs_the_cap_cut_off_with_a_triangle():
    fig = plots.budget_curves({("asb", 0): _run("asb", 115), ("asb", 1): _run("asb", 80)})  # cap 120, patience 30
    marks = [line.get_marker() for line in fig.axes[0].lines if line.get_marker() in ("o", ">")]
    assert sorted(marks) == [">", "o"]
    plt.close(fig)


def test_seed_spread_draws_a_dot_per_run_and_the_paper_line():
    f1 = pd.DataFrame({"method": ["asb", "asb", "ebr", "asb", "asb", "ebr"], "seed": [0, 1, 0, 0, 1, 0],
                       "budget": [50, 50, 50, "kept", "kept", "kept"], "test_f1": [0.4, 0.5, 0.3, 0.6, 0.7, 0.35]})
    opt = pd.DataFrame({"method": ["asb", "asb", "ebr"], "validation accuracy": [0.8, 0.7, 0.5],
                        "neighbouring epochs": [0.6, 0.65, 0.4]})
    fig = plots.seed_spread(f1, pd.Series({"asb": 0.73, "ebr": 0.52}), opt)
    left, right = fig.axes
    assert sum(len(c.get_offsets()) for c in left.collections) == 6
    assert sorted(line.get_ydata()[0] for line in left.lines) == [0.52, 0.73]
    assert [t.get_text() for t in left.get_xticklabels()] == ["50", "chapter's rule"]
    assert sum(len(c.get_offsets()) for c in right.collections) == 3
    assert right.collections[0].get_offsets()[0].tolist() == [0.6, 0.8]  # neighbours (x) against kept (y)
    plt.close(fig)


def test_interval_dots_sort_and_bracket():
    frame = pd.DataFrame({"acc": [0.5, 0.3, 0.4], "lo": [0.4, 0.2, 0.3], "hi": [0.6, 0.4, 0.5]}, index=list("abc"))
    fig = plots.interval_dots(frame, "acc", "lo", "hi", "accuracy", chance=1 / 3, label="95%")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c", "a"] and ax.get_xlabel() == "accuracy"
    assert ax.get_legend() is not None
    plt.close(fig)


def test_challenge_scores_draw_what_exists():
    p1 = pd.DataFrame({"score": [0.5, 0.68, 0.2], "score_lo": [0.4, 0.6, 0.1], "score_hi": [0.6, 0.7, 0.3]},
                      index=["ASB", "always neutral, 0", "true class, commonest level"])
    empty = pd.DataFrame(columns=["Phase II"])
    fig = plots.challenge_scores(["ASB"], p1, empty, empty, ["always neutral, 0", "missing row"], 0.5132)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["always neutral, 0", "paper ASB, Phase I", "Phase I"]
    plt.close(fig)


def test_per_participant_dots_and_the_models_named_by_the_registry():
    per_p = pd.DataFrame({"model": ["asb"] * 3 + ["logreg"] * 3, "participant": ["P1", "P2", "P3"] * 2,
                          "accuracy": [0.2, 0.4, 0.6, 0.5, 0.5, 0.5]})
    fig = plots.per_participant(per_p, ["asb", "logreg"], 1 / 3)
    ax = fig.axes[0]
    assert len(ax.collections) == 2 and [line.get_ydata()[0] for line in ax.lines[:2]] == pytest.approx([0.4, 0.5])
    plt.close(fig)
    assert plots.label("compact") == "Compact (this book)" and plots.color("asb") == "#DD8452"


def test_a_users_model_gets_an_unused_colour_and_a_baseline_the_default():
    from torch import nn

    from fmriemo.models import registry
    registry.register(registry.ModelSpec("mine", lambda n_out, **kw: nn.Linear(25, n_out)))
    try:
        assert plots.color("mine") not in {c.lower() for c in plots.MODEL_COLORS.values()}
        assert plots.color("mine").startswith("#") and plots.color("mine") == plots.color("mine")
    finally:
        registry.unregister("mine")
    assert plots.color("logreg") == "#777777" and plots.color("logreg", None) is None


def _curve(peak_at):
    acc = np.full(25, 1 / 3)
    acc[peak_at:] = 0.6
    return pd.DataFrame({"accuracy": acc, "lo": acc - 0.05, "hi": acc + 0.05}, index=range(25))


def test_accuracy_by_second_draws_curves_clusters_and_the_books_windows():
    clusters = {"a": pd.DataFrame({"first second": [15, 2], "last second": [24, 2], "p": [0.001, 0.6]}),
                "b": pd.DataFrame(columns=["first second", "last second", "p"])}
    windows = (("video", 8, 21), ("after", 15, 25))
    fig = plots.accuracy_by_second({"a": _curve(15), "b": _curve(20)}, clusters, windows, chance=1 / 3)
    top_a, top_b, low_a, low_b = fig.axes
    bars = [line for line in top_a.lines if line.get_linewidth() == 4]
    assert len(bars) == 1 and tuple(bars[0].get_xdata()) == (14.6, 24.4)  # only the significant cluster
    assert not [line for line in top_b.lines if line.get_linewidth() == 4]
    assert [t.get_text() for t in low_a.get_yticklabels()] == ["video", "after"]
    assert [tuple(line.get_xdata()) for line in low_a.lines if line.get_linewidth() == 5] == \
        [(7.6, 20.4), (14.6, 24.4)]  # seconds 8-20 and 15-24, as the decoders average them
    assert any(line.get_linestyle() == "--" and line.get_ydata()[0] == pytest.approx(1 / 3) for line in top_a.lines)
    plt.close(fig)


def test_generalisation_matrices_centre_the_colours_on_chance():
    m = pd.DataFrame(np.full((25, 25), 1 / 3))
    m.iloc[15:, 15:] = 0.7
    fig = plots.generalisation_matrices({"a": m, "b": m * 0 + 0.2}, chance=1 / 3)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2
    lo, hi = images[0].get_clim()
    assert (lo + hi) / 2 == pytest.approx(1 / 3) and hi == pytest.approx(0.7)
    plt.close(fig)
