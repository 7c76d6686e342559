"""The book's profiles in one table: what ``quick`` (CI, Binder), ``full`` (the published
book) and ``paper`` (the authors' 10,000 epochs) mean for every chapter, the CLI and the
README (its profile table is rendered from here and a test keeps the two equal).

Per profile:

``budget``
    epoch budget per kind of model: at most ``epochs``, early stopping armed only after
    ``min_epochs``, then ``patience`` epochs without improvement (``None``: no early stopping);
    ``monitor``, where given, replaces the task's checkpoint rule (the paper's: validation accuracy
    for the class task, validation loss for the level task).
    The full profile's rule for the paper models was chosen from learning curves of the three
    paper models over three seeds and 3,000 epochs (``benchmarks/budget.py``; README): their
    validation accuracy sits at its starting level for hundreds of epochs before it rises, and
    the level task (learning rate 10x lower) keeps improving its validation loss to the end.
    This book's Compact model has no such plateau on the class task and keeps its own budget
    (``compact``); its level model has a short one (~60 epochs) and gets ``compact_level``.
``seeds``
    training seeds on the paper's split (chapters 3 and 4), per task; every comparison of trained models
    resamples them as a random factor.
``heldout``
    the held-out chapters' protocol, seeds and folds (chapters 5-9 share them, and so share
    trained models).
``phase1``
    the Phase I models' checkpoint rule when they train on participants (chapter 5, ``fmriemo
    submit``): ``n_val`` training participants held out for checkpoint selection.
``ig_steps``
    integrated-gradients steps in chapter 8.
``permutations``
    sign-flip permutations of the cluster test over time in chapter 7's time-resolved decoding.

The held-out protocols (``PROTOCOLS``) are named here too, so that the profile table, the splits
and the command line's choices are one vocabulary.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

__all__ = ["PROTOCOLS", "PROFILES", "check_profile", "profile_row", "profile_table", "Settings"]

#: "loso": leave one participant out; "order": leave one *order group* out (participants who saw
#: the classes in the same order are held out together); "groupkfold": k folds of participants,
#: order groups kept together; "kfold": k folds that ignore order groups (to check that they matter).
PROTOCOLS = ("loso", "order", "groupkfold", "kfold")

PROFILES = {
    "quick": {
        "budget": {"class": {"epochs": 25, "min_epochs": 0, "patience": 10},
                   "level": {"epochs": 25, "min_epochs": 0, "patience": 10},
                   "compact": {"epochs": 25, "min_epochs": 0, "patience": 10},
                   "compact_level": {"epochs": 25, "min_epochs": 0, "patience": 10, "monitor": "val_acc"}},
        # two seeds everywhere, so that the comparisons and the verdict's seed rules run in CI
        "seeds": {"class": 2, "level": 2},
        "heldout": {"protocol": "groupkfold", "n_seeds": 2, "k": 4, "n_val": 2},
        "phase1": {"n_val": 3},
        "ig_steps": 8,
        "permutations": 200,
    },
    "full": {
        # armed after 800 epochs, or 100 after the run's own plateau exit once its best checkpoint is past it
        # (benchmarks/budget.py replayed on 18 held-out curves of 1,500 epochs: 15% fewer epochs, the same
        # checkpoint in 15 runs, an earlier one in 3, the same mean test accuracy; README)
        "budget": {"class": {"epochs": 1500, "min_epochs": 800, "patience": 300, "after_exit": 100},
                   "level": {"epochs": 1000, "min_epochs": 800, "patience": 200},
                   "compact": {"epochs": 300, "min_epochs": 0, "patience": 60},
                   # Compact's level model leaves its plateau after ~60 epochs (validation accuracy 0.14 at
                   # epoch 10, 0.39 at 100, 0.44-0.47 from 150 to 500, best validation loss at 273 in a
                   # 600-epoch run): patience 60 from epoch 1 stopped it at ~63 with kept epochs 1-5. On two
                   # validation participants its validation loss is lowest at epochs 1-3 in two of three
                   # held-out folds (overconfidence on new people) while validation accuracy rises to
                   # epochs 118-220; the checkpoint kept by accuracy classified 0.23/0.29/0.29 of the
                   # test participants' ratings against 0.09/0.11/0.31 by loss: it keeps the best accuracy
                   "compact_level": {"epochs": 400, "min_epochs": 200, "patience": 60, "monitor": "val_acc"}},
        # three seeds wherever trained models are compared: a comparison ranks two methods only when the
        # sign of their difference holds for most seeds (fmriemo.book.verdict), and one seed cannot
        # say how much a re-run moves a result
        "seeds": {"class": 3, "level": 3},
        "heldout": {"protocol": "groupkfold", "n_seeds": 3, "k": 3, "n_val": 2},
        "phase1": {"n_val": 3},
        "ig_steps": 32,
        "permutations": 10000,
    },
    "paper": {
        "budget": {"class": {"epochs": 10000, "min_epochs": 0, "patience": None},
                   "level": {"epochs": 10000, "min_epochs": 0, "patience": None},
                   "compact": {"epochs": 10000, "min_epochs": 0, "patience": None},
                   "compact_level": {"epochs": 10000, "min_epochs": 0, "patience": None, "monitor": "val_acc"}},
        # the authors' recipe, and enough seeds to say how much one run of it depends on luck (chapter 3)
        "seeds": {"class": 5, "level": 5},
        "heldout": {"protocol": "groupkfold", "n_seeds": 5, "k": 3, "n_val": 2},
        "phase1": {"n_val": 3},
        "ig_steps": 32,
        "permutations": 10000,
    },
}


def check_profile(profile: str) -> str:
    """Check a profile's name.

    Parameters
    ----------
    profile : str

    Returns
    -------
    profile : str
        ``profile`` itself when it is one of :data:`PROFILES`.

    Raises
    ------
    ValueError
        Naming it otherwise.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    return profile


def profile_row(name: str) -> dict:
    """One profile's row of :data:`PROFILES`.

    Parameters
    ----------
    name : {"quick", "full", "paper"}

    Returns
    -------
    row : dict
        Its budgets, seeds, held-out protocol and the sizes of its checks.

    Raises
    ------
    ValueError
        For an unknown name.
    """
    return PROFILES[check_profile(name)]


def profile_table() -> str:
    """The README's table of profiles, rendered from :data:`PROFILES`.

    Returns
    -------
    table : str
        Markdown.
    """
    def rule(p):
        kept = "; checkpoint on validation accuracy" if p.get("monitor") == "val_acc" else ""
        if p["patience"] is None:
            return f"{p['epochs']:,} epochs, no early stopping{kept}"
        armed = f", armed after {p['min_epochs']:,}" if p["min_epochs"] else ""
        if p.get("after_exit") is not None and p["min_epochs"]:
            armed += f" or {p['after_exit']:,} after the run's plateau exit"
        return f"at most {p['epochs']:,} epochs (patience {p['patience']}{armed}{kept})"

    lines = ["| profile | paper models, class task | paper models, level task | seeds on the paper split "
             "(class / level) | held-out chapters (5-9) | Compact model, class task | Compact model, level task |",
             "|---|---|---|---|---|---|---|"]
    for name, p in PROFILES.items():
        h, b = p["heldout"], p["budget"]
        held = (f"{h['protocol']}" + (f" (k = {h['k']}, order groups together)" if h["protocol"] == "groupkfold"
                                      else "") + f", {h['n_seeds']} seed(s)")
        lines.append(f"| `{name}` | {rule(b['class'])} | {rule(b['level'])} | "
                     f"{p['seeds']['class']} / {p['seeds']['level']} | {held} | {rule(b['compact'])} | "
                     f"{rule(b['compact_level'])} |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Settings:
    """What a chapter's parameters decide about training and evaluation, in one object.

    The training entry points take it (``heldout.run_models(ds, methods, task, settings=s)``) instead of a
    long list of arguments. Build it with :meth:`resolve`, which fills what is left as None from the
    profile.

    Parameters
    ----------
    profile : {"quick", "full", "paper"}, default="full"
    epochs : int, default=None
        The epoch budget; None: the profile's.
    device : {"auto", "cpu", "cuda"}, default="auto"
    cache_dir : str, default=None
        The store; None: the default (:func:`fmriemo.core.store.cache_root`).
    seeds : tuple of int, default=(0,)
        The training seeds.
    protocol : {"loso", "order", "groupkfold", "kfold"}, default="groupkfold"
        The held-out protocol (chapters 5-9).
    k : int, default=3
        Folds of "groupkfold" and "kfold".
    n_val : int, default=None
        Validation participants; None: the profile's for the purpose.
    progress : bool, default=True
        Progress bars on long work.
    jobs : int, default=1
        Independent trainings run in parallel (joblib workers).
    """

    profile: str = "full"
    epochs: int | None = None          # None: the profile's budget
    device: str = "auto"
    cache_dir: str | None = None       # None: the default cache (fmriemo.core.store.cache_root)
    seeds: tuple = (0,)
    protocol: str = "groupkfold"       # held-out protocol (chapters 5-9)
    k: int = 3                         # folds for "groupkfold" / "kfold"
    n_val: int | None = None           # validation participants; None: the profile's for the purpose
    progress: bool = True
    jobs: int = 1                      # independent trainings run in parallel (joblib workers)

    @classmethod
    def resolve(cls, profile: str = "full", *, epochs=None, device: str = "auto", cache_dir=None, seed: int = 0,
                n_seeds=None, protocol=None, k=None, n_val=None, progress: bool = True,
                paper_task: str | None = None, jobs: int = 1) -> "Settings":
        """Settings from a parameters cell: ``protocol``, ``k`` and the number of seeds default to
        the profile's held-out row (with ``paper_task`` "class" or "level", the number of seeds is
        the profile's for that task on the paper's split); ``cache_dir`` ``""`` means the default
        cache; ``n_val`` ``None`` leaves the number of validation participants to the profile (held-out
        folds and Phase I have their own, :attr:`fold_n_val` and :attr:`phase1_n_val`)."""
        row = profile_row(profile)
        h = row["heldout"]
        protocol = protocol or h["protocol"]
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
        if paper_task is not None and paper_task not in row["seeds"]:
            raise ValueError(f"paper_task must be one of {', '.join(row['seeds'])}, got {paper_task!r}")
        default_n = row["seeds"][paper_task] if paper_task else h["n_seeds"]
        n = default_n if n_seeds is None else int(n_seeds)
        if n < 1:
            raise ValueError(f"n_seeds must be >= 1, got {n_seeds}")
        if int(jobs) < 1:
            raise ValueError(f"jobs must be >= 1, got {jobs}")
        return cls(profile=profile, epochs=epochs, device=device, cache_dir=str(cache_dir) if cache_dir else None,
                   seeds=tuple(range(int(seed), int(seed) + n)), protocol=protocol,
                   k=int(h["k"] if k is None else k), n_val=None if n_val is None else int(n_val),
                   progress=progress, jobs=int(jobs))

    @property
    def fold_n_val(self) -> int:
        """Validation participants inside each training fold of a held-out protocol."""
        return self.n_val if self.n_val is not None else profile_row(self.profile)["heldout"]["n_val"]

    @property
    def phase1_n_val(self) -> int:
        """Training participants held out for checkpoint selection by a Phase I model trained on participants."""
        return self.n_val if self.n_val is not None else profile_row(self.profile)["phase1"]["n_val"]

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)
