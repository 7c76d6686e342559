"""Every split the book uses: the paper's pooled-trial split, Phase I's participant split, the held-out
protocols' folds (order groups together, or deliberately not) and the nested validation inside them."""
import numpy as np
import pytest

from fmriemo.core.errors import DataError
from fmriemo.data.splits import (PHASE1_SPLITS, class_orders, group_folds, groups_among, identical_order_pairs,
                                 inner_folds, make_paper_split, nested_split, order_groups, paper_split,
                                 participant_split, training_participants)


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
