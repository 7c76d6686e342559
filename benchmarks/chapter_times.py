"""Record how long each chapter takes to execute, per profile, from executed chapters.

Reads the durations papermill stored in executed notebooks (one folder per profile, each
executed from an empty cache, so every model was trained) and writes
fmriemo/resources/chapter_minutes.json, which the chapter pages ("how long this takes") and
the README's table are rendered from:

    python benchmarks/chapter_times.py --quick /tmp/q/book/chapters --full /tmp/f/book/chapters \
        --machine "2-core AMD EPYC CPU (no GPU)" --commit abc1234

Prints the table it wrote.
"""
import argparse
import datetime
import json
from pathlib import Path

from fmriemo.book.build import CHAPTER_MINUTES, chapter_times_table


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for profile in ("quick", "full"):
        p.add_argument(f"--{profile}", type=Path, help=f"folder of chapters executed with the {profile} profile")
    p.add_argument("--machine", required=True)
    p.add_argument("--commit", required=True)
    p.add_argument("--date", default=datetime.date.today().isoformat())
    p.add_argument("--keep", action="store_true",
                   help="keep the recorded minutes of every chapter not measured now (--commit should then say "
                        "which were measured when)")
    a = p.parse_args()
    minutes = {profile: durations(folder) for profile, folder in (("quick", a.quick), ("full", a.full)) if folder}
    if a.keep:
        old = json.loads(CHAPTER_MINUTES.read_text())["minutes"]
        minutes = {profile: {**old.get(profile, {}), **minutes.get(profile, {})} for profile in {*old, *minutes}}
        minutes = {profile: dict(sorted(m.items())) for profile, m in sorted(minutes.items(), reverse=True)}
    record = {"machine": a.machine, "date": a.date, "commit": a.commit,
              "data": "built-in surrogate, seed 2024", "cache": "empty (every model trained)", "minutes": minutes}
    CHAPTER_MINUTES.write_text(json.dumps(record, indent=1) + "\n")
    print(chapter_times_table())


if __name__ == "__main__":
    main()
