"""Each chapter executed through papermill with the quick profile and non-default
parameters, with assertions on the values it glues into its prose."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from fmriemo.book.build import chapter_sources
from fmriemo.profiles import Settings

pytestmark = pytest.mark.chapter


def _dataset(run):
    """The data set the chapters of this module ran on (surrogate seed 7, in their cache)."""
    from fmriemo.data.source import open_dataset
    return open_dataset("", "", 7, run.cache)


def _images(nb):
    cells = json.loads(nb.read_text())["cells"]
    return sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))


def test_chapter_sources_have_one_parameters_cell():
    import jupytext
    for src in chapter_sources():
        nb = jupytext.read(src)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, src
        # the parameters `fmriemo chapters` / `make chapters` pass to every chapter
        for name in ("data_dir", "labels_csv", "surrogate_seed", "profile", "cache_dir"):
            assert f"{name} =" in tagged[0].source, (src, name)
        # opened by hand (Binder, a download), the profile follows $FMRIEMO_PROFILE, else "full"
        assert 'profile = os.environ.get("FMRIEMO_PROFILE", "full")' in tagged[0].source, src
        assert nb.metadata["kernelspec"]["name"] == "python3"
        # no chapter source repeats an install cell: run_chapter and `fmriemo notebooks` add one
        assert "find_spec" not in "".join(c.source for c in nb.cells), src


def test_01_data(run):
    nb, g = run("01_data", seed=3)
    assert "seed 7" in g["data_source"]
    assert g["n_train_participants"] == 16 and g["n_test_participants"] == 4
    assert g["n_train_trials"] == 480 and g["n_test_labelled"] == 36
    assert 50 < g["sign_agree_pct"] < 100
    # min-max scaling leaves the participant dominating each feature; % change does not
    assert g["eta_part_minmax"] > 0.5 > g["eta_part_pct"]
    assert g["n_ebr"] == 32 and g["n_ebr_unpaired"] == 4
    assert g["n_planted"] == 24
    assert _images(nb) >= 6


def test_02_models(run):
    nb, g = run("02_models", seed=1, epochs=2)
    assert 1.85e6 < g["params_asb_class"] < 1.95e6
    assert g["params_input_se"] == 246 * 15 + 15 + 15 * 246 + 246
    assert 0 < g["gate_min"] <= g["gate_max"] < 1
    assert g["example_seed"] == 1
    assert _images(nb) >= 3


def test_03_class_task(run):
    nb, g = run("03_class_task", seed=2, n_seeds=2, epochs=3, methods=["asb", "ebr"])
    assert g["n_seeds"] == 2 and g["max_epochs"] == 3 and g["first_seed"] == 2
    assert 0 <= g["asb_acc_lo"] <= g["asb_acc"] <= g["asb_acc_hi"] <= 1
    assert math.isnan(g["vanilla_acc"])  # not run: nan, not a stale number
    assert g["paper_ci_lo"] == pytest.approx(0.59, abs=0.01) and g["paper_ci_hi"] == pytest.approx(0.83, abs=0.01)
    assert 0 <= g["asb_wins"] <= 2 and g["asb_wins"] + g["ebr_wins"] == pytest.approx(2)
    assert _images(nb) >= 3
    # the headline numbers, recomputed through the library from the cached runs, agree exactly
    from fmriemo.evaluation import paper, statistics
    from fmriemo.profiles import Settings
    settings = Settings.resolve("quick", epochs=3, cache_dir=run.cache, seed=2, n_seeds=2, progress=False)
    runs, table = paper.run_paper_protocol(_dataset(run), "class", ["asb", "ebr"], settings)
    assert all(r.cached for r in runs.values())
    r = runs[("asb", 2)]
    k = int((r.y_true == r.y_pred).sum())
    assert g["asb_acc"] == pytest.approx(k / len(r.y_true), abs=1e-12)
    assert g["asb_acc_lo"] == pytest.approx(statistics.wilson_interval(k, len(r.y_true))[0], abs=1e-12)
    assert g["asb_f1_mean"] == pytest.approx(table[table.method == "asb"]["f1"].mean(), abs=1e-12)
    assert g["n_on_plateau"] == table["on_plateau"].sum() and g["n_runs"] == 4
    # the comparison over seeds and trials the verdict reads, recomputed from the same runs
    (c,) = paper.comparisons(_dataset(run), runs, "class", [("asb", "ebr")])
    assert g["f1_diff_asb_vs_ebr"] == pytest.approx(c.estimate, abs=1e-12) and g["f1_lo_asb_vs_ebr"] == c.lo
    assert math.isnan(g["f1_diff_asb_vs_vanilla"])  # Vanilla not run
    assert g["neighbours"] == paper.NEIGHBOURS and g["n_val_trials"] == 48


def test_04_level_task(run):
    nb, g = run("04_level_task", epochs=2, methods=["ebr", "asb"], split_seed=11)
    assert g["n_methods"] == 2 and g["n_seeds"] == 2
    assert g["asb_vs_random_lo"] <= g["asb_vs_random"] <= g["asb_vs_random_hi"] and g["n_guess_rows"] == 200
    assert g["majority_level"] in range(-4, 5)
    assert 0 < g["const_f1"] < 0.2 and 0 < g["const_acc"] < 0.5
    # random guessing with the training frequencies is the higher, fairer floor for a macro F1
    assert g["const_f1"] < g["rand_f1_mean"] < g["rand_f1_p95"] < 0.35 and g["n_guesses"] == 1000
    assert 0 <= g["n_methods_above_rand"] <= g["n_methods"]
    assert 0 <= g["asb_f1_lo"] <= g["asb_f1_hi"] <= 1
    assert 0 <= g["asb_sign"] <= 1
    assert g["asb_epochs_run"] <= 2


def test_05_challenge(run):
    nb, g = run("05_challenge", methods=["ebr", "asb"], submit_method="ebr", epochs=2, ft_epochs=2, seed=1)
    assert g["n_eval"] == 120 and "exact" in g["eval_source"]
    assert g["submission_rows"] == 120 and g["submit_method_label"] == "EBR"
    assert g["n_released"] == 36 and g["n_rest_scored"] == 84
    assert 0 <= g["p1_ebr"] <= 1 and g["p1_ebr_lo"] <= g["p1_ebr"] <= g["p1_ebr_hi"]
    assert g["p1_main"] == g["p1_ebr"]
    assert g["p1_oracle"] < g["p1_neutral"]  # the two reference points bracket the scale
    assert 0 <= g["p2_main"] <= 1 and 0 <= g["p1rest_main"] <= 1
    assert g["p1_compare_text"].startswith("a surrogate score")
    assert "EBR and ASB are the models of chapters 3 and 4 (seed 1)" in g["phase1_split_text"]
    # Phase I score recomputed through the library from the cached runs
    from fmriemo.challenge import phases
    from fmriemo.challenge.ratings import ensemble_submission
    from fmriemo.challenge.submission import evaluation_labels, score_tables
    from fmriemo.data.source import data_folder
    from fmriemo.profiles import Settings
    ds = _dataset(run)
    settings = Settings.resolve("quick", epochs=2, cache_dir=run.cache, seed=1, n_seeds=1, n_val=3, progress=False)
    runs = phases.train_phase1(ds, "ebr", settings)
    labels, _ = evaluation_labels(ds, data_folder("", 7, run.cache))
    table = phases.phase1_table(ds, runs)  # class-aware ratings, the chapter's default
    assert g["p1_ebr"] == score_tables(table, labels)["score"]
    nine = ensemble_submission(ds, [runs["class"]], [runs["level"]], "level-model")  # the paper's 9-way level model
    assert g["p1_other_rule"] == score_tables(nine, labels)["score"]
    # the Phase II estimate from the released trials alone, judged against the unreleased ones
    assert 0 <= g["p2_crossfit_lo"] <= g["p2_crossfit_main"] <= g["p2_crossfit_hi"] <= 1
    assert "judged against it" in g["crossfit_text"]
    # Phase I over chapter 3's seeds against always "neutral, 0", as the verdict reads it
    assert g["n_p1_seeds"] == 2 and g["p1_seed_min"] <= g["p1_main"] <= g["p1_seed_max"]
    assert g["p1_vs_neutral_lo"] <= g["p1_vs_neutral"] <= g["p1_vs_neutral_hi"]
    seeds = Settings.resolve("quick", epochs=2, cache_dir=run.cache, seed=1, n_val=3, progress=False, paper_task="class")
    c, by_seed = phases.phase1_over_seeds(ds, "ebr", seeds, labels)
    assert g["p1_vs_neutral"] == pytest.approx(c.estimate, abs=1e-12) and list(by_seed.seed) == [1, 2]


def test_05_submission_matches_cli_score(run, tmp_path_factory):
    """The chapter's submission file scores the same with `fmriemo score` as in the chapter."""
    import subprocess
    import sys
    nb, g = run("05_challenge", methods=["ebr"], submit_method="ebr", epochs=2, ft_epochs=2, seed=1)
    cache = json.loads(nb.read_text())["metadata"]["papermill"]["parameters"]["cache_dir"]
    from pathlib import Path
    sub = Path(cache) / "submissions" / "phase1_ebr_seed1.csv"
    labels = next(Path(cache).glob("surrogate-*seed7")) / "test_labels.csv"
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "score", str(sub), str(labels)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f"score {g['p1_ebr']:.4f}" in r.stdout


def test_06_brain_maps(run):
    nb, g = run("06_brain_maps", n_seeds=2, epochs=2, top_k=10, seed=3)
    assert g["n_seeds"] == 2 and g["top_k"] == 10 and g["n_trials"] == 120
    assert 0 < g["w_min"] <= g["w_max"] < 1
    assert 0 <= g["ebr_overlap"] <= 10 and 0 < g["ebr_p"] <= 1 and 0 <= g["n_seeds_overlap"] <= 2
    assert -1 <= g["stab_spearman"] <= 1 and 0 <= g["stab_jaccard"] <= 1
    assert g["n_planted"] == 24 and 0 <= g["planted_auroc"] <= 1
    assert g["planted_chance"] == pytest.approx(24 / 246)
    html = nb.read_text()
    assert "text/html" in html  # the interactive 3-D view is embedded
    assert _images(nb) >= 3


def test_07_held_out(run):
    nb, g = run("07_held_out", protocol="groupkfold", k=4, epochs=2, methods=["asb", "ebr"],
                preprocessings=["zscore"], preprocess_method="ebr", time_preprocessings=["minmax", "pct"],
                n_permutations=100)
    assert g["n_folds"] == 4 and g["n_participants"] == 16 and g["n_seeds"] == 2
    assert g["acc_majority"] == pytest.approx(1 / 3)
    assert g["acc_logreg"] > 0.42 and g["perm_p_logreg"] < 0.05  # real signal found by the linear baseline
    assert math.isnan(g["acc_vanilla"])
    assert 0 <= g["acc_asb_lo"] <= g["acc_asb_hi"] <= 1
    assert 0 <= g["p_asb_vs_ebr"] <= 1 and math.isnan(g["p_asb_vs_vanilla"])
    assert 0 <= g["acc_ebr_zscore"] <= 1
    # the summary rows recomputed through the library from the cached fold runs
    from fmriemo.evaluation import heldout
    from fmriemo.evaluation.baselines import BASELINES
    from fmriemo.profiles import Settings
    ds = _dataset(run)
    settings = Settings.resolve("quick", epochs=2, cache_dir=run.cache, k=4, progress=False)
    deep = heldout.run_models(ds, ["asb", "ebr"], "class", settings)
    base = heldout.run_baselines(ds, "class", settings, kinds=BASELINES)
    import pandas as pd

    from fmriemo.data.splits import order_groups
    pred = pd.concat([deep, base], ignore_index=True)
    summary = heldout.summarise(pred, "class", n_resamples=1000, clusters=order_groups(ds))
    for m in ("asb", "ebr", "logreg", "majority", "position"):
        assert g[f"acc_{m}"] == pytest.approx(summary.loc[m, "accuracy"], abs=1e-12), m
    assert g["acc_asb_lo"] == pytest.approx(summary.loc["asb", "boot_lo"], abs=1e-12)
    assert g["plateau_asb"] == heldout.plateau_counts(deep).loc["asb", "on_plateau"]
    # the comparison the verdict reads: seeds and order groups resampled, recomputed from the same runs
    (c,) = heldout.comparisons(pred, [("asb", "ebr")], clusters=order_groups(ds))
    assert g["diff_asb_vs_ebr"] == pytest.approx(c.estimate, abs=1e-12) and g["lo_asb_vs_ebr"] == c.lo
    assert c.seeds_a == c.seeds_b == 2 and g["agree_asb_vs_ebr"] == c.agreeing
    assert g["n_order_groups"] == len(set(order_groups(ds).values())) < 16
    assert g["lo_asb_vs_chance"] <= g["diff_asb_vs_chance"] <= g["hi_asb_vs_chance"]
    # time-resolved decoding: the curve and its cluster test recomputed through the library
    from fmriemo.data.splits import group_folds
    from fmriemo.evaluation import timeresolved
    assert float(str(g["tr_n_perm"]).replace(",", "")) == 100 and g["tr_participants"] == 16
    acc = timeresolved.accuracy_by_second(ds, "pct", group_folds(ds, "groupkfold", 4))
    curve = timeresolved.summary(acc)
    assert g["tr_peak_pct"] == pytest.approx(curve["accuracy"].max(), abs=1e-12)
    assert g["tr_peak_second_pct"] == curve["accuracy"].idxmax() and g["tr_peak_pct"] > 0.45
    onset = timeresolved.decodable_from(timeresolved.clusters_over_time(acc, n_permutations=100))
    assert onset is not None and g["tr_onset_second_pct"] == onset and g["tr_onset_pct"].startswith("from second")
    assert g["tr_onset_zscore"] == "not run" and math.isnan(g["tr_peak_zscore"])  # left out by the parameter
    assert 0 <= g["tr_off_pct"] <= 1 and g["tr_n_cluster_seconds_pct"] >= 3
    r7 = json.loads((run.out / "results" / "07_held_out.json").read_text())["tables"]
    assert {"time_resolved", "time_clusters", "time_generalisation"} <= set(r7)
    assert _images(nb) >= 3  # per participant, the curves, the generalisation matrices


def test_07_leaves_out_the_sections_its_empty_lists_name(run):
    """time_preprocessings, preprocessings and order_check_methods may be empty: the chapter runs, leaves
    those sections out and says so (it used to train every model and then fail in matplotlib)."""
    nb, g = run("07_held_out", out_dir=run.out.parent / "sections-left-out", protocol="groupkfold", k=4, epochs=2,
                methods=["asb", "ebr"], preprocessings=[], order_check_methods=[], time_preprocessings=[],
                n_permutations=10)
    assert g["tr_onset_pct"] == "not run" and math.isnan(g["tr_peak_pct"]) and g["tr_participants"] == 0
    assert "none in this build" in g["order_check_models_text"] and "preprocessings is empty" in g["other_inputs"]
    assert "time_preprocessings is empty" in nb.read_text()


def test_08_attribution(run):
    nb, g = run("08_attribution", protocol="groupkfold", k=4, epochs=2, ig_steps=4)
    assert g["n_runs"] == 4 * len(Settings.resolve("quick").seeds) and g["ig_steps"] == 4  # every fold, every seed
    for key in ("rho_se_ig", "rho_se_occ", "rho_ig_occ", "stab_se", "stab_ig", "stab_occlusion"):
        assert -1 <= g[key] <= 1, key
    assert 0 <= g["auc_se"] <= 1 and 0 <= g["auc_logreg"] <= 1
    assert g["auc_logreg"] > 0.6  # the linear model's coefficients find the planted regions
    assert _images(nb) >= 1
    assert g["interactive_label"] == "integrated gradients" and "text/html" in nb.read_text()  # the 3-D view


def test_09_level_and_beyond(run):
    nb, g = run("09_level_and_beyond", epochs=2, k=4, class_models=["compact"])
    assert g["n_folds"] == 4 and g["n_trials"] == 480
    assert g["oracle"] < g["neutral"]
    assert 0 <= g["compact_aware"] <= 1 and 0 <= g["model9"] <= 1
    assert math.isnan(g["asb_aware"])  # ASB was not among class_models: no ASB model is trained for it
    assert g["model9_lo"] <= g["model9"] <= g["model9_hi"] and g["model_aware"] == g["compact_aware"]
    assert "on the plateau" in g["level9_kept"] and g["level_model_label"].startswith("Compact")
    # the nested decoder search: its accuracy recomputed through the library on the same folds
    assert g["n_candidates"] == 73 and g["n_linear"] == 72 and g["n_search_draws"] == 2
    assert 0 <= g["search_acc_lo"] <= g["search_acc"] <= g["search_acc_hi"] <= 1
    assert g["search_gain_min"] <= g["search_gain_max"]
    assert "surrogate's" in g["search_reference_text"]
    from fmriemo.evaluation import ensembles, search
    from fmriemo.profiles import Settings
    ds = _dataset(run)
    settings = Settings.resolve("quick", epochs=2, cache_dir=run.cache, n_seeds=1, k=4, n_val=2, progress=False)
    grid, nested = search.search_with_models(ds, settings)
    assert g["search_acc"] == pytest.approx(float((nested.y_true == nested.y_pred).mean()), abs=1e-12)
    assert g["search_best_after_acc"] == pytest.approx(grid["held-out accuracy"].max(), abs=1e-12)
    assert g["conv_inner"] == pytest.approx(grid.loc[search.EXTRA_NAMES["compact"], "inner accuracy"], abs=1e-12)
    # which ensemble to submit: recomputed from the same stored models
    ens = ensembles.ensemble_comparison(ds, "compact", "class", settings, n_seeds=3)
    chosen = ensembles.choose_ensemble(ens)
    assert g["ens_chosen"] == ens.loc[ens.ensemble == chosen, "model"].iloc[0]
    hit = ens.assign(hit=ens.y_true == ens.y_pred).groupby("ensemble")["hit"].mean()
    assert all(g[f"ens_{k}_acc"] == pytest.approx(hit[k], abs=1e-12) for k in ensembles.ENSEMBLES)
    assert ("single model itself" in g["ens_vs_single_text"]) == (chosen == "single")
    # the search that may read a window off a time-resolved curve inside the folds
    assert 0 <= g["curve_acc_lo"] <= g["curve_acc"] <= g["curve_acc_hi"] <= 1
    assert g["curve_acc"] - g["curve_gain"] == pytest.approx(g["search_acc"], abs=1e-12)
    assert 0 <= g["curve_p"] <= 1 and g["curve_score_lo"] <= g["curve_score"] <= g["curve_score_hi"]
    assert 0 <= g["curve_n_chosen"] <= g["curve_n_folds"] == 4 and g["curve_chosen"].count("seconds") == 4


#: cheap parameters for each chapter the verdict reads (run when a test needs it and it has not run)
CHEAP = {"01_data": {}, "03_class_task": {"epochs": 2, "methods": ["asb", "ebr"]},
         "04_level_task": {"epochs": 2, "methods": ["ebr"]},
         "05_challenge": {"methods": ["ebr"], "submit_method": "ebr", "epochs": 2, "ft_epochs": 2},
         "06_brain_maps": {"epochs": 2, "top_k": 10}, "07_held_out": {"protocol": "groupkfold", "epochs": 2},
         "08_attribution": {"protocol": "groupkfold", "k": 4, "epochs": 2, "ig_steps": 4},
         "09_level_and_beyond": {"epochs": 2, "class_models": ["compact"]}}


def test_10_verdict_collects_executed_chapters(run):
    # the verdict reads the chapters executed beside it; run the ones it needs if this test runs alone
    needs = CHEAP
    for stem, params in needs.items():
        if not (run.out / f"{stem}.ipynb").exists():
            run(stem, **params)
    nb, g = run("10_verdict")
    from fmriemo.book import results, verdict
    assert g["n_claims"] == 5
    assert g["n_supported"] + g["n_partly"] + g["n_not_supported"] + g["n_unresolved"] == 5
    assert "seed 7" in g["c1_data_source"]  # read from chapter 1 of this run
    assert not math.isnan(g["c7_acc_asb"]) and not math.isnan(g["c9_model9"])
    # the readings follow from the evidence in the chapters' results files, by the tested rules
    found = {c: results.load(run.out / "results", c) for c in verdict.CHAPTERS}
    evidence = verdict.gather(found)
    table = verdict.claims(evidence)
    assert g["n_supported"] == (table["reading"] == verdict.SUPPORTED).sum()
    assert g["n_unresolved"] == (table["reading"] == verdict.NOT_RESOLVED).sum()
    assert ("07_held_out", "asb", "chance") in evidence.comparisons and evidence.gate("07_held_out", "asb").runs > 0
    r7, r10 = found["07_held_out"], results.load(run.out / "results", "10_verdict")
    assert g["c7_acc_asb"] == pytest.approx(r7["acc_asb"]) and r10["n_supported"] == g["n_supported"]
    assert evidence.held_out.acc_asb == r7["acc_asb"]  # the finding the verdict read is what chapter 7 glued
    assert list(r10.table("verdict").columns) == ["the paper's claim", "this book (data above)", "reading", "why"]
    decisions = r10.table("decisions")
    assert len(decisions) == len(verdict.RULES) and "outcome" in decisions.columns
    # the leakage and practice sheet: every cell, computed; the paper's trial split is open where it must be
    from fmriemo.book import sheet
    long = r10.table("leakage_sheet")
    assert len(long) == g["sheet_cells"] == len(sheet.PROTOCOLS) * len(sheet.COLUMNS)
    paper = long[long.protocol == sheet.PROTOCOLS["paper"][0]].set_index("column")["status"]
    assert paper[sheet.COLUMNS["dependence"]] == "open" and g["sheet_open_paper"] >= 3
    held = long[long.protocol == sheet.PROTOCOLS["heldout"][0]].set_index("column")["status"]
    assert (held[[sheet.COLUMNS[c] for c in ("dependence", "preprocessing", "cv_wraps", "in_sample")]]
            == "guarded").all()
    assert 'leakage-sheet' in nb.read_text()  # the grid is in the page's output
    # a chapter missing from the folder stops the verdict with a line naming it
    import shutil
    partial = run.out.parent / "partial"
    shutil.copytree(run.out / "results", partial / "results", dirs_exist_ok=True)
    (partial / "results" / "06_brain_maps.json").unlink()
    with pytest.raises(Exception, match="no results of chapter 06_brain_maps"):
        run("10_verdict", out_dir=partial)


def test_built_book_in_a_browser(run, tmp_path):
    """The quick-profile book these tests executed, built as `make html` builds it and opened page
    by page in headless Chromium: no JavaScript errors, every image loaded, the 3-D brain views
    draw a canvas, glued numbers are visible text, internal links resolve; screenshots are kept
    under the build folder."""
    import os
    import shutil

    from fmriemo.book import browser
    from fmriemo.book.build import project_root
    from fmriemo.book.linkcheck import check
    if not browser.chromium_path():
        if os.environ.get("FMRIEMO_REQUIRE_BROWSER"):
            pytest.fail(browser.INSTALL_HINT)
        pytest.skip(browser.INSTALL_HINT)
    for stem, params in {"02_models": {"epochs": 2}, **CHEAP, "10_verdict": {}}.items():
        if not (run.out / f"{stem}.ipynb").exists():
            run(stem, **params)
    book = tmp_path / "book"
    shutil.copytree(project_root() / "book", book, ignore=shutil.ignore_patterns("_build", "chapters"))
    shutil.copytree(run.out, book / "chapters", ignore=shutil.ignore_patterns("*.source.ipynb"))
    jb = Path(sys.executable).with_name("jupyter-book")
    r = subprocess.run([str(jb), "build", "-W", "--keep-going", str(book)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    html = book / "_build" / "html"
    assert check(html)[0] == []
    reports = {rep.page: rep for rep in browser.check_book(html)}
    assert {f"chapters/{s.stem}.html" for s in chapter_sources()} | {"intro.html", "api.html", "timing.html"} \
        <= set(reports)
    assert {page: rep.problems for page, rep in reports.items() if rep.problems} == {}
    for page in ("chapters/06_brain_maps.html", "chapters/08_attribution.html"):
        assert reports[page].interactive_views >= 1 and reports[page].canvases == reports[page].interactive_views
    assert all(reports[f"chapters/{s.stem}.html"].glued > 0 for s in chapter_sources())
    assert all(Path(rep.screenshot).stat().st_size > 10_000 for rep in reports.values())
    assert Path(reports["intro.html"].screenshot).parent == html / "screenshots"
    # the pages of the time-resolved decoding and the leakage sheet show them
    assert 'class="leakage-sheet"' in (html / "chapters" / "10_verdict.html").read_text()
    assert "when-in-the-clip-is-valence-decodable" in (html / "chapters" / "07_held_out.html").read_text()
    assert reports["chapters/07_held_out.html"].glued > 0 and reports["chapters/10_verdict.html"].glued > 0
