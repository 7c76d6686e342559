"""The book's profiles in one table: what ``quick`` (CI, Binder), ``full`` (the published
book) and ``paper`` (the authors' 10,000 epochs) mean for every chapter, the CLI and the
README (its profile table is rendered from here and a test keeps the two equal).

Per profile:

``budget``
    epoch budget per kind of model: at most ``epochs``, early stopping armed only after
    ``min_epochs``, then ``patience`` epochs without improvement (``None``: no early stopping).
    The full profile's rule for the paper models was chosen from learning curves of the three
    paper models over three seeds and 3,000 epochs (``benchmarks/budget.py``; README): their
    validation accuracy sits at its starting level for hundreds of epochs before it rises, and
    the level task (learning rate 10x lower) keeps improving its validation loss to the end.
    This book's Compact model has no such plateau and keeps its own budget.
``seeds``
    training seeds on the paper's split (chapters 3 and 4), per task.
``heldout``
    the held-out chapters' protocol, seeds and folds (chapters 5-9 share them, and so share
    trained models).
``ig_steps``
    integrated-gradients steps in chapter 8.
"""
from __future__ import annotations

PROFILES = {
    "quick": {
        "budget": {"class": {"epochs": 25, "min_epochs": 0, "patience": 10},
                   "level": {"epochs": 25, "min_epochs": 0, "patience": 10},
                   "compact": {"epochs": 25, "min_epochs": 0, "patience": 10}},
        "seeds": {"class": 1, "level": 1},
        "heldout": {"protocol": "groupkfold", "n_seeds": 1, "k": 4},
        "ig_steps": 8,
    },
    "full": {
        "budget": {"class": {"epochs": 1500, "min_epochs": 800, "patience": 300},
                   "level": {"epochs": 1000, "min_epochs": 800, "patience": 200},
                   "compact": {"epochs": 300, "min_epochs": 0, "patience": 60}},
        "seeds": {"class": 3, "level": 1},
        # three folds of whole order groups, one seed: each paper model trains ~900 epochs per
        # fold under the budget rule, and nine such runs are what a 2-core machine affords
        "heldout": {"protocol": "groupkfold", "n_seeds": 1, "k": 3},
        "ig_steps": 32,
    },
    "paper": {
        "budget": {"class": {"epochs": 10000, "min_epochs": 0, "patience": None},
                   "level": {"epochs": 10000, "min_epochs": 0, "patience": None},
                   "compact": {"epochs": 10000, "min_epochs": 0, "patience": None}},
        "seeds": {"class": 1, "level": 1},
        "heldout": {"protocol": "groupkfold", "n_seeds": 1, "k": 3},
        "ig_steps": 32,
    },
}


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    return profile


def profile(name: str) -> dict:
    """One profile's row of :data:`PROFILES` (a clear error for an unknown name)."""
    return PROFILES[check_profile(name)]


def profile_table() -> str:
    """The README's table of profiles, rendered from :data:`PROFILES`."""
    def rule(p):
        if p["patience"] is None:
            return f"{p['epochs']:,} epochs, no early stopping"
        armed = f", armed after {p['min_epochs']:,}" if p["min_epochs"] else ""
        return f"at most {p['epochs']:,} epochs (patience {p['patience']}{armed})"

    lines = ["| profile | paper models, class task | paper models, level task | seeds on the paper split "
             "(class / level) | held-out chapters (5-9) | Compact model |",
             "|---|---|---|---|---|---|"]
    for name, p in PROFILES.items():
        h, b = p["heldout"], p["budget"]
        held = (f"{h['protocol']}" + (f" (k = {h['k']}, order groups together)" if h["protocol"] == "groupkfold"
                                      else "") + f", {h['n_seeds']} seed(s)")
        lines.append(f"| `{name}` | {rule(b['class'])} | {rule(b['level'])} | "
                     f"{p['seeds']['class']} / {p['seeds']['level']} | {held} | {rule(b['compact'])} |")
    return "\n".join(lines)
