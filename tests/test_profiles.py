"""The one profile table and the Settings a parameters cell becomes."""
import pytest

from fmriemo.profiles import PROFILES, PROTOCOLS, Settings, profile_row, profile_table


def test_settings_resolve_from_a_parameters_cell():
    s = Settings.resolve("full", seed=3, cache_dir="")
    assert (s.protocol, s.seeds, s.k, s.cache_dir) == ("groupkfold", (3, 4, 5), 3, None)  # three seeds per fold
    assert Settings.resolve("quick", n_seeds=2, protocol="order", k=5).seeds == (0, 1)
    q = Settings.resolve("quick", n_seeds=2, seed=4)
    assert (q.protocol, q.seeds, q.k) == ("groupkfold", (4, 5), 4)  # the quick profile's held-out row
    assert s.replace(protocol="kfold").protocol == "kfold" and s.protocol == "groupkfold"  # frozen
    assert Settings.resolve("full", paper_task="class").seeds == tuple(range(PROFILES["full"]["seeds"]["class"]))
    for bad, match in (({"protocol": "trials"}, "protocol must be one of"), ({"n_seeds": 0}, "n_seeds must be"),
                       ({"profile": "fast"}, "profile must be one of"), ({"paper_task": "valence"}, "paper_task")):
        with pytest.raises(ValueError, match=match):
            Settings.resolve(**{"profile": "quick", **bad})


def test_validation_participants_come_from_the_profile_unless_given():
    s = Settings.resolve("full")
    assert s.n_val is None
    assert s.fold_n_val == PROFILES["full"]["heldout"]["n_val"]
    assert s.phase1_n_val == PROFILES["full"]["phase1"]["n_val"]
    assert s.fold_n_val != s.phase1_n_val  # two purposes, two numbers: 2 inside folds, 3 for Phase I
    given = Settings.resolve("full", n_val=4)
    assert given.fold_n_val == given.phase1_n_val == 4


def test_profile_table_renders_every_profile_and_budget():
    table = profile_table()
    assert table.count("\n") == 1 + len(PROFILES)
    for name, row in PROFILES.items():
        line = next(line for line in table.splitlines() if line.startswith(f"| `{name}`"))
        assert f"{row['budget']['class']['epochs']:,} epochs" in line
        assert f"k = {row['heldout']['k']}" in line
    assert "no early stopping" in table and "armed after 800" in table
    with pytest.raises(ValueError, match="profile must be one of quick, full, paper"):
        profile_row("fast")
    assert set(PROTOCOLS) == {"loso", "order", "groupkfold", "kfold"}
