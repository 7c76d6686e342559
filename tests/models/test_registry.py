"""Models by name: the registry, and a model registered from outside the package that the command line,
the held-out protocols, attribution and a submission accept with no edit elsewhere."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from fmriemo import cli
from fmriemo.challenge.submission import read_submission
from fmriemo.evaluation import attribution, heldout
from fmriemo.models import registry
from fmriemo.models.registry import ModelSpec


class Toy(nn.Module):
    """A linear read-out of each region's mean: the smallest model the package can train."""

    def __init__(self, n_out: int):
        super().__init__()
        self.lin = nn.Linear(246, n_out)

    def forward(self, x):
        return self.lin(x.mean(2))


@pytest.fixture
def toy():
    spec = registry.register(ModelSpec("toy", Toy, label="Toy model", preprocess="pct"))
    yield spec
    registry.unregister("toy")


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_registry_knows_the_packages_models_in_order():
    assert registry.paper_methods() == ("vanilla", "asb", "ebr")
    assert registry.names()[:3] == registry.paper_methods() and "compact" in registry.names()
    assert registry.label("asb") == "ASB" and registry.label("logreg") == "logreg"  # not a model: its own name
    with pytest.raises(ValueError, match="unknown method 'transformer'; expected one of vanilla, asb, ebr"):
        registry.build_model("transformer", "class")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(ModelSpec("asb", Toy))
    with pytest.raises(ValueError, match="model name must be"):
        registry.register(ModelSpec("a b", Toy))


def test_a_model_without_its_own_penalty_is_penalised_on_its_weight_matrices(toy):
    m = registry.build_model("toy", "level")
    assert m.lin.out_features == 9 and registry.penalised_weights(m) == [m.lin.weight]
    with torch.no_grad():
        assert registry.l2_penalty(m, 0.5).item() == pytest.approx(0.5 * float((m.lin.weight ** 2).sum()))
    assert registry.label("toy") == "Toy model"


def test_a_registered_model_trains_runs_held_out_attributes_and_submits(toy, tmp_path, capsys):
    cache = tmp_path / "cache"
    common = ["--profile", "quick", "--epochs", "2", "--cache-dir", cache, "--quiet"]
    code, out, err = run(capsys, "train", "--method", "toy", *common)
    assert code == 0, err
    trained = json.loads(out)
    assert trained["method"] == "toy" and trained["test_trials"] == 48 and trained["epochs_run"] == 2
    code, out, err = run(capsys, "train", "--method", "toy", "--split", "groupkfold", "--k", "4", *common)
    assert code == 0, err
    held_out = json.loads(out)  # every seed's folds test each labelled trial once
    assert {s: sum(f["trials"] for f in held_out["folds"] if f["seed"] == s) for s in held_out["seeds"]} == \
        {s: 480 for s in held_out["seeds"]} and len(held_out["seeds"]) >= 1
    code, out, err = run(capsys, "submit", "--method", "toy", "--out", tmp_path / "toy.csv", *common)
    assert code == 0, err
    assert f"toy, {len(held_out['seeds'])} seed(s), ratings class-aware" in out  # the profile's seeds
    assert len(read_submission(tmp_path / "toy.csv")) == 120  # every test trial
    # the held-out protocol and attribution take it by name, from the same store
    from fmriemo.data.source import open_dataset
    from fmriemo.profiles import Settings
    ds = open_dataset("", "", 2024, cache)
    runs = heldout.fold_runs(ds, "toy", "class", Settings.resolve("quick", epochs=2, k=4, cache_dir=cache,
                                                                  progress=False))
    assert all(r.cached for _, _, r in runs) and len(runs) == 4 * len(held_out["seeds"])
    model = runs[0][2].load_model()
    X = np.random.default_rng(0).uniform(0, 1, (5, 246, 25)).astype(np.float32)
    maps = attribution.region_maps(model, X, ("ig", "occlusion"), n_steps=4)
    assert maps["ig"].shape == maps["occlusion"].shape == (246,)


def test_a_models_source_is_part_of_its_cache_key(dataset, tmp_path, monkeypatch):
    """A model registered from a module outside the package: an edit to that module's source changes
    the cache key of its runs (a stale trained model is never served)."""
    import importlib

    from fmriemo.data.splits import make_paper_split
    from fmriemo.training.config import TrainConfig
    from fmriemo.training.runs import run_key
    module = tmp_path / "outside_model.py"
    source = ("from torch import nn\nfrom fmriemo.models.registry import ModelSpec, register\n\n"
              "class Outside(nn.Linear):\n    def __init__(self, n_out):\n        super().__init__(246 * 25, n_out)\n"
              "    def forward(self, x):\n        return super().forward(x.flatten(1))\n\n"
              "register(ModelSpec('outside', Outside), replace=True)\n")
    module.write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        importlib.import_module("outside_model")
        split, cfg = make_paper_split(dataset, "class"), TrainConfig(method="outside", task="class", epochs=2)
        key = run_key(dataset, split, cfg)
        assert run_key(dataset, split, cfg) == key
        module.write_text(source + "# an edit\n")
        assert run_key(dataset, split, cfg) != key
        assert run_key(dataset, split, TrainConfig(method="asb", task="class", epochs=2)) == \
            run_key(dataset, split, TrainConfig(method="asb", task="class", epochs=2))
    finally:
        registry.unregister("outside")
