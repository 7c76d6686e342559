"""Submission files and the official score: reading, writing, scoring only labelled trials, the labels a
build can score against, and the reference predictions that bracket the scale."""
import os

import pandas as pd
import pytest

from fmriemo.challenge import submission
from fmriemo.core.errors import DataError


def _write(tmp_path, name, text):
    f = tmp_path / name
    f.write_text(text)
    return f


LABELS = "Participant,Trial,CLASS,LEVEL\nP17,1,1,2\nP17,2,,\nP17,3,-1,-4\nP17,4,0,0\n"


@pytest.mark.conclusions
def test_score_files_scores_only_labelled_trials(tmp_path):
    lab = _write(tmp_path, "labels.csv", LABELS)
    sub = _write(tmp_path, "sub.csv", "Participant,Trial,CLASS,LEVEL\nP17,1,1,1\nP17,2,1,3\nP17,3,0,-4\nP17,4,0,0\n")
    s = submission.score_files(sub, lab)
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
        submission.score_files(sub, lab)


def test_write_submission_atomic_and_no_overwrite(tmp_path):
    t = pd.DataFrame({"Participant": ["P17", "P17"], "Trial": [1, 2], "CLASS": [1.0, 0.0], "LEVEL": [2, 0]})
    f = submission.write_submission(t, tmp_path / "s.csv")
    assert f.read_text() == "Participant,Trial,CLASS,LEVEL\nP17,1,1,2\nP17,2,0,0\n"
    with pytest.raises(DataError, match="--force"):
        submission.write_submission(t, f)
    submission.write_submission(t.iloc[:1], f, force=True)
    assert len(f.read_text().splitlines()) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["s.csv"]  # no temporary file left behind


def test_reference_points(dataset, surrogate_dir):
    labels, what = submission.evaluation_labels(dataset, surrogate_dir)
    assert len(labels) == 120 and "exact" in what
    neutral = submission.score_tables(submission.reference_predictions(dataset, labels, "neutral"), labels)
    oracle = submission.score_tables(submission.reference_predictions(dataset, labels, "oracle_class"), labels)
    assert oracle["class_error"] == 0 and 0.05 < oracle["score"] < 0.25
    assert 0.55 < neutral["score"] < 0.8  # the challenge notes "about 0.68" for this on real data


def test_evaluation_labels_on_real_layout_uses_released(dataset, tmp_path):
    lab, what = submission.evaluation_labels(dataset, tmp_path)  # a folder without ground truth
    assert len(lab) == 36 and "estimate" in what


def test_submission_permissions_follow_the_umask(tmp_path):
    table = pd.DataFrame({"Participant": ["P17"], "Trial": [1], "CLASS": [0], "LEVEL": [0]})
    old = os.umask(0o022)
    try:
        f = submission.write_submission(table, tmp_path / "s.csv")
        assert f.stat().st_mode & 0o777 == 0o644
        f.chmod(0o644)
        submission.write_submission(table, f, force=True)
        assert f.stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        submission.write_submission(table, f, force=True)
        assert f.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
    assert [p.name for p in tmp_path.iterdir()] == ["s.csv"]  # no temporary file left
