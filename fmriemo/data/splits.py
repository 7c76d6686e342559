"""Every split the book uses, in one place: the paper's pooled-trial split, the challenge's
participant split (Phase I), and the held-out protocols' folds of participants with the nested
validation split inside each fold, and the trial-order structure that decides which participants
must be held out together. A :class:`Split` holds dataset row indices and an identity that is part
of every trained model's cache key.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from sklearn.model_selection import BaseCrossValidator, GroupKFold, train_test_split

from ..core.errors import DataError, ParameterError
from ..profiles import PROTOCOLS
from .dataset import Dataset, participant_key

__all__ = [
    "PAPER_SPLIT_SEED", "PHASE1_SPLITS", "paper_split", "Split", "make_paper_split", "participant_split",
    "training_participants", "class_orders", "identical_order_pairs", "order_groups", "groups_among",
    "inner_folds", "ParticipantCV", "LeaveOneParticipantOut", "LeaveOneOrderGroupOut", "OrderGroupKFold",
    "ParticipantKFold", "PaperSplit", "protocol_cv", "group_folds", "fold_participants", "nested_split",
    "CheckpointParticipants",
]

PAPER_SPLIT_SEED = 410
#: what a Phase I model trains on (:func:`fmriemo.challenge.phases.train_phase1`): the paper's split, the
#: training participants with checkpoints chosen on held-out ones (:func:`participant_split`), or each
#: model's own default ("auto": the paper's split for the paper's models)
PHASE1_SPLITS = ("auto", "paper", "participants")


def paper_split(y: np.ndarray, seed: int = PAPER_SPLIT_SEED):
    """The paper's "inner test" split of pooled trials: stratified 80/20, then the 20% halved (stratified)
    into validation and test.

    Parameters
    ----------
    y : numpy.ndarray
        The labels the split is stratified on.
    seed : int, default=410
        The split's seed (the authors' ``random_state``).

    Returns
    -------
    train, val, test : numpy.ndarray
        Positions into ``y``.
    """
    idx = np.arange(len(y))
    try:
        tr, rest = train_test_split(idx, test_size=0.2, random_state=seed, stratify=y)
        va, te = train_test_split(rest, test_size=0.5, random_state=seed, stratify=y[rest])
    except ValueError as exc:
        raise DataError(f"cannot make the paper's stratified split of {len(y)} trials: {exc}") from None
    return tr, va, te


@dataclass
class Split:
    """Dataset row indices of a train / validation / test split, with a name for caching.

    Parameters
    ----------
    name : str
        Names the split in the trained-model cache key; two splits with one name must be the same.
    train, val, test : numpy.ndarray
        Row indices of the training, checkpoint-selection and test trials.
    """

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def identity(self) -> dict:
        h = hashlib.sha256()
        for part in (self.train, self.val, self.test):
            h.update(np.asarray(part, np.int64).tobytes() + b"|")
        return {"name": self.name, "indices": h.hexdigest()[:16]}


def make_paper_split(ds: Dataset, task: str, seed: int = PAPER_SPLIT_SEED) -> Split:
    """The paper's split over the labelled trials of the training participants.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    task : {"class", "level"}
        The labels it is stratified on.
    seed : int, default=410
        The split's seed.

    Returns
    -------
    split : Split
    """
    pool = np.flatnonzero(ds.labelled_train)
    if len(pool) < 20:
        raise DataError(f"{ds.source}: only {len(pool)} labelled training trials; the paper split needs more")
    y = ds.labels(task, pool)
    tr, va, te = paper_split(y, seed)
    return Split(f"paper-{task}-{seed}", pool[tr], pool[va], pool[te])


def participant_split(ds: Dataset, n_val: int = 3, seed: int = 0) -> Split:
    """The challenge's Phase I split: the labelled training participants minus ``n_val`` of them for
    checkpoint selection; every trial of the Test participants to predict.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    n_val : int, default=3
        Training participants held out for checkpoint selection.
    seed : int, default=0
        Which ones.

    Returns
    -------
    split : Split
    """
    train_p = sorted(set(ds.participant[ds.split == "train"]), key=participant_key)
    if not 1 <= n_val < len(train_p):
        raise ParameterError("n_val", f"must be between 1 and {len(train_p) - 1}, got {n_val}")
    rng = np.random.default_rng(seed)
    val_p = set(rng.choice(train_p, n_val, replace=False).tolist())
    lab_train = ds.labelled_train
    is_val = np.isin(ds.participant, list(val_p))
    test = np.flatnonzero(ds.split == "test")
    if len(test) == 0:
        raise DataError(f"{ds.source}: no Test participants to predict")
    return Split(f"phase1-val{n_val}-{seed}", np.flatnonzero(lab_train & ~is_val),
                 np.flatnonzero(lab_train & is_val), test)


def training_participants(ds: Dataset) -> list[str]:
    """The training participants with labelled trials, in :func:`~fmriemo.data.dataset.participant_key` order.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.

    Returns
    -------
    participants : list of str
    """
    return sorted(set(ds.participant[ds.labelled_train]), key=participant_key)


def class_orders(ds: Dataset) -> dict[str, tuple]:
    """Each labelled training participant's sequence of CLASS labels in trial order.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.

    Returns
    -------
    orders : dict of str to tuple
    """
    lab = ds.labelled_train
    out = {}
    for p in ds.participants:
        m = lab & (ds.participant == p)
        if m.any():
            order = np.argsort(ds.trial[m], kind="stable")
            out[p] = tuple(ds.y_class[m][order].astype(int).tolist())
    return out


def identical_order_pairs(ds: Dataset) -> list[tuple[str, str]]:
    """Pairs of training participants whose class sequences are identical (order twins).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.

    Returns
    -------
    pairs : list of tuple of str
    """
    orders = class_orders(ds)
    return [(a, b) for a, b in combinations(orders, 2) if orders[a] == orders[b]]


def order_groups(ds: Dataset) -> dict[str, str]:
    """Each training participant's order group, named after the group's first participant.

    Participants whose CLASS sequences over their trials are identical share a group: under
    leave-one-participant-out, a model that could read a trial's position would find such a
    participant's labels in its twin's training trials.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.

    Returns
    -------
    groups : dict of str to str
    """
    orders = class_orders(ds)
    return groups_among(orders, orders)


def groups_among(orders: dict, participants) -> dict[str, str]:
    """Order groups among ``participants`` only: each distinct order is named after its first participant
    *in this set*, so that nothing outside it (an outer test participant's labels) changes them.

    Parameters
    ----------
    orders : dict
        Participant -> class order (:func:`class_orders`).
    participants : iterable of str

    Returns
    -------
    groups : dict of str to str
    """
    first: dict = {}
    return {p: first.setdefault(orders[p], p) for p in sorted(set(participants), key=participant_key)}


def inner_folds(orders: dict, participants, k: int) -> list[list[str]]:
    """Folds of whole order groups among ``participants``: the inner level of a nested protocol, over one
    outer fold's training participants.

    Parameters
    ----------
    orders : dict
        Participant -> class order (:func:`class_orders`).
    participants : iterable of str
    k : int
        At most this many folds (and at most one per group).

    Returns
    -------
    folds : list of list of str
        The participants tested in each inner fold.
    """
    ps = sorted(set(participants), key=participant_key)
    groups = groups_among(orders, ps)
    n = min(int(k), len(set(groups.values())))
    if n < 2:
        raise ValueError(f"inner folds need at least two order groups among {len(ps)} participant(s)")
    folds = GroupKFold(n_splits=n).split(ps, groups=[groups[p] for p in ps])
    return [[ps[i] for i in te] for _, te in folds]


class ParticipantCV(BaseCrossValidator):
    """Base of the held-out protocols as scikit-learn cross-validators: every fold tests whole
    participants (``groups``: the participant of each trial), so that ``cross_val_score(model, X, y,
    groups=participant, cv=OrderGroupKFold(3))`` holds out what the chapters hold out.

    The protocols that keep *order groups* together need each participant's sequence of classes in
    trial order. ``orders`` gives it (a mapping participant -> class sequence,
    :func:`class_orders`); without it the sequence is read from ``y`` in row order, which is the
    class sequence when ``y`` holds the classes and each participant's rows are in trial order (as
    the challenge loader returns them); for the level task pass ``orders`` (the classes, not the
    ratings, define the groups). Subclasses say which participants each fold tests
    (:meth:`participant_folds`).

    Parameters
    ----------
    orders : mapping of str to sequence, default=None
        Each participant's classes in trial order; None: read from ``y`` in row order.

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score
    >>> cv = OrderGroupKFold(3)
    >>> scores = cross_val_score(clf, X, y, groups=participant, cv=cv)  # doctest: +SKIP
    """

    #: whether the folds depend on the order groups (the class sequences)
    uses_orders = True

    def __init__(self, orders=None):
        self.orders = orders

    def participant_folds(self, participants: list[str], orders: dict | None) -> list[list[str]]:
        """The test participants of each fold (``participants`` sorted by participant number)."""
        raise NotImplementedError

    def _participants(self, y, groups):
        if groups is None:
            raise ValueError(f"{type(self).__name__} needs groups: the participant of each trial")
        groups = np.asarray([str(g) for g in np.asarray(groups).ravel()])
        return groups, sorted(set(groups.tolist()), key=participant_key)

    def _orders(self, y, groups, participants) -> dict:
        if self.orders is not None:
            missing = [p for p in participants if p not in self.orders]
            if missing:
                raise ValueError(f"orders has no class sequence for participant(s) {', '.join(missing[:5])}")
            return {p: tuple(self.orders[p]) for p in participants}
        if y is None:
            raise ValueError(f"{type(self).__name__} needs y (each trial's class) or orders to find the order groups")
        y = np.asarray(y).ravel()
        return {p: tuple(y[groups == p].tolist()) for p in participants}

    def _folds(self, y, groups):
        groups, participants = self._participants(y, groups)
        orders = self._orders(y, groups, participants) if self.uses_orders else None
        return groups, self.participant_folds(participants, orders)

    def _iter_test_indices(self, X=None, y=None, groups=None):
        groups, folds = self._folds(y, groups)
        for fold in folds:
            yield np.flatnonzero(np.isin(groups, fold))

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of folds (for the protocols whose count depends on the data, ``groups`` and ``y``
        or ``orders`` must be given)."""
        return len(self._folds(y, groups)[1])


class LeaveOneParticipantOut(ParticipantCV):
    """One participant per fold, in participant order ("loso"). Unlike :class:`LeaveOneOrderGroupOut`, a
    participant's order twin stays in training while it is tested."""

    uses_orders = False

    def __init__(self):
        super().__init__(None)

    def participant_folds(self, participants, orders):
        return [[p] for p in participants]


class LeaveOneOrderGroupOut(ParticipantCV):
    """One *order group* per fold ("order"): participants who saw the classes in the same order are
    tested together, so that no model can find a tested participant's labels by position in a twin's
    training trials. Groups are named and ordered by their first participant (:func:`groups_among`).

    Parameters
    ----------
    orders : mapping of str to sequence, default=None
        Each participant's classes in trial order (:func:`class_orders`); None: read from ``y``.
    """

    def participant_folds(self, participants, orders):
        groups = groups_among(orders, participants)
        return [[p for p in participants if groups[p] == g] for g in dict.fromkeys(groups[p] for p in participants)]


class OrderGroupKFold(ParticipantCV):
    """``n_splits`` folds of whole order groups ("groupkfold", the chapters' protocol): participants
    shuffled with ``random_state``, then scikit-learn's ``GroupKFold`` over their order groups.

    Parameters
    ----------
    n_splits : int, default=3
        Folds; between 2 and the number of order groups.
    orders : mapping of str to sequence, default=None
        Each participant's classes in trial order (:func:`class_orders`); None: read from ``y``.
    random_state : int, default=0
        Seed of the shuffle of participants before the groups are dealt into folds.
    """

    def __init__(self, n_splits: int = 3, orders=None, random_state: int = 0):
        super().__init__(orders)
        self.n_splits, self.random_state = n_splits, random_state

    def participant_folds(self, participants, orders):
        groups = groups_among(orders, participants)
        n_groups = len(set(groups.values()))
        if not 2 <= self.n_splits <= n_groups:
            raise ParameterError("k", f"must be between 2 and {n_groups} (the number of order groups), "
                                      f"got {self.n_splits}")
        order = np.random.default_rng(self.random_state).permutation(participants)
        folds = GroupKFold(n_splits=self.n_splits).split(order, groups=[groups[p] for p in order])
        return [sorted(order[te].tolist(), key=participant_key) for _, te in folds]

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits


class ParticipantKFold(ParticipantCV):
    """``n_splits`` folds of participants that ignore the order groups ("kfold"): a twin may train while
    its twin is tested. Only for measuring whether keeping the groups together matters.

    Parameters
    ----------
    n_splits : int, default=3
        Folds; between 2 and the number of participants.
    random_state : int, default=0
        Seed of the shuffle of participants before they are dealt into folds.
    """

    uses_orders = False

    def __init__(self, n_splits: int = 3, random_state: int = 0):
        super().__init__(None)
        self.n_splits, self.random_state = n_splits, random_state

    def participant_folds(self, participants, orders):
        if not 2 <= self.n_splits <= len(participants):
            raise ParameterError("k", f"must be between 2 and {len(participants)} (the number of participants), "
                                      f"got {self.n_splits}")
        order = np.random.default_rng(self.random_state).permutation(participants)
        return [sorted(f.tolist(), key=participant_key) for f in np.array_split(order, self.n_splits)]

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits


class PaperSplit(BaseCrossValidator):
    """The paper's split of pooled trials as a one-fold cross-validator: a stratified 20% is set aside and
    halved into validation and test (:func:`paper_split`); ``split`` yields the training and validation
    trials together as the fold's training set (the estimator chooses its own checkpoint trials among them)
    and the test trials as its test set. Participants are ignored: every participant is in both sides.

    Parameters
    ----------
    random_state : int, default=410
        The split's seed (the authors' ``random_state``).
    """

    def __init__(self, random_state: int = PAPER_SPLIT_SEED):
        self.random_state = random_state

    def _iter_test_indices(self, X=None, y=None, groups=None):
        if y is None:
            raise ValueError("PaperSplit needs y: the split is stratified by class")
        yield np.sort(paper_split(np.asarray(y).ravel(), self.random_state)[2])

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return 1


def protocol_cv(protocol: str = "groupkfold", k: int = 3, seed: int = 0, orders=None) -> ParticipantCV:
    """The cross-validator of a held-out protocol by name.

    Parameters
    ----------
    protocol : {"loso", "order", "groupkfold", "kfold"}, default="groupkfold"
        One of :data:`fmriemo.profiles.PROTOCOLS`.
    k : int, default=3
        Folds of "groupkfold" and "kfold".
    seed : int, default=0
        Their shuffle of participants.
    orders : mapping of str to sequence, default=None
        Each participant's classes in trial order, for the protocols that keep order groups together.

    Returns
    -------
    cv : ParticipantCV
    """
    if protocol == "loso":
        return LeaveOneParticipantOut()
    if protocol == "order":
        return LeaveOneOrderGroupOut(orders)
    if protocol == "groupkfold":
        return OrderGroupKFold(k, orders, seed)
    if protocol == "kfold":
        return ParticipantKFold(k, seed)
    raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")


def group_folds(ds: Dataset, protocol: str = "loso", k: int = 4, seed: int = 0) -> list[list[str]]:
    """Test participants of each outer fold of a held-out protocol, over the labelled trials of the
    training participants (:func:`protocol_cv`).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    protocol : {"loso", "order", "groupkfold", "kfold"}, default="loso"
        One participant per fold, one order group per fold, ``k`` folds of whole order groups, or ``k``
        folds of participants that ignore the order groups (a twin may train while its twin is tested;
        only for checking whether that matters).
    k : int, default=4
        Folds of "groupkfold" and "kfold".
    seed : int, default=0
        Their shuffle of participants.

    Returns
    -------
    folds : list of list of str
    """
    return fold_participants(ds, protocol_cv(protocol, k, seed))


def fold_participants(ds: Dataset, cv) -> list[list[str]]:
    """The test participants of each fold of a cross-validator over the labelled trials of the training
    participants: how a splitter reaches the functions that work fold by fold.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    cv : cross-validator or list of list of str
        One of the book's protocols (:class:`ParticipantCV`; without ``orders``, the order groups come
        from :func:`class_orders`), any scikit-learn splitter that takes ``groups`` and keeps each
        participant's trials on one side (``GroupKFold``, ``LeaveOneGroupOut``, ...), or the test
        participants of each fold already.

    Returns
    -------
    folds : list of list of str
        Each fold's test participants (in participant order, except for lists given, kept as they are).

    Raises
    ------
    ValueError
        When a fold of ``cv`` tests some of a participant's trials and trains on others, or tests a
        participant twice.

    Examples
    --------
    >>> fold_participants(ds, OrderGroupKFold(3)) == group_folds(ds, "groupkfold", 3)  # doctest: +SKIP
    True
    """
    if isinstance(cv, ParticipantCV):
        return cv.participant_folds(training_participants(ds), cv.orders or class_orders(ds))
    if not hasattr(cv, "split"):
        folds = [[str(p) for p in f] for f in cv]
    else:
        rows = np.flatnonzero(ds.labelled_train)
        who = ds.participant[rows]
        folds = []
        for train, test in cv.split(np.zeros((len(rows), 1)), ds.labels("class", rows), groups=who):
            tested = set(who[test].tolist())
            if tested & set(who[train].tolist()):
                raise ValueError(f"{type(cv).__name__} splits participants' trials between training and test "
                                 f"({', '.join(sorted(tested & set(who[train].tolist()))[:3])}); pass a splitter "
                                 "that holds out whole participants (groups=participant)")
            folds.append(sorted(tested, key=participant_key))
    seen = [p for f in folds for p in f]
    if len(seen) != len(set(seen)):
        raise ValueError("a participant is tested in more than one fold")
    return folds


def nested_split(ds: Dataset, test_participants, n_val: int = 2, seed: int = 0) -> Split:
    """One outer fold of a held-out protocol with its own checkpoint-selection participants.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    test_participants : list of str
        The outer fold: their labelled trials are the test part.
    n_val : int, default=2
        Other training participants whose trials select the checkpoint, chosen with ``seed`` and the
        fold's test participants.
    seed : int, default=0
        See ``n_val``.

    Returns
    -------
    split : Split
        Train: the remaining labelled training trials.
    """
    lab = ds.labelled_train
    rest = [p for p in training_participants(ds) if p not in set(test_participants)]
    val = _checkpoint_draw(rest, test_participants, n_val, seed)
    is_test = np.isin(ds.participant, list(test_participants))
    is_val = np.isin(ds.participant, val)
    name = f"nested-{'+'.join(test_participants)}-val{'+'.join(sorted(val))}"
    return Split(name, np.flatnonzero(lab & ~is_test & ~is_val), np.flatnonzero(lab & is_val),
                 np.flatnonzero(lab & is_test))


def _checkpoint_draw(rest: list, test_participants, n_val: int, seed: int) -> list:
    """The ``n_val`` checkpoint participants among ``rest`` (an outer fold's training participants, in
    participant order), drawn with ``seed`` and the fold's test participants: the draw of
    :func:`nested_split` and :class:`CheckpointParticipants`."""
    if not 1 <= n_val < len(rest):
        raise ParameterError("n_val", f"must be between 1 and {len(rest) - 1}, got {n_val}")
    fold_seed = int(hashlib.sha256(("|".join(test_participants) + f"|{seed}").encode()).hexdigest()[:8], 16)
    return np.random.default_rng(fold_seed).choice(rest, n_val, replace=False).tolist()


class CheckpointParticipants(BaseCrossValidator):
    """The chapters' choice of checkpoint participants, as a splitter of one fit's own trials.

    Inside an outer fold of a held-out protocol, the chapters keep ``n_val`` of the fold's training
    participants apart to choose the checkpoint, drawn with the seed and the fold's test participants
    (:func:`nested_split`). An estimator fitted by ``cross_val_predict`` sees only its training trials, so
    this splitter is told every participant of the protocol and takes the fold's test participants to be
    those absent from the fit's ``groups``. Given to
    :class:`fmriemo.training.estimator.DeepClassifier` as ``validation`` (with the same seed as
    ``random_state``, and ``groups`` passed to ``fit``), it makes ``cross_val_predict`` train the
    chapters' fold runs bit for bit.

    Parameters
    ----------
    participants : sequence of str
        Every participant the outer folds are drawn from (:func:`training_participants`).
    n_val : int, default=2
        Checkpoint participants per fit.
    seed : int, default=0
        The draw's seed (the chapters use the training seed).

    Examples
    --------
    >>> validation = CheckpointParticipants(training_participants(ds), n_val=2, seed=0)  # doctest: +SKIP
    >>> model = DeepClassifier("asb", random_state=0, validation=validation)  # doctest: +SKIP
    >>> cross_val_predict(model, X, y, groups=who, cv=OrderGroupKFold(3), params={"groups": who})  # doctest: +SKIP
    """

    def __init__(self, participants, n_val: int = 2, seed: int = 0):
        self.participants = participants
        self.n_val = n_val
        self.seed = seed

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """One split.

        Parameters
        ----------
        X, y, groups : object
            Ignored.

        Returns
        -------
        n_splits : int
        """
        return 1

    def _iter_test_masks(self, X=None, y=None, groups=None):
        if groups is None:
            raise ValueError("CheckpointParticipants needs groups (each trial's participant); pass groups to fit, "
                             "e.g. cross_val_predict(..., params={'groups': groups})")
        groups = np.asarray(groups).astype(str)
        present = set(groups.tolist())
        everyone = sorted({str(p) for p in self.participants}, key=participant_key)
        unknown = sorted(present - set(everyone), key=participant_key)
        if unknown:
            raise ValueError(f"participants {', '.join(unknown[:5])} are not among the participants given")
        test = [p for p in everyone if p not in present]  # the outer fold's test participants, in order
        rest = [p for p in everyone if p in present]
        yield np.isin(groups, _checkpoint_draw(rest, test, self.n_val, self.seed))
