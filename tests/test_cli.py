"""The command line: each command's output, exit status and the files it writes; one rule refuses every
option that does not apply to the command as asked."""
import json
import re
import subprocess
import sys

import nbformat
import numpy as np
import pandas as pd
import pytest

from fmriemo import cli
from fmriemo.book.build import chapter_sources
from fmriemo.challenge.ratings import training_level_table
from fmriemo.challenge.submission import read_submission, score_files
from fmriemo.cli import _last_duration
from fmriemo.evaluation.search import choose_and_fit


def test_cli_check_ok(surrogate_dir):
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "check", str(surrogate_dir)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "16 participants (P01..P16), 480 trials, 480 labelled" in r.stdout
    assert "4 participants (P17..P20), 120 trials, 0 labelled" in r.stdout
    assert "LEVEL" in r.stdout


def test_cli_check_rejects_broken_folder(tiny_challenge):
    (tiny_challenge / "Train" / "P02" / "labels.npz").unlink()
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "check", str(tiny_challenge)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.startswith("error: ") and "without labels.npz" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_surrogate(tmp_path):
    out = tmp_path / "s"
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "surrogate", str(out), "--seed", "9"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (out / "Train" / "P16" / "labels.npz").exists()
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "surrogate", str(out)], capture_output=True, text=True)
    assert r.returncode == 1 and "--force" in r.stderr


def test_cli_train_prints_json_and_reuses_cache(tmp_path):
    cmd = [sys.executable, "-m", "fmriemo.cli", "train", "--method", "ebr", "--task", "level", "--epochs", "2",
           "--profile", "quick", "--cache-dir", str(tmp_path), "--quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["test_trials"] == 48 and 0 <= out["metrics"]["f1"] <= 1 and out["from_cache"] is False
    assert len(out["metrics"]["accuracy_ci"]) == 2
    assert isinstance(out["still_improving_at_cap"], bool)
    assert out["still_improving_at_cap"] or out["best_epoch"] < 2  # kept the cap's last epoch: still improving
    again = json.loads(subprocess.run(cmd, capture_output=True, text=True).stdout)
    assert again["from_cache"] is True and again["metrics"] == out["metrics"]


def test_cli_train_bad_data_dir(tmp_path):
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "train", "--data-dir", str(tmp_path / "missing")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_cli_train_groupkfold(tmp_path):
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "train", "--split", "groupkfold", "--k", "4",
                        "--method", "vanilla", "--epochs", "2", "--profile", "quick", "--cache-dir", str(tmp_path),
                        "--quiet", "--jobs", "2", "--seeds", "1"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["folds"]) == 4 and sum(f["trials"] for f in out["folds"]) == 480
    assert all(isinstance(f["still_improving_at_cap"], bool) for f in out["folds"])
    assert len(list((tmp_path / "runs").glob("*/result.json"))) == 4  # the two workers stored every fold
    assert 0 <= out["summary"]["accuracy"] <= 1


def test_submit_then_score_matches_library(tmp_path):
    cache = tmp_path / "cache"
    out = tmp_path / "phase1.csv"
    cmd = [sys.executable, "-m", "fmriemo.cli", "submit", "--out", str(out), "--method", "ebr", "--epochs", "2",
           "--profile", "quick", "--cache-dir", str(cache), "--quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    sub = pd.read_csv(out)
    assert list(sub.columns) == ["Participant", "Trial", "CLASS", "LEVEL"] and len(sub) == 120
    assert sub["CLASS"].isin([-1, 0, 1]).all() and sub["LEVEL"].between(-4, 4).all()
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 1 and "--force" in again.stderr
    labels = next(cache.glob("surrogate-*")) / "test_labels.csv"
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "score", str(out), str(labels)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    expected = score_files(out, labels)
    assert f"score {expected['score']:.4f}" in r.stdout and "N 120" in r.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("Participant,Trial,CLASS\nP17,1,1\n")
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "score", str(bad), str(labels)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "missing column" in r.stderr and "Traceback" not in r.stderr


def test_submit_class_aware_default_and_seed_ensemble(tmp_path, dataset):
    cache, out, out9 = tmp_path / "cache", tmp_path / "aware.csv", tmp_path / "nine.csv"
    base = [sys.executable, "-m", "fmriemo.cli", "submit", "--method", "ebr", "--epochs", "2", "--profile", "quick",
            "--cache-dir", str(cache), "--quiet"]
    r = subprocess.run(base + ["--out", str(out), "--seeds", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "2 seed(s), ratings class-aware" in r.stdout and "class seed 1: epoch" in r.stdout
    sub = pd.read_csv(out)
    table = training_level_table(dataset)  # fitted on the training participants' labels only
    assert (sub["LEVEL"] == sub["CLASS"].map(table)).all()
    assert len(list((cache / "runs").iterdir())) == 2  # two class models, no level model
    r = subprocess.run(base + ["--out", str(out9), "--ratings", "level-model", "--seeds", "1"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert len(list((cache / "runs").iterdir())) == 3  # seed 0's class model reused, one level model trained


def test_cli_submit_fold_ensemble(tmp_path):
    out = tmp_path / "folds.csv"
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "submit", "--method", "ebr", "--epochs", "2",
                        "--profile", "quick", "--cache-dir", str(tmp_path / "cache"), "--quiet", "--out", str(out),
                        "--ensemble", "folds", "--k", "2", "--seeds", "1"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "2 fold models (groupkfold, k = 2), ratings class-aware" in r.stdout
    assert "class seed 0 fold 1: epoch" in r.stdout
    assert len(read_submission(out)) == 120
    # fold settings without --ensemble folds would be silently ignored: refused before any training
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "submit", "--method", "ebr", "--out",
                        str(tmp_path / "x.csv"), "--cache-dir", str(tmp_path / "other"), "--k", "2"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--k does not apply" in r.stderr and "--ensemble folds" in r.stderr
    assert not (tmp_path / "other").exists()


def test_cli_submit_chooses_its_ensemble_on_held_out_participants(tmp_path):
    out = tmp_path / "auto.csv"
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "submit", "--method", "ebr", "--epochs", "2",
                        "--profile", "quick", "--cache-dir", str(tmp_path / "cache"), "--quiet", "--out", str(out),
                        "--ensemble", "auto", "--k", "2", "--seeds", "2", "--n-val", "2"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("held-out class accuracy of ebr (groupkfold, k = 2")
    rows = [re.fullmatch(r"  (.+?) +(\d\.\d{3})(  <- chosen)?", line) for line in lines[1:4]]
    assert all(rows) and [m[1].split(" (")[0] for m in rows] == ["single model", "seed ensemble", "fold ensemble"]
    chosen = [m for m in rows if m[3]]
    assert len(chosen) == 1 and float(chosen[0][2]) == max(float(m[2]) for m in rows)
    expect = {"single model": "1 seed(s)", "seed ensemble": "2 seed(s)", "fold ensemble": "fold models"}
    assert expect[chosen[0][1].split(" (")[0]] in lines[-1] and len(read_submission(out)) == 120


def test_cli_submit_search_fits_the_read_out_chosen_on_training_participants(tmp_path, dataset):
    out = tmp_path / "search.csv"
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "submit", "--method", "search", "--out", str(out),
                        "--cache-dir", str(tmp_path / "cache")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    sub = read_submission(out)
    assert len(sub) == 120 and (sub["LEVEL"] == sub["CLASS"].map(training_level_table(dataset))).all()
    chosen, scores, run = choose_and_fit(dataset)
    assert f"search: {chosen['name']}, cross-validated accuracy {scores.max():.3f}" in r.stdout
    assert np.array_equal(sub["CLASS"].to_numpy(), run.proba.argmax(1) - 1)
    # options only a trained model uses are refused, by name, not silently ignored
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "submit", "--method", "search", "--seeds", "2",
                        "--epochs", "5", "--profile", "quick", "--out", str(tmp_path / "x.csv")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--profile, --epochs, --seeds do not apply to submit --method search" in r.stderr
    assert not (tmp_path / "x.csv").exists()


def test_cli_notebooks(tmp_path):
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "notebooks", str(tmp_path / "nb"),
                        "--repository", "https://github.com/lab/fmriemo", "--branch", "v1"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    written = sorted((tmp_path / "nb").glob("*.ipynb"))
    assert [p.stem for p in written] == [s.stem for s in chapter_sources()]
    first = nbformat.read(str(written[0]), as_version=4).cells[0]
    assert "git+https://github.com/lab/fmriemo@v1" in first.source
    bad = subprocess.run([sys.executable, "-m", "fmriemo.cli", "notebooks", str(tmp_path / "x"), "--repository",
                          "lab/fmriemo"], capture_output=True, text=True)
    assert bad.returncode != 0 and "expected https://github.com/OWNER/NAME" in bad.stderr


def test_chapters_estimate_reads_the_last_duration(tmp_path):
    nb = tmp_path / "03.ipynb"
    nb.write_text(json.dumps({"cells": [], "metadata": {"papermill": {"duration": 125.5}}}))
    assert _last_duration(nb) == 125.5
    nb.write_text("{}")
    assert _last_duration(nb) is None and _last_duration(tmp_path / "missing.ipynb") is None


@pytest.mark.parametrize("argv,named", [
    (["train", "--seeds", "2"], "--seeds does not apply to train --split paper"),
    (["train", "--k", "3", "--n-val", "2"], "--k, --n-val do not apply to train --split paper"),
    (["train", "--split", "loso", "--k", "3"], "--k does not apply to train --split loso"),
    (["train", "--split", "order", "--split-seed", "3"], "--split-seed does not apply to train --split order"),
    (["train", "--protocol", "loso"], "--protocol does not apply"),
    (["train", "--data-dir", ".", "--surrogate-seed", "3"], "--surrogate-seed does not apply with --data-dir"),
    (["submit", "--out", "x.csv", "--protocol", "loso"], "--protocol does not apply to submit --ensemble seeds"),
    (["submit", "--out", "x.csv", "--ensemble", "folds", "--split", "paper"], "--split does not apply"),
    (["chapters", "--surrogate-seed", "3", "--data-dir", "."], "--surrogate-seed does not apply with --data-dir"),
])
def test_options_that_do_not_apply_are_refused_by_name(argv, named, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = cli.main(argv + ["--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and named in err and len(err.splitlines()) == 1
    assert not (tmp_path / "cache").exists() and not (tmp_path / "x.csv").exists()  # refused before any work
