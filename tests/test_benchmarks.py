"""The benchmark scripts run as a user would run them (tiny budgets): what they print and write."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bench(script, *args, cwd):
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *map(str, args)], capture_output=True,
                       text=True, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_paper_budget_writes_its_table_and_fills_the_books_cache(tmp_path):
    cache = tmp_path / "cache"
    out = _bench("paper_budget.py", "--epochs", 2, "--seeds", 2, "--methods", "ebr", "vanilla", "--cache-dir", cache,
                 "--out", tmp_path / "pb", cwd=tmp_path)
    assert out.index("estimate:") < out.index("EBR: mean F1")  # the estimate comes before any training
    rec = json.loads((tmp_path / "pb.json").read_text())
    assert [(r["method"], r["seed"]) for r in rec["runs"]] == [("ebr", 0), ("ebr", 1), ("vanilla", 0), ("vanilla", 1)]
    assert all(r["epochs_run"] == 2 and 1 <= r["kept_epoch"] <= 2 and not r["from_cache"] for r in rec["runs"])
    assert rec["methods"]["ebr"]["paper_f1"] == 0.47 and rec["methods"]["ebr"]["runs_trained"] == 2
    assert 0 < rec["methods"]["ebr"]["fraction_of_matmul_rate"] < 5
    text = (tmp_path / "pb.txt").read_text()
    assert "2 epochs, no early stopping" in text and text.count("\nEBR ") == 3  # two runs and the summary
    # the runs are stored under the keys of the book's paper profile: chapter 3 would read them
    from fmriemo.data.source import open_dataset
    from fmriemo.data.splits import make_paper_split
    from fmriemo.training.config import config_for
    from fmriemo.training.runs import train_runs
    ds = open_dataset("", "", 2024, cache)
    jobs = [(make_paper_split(ds, "class"), config_for("paper", 2, method="ebr", task="class", seed=s)) for s in (0, 1)]
    assert all(r.cached for r in train_runs(ds, jobs, cache, progress=False))
    again = _bench("paper_budget.py", "--epochs", 2, "--seeds", 2, "--methods", "ebr", "--cache-dir", cache,
                   "--out", tmp_path / "again", "--no-estimate", cwd=tmp_path)
    assert "estimate:" not in again and "from cache" in again


def test_budget_replays_rules_on_batched_runs(tmp_path):
    out = _bench("budget.py", "--methods", "ebr", "--tasks", "class", "--seeds", 2, "--epochs", 4, "--budgets", 2, 4,
                 "--jobs", 2, "--cache-dir", tmp_path / "cache", "--out", tmp_path / "runs.jsonl", cwd=tmp_path)
    assert "early-stopping rules replayed" in out and "2 runs of 4 epochs" in out
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 2


def test_compare_results_names_every_differing_value_finding_field_and_cell(tmp_path):
    def write(folder, acc, finding):
        folder.mkdir()
        doc = {"schema": "fmriemo-results/1", "chapter": "07_held_out", "settings": {"profile": "quick"},
               "values": {"acc_asb": acc, "train_minutes": acc}, "tables": {"t": [{"index": "asb", "p": 0.1}]},
               "findings": finding}
        (folder / "07_held_out.json").write_text(json.dumps(doc))

    write(tmp_path / "a", 0.4, {"HeldOut": {"acc_asb": 0.4, "perm_p_asb": None}})
    write(tmp_path / "b", 0.4, {"HeldOut": {"acc_asb": 0.4, "perm_p_asb": None}})
    write(tmp_path / "c", 0.5, {"HeldOut": {"acc_asb": 0.5, "perm_p_asb": 0.01}})
    write(tmp_path / "d", 0.4, {})
    assert "0 differing values or cells" in _bench("compare_results.py", tmp_path / "a", tmp_path / "b", cwd=tmp_path)

    def differing(after):
        r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare_results.py"), tmp_path / "a", after],
                           capture_output=True, text=True)
        assert r.returncode == 1
        return r.stdout

    out = differing(tmp_path / "c")
    assert "3 differing values or cells; 1 timing fields differ" in out
    assert "finding HeldOut.perm_p_asb: None -> 0.01" in out and "value acc_asb: 0.4 -> 0.5" in out
    assert "finding HeldOut: only in before" in differing(tmp_path / "d")


def test_chapter_times_records_the_pace_of_the_pooled_runs_a_build_trained(tmp_path):
    """The pace is a pool's wall-clock time (its shared ``seconds`` times its runs) over its member-epochs;
    a run trained alone (Compact) is not in it."""
    import runpy

    from fmriemo.data.source import open_dataset
    from fmriemo.data.splits import make_paper_split
    from fmriemo.training.config import TrainConfig
    from fmriemo.training.runs import train_runs
    cache = tmp_path / "cache"
    ds = open_dataset("", "", 2024, cache)
    split = make_paper_split(ds, "class")
    pooled = train_runs(ds, [(split, TrainConfig(method="ebr", task="class", seed=s, epochs=e, device="cpu"))
                             for s, e in ((0, 2), (1, 3))], cache, progress=False)
    train_runs(ds, [(split, TrainConfig(method="compact", task="class", seed=0, epochs=2, device="cpu",
                                        preprocess="pct"))], cache, progress=False)
    pace = runpy.run_path(str(ROOT / "benchmarks" / "chapter_times.py"))["training_pace"](cache)
    assert pooled[0].seconds == pooled[1].seconds  # each run's share of the pool's time
    assert pace["runs"] == 2 and pace["member_epochs"] == 5
    assert pace["ms_per_member_epoch"] == round(1000 * 2 * pooled[0].seconds / 5, 1)
    assert pace["minutes"] == round(2 * pooled[0].seconds / 60, 1)
    # the kernels the runs were trained with, read back from the runs: a pace on other kernels is another machine
    from fmriemo.training.runs import cpu_kernels
    assert pooled[0].config["numerics"]["kernels"] == pace["kernels"] == cpu_kernels()
