"""Training speed of the three paper models, measured against this machine's own
matmul throughput in the same run; the seeds of a model trained together as one
batched network against the same seeds trained one after the other; and the wall
time of chapters 3-4.

    python benchmarks/train_speed.py                     # models + chapters 3-4 (quick profile)
    python benchmarks/train_speed.py --chapters quick full
    python benchmarks/train_speed.py --chapters          # models only
    python benchmarks/train_speed.py --chapters --members 5 --epochs 20   # batched vs sequential
    python benchmarks/train_speed.py --chapters --bar 40 # and the progress bar's cost in a kernel
    python benchmarks/train_speed.py --chapters --denormals 800   # late epochs with and without denormals

Prints one table; every ratio is between figures measured in this run.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from fmriemo.book.build import chapter_sources, run_chapter
from fmriemo.data import preprocess
from fmriemo.data.dataset import encode
from fmriemo.data.source import open_dataset
from fmriemo.data.splits import make_paper_split
from fmriemo.models.registry import build_model
from fmriemo.training.batched import Member, default_form, fit_members
from fmriemo.training.config import TrainConfig, resolve_device
from fmriemo.training import loop
from fmriemo.training.loop import fit, fit_steps
from fmriemo.training.runs import RUN_THREADS

from _measure import forward_flops, matmul_flops  # benchmarks/_measure.py, beside this script


def epoch_seconds(ds, method: str, task: str, device: str, epochs: int) -> tuple[float, float]:
    """Seconds per training epoch (after one warm-up epoch) and training FLOPs per epoch."""
    split = make_paper_split(ds, task)
    X = preprocess.minmax_trial(ds.X)
    lab = ds.labelled
    y = np.zeros(len(ds), dtype=int)
    y[lab] = encode(task, {"class": ds.y_class, "level": ds.y_level}[task][lab])
    torch.manual_seed(0)
    model = build_model(method, task)
    flops = 3 * forward_flops(model, torch.as_tensor(X[split.train]))  # forward + backward ~ 3x forward
    cfg = TrainConfig(method=method, task=task, epochs=1, device=device)
    fit(model, X[split.train], y[split.train], X[split.val], y[split.val], cfg, progress=False)
    cfg = TrainConfig(method=method, task=task, epochs=epochs, device=device)
    t0 = time.perf_counter()
    fit(model, X[split.train], y[split.train], X[split.val], y[split.val], cfg, progress=False)
    return (time.perf_counter() - t0) / epochs, flops


#: the forms of a batch that ``--members`` times (:func:`fmriemo.training.batched.fit_members`)
FORMS = ("vmap", "threads")


def batched_vs_sequential(ds, method: str, task: str, device: str, epochs: int, members: int,
                          rounds: int = 2, forms=FORMS) -> dict[str, float]:
    """Seconds per member-epoch of ``members`` seeds on the paper's split trained one after the other
    (:func:`fmriemo.training.loop.fit`) and trained together as one batched network
    (:func:`fmriemo.training.batched.fit_members`) in each of ``forms`` (one vmapped pass of all members;
    each member trained alone on a pool of threads that share the cores), after one warm-up epoch, with no early stopping; all are interleaved ``rounds`` times and each keeps its best
    round (the machine's speed drifts within minutes)."""
    split = make_paper_split(ds, task)
    X = preprocess.minmax_trial(ds.X)
    y_tr, y_va = (encode(task, ds.labels(task, rows)) for rows in (split.train, split.val))
    cfg = TrainConfig(method=method, task=task, epochs=epochs, device=device)
    seeds = list(range(members))
    fit_members(X, [Member(0, split.train, y_tr, split.val, y_va)], TrainConfig(method=method, task=task, epochs=1,
                device=device), progress=False)  # warm-up
    best = {"one by one": np.inf, **{form: np.inf for form in forms}}
    for _ in range(rounds):
        t0 = time.perf_counter()
        for s in seeds:
            torch.manual_seed(s)
            fit(build_model(method, task), X[split.train], y_tr, X[split.val], y_va, TrainConfig(
                method=method, task=task, seed=s, epochs=epochs, device=device), progress=False)
        best["one by one"] = min(best["one by one"], (time.perf_counter() - t0) / (members * epochs))
        for form in forms:
            t0 = time.perf_counter()
            fit_members(X, [Member(s, split.train, y_tr, split.val, y_va) for s in seeds], cfg, progress=False,
                        form=form)
            best[form] = min(best[form], (time.perf_counter() - t0) / (members * epochs))
    return best


BAR_NOTEBOOK = """
import time
import fmriemo.training.loop as T
from fmriemo.data.source import open_dataset
from fmriemo.data.splits import make_paper_split
from fmriemo.training.config import TrainConfig
from fmriemo.training.runs import train_run
from tqdm.auto import tqdm

if mode == "every epoch":  # how the bar behaved before: redrawn (one widget message) after every epoch
    class EveryEpoch(tqdm):
        def set_postfix(self, *args, refresh=True, **kw):
            super().set_postfix(*args, refresh=True, **kw)
    T._progress = lambda total, desc, enabled: EveryEpoch(total=total, desc=desc, leave=False, unit="epoch",
                                                          mininterval=0)
ds = open_dataset("", "", 2024, cache)
split = make_paper_split(ds, "class")
t0 = time.perf_counter()
train_run(ds, split, TrainConfig(method="asb", task="class", epochs=epochs), cache + "/" + mode.replace(" ", "-"),
          progress=mode != "no bar")
print("SECONDS_PER_EPOCH", (time.perf_counter() - t0) / epochs)
"""


def bar_seconds(epochs: int, rounds: int = 3) -> dict[str, float]:
    """Seconds per ASB epoch when training runs in a notebook kernel executed by papermill (as the
    chapters do): without a progress bar, with the book's bar (redrawn at most once a second), and
    with a bar redrawn after every epoch; the three interleaved over ``rounds``, the fastest of each
    kept (the machine's speed drifts between runs)."""
    import nbformat
    import papermill
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell('mode = "no bar"\nepochs = 10\ncache = ""',
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(BAR_NOTEBOOK)]
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "bar.ipynb"
        nbformat.write(nb, src)
        for r in range(rounds):
            for mode in ("no bar", "the book's bar", "every epoch"):
                done = papermill.execute_notebook(str(src), str(Path(tmp) / "out.ipynb"), progress_bar=False,
                                                  parameters={"mode": mode, "epochs": epochs,
                                                              "cache": f"{tmp}/round{r}"})
                text = "".join(o.get("text", "") for c in done.cells for o in c.get("outputs", []))
                v = float(text.split("SECONDS_PER_EPOCH")[1].split()[0])
                out[mode] = min(out.get(mode, v), v)
    return out


def chapter_minutes(profile: str) -> float:
    """Wall time of chapters 3 and 4 with an empty cache (everything trained)."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        for src in chapter_sources():
            if src.stem[:2] in ("03", "04"):
                run_chapter(src, Path(tmp) / f"{src.stem}.ipynb", {"profile": profile, "cache_dir": tmp})
        return (time.perf_counter() - t0) / 60


def denormal_seconds(ds, epochs: int, flush: bool, window: int = 50, method: str = "asb",
                     task: str = "class") -> dict:
    """One run of the paper's recipe (no early stopping) on the paper's split for ``epochs`` epochs, with the
    trainer flushing denormal floats to zero (as it does) or not: seconds per epoch over the first and the
    last ``window`` epochs, and the share of the weights and optimiser moments that are denormal at the
    end (nonzero and below float32's smallest normal number)."""
    split = make_paper_split(ds, task)
    X = preprocess.minmax_trial(ds.X)
    y_tr, y_va = (encode(task, ds.labels(task, rows)) for rows in (split.train, split.val))
    real = loop.flush_denormals
    loop.flush_denormals = real if flush else (lambda: torch.set_flush_denormal(False))
    threads = torch.get_num_threads()
    torch.set_num_threads(RUN_THREADS)  # as the trainer runs every run on the CPU
    try:
        torch.manual_seed(0)
        model = build_model(method, task)
        cfg = TrainConfig(method=method, task=task, epochs=epochs, device="cpu")
        steps = fit_steps(model, X[split.train], y_tr, X[split.val], y_va, cfg, progress=False)
        times = []
        t = time.perf_counter()
        for _ in steps:
            now = time.perf_counter()
            times.append(now - t)
            t = now
    finally:
        loop.flush_denormals = real
        torch.set_flush_denormal(False)  # the lambda above may have left it off or on: off, as a thread starts
        torch.set_num_threads(threads)
    tiny = torch.finfo(torch.float32).tiny
    values = torch.cat([p.detach().flatten() for p in model.parameters()])
    denormal = float(((values != 0) & (values.abs() < tiny)).float().mean())
    return {"first": float(np.mean(times[:window])), "last": float(np.mean(times[-window:])), "denormal": denormal}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--epochs", type=int, default=10, help="timed epochs per model")
    ap.add_argument("--chapters", nargs="*", default=["quick"], choices=["quick", "full"],
                    help="profiles whose chapters 3-4 wall time to measure (none: skip)")
    ap.add_argument("--members", type=int, default=0, metavar="N",
                    help="also time N seeds of each model trained together as one batched network against the "
                         "same N trained one after the other (per member-epoch, --epochs each)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="interleaved rounds of the --members comparison (each form keeps its best)")
    ap.add_argument("--forms", nargs="+", default=list(FORMS), choices=FORMS,
                    help="the batch forms that --members times (default: all)")
    ap.add_argument("--denormals", type=int, default=0, metavar="EPOCHS",
                    help="also time an ASB run of this many epochs with denormal floats flushed to zero (the "
                         "trainer's way) and without: its first and last 50 epochs")
    ap.add_argument("--bar", type=int, default=0, metavar="EPOCHS",
                    help="also time this many ASB epochs in a papermill-run kernel with and without the progress bar")
    a = ap.parse_args(argv)
    dev = resolve_device(a.device)
    with tempfile.TemporaryDirectory() as tmp:
        ds = open_dataset("", "", 2024, tmp)
        peak = matmul_flops(dev)
        print(f"device: {dev} ({torch.get_num_threads()} threads), torch {torch.__version__}")
        print(f"matmul float32 1024^3: {peak / 1e9:.1f} GFLOP/s")
        print(f"{'model':<16}{'s/epoch':>9}{'GFLOP/epoch':>13}{'GFLOP/s':>9}{'of matmul':>11}")
        for task in ("class", "level"):
            for method in ("vanilla", "asb", "ebr"):
                s, f = epoch_seconds(ds, method, task, str(dev), a.epochs)
                print(f"{method + '/' + task:<16}{s:>9.3f}{f / 1e9:>13.2f}{f / s / 1e9:>9.1f}{f / s / peak:>10.1%}")
        if a.members:
            print(f"\n{a.members} seeds on the paper's split, {a.epochs} epochs each, seconds per member-epoch "
                  f"(best of {a.rounds} interleaved rounds), and the speed of each batched form relative to one by "
                  f"one (the default form here: {default_form(dev)}):")
            print(f"{'model':<16}{'one by one':>11}" + "".join(f"{f:>9}" for f in a.forms)
                  + "".join(f"{f + ' speed':>15}" for f in a.forms))
            for task in ("class", "level"):
                for method in ("vanilla", "asb", "ebr"):
                    t = batched_vs_sequential(ds, method, task, str(dev), a.epochs, a.members, a.rounds, a.forms)
                    seq = t["one by one"]
                    print(f"{method + '/' + task:<16}{seq:>11.3f}" + "".join(f"{t[f]:>9.3f}" for f in a.forms)
                          + "".join(f"{seq / t[f]:>14.2f}x" for f in a.forms), flush=True)
        if a.denormals:
            print(f"\nASB class, {a.denormals} epochs of the paper's recipe on {RUN_THREADS} thread (as every run "
                  "trains), seconds per epoch:")
            for flush in (False, True):
                d = denormal_seconds(ds, a.denormals, flush)
                print(f"  denormals {'flushed to zero' if flush else 'kept':<16} first 50 {d['first']:.3f}, last 50 "
                      f"{d['last']:.3f} ({d['last'] / d['first']:.2f}x); denormal weights at the end "
                      f"{d['denormal']:.1%}", flush=True)
    if a.bar:
        secs = bar_seconds(a.bar)
        for mode, v in secs.items():
            print(f"in a papermill kernel, {mode:<15} {v:.3f} s/epoch ({v / secs['no bar']:.2f}x no bar)")
    for profile in a.chapters:
        print(f"chapters 3-4, {profile} profile, empty cache: {chapter_minutes(profile):.1f} min")


if __name__ == "__main__":
    main()
