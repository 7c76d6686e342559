"""The authors' recipe, on whatever hardware is at hand: the paper's three models trained on the
paper's split for the paper's 10,000 epochs with no early stopping, each keeping the checkpoint with
the best validation value, over several seeds; a model's seeds train together (as one batched network
on a GPU, side by side on threads on the CPU).

    python benchmarks/paper_budget.py --data-dir D --device cuda    # 5 seeds x 3 models x 10,000 epochs
    python benchmarks/paper_budget.py --epochs 50                   # a short try on the CPU (the surrogate)

First prints an estimate of the time it will take (two epochs of each model timed here), then trains,
then writes ``OUT.json`` and ``OUT.txt`` (``--out``, default ``paper_budget``): test macro F1 and
accuracy per method and seed, the kept epoch, whether it was kept on the plateau or with the run still
improving at the cap, the spread over seeds against the paper's F1, the wall time and the fraction of
this device's measured matmul rate that training reached. The runs go into the model cache under the
keys the book uses, so chapter 3 with ``profile = "paper"`` (and the same seeds) reads them from there
instead of training them again.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from fmriemo.core.store import cache_root
from fmriemo.data import preprocess
from fmriemo.data.dataset import encode
from fmriemo.data.source import DEFAULT_SURROGATE_SEED, data_name, open_dataset
from fmriemo.data.splits import PAPER_SPLIT_SEED, make_paper_split
from fmriemo.evaluation.paper import PAPER_TABLES, chance_of_reaching
from fmriemo.metrics import classification_metrics
from fmriemo.models.registry import build_model, label, paper_methods
from fmriemo.training.batched import Member, fit_members
from fmriemo.training.config import config_for, resolve_device
from fmriemo.training.runs import train_runs

from _measure import forward_flops, matmul_flops  # benchmarks/_measure.py, beside this script

PAPER_EPOCHS = 10_000


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def epoch_flops(method: str, task: str, X, split) -> float:
    """Training FLOPs of one member-epoch: forward and backward (about three forwards) over the training
    trials and a forward over the validation trials."""
    model = build_model(method, task)
    return 3 * forward_flops(model, torch.as_tensor(X[split.train])) + \
        forward_flops(model, torch.as_tensor(X[split.val]))


def estimate(ds, X, split, methods, task: str, seeds, epochs: int, device: torch.device) -> dict:
    """Seconds per epoch of each method's seeds on ``device``, trained as the book trains them (as one
    batch: a vmapped network on an accelerator, side by side on threads on the CPU; see
    :func:`fmriemo.training.runs.train_runs`), timed over two epochs after one warm-up epoch, and the
    whole run's estimated minutes."""
    y_tr, y_va = (encode(task, ds.labels(task, rows)) for rows in (split.train, split.val))
    members = [Member(s, split.train, y_tr, split.val, y_va) for s in seeds]
    per_epoch = {}
    for m in methods:
        fit_members(X, members, config_for("paper", 1, method=m, task=task, device=str(device)), progress=False)
        _sync(device)
        t0 = time.perf_counter()
        fit_members(X, members, config_for("paper", 2, method=m, task=task, device=str(device)), progress=False)
        _sync(device)
        per_epoch[m] = (time.perf_counter() - t0) / 2
    return {"seconds_per_epoch": per_epoch, "minutes": sum(per_epoch.values()) * epochs / 60}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="", help="challenge folder (default: the built-in surrogate)")
    ap.add_argument("--labels", default="", help="released-labels CSV (optional)")
    ap.add_argument("--surrogate-seed", type=int, default=DEFAULT_SURROGATE_SEED)
    ap.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    ap.add_argument("--task", choices=("class", "level"), default="class")
    ap.add_argument("--methods", nargs="+", default=list(paper_methods()))
    ap.add_argument("--seeds", type=int, default=5, help="training seeds 0..N-1 (default 5)")
    ap.add_argument("--epochs", type=int, default=PAPER_EPOCHS, help="epoch budget (default the paper's 10,000)")
    ap.add_argument("--jobs", type=int, default=1, help="joblib workers sharing each batch (default 1)")
    ap.add_argument("--cache-dir", default="", help="model cache (default: the book's, ~/.cache/fmriemo)")
    ap.add_argument("--out", default="paper_budget", help="OUT.json and OUT.txt are written (default paper_budget)")
    ap.add_argument("--no-estimate", action="store_true", help="skip the timed estimate")
    a = ap.parse_args(argv)
    if a.seeds < 1 or a.epochs < 1 or a.jobs < 1:
        ap.error("--seeds, --epochs and --jobs must be at least 1")

    device = resolve_device(a.device)
    ds = open_dataset(a.data_dir, a.labels, a.surrogate_seed, a.cache_dir)
    split = make_paper_split(ds, a.task, PAPER_SPLIT_SEED)
    X = preprocess.apply("minmax", ds.X, ds.participant)
    seeds = list(range(a.seeds))
    name = f"{torch.cuda.get_device_name(device)}" if device.type == "cuda" else \
        f"CPU, {torch.get_num_threads()} threads"
    print(f"{data_name(a.data_dir, a.surrogate_seed)}; {a.task} task, paper's split ({len(split.train)} / {len(split.val)} / {len(split.test)} "
          f"trials); {len(a.methods)} models x {a.seeds} seeds x {a.epochs:,} epochs, no early stopping; "
          f"{device} ({name})", flush=True)
    peak = matmul_flops(device)
    print(f"measured float32 matmul rate: {peak / 1e12:.2f} TFLOP/s", flush=True)
    est = None
    if not a.no_estimate:
        est = estimate(ds, X, split, a.methods, a.task, seeds, a.epochs, device)
        print(f"estimate: per epoch of {a.seeds} seeds together, "
              + ", ".join(f"{label(m)} {s * 1000:.0f} ms" for m, s in est["seconds_per_epoch"].items())
              + f"; about {est['minutes']:.1f} min in all (less if some runs are already in the cache)", flush=True)

    rows, per_method = [], {}
    t_all = time.perf_counter()
    for m in a.methods:
        jobs = [(split, config_for("paper", a.epochs, method=m, task=a.task, seed=s, device=str(device)))
                for s in seeds]
        _sync(device)
        t0 = time.perf_counter()
        runs = train_runs(ds, jobs, a.cache_dir or None, progress=sys.stderr.isatty(), n_jobs=a.jobs)
        _sync(device)
        wall = time.perf_counter() - t0
        trained = [r for r in runs if not r.cached]
        flops = epoch_flops(m, a.task, X, split) * sum(r.epochs_run for r in trained)
        for s, r in zip(seeds, runs):
            met = classification_metrics(r.y_true, r.y_pred, a.task)
            rows.append({"method": m, "seed": s, "f1": met["f1"], "accuracy": met["accuracy"],
                         "kept_epoch": r.best_epoch, "epochs_run": r.epochs_run, "on_plateau": r.on_plateau,
                         "still_improving": r.still_improving, "from_cache": r.cached})
        f1 = np.array([row["f1"] for row in rows if row["method"] == m])
        paper_f1 = float(PAPER_TABLES[a.task]["f1"].get(m, np.nan))
        per_method[m] = {"mean_f1": float(f1.mean()), "sd_f1": float(f1.std(ddof=1)) if len(f1) > 1 else None,
                         "paper_f1": paper_f1, "seeds_reaching_paper": int((f1 >= paper_f1).sum()),
                         "chance_one_run_reaches_paper": chance_of_reaching(f1, paper_f1),
                         "wall_seconds": wall, "runs_trained": len(trained),
                         "fraction_of_matmul_rate": flops / wall / peak if trained and wall > 0 else None}
        print(f"{label(m)}: mean F1 {f1.mean():.3f} over {len(f1)} seeds (paper {paper_f1:.2f}); "
              f"{len(trained)} trained in {wall / 60:.1f} min", flush=True)
    wall_all = time.perf_counter() - t_all

    record = {"data": data_name(a.data_dir, a.surrogate_seed), "task": a.task, "split": split.name, "epochs": a.epochs, "seeds": seeds,
              "device": str(device), "device_name": name, "torch": torch.__version__,
              "matmul_tflops": peak / 1e12, "estimate": est, "wall_seconds": wall_all,
              "cache": str(cache_root(a.cache_dir or None)), "methods": per_method, "runs": rows}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(record, indent=1, default=float))
    text = report(record)
    out.with_suffix(".txt").write_text(text)
    print(text)
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.txt')}")
    return 0


def report(rec: dict) -> str:
    """The record as a text table: one line per run, then one per method."""
    lines = [f"The paper's recipe: {rec['task']} task, {rec['split']}, {rec['epochs']:,} epochs, no early stopping; "
             f"{rec['data']}; {rec['device']} ({rec['device_name']}), torch {rec['torch']}",
             "", f"{'model':<9}{'seed':>5}{'F1':>7}{'acc':>7}{'kept':>8}{'run':>8}  flags"]
    for r in rec["runs"]:
        flags = ", ".join(f for f, on in (("on plateau", r["on_plateau"]), ("still improving", r["still_improving"]),
                                          ("from cache", r["from_cache"])) if on)
        lines.append(f"{label(r['method']):<9}{r['seed']:>5}{r['f1']:>7.3f}{r['accuracy']:>7.3f}"
                     f"{r['kept_epoch']:>8,}{r['epochs_run']:>8,}  {flags}")
    lines += ["", f"{'model':<9}{'mean F1':>8}{'SD':>7}{'paper':>7}{'reach':>7}{'chance':>8}{'minutes':>9}"
                  f"{'of matmul':>11}"]
    for m, s in rec["methods"].items():
        sd = "" if s["sd_f1"] is None else f"{s['sd_f1']:.3f}"
        chance = "" if not np.isfinite(s["chance_one_run_reaches_paper"]) else f"{s['chance_one_run_reaches_paper']:.2f}"
        frac = "" if s["fraction_of_matmul_rate"] is None else f"{s['fraction_of_matmul_rate']:.1%}"
        lines.append(f"{label(m):<9}{s['mean_f1']:>8.3f}{sd:>7}{s['paper_f1']:>7.2f}"
                     f"{s['seeds_reaching_paper']:>4}/{len(rec['seeds'])}{chance:>8}{s['wall_seconds'] / 60:>9.2f}{frac:>11}")
    lines += ["", f"wall time {rec['wall_seconds'] / 60:.1f} min; matmul rate measured {rec['matmul_tflops']:.2f} TFLOP/s; "
                  "reach: seeds at or above the paper's F1; chance: that one more run reaches it, if runs spread "
                  "normally as these did"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
