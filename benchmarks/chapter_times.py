"""Record how long each chapter takes to execute, per profile, from executed chapters.

Reads the durations papermill stored in executed notebooks (one folder per profile, each
executed from an empty cache, so every model was trained) and writes
fmriemo/resources/chapter_minutes.json, which the chapter pages ("how long this takes") and
the README's table are rendered from:

    python benchmarks/chapter_times.py --quick /tmp/q/book/chapters --full /tmp/f/book/chapters \
        --machine "2-core AMD EPYC CPU (no GPU)" --commit abc1234 --full-cache /tmp/f-cache

With a profile's cache folder (the empty one its build filled), it also records how fast the machine
trained during that build: the paper models' pooled runs, in milliseconds of wall clock per member-epoch.
The same code and profile train the same member-epochs on any day, so this pace tells a slow day on a
shared machine from a slower book; it is recorded with the CPU kernels the runs were trained with (each
run stores them), since another processor's instruction set is another machine.

Prints the table it wrote.
"""
import argparse
import datetime
import json
from pathlib import Path

from fmriemo.book.build import CHAPTER_MINUTES, chapter_times_table
from fmriemo.training.runs import RunResult


def durations(folder: Path) -> dict:
    out = {}
    for nb in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        if nb.name.endswith(".source.ipynb"):
            continue
        meta = json.loads(nb.read_text())["metadata"]["papermill"]
        if meta.get("exception"):
            raise SystemExit(f"{nb}: the chapter failed; its time is not a measurement")
        out[nb.stem] = round(float(meta["duration"]) / 60, 1)
    return out


def training_pace(cache: Path) -> dict:
    """Wall-clock milliseconds per member-epoch of the batched runs (the paper models) stored in ``cache``.

    Each run of a pool of threads records its equal share of the pool's time (``seconds``), so the shares
    add up to the pools' wall-clock time; the pace is that time over the runs' epochs.
    Runs trained alone (Compact) are left out.

    Parameters
    ----------
    cache : pathlib.Path
        A cache folder one build filled from empty.

    Returns
    -------
    pace : dict
        ``ms_per_member_epoch``, ``member_epochs``, ``minutes``, ``runs``, and ``kernels``, the CPU kernels
        the runs recorded (:func:`fmriemo.training.runs.cpu_kernels`) where they all recorded the same.
    """
    runs = [RunResult.from_json(json.loads(f.read_text()), str(f.parent))
            for f in sorted(cache.glob("runs/*/result.json"))]
    runs = [r for r in runs if "batch" in r.extra]  # trained in a pool (or a vmapped batch), not alone
    if not runs:
        raise SystemExit(f"{cache}: no batched runs in this cache; is it the cache the build filled?")
    seconds = sum(r.seconds for r in runs)  # the shares of a pool's time add up to the pool's time
    epochs = sum(r.epochs_run for r in runs)
    pace = {"ms_per_member_epoch": round(1000 * seconds / epochs, 1), "member_epochs": epochs,
            "minutes": round(seconds / 60, 1), "runs": len(runs)}
    kernels = [r.config.get("numerics", {}).get("kernels") for r in runs]  # None: stored before runs recorded them
    if kernels[0] and all(k == kernels[0] for k in kernels):  # a pace over runs of other kernels is not one machine's
        pace["kernels"] = kernels[0]
    return pace


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for profile in ("quick", "full"):
        p.add_argument(f"--{profile}", type=Path, help=f"folder of chapters executed with the {profile} profile")
        p.add_argument(f"--{profile}-cache", type=Path, help=f"the cache folder the {profile} build filled")
    p.add_argument("--machine", required=True)
    p.add_argument("--commit", required=True)
    p.add_argument("--date", default=datetime.date.today().isoformat())
    p.add_argument("--keep", action="store_true",
                   help="keep the recorded minutes of every chapter not measured now (--commit should then say "
                        "which were measured when)")
    a = p.parse_args()
    for profile in ("quick", "full"):
        if getattr(a, f"{profile}_cache") and not getattr(a, profile):
            p.error(f"--{profile}-cache needs --{profile}: the pace belongs with the chapters that build executed")
    minutes = {profile: durations(folder) for profile, folder in (("quick", a.quick), ("full", a.full)) if folder}
    measured = set(minutes)
    if a.keep:
        old = json.loads(CHAPTER_MINUTES.read_text())["minutes"]
        minutes = {profile: {**old.get(profile, {}), **minutes.get(profile, {})} for profile in {*old, *minutes}}
        minutes = {profile: dict(sorted(m.items())) for profile, m in sorted(minutes.items(), reverse=True)}
    pace = {profile: training_pace(cache) for profile, cache in (("quick", a.quick_cache), ("full", a.full_cache))
            if cache}
    record = {"machine": a.machine, "date": a.date, "commit": a.commit,
              "data": "built-in surrogate, seed 2024", "cache": "empty (every model trained)", "minutes": minutes}
    if a.keep:  # the pace of a profile not measured now stays with the minutes it was recorded with
        kept = json.loads(CHAPTER_MINUTES.read_text()).get("pace", {})
        pace = {**{p: v for p, v in kept.items() if p not in measured}, **pace}
    if pace:
        record["pace"] = pace
    CHAPTER_MINUTES.write_text(json.dumps(record, indent=1) + "\n")
    print(chapter_times_table())


if __name__ == "__main__":
    main()
