"""The ``fmriemo`` command line: check data, write the surrogate, train, run chapters."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .data import DataError
from .profiles import PROFILES
from .splits import PHASE1_SPLITS, PROTOCOLS

MAX_SEED = 2**32 - 1


def seed_arg(text: str) -> int:
    """argparse type of every seed option: an integer in 0..2**32-1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SEED}, got {value}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def device_arg(text: str) -> str:
    """argparse type of --device: checked before any data is read or model trained."""
    from .train import resolve_device
    try:
        resolve_device(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _check_cache(a) -> None:
    """The model cache must be writable before anything is trained into it."""
    from .files import check_writable_dir
    from .train import default_cache_dir
    check_writable_dir(Path(a.cache_dir).expanduser() if a.cache_dir else default_cache_dir(), "model cache")


def _settings(a, **held_out):
    """The :class:`fmriemo.profiles.Settings` of a training command's arguments."""
    from .profiles import Settings
    return Settings.resolve(a.profile, epochs=a.epochs, device=a.device, cache_dir=a.cache_dir, seed=a.seed,
                            n_seeds=a.seeds, n_val=a.n_val, progress=not a.quiet, **held_out)


def _cmd_check(a) -> int:
    from .data import load_challenge
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
    from .surrogate import write_surrogate
    out = Path(a.out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: is a file; expected a folder to write the surrogate data set into")
    if out.exists() and any(out.iterdir()) and not a.force:
        raise DataError(f"{out}: folder exists and is not empty (use --force to write into it)")
    write_surrogate(out, seed=a.seed)
    print(f"wrote surrogate challenge folder (seed {a.seed}) to {out}")
    return 0


def _cmd_calibrate(a) -> int:
    from .book import open_dataset
    from .calibrate import card
    ds = open_dataset(a.data_dir, a.labels, a.surrogate_seed, a.cache_dir)
    c = card(ds)
    print(f"calibration card of {ds.source} (labelled training trials) beside the real challenge data")
    width = max(len(t) for t in c["statistic"])
    print(f"  {'statistic':{width}s}  {'here':>6s}  {'real':>6s}  {'diff':>6s}")
    for _, r in c.iterrows():
        print(f"  {r.statistic:{width}s}  {r.here:6.3f}  {r.real:6.3f}  {r.difference:+6.3f}")
    return 0


def _cmd_train(a) -> int:
    from .book import open_dataset
    from .evaluate import metrics_with_intervals
    from .train import train_paper

    _check_cache(a)
    ds = open_dataset(a.data_dir, a.labels, a.surrogate_seed, a.cache_dir)
    if a.split != "paper":
        return _train_heldout(ds, a)
    res = train_paper(ds, a.method, a.task, seed=a.seed, profile=a.profile, epochs=a.epochs,
                      split_seed=a.split_seed, cache_dir=a.cache_dir or None, device=a.device,
                      progress=not a.quiet)
    m = metrics_with_intervals(res.y_true, res.y_pred, a.task)
    print(json.dumps({"method": a.method, "task": a.task, "split": res.split["name"], "seed": a.seed,
                      "test_trials": m["n"], "metrics": m, "best_epoch": res.best_epoch,
                      "epochs_run": res.epochs_run, "plateau_exit": res.plateau_exit,
                      "kept_on_plateau": res.on_plateau, "train_seconds": round(res.seconds, 2),
                      "from_cache": res.cached, "cache": res.path}, indent=1))
    return 0


def _train_heldout(ds, a) -> int:
    from . import heldout
    from .evaluate import macro_f1

    settings = _settings(a, protocol=a.split, k=a.k)
    seeds = list(settings.seeds)
    pred = heldout.run_models(ds, [a.method], a.task, settings)
    folds = heldout.group_folds(ds, settings.protocol, settings.k)
    per_fold = [{"seed": int(s), "fold": int(f), "test_participants": folds[f],
                 "best_epoch": int(g.kept_epoch.iloc[0]), "kept_on_plateau": bool(g.on_plateau.iloc[0]),
                 "accuracy": float(np.mean(g.y_true == g.y_pred)), "f1": macro_f1(g.y_true, g.y_pred, a.task),
                 "trials": len(g)}
                for (s, f), g in pred.groupby(["seed", "fold"])]
    summ = heldout.summarise(pred, a.task, n_resamples=500).iloc[0]
    summary = {k: (None if pd.isna(v) else float(v)) for k, v in summ.items()}
    print(json.dumps({"method": a.method, "task": a.task, "split": a.split, "seeds": seeds,
                      "folds": per_fold, "summary": summary}, indent=1))
    return 0


def _cmd_score(a) -> int:
    from .challenge import score_files
    s = score_files(a.submission, a.labels)
    print(f"class error {s['class_error']:.4f}  level error {s['level_error']:.4f}  "
          f"score {s['score']:.4f}  N {s['n']}")
    return 0


def _cmd_submit(a) -> int:
    from .book import open_dataset
    from .challenge import train_phase1, write_submission
    from .heldout import fold_model_runs
    from .files import check_output_file
    from .level import ensemble_submission

    if a.method == "search":  # nothing the search does not use may be given and silently ignored
        given = [f"--{name.replace('_', '-')}" for name, default in a.model_options.items()
                 if getattr(a, name) != default]
        if given:
            raise ValueError("--method search is one linear read-out chosen by cross-validation over the training "
                             f"participants: it takes no {', '.join(given)}")
    if a.ensemble not in ("folds", "auto") and (a.protocol is not None or a.k is not None):
        raise ValueError("--protocol and --k choose the fold models of --ensemble folds (or auto); add --ensemble "
                         "folds or leave them out")
    out = check_output_file(a.out, a.force, "submission")  # before training, not after
    _check_cache(a)
    ds = open_dataset(a.data_dir, a.labels, a.surrogate_seed, a.cache_dir)
    if a.method == "search":
        return _submit_search(ds, a, out)
    if a.ensemble == "auto":  # choose on held-out training participants, never on the test set
        a.ensemble, a.seeds = _choose_ensemble(ds, a)
    tasks = ("class", "level") if a.ratings == "level-model" else ("class",)
    runs = {task: [] for task in tasks}
    if a.ensemble == "folds":  # the held-out protocol's fold models, each with its own participants
        settings = _settings(a, protocol=a.protocol, k=a.k)
        for task in tasks:
            runs[task] = fold_model_runs(ds, a.method, task, settings)
        per_seed = len(runs["class"]) // len(settings.seeds)  # folds, in order within each seed
        names = {task: [f"seed {r.config['seed']} fold {i % per_seed}" for i, r in enumerate(rs)]
                 for task, rs in runs.items()}
        what = f"{len(runs['class'])} fold models ({settings.protocol}, k = {settings.k})"
    else:  # each seed also draws its own validation participants
        settings = _settings(a)
        for s in settings.seeds:
            for task, run in train_phase1(ds, a.method, settings.replace(seeds=(s,)), tasks, a.split).items():
                runs[task].append(run)
        names = {task: [f"seed {r.config['seed']}" for r in rs] for task, rs in runs.items()}
        what = f"{len(settings.seeds)} seed(s)"
    table = ensemble_submission(ds, runs["class"], runs.get("level"), a.ratings)
    write_submission(table, out, force=a.force)
    kept = ", ".join(f"{t} {name}: epoch {r.best_epoch}{' (on its plateau)' if r.on_plateau else ''}"
                     for t, rs in runs.items() for name, r in zip(names[t], rs))
    print(f"wrote {len(table)} predictions ({a.method}, {what}, ratings {a.ratings}) to {out}; "
          f"kept checkpoints: {kept}")
    return 0


def _submit_search(ds, a, out) -> int:
    """``--method search``: chapter 9's search run once over all training participants; the chosen
    linear read-out predicts every Test trial, with class-aware ratings."""
    from .challenge import write_submission
    from .level import ensemble_submission
    from .search import choose_and_fit
    chosen, scores, run = choose_and_fit(ds)
    write_submission(ensemble_submission(ds, [run], None, "class-aware"), out, force=a.force)
    print(f"wrote {len(run.test_index)} predictions (search: {chosen['name']}, cross-validated accuracy "
          f"{scores[chosen['name']]:.3f} over {len(scores)} linear read-outs, ratings class-aware) to {out}")
    return 0


def _choose_ensemble(ds, a) -> tuple[str, int]:
    """``--ensemble auto``: score one model, a seed ensemble and a fold ensemble of ``--method`` on
    held-out training participants (chapter 9's comparison), print the scores, return the winner as
    (``--ensemble``, ``--seeds``)."""
    from .heldout import choose_ensemble, ensemble_accuracies, ensemble_comparison
    n = a.seeds if a.seeds > 1 else 3
    check = _settings(a, protocol=a.protocol, k=a.k)
    pred = ensemble_comparison(ds, a.method, "class", check.replace(seeds=check.seeds[:1]), n_seeds=n)
    acc = ensemble_accuracies(pred)
    chosen = choose_ensemble(pred)
    print(f"held-out class accuracy of {a.method} ({check.protocol}, k = {check.k}, "
          f"{pred.participant.nunique()} participants):")
    for (kind, name), v in acc.items():
        print(f"  {name:<32} {v:.3f}{'  <- chosen' if kind == chosen else ''}")
    return ("folds", 1) if chosen == "folds" else ("seeds", 1 if chosen == "single" else n)


def _cmd_chapters(a) -> int:
    from .book import chapter_sources, notebook_errors, run_chapter
    out = Path(a.out)
    params = {"profile": a.profile}
    if a.data_dir:
        params["data_dir"] = str(Path(a.data_dir).expanduser().resolve())
    if a.labels:
        params["labels_csv"] = str(Path(a.labels).expanduser().resolve())
    if a.cache_dir:
        params["cache_dir"] = str(Path(a.cache_dir).expanduser().resolve())
    if a.surrogate_seed is not None:
        params["surrogate_seed"] = a.surrogate_seed
    sources = chapter_sources()
    if a.only:
        unknown = [o for o in a.only if not any(s.stem.startswith(o) for s in sources)]
        if unknown:
            raise DataError(f"--only {' '.join(unknown)}: no such chapter; the chapters are "
                            f"{', '.join(s.stem for s in sources)}")
        sources = [s for s in sources if any(s.stem.startswith(o) for o in a.only)]
    import time
    t_all = time.perf_counter()
    for i, src in enumerate(sources, start=1):
        target = out / f"{src.stem}.ipynb"
        last = _last_duration(target)
        hint = f"; last time {last / 60:.1f} min" if last else ""
        print(f"[{i}/{len(sources)}] executing {src.name} -> {target} ({a.profile} profile{hint})", flush=True)
        t0 = time.perf_counter()
        try:
            run_chapter(src, target, params, progress=sys.stderr.isatty())
        except Exception as exc:  # papermill raises PapermillExecutionError with the cell's traceback
            print(f"chapter {src.name} failed: {exc}", file=sys.stderr)
            return 1
        errs = notebook_errors(target)
        if errs:
            print(f"chapter {src.name} has error outputs: {errs}", file=sys.stderr)
            return 1
        print(f"[{i}/{len(sources)}] {src.stem} done in {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
    print(f"executed {len(sources)} chapter(s) in {(time.perf_counter() - t_all) / 60:.1f} min; notebooks in {out}; "
          f"each chapter's key results (JSON, CSV) in {out / 'results'}")
    return 0


def _cmd_notebooks(a) -> int:
    from .book import export_notebooks, github_url, install_spec, repository_branch, repository_url
    url = repository_url() if a.repository is None else github_url(a.repository)
    if a.repository is not None and not url:
        raise DataError(f"--repository {a.repository}: expected https://github.com/OWNER/NAME")
    branch = a.branch or repository_branch()
    written = export_notebooks(a.out_dir, url, branch)
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="fmriemo", description="Emotion decoding from fMRI: the fmriemo book's tools.")
    sub = p.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("check", help="validate a challenge folder and print a summary")
    c.add_argument("data_dir")
    c.add_argument("--labels", default=None, help="released-labels CSV to apply (optional)")
    c.set_defaults(func=_cmd_check)

    s = sub.add_parser("surrogate", help="write the built-in surrogate data set in the challenge layout")
    s.add_argument("out_dir")
    s.add_argument("--seed", type=seed_arg, default=2024)
    s.add_argument("--force", action="store_true", help="write into a non-empty folder")
    s.set_defaults(func=_cmd_surrogate)

    t = sub.add_parser("train", help="train one method (paper split or held-out participants); print metrics as JSON")
    t.add_argument("--data-dir", default="", help="challenge folder (empty: the built-in surrogate)")
    t.add_argument("--labels", default="", help="released-labels CSV (optional)")
    t.add_argument("--method", choices=("vanilla", "asb", "ebr", "compact"), default="asb",
                   help="a paper method, or this book's compact model for new participants")
    t.add_argument("--task", choices=("class", "level"), default="class")
    t.add_argument("--seed", type=seed_arg, default=0, help="model initialisation / shuffling seed")
    t.add_argument("--split", choices=("paper", "loso", "order", "groupkfold", "kfold"), default="paper",
                   help="paper: the authors' trial split; loso / order / groupkfold: held-out participants "
                        "(nested; order and groupkfold hold out participants with the same class order together, "
                        "kfold ignores that and exists to check whether it matters)")
    t.add_argument("--seeds", type=positive_int, default=1, help="number of seeds for --split loso/groupkfold")
    t.add_argument("--k", type=positive_int, default=4, help="folds for --split groupkfold")
    t.add_argument("--n-val", type=positive_int, default=2, help="validation participants inside each training fold")
    t.add_argument("--split-seed", type=seed_arg, default=410, help="the paper's split seed (random_state)")
    t.add_argument("--epochs", type=positive_int, default=None, help="epoch budget (default: the profile's)")
    t.add_argument("--profile", choices=tuple(PROFILES), default="full")
    t.add_argument("--device", type=device_arg, default="auto", help="auto, cpu, cuda, cuda:1, ...")
    t.add_argument("--cache-dir", default="", help="where trained models are cached")
    t.add_argument("--surrogate-seed", type=seed_arg, default=2024)
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=_cmd_train)

    cal = sub.add_parser("calibrate", help="print the calibration card of a folder beside the real data's values")
    cal.add_argument("data_dir", nargs="?", default="", help="challenge folder (default: the built-in surrogate)")
    cal.add_argument("--labels", default="", help="released-labels CSV (optional)")
    cal.add_argument("--cache-dir", default="")
    cal.add_argument("--surrogate-seed", type=seed_arg, default=2024)
    cal.set_defaults(func=_cmd_calibrate)

    sc = sub.add_parser("score", help="official challenge score of a submission CSV against a labels CSV")
    sc.add_argument("submission")
    sc.add_argument("labels", help="labels CSV (Participant,Trial,CLASS,LEVEL; empty cells are not scored)")
    sc.set_defaults(func=_cmd_score)

    sm = sub.add_parser("submit", help="train on all training participants and write a submission CSV")
    sm.add_argument("--data-dir", default="", help="challenge folder (empty: the built-in surrogate)")
    sm.add_argument("--labels", default="", help="released-labels CSV (optional)")
    sm.add_argument("--out", required=True, help="submission CSV to write")
    sm.add_argument("--method", choices=("vanilla", "asb", "ebr", "compact", "search"), default="asb",
                    help="a model (the paper's three or this book's Compact), or search: chapter 9's linear "
                         "read-outs, the best by group cross-validation over the training participants")
    sm.add_argument("--seed", type=seed_arg, default=0, help="first training seed")
    sm.add_argument("--seeds", type=positive_int, default=1,
                    help="ensemble of this many seeds: class probabilities averaged")
    sm.add_argument("--split", choices=PHASE1_SPLITS, default="auto",
                    help="with --ensemble seeds: paper: the paper's split of the training participants' trials "
                         "(the model of chapters 3 and 4, as the authors submitted); participants: all training "
                         "participants but --n-val, on whom the checkpoint is chosen; auto (default): paper for "
                         "the paper's models, participants for compact")
    sm.add_argument("--ratings", choices=("class-aware", "level-model"), default="class-aware",
                    help="LEVEL from the SMAPE-optimal rating of each predicted class (fitted on the training "
                         "participants; the default) or from a 9-way level model (the paper's)")
    sm.add_argument("--ensemble", choices=("seeds", "folds", "auto"), default="seeds",
                    help="seeds: --seeds Phase I models (see --split); folds: the held-out protocol's fold models (chapter 7), each "
                         "trained on one fold's training participants; class probabilities are averaged. auto: "
                         "first score one model, a seed ensemble (--seeds, 3 if 1) and a fold ensemble on held-out "
                         "training participants (chapter 9), then submit the best")
    sm.add_argument("--protocol", choices=PROTOCOLS, default=None,
                    help="with --ensemble folds or auto: the held-out protocol (default: the profile's)")
    sm.add_argument("--k", type=positive_int, default=None,
                    help="with --ensemble folds or auto: folds (default: the profile's)")
    sm.add_argument("--n-val", type=positive_int, default=3, help="training participants held out for checkpoint selection")
    sm.add_argument("--epochs", type=positive_int, default=None)
    sm.add_argument("--profile", choices=tuple(PROFILES), default="full")
    sm.add_argument("--device", type=device_arg, default="auto")
    sm.add_argument("--cache-dir", default="")
    sm.add_argument("--surrogate-seed", type=seed_arg, default=2024)
    sm.add_argument("--force", action="store_true", help="overwrite an existing file")
    sm.add_argument("--quiet", action="store_true")
    sm.set_defaults(func=_cmd_submit, model_options={  # what only a trained model uses (refused by --method search)
        name: sm.get_default(name) for name in ("seed", "seeds", "split", "ratings", "ensemble", "protocol", "k",
                                                "n_val", "epochs", "profile", "device")})

    b = sub.add_parser("chapters", help="execute the book's chapters with papermill")
    b.add_argument("--out", default="book/chapters")
    b.add_argument("--profile", choices=("quick", "full"), default="full")
    b.add_argument("--data-dir", default="")
    b.add_argument("--labels", default="")
    b.add_argument("--cache-dir", default="")
    b.add_argument("--surrogate-seed", type=seed_arg, default=None,
                   help="seed of the surrogate data set (when no --data-dir); default: the chapters' own (2024)")
    b.add_argument("--only", nargs="*", help="chapter name prefixes, e.g. 01 03")
    b.set_defaults(func=_cmd_chapters)

    nbk = sub.add_parser("notebooks", help="write every chapter as an unexecuted notebook (for Colab or a download) "
                                           "that installs fmriemo from the public repository where it is missing")
    nbk.add_argument("out_dir")
    nbk.add_argument("--repository", default=None,
                     help="https://github.com/OWNER/NAME (default: $FMRIEMO_REPOSITORY_URL or the origin remote)")
    nbk.add_argument("--branch", default=None, help="branch to install from (default: $FMRIEMO_BRANCH or main)")
    nbk.set_defaults(func=_cmd_notebooks)

    a = p.parse_args(argv)
    from .train import TrainingDiverged
    try:
        return a.func(a)
    except (DataError, ValueError, TrainingDiverged) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file the user named or a folder we write to: name it, no traceback
        where = exc.filename or ""
        print(f"error: {where}{': ' if where else ''}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: training stopped; the run in progress was not cached (finished runs were)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
