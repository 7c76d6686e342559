"""The ``fmriemo`` command line: check data, write the surrogate, train, submit, score, run chapters.

Each command parses its options, calls one package function and prints. Options shared by several
commands come from parent parsers; their choices and defaults are the package's own constants (the
model registry, the profile table, the protocols). One rule covers every command: an option given
that does not apply to the command as asked is refused by name (:func:`refuse_inapplicable`), never
silently ignored. The commands that do not train (``check``, ``surrogate``, ``calibrate``, ``score``)
never import torch: the modules that do are imported inside the commands that need them.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from .challenge.ratings import RATING_RULES
from .challenge.submission import SUBMIT_ENSEMBLES, score_files, write_submission
from .core.errors import DataError, ParameterError, UsageError
from .core.files import check_output_file, check_writable_dir, user_path
from .core.store import cache_root
from .core.threads import share_cores
from .data.loader import load_challenge
from .data.source import DEFAULT_SURROGATE_SEED, open_dataset
from .data.splits import PAPER_SPLIT_SEED, PHASE1_SPLITS
from .data.surrogate import write_surrogate_report
from .evaluation.calibration import card
from .evaluation.statistics import metrics_with_intervals
from .metrics import macro_f1
from .profiles import PROFILES, PROTOCOLS, Settings

__all__ = [
    "MAX_SEED", "DATA_OPTIONS", "seed_arg", "positive_int", "device_arg", "method_arg", "given_options",
    "refuse_inapplicable", "parser", "PATH_OPTIONS", "INTERRUPTED", "OutputError", "main",
]

MAX_SEED = 2**32 - 1
#: the options every command that reads data takes (the data parent parser's)
DATA_OPTIONS = {"data_dir", "labels", "surrogate_seed", "cache_dir"}


# --------------------------------------------------------------------------- option types

def seed_arg(text: str) -> int:
    """argparse type of every seed option.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    seed : int
        An integer in 0..2**32-1; anything else is a usage error.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SEED}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type of a count.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    n : int
        At least 1; anything else is a usage error.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def device_arg(text: str) -> str:
    """argparse type of --device, checked before any data is read or model trained.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    device : str
    """
    from .training.config import resolve_device  # deferred: imports torch
    try:
        resolve_device(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def method_arg(text: str) -> str:
    """argparse type of --method: a registered model's name, or ``search`` (``submit`` only, checked there).

    Checked only when a command that trains is parsed, so the others never import torch.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    method : str
    """
    from .models.registry import names  # deferred: the registry imports the models, and torch
    try:
        known = names()
    except DataError as exc:  # a models file named in $FMRIEMO_MODELS that cannot be read
        raise argparse.ArgumentTypeError(str(exc)) from None
    if text not in known + ("search",):
        raise argparse.ArgumentTypeError(f"unknown method {text!r}; expected one of {', '.join(known)}")
    return text


# --------------------------------------------------------------------------- the one refusal rule

def given_options(a: argparse.Namespace) -> list[str]:
    """The options of a command that the user gave.

    Every refusable option defaults to None (or False for a flag), so anything else was given.

    Parameters
    ----------
    a : argparse.Namespace
        The parsed command.

    Returns
    -------
    options : list of str
        Their dests.
    """
    return [dest for dest in a._refusable if getattr(a, dest) not in (None, False)]


def refuse_inapplicable(a: argparse.Namespace, applicable, context: str) -> None:
    """Refuse every option that was given but does not apply to the command as asked.

    The surrogate's seed never applies beside a data folder.

    Parameters
    ----------
    a : argparse.Namespace
        The parsed command.
    applicable : iterable of str
        The option names (dests) that apply.
    context : str
        The command as asked, for the message.

    Raises
    ------
    fmriemo.core.errors.UsageError
        Naming every such option.
    """
    if getattr(a, "data_dir", None) and getattr(a, "surrogate_seed", None) is not None:
        raise UsageError("--surrogate-seed does not apply with --data-dir (the surrogate is used only without one)")
    extra = [dest for dest in given_options(a) if dest not in set(applicable)]
    if extra:
        names = ", ".join("--" + d.replace("_", "-") for d in extra)
        raise UsageError(f"{names} {'does' if len(extra) == 1 else 'do'} not apply to {context}")


def _refusable(parser: argparse.ArgumentParser) -> list[str]:
    """The options of ``parser`` that can be told apart from not given: those whose default is None or
    False (every option that applies to some uses of a command only)."""
    return [act.dest for act in parser._actions
            if act.option_strings and not act.required and act.default in (None, False) and act.dest != "help"]


# --------------------------------------------------------------------------- shared option groups

def _data_parent() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--data-dir", default=None, help="challenge folder (default: the built-in surrogate)")
    p.add_argument("--labels", default=None, help="released-labels CSV (optional)")
    p.add_argument("--surrogate-seed", type=seed_arg, default=None,
                   help=f"seed of the surrogate data set without --data-dir (default {DEFAULT_SURROGATE_SEED})")
    p.add_argument("--cache-dir", default=None, help="where trained models and the surrogate are cached "
                                                      "(default: $FMRIEMO_CACHE or ~/.cache/fmriemo)")
    return p


def _training_parent() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--profile", choices=tuple(PROFILES), default=None, help="epoch budgets and seeds (default full)")
    p.add_argument("--epochs", type=positive_int, default=None, help="epoch budget (default: the profile's)")
    p.add_argument("--device", type=device_arg, default=None, help="auto (default), cpu, cuda, cuda:1, ...")
    p.add_argument("--seed", type=seed_arg, default=None, help="first training seed (default 0)")
    p.add_argument("--seeds", type=positive_int, default=None, help="number of seeds (default: the profile's)")
    p.add_argument("--protocol", choices=PROTOCOLS, default=None,
                   help="held-out protocol (default: the profile's): loso, order (order groups held out "
                        "together), groupkfold (k folds, order groups together) or kfold (ignores them)")
    p.add_argument("--k", type=positive_int, default=None, help="folds of groupkfold / kfold (default: the profile's)")
    p.add_argument("--n-val", type=positive_int, default=None,
                   help="participants held out for checkpoint selection (default: the profile's)")
    p.add_argument("--jobs", type=positive_int, default=None,
                   help="independent trainings run in parallel by joblib workers (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _settings(a, **fixed) -> Settings:
    """The :class:`fmriemo.profiles.Settings` of a training command's options (unset: the profile's);
    ``fixed`` replaces what the command decides itself (``train --split`` is the protocol)."""
    options = {"epochs": a.epochs, "device": a.device or "auto", "cache_dir": a.cache_dir, "seed": a.seed or 0,
               "n_seeds": a.seeds, "protocol": a.protocol, "k": a.k, "n_val": a.n_val, "progress": not a.quiet,
               "jobs": a.jobs or 1}
    return Settings.resolve(a.profile or "full", **{**options, **fixed})


def _dataset(a):
    """The data set of a command's data options (checked by :func:`refuse_inapplicable` first)."""
    seed = DEFAULT_SURROGATE_SEED if a.surrogate_seed is None else a.surrogate_seed
    return open_dataset(a.data_dir or "", a.labels or "", seed, a.cache_dir or "")


def _check_cache(a) -> None:
    """The model cache must be writable before anything is trained into it (checked, not yet made: nothing
    is written before the data are known to be good)."""
    check_writable_dir(cache_root(a.cache_dir), "model cache", create=False)


# --------------------------------------------------------------------------- commands

def _cmd_check(a) -> int:
    ds = load_challenge(a.data_dir, a.labels)
    s = ds.summary()
    print(f"OK: {s['source']}")
    for entry in ds.ignored:
        print(f"  ignored hidden entry: {entry}")
    for split in ("train", "test"):
        ps = s["participants"][split]
        span = f"{ps[0]}..{ps[-1]}" if ps else "none"
        print(f"  {split:5s}: {len(ps):2d} participants ({span}), {s['trials'][split]} trials, "
              f"{s['labelled_trials'][split]} labelled")
    print("  labelled trials by CLASS (rows) and LEVEL (columns):")
    print("    " + s["class_by_level"].to_string().replace("\n", "\n    "))
    return 0


def _cmd_surrogate(a) -> int:
    seed = DEFAULT_SURROGATE_SEED if a.seed is None else a.seed
    done = write_surrogate_report(a.out_dir, seed=seed, force=a.force)
    print(f"wrote surrogate challenge folder (seed {seed}) to {done.folder}")
    if done.untouched:
        print(f"left untouched (not the surrogate's): {', '.join(done.untouched)}")
    return 0


def _cmd_calibrate(a) -> int:
    refuse_inapplicable(a, DATA_OPTIONS | {"folder"}, "calibrate")
    ds = _dataset(a)
    c = card(ds)
    print(f"calibration card of {ds.source} (labelled training trials) beside the real challenge data")
    width = max(len(t) for t in c["statistic"])
    print(f"  {'statistic':{width}s}  {'here':>6s}  {'real':>6s}  {'diff':>6s}")
    for _, r in c.iterrows():
        print(f"  {r.statistic:{width}s}  {r.here:6.3f}  {r.real:6.3f}  {r.difference:+6.3f}")
    return 0


def _cmd_train(a) -> int:
    if a.method == "search":
        raise UsageError("--method search is a decoder of submit only; train takes a registered model")
    common = DATA_OPTIONS | {"profile", "epochs", "device", "seed", "quiet", "jobs"}
    if a.split == "paper":
        refuse_inapplicable(a, common | {"split_seed"},
                            "train --split paper (one model on the paper's trial split; held-out options need "
                            "--split loso, order, groupkfold or kfold)")
    else:
        refuse_inapplicable(a, common | {"seeds", "n_val"} | ({"k"} if a.split in ("groupkfold", "kfold") else set()),
                            f"train --split {a.split}")
    _check_cache(a)
    ds = _dataset(a)
    if a.split != "paper":
        return _train_heldout(ds, a)
    from .training.runs import train_paper  # deferred: training imports torch
    split_seed = PAPER_SPLIT_SEED if a.split_seed is None else a.split_seed
    res = train_paper(ds, a.method, a.task, _settings(a), split_seed=split_seed)
    m = metrics_with_intervals(res.y_true, res.y_pred, a.task)
    print(json.dumps({"method": a.method, "task": a.task, "split": res.split["name"], "seed": a.seed or 0,
                      "test_trials": m["n"], "metrics": m, "best_epoch": res.best_epoch,
                      "epochs_run": res.epochs_run, "plateau_exit": res.plateau_exit,
                      "kept_on_plateau": res.on_plateau, "still_improving_at_cap": res.still_improving,
                      "train_seconds": round(res.seconds, 2),
                      "from_cache": res.cached, "cache": res.path}, indent=1))
    return 0


def _train_heldout(ds, a) -> int:
    from .evaluation import heldout  # deferred: training imports torch

    settings = _settings(a, protocol=a.split)
    pred = heldout.run_models(ds, [a.method], a.task, settings)
    folds = heldout.group_folds(ds, settings.protocol, settings.k)
    per_fold = [{"seed": int(s), "fold": int(f), "test_participants": folds[f],
                 "best_epoch": int(g.kept_epoch.iloc[0]), "kept_on_plateau": bool(g.on_plateau.iloc[0]),
                 "still_improving_at_cap": bool(g.still_improving.iloc[0]),
                 "accuracy": float(np.mean(g.y_true == g.y_pred)), "f1": macro_f1(g.y_true, g.y_pred, a.task),
                 "trials": len(g)}
                for (s, f), g in pred.groupby(["seed", "fold"])]
    summ = heldout.summarise(pred, a.task, n_resamples=500, clusters=heldout.order_groups(ds)).iloc[0]
    summary = {k: (None if pd.isna(v) else float(v)) for k, v in summ.items()}
    print(json.dumps({"method": a.method, "task": a.task, "split": a.split, "seeds": list(settings.seeds),
                      "folds": per_fold, "summary": summary}, indent=1))
    return 0


def _cmd_score(a) -> int:
    s = score_files(a.submission, a.labels)
    print(f"class error {s['class_error']:.4f}  level error {s['level_error']:.4f}  "
          f"score {s['score']:.4f}  N {s['n']}")
    return 0


def _cmd_submit(a) -> int:
    data = DATA_OPTIONS | {"out", "force"}
    if a.method == "search":
        refuse_inapplicable(a, data, "submit --method search (one linear read-out chosen by cross-validation over "
                                     "the training participants: it trains no model)")
    else:
        model = data | {"seed", "seeds", "ratings", "ensemble", "epochs", "profile", "device", "n_val", "quiet", "jobs"}
        folds = a.ensemble in ("folds", "auto")
        refuse_inapplicable(a, model | ({"protocol", "k"} if folds else {"split"}),
                            f"submit --ensemble {a.ensemble or 'seeds'}" + ("" if folds else
                            " (--protocol and --k choose the fold models of --ensemble folds or auto)"))
    out = check_output_file(a.out, a.force, "submission", create=False)  # before training, not after
    _check_cache(a)
    ds = _dataset(a)
    from .challenge.submit import submit, submit_search  # deferred: training imports torch
    if a.method == "search":
        sub, _, _ = submit_search(ds)
    else:
        sub = submit(ds, a.method, _settings(a), ensemble=a.ensemble or "seeds", ratings=a.ratings or "class-aware",
                     split=a.split or "auto")
    if sub.comparison is not None:
        settings = _settings(a)
        print(f"held-out class accuracy of {a.method} ({settings.protocol}, k = {settings.k}, "
              f"{len(set(ds.participant[ds.labelled_train]))} participants):")
        for (kind, name), v in sub.comparison.items():
            print(f"  {name:<32} {v:.3f}{'  <- chosen' if kind == sub.chosen else ''}")
    write_submission(sub.table, out, force=a.force)
    kept = "; kept checkpoints: " + ", ".join(
        f"{task} {name}: epoch {r.best_epoch}{' (on its plateau)' if r.on_plateau else ''}"
        f"{' (still improving at the cap)' if r.still_improving else ''}" for task, name, r in sub.kept) \
        if sub.kept else ""
    print(f"wrote {len(sub.table)} predictions ({sub.what}) to {out}{kept}")
    return 0


def _cmd_chapters(a) -> int:
    refuse_inapplicable(a, DATA_OPTIONS | {"out", "only", "jobs"}, "chapters")
    from .book.build import (chapter_sources, chapter_waves, failed_notebook,  # deferred: the book's extra
                              notebook_errors, run_chapter, select_chapters)
    sources = select_chapters(chapter_sources(), a.only)  # the arguments first, then the data, then the folders
    out = check_writable_dir(a.out, "chapters folder", create=False)
    _dataset(a)  # the data (folder, labels, cache) checked before any chapter runs: one line if wrong
    params = {"profile": a.profile}
    if a.data_dir:
        params["data_dir"] = str(user_path(a.data_dir).resolve())
    if a.labels:
        params["labels_csv"] = str(user_path(a.labels).resolve())
    if a.cache_dir:
        params["cache_dir"] = str(user_path(a.cache_dir).resolve())
    if a.surrogate_seed is not None:
        params["surrogate_seed"] = a.surrogate_seed
    t_all = time.perf_counter()
    jobs = a.jobs or 1
    order = {src: i for i, src in enumerate(sources, start=1)}
    if jobs > 1:  # each kernel gets its share of the cores (set before the kernels start)
        share_cores(jobs)

    def execute(src: Path) -> str | None:
        """Run one chapter; None when it succeeded, else the line that says why not."""
        i, target = order[src], out / f"{src.stem}.ipynb"
        last = _last_duration(target)
        hint = f"; last time {last / 60:.1f} min" if last else ""
        print(f"[{i}/{len(sources)}] executing {src.name} -> {target} ({a.profile} profile{hint})", flush=True)
        t0 = time.perf_counter()
        try:
            run_chapter(src, target, params, progress=jobs == 1 and sys.stderr.isatty())
        except Exception as exc:  # papermill's PapermillExecutionError: the cell's error in one line, not its traceback
            what = f"{exc.ename}: {exc.evalue}" if getattr(exc, "evalue", None) else str(exc)
            return f"chapter {src.name} failed (as far as it ran: {failed_notebook(target)}): {what}"
        errs = notebook_errors(target)
        if errs:
            return f"chapter {src.name} has error outputs: {errs}"
        print(f"[{i}/{len(sources)}] {src.stem} done in {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
        return None

    waves = chapter_waves(sources) if jobs > 1 else [[src] for src in sources]
    for wave in waves:
        if len(wave) == 1:
            failed = [execute(wave[0])]
        else:  # the kernels are processes of their own: threads suffice to wait on them
            failed = Parallel(n_jobs=min(jobs, len(wave)), backend="threading")(delayed(execute)(s) for s in wave)
        failed = [f for f in failed if f]
        if failed:
            print("\n".join(failed), file=sys.stderr)
            return 1
    print(f"executed {len(sources)} chapter(s) in {(time.perf_counter() - t_all) / 60:.1f} min; notebooks in {out}; "
          f"each chapter's key results (JSON, CSV) in {out / 'results'}")
    return 0


def _cmd_notebooks(a) -> int:
    from .book.build import (export_notebooks, github_url, install_spec,  # deferred: the book's extra
                             repository_branch, repository_url)
    url = repository_url() if a.repository is None else github_url(a.repository)
    if a.repository is not None and not url:
        raise UsageError(f"--repository {a.repository}: expected https://github.com/OWNER/NAME")
    branch = a.branch or repository_branch()
    written = export_notebooks(a.out_dir, url, branch, force=a.force)
    how = f"installs {install_spec(url, branch)} where fmriemo is missing" if url else \
        "no public repository known: its install cell says so (set --repository)"
    print(f"wrote {len(written)} notebooks to {a.out_dir}; each {how}")
    return 0


def _last_duration(notebook: Path) -> float | None:
    """Seconds papermill recorded for the previous execution of ``notebook``, if any."""
    try:
        meta = json.loads(notebook.read_text())["metadata"]["papermill"]
        return float(meta["duration"])
    except Exception:  # no previous run, or a notebook papermill did not write
        return None


# --------------------------------------------------------------------------- the parser

class _Parser(argparse.ArgumentParser):
    """argparse in the tool's one voice: a usage error is a :class:`UsageError`, printed as every other error
    is (``error: ...`` on stderr, exit 2) with a pointer to the command's help, not argparse's usage block."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def parser() -> argparse.ArgumentParser:
    """The ``fmriemo`` command's argument parser, one subcommand per task.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    p = _Parser(prog="fmriemo", description="Emotion decoding from fMRI: the fmriemo book's tools.", allow_abbrev=False)
    sub = p.add_subparsers(dest="cmd", required=True)
    data, training = _data_parent(), _training_parent()

    def command(name, func, help, parents=()):
        sp = sub.add_parser(name, help=help, parents=list(parents), allow_abbrev=False)
        sp.set_defaults(func=func)
        return sp

    c = command("check", _cmd_check, "validate a challenge folder and print a summary")
    c.add_argument("data_dir")
    c.add_argument("--labels", default=None, help="released-labels CSV to apply (optional)")

    s = command("surrogate", _cmd_surrogate, "write the built-in surrogate data set in the challenge layout")
    s.add_argument("out_dir")
    s.add_argument("--seed", type=seed_arg, default=None,
                   help=f"the surrogate's seed (default {DEFAULT_SURROGATE_SEED})")
    s.add_argument("--force", action="store_true",
                   help="write into a non-empty folder: replaces the surrogate's own files, leaves any other as it is")

    t = command("train", _cmd_train, "train one method (paper split or held-out participants); print metrics as JSON",
                (data, training))
    t.add_argument("--method", type=method_arg, default="asb", metavar="NAME",
                   help="a registered model: vanilla, asb, ebr (the paper's), compact (this book's), or any model "
                        "registered in fmriemo/models (default asb)")
    t.add_argument("--task", choices=("class", "level"), default="class")
    t.add_argument("--split", choices=("paper",) + PROTOCOLS, default="paper",
                   help="paper: the authors' trial split; loso / order / groupkfold: held-out participants "
                        "(nested; order and groupkfold hold out participants with the same class order together, "
                        "kfold ignores that and exists to check whether it matters)")
    t.add_argument("--split-seed", type=seed_arg, default=None,
                   help=f"the paper's split seed (random_state; default {PAPER_SPLIT_SEED})")

    cal = command("calibrate", _cmd_calibrate, "print the calibration card of a folder beside the real data's values",
                  (data,))
    cal.set_defaults(data_dir=None)
    cal.add_argument("folder", nargs="?", default=None, help="challenge folder (default: the built-in surrogate)")

    sc = command("score", _cmd_score, "official challenge score of a submission CSV against a labels CSV")
    sc.add_argument("submission")
    sc.add_argument("labels", help="labels CSV (Participant,Trial,CLASS,LEVEL; empty cells are not scored)")

    sm = command("submit", _cmd_submit, "train on all training participants and write a submission CSV",
                 (data, training))
    sm.add_argument("--out", required=True, help="submission CSV to write")
    sm.add_argument("--method", type=method_arg, default="asb", metavar="NAME",
                    help="a registered model (vanilla, asb, ebr, compact, ...; default asb), or search: chapter 9's "
                         "linear read-outs, the best by group cross-validation over the training participants")
    sm.add_argument("--split", choices=PHASE1_SPLITS, default=None,
                    help="with --ensemble seeds: paper: the paper's split of the training participants' trials "
                         "(the model of chapters 3 and 4, as the authors submitted); participants: all training "
                         "participants but --n-val, on whom the checkpoint is chosen; auto (default): paper for "
                         "the paper's models, participants for the others")
    sm.add_argument("--ratings", choices=RATING_RULES, default=None,
                    help="LEVEL from the SMAPE-optimal rating of each predicted class (fitted on the training "
                         "participants; class-aware, the default) or from a 9-way level model (the paper's)")
    sm.add_argument("--ensemble", choices=SUBMIT_ENSEMBLES, default=None,
                    help="seeds (default): --seeds Phase I models (see --split); folds: the held-out protocol's fold "
                         "models (chapter 7), each trained on one fold's training participants; class probabilities "
                         "are averaged. auto: first score one model, a seed ensemble (--seeds, 3 if 1) and a fold "
                         "ensemble on held-out training participants (chapter 9), then submit the best")
    sm.add_argument("--force", action="store_true", help="overwrite an existing file")

    b = command("chapters", _cmd_chapters, "execute the book's chapters with papermill", (data,))
    b.add_argument("--out", default="book/chapters")
    b.add_argument("--profile", choices=tuple(PROFILES), default="full")
    b.add_argument("--only", nargs="+", help="chapters to execute, by number or name, e.g. 1 03 07_held_out")
    b.add_argument("--jobs", type=positive_int, default=None,
                   help="chapters executed at once, each in its own kernel, in the order their results and "
                        "cached models need (default 1)")

    nbk = command("notebooks", _cmd_notebooks, "write every chapter as an unexecuted notebook (for Colab or a "
                                               "download) that installs fmriemo from the public repository where "
                                               "it is missing")
    nbk.add_argument("out_dir")
    nbk.add_argument("--repository", default=None,
                     help="https://github.com/OWNER/NAME (default: $FMRIEMO_REPOSITORY_URL or the origin remote)")
    nbk.add_argument("--branch", default=None, help="branch to install from (default: $FMRIEMO_BRANCH or main)")
    nbk.add_argument("--force", action="store_true", help="replace notebooks already in OUT_DIR")

    for sp in sub.choices.values():
        sp.set_defaults(_refusable=_refusable(sp))
    return p


#: options and arguments that name a file or folder: given empty, they are refused by name
PATH_OPTIONS = ("data_dir", "labels", "cache_dir", "out", "out_dir", "submission", "folder")

#: what Ctrl-C leaves behind, by command (a run is cached only once complete, a file written only whole)
INTERRUPTED = {"train": "training stopped; the run in progress was not cached (finished runs were)",
               "submit": "training stopped; the run in progress was not cached (finished runs were) and no "
                         "submission was written",
               "chapters": "the chapter in progress was not written (finished chapters and trained models were kept)",
               "surrogate": "the surrogate folder was not written"}


def _refuse_empty_paths(p: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    """An empty string where a path is expected (``--out ''``) names the option, rather than being read
    as the current folder."""
    sub = next(act for act in p._actions if isinstance(act, argparse._SubParsersAction)).choices[a.cmd]
    for act in sub._actions:
        if act.dest in PATH_OPTIONS and getattr(a, act.dest, None) == "":
            name = act.option_strings[0] if act.option_strings else act.dest.upper()
            raise UsageError(f"{name} is empty; expected a path")


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that Python's final flush of what could not be written does
    not fail again after the one line that said so."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _close_progress_bars() -> None:
    """Close the progress bars still drawn, so that a message starts on a line of its own."""
    for bar in list(getattr(tqdm, "_instances", [])):
        bar.close()


class OutputError(OSError):
    """Standard output cannot take what a command prints (closed, or a full device)."""


class _GuardedStdout:
    """Standard output whose write errors (a full device) name the stream: :class:`OutputError`."""

    def __init__(self, stream):
        self._stream = stream

    def _guard(self, call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(f"standard output: {exc.strerror or exc}; the command's result was not printed in "
                              "full (redirect it to a file with room)") from None

    def write(self, text):
        return self._guard(self._stream.write, text)

    def flush(self):
        return self._guard(self._stream.flush)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _check_stdout() -> None:
    if sys.stdout is None:
        raise OutputError("standard output is closed; the command's result would not be printed (redirect it to a "
                          "file)")


def _finish_output(status: int) -> int:
    """Flush what the command printed: standard output that is closed (``>&-``) or full (``> /dev/full``) is
    an error of its own, named, rather than an exit 0 that printed nothing."""
    _check_stdout()
    sys.stdout.flush()
    return status


def _terminated(signum, frame):
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C: temporary files and folders are removed


def main(argv=None) -> int:
    """Run a command.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments; None: ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0; 1: an error the user can fix, named in one line; 2: an option that does not apply or is out of
        range; 130: interrupted.
    """
    real = sys.stdout
    if real is not None and not isinstance(real, _GuardedStdout):
        sys.stdout = _GuardedStdout(real)
    try:
        if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
            return _main(argv)
        previous = signal.signal(signal.SIGTERM, _terminated)
        try:
            return _main(argv)
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        sys.stdout = real


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings the package gives a user (a run the full cache could not keep) as one line on stderr."""
    print(f"warning: {message}", file=sys.stderr)


def _main(argv) -> int:
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warning
        return _run(argv)


def _run(argv) -> int:
    p = parser()
    a = None
    try:
        a = p.parse_args(argv)
        if a.cmd == "calibrate":
            if a.folder and a.data_dir:
                raise UsageError("calibrate takes its folder once: as FOLDER or as --data-dir, not both")
            a.data_dir = a.folder or a.data_dir
        _refuse_empty_paths(p, a)
        _check_stdout()  # before any work: a result nobody can read is not worth computing
        return _finish_output(a.func(a))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ParameterError as exc:  # a value out of range that only the data could tell: named as typed
        print(f"error: --{exc.name.replace('_', '-')} {exc.problem}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`fmriemo check D | head -1`): not an error
        _quiet_stdout()
        return 0
    except (DataError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OutputError as exc:
        _quiet_stdout()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file the user named or a folder we write to: name it, no traceback
        where = exc.filename or ""
        print(f"error: {where}{': ' if where else ''}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # training diverged (fmriemo.training.loop.TrainingDiverged) and the like
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _close_progress_bars()
        print(f"interrupted: {INTERRUPTED.get(getattr(a, 'cmd', None), 'nothing was written')}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
