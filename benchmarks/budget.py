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
    ap.add_argument("--epochs", type=int, default=1000, help="the longest budget (every run trains this long)")
    ap.add_argument("--budgets", type=int, nargs="+", default=[50, 100, 200, 300, 600, 1000, 3000, 10000])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--jobs", type=int, default=1, help="joblib workers that share the runs (default 1)")
    ap.add_argument("--data-dir", default="")
    ap.add_argument("--surrogate-seed", type=int, default=2024)
    ap.add_argument("--cache-dir", default="", help="model cache (default: a temporary folder)")
    ap.add_argument("--out", default="", help="save every finished run here (JSON lines), as each method's seeds finish")
    ap.add_argument("--rules", nargs="+", default=[f"{m}:{p}" for m, p in RULES],
                    help="early-stopping rules to replay, as MIN_EPOCHS:PATIENCE")
    ap.add_argument("--from-file", default="", help="print the tables from runs saved with --out; train nothing")
    a = ap.parse_args(argv)

    from fmriemo.training.runs import RunResult

    t0 = time.perf_counter()
    if a.from_file:
        results = []
        for line in open(a.from_file):
            d = json.loads(line)
            results.append((tuple(d["job"]), RunResult.from_json(d["run"]), d["wall"]))
        a.epochs = max(r.epochs_run for _, r, _ in results)
        a.tasks = [t for t in a.tasks if any(k[1] == t for k, _, _ in results)]
    else:
        results = train_all(a)
    report(results, a, time.perf_counter() - t0)


def train_all(a):
    """Every (method, task, seed) on the paper's split; a method's seeds train together as one batched
    network (``fmriemo.training.runs.train_runs``), its parts spread over ``--jobs`` joblib workers."""
    from fmriemo.data.source import open_dataset
    from fmriemo.data.splits import make_paper_split
    from fmriemo.training.config import config_for
    from fmriemo.training.runs import train_runs

    cache = a.cache_dir or tempfile.mkdtemp(prefix="fmriemo-budget-")
    ds = open_dataset(a.data_dir, "", a.surrogate_seed, cache)
    results = []
    for t in a.tasks:
        split = make_paper_split(ds, t)
        for m in a.methods:
            jobs = [(split, config_for("paper", a.epochs, method=m, task=t, seed=s, device=a.device))
                    for s in range(a.seeds)]
            for s, r in zip(range(a.seeds), train_runs(ds, jobs, cache, progress=True, n_jobs=a.jobs)):
                results.append(((m, t, s), r, r.seconds))
                if a.out:
                    d = r.to_json()
                    for k in ("proba", "gates", "test_index", "y_true", "y_pred"):
                        d[k] = None
                    with open(a.out, "a") as fh:
                        fh.write(json.dumps({"job": [m, t, s], "run": d, "wall": r.seconds}) + "\n")
    return results


def report(results, a, wall):
    from fmriemo.evaluation.paper import budget_table
    from fmriemo.training.loop import EarlyStopping

    budgets = [b for b in a.budgets if b <= a.epochs]
    pd.set_option("display.width", 200)
    for task in a.tasks:
        runs = {(m, s): r for (m, t, s), r, _ in results if t == task}
        tab = budget_table(runs, budgets)
        summary = tab.groupby(["method", "budget"]).agg(
            kept_epoch=("kept_epoch", "median"), val=("val", "mean"), test_acc=("test_acc", "mean"),
            test_f1=("test_f1", "mean"), test_f1_sd=("test_f1", "std"), seeds=("seed", "count"))
        print(f"\n== {task} task: the checkpoint each budget keeps (paper's rule; mean over seeds, "
              f"kept epoch median) ==")
        print(summary.round(3).to_string())
        rows = []
        for (m, s), r in runs.items():
            maximise = r.config["monitor"] == "val_acc"
            vals = r.history[r.config["monitor"]]
            for me, pat in (map(int, r.split(":")) for r in a.rules):
                run_for, kept = EarlyStopping.replay(vals, maximise, a.epochs, pat, min(me, a.epochs))
                rows.append({"method": m, "rule": f"min {me}, patience {pat}", "epochs_run": run_for,
                             "kept_epoch": kept, "test_f1": r.history["test_f1"][kept - 1],
                             "same_as_full": kept == r.best_epoch})
        rules = pd.DataFrame(rows).groupby(["method", "rule"], sort=False).agg(
            epochs_run=("epochs_run", "mean"), kept_epoch=("kept_epoch", "median"), test_f1=("test_f1", "mean"),
            same_as_full=("same_as_full", "mean"))
        print(f"\n== {task} task: early-stopping rules replayed on the same curves (max {a.epochs} epochs) ==")
        print(rules.round(3).to_string())
    per_epoch = np.mean([r.seconds / r.epochs_run for _, r, _ in results])
    print(f"\n{len(results)} runs of {a.epochs} epochs on {results[0][1].config['device']}, {a.jobs} in parallel: "
          f"wall time {wall / 60:.1f} min; {per_epoch * 1000:.1f} ms per epoch per run")


if __name__ == "__main__":
    main()
