"""The calibration card: the surrogate beside the real data's statistics."""
import numpy as np
import pytest

from fmriemo.evaluation import calibration


def test_surrogate_matches_the_calibration_card(dataset):
    card = calibration.card(dataset)
    assert card.loc["identical_order_pairs", "here"] == 7
    assert card.loc["participant_id_minmax", "here"] >= 0.95
    for key in calibration.LINEAR_ROWS:  # within the draw-to-draw spread of these statistics (~0.03-0.05)
        assert abs(card.loc[key, "difference"]) <= 0.07, (key, card.loc[key, "here"], card.loc[key, "real"])
    # the trial's position alone predicts its class for a new participant about as well as on real data
    assert abs(card.loc["loso_position", "difference"]) <= 0.07, card.loc["loso_position", "here"]
    # the seconds after the video carry more of the valence signal than the video itself, as on real data
    assert card.loc["loso_pct_15_25", "here"] > card.loc["loso_pct_8_21", "here"]


def test_between_share_is_eta_squared():
    groups = np.repeat(["a", "b"], 4)
    F = np.c_[np.repeat([0.0, 2.0], 4), np.tile([0.0, 2.0], 4), np.r_[0, 0, 0, 4, 0, 0, 0, 4]]
    share = calibration.between_share(F, groups)
    assert share[0] == pytest.approx(1.0)   # all between the groups
    assert share[1] == pytest.approx(0.0)   # all within
    assert share[2] == pytest.approx(0.0)   # the same spread inside each group
    assert calibration.between_share(F.reshape(8, 3, 1), groups).shape == (3,)  # features flattened
