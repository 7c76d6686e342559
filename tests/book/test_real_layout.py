"""The chapters on a folder laid out like the real challenge data (in a module of its own, so that
`make test` runs it on its own worker, with a model cache of its own)."""
import math

import pytest

pytestmark = pytest.mark.chapter

#: the chapters the verdict reads besides those run above, with cheap parameters (chapter 7's
#: time-resolved section on one input; its own test in test_chapters.py runs two)
VERDICT_READS = {"03_class_task": {"epochs": 2, "methods": ["asb", "ebr"]},
                 "04_level_task": {"epochs": 2, "methods": ["ebr"]},
                 "07_held_out": {"protocol": "groupkfold", "epochs": 2, "time_preprocessings": ["pct"],
                                 "n_permutations": 50},
                 "09_level_and_beyond": {"epochs": 2, "class_models": ["compact"]}}


def test_chapters_on_a_folder_laid_out_like_the_real_data(run, tmp_path):
    """What the maintainers run: a challenge folder with only Train/, Test/ and Supplementary/ plus the
    released-labels CSV beside it. Nothing is known to be planted, so the chapters that score maps against
    the surrogate's ground truth must say so in sentences that read, and score the challenge on the
    released trials only."""
    import shutil

    from fmriemo.data.surrogate import write_surrogate
    folder = tmp_path / "challenge"
    write_surrogate(folder, seed=7)
    labels = tmp_path / "released_labels.csv"
    shutil.move(folder / "released_labels.csv", labels)
    for extra in ("ground_truth.json", "test_labels.csv"):
        (folder / extra).unlink()
    out = tmp_path / "chapters"
    real = {"out_dir": out, "data_dir": str(folder), "labels_csv": str(labels)}

    _, g1 = run("01_data", **real)
    assert "surrogate" not in g1["data_source"] and g1["n_test_labelled"] == 36
    assert "'challenge'" in g1["data_source"] and str(tmp_path) not in g1["data_source"]  # the name, not the path
    assert g1["planted_text"].startswith("This build reads the challenge data")
    _, g5 = run("05_challenge", methods=["ebr"], submit_method="ebr", epochs=2, ft_epochs=2, seed=1, **real)
    assert g5["n_eval"] == 36 and "estimate" in g5["eval_source"] and 0 <= g5["p1_ebr"] <= 1
    assert "estimate from the 36 test trials" in g5["p1_compare_text"]
    # no unreleased labels: a sentence, not a table of NaN, and an estimate from the released trials
    assert g5["n_rest_scored"] == 0 and g5["phase2_text"].startswith("This data set has no labels")
    assert 0 <= g5["p2_crossfit_lo"] <= g5["p2_crossfit_main"] <= g5["p2_crossfit_hi"] <= 1
    assert "judged against" not in g5["crossfit_text"]
    _, g6 = run("06_brain_maps", n_seeds=2, epochs=2, top_k=10, seed=3, **real)
    assert math.isnan(g6["planted_auroc"]) and g6["planted_text"].startswith("On real data")
    _, g8 = run("08_attribution", protocol="groupkfold", k=4, epochs=2, ig_steps=4, **real)
    assert math.isnan(g8["auc_se"]) and g8["recovery_text"].startswith("On real data")
    for stem, params in VERDICT_READS.items():
        run(stem, **params, **real)
    _, g10 = run("10_verdict", out_dir=out)
    assert g10["c8_recovery_text"].startswith("On real data") and "surrogate" not in g10["c1_data_source"]
    assert "surrogate" not in g10["scope_text"] and "nan" not in g10["class_corr_text"]
