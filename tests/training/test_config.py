"""A run's configuration: built from a profile's budget row and the model's registered defaults."""
import pytest

from fmriemo.profiles import PROFILES
from fmriemo.training.config import TrainConfig, config_for, resolve_device


def test_config_validation_and_profiles():
    assert config_for("paper", method="asb", task="class").epochs == 10000
    assert config_for("paper", method="asb", task="class").patience is None
    assert config_for("quick", 5, method="asb", task="class").patience <= 5
    level, cls = TrainConfig(method="asb", task="level", epochs=3), TrainConfig(method="asb", task="class", epochs=3)
    assert level.learning_rate == 1e-4 and cls.learning_rate == 1e-3
    assert level.monitored == "val_loss" and cls.monitored == "val_acc"
    assert cls.patience is None and cls.min_epochs == 0  # the paper's recipe: no early stopping
    for bad in ({"epochs": 0}, {"patience": 0}, {"preprocess": "x"}, {"task": "valence"}, {"min_epochs": 5}):
        with pytest.raises(ValueError):
            TrainConfig(**{"method": "asb", "task": "class", "epochs": 3, **bad})
    with pytest.raises(TypeError):
        TrainConfig(method="asb", task="class")  # no budget: none is assumed
    with pytest.raises(ValueError, match="profile"):
        config_for("fast", method="asb", task="class")
    with pytest.raises(ValueError, match="unknown method"):
        config_for("quick", method="resnet", task="class")
    assert resolve_device("auto").type in ("cpu", "cuda")


def test_compact_level_models_get_their_own_budget():
    for profile, p in PROFILES.items():
        level, cls = (config_for(profile, method="compact", task=t) for t in ("level", "class"))
        assert (level.epochs, level.min_epochs, level.patience) == tuple(p["budget"]["compact_level"][k] for k in
                                                                         ("epochs", "min_epochs", "patience"))
        assert (cls.epochs, cls.min_epochs, cls.patience) == tuple(p["budget"]["compact"][k] for k in
                                                                   ("epochs", "min_epochs", "patience"))
    assert config_for("full", method="compact", task="level").min_epochs == 200  # past its ~60-epoch plateau
    # Compact's level checkpoint is chosen on validation accuracy; the paper's level models keep the paper's rule
    assert config_for("full", method="compact", task="level").monitored == "val_acc"
    assert config_for("full", method="asb", task="level").monitored == "val_loss"
    assert config_for("full", 50, method="compact", task="level").min_epochs == 50  # an epochs override caps it



def test_every_model_trains_with_its_registered_defaults():
    assert config_for("quick", method="compact", task="class").preprocess == "pct"
    assert config_for("quick", method="compact", task="class").lr == 1e-2
    assert config_for("quick", method="asb", task="class").preprocess == "minmax"
    assert config_for("quick", method="asb", task="class", preprocess="zscore").preprocess == "zscore"
    assert config_for("quick", method="vanilla", task="level").learning_rate == 1e-4
