"""The sentences the chapters glue into their prose."""
from types import SimpleNamespace

import pandas as pd

from fmriemo.book import text


def test_kept_epochs_text_names_every_kept_epoch_and_the_plateau_count():
    runs = [SimpleNamespace(best_epoch=e, epochs_run=n, on_plateau=p)
            for e, n, p in ((212, 300, False), (40, 300, True), (260, 300, False))]
    assert text.kept_epochs_text(runs) == "212, 40 and 260 after 300 epochs (1 of 3 on the plateau)"
    assert text.kept_epochs_text(runs[:1]) == "212 after 300 epochs (none on the plateau)"
    runs[1].epochs_run = 120
    assert "after 120-300 epochs" in text.kept_epochs_text(runs)
    assert text.kept_epochs_text([]) == "none (no runs)"


def test_phase1_split_text_names_the_split_and_the_validation_participants(dataset):
    both = text.phase1_split_text(dataset, {"asb": "ASB", "compact": "Compact"}, "auto", [0, 1], 3)
    assert "ASB is the model of chapters 3 and 4 (seeds 0 and 1)" in both
    assert "Compact is trained on the training participants" in both and "for the first seed" in both
    assert "chosen on 3 whole participants held out from training (P" in both
    one = text.phase1_split_text(dataset, {"asb": "ASB"}, "participants", 0, 3)
    assert one.startswith("ASB is trained on the training participants") and "first seed" not in one


def test_data_and_planted_sentences(tmp_path):
    assert text.data_source_text("", 7) == "the built-in surrogate data set (seed 7)"
    assert text.data_source_text(tmp_path / ".real-data") == "the challenge data in the folder '.real-data'"
    assert text.planted_text(None).startswith("This build reads the challenge data")
    assert "planted in 3 regions, 1 of which" in text.planted_text({"planted_regions": [1, 2, 3]})  # 1 is EBR
    rec = dict(n_planted=24, planted_p_at_k=0.5, planted_chance=0.1, planted_auroc=0.8, planted_auroc_min=0.7,
               planted_auroc_max=0.9)
    assert "AUROC of 0.80 (per seed 0.70 to 0.90)" in text.planted_recovery_text(rec)
    assert text.planted_recovery_text(None).startswith("On real data")
    auc = pd.Series({"SE weight": 0.5, "integrated gradients": 0.7})
    assert text.attribution_recovery_text(auc).endswith("Best: integrated gradients.")


def test_challenge_sentences():
    assert text.phase1_compare_text(True, 120, 120).startswith("a surrogate score")
    assert "same 120 trials" in text.phase1_compare_text(False, 120, 120)
    assert "estimate from the 36 test trials" in text.phase1_compare_text(False, 36, 120)
    assert text.phase1_compare_text(False, 0, 120).startswith("no test labels")
    p2 = pd.DataFrame({"Phase I": [0.5], "Phase II": [0.45], "N": [84]}, index=["ASB"])
    scored = text.phase2_text(p2, "ASB")
    assert scored.startswith("On the 84 test trials") and "0.4500 after" in scored
    assert text.phase2_text(p2.iloc[:0], "ASB").startswith("This data set has no labels")
    cf = pd.DataFrame({"Phase II (cross-fitted)": [0.47], "lo": [0.3], "hi": [0.6], "Phase I": [0.5]}, index=["ASB"])
    assert "judged against it" in text.crossfit_text(cf, p2, "ASB")
    assert "judged against" not in text.crossfit_text(cf, p2.iloc[:0], "ASB")
    assert text.crossfit_text(cf.iloc[:0], p2, "ASB").startswith("No released labels")


def test_protocol_search_and_ensemble_sentences():
    assert text.protocol_text("loso", 16) == "leave one participant out"
    assert "order groups" not in text.protocol_text("kfold", 3) and "without regard" in text.protocol_text("kfold", 3)
    assert "3 groups of participants (GroupKFold)" in text.protocol_text("groupkfold", 3)
    assert "not above that accuracy" in text.search_reference_text(0.5, True)
    assert "above that accuracy" in text.search_reference_text(0.7, True)
    assert "surrogate's" in text.search_reference_text(0.7, False)
    assert text.level9_caveat(4, 4).startswith("4 of these 4 9-way models kept checkpoints on their plateau")
    assert text.level9_caveat(1, 3).startswith("1 of these 3 9-way models kept")  # one is enough to shut the gate
    assert text.level9_caveat(0, 3).startswith("None of these 3 9-way models") and "not tested" in \
        text.level9_caveat(0, 0)
    assert text.ensemble_choice_text("single", {}) == "it is the single model itself"
    flip = {"p": 0.04, "mean_difference": 0.05}
    assert "p = 0.040 (mean difference +0.050)" in text.ensemble_choice_text("folds", flip)


def test_onset_text_names_the_first_significant_cluster_or_none():
    cl = pd.DataFrame({"first second": [3, 12, 20], "last second": [3, 17, 24], "p": [0.4, 0.004, 0.03]})
    assert text.onset_text(cl) == ("from second 12 (clusters: seconds 12-17 (p = 0.004), "
                                   "seconds 20-24 (p = 0.030))")
    assert text.onset_text(cl.iloc[[0, 1]]) == "from second 12 (cluster: seconds 12-17 (p = 0.004))"
    assert text.onset_text(cl.iloc[[0]]) == ("at no second (no cluster of seconds above chance with p < 0.05; "
                                             "the strongest cluster has p = 0.400)")
    assert text.onset_text(cl.iloc[[]]).startswith("at no second (no cluster")
