"""Every split the book uses: the paper's pooled-trial split, Phase I's participant split, the held-out
protocols' folds (order groups together, or deliberately not) and the nested validation inside them."""
import numpy as np
import pytest

from fmriemo.core.errors import DataError
from fmriemo.data.dataset import participant_key
from fmriemo.data.splits import (PHASE1_SPLITS, CheckpointParticipants, LeaveOneOrderGroupOut, OrderGroupKFold,
                                 PaperSplit, ParticipantKFold, class_orders, fold_participants, group_folds,
                                 groups_among, identical_order_pairs, inner_folds, make_paper_split, nested_split,
                                 order_groups, paper_split, participant_split, protocol_cv, training_participants)


def test_paper_split_sizes_and_stratification(dataset):
    for task in ("class", "level"):
        s = make_paper_split(dataset, task)
        assert (len(s.train), len(s.val), len(s.test)) == (384, 48, 48)
        all_idx = np.concatenate([s.train, s.val, s.test])
        assert len(set(all_idx)) == 480 and (dataset.split[all_idx] == "train").all()
        assert s.identity() == make_paper_split(dataset, task).identity()  # seed 410 by default
    s = make_paper_split(dataset, "class")
    counts = np.unique(dataset.y_class[s.test], return_counts=True)[1]
    assert counts.tolist() == [16, 16, 16]
    # trials of the same participant on both sides, as the authors did
    assert set(dataset.participant[s.train]) & set(dataset.participant[s.test])
    assert make_paper_split(dataset, "class", 1).identity() != s.identity()


def test_paper_split_reports_impossible_stratification():
    with pytest.raises(DataError, match="stratified split"):
        paper_split(np.array([0] * 30 + [1]))


def test_participant_split(dataset):
    s = participant_split(dataset, n_val=3, seed=0)
    assert len(set(dataset.participant[s.val])) == 3 and len(s.val) == 90 and len(s.train) == 390
    assert not set(dataset.participant[s.train]) & set(dataset.participant[s.val])
    assert set(dataset.participant[s.test]) == {"P17", "P18", "P19", "P20"} and len(s.test) == 120
    with pytest.raises(ValueError, match="n_val"):
        participant_split(dataset, n_val=16)


def test_group_folds(dataset):
    loso = group_folds(dataset, "loso")
    assert len(loso) == 16 and all(len(f) == 1 for f in loso)
    gk = group_folds(dataset, "groupkfold", k=4)
    assert len(gk) == 4 and sorted(sum(gk, [])) == training_participants(dataset)
    assert all(len(f) == 4 for f in gk)
    with pytest.raises(ValueError, match="protocol"):
        group_folds(dataset, "trials")


def test_nested_split_keeps_participants_apart(dataset):
    s = nested_split(dataset, ["P03"], n_val=2, seed=1)
    tr, va, te = (set(dataset.participant[i]) for i in (s.train, s.val, s.test))
    assert te == {"P03"} and len(va) == 2 and not (tr & va or tr & te or va & te)
    assert len(tr) == 13 and len(s.test) == 30
    assert nested_split(dataset, ["P03"], 2, 1).identity() == s.identity()
    assert (dataset.split[np.concatenate([s.train, s.val, s.test])] == "train").all()


def test_kfold_ignores_order_groups(dataset):
    """"kfold" partitions the participants into k folds of near-equal size regardless of order
    groups (twins end up split for this seed), unlike "groupkfold"."""
    groups = order_groups(dataset)
    kf = group_folds(dataset, "kfold", k=3)
    assert sorted(sum(kf, [])) == training_participants(dataset)
    assert sorted(len(f) for f in kf) == [5, 5, 6]
    split_twins = [p for f in kf for p in f if any(groups[q] == groups[p] and q != p and q not in f
                                                   for q in groups)]
    assert split_twins  # the point of the protocol: some twin pairs are separated
    for f in group_folds(dataset, "groupkfold", k=3):
        assert not any(groups[q] == groups[p] and q not in f for p in f for q in groups)
    with pytest.raises(ValueError, match="k must be between 2 and 16"):
        group_folds(dataset, "kfold", k=17)


def test_order_groups_are_named_inside_the_set_they_are_drawn_from(dataset):
    orders = class_orders(dataset)
    assert len(orders) == 16 and all(len(o) == 30 for o in orders.values())
    groups = order_groups(dataset)
    assert groups["P10"] == groups["P01"] == "P01" and groups["P08"] == "P08"
    # without P01, its twin names the group: nothing outside the set changes the names inside it
    without = groups_among(orders, [p for p in orders if p != "P01"])
    assert without["P10"] == "P10" and "P01" not in without
    assert {tuple(sorted(pair)) for pair in identical_order_pairs(dataset)} == \
        {tuple(sorted(p for p in groups if groups[p] == g)) for g in set(groups.values()) if
         sum(v == g for v in groups.values()) == 2}


def test_inner_folds_keep_order_groups_together_and_partition(dataset):
    orders = class_orders(dataset)
    rest = [p for p in training_participants(dataset) if p not in group_folds(dataset, "groupkfold", 3)[0]]
    folds = inner_folds(orders, rest, 3)
    assert sorted(p for f in folds for p in f) == sorted(rest) and len(folds) == 3
    groups = groups_among(orders, rest)
    for f in folds:
        assert all(q in f for p in f for q in rest if groups[q] == groups[p])
    with pytest.raises(ValueError, match="at least two order groups"):
        inner_folds(orders, ["P01", "P10"], 3)  # twins: one group


def test_phase1_splits_are_named():
    assert PHASE1_SPLITS == ("auto", "paper", "participants")


# -- the protocols as scikit-learn cross-validators -------------------------------------------------------

def _labelled(dataset):
    rows = np.flatnonzero(dataset.labelled_train)
    return rows, dataset.X[rows], dataset.y_class[rows], dataset.participant[rows]


@pytest.mark.conclusions
@pytest.mark.parametrize("protocol", ["loso", "order", "groupkfold", "kfold"])
def test_splitters_hold_out_the_protocols_participants(dataset, protocol):
    """Each protocol's cross-validator, reading the class order from ``y`` row by row, tests the participants
    that the chapters' folds (built from each participant's trials sorted by trial number) test."""
    rows, X, y, groups = _labelled(dataset)
    cv = protocol_cv(protocol, 4, seed=3)
    tested = [sorted(set(groups[test])) for _, test in cv.split(X, y, groups)]
    assert tested == [sorted(f) for f in group_folds(dataset, protocol, 4, seed=3)]
    assert cv.get_n_splits(X, y, groups) == len(tested)
    for train, test in cv.split(X, y, groups):  # whole participants, every labelled trial once on each side
        assert set(groups[train]).isdisjoint(groups[test]) and len(train) + len(test) == len(rows)


def test_order_group_folds_keep_twins_together_whatever_the_task(dataset):
    rows, X, y, groups = _labelled(dataset)
    pairs = identical_order_pairs(dataset)
    assert pairs, "the surrogate has order twins"
    by_class = list(OrderGroupKFold(3).split(X, y, groups))
    # the level task's folds come from the classes (orders), not from the ratings
    by_level = list(OrderGroupKFold(3, orders=class_orders(dataset)).split(X, dataset.y_level[rows], groups))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(by_class, by_level))
    for _, test in by_class:
        held = set(groups[test])
        assert all((a in held) == (b in held) for a, b in pairs)
    assert LeaveOneOrderGroupOut().get_n_splits(X, y, groups) == len(set(order_groups(dataset).values()))


def test_splitters_refuse_what_they_cannot_split(dataset):
    rows, X, y, groups = _labelled(dataset)
    with pytest.raises(ValueError, match="needs groups"):
        next(OrderGroupKFold(3).split(X, y))
    with pytest.raises(ValueError, match="k must be between 2 and"):
        next(OrderGroupKFold(40).split(X, y, groups))
    with pytest.raises(ValueError, match="k must be between 2 and 16"):
        next(ParticipantKFold(17).split(X, y, groups))
    with pytest.raises(ValueError, match="no class sequence for participant"):
        next(LeaveOneOrderGroupOut(orders={"P01": (0, 1)}).split(X, y, groups))
    with pytest.raises(ValueError, match="protocol must be one of"):
        protocol_cv("trials")


def test_paper_split_as_a_cross_validator(dataset):
    rows, X, y, groups = _labelled(dataset)
    ((train, test),) = list(PaperSplit().split(X, y))
    paper = make_paper_split(dataset, "class")
    assert np.array_equal(rows[test], np.sort(paper.test))
    assert np.array_equal(rows[train], np.sort(np.r_[paper.train, paper.val]))
    assert PaperSplit().get_n_splits() == 1


def test_splitter_in_scikit_learn_cross_validation(dataset):
    """A linear read-out cross-validated over order groups with scikit-learn alone: the splitter is a
    scikit-learn cross-validator (``check_cv`` accepts it, ``cross_val_score`` passes it the groups)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import check_cv, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from fmriemo.data.preprocess import window_features
    rows, X, y, groups = _labelled(dataset)
    cv = OrderGroupKFold(3)
    assert check_cv(cv) is cv
    scores = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
                             window_features(X), y, groups=groups, cv=cv)
    assert scores.shape == (3,) and scores.mean() > 0.4  # the surrogate's signal, read on new participants


@pytest.mark.parametrize("protocol,k", [("loso", 4), ("order", 4), ("groupkfold", 3), ("groupkfold", 4), ("kfold", 3)])
def test_fold_participants_of_a_protocols_splitter_are_its_folds(dataset, protocol, k):
    """A protocol's cross-validator reaches the fold-by-fold functions (time-resolved decoding, the search,
    the baselines, the ratings) as the test participants its own ``split`` holds out, fold by fold."""
    cv = protocol_cv(protocol, k)
    rows = np.flatnonzero(dataset.labelled_train)
    who = dataset.participant[rows]
    by_split = [sorted(set(who[test]), key=participant_key)
                for _, test in cv.split(rows, dataset.labels("class", rows), groups=who)]
    assert fold_participants(dataset, cv) == by_split == group_folds(dataset, protocol, k)


def test_fold_participants_takes_scikit_learns_group_splitters_and_lists(dataset):
    from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut
    every = training_participants(dataset)
    loo = fold_participants(dataset, LeaveOneGroupOut())
    assert loo == [[p] for p in every]
    folds = fold_participants(dataset, GroupKFold(3))
    assert len(folds) == 3 and sorted(p for f in folds for p in f) == sorted(every)
    given = [["P03", "P01"], ["P02"]]
    assert fold_participants(dataset, given) == given  # lists are taken as they are (their order names splits)
    with pytest.raises(ValueError, match="KFold splits participants' trials between training and test"):
        fold_participants(dataset, KFold(3))
    with pytest.raises(ValueError, match="more than one fold"):
        fold_participants(dataset, [["P01"], ["P01", "P02"]])


@pytest.mark.parametrize("protocol,k", [("loso", 4), ("order", 4), ("groupkfold", 3), ("kfold", 4)])
def test_checkpoint_participants_are_the_nested_splits(dataset, protocol, k):
    """Told every participant, the splitter finds a fit's checkpoint participants from its trials alone, as
    the chapters' nested split draws them from the fold's test participants."""
    everyone = training_participants(dataset)
    lab = np.flatnonzero(dataset.labelled_train)
    for seed in (0, 3):
        for test_p in group_folds(dataset, protocol, k):
            nested = nested_split(dataset, test_p, 2, seed)
            rows = lab[~np.isin(dataset.participant[lab], test_p)]  # what a fit of this fold is given
            who = dataset.participant[rows]
            (train, val), = CheckpointParticipants(everyone, 2, seed).split(dataset.X[rows], groups=who)
            assert np.array_equal(rows[val], nested.val) and np.array_equal(rows[train], nested.train)


def test_checkpoint_participants_need_groups_it_knows(dataset):
    cp = CheckpointParticipants(training_participants(dataset)[:-1], 2)
    rows = np.flatnonzero(dataset.labelled_train)
    with pytest.raises(ValueError, match="needs groups"):
        next(cp.split(dataset.X[rows]))
    with pytest.raises(ValueError, match=f"{training_participants(dataset)[-1]} are not among"):
        next(cp.split(dataset.X[rows], groups=dataset.participant[rows]))
    assert cp.get_n_splits() == 1
