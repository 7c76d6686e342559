"""Scoring, submission files, Phase I training on participants and Phase II fine-tuning."""
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from fmriemo import challenge, phases
from fmriemo.data import DataError
from fmriemo.train import RunResult, on_trials, train_paper


def _write(tmp_path, name, text):
    f = tmp_path / name
    f.write_text(text)
    return f


LABELS = "Participant,Trial,CLASS,LEVEL\nP17,1,1,2\nP17,2,,\nP17,3,-1,-4\nP17,4,0,0\n"


def test_score_files_scores_only_labelled_trials(tmp_path):
    lab = _write(tmp_path, "labels.csv", LABELS)
    sub = _write(tmp_path, "sub.csv", "Participant,Trial,CLASS,LEVEL\nP17,1,1,1\nP17,2,1,3\nP17,3,0,-4\nP17,4,0,0\n")
    s = challenge.score_files(sub, lab)
    # trials 1, 3, 4 scored: class right, wrong, right; SMAPE 1/3, 0, 0 (0/0)
    assert s["n"] == 3
    assert s["class_error"] == pytest.approx(1 / 3) and s["level_error"] == pytest.approx(1 / 9)
    assert s["score"] == round(0.6 / 3 + 0.4 / 9, 4)


@pytest.mark.parametrize("text, pattern", [
    ("Participant,Trial,CLASS\nP17,1,1\n", "missing column"),
    ("Participant,Trial,CLASS,LEVEL\nP17,1,1,2\nP17,1,1,2\nP17,3,1,1\nP17,4,0,0\n", "duplicate row"),
    ("Participant,Trial,CLASS,LEVEL\nP17,1,1,2.5\nP17,3,1,1\nP17,4,0,0\n", "not an integer"),
    ("Participant,Trial,CLASS,LEVEL\nP17,1,2,2\nP17,3,1,1\nP17,4,0,0\n", "CLASS"),
    ("Participant,Trial,CLASS,LEVEL\nP17,1,1,7\nP17,3,1,1\nP17,4,0,0\n", "outside -4..4"),
    ("Participant,Trial,CLASS,LEVEL\nP17,1,1,\nP17,3,1,1\nP17,4,0,0\n", "not both"),
    ("Participant,Trial,CLASS,LEVEL\nP99,1,1,1\nP17,1,1,1\nP17,3,1,1\nP17,4,0,0\n", "P99 trial 1 is not listed"),
    ("Participant,Trial,CLASS,LEVEL\nP17,9,1,1\nP17,1,1,1\nP17,3,1,1\nP17,4,0,0\n", "P17 trial 9 is not listed"),
    ("Participant,Trial,CLASS,LEVEL\nP17,1,1,1\nP17,3,1,1\n", "no prediction for P17 trial 4"),
])
def test_score_files_errors(tmp_path, text, pattern):
    lab = _write(tmp_path, "labels.csv", LABELS)
    sub = _write(tmp_path, "sub.csv", text)
    with pytest.raises(DataError, match=pattern):
        challenge.score_files(sub, lab)


def test_write_submission_atomic_and_no_overwrite(tmp_path):
    t = pd.DataFrame({"Participant": ["P17", "P17"], "Trial": [1, 2], "CLASS": [1.0, 0.0], "LEVEL": [2, 0]})
    f = challenge.write_submission(t, tmp_path / "s.csv")
    assert f.read_text() == "Participant,Trial,CLASS,LEVEL\nP17,1,1,2\nP17,2,0,0\n"
    with pytest.raises(DataError, match="--force"):
        challenge.write_submission(t, f)
    challenge.write_submission(t.iloc[:1], f, force=True)
    assert len(f.read_text().splitlines()) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["s.csv"]  # no temporary file left behind


def test_participant_split(dataset):
    s = challenge.participant_split(dataset, n_val=3, seed=0)
    assert len(set(dataset.participant[s.val])) == 3 and len(s.val) == 90 and len(s.train) == 390
    assert not set(dataset.participant[s.train]) & set(dataset.participant[s.val])
    assert set(dataset.participant[s.test]) == {"P17", "P18", "P19", "P20"} and len(s.test) == 120
    with pytest.raises(ValueError, match="n_val"):
        challenge.participant_split(dataset, n_val=16)


def test_reference_points(dataset, surrogate_dir):
    labels, what = challenge.evaluation_labels(dataset, surrogate_dir)
    assert len(labels) == 120 and "exact" in what
    neutral = challenge.score_tables(challenge.reference_predictions(dataset, labels, "neutral"), labels)
    oracle = challenge.score_tables(challenge.reference_predictions(dataset, labels, "oracle_class"), labels)
    assert oracle["class_error"] == 0 and 0.05 < oracle["score"] < 0.25
    assert 0.55 < neutral["score"] < 0.8  # the challenge notes "about 0.68" for this on real data


def test_evaluation_labels_on_real_layout_uses_released(dataset, tmp_path):
    lab, what = challenge.evaluation_labels(dataset, tmp_path)  # a folder without ground truth
    assert len(lab) == 36 and "estimate" in what


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
    expected = challenge.score_files(out, labels)
    assert f"score {expected['score']:.4f}" in r.stdout and "N 120" in r.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("Participant,Trial,CLASS\nP17,1,1\n")
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "score", str(bad), str(labels)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "missing column" in r.stderr and "Traceback" not in r.stderr


def quick(cache, seed: int = 0):
    from fmriemo.profiles import Settings
    return Settings.resolve("quick", epochs=2, cache_dir=cache, seed=seed, n_seeds=1, n_val=3, progress=False)


def test_crossfit_parts_hold_each_released_trial_once_and_spread_participants_and_classes(dataset):
    released = phases.released_index(dataset)
    parts = phases.crossfit_folds(dataset, released, 3)
    assert len(parts) == 3 and np.array_equal(np.sort(np.concatenate(parts)), released)
    for part in parts:  # one trial of every participant and class per part (3 released per class here)
        keys = list(zip(dataset.participant[part], dataset.y_class[part]))
        assert len(keys) == len(set(keys)) == len(set(zip(dataset.participant[released], dataset.y_class[released])))
    with pytest.raises(ValueError, match="n_folds"):
        phases.crossfit_folds(dataset, released, 1)


def test_phase2_crossfit_scores_every_released_trial_with_a_model_that_never_tuned_on_it(dataset, tmp_path,
                                                                                           monkeypatch):
    settings = quick(tmp_path)
    phase1 = {"ebr": challenge.train_phase1(dataset, "ebr", settings)}
    seen = []
    real = challenge.fine_tune

    def spy(ds, run, tune_idx, predict_idx, **kw):
        seen.append((set(np.asarray(tune_idx).tolist()), set(np.asarray(predict_idx).tolist())))
        return real(ds, run, tune_idx, predict_idx, **kw)

    monkeypatch.setattr(challenge, "fine_tune", spy)
    cf = phases.phase2_crossfit(dataset, phase1, settings, epochs=2)
    released = set(phases.released_index(dataset).tolist())
    assert all(not (tune & pred) and tune | pred == released for tune, pred in seen)
    assert set().union(*(pred for _, pred in seen)) == released and len(seen) == 3  # class models only
    row = cf.loc["ebr"]
    assert row["N"] == len(released) == 36 and row["lo"] <= row["Phase II (cross-fitted)"] <= row["hi"]
    # the Phase I column is the Phase I submission scored on the released trials
    lab = phases.labels_of(dataset, sorted(released))
    t1 = phases.rows_of(phases.phase1_table(dataset, phase1["ebr"]), dataset, sorted(released))
    assert row["Phase I"] == challenge.score_tables(t1, lab)["score"]
    # with the 9-way rule the level models are fine-tuned too
    seen.clear()
    phases.phase2_crossfit(dataset, phase1, settings, epochs=2, ratings="level-model")
    assert len(seen) == 6


def test_phase2_scores_is_empty_without_unreleased_labels(dataset, tmp_path):
    settings = quick(tmp_path)
    phase1 = {"ebr": challenge.train_phase1(dataset, "ebr", settings)}
    released_only = phases.labels_of(dataset, phases.released_index(dataset))
    assert phases.phase2_scores(dataset, phase1, released_only, settings, epochs=2).empty


def test_phase1_takes_the_paper_split_model_for_paper_methods_and_held_out_participants_for_compact(
        dataset, tmp_path):
    settings = quick(tmp_path)
    test = np.flatnonzero(dataset.split == "test")
    runs = challenge.train_phase1(dataset, "asb", settings, tasks=("class",))
    paper = train_paper(dataset, "asb", "class", seed=0, profile="quick", epochs=2, cache_dir=tmp_path,
                        progress=False)
    assert paper.cached and runs["class"].key == paper.key  # chapter 3's model, not a new one
    r = runs["class"]
    assert np.array_equal(r.test_index, test) and not np.array_equal(paper.test_index, test)
    assert r.proba.shape == (len(test), 3) and r.gates.shape == (len(test), 246)
    assert np.array_equal(r.y_pred, r.proba.argmax(1) - 1)
    again = on_trials(dataset, paper, paper.test_index)  # the stored model predicts its own test trials as it did
    assert np.allclose(again.proba, paper.proba, atol=1e-6) and np.array_equal(again.y_true, paper.y_true)
    own = challenge.train_phase1(dataset, "asb", settings, tasks=("class",), split="participants")["class"]
    assert own.key != paper.key and np.array_equal(own.test_index, test)
    assert own.split["name"].startswith("phase1-val3") and r.split["name"] != own.split["name"]
    compact = challenge.train_phase1(dataset, "compact", settings, tasks=("class",))["class"]
    assert compact.split["name"].startswith("phase1-val3")
    with pytest.raises(ValueError, match="split must be one of"):
        challenge.train_phase1(dataset, "asb", settings, split="trials")
    text = phases.phase1_split_text(dataset, {"asb": "ASB", "compact": "Compact"}, "auto", [0, 1], 3)
    assert "ASB is the model of chapters 3 and 4 (seeds 0 and 1)" in text
    assert "Compact is trained on the training participants" in text and "for the first seed" in text


def test_fine_tune_ignores_the_base_runs_minimum_epochs(dataset, tmp_path):
    """A base run trained under a budget that arms early stopping late (the full profile: after 800
    epochs) is fine-tuned for a fixed number of epochs fewer than that minimum."""
    from fmriemo.train import TrainConfig, train_run
    split = challenge.participant_split(dataset, n_val=3, seed=0)
    base = train_run(dataset, split, TrainConfig(method="ebr", seed=0, epochs=3, patience=2, min_epochs=3),
                     tmp_path, progress=False)
    released = phases.released_index(dataset)
    rest = np.setdiff1d(base.test_index, released)
    tuned = challenge.fine_tune(dataset, base, released, rest, epochs=2, cache_dir=tmp_path)
    assert len(tuned["y_pred"]) == len(rest) and not tuned["cached"]


def test_fine_tune_predicts_only_requested_trials_and_is_cached(dataset, tmp_path):
    runs = challenge.train_phase1(dataset, "ebr", quick(tmp_path))
    released = np.flatnonzero(dataset.label_source == "released")
    rest = np.setdiff1d(runs["class"].test_index, released)
    a = challenge.fine_tune(dataset, runs["class"], released, rest, epochs=2, cache_dir=tmp_path)
    assert len(a["y_pred"]) == len(rest) == 84 and set(a["y_pred"]) <= {-1, 0, 1}
    b = challenge.fine_tune(dataset, runs["class"], released, rest, epochs=2, cache_dir=tmp_path)
    assert np.array_equal(a["y_pred"], b["y_pred"]) and np.allclose(a["proba"], b["proba"])
    assert not a["cached"] and b["cached"]
    entries = list((tmp_path / "finetune").iterdir())
    assert len(entries) == 1 and {f.name for f in entries[0].iterdir()} == {"predictions.json", ".manifest.json"}


def _truncate(f):
    f.write_bytes(f.read_bytes()[:50])


def _alter(f):
    f.write_text(f.read_text().replace("0", "1", 1))


def _garbage_with_its_checksum(f):
    """Well-formed as an entry (the manifest matches) but not a fine-tuning's predictions."""
    import hashlib
    import json
    f.write_text('{"y_pred": [1]}')
    manifest = f.parent / ".manifest.json"
    manifest.write_text(json.dumps({f.name: hashlib.sha256(f.read_bytes()).hexdigest()}))


@pytest.mark.parametrize("damage", [_truncate, _alter, _garbage_with_its_checksum,
                                    lambda f: (f.parent / ".manifest.json").unlink(), lambda f: f.unlink()],
                         ids=["truncated", "altered", "unreadable", "no-manifest", "missing"])
def test_a_damaged_fine_tuning_is_reported_once_and_done_again(dataset, tmp_path, capfd, damage):
    runs = challenge.train_phase1(dataset, "ebr", quick(tmp_path), tasks=("class",))
    released = phases.released_index(dataset)
    rest = np.setdiff1d(runs["class"].test_index, released)
    challenge.fine_tune(dataset, runs["class"], released, rest, epochs=1, cache_dir=tmp_path)
    (entry,) = (tmp_path / "finetune").iterdir()
    damage(entry / "predictions.json")
    capfd.readouterr()
    again = challenge.fine_tune(dataset, runs["class"], released, rest, epochs=1, cache_dir=tmp_path)
    err = [line for line in capfd.readouterr().err.splitlines() if line.startswith("fmriemo:")]
    assert len(err) == 1 and "fine-tuning" in err[0] and "is damaged" in err[0] and "fine-tuning again" in err[0]
    assert not again["cached"] and len(again["y_pred"]) == len(rest)
    assert challenge.fine_tune(dataset, runs["class"], released, rest, epochs=1, cache_dir=tmp_path)["cached"]


def test_submit_class_aware_default_and_seed_ensemble(tmp_path, dataset):
    from fmriemo import level
    cache, out, out9 = tmp_path / "cache", tmp_path / "aware.csv", tmp_path / "nine.csv"
    base = [sys.executable, "-m", "fmriemo.cli", "submit", "--method", "ebr", "--epochs", "2", "--profile", "quick",
            "--cache-dir", str(cache), "--quiet"]
    r = subprocess.run(base + ["--out", str(out), "--seeds", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "2 seed(s), ratings class-aware" in r.stdout and "class seed 1: epoch" in r.stdout
    sub = pd.read_csv(out)
    table = level.training_level_table(dataset)  # fitted on the training participants' labels only
    assert (sub["LEVEL"] == sub["CLASS"].map(table)).all()
    assert len(list((cache / "runs").iterdir())) == 2  # two class models, no level model
    r = subprocess.run(base + ["--out", str(out9), "--ratings", "level-model"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert len(list((cache / "runs").iterdir())) == 3  # seed 0's class model reused, one level model trained


def test_fold_model_ensemble_predicts_every_test_trial_with_every_fold_model(dataset, tmp_path):
    from fmriemo import heldout, level
    settings = quick(tmp_path).replace(k=2)
    folds = heldout.fold_model_runs(dataset, "ebr", "class", settings)
    test = np.flatnonzero(dataset.split == "test")
    runs = heldout.fold_runs(dataset, "ebr", "class", settings)  # the same stored models
    assert len(folds) == len(runs) == 2
    for stand_in, (_, _, r) in zip(folds, runs):
        assert np.array_equal(stand_in.test_index, test) and stand_in.proba.shape == (len(test), 3)
        assert stand_in.key == r.key and stand_in.best_epoch == r.best_epoch  # the fold's own model
        assert not np.array_equal(r.test_index, test)  # a fold model's own test trials are training participants
    t = level.ensemble_submission(dataset, folds)
    expected = np.mean([f.proba for f in folds], axis=0).argmax(1) - 1
    assert np.array_equal(t["CLASS"].to_numpy(), expected) and len(t) == len(test)


def test_cli_submit_fold_ensemble(tmp_path):
    out = tmp_path / "folds.csv"
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "submit", "--method", "ebr", "--epochs", "2",
                        "--profile", "quick", "--cache-dir", str(tmp_path / "cache"), "--quiet", "--out", str(out),
                        "--ensemble", "folds", "--k", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "2 fold models (groupkfold, k = 2), ratings class-aware" in r.stdout
    assert "class seed 0 fold 1: epoch" in r.stdout
    assert len(challenge.read_submission(out)) == 120
    # fold settings without --ensemble folds would be silently ignored: refused before any training
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "submit", "--method", "ebr", "--out",
                        str(tmp_path / "x.csv"), "--cache-dir", str(tmp_path / "other"), "--k", "2"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "--ensemble folds" in r.stderr and not (tmp_path / "other").exists()


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
    assert expect[chosen[0][1].split(" (")[0]] in lines[-1] and len(challenge.read_submission(out)) == 120


def test_cli_submit_search_fits_the_read_out_chosen_on_training_participants(tmp_path, dataset):
    from fmriemo import level, search
    out = tmp_path / "search.csv"
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "submit", "--method", "search", "--out", str(out),
                        "--cache-dir", str(tmp_path / "cache")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    sub = challenge.read_submission(out)
    assert len(sub) == 120 and (sub["LEVEL"] == sub["CLASS"].map(level.training_level_table(dataset))).all()
    chosen, scores, run = search.choose_and_fit(dataset)
    assert f"search: {chosen['name']}, cross-validated accuracy {scores.max():.3f}" in r.stdout
    assert np.array_equal(sub["CLASS"].to_numpy(), run.proba.argmax(1) - 1)
    # Test participants' labels are never read: hiding them changes nothing
    hidden = dataset.subset(np.arange(len(dataset)))
    hidden.y_class = np.where(hidden.split == "test", np.nan, hidden.y_class)
    assert np.array_equal(search.choose_and_fit(hidden)[2].proba, run.proba)
    # options only a trained model uses are refused, by name, not silently ignored
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "submit", "--method", "search", "--seeds", "2",
                        "--epochs", "5", "--profile", "quick", "--out", str(tmp_path / "x.csv")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "takes no --seeds, --epochs, --profile" in r.stderr
    assert not (tmp_path / "x.csv").exists()


def test_ensemble_submission_averages_probabilities(dataset):
    from fmriemo.level import ensemble_submission
    idx = np.flatnonzero(dataset.split == "test")[:3]

    def run(proba):
        return RunResult(key="k", config={}, split={}, history={}, best_epoch=1, epochs_run=1, seconds=0,
                         test_index=idx, y_true=np.zeros(3), y_pred=np.zeros(3), proba=np.asarray(proba, float))
    a = run([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.4, 0.5, 0.1]])
    b = run([[0.0, 0.1, 0.9], [0.1, 0.7, 0.2], [0.5, 0.4, 0.1]])
    t = ensemble_submission(dataset, [a, b])
    assert t["CLASS"].tolist() == [1, 0, -1]  # argmax of the means, not of either run
    with pytest.raises(ValueError, match="level runs"):
        ensemble_submission(dataset, [a], ratings="level-model")
    with pytest.raises(ValueError, match="same trials"):
        other = run(a.proba)
        other.test_index = idx[::-1]
        ensemble_submission(dataset, [a, other])
