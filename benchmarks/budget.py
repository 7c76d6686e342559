"""How the paper's models depend on the epoch budget: best validation value and
test metrics at budgets of 50, 100, 300, 1000 ... epochs, and what candidate
early-stopping rules would have kept, over several seeds, from one run.

Each (method, task, seed) is trained once for the longest budget with no early
stopping on the paper's split, recording validation and test metrics after
every epoch. The checkpoint a shorter budget, or a stopping rule, would have
kept is then read off that curve with the same rule the trainer uses
(``EarlyStopping.replay``), so every row of the tables comes from the same runs.

    python benchmarks/budget.py                                   # 3 seeds, 1000 epochs, CPU
    python benchmarks/budget.py --epochs 10000 --device cuda --jobs 8 --out curves.json

Prints the tables and the wall time; ``--out`` saves every curve as JSON.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
import pandas as pd

RULES = [(0, 60), (200, 100), (300, 150), (400, 150), (600, 200)]  # (min_epochs, patience)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", nargs="+", default=["asb", "vanilla", "ebr"])
    ap.add_argument("--tasks", nargs="+", default=["class", "level"])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--protocol", default="paper", choices=["paper", "groupkfold"],
                    help="the paper's split, or the held-out folds of chapter 7 (order groups together)")
    ap.add_argument("--k", type=int, default=3, help="folds of the held-out protocol")
    ap.add_argument("--n-val", type=int, default=2, help="validation participants inside each held-out fold")
    ap.add_argument("--epochs", type=int, default=1000, help="the longest budget (every run trains this long)")
    ap.add_argument("--budgets", type=int, nargs="+", default=[50, 100, 200, 300, 600, 1000, 3000, 10000])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--jobs", type=int, default=1, help="joblib workers that share the runs (default 1)")
    ap.add_argument("--data-dir", default="")
    ap.add_argument("--surrogate-seed", type=int, default=2024)
    ap.add_argument("--cache-dir", default="", help="model cache (default: a temporary folder)")
    ap.add_argument("--out", default="", help="save every finished run here (JSON lines), as each method's seeds finish")
    ap.add_argument("--rules", nargs="+", default=[f"{m}:{p}" for m, p in RULES],
                    help="early-stopping rules to replay, as MIN_EPOCHS:PATIENCE or MIN_EPOCHS:PATIENCE:AFTER_EXIT "
                         "(armed AFTER_EXIT epochs after the run's own plateau exit, or after MIN_EPOCHS)")
    ap.add_argument("--reference", default="800:300",
                    help="the rule whose checkpoints the others are compared with (default: the full profile's "
                         "until 2026-12)")
    ap.add_argument("--from-file", default="", help="print the tables from runs saved with --out; train nothing")
    a = ap.parse_args(argv)

    from fmriemo.training.runs import RunResult

    t0 = time.perf_counter()
    if a.from_file:
        results = []
        for line in open(a.from_file):
            d = json.loads(line)
            job = tuple(d["job"]) + (None,) * (4 - len(d["job"]))  # (method, task, seed, fold)
            results.append((job, RunResult.from_json(d["run"]), d["wall"]))
        a.epochs = max(r.epochs_run for _, r, _ in results)
        a.tasks = [t for t in a.tasks if any(k[1] == t for k, _, _ in results)]
    else:
        results = train_all(a)
    report(results, a, time.perf_counter() - t0)


def train_all(a):
    """Every (method, task, seed) on the paper's split, or every (method, task, seed, fold) of the held-out
    protocol (``--protocol groupkfold``: chapter 7's folds, each seed with its own validation participants,
    as :func:`fmriemo.evaluation.heldout.fold_runs` draws them); a method's runs train together
    (``fmriemo.training.runs.train_runs``), its parts spread over ``--jobs`` joblib workers."""
    from fmriemo.data.source import open_dataset
    from fmriemo.data.splits import group_folds, make_paper_split, nested_split
    from fmriemo.training.config import config_for
    from fmriemo.training.runs import train_runs

    cache = a.cache_dir or tempfile.mkdtemp(prefix="fmriemo-budget-")
    ds = open_dataset(a.data_dir, "", a.surrogate_seed, cache)
    results = []
    for t in a.tasks:
        if a.protocol == "paper":
            splits = [((s, None), make_paper_split(ds, t)) for s in range(a.seeds)]
        else:
            folds = group_folds(ds, a.protocol, a.k)
            splits = [((s, f), nested_split(ds, test_p, a.n_val, s)) for s in range(a.seeds)
                      for f, test_p in enumerate(folds)]
        for m in a.methods:
            jobs = [(split, config_for("paper", a.epochs, method=m, task=t, seed=s, device=a.device))
                    for (s, _), split in splits]
            for ((s, f), _), r in zip(splits, train_runs(ds, jobs, cache, progress=True, n_jobs=a.jobs)):
                results.append(((m, t, s, f), r, r.seconds))
                if a.out:
                    d = r.to_json()
                    for k in ("proba", "gates", "test_index", "y_true", "y_pred"):
                        d[k] = None
                    with open(a.out, "a") as fh:
                        fh.write(json.dumps({"job": [m, t, s, f], "run": d, "wall": r.seconds}) + "\n")
    return results


def parse_rule(text: str) -> dict:
    """A rule as ``MIN:PATIENCE`` or ``MIN:PATIENCE:AFTER_EXIT``: early stopping armed after MIN epochs, or
    AFTER_EXIT epochs after the run's plateau exit if that is sooner (:class:`~fmriemo.training.loop.EarlyStopping`)."""
    parts = [int(x) for x in text.split(":")]
    return {"min_epochs": parts[0], "patience": parts[1], "after_exit": parts[2] if len(parts) > 2 else None}


def replay_rules(runs: dict, rules, cap: int, reference: str) -> pd.DataFrame:
    """Every rule replayed on every run's recorded curve (``runs``: (method, seed) -> RunResult recorded
    without early stopping for ``cap`` epochs), against the ``reference`` rule: per method and rule, the
    epochs run (mean and total), how many runs keep the reference's checkpoint, a better one (a strictly
    better monitored validation value) or a worse one, the mean test accuracy of the checkpoints kept, and
    how many kept a checkpoint on their plateau or were still improving when the cap ended them."""
    from fmriemo.training.loop import EarlyStopping, plateau_exit, still_improving

    rows = []
    for (m, s), r in runs.items():
        maximise = r.config["monitor"] == "val_acc"
        vals, acc = r.history[r.config["monitor"]], r.history["val_acc"]
        kept_by = {}
        for text in rules:
            rule = parse_rule(text)
            run_for, kept = EarlyStopping.replay(vals, maximise, cap, rule["patience"], min(rule["min_epochs"], cap),
                                                 rule["after_exit"], val_acc=acc)
            exit_ = plateau_exit({"val_acc": acc[:run_for]})
            kept_by[text] = kept
            rows.append({"method": m, "rule": text, "run": s, "epochs_run": run_for, "kept": kept,
                         "value": vals[kept - 1], "test_acc": r.history["test_acc"][kept - 1],
                         "on_plateau": exit_ is None or kept < exit_,
                         "capped": still_improving(kept, run_for, cap, rule["patience"])})
        ref_value = vals[kept_by[reference] - 1]
        for row in rows[-len(rules):]:
            better = (row["value"] > ref_value) if maximise else (row["value"] < ref_value)
            worse = (row["value"] < ref_value) if maximise else (row["value"] > ref_value)
            row["same"], row["better"], row["worse"] = row["kept"] == kept_by[reference], better, worse
    frame = pd.DataFrame(rows)
    return frame.groupby(["method", "rule"], sort=False).agg(
        runs=("run", "size"), epochs_mean=("epochs_run", "mean"), epochs_total=("epochs_run", "sum"),
        same_checkpoint=("same", "sum"), better=("better", "sum"), worse=("worse", "sum"),
        test_acc=("test_acc", "mean"), on_plateau=("on_plateau", "sum"), capped=("capped", "sum"))


def report(results, a, wall):
    from fmriemo.evaluation.paper import budget_table

    budgets = [b for b in a.budgets if b <= a.epochs]
    pd.set_option("display.width", 200)
    for task in a.tasks:
        runs = {(m, s if f is None else f"{s}/{f}"): r for (m, t, s, f), r, _ in results if t == task}
        tab = budget_table(runs, budgets)
        summary = tab.groupby(["method", "budget"]).agg(
            kept_epoch=("kept_epoch", "median"), val=("val", "mean"), test_acc=("test_acc", "mean"),
            test_f1=("test_f1", "mean"), test_f1_sd=("test_f1", "std"), seeds=("seed", "count"))
        print(f"\n== {task} task: the checkpoint each budget keeps (paper's rule; mean over seeds, "
              f"kept epoch median) ==")
        print(summary.round(3).to_string())
        print(f"\n== {task} task: early-stopping rules replayed on the same curves (at most {a.epochs} epochs; "
              f"checkpoints compared with the rule {a.reference}) ==")
        print(replay_rules(runs, [a.reference] + [r for r in a.rules if r != a.reference], a.epochs,
                           a.reference).round(3).to_string())
    per_epoch = np.mean([r.seconds / r.epochs_run for _, r, _ in results])
    print(f"\n{len(results)} runs of {a.epochs} epochs on {results[0][1].config['device']}, {a.jobs} in parallel: "
          f"wall time {wall / 60:.1f} min; {per_epoch * 1000:.1f} ms per epoch per run")


if __name__ == "__main__":
    main()
