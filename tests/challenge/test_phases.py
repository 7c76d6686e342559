"""The challenge's two phases: Phase I models on the paper's split or on participants, Phase II fine-tuning
on the released labels (cached, keyed, healed when damaged), scored as the challenge did and estimated by
cross-fitting from the released trials alone."""
import numpy as np
import pandas as pd
import pytest

from fmriemo.challenge import phases
from fmriemo.challenge.submission import score_tables
from fmriemo.data.splits import participant_split
from fmriemo.training.config import TrainConfig
from fmriemo.training.runs import train_paper, train_run


@pytest.mark.conclusions
# --------------------------------------------------------------------------- challenge: fine-tuning, submissions

def test_fine_tuning_changes_the_model_and_its_key(dataset, tmp_path):
    split = participant_split(dataset, n_val=3, seed=0)
    cfg = TrainConfig(method="ebr", task="class", seed=0, epochs=3)
    base = train_run(dataset, split, cfg, tmp_path, progress=False)
    rel = np.flatnonzero((dataset.split == "test") & dataset.labelled)
    rest = np.flatnonzero((dataset.split == "test") & ~dataset.labelled)
    tuned = phases.fine_tune(dataset, base, rel, rest, epochs=5, cache_dir=tmp_path)
    assert not tuned["cached"]
    base_proba = dict(zip(base.test_index.tolist(), base.proba))
    assert not np.allclose(tuned["proba"], np.array([base_proba[i] for i in rest]), atol=1e-4)
    key = phases.fine_tune_key(dataset, base, rel, rest, 5, 0.1, 2)
    assert key != phases.fine_tune_key(dataset, base, rel, rest, 6, 0.1, 2)
    assert key != phases.fine_tune_key(dataset, base, rel, rest, 5, 0.2, 2)
    assert key != phases.fine_tune_key(dataset, base, rel, rest, 5, 0.1, 3)
    again = phases.fine_tune(dataset, base, rel, rest, epochs=5, cache_dir=tmp_path)
    assert again["cached"] and np.allclose(again["proba"], tuned["proba"])


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
                                                                                           monkeypatch, quick):
    settings = quick(tmp_path)
    phase1 = {"ebr": phases.train_phase1(dataset, "ebr", settings)}
    seen = []
    real = phases.fine_tune

    def spy(ds, run, tune_idx, predict_idx, **kw):
        seen.append((set(np.asarray(tune_idx).tolist()), set(np.asarray(predict_idx).tolist())))
        return real(ds, run, tune_idx, predict_idx, **kw)

    monkeypatch.setattr(phases, "fine_tune", spy)
    cf = phases.phase2_crossfit(dataset, phase1, settings, epochs=2)
    released = set(phases.released_index(dataset).tolist())
    assert all(not (tune & pred) and tune | pred == released for tune, pred in seen)
    assert set().union(*(pred for _, pred in seen)) == released and len(seen) == 3  # class models only
    row = cf.loc["ebr"]
    assert row["N"] == len(released) == 36 and row["lo"] <= row["Phase II (cross-fitted)"] <= row["hi"]
    # the Phase I column is the Phase I submission scored on the released trials
    lab = phases.labels_of(dataset, sorted(released))
    t1 = phases.rows_of(phases.phase1_table(dataset, phase1["ebr"]), dataset, sorted(released))
    assert row["Phase I"] == score_tables(t1, lab)["score"]
    # with the 9-way rule the level models are fine-tuned too
    seen.clear()
    phases.phase2_crossfit(dataset, phase1, settings, epochs=2, ratings="level-model")
    assert len(seen) == 6


def test_phase2_scores_is_empty_without_unreleased_labels(dataset, tmp_path, quick):
    settings = quick(tmp_path)
    phase1 = {"ebr": phases.train_phase1(dataset, "ebr", settings)}
    released_only = phases.labels_of(dataset, phases.released_index(dataset))
    assert phases.phase2_scores(dataset, phase1, released_only, settings, epochs=2).empty


def test_phase1_takes_the_paper_split_model_for_paper_methods_and_held_out_participants_for_compact(
        dataset, tmp_path, quick):
    settings = quick(tmp_path)
    test = np.flatnonzero(dataset.split == "test")
    runs = phases.train_phase1(dataset, "asb", settings, tasks=("class",))
    paper = train_paper(dataset, "asb", "class", settings)
    assert paper.cached and runs["class"].key == paper.key  # chapter 3's model, not a new one
    r = runs["class"]
    assert np.array_equal(r.test_index, test) and not np.array_equal(paper.test_index, test)
    assert r.proba.shape == (len(test), 3) and r.gates.shape == (len(test), 246)
    assert np.array_equal(r.y_pred, r.proba.argmax(1) - 1)
    own = phases.train_phase1(dataset, "asb", settings, tasks=("class",), split="participants")["class"]
    assert own.key != paper.key and np.array_equal(own.test_index, test)
    assert own.split["name"].startswith("phase1-val3") and r.split["name"] != own.split["name"]
    compact = phases.train_phase1(dataset, "compact", settings, tasks=("class",))["class"]
    assert compact.split["name"].startswith("phase1-val3")
    with pytest.raises(ValueError, match="split must be one of"):
        phases.train_phase1(dataset, "asb", settings, split="trials")


def test_fine_tune_ignores_the_base_runs_minimum_epochs(dataset, tmp_path):
    """A base run trained under a budget that arms early stopping late (the full profile: after 800
    epochs) is fine-tuned for a fixed number of epochs fewer than that minimum."""
    split = participant_split(dataset, n_val=3, seed=0)
    cfg = TrainConfig(method="ebr", task="class", seed=0, epochs=3, patience=2, min_epochs=3)
    base = train_run(dataset, split, cfg,
                     tmp_path, progress=False)
    released = phases.released_index(dataset)
    rest = np.setdiff1d(base.test_index, released)
    tuned = phases.fine_tune(dataset, base, released, rest, epochs=2, cache_dir=tmp_path)
    assert len(tuned["y_pred"]) == len(rest) and not tuned["cached"]


def test_fine_tune_predicts_only_requested_trials_and_is_cached(dataset, tmp_path, quick):
    runs = phases.train_phase1(dataset, "ebr", quick(tmp_path))
    released = np.flatnonzero(dataset.label_source == "released")
    rest = np.setdiff1d(runs["class"].test_index, released)
    a = phases.fine_tune(dataset, runs["class"], released, rest, epochs=2, cache_dir=tmp_path)
    assert len(a["y_pred"]) == len(rest) == 84 and set(a["y_pred"]) <= {-1, 0, 1}
    b = phases.fine_tune(dataset, runs["class"], released, rest, epochs=2, cache_dir=tmp_path)
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
def test_a_damaged_fine_tuning_is_reported_once_and_done_again(dataset, tmp_path, capfd, damage, quick):
    runs = phases.train_phase1(dataset, "ebr", quick(tmp_path), tasks=("class",))
    released = phases.released_index(dataset)
    rest = np.setdiff1d(runs["class"].test_index, released)
    phases.fine_tune(dataset, runs["class"], released, rest, epochs=1, cache_dir=tmp_path)
    (entry,) = (tmp_path / "finetune").iterdir()
    damage(entry / "predictions.json")
    capfd.readouterr()
    again = phases.fine_tune(dataset, runs["class"], released, rest, epochs=1, cache_dir=tmp_path)
    err = [line for line in capfd.readouterr().err.splitlines() if line.startswith("fmriemo:")]
    assert len(err) == 1 and "fine-tuning" in err[0] and "is damaged" in err[0] and "fine-tuning again" in err[0]
    assert not again["cached"] and len(again["y_pred"]) == len(rest)
    assert phases.fine_tune(dataset, runs["class"], released, rest, epochs=1, cache_dir=tmp_path)["cached"]


def test_table3_sets_the_paper_beside_the_scored_or_estimated_phases():
    p1 = pd.DataFrame({"score": [0.5, 0.68]}, index=["ASB", "always neutral, 0"])
    p2 = pd.DataFrame({"Phase II": [0.45]}, index=["ASB"])
    cf = pd.DataFrame({"Phase II (cross-fitted)": [0.47]}, index=["ASB"])
    scored = phases.table3(p1, p2, cf, "ASB")
    assert scored.loc["Phase II (unreleased trials)", "this book, ASB"] == 0.45
    assert scored.loc["Phase I (all test trials)", "paper (real test set)"] == 0.5132
    estimated = phases.table3(p1, p2.iloc[:0], cf, "ASB")
    assert estimated.loc["Phase II (cross-fitted on the released trials)", "this book, ASB"] == 0.47
    assert estimated.loc["Phase I (all test trials)", "always neutral, 0"] == 0.68
    nothing = phases.table3(p1.iloc[:1], p2.iloc[:0], cf.iloc[:0], "ASB")
    assert nothing.isna().sum().sum() == 3  # no Phase II, no reference rows: NaN, not an error
