"""The package's models as scikit-learn classifiers: :class:`DeepClassifier` trains any registered model
(``"asb"``, ``"vanilla"``, ``"ebr"``, ``"compact"``) or a module the user writes with the paper's recipe,
and fits wherever a scikit-learn classifier does (``cross_val_score``, ``permutation_test_score``,
``Pipeline``, MNE's ``cross_val_multiscore``)::

    from sklearn.model_selection import cross_val_score
    from fmriemo.data.splits import OrderGroupKFold
    from fmriemo.training.estimator import DeepClassifier

    scores = cross_val_score(DeepClassifier("asb"), X, y, groups=participant, cv=OrderGroupKFold(3))

``X`` is trials x regions x seconds (the challenge's [n, 246, 25]; a 2-D array is read as one second
per feature). The training is the book's own: :func:`fmriemo.training.loop.fit` (Ranger, the L2 penalty,
the checkpoint with the best validation value, the profile's epoch budget and early stopping) on one
intra-op thread on the CPU, so that a fit on the same training and validation trials with the same seed
gives the numbers of the chapters' run bit for bit (a test checks it); with ``cache_dir`` it is stored
in, and read from, the package's content-addressed store like every trained model.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import numbers
import warnings
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..core.store import StoreWriteError, cache_root, read_entry, write_entry
from ..data import atlas, preprocess
from ..data.dataset import N_SECONDS, TASKS
from ..models import registry
from ..profiles import PROFILES
from .config import TrainConfig, budget_row, resolve_device
from .loop import fit as fit_loop
from .loop import plateau_exit, predict, still_improving
from .runs import RUN_THREADS, NotCached, _model_files, code_version, intra_op_threads

__all__ = ["VALIDATION_SHARE", "VALIDATION_GROUPS", "DeepClassifier"]

#: the share of trials a fit without groups holds out to choose its checkpoint: the paper's 10% of all
#: trials is one ninth of the 90% that its training and validation sets make together
VALIDATION_SHARE = 1 / 9
#: the number of participants (``groups``) a fit with groups holds out to choose its checkpoint, as the
#: chapters' nested split does
VALIDATION_GROUPS = 2


class _Recipe(NamedTuple):
    name: str
    build: Callable
    lr: float | None
    preprocess: str
    budget_row: str
    source: str | None
    input_regions: int | None


class DeepClassifier(ClassifierMixin, BaseEstimator):
    """A registered model, or a PyTorch module of your own, trained with the paper's recipe as a
    scikit-learn classifier.

    Parameters
    ----------
    module : str or callable, default="asb"
        A registered model's name (:func:`fmriemo.models.registry.names`), or a callable
        ``module(n_outputs)`` returning a fresh ``torch.nn.Module`` that maps [batch, regions, seconds]
        to logits (a class of your own). A module may define ``input_gates(x)`` (see
        :meth:`input_gates`) and ``penalised_weights()`` (the weights the L2 penalty applies to; default
        every weight matrix and kernel).
    task : {"class", "level"}, default="class"
        Which of the paper's two recipes: the learning rate (1e-3 or 1e-4, or the registered model's
        own), the checkpoint rule (best validation accuracy, or lowest validation loss) and the budget
        row of ``profile``. The labels themselves may be any classes.
    profile : {"quick", "full", "paper"} or None, default="full"
        The budget row of :data:`fmriemo.profiles.PROFILES` the model trains with (the row its
        registration names; ``task``'s row for a module of your own). None: the authors' recipe, 10,000
        epochs without early stopping, unless the arguments below say otherwise.
    max_epochs, min_epochs, patience, after_exit : int or None, default=None
        Replace the budget row's epoch cap, the epoch from which early stopping is armed, its
        patience, and how many epochs after the run's own plateau exit it may arm sooner
        (:class:`fmriemo.training.loop.EarlyStopping`). None keeps the profile's value; ``max_epochs``
        also caps the others, as the chapters' ``epochs`` parameter does.
    monitor : {"val_acc", "val_loss"} or None, default=None
        The validation value the kept checkpoint is best at. None: the task's (and the registered
        model's) rule.
    lr : float or None, default=None
        Ranger's learning rate. None: the registered model's for ``task``, else the paper's.
    batch_size : int, default=128
    l2 : float, default=0.01
        Coefficient of the L2 penalty on the penalised weights.
    preprocess : {"minmax", "pct", "none"} or None, default=None
        Per-trial input scaling (:mod:`fmriemo.data.preprocess`; "none" for inputs scaled already, e.g.
        by an earlier step of a pipeline). None: the registered model's (the paper's per-trial min-max for
        the paper's models).
    validation : None, float, int or cross-validator, default=None
        How the trials that choose the checkpoint are taken from those given to :meth:`fit`. None:
        :data:`VALIDATION_GROUPS` whole participants when ``groups`` are passed, else a stratified
        :data:`VALIDATION_SHARE` of the trials. A float in (0, 1): that share of the groups (with
        ``groups``) or of the trials. An int: that many groups. A cross-validator (anything with
        ``split(X, y, groups)``): the test rows of its first split, e.g. scikit-learn's
        ``PredefinedSplit`` to name them.
    device : str, default="auto"
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
    random_state : int or None, default=0
        The training seed (initialisation and shuffling) and the draw of the validation trials.
        None draws one.
    cache_dir : str, path or None, default=None
        Keep the trained model in this folder's store (the package's cache; ``""`` for its default
        place, :func:`fmriemo.core.store.cache_root`) and read it from there when the same model is fitted
        on the same trials again. None: always train.
    progress : bool, default=False
        Show an epoch bar.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels seen in :meth:`fit`.
    n_features_in_ : int
        Regions per trial seen in :meth:`fit`.
    module_ : torch.nn.Module
        The kept checkpoint, in eval mode, on the CPU.
    config_ : fmriemo.training.config.TrainConfig
        The recipe the model was trained with.
    history_ : dict
        Per-epoch training and validation loss and accuracy.
    best_epoch_, epochs_run_ : int
        The kept epoch and the number of epochs run.
    validation_index_ : ndarray
        Row indices (into the ``X`` given to :meth:`fit`) of the validation trials.
    cached_ : bool
        True when the model was read from ``cache_dir`` instead of trained.

    See Also
    --------
    fmriemo.data.splits.OrderGroupKFold : the chapters' held-out protocol as a cross-validator.

    Notes
    -----
    With the paper's recipe the validation accuracy stays at its starting level for hundreds of epochs
    before it rises (:func:`fmriemo.training.loop.plateau_exit`); a model fitted with a short budget
    may be no better than chance. :attr:`on_plateau` and :attr:`still_improving` say whether a fitted
    model had left that plateau, and whether the epoch cap cut it off while it improved.

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score
    >>> from fmriemo.data.splits import OrderGroupKFold
    >>> clf = DeepClassifier("compact", profile="quick", max_epochs=5)
    >>> scores = cross_val_score(clf, X, y, groups=participant, cv=OrderGroupKFold(3))  # doctest: +SKIP
    """

    def __init__(self, module="asb", *, task="class", profile="full", max_epochs=None, min_epochs=None,
                 patience=None, after_exit=None, monitor=None, lr=None, batch_size=128, l2=0.01, preprocess=None,
                 validation=None, device="auto", random_state=0, cache_dir=None, progress=False):
        self.module = module
        self.task = task
        self.profile = profile
        self.max_epochs = max_epochs
        self.min_epochs = min_epochs
        self.patience = patience
        self.after_exit = after_exit
        self.monitor = monitor
        self.lr = lr
        self.batch_size = batch_size
        self.l2 = l2
        self.preprocess = preprocess
        self.validation = validation
        self.device = device
        self.random_state = random_state
        self.cache_dir = cache_dir
        self.progress = progress

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        # the recipe sits on a plateau for hundreds of epochs before it learns: a short budget may score
        # at chance on data that a linear model separates (see Notes)
        tags.classifier_tags.poor_score = True
        return tags

    # -- the recipe -------------------------------------------------------------------------------------
    def _builder(self) -> _Recipe:
        """What the module is: its name, builder, registered defaults and source (for the cache key)."""
        if self.task not in TASKS:
            raise ValueError(f"task must be 'class' or 'level', got {self.task!r}")
        if isinstance(self.module, str):
            spec = registry.spec(self.module)
            source = "".join(f.read_text() for f in _model_files(spec.name))  # outside the package: its file
            return _Recipe(spec.name, spec.build, spec.lr.get(self.task), spec.preprocess, spec.budget[self.task],
                           source, spec.input_regions)
        if callable(self.module):
            name = f"{getattr(self.module, '__module__', '')}.{getattr(self.module, '__qualname__', repr(self.module))}"
            try:
                source = inspect.getsource(self.module)
            except (OSError, TypeError):
                source = None  # no source to key a cache entry with (checked in _key)
            return _Recipe(name, self.module, None, "minmax", self.task, source, None)
        raise TypeError(f"module must be a registered model's name or a callable returning a torch module, "
                        f"got {type(self.module).__name__}")

    def _config(self, name, lr, prep, row_name, seed) -> TrainConfig:
        if self.profile is None:
            row = {"epochs": 10000, "min_epochs": 0, "patience": None}
        else:
            if self.profile not in PROFILES:
                raise ValueError(f"profile must be one of {', '.join(PROFILES)} or None, got {self.profile!r}")
            row = budget_row(self.profile, row_name)
        if self.max_epochs is not None:  # the profile's row capped as config_for caps it
            row = budget_row(self.profile, row_name, self.max_epochs) if self.profile is not None else \
                {**row, "epochs": int(self.max_epochs)}
        for k, v in (("min_epochs", self.min_epochs), ("patience", self.patience), ("after_exit", self.after_exit),
                     ("monitor", self.monitor)):
            if v is not None:
                row[k] = v
        return TrainConfig(method=name, task=self.task, seed=seed, device=self.device,
                           preprocess=self.preprocess or prep, lr=self.lr if self.lr is not None else lr,
                           batch_size=int(self.batch_size), l2=float(self.l2), **row)

    # -- data -------------------------------------------------------------------------------------------
    def _trials(self, X, y=None, reset: bool = False):
        """X checked as scikit-learn checks it (finite numbers, at least 2 trials to fit, the fitted number of
        regions) as float32 [trials, regions, seconds]; with ``y``, ``(X, y)``."""
        if reset:
            if y is None:
                raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
            X, y = validate_data(self, X, y, allow_nd=True, dtype=np.float32, ensure_min_samples=2)
        else:
            X = validate_data(self, X, reset=False, allow_nd=True, dtype=np.float32)
        if X.ndim == 2:
            X = X[:, :, None]
        if X.ndim != 3:
            raise ValueError(f"X must be trials x regions x seconds (or trials x features), got shape {X.shape}")
        if not reset and X.shape[2] != self.n_seconds_:
            raise ValueError(f"X has {X.shape[2]} seconds per trial, but {type(self).__name__} was fitted with "
                             f"{self.n_seconds_}")
        return (X, y) if reset else X

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        if self.config_.preprocess == "zscore":
            raise ValueError("preprocess 'zscore' needs each trial's participant; DeepClassifier takes 'minmax', "
                             "'pct' or 'none'")
        return preprocess.apply(self.config_.preprocess, X)

    def _validation_rows(self, X, y, groups, seed: int):
        n = len(y)
        v = self.validation
        rows = np.arange(n)
        if hasattr(v, "split") and not isinstance(v, str):
            train, val = next(iter(v.split(X, y, groups)))
        elif groups is not None and (v is None or isinstance(v, numbers.Number)):
            groups = np.asarray(groups)
            size = VALIDATION_GROUPS if v is None else v
            if isinstance(size, numbers.Integral) and len(np.unique(groups)) <= size:
                raise ValueError(f"validation: {size} groups held out for the checkpoint need more than "
                                 f"{len(np.unique(groups))} groups in the training data")
            train, val = next(GroupShuffleSplit(1, test_size=size, random_state=seed).split(X, y, groups))
        elif v is None or (isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral)):
            share = VALIDATION_SHARE if v is None else float(v)
            if not 0 < share < 1:
                raise ValueError(f"validation as a share must be between 0 and 1, got {share}")
            try:
                train, val = train_test_split(rows, test_size=share, random_state=seed, stratify=y)
            except ValueError:  # a class too small to stratify: an unstratified draw
                train, val = train_test_split(rows, test_size=share, random_state=seed)
        else:
            raise ValueError(f"validation must be None, a share in (0, 1), a number of groups (with groups) or a "
                             f"cross-validator, got {v!r}")
        train, val = np.sort(np.asarray(train, int)), np.sort(np.asarray(val, int))
        if len(train) < 2 or len(val) < 1:
            raise ValueError(f"validation left {len(train)} training and {len(val)} validation trial(s); "
                             "a fit needs at least 2 and 1")
        return train, val

    # -- the cache --------------------------------------------------------------------------------------
    def _key(self, X, y_idx, train, val, cfg: TrainConfig, source) -> str:
        if source is None:
            raise ValueError(f"cache_dir is set but the source of {cfg.method} cannot be read to key its cache "
                             "entry; define the module in a file or a notebook cell, or set cache_dir=None")
        dev = resolve_device(cfg.device)
        h = hashlib.sha256()
        for a in (X, y_idx, train, val):
            h.update(np.ascontiguousarray(a).tobytes() + str(a.shape).encode() + b"|")
        ident = {"data": h.hexdigest(), "classes": len(self.classes_), "config": cfg.identity(),
                 "code": code_version(), "module": hashlib.sha256(source.encode()).hexdigest(),
                 "numerics": {"device": "cpu", "threads": RUN_THREADS} if dev.type == "cpu"
                 else {"device": dev.type, "form": "single"}}
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:24]

    # -- scikit-learn's API -----------------------------------------------------------------------------
    def fit(self, X, y, groups=None):
        """Train on the trials ``X`` with labels ``y``; ``groups`` (the participant of each trial), when
        given, keep whole participants out of training for the checkpoint's validation.

        Parameters
        ----------
        X : array-like of shape (n_trials, n_regions, n_seconds) or (n_trials, n_features)
        y : array-like of shape (n_trials,)
        groups : array-like of shape (n_trials,), default=None

        Returns
        -------
        self : DeepClassifier
        """
        recipe = self._builder()
        name, build, source = recipe.name, recipe.build, recipe.source
        X, y = self._trials(X, y, reset=True)
        check_classification_targets(y)
        enc = LabelEncoder().fit(y)
        self.classes_ = enc.classes_
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes in y; got 1 class")
        y_idx = enc.transform(y).astype(np.int64)
        seed = (int(self.random_state) if self.random_state is not None
                else int(np.random.default_rng().integers(2**31 - 1)))
        cfg = self._config(name, recipe.lr, recipe.preprocess, recipe.budget_row, seed)
        self.config_, self.n_seconds_ = cfg, X.shape[2]
        train, val = self._validation_rows(X, y_idx, groups, seed)
        if recipe.input_regions is not None and X.shape[1] != recipe.input_regions:
            raise ValueError(f"{name} needs trials of {recipe.input_regions} regions (it reads some of them by "
                             f"index), got {X.shape[1]}")
        Xs = self._scaled(X)
        shape = {} if Xs.shape[1:] == (atlas.N_REGIONS, N_SECONDS) else {"n_regions": Xs.shape[1],
                                                                        "n_time": Xs.shape[2]}
        folder = None
        if self.cache_dir is not None:
            folder = cache_root(self.cache_dir or None) / "estimators" / self._key(X, y_idx, train, val, cfg, source)
            stored = read_entry(folder, lambda f: (json.loads((f / "fit.json").read_text()),
                                                   torch.load(f / "model.pt", weights_only=True)),
                                what="trained model", again="training it again")
            if stored is not None:
                record, state = stored
                model = self._new_module(build, shape, Xs)
                model.load_state_dict(state)
                return self._fitted(model, record["history"], record["best_epoch"], val, cached=True)
        dev = resolve_device(cfg.device)
        with intra_op_threads(RUN_THREADS) if dev.type == "cpu" else nullcontext():
            torch.manual_seed(cfg.seed)
            model = self._new_module(build, shape, Xs)
            state, hist, best_epoch = fit_loop(model, Xs[train], y_idx[train], Xs[val], y_idx[val], cfg,
                                               progress=self.progress, desc=f"{name}/{cfg.task} seed {cfg.seed}")
        model.load_state_dict(state)
        if folder is not None:
            def fill(tmp: Path) -> None:
                torch.save({k: v.cpu() for k, v in state.items()}, tmp / "model.pt")
                (tmp / "fit.json").write_text(json.dumps({"history": hist, "best_epoch": best_epoch}))
            try:
                write_entry(folder, fill)
            except StoreWriteError as exc:
                warnings.warn(NotCached(f"{exc}; the fitted model is used but not kept in the cache"), stacklevel=2)
        return self._fitted(model, hist, best_epoch, val, cached=False)

    def _new_module(self, build, shape, Xs):
        model = build(len(self.classes_), **shape)
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"module must return a torch.nn.Module, got {type(model).__name__}")
        try:  # one trial through the fresh model in eval mode (no statistic or generator moves): a shape
            with torch.no_grad():  # error is named here, before any training
                out = model.eval()(torch.as_tensor(Xs[:1]))
        except (RuntimeError, IndexError, ValueError) as exc:
            raise ValueError(f"{self.config_.method} cannot take trials of {Xs.shape[1]} regions x {Xs.shape[2]} "
                             f"seconds: {exc}") from None
        if tuple(out.shape) != (1, len(self.classes_)):
            raise ValueError(f"{self.config_.method} maps a trial to {tuple(out.shape)[1:]} outputs; "
                             f"expected one logit per class ({len(self.classes_)})")
        return model

    def _fitted(self, model, hist, best_epoch, val, cached: bool):
        self.module_ = model.cpu().eval()
        self.history_, self.best_epoch_ = hist, int(best_epoch)
        self.epochs_run_ = len(hist["epoch"])
        self.validation_index_, self.cached_ = val, cached
        return self

    def predict_proba(self, X):
        """Class probabilities, columns in the order of :attr:`classes_`.

        Parameters
        ----------
        X : array-like of shape (n_trials, n_regions, n_seconds) or (n_trials, n_features)

        Returns
        -------
        proba : ndarray of shape (n_trials, n_classes)
        """
        return self._forward(X)[0]

    def predict(self, X):
        """The most probable class of each trial.

        Parameters
        ----------
        X : array-like of shape (n_trials, n_regions, n_seconds) or (n_trials, n_features)

        Returns
        -------
        y : ndarray of shape (n_trials,)
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(1)]

    def input_gates(self, X):
        """The model's weight of each input region for each trial (ASB's input SE block: what the paper
        draws on the brain).

        Parameters
        ----------
        X : array-like of shape (n_trials, n_regions, n_seconds)

        Returns
        -------
        gates : ndarray of shape (n_trials, n_regions)

        Raises
        ------
        AttributeError
            When the model has no input gates (every model but ASB among the registered ones).
        """
        gates = self._forward(X)[1]
        if gates is None:
            raise AttributeError(f"{self.config_.method} has no input gates (only a model that defines "
                                 "input_gates(x), such as ASB, has)")
        return gates

    def _forward(self, X):
        check_is_fitted(self)
        Xs = self._scaled(self._trials(X))
        dev = resolve_device(self.device)
        with intra_op_threads(RUN_THREADS) if dev.type == "cpu" else nullcontext():
            proba, gates = predict(self.module_.to(dev), Xs, device=dev)
        self.module_.cpu()
        return proba.astype(np.float64), gates

    # -- what the book checks of every model ------------------------------------------------------------
    @property
    def plateau_exit(self) -> int | None:
        """The epoch the validation accuracy left its starting level (:func:`fmriemo.training.loop.plateau_exit`)."""
        return plateau_exit(self.history_)

    @property
    def on_plateau(self) -> bool:
        """True when the kept checkpoint precedes the plateau exit (or the run never left the plateau): the
        model had not learned anything that generalises to its validation trials."""
        exit_ = self.plateau_exit
        return exit_ is None or self.best_epoch_ < exit_

    @property
    def still_improving(self) -> bool:
        """True when the epoch cap, not the stopping rule, ended the run while it improved."""
        return still_improving(self.best_epoch_, self.epochs_run_, self.config_.epochs, self.config_.patience)
