"""The baselines as scikit-learn pipelines: what each one sees."""
import numpy as np
import pytest

from fmriemo.evaluation.baselines import BASELINES, baseline_inputs, baseline_pipeline


def test_the_position_baseline_sees_only_the_trial_number(dataset):
    X = baseline_inputs(dataset, "position")
    assert X.shape == (len(dataset), 1) and X[:30, 0].tolist() == list(range(1, 31))
    lab = dataset.labelled_train
    model = baseline_pipeline("position").fit(X[lab], dataset.labels("class", lab))
    trial_7 = model.predict(np.array([[7], [7]]))
    assert trial_7[0] == trial_7[1]  # the same position, the same guess whatever the fMRI


def test_the_fmri_baselines_read_the_trials_features(dataset):
    lab = np.flatnonzero(dataset.labelled_train)
    X, y = baseline_inputs(dataset, "logreg"), dataset.labels("class", lab)
    assert X.shape == (len(dataset), 246 * 25)
    assert (baseline_pipeline("majority").fit(X[lab], y).predict(X[lab[:5]]) == np.bincount(y + 1).argmax() - 1).all()
    a = baseline_pipeline("stratified", seed=1).fit(X[lab], y).predict(X[lab])
    b = baseline_pipeline("stratified", seed=2).fit(X[lab], y).predict(X[lab])
    assert not np.array_equal(a, b)  # one draw per seed
    assert set(BASELINES) == {"majority", "stratified", "logreg", "position"}
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_pipeline("forest")
