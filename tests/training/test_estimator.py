"""Every registered model as a scikit-learn classifier: scikit-learn's own estimator checks, the same numbers
as the chapters' runs on one held-out fold (fit, predict, gates, the cache), the book's splitters in
scikit-learn's and MNE's cross-validation, and a module written by the user."""
import numpy as np
import pytest
from sklearn.model_selection import PredefinedSplit, cross_val_predict, cross_val_score, permutation_test_score
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch import nn

from fmriemo.data.splits import OrderGroupKFold, group_folds, nested_split
from fmriemo.models import registry
from fmriemo.training.config import config_for
from fmriemo.training.estimator import VALIDATION_GROUPS, DeepClassifier
from fmriemo.training.runs import train_run

#: every registered model, discovered: the estimator checks fit data of 1-20 features, which a model that
#: reads regions by index (EBR: 32 of the atlas's 246) cannot take; it is checked on trials of its own
#: shape below instead
ANY_SHAPE = [n for n in registry.names() if registry.spec(n).input_regions is None]
FIXED_SHAPE = [n for n in registry.names() if registry.spec(n).input_regions is not None]


#: the checks a network of float32 arithmetic cannot pass as scikit-learn states them, and why; each is
#: checked below in the form that holds
FLOAT32_CHECKS = {
    "check_methods_sample_order_invariance":
        "float32 arithmetic: a trial's probabilities can differ in the last bit with its row in the batch "
        "(on an AVX2 CPU, Compact's output layer, a 9-by-3 matrix product, rounds a row otherwise at another "
        "position, for every permutation tried), and the check compares them at float64 precision (rtol "
        "1e-7); order invariance is tested at float32 precision in "
        "test_predictions_do_not_depend_on_the_order_of_the_trials",
}


@parametrize_with_checks([DeepClassifier(n, profile="quick", max_epochs=20, preprocess="none", device="cpu")
                          for n in ANY_SHAPE], expected_failed_checks=lambda est: FLOAT32_CHECKS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("method", ANY_SHAPE)
def test_predictions_do_not_depend_on_the_order_of_the_trials(method):
    """scikit-learn's sample-order check at float32 precision, over several permutations: each trial's
    probabilities are its own up to float32 rounding, and its predicted class is the same in any order."""
    rng = np.random.default_rng(0)
    X = 3 * rng.uniform(size=(40, 3))
    y = X[:, 0].astype(int)
    clf = DeepClassifier(method, profile="quick", max_epochs=20, preprocess="none", device="cpu",
                         random_state=1).fit(X, y)
    proba = clf.predict_proba(X)
    assert len(np.unique(clf.predict(X))) > 1  # a model that predicts one class would pass trivially
    for _ in range(10):
        idx = rng.permutation(len(X))
        np.testing.assert_allclose(clf.predict_proba(X[idx]), proba[idx], rtol=1e-5, atol=1e-7)
        assert np.array_equal(clf.predict(X[idx]), clf.predict(X)[idx])


def test_the_checks_cover_the_models():
    assert {"asb", "vanilla", "compact"} <= set(ANY_SHAPE) and FIXED_SHAPE == ["ebr"]


@pytest.mark.parametrize("method", FIXED_SHAPE)
def test_a_model_of_fixed_shape_names_it(method):
    X = np.random.default_rng(0).normal(size=(20, 10, 25))
    y = np.arange(20) % 3
    with pytest.raises(ValueError, match=f"{method} needs trials of 246 regions"):
        DeepClassifier(method, profile="quick", max_epochs=1).fit(X, y)


def _fold(dataset):
    split = nested_split(dataset, group_folds(dataset, "groupkfold", 3)[0], 2, 0)
    rows = np.r_[split.train, split.val]
    val = PredefinedSplit(np.r_[np.full(len(split.train), -1), np.zeros(len(split.val), int)])
    return split, rows, val


@pytest.mark.parametrize("method", registry.names())
def test_fit_gives_the_chapters_run(dataset, tmp_path, method):
    """The contract every registered model keeps: fitted as an estimator on one held-out fold's training and
    validation trials, it is the chapters' run of that fold bit for bit (curves, kept epoch, probabilities,
    gates), and with a cache folder a second fit reads it instead of training."""
    split, rows, val = _fold(dataset)
    run = train_run(dataset, split, config_for("quick", 4, method=method, task="class", seed=2, device="cpu"),
                    tmp_path / "runs", progress=False)
    clf = DeepClassifier(method, profile="quick", max_epochs=4, random_state=2, device="cpu", validation=val,
                         cache_dir=tmp_path / "est")
    clf.fit(dataset.X[rows], dataset.y_class[rows])
    assert not clf.cached_ and clf.history_["val_acc"] == run.history["val_acc"]
    assert clf.best_epoch_ == run.best_epoch and clf.epochs_run_ == run.epochs_run
    proba = clf.predict_proba(dataset.X[split.test])
    assert np.array_equal(proba, run.proba.astype(np.float64))
    assert np.array_equal(clf.predict(dataset.X[split.test]), run.y_pred)
    assert list(clf.classes_) == [-1, 0, 1]
    if run.gates is None:
        with pytest.raises(AttributeError, match="no input gates"):
            clf.input_gates(dataset.X[split.test])
    else:
        assert np.array_equal(clf.input_gates(dataset.X[split.test]), run.gates)
    again = DeepClassifier(method, profile="quick", max_epochs=4, random_state=2, device="cpu", validation=val,
                           cache_dir=tmp_path / "est").fit(dataset.X[rows], dataset.y_class[rows])
    assert again.cached_ and np.array_equal(again.predict_proba(dataset.X[split.test]), proba)
    other = DeepClassifier(method, profile="quick", max_epochs=4, random_state=3, device="cpu", validation=val,
                           cache_dir=tmp_path / "est").fit(dataset.X[rows], dataset.y_class[rows])
    assert not other.cached_


def test_validation_keeps_whole_participants_out(dataset):
    rows = np.flatnonzero(dataset.labelled_train)
    X, y, groups = dataset.X[rows], dataset.y_class[rows], dataset.participant[rows]
    clf = DeepClassifier("compact", profile="quick", max_epochs=1).fit(X, y, groups=groups)
    held = set(groups[clf.validation_index_])
    assert len(held) == VALIDATION_GROUPS
    assert held.isdisjoint(np.delete(groups, clf.validation_index_))
    three = DeepClassifier("compact", profile="quick", max_epochs=1, validation=3).fit(X, y, groups=groups)
    assert len(set(groups[three.validation_index_])) == 3
    share = DeepClassifier("compact", profile="quick", max_epochs=1, validation=0.25).fit(X, y)
    assert len(share.validation_index_) == 120
    # stratified: each class keeps its share
    assert np.array_equal(np.unique(y[share.validation_index_], return_counts=True)[1], [40, 40, 40])
    for bad, message in ((1.5, "between 0 and 1"), ("half", "validation must be")):
        with pytest.raises(ValueError, match=message):
            DeepClassifier("compact", profile="quick", max_epochs=1, validation=bad).fit(X, y)
    with pytest.raises(ValueError, match="need more than 2 groups"):
        DeepClassifier("compact", profile="quick", max_epochs=1).fit(X[:60], y[:60], groups=groups[:60])


def test_recipe_from_the_profile_and_its_overrides():
    X = np.random.default_rng(0).normal(size=(30, 246, 25))
    y = np.arange(30) % 3
    clf = DeepClassifier("asb", profile="full", max_epochs=2, device="cpu").fit(X, y)
    assert clf.config_ == config_for("full", 2, method="asb", task="class", seed=0, device="cpu")
    clf = DeepClassifier("asb", task="level", profile="quick", max_epochs=2, lr=5e-3, monitor="val_acc").fit(X, y)
    assert (clf.config_.learning_rate, clf.config_.monitored, clf.config_.task) == (5e-3, "val_acc", "level")
    paper = DeepClassifier("vanilla", profile=None, max_epochs=2)
    assert paper.fit(X, y).config_.patience is None
    assert not paper.still_improving or paper.epochs_run_ == 2
    with pytest.raises(ValueError, match="profile must be one of"):
        DeepClassifier("asb", profile="fast").fit(X, y)
    with pytest.raises(ValueError, match="unknown method"):
        DeepClassifier("resnet").fit(X, y)


def test_book_splitter_in_scikit_learn_and_mne(dataset):
    """The chapters' protocol as a scikit-learn cross-validator, in scikit-learn's and MNE's cross-validation."""
    mne_decoding = pytest.importorskip("mne.decoding")
    rows = np.flatnonzero(dataset.labelled_train)
    X, y, groups = dataset.X[rows], dataset.y_class[rows], dataset.participant[rows]
    clf = DeepClassifier("compact", profile="quick", max_epochs=3)
    cv = OrderGroupKFold(3)
    scores = cross_val_score(clf, X, y, groups=groups, cv=cv)
    assert scores.shape == (3,) and ((0 <= scores) & (scores <= 1)).all()
    assert np.allclose(mne_decoding.cross_val_multiscore(clf, X, y, groups=groups, cv=cv), scores)
    predicted = cross_val_predict(clf, X, y, groups=groups, cv=cv)
    for fold, (_, test) in enumerate(cv.split(X, y, groups)):  # each fold's predictions: the model that did not see it
        assert np.mean(predicted[test] == y[test]) == pytest.approx(scores[fold])
    score, perm, p = permutation_test_score(clf, X, y, groups=groups, cv=cv, n_permutations=2, random_state=0)
    assert score == pytest.approx(scores.mean()) and perm.shape == (2,) and 0 < p <= 1


class TwoLayer(nn.Module):
    """A module a user might write: one hidden layer over the flattened trial."""

    def __init__(self, n_out, n_regions=246, n_time=25):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(n_regions * n_time, 16), nn.ReLU(), nn.Linear(16, n_out))

    def forward(self, x):
        return self.net(x)


def test_a_module_of_your_own(dataset, tmp_path):
    rows = np.flatnonzero(dataset.labelled_train)[:200]
    X, y, groups = dataset.X[rows], dataset.y_class[rows], dataset.participant[rows]
    clf = DeepClassifier(TwoLayer, profile="quick", max_epochs=3, cache_dir=tmp_path).fit(X, y, groups=groups)
    assert clf.config_.method.endswith("TwoLayer") and clf.predict_proba(X).shape == (200, 3)
    assert DeepClassifier(TwoLayer, profile="quick", max_epochs=3, cache_dir=tmp_path).fit(X, y, groups=groups).cached_
    with pytest.raises(TypeError, match="must return a torch.nn.Module"):
        DeepClassifier(lambda n_out: "no module", max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="maps a trial to"):
        DeepClassifier(lambda n_out: TwoLayer(n_out + 1), max_epochs=1).fit(X, y)
    with pytest.raises(TypeError, match="registered model's name or a callable"):
        DeepClassifier(3).fit(X, y)


@pytest.mark.parametrize("method", ["vanilla", "compact"])
def test_cross_val_predict_trains_the_chapters_fold_runs(dataset, tmp_path, method):
    """Chapter 7's held-out protocol in scikit-learn's terms: the protocol's splitter, the model as an
    estimator and the chapters' checkpoint participants (:class:`CheckpointParticipants`) give, through
    ``cross_val_predict``, the chapter's fold runs of that seed bit for bit."""
    from fmriemo.data.splits import CheckpointParticipants, class_orders, protocol_cv, training_participants
    from fmriemo.evaluation import heldout
    from fmriemo.profiles import Settings
    s = Settings.resolve("quick", epochs=3, seed=1, n_seeds=1, device="cpu", cache_dir=tmp_path, progress=False)
    expected, expected_proba = np.full(len(dataset), -9), np.full((len(dataset), 3), np.nan)
    for _, _, run in heldout.fold_runs(dataset, method, "class", s):
        expected[run.test_index], expected_proba[run.test_index] = run.y_pred, run.proba
    lab = np.flatnonzero(dataset.labelled_train)
    who = dataset.participant[lab]
    model = DeepClassifier(method, profile="quick", max_epochs=3, random_state=1, device="cpu",
                           validation=CheckpointParticipants(training_participants(dataset), s.fold_n_val, seed=1))
    cv = protocol_cv(s.protocol, s.k, orders=class_orders(dataset))
    proba = cross_val_predict(model, dataset.X[lab], dataset.y_class[lab], groups=who, cv=cv, params={"groups": who},
                              method="predict_proba")
    assert np.array_equal(proba, expected_proba[lab])  # the probabilities, not only the argmax: the same weights
    pred = cross_val_predict(model, dataset.X[lab], dataset.y_class[lab], groups=who, cv=cv, params={"groups": who})
    assert np.array_equal(pred, expected[lab])
